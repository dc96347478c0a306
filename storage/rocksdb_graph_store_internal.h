// File: storage/rocksdb_graph_store_internal.h
//
// The parts of RocksDbGraphStore that its source files share, and nothing
// else includes: Handles (the database, its column family handles, the meta
// counter read and the edge scan) and the helpers the reads use
// (ParseRecord, ActiveAt, DecodeMetaValue, IsPrimaryLinkKey, ScopedSnapshot).
// A private header of //storage:rocksdb_graph_store (in its srcs).
//
// The store's code is split by what it owns:
//   rocksdb_graph_store.cc            Open, options, write health, stats
//   rocksdb_graph_store_recover.cc    schema check, counters, graph id,
//                                     identifier index build on open
//   rocksdb_graph_store_upgrade.cc    the version-1 to version-2 upgrade
//   rocksdb_graph_store_apply.cc      Apply (validation, the batch, commit)
//   rocksdb_graph_store_reads.cc      entities, edges, traversal, signals,
//                                     identifiers
//   rocksdb_graph_store_links.cc      ListLinks, GetLink
//   rocksdb_graph_store_changelog.cc  ReadChanges, WaitForSequence, trimming
//   rocksdb_graph_store_snapshot.cc   ExportSnapshot
//   rocksdb_graph_store_bulk_load.cc  BulkLoader (bulk_load.h) and the
//                                     ingestion of its table files
//   rocksdb_graph_store_partition_move.cc
//                                     MovePartitions (partition_move.h)
#ifndef GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_INTERNAL_H_
#define GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"
#include "storage/internal/record_codec.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage {
namespace internal {

template <typename Record>
bool ActiveAt(const Record& r, absl::Time t) {
  if (r.has_effective_from() &&
      internal::FromTimestamp(r.effective_from()) > t) {
    return false;
  }
  if (r.has_effective_until() &&
      internal::FromTimestamp(r.effective_until()) <= t) {
    return false;
  }
  return true;
}

template <typename Message>
absl::Status ParseRecord(absl::string_view bytes, absl::string_view what,
                         absl::string_view key, Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("unparseable ", what,
                                            " record under key \"",
                                            absl::CHexEscape(key), "\""));
  }
  return absl::OkStatus();
}

// Whether a `links` key is the copy under entity_a (owner < other).
inline absl::StatusOr<bool> IsPrimaryLinkKey(absl::string_view key) {
  absl::StatusOr<internal::LinkKeyParts> parts = internal::DecodeLinkKey(key);
  if (!parts.ok()) return absl::DataLossError(parts.status().message());
  return parts->owner_id < parts->other_id;
}

inline absl::StatusOr<int64_t> DecodeMetaValue(absl::string_view name,
                                               absl::string_view bytes) {
  absl::StatusOr<uint64_t> value = DecodeFixed64BE(bytes);
  if (!value.ok()) {
    return absl::DataLossError(
        absl::StrCat("meta key ", name, ": ", value.status().message()));
  }
  return static_cast<int64_t>(*value);
}

// A RocksDB snapshot, released on destruction.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;

  rocksdb::ReadOptions ReadOptions() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

 private:
  rocksdb::DB* const db_;
  const rocksdb::Snapshot* const snapshot_;
};

}  // namespace internal

// The database and its column family handles.
struct RocksDbGraphStore::Handles {
  // Declared first, so destroyed last: the database uses them until closed.
  std::unique_ptr<rocksdb::Env> env;  // Null: the default Env.
  std::shared_ptr<Listener> listener;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::WriteOptions write_options;
  std::shared_ptr<rocksdb::Statistics> statistics;  // Tickers only.
  std::shared_ptr<rocksdb::Cache> block_cache;

  ~Handles() {
    for (rocksdb::ColumnFamilyHandle* h : cfs) {
      if (h != nullptr) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    if (db != nullptr) db->Close().PermitUncheckedError();
  }

  rocksdb::ColumnFamilyHandle* cf(internal::Cf which) const {
    return cfs[which];
  }

  // Whether a memtable flush is running, scheduled or due.
  bool FlushesInProgress() const {
    uint64_t n = 0;
    if (db->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &n) &&
        n > 0) {
      return true;
    }
    for (rocksdb::ColumnFamilyHandle* h : cfs) {
      if (db->GetIntProperty(h, rocksdb::DB::Properties::kNumImmutableMemTable,
                             &n) &&
          n > 0) {
        return true;
      }
    }
    return false;
  }

  // Reads a meta counter at `options`' snapshot; `fallback` when absent.
  absl::StatusOr<int64_t> ReadMeta(const rocksdb::ReadOptions& options,
                                   absl::string_view name,
                                   int64_t fallback) const {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db->Get(options, cf(internal::kMetaCf),
                                internal::ToSlice(name), &value);
    if (s.IsNotFound()) return fallback;
    if (!s.ok())
      return internal::ToAbslStatus(s, absl::StrCat("reading meta ", name));
    return internal::DecodeMetaValue(name, internal::View(value));
  }

  // Calls visit(key, edge) for the edges stored under `entity_id` in `which`
  // (its out-edges or its in-edges), in key order, starting at `resume` when
  // it is past the start, restricted to `kinds` (sorted; empty: all) and to
  // edges active at `active_at`, until visit returns false.
  absl::Status ScanEdges(
      const rocksdb::ReadOptions& base, internal::Cf which,
      absl::string_view entity_id, const std::vector<uint8_t>& kinds,
      absl::string_view resume, const std::optional<absl::Time>& active_at,
      absl::FunctionRef<bool(absl::string_view key, v1::Edge& edge)> visit)
      const {
    const std::string prefix = internal::EdgePrefix(entity_id);
    const std::string upper = internal::PrefixSuccessor(prefix);
    const rocksdb::Slice upper_slice = internal::ToSlice(upper);
    rocksdb::ReadOptions options = base;
    options.iterate_upper_bound = &upper_slice;
    options.prefix_same_as_start = true;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options, cf(which)));

    std::vector<std::pair<std::string, std::string>> ranges;
    if (kinds.empty()) {
      ranges.emplace_back(prefix, upper);
    } else {
      for (uint8_t kind : kinds) {
        std::string lo = prefix;
        lo.push_back(static_cast<char>(kind));
        std::string hi = internal::PrefixSuccessor(lo);
        ranges.emplace_back(std::move(lo), std::move(hi));
      }
    }
    v1::Edge edge;
    for (const auto& [lo, hi] : ranges) {
      const absl::string_view start =
          resume > absl::string_view(lo) ? resume : absl::string_view(lo);
      if (start >= absl::string_view(hi)) continue;
      for (it->Seek(internal::ToSlice(start)); it->Valid(); it->Next()) {
        const absl::string_view key = internal::View(it->key());
        if (key >= absl::string_view(hi)) break;
        edge.Clear();
        RETURN_IF_ERROR(internal::ParseRecord(internal::View(it->value()),
                                              "edge", key, &edge));
        if (active_at.has_value() && !internal::ActiveAt(edge, *active_at))
          continue;
        if (!visit(key, edge)) return absl::OkStatus();
      }
      RETURN_IF_ERROR(internal::ToAbslStatus(it->status(), "scanning edges"));
    }
    return absl::OkStatus();
  }
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_INTERNAL_H_
