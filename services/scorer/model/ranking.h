// File: services/scorer/model/ranking.h
//
// One ranking of the top-risk index: nodes ordered by value, highest first,
// ties by an order key (the entity id's place in id order). Values are kept
// in buckets of nearby values (the top bits of the double), unordered inside
// a bucket, so that the small moves an incremental rescore makes cost no
// more than a store, and a larger one a removal and an append; a walk in
// order sorts each bucket it reaches. Value 0, where most nodes of a factor
// sit, is kept ordered by the order key, so that deep pages stay cheap.
//
//   Ranking r(&order);          // order[node]: the tie-break key
//   r.Insert(node, 42.0);
//   r.Move(node, 41.5);
//   r.ForEach(nullptr, /*min_value=*/0, keep,
//             [](double value, uint32_t node) { return true; });
//
// Thread-compatible: const methods may run concurrently.
#ifndef GEORISK_SERVICES_SCORER_MODEL_RANKING_H_
#define GEORISK_SERVICES_SCORER_MODEL_RANKING_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"

namespace georisk::scorer::internal {

class Ranking {
 public:
  // `order` (not owned) gives each node's tie-break key; it must cover
  // every node inserted. Call Reorder() after keys change.
  explicit Ranking(const std::vector<uint64_t>* order) : order_(order) {}

  // Removes every node.
  void Clear();
  // Adds a node that is not in the ranking. Values are >= 0 (all values
  // <= 0 rank as 0).
  void Insert(uint32_t node, double value);
  // Removes a node that is in the ranking.
  void Erase(uint32_t node);
  // Moves a node in the ranking to a new value.
  void Move(uint32_t node, double value);
  // Call after order keys changed (the ranking keeps those of value 0).
  void Reorder();

  size_t size() const { return size_; }

  // Calls fn(value, node) in order for the nodes with value >= min_value
  // for which keep(node) is true, starting strictly after the entry (value,
  // order key, node) `after` points to (from the top when null), until fn
  // returns false. Only kept nodes are sorted.
  struct Position {
    double value;
    uint64_t order;
    uint32_t node;
  };
  template <typename Keep, typename Fn>
  void ForEach(const Position* after, double min_value, Keep keep, Fn fn) const;

 private:
  static constexpr uint32_t kAbsent = 0xffffffffu;
  static constexpr uint32_t kZero = 0;  // The bucket of values <= 0.

  // A bucket id that does not decrease as the value grows.
  static uint32_t BucketOf(double value);
  void Place(uint32_t node, double value);
  void Remove(uint32_t node);
  // Whether (value, order, node) a comes before b in the ranking.
  bool Before(double va, uint32_t a, double vb, uint32_t b) const {
    if (va != vb) return va > vb;
    return (*order_)[a] < (*order_)[b];
  }

  const std::vector<uint64_t>* order_;
  std::vector<double> value_;
  std::vector<uint32_t> bucket_of_;  // kAbsent when not in the ranking.
  std::vector<uint32_t> slot_;       // Place in its bucket's list.
  std::vector<std::vector<uint32_t>> buckets_;
  std::vector<uint64_t> nonempty_;  // A bit per bucket.
  // Value 0, in order key order.
  absl::btree_map<uint64_t, uint32_t> zero_;
  size_t size_ = 0;
};

template <typename Keep, typename Fn>
void Ranking::ForEach(const Position* after, double min_value, Keep keep,
                      Fn fn) const {
  auto comes_after = [&](double value, uint32_t node) {
    if (after == nullptr) return true;
    if (value != after->value) return value < after->value;
    return (*order_)[node] > after->order;
  };
  // Buckets above zero, highest first (found by their bits), down to the
  // one min_value falls in, each sorted when reached.
  uint32_t b = static_cast<uint32_t>(buckets_.size());
  if (after != nullptr) b = std::min(b, BucketOf(after->value) + 1);
  const uint32_t lowest = std::max(BucketOf(min_value), kZero + 1);
  std::vector<uint32_t> nodes;
  while (b > lowest) {
    --b;
    const uint32_t word = b >> 6;
    const uint64_t at_or_below =
        nonempty_[word] & ((uint64_t{2} << (b & 63)) - 1);
    if (at_or_below == 0) {
      b = word << 6;  // On to the word below.
      continue;
    }
    b = (word << 6) + 63 - static_cast<uint32_t>(__builtin_clzll(at_or_below));
    if (b < lowest) break;
    nodes.clear();
    for (uint32_t node : buckets_[b]) {
      const double value = value_[node];
      if (value >= min_value && comes_after(value, node) && keep(node)) {
        nodes.push_back(node);
      }
    }
    std::sort(nodes.begin(), nodes.end(), [this](uint32_t x, uint32_t y) {
      return Before(value_[x], x, value_[y], y);
    });
    for (uint32_t node : nodes) {
      if (!fn(value_[node], node)) return;
    }
  }
  if (min_value > 0) return;
  auto it = zero_.begin();
  if (after != nullptr && !(after->value > 0)) {
    it = zero_.upper_bound(after->order);
  }
  for (; it != zero_.end(); ++it) {
    if (keep(it->second) && !fn(value_[it->second], it->second)) return;
  }
}

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_RANKING_H_
