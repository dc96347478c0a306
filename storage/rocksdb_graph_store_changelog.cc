// File: storage/rocksdb_graph_store_changelog.cc
//
// The change log of RocksDbGraphStore, the feed followers read: ReadChanges
// (bounded by count and bytes, checked for gaps), WaitForSequence, and
// retention (TrimChangeLog by count and age, and the background TrimLoop).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"
#include "storage/internal/record_codec.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::EncodeChangeLogKey;
using internal::EncodeFixed64BE;
using internal::kChangeLogCf;
using internal::kMetaCf;
using internal::ParseRecord;
using internal::ScopedSnapshot;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

constexpr int kDefaultMaxChanges = 1000;

constexpr int64_t kDefaultMaxChangeBytes = int64_t{4} << 20;

}  // namespace

absl::StatusOr<std::vector<v1::Change>> RocksDbGraphStore::ReadChanges(
    int64_t from_sequence, int max_changes, int64_t max_bytes) {
  if (from_sequence < 0 || max_changes < 0 || max_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from_sequence, max_changes and max_bytes must be >= 0, got ",
        from_sequence, ", ", max_changes, ", ", max_bytes));
  }
  if (max_changes == 0) max_changes = kDefaultMaxChanges;
  if (max_bytes == 0) max_bytes = kDefaultMaxChangeBytes;

  ScopedSnapshot snapshot(db_->db.get());
  const rocksdb::ReadOptions read = snapshot.ReadOptions();
  ASSIGN_OR_RETURN(const int64_t last,
                   db_->ReadMeta(read, internal::kMetaLastSequence, 0));
  ASSIGN_OR_RETURN(const int64_t start,
                   db_->ReadMeta(read, internal::kMetaChangeLogStart, 1));
  std::vector<v1::Change> changes;
  const int64_t first = from_sequence == 0 ? start : from_sequence;
  if (first > last) return changes;
  if (first < start) {
    return absl::OutOfRangeError(absl::StrCat(
        "sequence ", from_sequence,
        " is no longer in the change log; the oldest retained is ",
        start <= last ? start : last + 1,
        ": re-read the graph with ExportSnapshot and resume from its "
        "sequence + 1"));
  }
  const std::string upper = EncodeChangeLogKey(last + 1);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options = read;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(options, db_->cf(kChangeLogCf)));
  int64_t expected = first;
  int64_t bytes = 0;
  for (it->Seek(EncodeChangeLogKey(first)); it->Valid(); it->Next()) {
    absl::StatusOr<uint64_t> sequence =
        internal::DecodeChangeLogKey(View(it->key()));
    if (!sequence.ok()) return absl::DataLossError(sequence.status().message());
    if (static_cast<int64_t>(*sequence) != expected) {
      return absl::DataLossError(
          absl::StrCat("the change log skips from sequence ", expected - 1,
                       " to ", *sequence));
    }
    bytes += static_cast<int64_t>(it->value().size());
    if (!changes.empty() && bytes > max_bytes) break;
    v1::Change& change = changes.emplace_back();
    RETURN_IF_ERROR(
        ParseRecord(View(it->value()), "change", View(it->key()), &change));
    ++expected;
    if (changes.size() == static_cast<size_t>(max_changes)) break;
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the change log"));
  if (changes.empty()) {
    return absl::DataLossError(
        absl::StrCat("change ", first, " is missing from the change log"));
  }
  return changes;
}

int64_t RocksDbGraphStore::WaitForSequence(int64_t sequence,
                                           absl::Time deadline) {
  absl::MutexLock lock(&state_mu_);
  while (last_sequence_ < sequence && !closing_) {
    if (sequence_cv_.WaitWithDeadline(&state_mu_, deadline)) break;
  }
  return last_sequence_;
}

absl::StatusOr<int64_t> RocksDbGraphStore::TrimChangeLog(absl::Time now) {
  absl::MutexLock trim_lock(&trim_mu_);
  int64_t start;
  int64_t last;
  {
    absl::MutexLock lock(&state_mu_);
    start = changelog_start_;
    last = last_sequence_;
  }
  int64_t new_start = start;
  if (options_.changelog_retention_count > 0 &&
      last - new_start + 1 > options_.changelog_retention_count) {
    new_start = last - options_.changelog_retention_count + 1;
  }
  if (options_.changelog_retention_age > absl::ZeroDuration()) {
    const absl::Time cutoff = now - options_.changelog_retention_age;
    // Changes up to `last` are immutable: no snapshot needed.
    const std::string upper = EncodeChangeLogKey(last + 1);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(read, db_->cf(kChangeLogCf)));
    for (it->Seek(EncodeChangeLogKey(new_start)); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(const absl::Time committed,
                       internal::PeekChangeCommitTime(View(it->value())));
      if (committed >= cutoff) break;
      absl::StatusOr<uint64_t> sequence =
          internal::DecodeChangeLogKey(View(it->key()));
      if (!sequence.ok()) {
        return absl::DataLossError(sequence.status().message());
      }
      new_start = static_cast<int64_t>(*sequence) + 1;
    }
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the change log"));
  }
  if (new_start <= start) return 0;

  rocksdb::WriteBatch batch;
  batch.DeleteRange(db_->cf(kChangeLogCf), EncodeChangeLogKey(start),
                    EncodeChangeLogKey(new_start));
  batch.Put(db_->cf(kMetaCf), ToSlice(internal::kMetaChangeLogStart),
            EncodeFixed64BE(new_start));
  RETURN_IF_ERROR(ToAbslStatus(db_->db->Write(db_->write_options, &batch),
                               "trimming the change log"));
  absl::MutexLock lock(&state_mu_);
  changelog_start_ = new_start;
  return new_start - start;
}

void RocksDbGraphStore::TrimLoop() {
  while (true) {
    {
      absl::MutexLock lock(&state_mu_);
      const absl::Time deadline =
          absl::Now() + options_.changelog_trim_interval;
      while (!closing_) {
        if (shutdown_cv_.WaitWithDeadline(&state_mu_, deadline)) break;
      }
      if (closing_) return;
    }
    // Errors are retried on the next round; TrimChangeLog() reports them to
    // callers who need them.
    (void)TrimChangeLog(Now());
  }
}

}  // namespace georisk::storage
