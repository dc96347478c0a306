#include "services/scorer/model/top_index.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/scorer/model/parallel.h"

namespace georisk::scorer::internal {
namespace {

constexpr int kOrderShift = 20;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof(v));
  return v;
}

// A key whose unsigned order is the descending order of `value` (-0 and
// +0 alike, as Cmp sees them).
uint64_t DescendingKey(double value) {
  const uint64_t b = Bits(value + 0.0);
  const uint64_t ascending = (b >> 63) != 0 ? ~b : b | (uint64_t{1} << 63);
  return ~ascending;
}

struct RadixItem {
  uint64_t key;
  uint32_t node;
};

// Sorts by key, keeping the order of equal keys: least significant byte
// first, skipping bytes every key shares.
void StableRadixSort(std::vector<RadixItem>* items,
                     std::vector<RadixItem>* scratch) {
  const size_t n = items->size();
  scratch->resize(n);
  std::array<std::array<size_t, 256>, 8> counts{};
  for (const RadixItem& x : *items) {
    for (int d = 0; d < 8; ++d) ++counts[d][(x.key >> (8 * d)) & 0xff];
  }
  for (int d = 0; d < 8; ++d) {
    std::array<size_t, 256>& c = counts[d];
    if (std::count(c.begin(), c.end(), size_t{0}) == 255) continue;
    size_t sum = 0;
    for (size_t& x : c) {
      const size_t here = x;
      x = sum;
      sum += here;
    }
    for (const RadixItem& x : *items) {
      (*scratch)[c[(x.key >> (8 * d)) & 0xff]++] = x;
    }
    items->swap(*scratch);
  }
}

absl::Status BadToken(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("page_token: ", why));
}

}  // namespace

void TopIndex::Grow(uint32_t v) {
  if (v < present_.size()) return;
  const size_t n = v + 1;
  values_.resize(n, RankValues{});
  order_.resize(n, 0);
  present_.resize(n, false);
  has_order_.resize(n, false);
  id_of_.resize(n);
}

void TopIndex::Rebuild(const std::vector<absl::string_view>& ids,
                       const std::vector<RankValues>& values,
                       const std::vector<bool>& present) {
  const size_t n = ids.size();
  values_ = values;
  present_ = present;
  has_order_.assign(n, true);
  order_.assign(n, 0);
  id_of_.clear();
  id_of_.reserve(n);
  for (absl::string_view id : ids) id_of_.emplace_back(id);
  std::vector<uint32_t> by_id(n);
  std::iota(by_id.begin(), by_id.end(), 0);
  std::sort(by_id.begin(), by_id.end(),
            [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  ids_.clear();
  for (size_t i = 0; i < n; ++i) {
    order_[by_id[i]] = static_cast<uint64_t>(i + 1) << kOrderShift;
    ids_.emplace_hint(ids_.end(), std::string(ids[by_id[i]]), by_id[i]);
  }
  id_order_ = std::move(by_id);
  id_order_valid_ = true;
  FillSets();
}

void TopIndex::RebuildValues(const std::vector<RankValues>& values,
                             const std::vector<bool>& present) {
  values_ = values;
  present_ = present;
  FillSets();
}

void TopIndex::FillSets() {
  const size_t n = present_.size();
  if (!id_order_valid_) {
    id_order_.clear();
    id_order_.reserve(ids_.size());
    for (const auto& [id, v] : ids_) id_order_.push_back(v);
    id_order_valid_ = true;
  }
  // Present nodes in id order: a stable sort by value then leaves ties in
  // id order, which is the sets' order (Cmp).
  std::vector<uint32_t> by_id;
  by_id.reserve(n);
  for (uint32_t v : id_order_) {
    if (v < n && present_[v]) by_id.push_back(v);
  }
  // The rankings are independent: one thread each (or a few each).
  ParallelRanges(kRankings, Workers(n), [&](size_t begin, size_t end, int) {
    std::vector<RadixItem> items(by_id.size()), scratch;
    for (size_t r = begin; r < end; ++r) {
      for (size_t i = 0; i < by_id.size(); ++i) {
        items[i] = {DescendingKey(values_[by_id[i]][r]), by_id[i]};
      }
      StableRadixSort(&items, &scratch);
      absl::btree_set<Key, Cmp> set;
      for (const RadixItem& x : items) {
        set.insert(set.end(), {values_[x.node][r], order_[x.node], x.node});
      }
      sets_[r] = std::move(set);
    }
  });
}

void TopIndex::RenumberOrders() {
  uint64_t i = 0;
  for (const auto& [id, v] : ids_) order_[v] = (++i) << kOrderShift;
  for (int r = 0; r < kRankings; ++r) {
    std::vector<Key> keys;
    keys.reserve(sets_[r].size());
    for (const Key& k : sets_[r]) keys.push_back({k.value, order_[k.node], k.node});
    std::sort(keys.begin(), keys.end(), Cmp());
    sets_[r].clear();
    for (const Key& k : keys) sets_[r].insert(sets_[r].end(), k);
  }
}

uint64_t TopIndex::OrderFor(uint32_t v, absl::string_view id) {
  auto it = ids_.emplace(std::string(id), v).first;
  id_order_valid_ = false;
  const uint64_t prev = it == ids_.begin() ? 0 : order_[std::prev(it)->second];
  auto next_it = std::next(it);
  const uint64_t next = next_it == ids_.end()
                            ? prev + (uint64_t{2} << kOrderShift)
                            : order_[next_it->second];
  if (next - prev >= 2) return prev + (next - prev) / 2;
  order_[v] = 0;
  has_order_[v] = true;
  RenumberOrders();
  return order_[v];
}

void TopIndex::Insert(uint32_t v, absl::string_view id,
                      const RankValues& values) {
  Grow(v);
  if (present_[v]) {
    Update(v, values);
    return;
  }
  if (!has_order_[v]) {
    id_of_[v] = std::string(id);
    order_[v] = OrderFor(v, id);
    has_order_[v] = true;
  }
  values_[v] = values;
  present_[v] = true;
  for (int r = 0; r < kRankings; ++r) sets_[r].insert({values[r], order_[v], v});
}

void TopIndex::Update(uint32_t v, const RankValues& values) {
  if (!Contains(v)) return;
  const Cmp less;
  for (int r = 0; r < kRankings; ++r) {
    if (values_[v][r] == values[r]) continue;
    absl::btree_set<Key, Cmp>& set = sets_[r];
    auto it = set.find({values_[v][r], order_[v], v});
    const Key moved{values[r], order_[v], v};
    // Most moves are small: when the entry stays between its neighbours,
    // change its value in place instead of erasing and inserting.
    const bool after_prev = it == set.begin() || less(*std::prev(it), moved);
    const auto next = std::next(it);
    const bool before_next = next == set.end() || less(moved, *next);
    if (after_prev && before_next) {
      it->value = values[r];
    } else {
      set.erase(it);
      set.insert(moved);
    }
  }
  values_[v] = values;
}

void TopIndex::UpdateMany(
    const std::vector<std::pair<uint32_t, RankValues>>& moves, int workers) {
  // Each ranking's moves; a change usually moves some rankings only (a
  // listing: the composite and export controls), so the workers take the
  // rankings with moves, largest first, one at a time.
  std::array<std::vector<std::pair<Key, double>>, kRankings> sorted;
  for (const auto& [v, values] : moves) {
    if (!Contains(v)) continue;
    for (int r = 0; r < kRankings; ++r) {
      if (values_[v][r] == values[r]) continue;
      sorted[r].push_back({{values_[v][r], order_[v], v}, values[r]});
    }
  }
  std::vector<int> busy;
  for (int r = 0; r < kRankings; ++r) {
    if (!sorted[r].empty()) busy.push_back(r);
  }
  std::sort(busy.begin(), busy.end(), [&sorted](int a, int b) {
    return sorted[a].size() > sorted[b].size();
  });
  std::atomic<size_t> next{0};
  ParallelRanges(busy.size(), std::min<int>(workers, busy.size()),
                 [&](size_t, size_t, int) {
                   for (size_t i; (i = next.fetch_add(1)) < busy.size();) {
                     std::vector<std::pair<Key, double>>& list =
                         sorted[busy[i]];
                     std::sort(list.begin(), list.end(),
                               [](const auto& a, const auto& b) {
                                 return Cmp()(a.first, b.first);
                               });
                     MoveSorted(busy[i], list);
                   }
                 });
  for (const auto& [v, values] : moves) {
    if (Contains(v)) values_[v] = values;
  }
}

void TopIndex::MoveSorted(int r,
                          const std::vector<std::pair<Key, double>>& moves) {
  const Cmp less;
  absl::btree_set<Key, Cmp>& set = sets_[r];
  std::vector<Key> reinsert;
  for (const auto& [old, value] : moves) {
    auto it = set.find(old);
    const Key moved{value, old.order, old.node};
    // As in Update(): in place when the entry keeps its place.
    const bool after_prev = it == set.begin() || less(*std::prev(it), moved);
    const auto next = std::next(it);
    const bool before_next = next == set.end() || less(moved, *next);
    if (after_prev && before_next) {
      it->value = value;
    } else {
      set.erase(it);
      reinsert.push_back(moved);
    }
  }
  std::sort(reinsert.begin(), reinsert.end(), less);
  for (const Key& k : reinsert) set.insert(k);
}

void TopIndex::Erase(uint32_t v) {
  if (!Contains(v)) return;
  for (int r = 0; r < kRankings; ++r) sets_[r].erase({values_[v][r], order_[v], v});
  present_[v] = false;
}

absl::StatusOr<TopIndex::Page> TopIndex::List(
    const Query& q, const std::function<bool(uint32_t)>& matches) const {
  const absl::btree_set<Key, Cmp>& set = sets_[q.ranking];
  auto it = set.begin();
  if (!q.page_token.empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(q.page_token, &raw)) {
      return BadToken("not a page token");
    }
    std::vector<std::string> parts =
        absl::StrSplit(raw, absl::MaxSplits('|', 4));
    uint64_t bits = 0;
    int ranking = -1;
    if (parts.size() != 5 || parts[0] != "1" ||
        !absl::SimpleAtoi(parts[1], &ranking) ||
        !absl::SimpleHexAtoi(parts[3], &bits)) {
      return BadToken("not a page token");
    }
    if (ranking != q.ranking || parts[2] != q.filter_fingerprint) {
      return BadToken("from another query (factor, kind, country, min_score)");
    }
    auto id = ids_.find(parts[4]);
    if (id == ids_.end()) return BadToken("names an unknown entity");
    it = set.upper_bound({FromBits(bits), order_[id->second], id->second});
  }
  Page page;
  const size_t size = static_cast<size_t>(std::max(q.page_size, 1));
  for (; it != set.end() && it->value >= q.min_score; ++it) {
    if (!matches(it->node)) continue;
    if (page.nodes.size() == size) {
      // There is more: the token continues after the last entry returned.
      const uint32_t last = page.nodes.back();
      page.next_page_token = absl::WebSafeBase64Escape(absl::StrCat(
          "1|", q.ranking, "|", q.filter_fingerprint, "|",
          absl::Hex(Bits(values_[last][q.ranking])), "|", id_of_[last]));
      break;
    }
    page.nodes.push_back(it->node);
  }
  return page;
}

int64_t TopIndex::Count(int ranking, double min_score,
                        const std::function<bool(uint32_t)>& matches) const {
  int64_t n = 0;
  for (const Key& k : sets_[ranking]) {
    if (k.value < min_score) break;
    if (matches(k.node)) ++n;
  }
  return n;
}

}  // namespace georisk::scorer::internal
