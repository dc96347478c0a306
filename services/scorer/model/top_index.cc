#include "services/scorer/model/top_index.h"

#include <algorithm>
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

absl::Status BadToken(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("page_token: ", why));
}

}  // namespace

TopIndex::TopIndex() : rankings_(kRankings, Ranking(&order_)) {}

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
  // The rankings are independent: one thread each (or a few each).
  ParallelRanges(kRankings, Workers(n), [&](size_t begin, size_t end, int) {
    for (size_t r = begin; r < end; ++r) {
      Ranking& ranking = rankings_[r];
      ranking.Clear();
      for (uint32_t v = 0; v < n; ++v) {
        if (present_[v]) ranking.Insert(v, values_[v][r]);
      }
    }
  });
}

void TopIndex::RenumberOrders() {
  uint64_t i = 0;
  for (const auto& [id, v] : ids_) order_[v] = (++i) << kOrderShift;
  for (Ranking& ranking : rankings_) ranking.Reorder();
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
  for (int r = 0; r < kRankings; ++r) rankings_[r].Insert(v, values[r]);
}

void TopIndex::Update(uint32_t v, const RankValues& values) {
  if (!Contains(v)) return;
  for (int r = 0; r < kRankings; ++r) {
    if (values_[v][r] != values[r]) rankings_[r].Move(v, values[r]);
  }
  values_[v] = values;
}

void TopIndex::UpdateMany(
    const std::vector<std::pair<uint32_t, RankValues>>& moves, int workers) {
  // A change usually moves some rankings only (a listing: the composite and
  // export controls): the workers take the rankings with moves.
  std::vector<int> busy;
  for (int r = 0; r < kRankings; ++r) {
    for (const auto& [v, values] : moves) {
      if (Contains(v) && values_[v][r] != values[r]) {
        busy.push_back(r);
        break;
      }
    }
  }
  std::atomic<size_t> next{0};
  ParallelRanges(busy.size(), std::min<int>(workers, busy.size()),
                 [&](size_t, size_t, int) {
                   for (size_t i; (i = next.fetch_add(1)) < busy.size();) {
                     const int r = busy[i];
                     for (const auto& [v, values] : moves) {
                       if (Contains(v) && values_[v][r] != values[r]) {
                         rankings_[r].Move(v, values[r]);
                       }
                     }
                   }
                 });
  for (const auto& [v, values] : moves) {
    if (Contains(v)) values_[v] = values;
  }
}

void TopIndex::Erase(uint32_t v) {
  if (!Contains(v)) return;
  for (Ranking& ranking : rankings_) ranking.Erase(v);
  present_[v] = false;
}

absl::StatusOr<TopIndex::Page> TopIndex::List(
    const Query& q, const std::function<bool(uint32_t)>& matches) const {
  Ranking::Position after;
  bool resume = false;
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
    after = {FromBits(bits), order_[id->second], id->second};
    resume = true;
  }
  Page page;
  if (q.max_matches == 0) return page;
  const size_t size = static_cast<size_t>(std::max(q.page_size, 1));
  int64_t seen = 0;
  rankings_[q.ranking].ForEach(
      resume ? &after : nullptr, q.min_score, matches,
      [&](double, uint32_t node) {
        if (page.nodes.size() == size) {
          // There is more: the token continues after the last entry
          // returned.
          const uint32_t last = page.nodes.back();
          page.next_page_token = absl::WebSafeBase64Escape(absl::StrCat(
              "1|", q.ranking, "|", q.filter_fingerprint, "|",
              absl::Hex(Bits(values_[last][q.ranking])), "|", id_of_[last]));
          return false;
        }
        page.nodes.push_back(node);
        // No other node matches: stop without a token.
        return ++seen != q.max_matches;
      });
  return page;
}

int64_t TopIndex::Count(int ranking, double min_score,
                        const std::function<bool(uint32_t)>& matches,
                        int64_t max_matches) const {
  int64_t n = 0;
  if (max_matches == 0) return n;
  rankings_[ranking].ForEach(
      nullptr, min_score, matches,
      [&](double, uint32_t) { return ++n != max_matches; });
  return n;
}

}  // namespace georisk::scorer::internal
