// File: storage/alert_log.h
//
// AlertLog: the scorer's durable log of alert records (georisk.v1.Alert),
// numbered in increasing order from the feed position that caused each one
// (AlertSequence below), so that two scorer replicas fed the same graph
// number the same record alike. Each record is a state change of one alert (it
// fired, was updated, or resolved). Records are written — and fsync'ed by
// default — before anyone is told about them, so a watcher that resumes from
// the last sequence it saw misses nothing and sees nothing twice, across
// restarts. Alongside the log, in the same atomic write, the log keeps the last
// record of every alert still firing, so the rule state (hysteresis) survives a
// restart, and the update each alert holds back (coalescing) until its
// window ends, so a held update survives a restart too.
//
//   auto log = AlertLog::Open({.path = dir + "/alerts"});
//   absl::StatusOr<std::vector<v1::Alert>> written = (*log)->Append(records);
//   std::vector<v1::Alert> page = (*log)->Read(from, 100).value();
//   (*log)->Append({}, {held_update});    // an update held, not announced
//
// Layout (RocksDB): column family `log` keyed by the 8-byte big-endian
// sequence, valued by the serialized Alert (with its sequence set); `active`
// keyed by alert_id, valued by the alert's last FIRING record; `held` keyed
// by alert_id, valued by the FIRING record held for it (sequence 0, not yet
// in the log). docs/alerts.md describes the three.
//
// Thread safety: all methods are thread-safe; appends are serialised.
#ifndef GEORISK_STORAGE_ALERT_LOG_H_
#define GEORISK_STORAGE_ALERT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/alert.pb.h"
#include "georisk/v1/alerts.pb.h"
#include "rocksdb/file_system.h"

namespace georisk::storage {

// Records one feed position may number before its numbering runs into the
// next position's: 2^20.
inline constexpr int64_t kAlertRecordsPerPosition = int64_t{1} << 20;

// The sequence of a record made at `feed_position` and appended after
// `head`: feed_position * kAlertRecordsPerPosition when that is above the
// head (the position's first record), else head + 1 (its later records;
// and every record of a log whose head is past the position: a log numbered
// before feed positions, a graph replaced by one with lower sequences, a
// position of more than 2^20 records). A function of the log's history
// only: replicas whose logs hold the same records number the next alike.
// feed_position < 0 counts as 0; one too large to multiply gives head + 1.
int64_t AlertSequence(int64_t head, int64_t feed_position);

struct AlertLogOptions {
  // Required. The database directory; created when missing.
  std::string path;
  // fsync each append. Default true: an alert announced must survive a
  // power loss too.
  bool sync = true;
  // Testing only: the file system RocksDB writes through
  // (storage/testing/full_disk_file_system.h). Default (null): the
  // operating system's.
  std::shared_ptr<rocksdb::FileSystem> file_system_for_testing = nullptr;
};

struct AlertPage {
  // Newest first.
  std::vector<v1::Alert> alerts;
  // Empty on the last page.
  std::string next_page_token;
};

class AlertLog {
 public:
  // Errors: INVALID_ARGUMENT (empty path), UNAVAILABLE (locked by another
  // process), INTERNAL/DATA_LOSS.
  static absl::StatusOr<std::unique_ptr<AlertLog>> Open(
      const AlertLogOptions& options);
  ~AlertLog();
  AlertLog(const AlertLog&) = delete;
  AlertLog& operator=(const AlertLog&) = delete;

  // Appends the records in order, setting each one's `sequence` (by
  // AlertSequence from its `feed_position` and the head before it: a record
  // without a feed position is numbered head + 1), and updates
  // the set of firing alerts (FIRING: stored as the alert's last record;
  // RESOLVED: removed) in the same atomic write. A record also ends what was
  // held for its alert; then each of `held` (FIRING records of alerts that
  // fire, without sequence) is stored as its alert's held update, replacing
  // the previous one. Returns the records as written. Records and held
  // updates are one atomic write, fsync'ed when there are records and
  // `sync` is set; a write of held updates alone is not fsync'ed (it
  // survives a crash of the process, not necessarily of the machine).
  // Errors: INVALID_ARGUMENT (a record without alert_id or state, a held
  // update without alert_id or not FIRING); RESOURCE_EXHAUSTED or INTERNAL
  // (the write failed: a full disk, an I/O error), then UNAVAILABLE until
  // RocksDB has recovered from it. Nothing is written on any error.
  absl::StatusOr<std::vector<v1::Alert>> Append(
      std::vector<v1::Alert> records, const std::vector<v1::Alert>& held = {});

  // The last sequence written (0 when the log is empty).
  int64_t head() const;
  // Blocks until head() >= sequence or the deadline; returns head().
  int64_t WaitForSequence(int64_t sequence, absl::Time deadline) const;

  // Up to `max` records from `from` (>= 1) on, in order; empty when `from`
  // is past the head. INVALID_ARGUMENT for from < 1.
  absl::StatusOr<std::vector<v1::Alert>> Read(int64_t from, int max) const;

  // Records matching `filter`, newest first, `page_size` at most (0: 100,
  // above 1,000: 1,000). The token is opaque. INVALID_ARGUMENT for a bad
  // token or negative page size.
  absl::StatusOr<AlertPage> List(const v1::AlertFilter& filter, int page_size,
                                 const std::string& page_token) const;

  // The last record of every alert still firing.
  absl::StatusOr<std::vector<v1::Alert>> Active() const;
  // The update held for each alert that holds one (see Append), by alert_id.
  absl::StatusOr<std::vector<v1::Alert>> Held() const;

 private:
  struct Db;
  AlertLog(AlertLogOptions options, std::unique_ptr<Db> db, int64_t head);
  static absl::StatusOr<std::unique_ptr<Db>> OpenDb(
      const AlertLogOptions& options);
  // After a failed write: waits for RocksDB's own recovery (UNAVAILABLE
  // while it runs), then closes and reopens the database. Null db_ and
  // UNAVAILABLE when the reopen fails; the next call tries again.
  absl::Status Recover() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  static absl::Status Unavailable();

  const AlertLogOptions options_;
  absl::Mutex append_mu_;  // Serialises Append().
  // Readers and Append hold it shared; Recover() exclusive to replace db_.
  mutable absl::Mutex db_mu_ ABSL_ACQUIRED_AFTER(append_mu_);
  std::unique_ptr<Db> db_ ABSL_GUARDED_BY(db_mu_);
  // A write failed with an I/O error (a full disk): the next Append first
  // recovers (Recover()), and writes nothing until it has.
  bool writes_stopped_ ABSL_GUARDED_BY(append_mu_) = false;
  mutable absl::Mutex mu_;
  int64_t head_ ABSL_GUARDED_BY(mu_);
};

// Whether `alert` passes `filter` (exposed for the service and tests).
bool AlertMatches(const v1::Alert& alert, const v1::AlertFilter& filter);

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_ALERT_LOG_H_
