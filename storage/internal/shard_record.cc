#include "storage/internal/shard_record.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"

namespace georisk::storage::internal {
namespace {

// The value of meta key `name`, or nullopt when absent.
absl::StatusOr<std::optional<std::string>> ReadMetaKey(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
    absl::string_view name) {
  std::string value;
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), meta, ToSlice(name), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbslStatus(s, absl::StrCat("reading meta ", name));
  return value;
}

std::string Describe(const PartitionMap& map, int shard) {
  return absl::StrCat("shard ", shard, " (", ShardName(shard), ") of ",
                      map.Encode());
}

}  // namespace

absl::StatusOr<std::optional<RecordedShard>> ReadRecordedShard(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
  absl::StatusOr<std::optional<std::string>> map_value =
      ReadMetaKey(db, meta, kMetaPartitionMap);
  if (!map_value.ok()) return map_value.status();
  absl::StatusOr<std::optional<std::string>> index_value =
      ReadMetaKey(db, meta, kMetaShardIndex);
  if (!index_value.ok()) return index_value.status();
  if (!map_value->has_value() && !index_value->has_value()) {
    return std::nullopt;
  }
  if (!map_value->has_value() || !index_value->has_value()) {
    return absl::DataLossError(absl::StrCat(
        "meta holds ",
        map_value->has_value() ? kMetaPartitionMap : kMetaShardIndex,
        " without ",
        map_value->has_value() ? kMetaShardIndex : kMetaPartitionMap,
        " (they are written together)"));
  }
  absl::StatusOr<PartitionMap> map = PartitionMap::Decode(**map_value);
  if (!map.ok()) {
    return absl::DataLossError(absl::StrCat("meta key ", kMetaPartitionMap,
                                            ": ", map.status().message()));
  }
  absl::StatusOr<uint64_t> index = DecodeFixed64BE(**index_value);
  if (!index.ok() || *index >= static_cast<uint64_t>(map->shard_count())) {
    return absl::DataLossError(absl::StrCat(
        "meta key ", kMetaShardIndex, ": expected 8 bytes naming a shard of ",
        map->Encode(), ", got \"", absl::CHexEscape(**index_value), "\""));
  }
  return RecordedShard{*std::move(map), static_cast<int>(*index)};
}

absl::StatusOr<std::vector<bool>> ReadMovedOut(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
  absl::StatusOr<std::optional<std::string>> value =
      ReadMetaKey(db, meta, kMetaMovedOut);
  if (!value.ok()) return value.status();
  std::vector<bool> moved_out(kPartitions, false);
  if (!value->has_value()) return moved_out;
  const std::string& bits = **value;
  if (bits.size() != kPartitions / 8) {
    return absl::DataLossError(absl::StrCat("meta key ", kMetaMovedOut,
                                            ": expected ", kPartitions / 8,
                                            " bytes, got ", bits.size()));
  }
  for (int p = 0; p < kPartitions; ++p) {
    moved_out[p] = (static_cast<uint8_t>(bits[p / 8]) >> (p % 8)) & 1;
  }
  return moved_out;
}

std::string EncodeMovedOut(const std::vector<bool>& moved_out) {
  std::string bits(kPartitions / 8, '\0');
  for (int p = 0; p < kPartitions && p < static_cast<int>(moved_out.size());
       ++p) {
    if (moved_out[p])
      bits[p / 8] = static_cast<char>(bits[p / 8] | (1 << (p % 8)));
  }
  return bits;
}

absl::Status RecordShard(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                         absl::string_view path, const PartitionMap& map,
                         int shard_index) {
  if (shard_index < 0 || shard_index >= map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard_index: ", shard_index,
        ", but the partition map has shards 0 to ", map.shard_count() - 1));
  }
  absl::StatusOr<std::optional<RecordedShard>> recorded =
      ReadRecordedShard(db, meta);
  if (!recorded.ok()) return recorded.status();
  // Whether the keys are there (not implied by a database before shards).
  const bool stored = recorded->has_value();
  if (!stored) {
    absl::StatusOr<std::optional<std::string>> last =
        ReadMetaKey(db, meta, kMetaLastSequence);
    if (!last.ok()) return last.status();
    bool committed = false;
    if (last->has_value()) {
      absl::StatusOr<uint64_t> sequence = DecodeFixed64BE(**last);
      if (!sequence.ok()) {
        return absl::DataLossError(absl::StrCat(
            "meta key ", kMetaLastSequence, ": ", sequence.status().message()));
      }
      committed = *sequence > 0;
    }
    // Written before shards: as the only shard, owning everything.
    if (committed) *recorded = RecordedShard{};
  }
  if (recorded->has_value()) {
    const RecordedShard& was = **recorded;
    if (stored && was.map == map && was.shard_index == shard_index) {
      return absl::OkStatus();
    }
    std::vector<PartitionRange> orphaned =
        OrphanedPartitions(was.map, was.shard_index, map, shard_index);
    if (!orphaned.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database at ", path, " was written as ",
          Describe(was.map, was.shard_index), "; opened as ",
          Describe(map, shard_index), " it would orphan partitions ",
          FormatPartitionRanges(orphaned),
          ", which it may hold data for: move those partitions to their new "
          "shard first (docs/scale-out.md, \"Adding shards\"), or open it "
          "with the recorded map and shard index"));
    }
    absl::StatusOr<std::vector<bool>> moved_out = ReadMovedOut(db, meta);
    if (!moved_out.ok()) return moved_out.status();
    std::vector<PartitionRange> regained;
    for (int p = 0; p < kPartitions; ++p) {
      if (!(*moved_out)[p] || map.ShardOf(p) != shard_index) continue;
      if (!regained.empty() && regained.back().last == p - 1) {
        regained.back().last = p;
      } else {
        regained.push_back({p, p});
      }
    }
    if (!regained.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database at ", path, " was written as ",
          Describe(was.map, was.shard_index), "; opened as ",
          Describe(map, shard_index), " it would own partitions ",
          FormatPartitionRanges(regained),
          " again, which a partition move took to another shard: it would "
          "serve them empty. Open it with the recorded map, or move them back "
          "with graphstore_move_partitions (docs/scale-out.md, \"Adding "
          "shards\")"));
    }
  }
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(meta, ToSlice(kMetaPartitionMap), map.Encode());
  if (s.ok()) {
    s = batch.Put(meta, ToSlice(kMetaShardIndex),
                  EncodeFixed64BE(static_cast<uint64_t>(shard_index)));
  }
  if (s.ok()) {
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    s = db->Write(sync_write, &batch);
  }
  return ToAbslStatus(s, "recording the partition map");
}

}  // namespace georisk::storage::internal
