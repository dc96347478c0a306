// File: storage/rocksdb_graph_store_partition_move.cc
//
// MovePartitions (storage/partition_move.h): the preconditions, the scan of
// the range on S, the table files and their ingestion into N, S's delete
// batch, and the resumption of a move that stopped between the two. Why each
// column family is moved or left where it is: docs/scale-out.md, "Moving
// partitions".
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/write_batch.h"
#include "storage/graph_store.h"
#include "storage/internal/column_families.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/internal/shard_record.h"
#include "storage/partition_move.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::Cf;
using internal::EncodeFixed64BE;
using internal::kCfNames;
using internal::kEntitiesCf;
using internal::kIdentifiersCf;
using internal::kInEdgesCf;
using internal::kLinksCf;
using internal::kMetaCf;
using internal::kOutEdgesCf;
using internal::kSignalsCf;
using internal::RecordedShard;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

// The column families whose keys start with the 2-byte partition prefix, in
// the order they are reported. The others are not moved: changelog (keyed by
// S's sequence), idempotency (keyed by the client's key alone), outbox (must
// be empty), identifiers (keyed by identifier: the moved entities' entries
// are computed from them instead), meta (rewritten on each side).
constexpr Cf kPartitionedCfs[] = {kEntitiesCf, kOutEdgesCf, kInEdgesCf,
                                  kSignalsCf, kLinksCf};

// The key range of partitions first..last in every partitioned column
// family: [be16(first << 6), be16((last + 1) << 6)). The last partition has
// no 2-byte end: ids are ASCII (domain/validation.h), so every key under
// prefix ffff sorts below ff ff ff.
struct KeyRange {
  std::string begin;
  std::string end;
};
KeyRange KeyRangeOf(const PartitionRange& partitions) {
  auto be16 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
  };
  KeyRange range;
  range.begin =
      be16(static_cast<uint32_t>(partitions.first) << kPartitionShift);
  range.end =
      partitions.last + 1 == kPartitions
          ? std::string(3, '\xff')
          : be16(static_cast<uint32_t>(partitions.last + 1) << kPartitionShift);
  return range;
}

std::string Describe(const PartitionMap& map, int shard) {
  return absl::StrCat("shard ", shard, " (", ShardName(shard), ") of ",
                      map.Encode());
}

// The map and shard a database records, read without taking its lock (a
// read-only open of `meta`), so that the right map can be given to Open.
struct Peeked {
  std::optional<RecordedShard> recorded;
};
absl::StatusOr<Peeked> PeekRecorded(const std::string& path) {
  rocksdb::DBOptions options;
  std::vector<std::string> families;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &families).ok()) {
    return absl::NotFoundError(absl::StrCat("no graph database at ", path));
  }
  if (std::find(families.begin(), families.end(), kCfNames[kMetaCf]) ==
      families.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database at ", path,
                     " has no meta column family: not a graphstore database"));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kCfNames[kMetaCf], rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(ToAbslStatus(
      rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &raw),
      absl::StrCat("reading the recorded map of ", path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  absl::StatusOr<std::optional<RecordedShard>> recorded =
      internal::ReadRecordedShard(db.get(), handles[1]);
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  db->Close().PermitUncheckedError();
  if (!recorded.ok()) {
    return absl::Status(recorded.status().code(),
                        absl::StrCat(path, ": ", recorded.status().message()));
  }
  return Peeked{*recorded};
}

bool Records(const Peeked& peeked, const PartitionMap& map, int shard) {
  return peeked.recorded.has_value() && peeked.recorded->map == map &&
         peeked.recorded->shard_index == shard;
}

std::string DescribeRecorded(const Peeked& peeked) {
  if (!peeked.recorded.has_value()) return "nothing recorded";
  return Describe(peeked.recorded->map, peeked.recorded->shard_index);
}

absl::Status CheckMaps(const PartitionMoveOptions& o, int* from, int* to) {
  const PartitionRange& r = o.partitions;
  if (r.first < 0 || r.last >= kPartitions || r.first > r.last) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions: ", r.first, "-", r.last,
                     " is not a range within 0-", kPartitions - 1));
  }
  if (o.old_map.shard_count() != o.new_map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the old map has ", o.old_map.shard_count(), " shards, the new one ",
        o.new_map.shard_count(),
        ": add the target shard (owning nothing) to the old map first"));
  }
  *from = o.old_map.ShardOf(r.first);
  *to = o.new_map.ShardOf(r.first);
  for (int p = 0; p < kPartitions; ++p) {
    const bool inside = p >= r.first && p <= r.last;
    if (inside && o.old_map.ShardOf(p) != *from) {
      return absl::InvalidArgumentError(
          absl::StrCat("partitions ", r.first, "-", r.last,
                       " are not one shard's in the old map: partition ",
                       r.first, " is shard ", *from, "'s, partition ", p,
                       " shard ", o.old_map.ShardOf(p), "'s"));
    }
    if (inside && o.new_map.ShardOf(p) != *to) {
      return absl::InvalidArgumentError(
          absl::StrCat("partitions ", r.first, "-", r.last,
                       " are not one shard's in the new map: partition ",
                       r.first, " is shard ", *to, "'s, partition ", p,
                       " shard ", o.new_map.ShardOf(p), "'s"));
    }
    if (!inside && o.old_map.ShardOf(p) != o.new_map.ShardOf(p)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the new map differs from the old one outside partitions ", r.first,
          "-", r.last, ": partition ", p, " is shard ", o.old_map.ShardOf(p),
          "'s in the old map and shard ", o.new_map.ShardOf(p),
          "'s in the new one (one move per range)"));
    }
  }
  if (*from == *to) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions ", r.first, "-", r.last, " are shard ", *from,
                     "'s in both maps: nothing to move"));
  }
  return absl::OkStatus();
}

}  // namespace

// The part of the move that reads and writes a store's RocksDB directly (a
// friend of RocksDbGraphStore, as BulkLoader).
class PartitionMover {
 public:
  PartitionMover(const PartitionMoveOptions& options, int from, int to)
      : o_(options),
        from_shard_(from),
        to_shard_(to),
        range_(KeyRangeOf(options.partitions)) {}

  absl::StatusOr<PartitionMoveResult> Run();

 private:
  // What the range holds on S.
  struct Scan {
    MovedColumnFamily families[internal::kCfCount];
    int64_t link_primaries = 0;
    std::vector<std::string> identifier_keys;  // Sorted.
  };

  static rocksdb::DB* Db(RocksDbGraphStore* s) { return s->db_->db.get(); }
  static rocksdb::ColumnFamilyHandle* Handle(RocksDbGraphStore* s, Cf which) {
    return s->db_->cf(which);
  }

  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> Open(
      const std::string& path, const PartitionMap& map, int shard) const;
  // Calls visit(key, value) for the range's keys of `which`, in order.
  static absl::Status ForEachInRange(
      RocksDbGraphStore* store, Cf which, const KeyRange& range,
      const std::function<absl::Status(absl::string_view, absl::string_view)>&
          visit);
  absl::StatusOr<Scan> ScanRange(RocksDbGraphStore* store) const;
  absl::Status CheckOutboxEmpty(RocksDbGraphStore* store, int shard) const;
  static absl::StatusOr<int64_t> Meta(RocksDbGraphStore* store,
                                      absl::string_view name);
  // N's new meta values: the new map and shard, its counts plus the moved
  // ones, a new graph id. Sorted by key (a table file's order).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> TargetMeta(
      RocksDbGraphStore* to, const PartitionMoveResult& moved,
      const std::string& graph_id) const;
  absl::Status IngestIntoTarget(RocksDbGraphStore* from, RocksDbGraphStore* to,
                                const Scan& scan,
                                const PartitionMoveResult& moved,
                                const std::string& graph_id) const;
  absl::Status DeleteFromSource(RocksDbGraphStore* from, const Scan& scan,
                                const PartitionMoveResult& moved,
                                const std::string& graph_id) const;

  const PartitionMoveOptions& o_;
  const int from_shard_;
  const int to_shard_;
  const KeyRange range_;
};

absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> PartitionMover::Open(
    const std::string& path, const PartitionMap& map, int shard) const {
  RocksDbGraphStoreOptions options;
  options.path = path;
  options.create_if_missing = false;
  options.partition_map = map;
  options.shard_index = shard;
  options.entity_id_cache_bytes = 0;
  options.changelog_trim_interval = absl::ZeroDuration();
  return RocksDbGraphStore::Open(options);
}

absl::Status PartitionMover::ForEachInRange(
    RocksDbGraphStore* store, Cf which, const KeyRange& range,
    const std::function<absl::Status(absl::string_view, absl::string_view)>&
        visit) {
  const rocksdb::Slice upper = ToSlice(range.end);
  rocksdb::ReadOptions read;
  read.total_order_seek = true;  // The edge families have a prefix extractor.
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      Db(store)->NewIterator(read, Handle(store, which)));
  for (it->Seek(ToSlice(range.begin)); it->Valid(); it->Next()) {
    RETURN_IF_ERROR(visit(View(it->key()), View(it->value())));
  }
  return ToAbslStatus(it->status(), absl::StrCat("scanning ", kCfNames[which]));
}

absl::StatusOr<PartitionMover::Scan> PartitionMover::ScanRange(
    RocksDbGraphStore* store) const {
  Scan scan;
  for (int i = 0; i < internal::kCfCount; ++i) {
    scan.families[i].name = kCfNames[i];
  }
  for (Cf which : kPartitionedCfs) {
    MovedColumnFamily& family = scan.families[which];
    RETURN_IF_ERROR(ForEachInRange(
        store, which, range_,
        [&](absl::string_view key, absl::string_view value) -> absl::Status {
          ++family.keys;
          family.bytes += static_cast<int64_t>(key.size() + value.size());
          if (which == kLinksCf) {
            ASSIGN_OR_RETURN(const bool primary,
                             internal::IsPrimaryLinkKey(key));
            if (primary) ++scan.link_primaries;
          } else if (which == kEntitiesCf) {
            v1::Entity entity;
            RETURN_IF_ERROR(
                internal::ParseRecord(value, "entity", key, &entity));
            for (std::string& k : internal::IdentifierKeysOf(entity)) {
              scan.identifier_keys.push_back(std::move(k));
            }
          }
          return absl::OkStatus();
        }));
  }
  std::sort(scan.identifier_keys.begin(), scan.identifier_keys.end());
  MovedColumnFamily& identifiers = scan.families[kIdentifiersCf];
  identifiers.keys = static_cast<int64_t>(scan.identifier_keys.size());
  for (const std::string& k : scan.identifier_keys) {
    identifiers.bytes += static_cast<int64_t>(k.size());
  }
  return scan;
}

absl::Status PartitionMover::CheckOutboxEmpty(RocksDbGraphStore* store,
                                              int shard) const {
  // Counted by Open from the outbox itself; nothing has committed since.
  int64_t total = 0;
  std::vector<std::string> peers;
  for (const OutboxPeerStats& peer : store->OutboxStats()) {
    total += peer.pending;
    peers.push_back(absl::StrCat(peer.pending, " for ", ShardName(peer.peer)));
  }
  if (total == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      ShardName(shard), "'s outbox holds ", total, " entries (",
      absl::StrJoin(peers, ", "),
      ") queued under the old map: moved, they would be delivered to the old "
      "owner. Start ",
      ShardName(shard),
      " under the old map with its --shard_peers until "
      "georisk_graphstore_outbox_pending is 0, then stop it and move"));
}

absl::StatusOr<int64_t> PartitionMover::Meta(RocksDbGraphStore* store,
                                             absl::string_view name) {
  return store->db_->ReadMeta(rocksdb::ReadOptions(), name, 0);
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
PartitionMover::TargetMeta(RocksDbGraphStore* to,
                           const PartitionMoveResult& moved,
                           const std::string& graph_id) const {
  std::vector<std::pair<std::string, std::string>> kv;
  auto add = [&](absl::string_view name, int64_t delta) -> absl::Status {
    ASSIGN_OR_RETURN(const int64_t now, Meta(to, name));
    kv.emplace_back(std::string(name),
                    EncodeFixed64BE(static_cast<uint64_t>(now + delta)));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(add(internal::kMetaEntityCount, moved.entities));
  RETURN_IF_ERROR(add(internal::kMetaEdgeCount, moved.edges));
  RETURN_IF_ERROR(add(internal::kMetaSignalCount, moved.signals));
  RETURN_IF_ERROR(add(internal::kMetaLinkCount, moved.links));
  kv.emplace_back(std::string(internal::kMetaGraphId), graph_id);
  // Partitions moved out of N earlier and back in now are N's again.
  ASSIGN_OR_RETURN(std::vector<bool> moved_out,
                   internal::ReadMovedOut(Db(to), Handle(to, kMetaCf)));
  for (int p = o_.partitions.first; p <= o_.partitions.last; ++p) {
    moved_out[p] = false;
  }
  kv.emplace_back(std::string(internal::kMetaMovedOut),
                  internal::EncodeMovedOut(moved_out));
  kv.emplace_back(std::string(internal::kMetaPartitionMap),
                  o_.new_map.Encode());
  kv.emplace_back(std::string(internal::kMetaShardIndex),
                  EncodeFixed64BE(static_cast<uint64_t>(to_shard_)));
  std::sort(kv.begin(), kv.end());
  return kv;
}

absl::Status PartitionMover::IngestIntoTarget(
    RocksDbGraphStore* from, RocksDbGraphStore* to, const Scan& scan,
    const PartitionMoveResult& moved, const std::string& graph_id) const {
  std::error_code error;
  std::filesystem::remove_all(o_.work_dir, error);
  std::filesystem::create_directories(o_.work_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", o_.work_dir, ": ", error.message()));
  }
  std::vector<rocksdb::IngestExternalFileArg> args;
  // One table file per column family, built with N's options for it.
  auto start_file = [&](Cf which, rocksdb::SstFileWriter& writer,
                        std::string* file) -> absl::Status {
    *file = absl::StrCat(o_.work_dir, "/", kCfNames[which], ".sst");
    return ToAbslStatus(writer.Open(*file), absl::StrCat("creating ", *file));
  };
  auto finish_file = [&](Cf which, rocksdb::SstFileWriter& writer,
                         const std::string& file) -> absl::Status {
    RETURN_IF_ERROR(
        ToAbslStatus(writer.Finish(), absl::StrCat("finishing ", file)));
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = Handle(to, which);
    arg.external_files = {file};
    arg.options.move_files = true;
    args.push_back(std::move(arg));
    return absl::OkStatus();
  };
  auto writer_for = [&](Cf which) {
    return std::make_unique<rocksdb::SstFileWriter>(
        rocksdb::EnvOptions(), Db(to)->GetOptions(Handle(to, which)),
        Handle(to, which));
  };
  for (Cf which : kPartitionedCfs) {
    if (scan.families[which].keys == 0) continue;
    std::unique_ptr<rocksdb::SstFileWriter> writer = writer_for(which);
    std::string file;
    RETURN_IF_ERROR(start_file(which, *writer, &file));
    RETURN_IF_ERROR(ForEachInRange(
        from, which, range_,
        [&](absl::string_view key, absl::string_view value) {
          return ToAbslStatus(writer->Put(ToSlice(key), ToSlice(value)),
                              absl::StrCat("writing ", file));
        }));
    RETURN_IF_ERROR(finish_file(which, *writer, file));
  }
  if (!scan.identifier_keys.empty()) {
    std::unique_ptr<rocksdb::SstFileWriter> writer = writer_for(kIdentifiersCf);
    std::string file;
    RETURN_IF_ERROR(start_file(kIdentifiersCf, *writer, &file));
    for (const std::string& key : scan.identifier_keys) {
      RETURN_IF_ERROR(ToAbslStatus(writer->Put(key, rocksdb::Slice()),
                                   absl::StrCat("writing ", file)));
    }
    RETURN_IF_ERROR(finish_file(kIdentifiersCf, *writer, file));
  }
  {
    ASSIGN_OR_RETURN(auto meta, TargetMeta(to, moved, graph_id));
    std::unique_ptr<rocksdb::SstFileWriter> writer = writer_for(kMetaCf);
    std::string file;
    RETURN_IF_ERROR(start_file(kMetaCf, *writer, &file));
    for (const auto& [key, value] : meta) {
      RETURN_IF_ERROR(ToAbslStatus(writer->Put(key, value),
                                   absl::StrCat("writing ", file)));
    }
    RETURN_IF_ERROR(finish_file(kMetaCf, *writer, file));
  }
  // One call: RocksDB ingests the files of every column family atomically
  // (all or none), syncing them and the MANIFEST first. The meta file's keys
  // overlap N's: the ingested ones take a newer sequence and win.
  return ToAbslStatus(Db(to)->IngestExternalFiles(args),
                      absl::StrCat("ingesting the range into ", o_.to_path));
}

absl::Status PartitionMover::DeleteFromSource(
    RocksDbGraphStore* from, const Scan& scan, const PartitionMoveResult& moved,
    const std::string& graph_id) const {
  rocksdb::WriteBatch batch;
  for (Cf which : kPartitionedCfs) {
    RETURN_IF_ERROR(ToAbslStatus(
        batch.DeleteRange(Handle(from, which), ToSlice(range_.begin),
                          ToSlice(range_.end)),
        "deleting the range"));
  }
  for (const std::string& key : scan.identifier_keys) {
    RETURN_IF_ERROR(
        ToAbslStatus(batch.Delete(Handle(from, kIdentifiersCf), key),
                     "deleting identifier entries"));
  }
  rocksdb::ColumnFamilyHandle* meta = Handle(from, kMetaCf);
  auto put = [&](absl::string_view name, int64_t delta) -> absl::Status {
    ASSIGN_OR_RETURN(const int64_t now, Meta(from, name));
    if (now < delta) {
      return absl::DataLossError(absl::StrCat(
          o_.from_path, ": meta ", name, " is ", now, " but the range holds ",
          delta, ": the counts are not what the data says"));
    }
    return ToAbslStatus(
        batch.Put(meta, ToSlice(name),
                  EncodeFixed64BE(static_cast<uint64_t>(now - delta))),
        "writing meta");
  };
  RETURN_IF_ERROR(put(internal::kMetaEntityCount, moved.entities));
  RETURN_IF_ERROR(put(internal::kMetaEdgeCount, moved.edges));
  RETURN_IF_ERROR(put(internal::kMetaSignalCount, moved.signals));
  RETURN_IF_ERROR(put(internal::kMetaLinkCount, moved.links));
  RETURN_IF_ERROR(
      ToAbslStatus(batch.Put(meta, ToSlice(internal::kMetaGraphId), graph_id),
                   "writing meta"));
  // So that S refuses a map that gives it the range again (shard_record.h).
  ASSIGN_OR_RETURN(std::vector<bool> moved_out,
                   internal::ReadMovedOut(Db(from), meta));
  for (int p = o_.partitions.first; p <= o_.partitions.last; ++p) {
    moved_out[p] = true;
  }
  RETURN_IF_ERROR(ToAbslStatus(batch.Put(meta, ToSlice(internal::kMetaMovedOut),
                                         internal::EncodeMovedOut(moved_out)),
                               "writing meta"));
  RETURN_IF_ERROR(
      ToAbslStatus(batch.Put(meta, ToSlice(internal::kMetaPartitionMap),
                             o_.new_map.Encode()),
                   "writing meta"));
  rocksdb::WriteOptions sync_write;
  sync_write.sync = true;
  return ToAbslStatus(Db(from)->Write(sync_write, &batch),
                      absl::StrCat("deleting the range from ", o_.from_path));
}

absl::StatusOr<PartitionMoveResult> PartitionMover::Run() {
  PartitionMoveResult result;
  result.from_shard = from_shard_;
  result.to_shard = to_shard_;
  ASSIGN_OR_RETURN(const Peeked source, PeekRecorded(o_.from_path));
  ASSIGN_OR_RETURN(const Peeked target, PeekRecorded(o_.to_path));
  const bool source_old = Records(source, o_.old_map, from_shard_);
  const bool source_new = Records(source, o_.new_map, from_shard_);
  const bool target_old = Records(target, o_.old_map, to_shard_);
  const bool target_new = Records(target, o_.new_map, to_shard_);
  if (source_new && target_new) {
    result.outcome = PartitionMoveResult::Outcome::kAlreadyMoved;
    return result;
  }
  if (!source_old || !(target_old || target_new)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the databases are not where the move starts or stopped: ",
        o_.from_path, " records ", DescribeRecorded(source), ", ", o_.to_path,
        " records ", DescribeRecorded(target), "; the move expects ",
        Describe(o_.old_map, from_shard_), " and ",
        Describe(o_.old_map, to_shard_), " (or, after an interrupted move, ",
        Describe(o_.new_map, to_shard_), ")"));
  }
  const bool resuming = target_new;

  ASSIGN_OR_RETURN(std::unique_ptr<RocksDbGraphStore> from,
                   Open(o_.from_path, o_.old_map, from_shard_));
  ASSIGN_OR_RETURN(
      std::unique_ptr<RocksDbGraphStore> to,
      Open(o_.to_path, resuming ? o_.new_map : o_.old_map, to_shard_));
  RETURN_IF_ERROR(CheckOutboxEmpty(from.get(), from_shard_));
  RETURN_IF_ERROR(CheckOutboxEmpty(to.get(), to_shard_));
  ASSIGN_OR_RETURN(const Scan scan, ScanRange(from.get()));
  ASSIGN_OR_RETURN(const Scan on_target, ScanRange(to.get()));
  for (Cf which : kPartitionedCfs) {
    const int64_t there = on_target.families[which].keys;
    const int64_t here = scan.families[which].keys;
    if (!resuming && there != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          o_.to_path, " already holds ", there, " keys of ", kCfNames[which],
          " in partitions ", o_.partitions.first, "-", o_.partitions.last,
          ": the target must hold nothing in the range"));
    }
    if (resuming && (there != here || on_target.families[which].bytes !=
                                          scan.families[which].bytes)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "an interrupted move left ", o_.to_path, " with ", there, " keys (",
          on_target.families[which].bytes, " bytes) of ", kCfNames[which],
          " in the range and ", o_.from_path, " with ", here, " (",
          scan.families[which].bytes,
          "): they should be equal; inspect both before going on"));
    }
  }
  for (Cf which : kPartitionedCfs)
    result.families.push_back(scan.families[which]);
  result.families.push_back(scan.families[kIdentifiersCf]);
  result.entities = scan.families[kEntitiesCf].keys;
  result.edges = scan.families[kOutEdgesCf].keys;
  result.signals = scan.families[kSignalsCf].keys;
  result.links = scan.link_primaries;
  if (o_.dry_run) {
    result.outcome = PartitionMoveResult::Outcome::kDryRun;
    return result;
  }

  result.to_graph_id = resuming ? to->GraphId() : MintGraphId();
  if (!resuming) {
    absl::Status ingested = IngestIntoTarget(from.get(), to.get(), scan, result,
                                             result.to_graph_id);
    std::error_code ignored;
    std::filesystem::remove_all(o_.work_dir, ignored);
    RETURN_IF_ERROR(ingested);
    if (o_.after_ingest_for_testing) {
      RETURN_IF_ERROR(o_.after_ingest_for_testing());
    }
  }
  result.from_graph_id = MintGraphId();
  RETURN_IF_ERROR(
      DeleteFromSource(from.get(), scan, result, result.from_graph_id));
  result.outcome = resuming ? PartitionMoveResult::Outcome::kCompleted
                            : PartitionMoveResult::Outcome::kMoved;
  return result;
}

absl::StatusOr<PartitionMoveResult> MovePartitions(
    const PartitionMoveOptions& options) {
  if (options.from_path.empty() || options.to_path.empty()) {
    return absl::InvalidArgumentError("from_path and to_path: required");
  }
  std::error_code error;
  if (options.from_path == options.to_path ||
      std::filesystem::equivalent(options.from_path, options.to_path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_path and to_path are the same database: ", options.from_path));
  }
  int from = 0;
  int to = 0;
  RETURN_IF_ERROR(CheckMaps(options, &from, &to));
  PartitionMoveOptions o = options;
  // A directory of the move's own inside work_dir: it is emptied before and
  // removed after, so whatever else work_dir holds is never touched.
  o.work_dir =
      (o.work_dir.empty() ? o.to_path : o.work_dir) + "/partition-move.tmp";
  return PartitionMover(o, from, to).Run();
}

}  // namespace georisk::storage
