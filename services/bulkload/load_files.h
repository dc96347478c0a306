// File: services/bulkload/load_files.h
//
// LoadFiles: the input side of georisk-bulkload. Reads files in the formats
// `georiskctl import` reads (formats/parsers.h: georisk JSON Lines and CSV,
// FollowTheMoney, the Consolidated Screening List), hands their mutations in
// file order to a storage::BulkLoader on an empty store, and reports every
// record that was not loaded with its file and line: those the parser
// rejected and those the store's rules rejected (the same rules as Apply).
// A FollowTheMoney file is read twice, nodes first, as the importer does,
// since its Ownerships may come before the companies they link.
//
// Example:
//
//   ASSIGN_OR_RETURN(LoadReport report,
//                    LoadFiles(store.get(), {"entities.jsonl", "edges.jsonl"},
//                              {.work_dir = "/var/lib/georisk/bulkload"}));
//   for (const FileRejection& r : report.rejections) Print(r);
//
// Thread-compatible: one call at a time per store.
#ifndef GEORISK_SERVICES_BULKLOAD_LOAD_FILES_H_
#define GEORISK_SERVICES_BULKLOAD_LOAD_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/bulk_load.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::bulkload {

struct LoadFilesOptions {
  // Where the table files are built (storage::BulkLoadOptions::work_dir).
  // Required; on the database's file system, so that ingestion links them.
  std::string work_dir;
  // The format of every file, by formats::FormatName ("jsonl", "ftm"...);
  // "auto" (the default) detects each file's from its name and first bytes.
  std::string format = "auto";
  // Threads of the loader (storage::BulkLoadOptions::threads). Default: 2.
  int threads = 2;
  // When the load started: every loaded record keeps the origin
  // `bulkload:<first file's base name>[ and N more] started <this, UTC>`
  // (domain::BulkLoadOrigin; storage::BulkLoadOptions::origin), which
  // explanations show. Default (InfinitePast): the time LoadFiles is called.
  absl::Time started = absl::InfinitePast();
};

// A record not loaded.
struct FileRejection {
  std::string file;
  int64_t line = 0;
  // The input's field (parser) or the mutation's field (store) at fault.
  std::string field;
  std::string reason;
};

struct LoadReport {
  storage::BulkLoadResult result;
  // Records the parsers read, and the mutations they became.
  int64_t records = 0;
  int64_t mutations = 0;
  // Parser rejections, then the store's, each in file order.
  std::vector<FileRejection> rejections;
};

// Loads `files` into `store`, which must never have committed. Errors:
// NOT_FOUND for a file that cannot be opened, INVALID_ARGUMENT for a format
// that is not known or cannot be detected, DATA_LOSS for a file that fails
// to read part-way, and the errors of storage::BulkLoader (nothing is
// loaded then).
absl::StatusOr<LoadReport> LoadFiles(storage::RocksDbGraphStore* store,
                                     const std::vector<std::string>& files,
                                     const LoadFilesOptions& options);

}  // namespace georisk::bulkload

#endif  // GEORISK_SERVICES_BULKLOAD_LOAD_FILES_H_
