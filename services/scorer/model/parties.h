// File: services/scorer/model/parties.h
//
// Parties: the entities that POSITIVE links (issue 16, graph.proto Link)
// join into one party, for the model (docs/scoring-model.md, "Linked
// parties"). NEGATIVE and UNSURE links are kept (explanations and tests read
// them) but join nothing.
//
// Each party of two or more entities has a primary: its smallest alive id
// (its smallest id when none is alive). The model scores the party on the
// primary's node, and every other member mirrors it (update.cc):
//   - listings naming any member are indexed under the primary;
//   - the edge records of every member are carried by the primary, one
//     record per (party(from), kind, party(to), product, record_id): two
//     sources stating the same record collapse to the greatest weight (ties:
//     the smaller raw edge key), dated records stay apart by record_id and
//     the dated-ownership rule picks the one in effect;
//   - each other member gets one link edge from the primary (weight 1,
//     exposure flows primary -> member only), so its score is the party's.
//
// This class holds the link records, the clusters and the raw edge records
// that touch a clustered entity (the model holds only their effective
// form); update.cc drives it. Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_PARTIES_H_
#define GEORISK_SERVICES_SCORER_MODEL_PARTIES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::scorer::internal {

// The internal edge kind of a member's link edge (never a v1 value).
inline constexpr v1::Edge::Kind kLinkEdge = static_cast<v1::Edge::Kind>(1000);

class Parties {
 public:
  // The ordered pair naming a link (a < b).
  static std::pair<std::string, std::string> PairOf(absl::string_view a,
                                                    absl::string_view b);
  // An edge record's identity: from, kind, to, product, record_id.
  static std::string RawKey(const v1::Edge& e);
  static std::string RawKey(const v1::EdgeKey& k);

  bool empty() const { return links_.empty(); }

  // Link records (any judgement). Returns the previous judgement of the
  // pair (JUDGEMENT_UNSPECIFIED when there was none).
  v1::Link::Judgement SetLink(const v1::Link& link);
  v1::Link::Judgement RemoveLink(absl::string_view a, absl::string_view b);
  const v1::Link* FindLink(absl::string_view a, absl::string_view b) const;
  // Removes the POSITIVE and UNSURE links of `id` (GraphStore does so when
  // it deletes the entity; NEGATIVE ones are kept). Returns whether a
  // POSITIVE one went.
  bool RemovePositiveAndUnsureLinksOf(absl::string_view id);

  // The primary of `id`'s party, or null when `id` is in no party of two or
  // more.
  const std::string* PrimaryOf(absl::string_view id) const;
  // `id`'s primary, or `id` itself.
  std::string EffectiveId(absl::string_view id) const;
  // The members of the party whose primary is `primary`, sorted (empty when
  // it is none).
  const std::vector<std::string>& MembersOf(absl::string_view primary) const;
  // The positive links from `from` to `to` along the shortest chain (fewest
  // links, then the smallest ids), empty when they are not one party.
  std::vector<const v1::Link*> Chain(absl::string_view from,
                                     absl::string_view to) const;

  // The ids reachable from `seeds` by positive links (the seeds included),
  // sorted.
  std::vector<std::string> Component(
      const std::vector<std::string>& seeds) const;
  // Replaces the party records of the ids of `component` (a union of whole
  // components): forgets their old parties and forms those of two or more,
  // with `alive` telling which ids are alive.
  template <typename AliveFn>
  void Regroup(const std::vector<std::string>& component, AliveFn alive);

  // Raw edge records that touch a clustered entity.
  void PutRawEdge(const v1::Edge& e);
  // Returns whether it was held.
  bool EraseRawEdge(const std::string& raw_key);
  const v1::Edge* FindRawEdge(const std::string& raw_key) const;
  // The raw keys of the held records touching `id`.
  std::vector<std::string> RawEdgesOf(absl::string_view id) const;

 private:
  void FormParty(std::vector<std::string> members, const std::string& primary);

  absl::btree_map<std::pair<std::string, std::string>, v1::Link> links_;
  // Positive links only.
  absl::flat_hash_map<std::string, absl::btree_set<std::string>> adjacent_;
  absl::flat_hash_map<std::string, std::string> primary_;
  absl::flat_hash_map<std::string, std::vector<std::string>> members_;
  absl::flat_hash_map<std::string, v1::Edge> raw_edges_;
  absl::flat_hash_map<std::string, absl::btree_set<std::string>> raw_by_id_;
};

template <typename AliveFn>
void Parties::Regroup(const std::vector<std::string>& component,
                      AliveFn alive) {
  for (const std::string& id : component) {
    auto it = primary_.find(id);
    if (it == primary_.end()) continue;
    members_.erase(it->second);
    primary_.erase(it);
  }
  absl::btree_set<std::string> left(component.begin(), component.end());
  while (!left.empty()) {
    std::vector<std::string> party = Component({*left.begin()});
    for (const std::string& id : party) left.erase(id);
    if (party.size() < 2) continue;
    std::string primary = party.front();
    for (const std::string& id : party) {
      if (alive(id)) {
        primary = id;
        break;
      }
    }
    FormParty(std::move(party), primary);
  }
}

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_PARTIES_H_
