// File: storage/rocksdb_graph_store_snapshot.cc
//
// RocksDbGraphStore::ExportSnapshot: the whole graph at one RocksDB snapshot,
// in chunks (entities, edges, signals, then each link once), with the
// sequence a follower resumes the change log after.
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::Cf;
using internal::IsPrimaryLinkKey;
using internal::kEntitiesCf;
using internal::kLinksCf;
using internal::kOutEdgesCf;
using internal::kSignalsCf;
using internal::ParseRecord;
using internal::ScopedSnapshot;
using internal::ToAbslStatus;
using internal::View;

constexpr int kDefaultChunkRecords = 1000;

}  // namespace

absl::Status RocksDbGraphStore::ExportSnapshot(
    const std::function<absl::Status(SnapshotChunk&)>& callback,
    int chunk_records) {
  if (chunk_records < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk_records: must be >= 0, got ", chunk_records));
  }
  if (chunk_records == 0) chunk_records = kDefaultChunkRecords;
  ScopedSnapshot snapshot(db_->db.get());
  if (options_.after_snapshot_for_testing) {
    options_.after_snapshot_for_testing();
  }
  rocksdb::ReadOptions read = snapshot.ReadOptions();
  read.total_order_seek = true;  // Whole column families, across prefixes.
  // A follower resumes at sequence + 1 (PublishedSequenceAt).
  ASSIGN_OR_RETURN(const int64_t sequence, PublishedSequenceAt(read));

  SnapshotChunk chunk;
  chunk.sequence = sequence;
  chunk.graph_id = graph_id_;
  int in_chunk = 0;
  bool sent = false;
  auto flush = [&]() -> absl::Status {
    absl::Status s = callback(chunk);
    chunk = SnapshotChunk();
    chunk.sequence = sequence;
    chunk.graph_id = graph_id_;
    in_chunk = 0;
    sent = true;
    return s;
  };
  auto scan = [&](Cf which, absl::string_view what, auto add) -> absl::Status {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(read, db_->cf(which)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      RETURN_IF_ERROR(add(View(it->key()), View(it->value()), what));
      if (++in_chunk == chunk_records) RETURN_IF_ERROR(flush());
    }
    return ToAbslStatus(it->status(), absl::StrCat("exporting ", what));
  };
  RETURN_IF_ERROR(scan(kEntitiesCf, "entity",
                       [&](absl::string_view key, absl::string_view value,
                           absl::string_view what) {
                         return ParseRecord(value, what, key,
                                            &chunk.entities.emplace_back());
                       }));
  RETURN_IF_ERROR(scan(kOutEdgesCf, "edge",
                       [&](absl::string_view key, absl::string_view value,
                           absl::string_view what) {
                         return ParseRecord(value, what, key,
                                            &chunk.edges.emplace_back());
                       }));
  RETURN_IF_ERROR(scan(kSignalsCf, "signal",
                       [&](absl::string_view key, absl::string_view value,
                           absl::string_view what) {
                         return ParseRecord(value, what, key,
                                            &chunk.signals.emplace_back());
                       }));
  // Links: the copy under entity_a only, so each once.
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(read, db_->cf(kLinksCf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(const bool primary, IsPrimaryLinkKey(View(it->key())));
      if (!primary) continue;
      RETURN_IF_ERROR(ParseRecord(View(it->value()), "link", View(it->key()),
                                  &chunk.links.emplace_back()));
      if (++in_chunk == chunk_records) RETURN_IF_ERROR(flush());
    }
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "exporting links"));
  }
  if (in_chunk > 0 || !sent) RETURN_IF_ERROR(flush());
  return absl::OkStatus();
}

}  // namespace georisk::storage
