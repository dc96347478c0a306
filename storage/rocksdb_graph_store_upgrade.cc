// File: storage/rocksdb_graph_store_upgrade.cc
//
// RocksDbGraphStore::UpgradeFromVersion1: Open's in-place upgrade of a
// schema-version-1 database to version 2 (docs/storage.md, "Schema version"):
// it verifies the version-1 edge keys and counts, re-keys the edges that carry
// a record_id and records the new version, in one synced batch.
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::Cf;
using internal::EdgeKeyParts;
using internal::EncodeChangeLogKey;
using internal::EncodeFixed64BE;
using internal::kCfNames;
using internal::kChangeLogCf;
using internal::kInEdgesCf;
using internal::kMetaCf;
using internal::kOutEdgesCf;
using internal::ParseRecord;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

}  // namespace

// Version 2 adds `00 | record_id` to the keys of edges that have a record id
// and keeps every other key as it was, so a version-1 database is read as it
// is once three things hold, checked here in one pass over both edge column
// families: every edge key decodes and names no record id, each stored
// edge's from, kind, to and product code are its key's, and each column
// family holds meta's edge_count keys. Version 1 keyed an edge that carried a
// record_id (the field existed before the key did) by its pair alone: such
// an edge is moved to its version-2 keys. Its change log then no longer
// replays to the stored graph (version 1 let a pair's records replace each
// other), so it is trimmed: followers re-read the graph with ExportSnapshot,
// as after any trim. The moves, the trim and the new version are one synced
// batch: an upgrade that fails part-way leaves a version-1 database.
absl::Status RocksDbGraphStore::UpgradeFromVersion1() {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  ASSIGN_OR_RETURN(const int64_t edge_count,
                   db_->ReadMeta(read, internal::kMetaEdgeCount, 0));
  ASSIGN_OR_RETURN(const int64_t last,
                   db_->ReadMeta(read, internal::kMetaLastSequence, 0));
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(
        "upgrading the database at ", options_.path,
        " from storage schema version 1 to ", kSchemaVersion, ": ", why));
  };
  rocksdb::WriteBatch batch;
  int64_t rekeyed = 0;
  for (Cf which : {kOutEdgesCf, kInEdgesCf}) {
    const bool out = which == kOutEdgesCf;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(read, db_->cf(which)));
    int64_t keys = 0;
    v1::Edge edge;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const absl::string_view key = View(it->key());
      absl::StatusOr<EdgeKeyParts> parts = out ? internal::DecodeOutEdgeKey(key)
                                               : internal::DecodeInEdgeKey(key);
      if (!parts.ok()) return corrupt(parts.status().message());
      if (!parts->record_id.empty()) {
        return corrupt(absl::StrCat("edge key \"", absl::CHexEscape(key),
                                    "\" has a record id"));
      }
      ++keys;
      edge.Clear();
      RETURN_IF_ERROR(ParseRecord(View(it->value()), "edge", key, &edge));
      EdgeKeyParts keyed = internal::PartsOf(edge);
      keyed.record_id.clear();
      if (!(keyed == *parts)) {
        return corrupt(absl::StrCat("the edge stored under \"",
                                    absl::CHexEscape(key),
                                    "\" is not the edge its key names"));
      }
      if (!out || edge.record_id().empty()) continue;
      keyed.record_id = edge.record_id();
      batch.Delete(db_->cf(kOutEdgesCf), it->key());
      batch.Delete(db_->cf(kInEdgesCf), internal::EncodeInEdgeKey(*parts));
      batch.Put(db_->cf(kOutEdgesCf), internal::EncodeOutEdgeKey(keyed),
                it->value());
      batch.Put(db_->cf(kInEdgesCf), internal::EncodeInEdgeKey(keyed),
                it->value());
      ++rekeyed;
    }
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading edges to upgrade"));
    if (keys != edge_count) {
      return corrupt(absl::StrCat(kCfNames[which], " holds ", keys,
                                  " keys but meta counts ", edge_count,
                                  " edges"));
    }
  }
  if (rekeyed > 0) {
    batch.DeleteRange(db_->cf(kChangeLogCf), EncodeChangeLogKey(0),
                      EncodeChangeLogKey(last + 1));
    batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaChangeLogStart),
              EncodeFixed64BE(last + 1));
  }
  batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaSchemaVersion),
            EncodeFixed64BE(kSchemaVersion));
  rocksdb::WriteOptions sync_write;
  sync_write.sync = true;
  return ToAbslStatus(db_->db->Write(sync_write, &batch),
                      "writing the schema upgrade");
}

}  // namespace georisk::storage
