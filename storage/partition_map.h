// File: storage/partition_map.h
//
// The partitions of the graph and the static map that says which graphstore
// shard owns each (docs/scale-out.md). A partition is the top 10 bits of the
// 2-byte key prefix every entity, edge, signal and link key starts with
// (storage/internal/keys.h), so partition p is one contiguous key range in
// every partitioned column family.
//
// Example:
//
//   absl::StatusOr<PartitionMap> map =
//       PartitionMap::Parse("0 = 0-341\n1 = 342-682\n2 = 683-1023");
//   int owner = map->ShardOf("company/tsmc");      // 0, 1 or 2
//   std::string recorded = map->Encode();          // "v1;1024;0=0-341;..."
//   std::vector<PartitionRange> lost =
//       OrphanedPartitions(PartitionMap::Single(), *map, /*shard=*/0);
//   // lost == {{342, 1023}}: shard 0 would no longer own them.
//
// Thread-safe: a PartitionMap is immutable once built; every function here is
// pure.
#ifndef GEORISK_STORAGE_PARTITION_MAP_H_
#define GEORISK_STORAGE_PARTITION_MAP_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace georisk::storage {

// The number of partitions: fixed. Changing it is a schema change.
inline constexpr int kPartitions = 1024;
// A partition is the key prefix shifted right by this: 64 prefixes each.
inline constexpr int kPartitionShift = 6;

// The partition of an entity or signal id: the top 10 bits of the key prefix
// the store writes its keys under (internal::Partition(id) >> 6).
int PartitionOf(absl::string_view id);

// The key prefixes (big-endian 16-bit values) of partition `partition`,
// inclusive: 64 * partition .. 64 * partition + 63.
// The order in which a store lists entities and signals (their keys: the
// 2-byte key prefix of the id, then the id): comparing two ids' RecordOrder()
// bytewise orders them as one unpartitioned store would. The router merges
// the shards' pages by it (services/graphstore/routed_store.h).
std::string RecordOrder(absl::string_view id);

// FNV-1a 64 of `data`, the hash the keys are built on: stable on every
// platform and in every process (checksums of tokens passed between pods).
uint64_t StableHash64(absl::string_view data);

struct KeyPrefixRange {
  uint16_t first = 0;
  uint16_t last = 0;
};
KeyPrefixRange KeyPrefixRangeOf(int partition);

// A range of partitions, inclusive.
struct PartitionRange {
  int first = 0;
  int last = 0;

  friend bool operator==(const PartitionRange& a, const PartitionRange& b) {
    return a.first == b.first && a.last == b.last;
  }
};

// "0-341, 400, 402-410": the ranges as a person reads them ("none" when empty).
std::string FormatPartitionRanges(absl::Span<const PartitionRange> ranges);

// The pod name of a shard: "graphstore-<shard>".
std::string ShardName(int shard);

class PartitionMap {
 public:
  // The most shards a map may have (each owning at least one partition, or
  // none).
  static constexpr int kMaxShards = kPartitions;

  // One shard, 0, owning every partition: graphstore unpartitioned.
  static PartitionMap Single();

  // `shards` shards owning contiguous ranges that differ in size by at most
  // one partition, the larger ones first ("0=0-341;1=342-682;2=683-1023").
  // Errors: INVALID_ARGUMENT unless 1 <= shards <= kMaxShards.
  static absl::StatusOr<PartitionMap> Even(int shards);

  // Parses the map's text (docs/scale-out.md): one shard per line, lines
  // separated by newlines or ';', "<shard> = <range>, <range>..." where a
  // shard is "<i>" or "graphstore-<i>" and a range "a-b" or "a"; '#' starts a
  // comment; blank lines are skipped. The shards must be 0..N-1, each on one
  // line; every partition must be owned by exactly one shard.
  // Errors: INVALID_ARGUMENT naming the line (1-based, counting lines of
  // either separator) and the partition or shard at fault, e.g. "line 3:
  // partition 341 is owned by both shard 0 (line 1) and shard 1", or
  // "partitions 683-1023 are owned by no shard".
  static absl::StatusOr<PartitionMap> Parse(absl::string_view text);

  // The canonical encoding, "v1;1024;0=0-341;1=342-682;2=683-1023": format
  // version, partition count, each shard's ranges merged and sorted. Two maps
  // are equal exactly when their encodings are.
  std::string Encode() const;
  // Inverse of Encode(). Errors: INVALID_ARGUMENT for anything but a
  // canonical encoding, or one of another version or partition count.
  static absl::StatusOr<PartitionMap> Decode(absl::string_view encoded);

  int shard_count() const { return shard_count_; }

  // The shard that owns `partition` (0 <= partition < kPartitions).
  int ShardOf(int partition) const { return owner_[partition]; }
  // The shard that owns the partition of an entity or signal id.
  int ShardOf(absl::string_view id) const { return owner_[PartitionOf(id)]; }

  // The partitions `shard` owns, merged and sorted; empty for a shard
  // outside the map or one that owns none.
  std::vector<PartitionRange> RangesOf(int shard) const;

  friend bool operator==(const PartitionMap& a, const PartitionMap& b) {
    return a.shard_count_ == b.shard_count_ && a.owner_ == b.owner_;
  }
  friend bool operator!=(const PartitionMap& a, const PartitionMap& b) {
    return !(a == b);
  }

 private:
  PartitionMap(int shard_count, std::vector<uint16_t> owner)
      : shard_count_(shard_count), owner_(std::move(owner)) {}

  int shard_count_;
  std::vector<uint16_t> owner_;  // kPartitions entries: the owning shard.
};

// The map of the flags --partition_map (`inline_text`) and
// --partition_map_file (`file`), as graphstore and ingest take them: neither
// is the one-shard map. Errors: INVALID_ARGUMENT naming the flag (both
// given, a map that does not parse: "--partition_map_file /etc/map: line 3:
// ..."); NOT_FOUND for a file that cannot be read.
absl::StatusOr<PartitionMap> PartitionMapFromFlags(
    const std::string& inline_text, const std::string& file);

// The partitions `shard` owned under `recorded` and does not own under
// `given`: the data it holds for them would be orphaned (no request would
// reach it). Partitions it gains orphan nothing. Empty when `given` keeps all
// of the shard's partitions.
std::vector<PartitionRange> OrphanedPartitions(const PartitionMap& recorded,
                                               const PartitionMap& given,
                                               int shard);
// The same when the shard's index changes too: the partitions
// `recorded_shard` owned under `recorded` that `given_shard` does not own
// under `given` (a data directory opened as another shard).
std::vector<PartitionRange> OrphanedPartitions(const PartitionMap& recorded,
                                               int recorded_shard,
                                               const PartitionMap& given,
                                               int given_shard);

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_PARTITION_MAP_H_
