#include "services/scorer/model/ranking.h"

#include <cstring>

namespace georisk::scorer::internal {
namespace {

// Buckets cover values from 2^-60 up to 2^8, 256 per power of two (the
// exponent and the top 8 bits of the mantissa): 17,410 in all, few enough
// to set up for every engine, fine enough that a million values spread
// over a few dozen powers of two leave ~100 per bucket. Smaller positive
// values share bucket 1, larger ones the top bucket.
constexpr int kMantissaBits = 8;
constexpr uint64_t kLowest = uint64_t{1023 - 60} << kMantissaBits;
constexpr uint64_t kHighest = uint64_t{1023 + 8} << kMantissaBits;
constexpr uint32_t kBuckets = 2 + static_cast<uint32_t>(kHighest - kLowest);

}  // namespace

uint32_t Ranking::BucketOf(double value) {
  if (!(value > 0)) return kZero;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  // Positive: sign 0, then the exponent and the mantissa's top bits.
  const uint64_t k = bits >> (52 - kMantissaBits);
  if (k < kLowest) return 1;
  return 2 + static_cast<uint32_t>(std::min(k, kHighest - 1) - kLowest);
}

void Ranking::Clear() {
  value_.clear();
  bucket_of_.clear();
  slot_.clear();
  buckets_.assign(kBuckets, {});
  nonempty_.assign((kBuckets + 63) / 64, 0);
  zero_.clear();
  size_ = 0;
}

void Ranking::Place(uint32_t node, double value) {
  value_[node] = value;
  const uint32_t b = BucketOf(value);
  bucket_of_[node] = b;
  if (b == kZero) {
    zero_.emplace((*order_)[node], node);
    return;
  }
  std::vector<uint32_t>& list = buckets_[b];
  slot_[node] = static_cast<uint32_t>(list.size());
  list.push_back(node);
  nonempty_[b >> 6] |= uint64_t{1} << (b & 63);
}

void Ranking::Remove(uint32_t node) {
  const uint32_t b = bucket_of_[node];
  bucket_of_[node] = kAbsent;
  if (b == kZero) {
    zero_.erase((*order_)[node]);
    return;
  }
  std::vector<uint32_t>& list = buckets_[b];
  const uint32_t last = list.back();
  list[slot_[node]] = last;
  slot_[last] = slot_[node];
  list.pop_back();
  if (list.empty()) nonempty_[b >> 6] &= ~(uint64_t{1} << (b & 63));
}

void Ranking::Insert(uint32_t node, double value) {
  if (buckets_.empty()) Clear();
  if (node >= bucket_of_.size()) {
    value_.resize(node + 1, 0);
    bucket_of_.resize(node + 1, kAbsent);
    slot_.resize(node + 1, 0);
  }
  Place(node, value);
  ++size_;
}

void Ranking::Erase(uint32_t node) {
  Remove(node);
  --size_;
}

void Ranking::Move(uint32_t node, double value) {
  if (BucketOf(value) == bucket_of_[node]) {
    value_[node] = value;  // Its bucket is unordered: nothing else moves.
    return;
  }
  Remove(node);
  Place(node, value);
}

void Ranking::Reorder() {
  absl::btree_map<uint64_t, uint32_t> zero;
  for (const auto& [order, node] : zero_) zero.emplace((*order_)[node], node);
  zero_ = std::move(zero);
}

}  // namespace georisk::scorer::internal
