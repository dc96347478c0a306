// File: services/scorer/model/top_index.h
//
// Rankings of live entities for ListTopRisks: one Ranking (ranking.h) per
// ranking (composite, then each factor's propagated score x 100), highest
// first, ties by entity id, kept up to date one entity at a time.
//
//   TopIndex index;
//   index.Rebuild(ids, values, alive);
//   index.Update(v, new_values);
//   TopIndex::Page page = index.List(query, matches);
//
// Page tokens are opaque (web-safe base64 of the ranking, a fingerprint of
// the filters and the last entry's (score, id)): the next page starts
// strictly after that entry, so pages never repeat an entry and a token
// from another query is refused.
//
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_TOP_INDEX_H_
#define GEORISK_SERVICES_SCORER_MODEL_TOP_INDEX_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scorer/model/ranking.h"

namespace georisk::scorer::internal {

inline constexpr int kRankings = 4;  // 0 composite, 1..3 factors.
using RankValues = std::array<double, kRankings>;

class TopIndex {
 public:
  TopIndex();
  TopIndex(const TopIndex&) = delete;
  TopIndex& operator=(const TopIndex&) = delete;

  struct Query {
    int ranking = 0;
    // Part of the token's fingerprint: a token only continues the same
    // filters.
    std::string filter_fingerprint;
    double min_score = 0;
    int page_size = 50;
    std::string page_token;
    // An upper bound on the indexed nodes `matches` accepts (e.g. from
    // filter counts kept beside the index), or -1 when unknown: the walk
    // stops once it has seen that many, so a filter that matches nothing
    // (0) costs no walk at all, and one whose matches all fit in the page
    // stops at the last of them instead of walking to the end of the
    // ranking. A bound that is too low loses entries.
    int64_t max_matches = -1;
  };
  struct Page {
    std::vector<uint32_t> nodes;
    std::string next_page_token;
  };

  // Replaces everything. ids[v] is node v's id (copied); nodes with
  // present[v] false are left out.
  void Rebuild(const std::vector<absl::string_view>& ids,
               const std::vector<RankValues>& values,
               const std::vector<bool>& present);
  // Replaces every value, keeping the nodes and ids of the last Rebuild.
  void RebuildValues(const std::vector<RankValues>& values,
                     const std::vector<bool>& present);

  // Adds a node not in the index (a new or revived entity).
  void Insert(uint32_t v, absl::string_view id, const RankValues& values);
  // Moves an indexed node to new values.
  void Update(uint32_t v, const RankValues& values);
  // Moves many indexed nodes (each at most once; others are ignored) to new
  // values: the same result as Update() on each; `workers` threads share
  // the rankings.
  void UpdateMany(const std::vector<std::pair<uint32_t, RankValues>>& moves,
                  int workers);
  // Removes an indexed node.
  void Erase(uint32_t v);
  bool Contains(uint32_t v) const { return v < present_.size() && present_[v]; }
  // A key that sorts nodes by entity id, for nodes ever indexed.
  uint64_t IdOrder(uint32_t v) const { return order_[v]; }

  // One page, highest first: nodes with value >= min_score for which
  // `matches` is true. Errors: INVALID_ARGUMENT for a token that is
  // corrupt, from another query, or names an entity never indexed.
  absl::StatusOr<Page> List(const Query& q,
                            const std::function<bool(uint32_t)>& matches) const;

  // Counts the nodes with value >= min_score for which `matches` is true;
  // `max_matches` as in Query (0: no walk, the answer is 0).
  int64_t Count(int ranking, double min_score,
                const std::function<bool(uint32_t)>& matches,
                int64_t max_matches = -1) const;

 private:
  // An order key for `id` between its neighbours in id order, renumbering
  // everything when they are too close.
  uint64_t OrderFor(uint32_t v, absl::string_view id);
  void RenumberOrders();
  void Grow(uint32_t v);
  void FillSets();

  std::vector<Ranking> rankings_;  // kRankings; they read order_.
  std::vector<RankValues> values_;
  std::vector<uint64_t> order_;
  std::vector<bool> present_;
  std::vector<bool> has_order_;
  // Every id ever indexed, in id order: order keys of new nodes, tokens.
  absl::btree_map<std::string, uint32_t> ids_;
  std::vector<std::string> id_of_;
};

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_TOP_INDEX_H_
