// File: storage/rocksdb_graph_store_recover.cc
//
// What Open does to a database before the store takes its first call:
// Recover() checks the schema version (writing it into a new database,
// refusing an unknown one, upgrading version 1: rocksdb_graph_store_upgrade.cc)
// and reads the graph id, the last sequence and the counts from meta, checked
// against the change log; BuildIdentifierIndex() (re)builds the identifier
// index from `entities` when meta says it is missing or of other rules.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"
#include "storage/graph_store.h"
#include "storage/internal/column_families.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/keys.h"
#include "storage/internal/record_codec.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::Cf;
using internal::DecodeMetaValue;
using internal::EncodeFixed64BE;
using internal::kChangeLogCf;
using internal::kEntitiesCf;
using internal::kIdentifiersCf;
using internal::kLinksCf;
using internal::kMetaCf;
using internal::kOutEdgesCf;
using internal::kSignalsCf;
using internal::ParseRecord;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

// Entities per write while the identifier index is built on open.
constexpr int kIndexBuildBatchEntities = 10000;

}  // namespace

absl::Status RocksDbGraphStore::RecoverGraphId() {
  rocksdb::PinnableSlice stored;
  rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), db_->cf(kMetaCf),
                                   ToSlice(internal::kMetaGraphId), &stored);
  if (s.ok()) {
    if (!IsGraphId(View(stored))) {
      return absl::DataLossError(absl::StrCat(
          "meta key graph_id: expected 32 lowercase hex characters, got \"",
          absl::CHexEscape(View(stored)), "\""));
    }
    graph_id_ = std::string(View(stored));
    return absl::OkStatus();
  }
  if (!s.IsNotFound()) return ToAbslStatus(s, "reading the graph id");
  // A database created before graph ids: it gets one now, once.
  graph_id_ = MintGraphId();
  rocksdb::WriteOptions sync_write;
  sync_write.sync = true;
  s = db_->db->Put(sync_write, db_->cf(kMetaCf),
                   ToSlice(internal::kMetaGraphId), graph_id_);
  return ToAbslStatus(s, "writing the graph id");
}

absl::Status RocksDbGraphStore::Recover() {
  const rocksdb::ReadOptions read;
  rocksdb::PinnableSlice version;
  rocksdb::Status s = db_->db->Get(
      read, db_->cf(kMetaCf), ToSlice(internal::kMetaSchemaVersion), &version);
  if (s.IsNotFound()) {
    // A new database, or one that lost its meta: tell them apart by data.
    for (Cf which :
         {kEntitiesCf, kOutEdgesCf, kSignalsCf, kLinksCf, kChangeLogCf}) {
      rocksdb::ReadOptions scan;
      scan.total_order_seek = true;
      std::unique_ptr<rocksdb::Iterator> it(
          db_->db->NewIterator(scan, db_->cf(which)));
      it->SeekToFirst();
      if (it->Valid()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the database at ", options_.path,
            " holds data but no schema version; refusing to open it"));
      }
    }
    // A new database: its schema version and its identity, in one write.
    graph_id_ = MintGraphId();
    rocksdb::WriteBatch batch;
    batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaSchemaVersion),
              EncodeFixed64BE(kSchemaVersion));
    batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaGraphId), graph_id_);
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    s = db_->db->Write(sync_write, &batch);
    RETURN_IF_ERROR(
        ToAbslStatus(s, "writing the schema version and the graph id"));
  } else {
    RETURN_IF_ERROR(ToAbslStatus(s, "reading the schema version"));
    ASSIGN_OR_RETURN(
        const int64_t found,
        DecodeMetaValue(internal::kMetaSchemaVersion, View(version)));
    if (found == 1) {
      RETURN_IF_ERROR(UpgradeFromVersion1());
    } else if (found != static_cast<int64_t>(kSchemaVersion)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database at ", options_.path, " has storage schema version ",
          found, "; this binary reads versions 1 (upgraded on open) and ",
          kSchemaVersion, " (see docs/storage.md, \"Schema version\")"));
    }
  }
  if (graph_id_.empty()) RETURN_IF_ERROR(RecoverGraphId());

  ASSIGN_OR_RETURN(const int64_t last,
                   db_->ReadMeta(read, internal::kMetaLastSequence, 0));
  ASSIGN_OR_RETURN(int64_t start,
                   db_->ReadMeta(read, internal::kMetaChangeLogStart, 1));
  ASSIGN_OR_RETURN(const int64_t entities,
                   db_->ReadMeta(read, internal::kMetaEntityCount, 0));
  ASSIGN_OR_RETURN(const int64_t edges,
                   db_->ReadMeta(read, internal::kMetaEdgeCount, 0));
  ASSIGN_OR_RETURN(const int64_t signals,
                   db_->ReadMeta(read, internal::kMetaSignalCount, 0));
  ASSIGN_OR_RETURN(const int64_t links,
                   db_->ReadMeta(read, internal::kMetaLinkCount, 0));

  absl::Time last_commit_time = absl::InfinitePast();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(read, db_->cf(kChangeLogCf)));
  it->SeekToLast();
  if (it->Valid()) {
    absl::StatusOr<uint64_t> logged =
        internal::DecodeChangeLogKey(View(it->key()));
    if (!logged.ok()) return absl::DataLossError(logged.status().message());
    if (static_cast<int64_t>(*logged) != last) {
      return absl::DataLossError(
          absl::StrCat("the change log ends at sequence ", *logged,
                       " but meta says the last sequence is ", last));
    }
    ASSIGN_OR_RETURN(last_commit_time,
                     internal::PeekChangeCommitTime(View(it->value())));
  } else {
    start = std::max(start, last + 1);
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the change log"));

  {
    absl::MutexLock lock(&commit_mu_);
    last_commit_time_ = last_commit_time;
  }
  absl::MutexLock lock(&state_mu_);
  last_sequence_ = last;
  changelog_start_ = start;
  entity_count_ = entities;
  edge_count_ = edges;
  signal_count_ = signals;
  link_count_ = links;
  return absl::OkStatus();
}

// The index is derived from `entities` alone, so it is built (or rebuilt)
// from them whatever the schema version: when its meta key is absent (a
// database written before it, or a build that did not finish) or names other
// rules, or when the column family itself was missing. No commit runs yet.
absl::Status RocksDbGraphStore::BuildIdentifierIndex(
    bool column_family_was_missing) {
  rocksdb::PinnableSlice stored;
  rocksdb::Status s =
      db_->db->Get(rocksdb::ReadOptions(), db_->cf(kMetaCf),
                   ToSlice(internal::kMetaIdentifierIndex), &stored);
  if (!s.IsNotFound()) {
    RETURN_IF_ERROR(ToAbslStatus(s, "reading meta identifier_index"));
    ASSIGN_OR_RETURN(
        const int64_t version,
        DecodeMetaValue(internal::kMetaIdentifierIndex, View(stored)));
    if (version == static_cast<int64_t>(internal::kIdentifierIndexVersion) &&
        !column_family_was_missing) {
      return absl::OkStatus();
    }
  }
  rocksdb::ColumnFamilyHandle* index = db_->cf(kIdentifiersCf);
  rocksdb::WriteBatch batch;
  // Whatever a build that did not finish left. Index keys start with a
  // scheme name, [a-z0-9]: all of them sort before ff.
  batch.DeleteRange(index, rocksdb::Slice(), rocksdb::Slice("\xff", 1));
  batch.Delete(db_->cf(kMetaCf), ToSlice(internal::kMetaIdentifierIndex));
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(read, db_->cf(kEntitiesCf)));
  v1::Entity entity;
  int in_batch = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    entity.Clear();
    RETURN_IF_ERROR(
        ParseRecord(View(it->value()), "entity", View(it->key()), &entity));
    for (const std::string& key : internal::IdentifierKeysOf(entity)) {
      batch.Put(index, key, rocksdb::Slice());
    }
    if (++in_batch == kIndexBuildBatchEntities) {
      RETURN_IF_ERROR(
          ToAbslStatus(db_->db->Write(rocksdb::WriteOptions(), &batch),
                       "building the identifier index"));
      batch.Clear();
      in_batch = 0;
    }
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading entities to index"));
  // Last, synced: the index is complete once this key says so.
  batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaIdentifierIndex),
            EncodeFixed64BE(internal::kIdentifierIndexVersion));
  rocksdb::WriteOptions sync_write;
  sync_write.sync = true;
  return ToAbslStatus(db_->db->Write(sync_write, &batch),
                      "writing the identifier index");
}

}  // namespace georisk::storage
