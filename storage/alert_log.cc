#include "storage/alert_log.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "domain/paging.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/info_log.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"

namespace georisk::storage {
namespace {

using internal::ToAbslStatus;

std::string SequenceKey(int64_t sequence) {
  return internal::EncodeChangeLogKey(static_cast<uint64_t>(sequence));
}

int64_t DecodeSequenceKey(const rocksdb::Slice& key) {
  absl::StatusOr<uint64_t> v =
      internal::DecodeChangeLogKey(absl::string_view(key.data(), key.size()));
  return v.ok() ? static_cast<int64_t>(*v) : 0;
}

// Page tokens: web-safe base64 of "a" + the sequence to continue below.
std::string EncodeToken(int64_t next_below) {
  return absl::WebSafeBase64Escape(absl::StrCat("a", next_below));
}

absl::StatusOr<int64_t> DecodeToken(const std::string& token) {
  std::string raw;
  int64_t v = 0;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 2 ||
      raw[0] != 'a' || !absl::SimpleAtoi(raw.substr(1), &v) || v < 1) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  return v;
}

// Every value of `family`, parsed.
absl::StatusOr<std::vector<v1::Alert>> ReadFamily(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
    absl::string_view what) {
  std::vector<v1::Alert> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!out.emplace_back().ParseFromArray(it->value().data(),
                                           it->value().size())) {
      return absl::DataLossError(
          absl::StrCat("alert log: unreadable ", what, " alert"));
    }
  }
  if (!it->status().ok()) {
    return ToAbslStatus(it->status(), absl::StrCat("reading ", what));
  }
  return out;
}

}  // namespace

int64_t AlertSequence(int64_t head, int64_t feed_position) {
  if (feed_position <= 0 ||
      feed_position >
          std::numeric_limits<int64_t>::max() / kAlertRecordsPerPosition) {
    return head + 1;
  }
  return std::max(head + 1, feed_position * kAlertRecordsPerPosition);
}

bool AlertMatches(const v1::Alert& alert, const v1::AlertFilter& filter) {
  if (filter.state() != v1::Alert::STATE_UNSPECIFIED &&
      alert.state() != filter.state()) {
    return false;
  }
  if (!filter.entity_id().empty() && alert.entity_id() != filter.entity_id()) {
    return false;
  }
  if (!filter.rule_name().empty() && alert.rule_name() != filter.rule_name()) {
    return false;
  }
  if (filter.min_severity() != v1::SEVERITY_UNSPECIFIED &&
      alert.severity() < filter.min_severity()) {
    return false;
  }
  if (filter.has_since()) {
    const auto& t = alert.update_time();
    const auto& s = filter.since();
    if (t.seconds() < s.seconds() ||
        (t.seconds() == s.seconds() && t.nanos() < s.nanos())) {
      return false;
    }
  }
  return true;
}

struct AlertLog::Db {
  // Declared first, so destroyed last: the database uses it until closed.
  std::unique_ptr<rocksdb::Env> env;  // Null: the default Env.
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  rocksdb::ColumnFamilyHandle* active = nullptr;
  rocksdb::ColumnFamilyHandle* held = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~Db() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

absl::StatusOr<std::unique_ptr<AlertLog::Db>> AlertLog::OpenDb(
    const AlertLogOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // RocksDB's info log, which a full disk cannot turn into a crash
  // (storage/internal/info_log.h).
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> info_log =
      internal::OpenInfoLog(options.path, rocksdb::InfoLogLevel::INFO_LEVEL);
  if (!info_log.ok()) return info_log.status();
  db_options.info_log = *std::move(info_log);
  rocksdb::ColumnFamilyOptions cf;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf},
      {"log", cf},
      {"active", cf},
      {"held", cf}};
  auto db = std::make_unique<Db>();
  if (options.file_system_for_testing != nullptr) {
    db->env = rocksdb::NewCompositeEnv(options.file_system_for_testing);
    db_options.env = db->env.get();
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, cfs, &db->handles, &raw);
  if (!s.ok()) {
    return ToAbslStatus(s, absl::StrCat("opening alert log ", options.path));
  }
  db->db.reset(raw);
  db->log = db->handles[1];
  db->active = db->handles[2];
  db->held = db->handles[3];
  return db;
}

absl::StatusOr<std::unique_ptr<AlertLog>> AlertLog::Open(
    const AlertLogOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: must not be empty");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenDb(options));
  int64_t head = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db->db->NewIterator(rocksdb::ReadOptions(), db->log));
  it->SeekToLast();
  if (it->Valid()) head = DecodeSequenceKey(it->key());
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading head");
  it.reset();
  return std::unique_ptr<AlertLog>(new AlertLog(options, std::move(db), head));
}

absl::Status AlertLog::Recover() {
  // Resume() clears RocksDB's error once its own recovery has run (Busy
  // while it still waits for space). It does not replace the WAL file whose
  // write failed, and a write into that file aborts the process (an
  // assertion in Debian's librocksdb) or fails: so the database is closed
  // and opened again, which starts a new WAL and replays the old one.
  rocksdb::Status resumed;
  {
    absl::ReaderMutexLock lock(&db_mu_);
    if (db_ != nullptr) resumed = db_->db->Resume();
  }
  if (!resumed.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "alert log writes are stopped after a failed write (",
        resumed.ToString(), "); nothing was written: retry later"));
  }
  absl::WriterMutexLock lock(&db_mu_);
  db_.reset();
  absl::StatusOr<std::unique_ptr<Db>> reopened = OpenDb(options_);
  if (!reopened.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "alert log writes are stopped after a failed write and it cannot be "
        "opened again yet (",
        reopened.status().ToString(), "); nothing was written: retry later"));
  }
  db_ = *std::move(reopened);
  return absl::OkStatus();
}

absl::Status AlertLog::Unavailable() {
  return absl::UnavailableError(
      "alert log: closed after a failed write and not yet opened again (a "
      "full disk?): retry later");
}

AlertLog::AlertLog(AlertLogOptions options, std::unique_ptr<Db> db,
                   int64_t head)
    : options_(std::move(options)), db_(std::move(db)), head_(head) {}

AlertLog::~AlertLog() = default;

int64_t AlertLog::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

int64_t AlertLog::WaitForSequence(int64_t sequence, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return head_ >= sequence;
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  return head_;
}

absl::StatusOr<std::vector<v1::Alert>> AlertLog::Append(
    std::vector<v1::Alert> records, const std::vector<v1::Alert>& held) {
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].alert_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("records[", i, "].alert_id: required"));
    }
    if (records[i].state() != v1::Alert::FIRING &&
        records[i].state() != v1::Alert::RESOLVED) {
      return absl::InvalidArgumentError(
          absl::StrCat("records[", i, "].state: must be FIRING or RESOLVED"));
    }
  }
  for (size_t i = 0; i < held.size(); ++i) {
    if (held[i].alert_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("held[", i, "].alert_id: required"));
    }
    if (held[i].state() != v1::Alert::FIRING) {
      return absl::InvalidArgumentError(
          absl::StrCat("held[", i, "].state: must be FIRING"));
    }
  }
  if (records.empty() && held.empty()) return records;
  absl::MutexLock append_lock(&append_mu_);
  if (writes_stopped_) {
    RETURN_IF_ERROR(Recover());
    writes_stopped_ = false;
  }
  absl::ReaderMutexLock db_lock(&db_mu_);
  int64_t last = head();
  rocksdb::WriteBatch batch;
  for (v1::Alert& record : records) {
    last = AlertSequence(last, record.feed_position());
    record.set_sequence(last);
    std::string bytes = record.SerializeAsString();
    batch.Put(db_->log, SequenceKey(record.sequence()), bytes);
    if (record.state() == v1::Alert::FIRING) {
      batch.Put(db_->active, record.alert_id(), bytes);
    } else {
      batch.Delete(db_->active, record.alert_id());
    }
    batch.Delete(db_->held, record.alert_id());
  }
  for (const v1::Alert& h : held) {
    v1::Alert stored = h;
    stored.clear_sequence();
    batch.Put(db_->held, stored.alert_id(), stored.SerializeAsString());
  }
  rocksdb::WriteOptions write;
  write.sync = options_.sync && !records.empty();
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) {
    if (s.IsIOError()) writes_stopped_ = true;
    return ToAbslStatus(s, "appending alerts");
  }
  absl::MutexLock lock(&mu_);
  head_ = last;
  return records;
}

absl::StatusOr<std::vector<v1::Alert>> AlertLog::Read(int64_t from,
                                                      int max) const {
  if (from < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_sequence: must be >= 1, got ", from));
  }
  std::vector<v1::Alert> out;
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (db_ == nullptr) return Unavailable();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions(), db_->log));
  for (it->Seek(SequenceKey(from));
       it->Valid() && static_cast<int>(out.size()) < max; it->Next()) {
    if (!out.emplace_back().ParseFromArray(it->value().data(),
                                           it->value().size())) {
      return absl::DataLossError(absl::StrCat("alert log: unreadable record ",
                                              DecodeSequenceKey(it->key())));
    }
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "reading alerts");
  return out;
}

absl::StatusOr<AlertPage> AlertLog::List(const v1::AlertFilter& filter,
                                         int page_size,
                                         const std::string& page_token) const {
  ASSIGN_OR_RETURN(page_size, domain::PageSize(page_size));
  int64_t below = head() + 1;
  if (!page_token.empty()) {
    absl::StatusOr<int64_t> decoded = DecodeToken(page_token);
    if (!decoded.ok()) return decoded.status();
    below = *decoded;
  }
  AlertPage page;
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (db_ == nullptr) return Unavailable();
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions(), db_->log));
  it->SeekForPrev(SequenceKey(below - 1));
  for (; it->Valid(); it->Prev()) {
    v1::Alert alert;
    if (!alert.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("alert log: unreadable record");
    }
    if (!AlertMatches(alert, filter)) continue;
    if (static_cast<int>(page.alerts.size()) == page_size) {
      page.next_page_token = EncodeToken(alert.sequence() + 1);
      break;
    }
    page.alerts.push_back(std::move(alert));
  }
  if (!it->status().ok()) return ToAbslStatus(it->status(), "listing alerts");
  return page;
}

absl::StatusOr<std::vector<v1::Alert>> AlertLog::Active() const {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (db_ == nullptr) return Unavailable();
  return ReadFamily(db_->db.get(), db_->active, "active");
}

absl::StatusOr<std::vector<v1::Alert>> AlertLog::Held() const {
  absl::ReaderMutexLock db_lock(&db_mu_);
  if (db_ == nullptr) return Unavailable();
  return ReadFamily(db_->db.get(), db_->held, "held");
}

}  // namespace georisk::storage
