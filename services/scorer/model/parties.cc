#include "services/scorer/model/parties.h"

#include <algorithm>
#include <deque>

#include "absl/strings/str_cat.h"

namespace georisk::scorer::internal {
namespace {

const std::vector<std::string>& NoMembers() {
  static const auto* none = new std::vector<std::string>();
  return *none;
}

std::string KeyOf(absl::string_view from, int kind, absl::string_view to,
                  absl::string_view product, absl::string_view record_id) {
  return absl::StrCat(from, std::string(1, '\0'), kind, std::string(1, '\0'),
                      to, std::string(1, '\0'), product, std::string(1, '\0'),
                      record_id);
}

}  // namespace

std::pair<std::string, std::string> Parties::PairOf(absl::string_view a,
                                                    absl::string_view b) {
  if (b < a) std::swap(a, b);
  return {std::string(a), std::string(b)};
}

std::string Parties::RawKey(const v1::Edge& e) {
  return KeyOf(e.from_id(), e.kind(), e.to_id(), e.product_code(),
               e.record_id());
}

std::string Parties::RawKey(const v1::EdgeKey& k) {
  return KeyOf(k.from_id(), k.kind(), k.to_id(), k.product_code(),
               k.record_id());
}

v1::Link::Judgement Parties::SetLink(const v1::Link& link) {
  auto pair = PairOf(link.entity_a(), link.entity_b());
  v1::Link::Judgement before = RemoveLink(pair.first, pair.second);
  if (link.judgement() == v1::Link::POSITIVE) {
    adjacent_[pair.first].insert(pair.second);
    adjacent_[pair.second].insert(pair.first);
  }
  links_[std::move(pair)] = link;
  return before;
}

v1::Link::Judgement Parties::RemoveLink(absl::string_view a,
                                        absl::string_view b) {
  auto it = links_.find(PairOf(a, b));
  if (it == links_.end()) return v1::Link::JUDGEMENT_UNSPECIFIED;
  const v1::Link::Judgement before = it->second.judgement();
  if (before == v1::Link::POSITIVE) {
    for (auto [x, y] : {std::make_pair(it->first.first, it->first.second),
                        std::make_pair(it->first.second, it->first.first)}) {
      auto adj = adjacent_.find(x);
      if (adj == adjacent_.end()) continue;
      adj->second.erase(y);
      if (adj->second.empty()) adjacent_.erase(adj);
    }
  }
  links_.erase(it);
  return before;
}

const v1::Link* Parties::FindLink(absl::string_view a,
                                  absl::string_view b) const {
  auto it = links_.find(PairOf(a, b));
  return it == links_.end() ? nullptr : &it->second;
}

bool Parties::RemovePositiveAndUnsureLinksOf(absl::string_view id) {
  std::vector<std::pair<std::string, std::string>> doomed;
  for (const auto& [pair, link] : links_) {
    if ((pair.first == id || pair.second == id) &&
        link.judgement() != v1::Link::NEGATIVE) {
      doomed.push_back(pair);
    }
  }
  bool positive = false;
  for (const auto& [a, b] : doomed) {
    positive = RemoveLink(a, b) == v1::Link::POSITIVE || positive;
  }
  return positive;
}

const std::string* Parties::PrimaryOf(absl::string_view id) const {
  auto it = primary_.find(id);
  return it == primary_.end() ? nullptr : &it->second;
}

std::string Parties::EffectiveId(absl::string_view id) const {
  const std::string* p = PrimaryOf(id);
  return p != nullptr ? *p : std::string(id);
}

const std::vector<std::string>& Parties::MembersOf(
    absl::string_view primary) const {
  auto it = members_.find(primary);
  return it == members_.end() ? NoMembers() : it->second;
}

std::vector<std::string> Parties::Component(
    const std::vector<std::string>& seeds) const {
  absl::btree_set<std::string> seen(seeds.begin(), seeds.end());
  std::deque<std::string> queue(seeds.begin(), seeds.end());
  while (!queue.empty()) {
    auto it = adjacent_.find(queue.front());
    queue.pop_front();
    if (it == adjacent_.end()) continue;
    for (const std::string& next : it->second) {
      if (seen.insert(next).second) queue.push_back(next);
    }
  }
  return std::vector<std::string>(seen.begin(), seen.end());
}

std::vector<const v1::Link*> Parties::Chain(absl::string_view from,
                                            absl::string_view to) const {
  std::vector<const v1::Link*> out;
  if (from == to) return out;
  // Breadth-first from `from`; neighbours in id order, so the chain is the
  // shortest with the smallest ids.
  absl::flat_hash_map<std::string, std::string> parent;
  parent[std::string(from)] = "";
  std::deque<std::string> queue{std::string(from)};
  bool found = false;
  while (!queue.empty() && !found) {
    const std::string at = queue.front();
    queue.pop_front();
    auto it = adjacent_.find(at);
    if (it == adjacent_.end()) continue;
    for (const std::string& next : it->second) {
      if (!parent.try_emplace(next, at).second) continue;
      if (next == to) {
        found = true;
        break;
      }
      queue.push_back(next);
    }
  }
  if (!found) return out;
  for (std::string at(to); at != from;) {
    const std::string& up = parent[at];
    out.push_back(FindLink(up, at));
    at = up;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void Parties::FormParty(std::vector<std::string> members,
                        const std::string& primary) {
  for (const std::string& id : members) primary_[id] = primary;
  members_[primary] = std::move(members);
}

void Parties::PutRawEdge(const v1::Edge& e) {
  const std::string key = RawKey(e);
  raw_by_id_[e.from_id()].insert(key);
  raw_by_id_[e.to_id()].insert(key);
  raw_edges_[key] = e;
}

bool Parties::EraseRawEdge(const std::string& raw_key) {
  auto it = raw_edges_.find(raw_key);
  if (it == raw_edges_.end()) return false;
  for (const std::string& id : {it->second.from_id(), it->second.to_id()}) {
    auto by = raw_by_id_.find(id);
    if (by == raw_by_id_.end()) continue;
    by->second.erase(raw_key);
    if (by->second.empty()) raw_by_id_.erase(by);
  }
  raw_edges_.erase(it);
  return true;
}

const v1::Edge* Parties::FindRawEdge(const std::string& raw_key) const {
  auto it = raw_edges_.find(raw_key);
  return it == raw_edges_.end() ? nullptr : &it->second;
}

std::vector<std::string> Parties::RawEdgesOf(absl::string_view id) const {
  auto it = raw_by_id_.find(id);
  if (it == raw_by_id_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

}  // namespace georisk::scorer::internal
