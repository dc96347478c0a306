// File: storage/internal/column_families.h
//
// The column families of the graph store (docs/storage.md), in the order
// RocksDbGraphStore::Open() passes them to RocksDB, and their names. A Cf
// indexes the store's vector of column family handles.
//
// Example:
//
//   rocksdb::ColumnFamilyHandle* entities = cfs[kEntitiesCf];
//   LOG(INFO) << "reading " << kCfNames[kEntitiesCf];
//
// Thread safety: constants only.
#ifndef GEORISK_STORAGE_INTERNAL_COLUMN_FAMILIES_H_
#define GEORISK_STORAGE_INTERNAL_COLUMN_FAMILIES_H_

namespace georisk::storage::internal {

// Column families, in the order Open() passes them to RocksDB.
enum Cf : int {
  kDefaultCf = 0,
  kEntitiesCf,
  kOutEdgesCf,
  kInEdgesCf,
  kSignalsCf,
  kChangeLogCf,
  kMetaCf,
  kIdempotencyCf,
  // Derived from `entities`: built on open when absent (identifier_index.h).
  kIdentifiersCf,
  kLinksCf,
  // Partitioned stores: copies still to deliver to other shards
  // (docs/scale-out.md, "The outbox"). Created empty in older databases.
  kOutboxCf,
  kCfCount,
};

inline constexpr const char* kCfNames[kCfCount] = {
    "default", "entities",    "out_edges",   "in_edges", "signals", "changelog",
    "meta",    "idempotency", "identifiers", "links",    "outbox",
};

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_COLUMN_FAMILIES_H_
