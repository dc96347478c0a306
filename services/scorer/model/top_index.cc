#include "services/scorer/model/top_index.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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
  std::vector<Key> keys;
  keys.reserve(n);
  for (int r = 0; r < kRankings; ++r) {
    keys.clear();
    for (uint32_t v = 0; v < n; ++v) {
      if (present_[v]) keys.push_back({values_[v][r], order_[v], v});
    }
    std::sort(keys.begin(), keys.end(), Cmp());
    sets_[r].clear();
    for (const Key& k : keys) sets_[r].insert(sets_[r].end(), k);
  }
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
