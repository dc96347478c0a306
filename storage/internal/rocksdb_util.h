// File: storage/internal/rocksdb_util.h
//
// The only place where RocksDB's types meet georisk's:
//  - ToAbslStatus() converts a rocksdb::Status to an absl::Status, once, for
//    all of storage/.
//  - NewEdgePrefixTransform() is the prefix extractor of the edge column
//    families: the key up to and including the 0x00 that ends the first id
//    (partition | id | 0x00), so prefix bloom filters and prefix seeks cover
//    exactly the edges of one entity.
//
// Example:
//
//   rocksdb::Status s = db->Put(write_options, cf, key, value);
//   if (!s.ok()) return ToAbslStatus(s, "writing the batch");
//
//   cf_options.prefix_extractor.reset(NewEdgePrefixTransform());
#ifndef GEORISK_STORAGE_INTERNAL_ROCKSDB_UTIL_H_
#define GEORISK_STORAGE_INTERNAL_ROCKSDB_UTIL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/status.h"

namespace georisk::storage::internal {

// The bytes of a RocksDB slice, and back; neither copies.
inline absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}
inline rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

// Maps RocksDB's codes to the closest absl code, with `context` ("reading
// entity company/x") before RocksDB's message:
//   NotFound -> NOT_FOUND, Corruption -> DATA_LOSS, InvalidArgument ->
//   INVALID_ARGUMENT, NotSupported -> UNIMPLEMENTED, IOError with no space ->
//   RESOURCE_EXHAUSTED, Busy/TimedOut/TryAgain/ShutdownInProgress ->
//   UNAVAILABLE, Aborted -> ABORTED, anything else (IOError...) -> INTERNAL.
absl::Status ToAbslStatus(const rocksdb::Status& status,
                          absl::string_view context);

// A new prefix extractor returning partition | id | 0x00 (see
// EdgePrefixLength in keys.h). Keys without a 0x00 after the partition are not
// in its domain. Its name, "georisk.EdgePrefix.v1", is stored in every SST file
// and must change if the layout ever does. The caller owns the result.
const rocksdb::SliceTransform* NewEdgePrefixTransform();

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_ROCKSDB_UTIL_H_
