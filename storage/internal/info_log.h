// File: storage/internal/info_log.h
//
// RocksDB's info log (the text file LOG in the database directory) for every
// database of storage/, written so that a full disk cannot crash the
// process: a line that cannot be written (ENOSPC, EIO) is dropped and
// counted, and the next line is tried again.
//
// Why not RocksDB's own: its file logger ignores its write errors, and
// Debian's librocksdb is built with assertions on, so once a write to LOG
// failed (no space left), the next line logged trips an assertion in
// WritableFileWriter and aborts the process ("Assertion
// `sync_without_flush_called_' failed"). A full disk crashed graphstore
// where it should only have stopped its writes.
//
// As RocksDB does, opening renames the LOG of the previous run to
// LOG.old.<microseconds since the epoch>; the newest kKeptOldInfoLogs of
// those are kept.
//
//   absl::StatusOr<std::shared_ptr<rocksdb::Logger>> log =
//       OpenInfoLog(options.path, rocksdb::InfoLogLevel::INFO_LEVEL);
//   if (!log.ok()) return log.status();
//   db_options.info_log = *log;
#ifndef GEORISK_STORAGE_INTERNAL_INFO_LOG_H_
#define GEORISK_STORAGE_INTERNAL_INFO_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/env.h"

namespace georisk::storage::internal {

inline constexpr int kKeptOldInfoLogs = 10;

// A logger appending to `file` (created if missing), one write(2) per line.
// Thread-safe. Errors: the file cannot be opened (INTERNAL, with errno).
absl::StatusOr<std::shared_ptr<rocksdb::Logger>> NewInfoLog(
    const std::string& file, rocksdb::InfoLogLevel level);

// Creates `db_dir` if missing, rotates its LOG as described above and returns
// NewInfoLog(db_dir + "/LOG").
absl::StatusOr<std::shared_ptr<rocksdb::Logger>> OpenInfoLog(
    const std::string& db_dir, rocksdb::InfoLogLevel level);

// Lines `logger` (from NewInfoLog) could not write, so far.
int64_t DroppedInfoLogLines(const rocksdb::Logger& logger);

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_INFO_LOG_H_
