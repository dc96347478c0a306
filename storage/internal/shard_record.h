// File: storage/internal/shard_record.h
//
// The partition map a graph database is written under, recorded in its `meta`
// column family (keys kMetaPartitionMap and kMetaShardIndex, keys.h), and the
// check that refuses to open it under a map that would orphan its data
// (docs/scale-out.md, "The schema records the map").
//
//   // In RocksDbGraphStore::Open, once the schema is recovered:
//   RETURN_IF_ERROR(internal::RecordShard(db, meta_cf, path, map, index));
//
// Thread safety: call before any commit runs (Open); it reads and writes
// `meta` without the store's locks.
#ifndef GEORISK_STORAGE_INTERNAL_SHARD_RECORD_H_
#define GEORISK_STORAGE_INTERNAL_SHARD_RECORD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "storage/partition_map.h"

namespace georisk::storage::internal {

// What `meta` says the database was written as.
struct RecordedShard {
  PartitionMap map = PartitionMap::Single();
  int shard_index = 0;
};

// The recorded map and index; nullopt when neither key is there (a new
// database, or one written before shards).
// Errors: DATA_LOSS when one key is there without the other, the map does
// not decode, or the index is not 8 bytes naming a shard of the map.
absl::StatusOr<std::optional<RecordedShard>> ReadRecordedShard(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta);

// The partitions a move (storage/partition_move.h) took out of the database,
// meta key kMetaMovedOut: kPartitions / 8 bytes, bit p (byte p / 8, bit
// p % 8, least significant first) set when partition p was moved out. A
// vector of kPartitions flags, all false when the key is absent.
// Errors: DATA_LOSS when the value is not kPartitions / 8 bytes.
absl::StatusOr<std::vector<bool>> ReadMovedOut(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta);
std::string EncodeMovedOut(const std::vector<bool>& moved_out);

// Checks `map` and `shard_index` against what `meta` records and records
// them (one synced WriteBatch) when they differ:
//  - the same as recorded: writes nothing;
//  - nothing recorded, and no commit yet (meta last_sequence 0): recorded;
//  - nothing recorded but commits (a database written before shards): taken
//    as recorded under the one-shard map as shard 0, then as below;
//  - another map or index: recorded if the shard keeps every partition the
//    recorded map gave the recorded index (OrphanedPartitions is empty;
//    gaining partitions is fine); otherwise FAILED_PRECONDITION naming the
//    recorded map and index, the given ones and the orphaned partitions;
//  - a map (other than the recorded one) that gives this shard a partition a
//    move took out of it (ReadMovedOut): FAILED_PRECONDITION, because it
//    would serve that partition empty while its records are on another
//    shard.
// Errors: INVALID_ARGUMENT when shard_index is not a shard of `map`;
// DATA_LOSS as ReadRecordedShard; INTERNAL/UNAVAILABLE from RocksDB.
absl::Status RecordShard(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                         absl::string_view path, const PartitionMap& map,
                         int shard_index);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_SHARD_RECORD_H_
