// File: storage/rocksdb_graph_store_outbox.cc
//
// The outbox of RocksDbGraphStore (storage/outbox.h): reading a peer's
// pending entries, acknowledging them, their counts. Entries are written by
// Apply, in the commit's WriteBatch (internal::BatchBuilder).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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

using internal::kOutboxCf;
using internal::ToAbslStatus;
using internal::ToSlice;
using internal::View;

constexpr int kMaxPeer = 65535;

// An entry's value: the commit time (microseconds since the epoch, 8 bytes
// big-endian), then the serialized Mutation.
absl::StatusOr<OutboxEntry> DecodeEntry(absl::string_view key,
                                        absl::string_view value) {
  absl::StatusOr<internal::OutboxKeyParts> parts =
      internal::DecodeOutboxKey(key);
  if (!parts.ok()) return absl::DataLossError(parts.status().message());
  OutboxEntry entry;
  entry.key = std::string(key);
  entry.peer = parts->peer;
  entry.sequence = static_cast<int64_t>(parts->sequence);
  absl::StatusOr<uint64_t> micros =
      value.size() < 8 ? absl::InvalidArgumentError("too short")
                       : internal::DecodeFixed64BE(value.substr(0, 8));
  if (!micros.ok() ||
      !entry.mutation.ParseFromArray(value.data() + 8,
                                     static_cast<int>(value.size() - 8))) {
    return absl::DataLossError(absl::StrCat(
        "outbox entry \"", absl::CHexEscape(key), "\" does not decode"));
  }
  entry.enqueued = absl::FromUnixMicros(static_cast<int64_t>(*micros));
  return entry;
}

}  // namespace

absl::Status RocksDbGraphStore::CountOutbox() {
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(read, db_->cf(kOutboxCf)));
  absl::flat_hash_map<int, int64_t> pending;
  int64_t total = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<internal::OutboxKeyParts> parts =
        internal::DecodeOutboxKey(View(it->key()));
    if (!parts.ok()) return absl::DataLossError(parts.status().message());
    ++pending[parts->peer];
    ++total;
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "counting the outbox"));
  absl::MutexLock lock(&state_mu_);
  outbox_pending_ = std::move(pending);
  outbox_total_ = total;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OutboxEntry>> RocksDbGraphStore::ReadOutbox(
    int peer, int limit) {
  if (peer < 0 || peer > kMaxPeer) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer: ", peer, " is outside 0..", kMaxPeer));
  }
  if (limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must be at least 1, got ", limit));
  }
  const std::string prefix = internal::OutboxPeerPrefix(peer);
  const std::string upper = internal::PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.total_order_seek = true;
  if (!upper.empty()) read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(read, db_->cf(kOutboxCf)));
  std::vector<OutboxEntry> out;
  for (it->Seek(prefix); it->Valid() && static_cast<int>(out.size()) < limit;
       it->Next()) {
    ASSIGN_OR_RETURN(OutboxEntry entry,
                     DecodeEntry(View(it->key()), View(it->value())));
    out.push_back(std::move(entry));
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the outbox"));
  return out;
}

absl::Status RocksDbGraphStore::AcknowledgeOutbox(
    absl::Span<const std::string> keys) {
  if (keys.empty()) return absl::OkStatus();
  absl::MutexLock ack_lock(&outbox_ack_mu_);
  std::vector<std::string> sorted(keys.begin(), keys.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<rocksdb::Slice> slices;
  slices.reserve(sorted.size());
  for (const std::string& k : sorted) slices.push_back(ToSlice(k));
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  db_->db->MultiGet(rocksdb::ReadOptions(), db_->cf(kOutboxCf), slices.size(),
                    slices.data(), values.data(), statuses.data(),
                    /*sorted_input=*/true);
  rocksdb::WriteBatch batch;
  absl::flat_hash_map<int, int64_t> removed;
  for (size_t i = 0; i < slices.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    RETURN_IF_ERROR(ToAbslStatus(statuses[i], "reading the outbox"));
    absl::StatusOr<internal::OutboxKeyParts> parts =
        internal::DecodeOutboxKey(sorted[i]);
    if (!parts.ok())
      return absl::InvalidArgumentError(parts.status().message());
    batch.Delete(db_->cf(kOutboxCf), slices[i]);
    ++removed[parts->peer];
  }
  if (batch.Count() == 0) return absl::OkStatus();
  rocksdb::Status written = db_->db->Write(db_->write_options, &batch);
  if (!written.ok()) return WriteFailed(written);
  // The counts are sums of what commits wrote and what this deleted, in any
  // order: an entry can be read and acknowledged between its commit's write
  // and the commit counting it, so a count can be below zero until then.
  absl::MutexLock lock(&state_mu_);
  for (const auto& [peer, n] : removed) {
    int64_t& count = outbox_pending_[peer];
    count -= n;
    outbox_total_ -= n;
    if (count == 0) outbox_pending_.erase(peer);
  }
  return absl::OkStatus();
}

std::vector<OutboxPeerStats> RocksDbGraphStore::OutboxStats() {
  std::vector<OutboxPeerStats> out;
  {
    absl::MutexLock lock(&state_mu_);
    for (const auto& [peer, n] : outbox_pending_) {
      if (n <= 0) continue;  // Acknowledged before its commit counted it.
      out.push_back({peer, n, absl::InfinitePast()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const OutboxPeerStats& a, const OutboxPeerStats& b) {
              return a.peer < b.peer;
            });
  for (OutboxPeerStats& s : out) {
    absl::StatusOr<std::vector<OutboxEntry>> first = ReadOutbox(s.peer, 1);
    if (first.ok() && !first->empty()) s.oldest = (*first)[0].enqueued;
  }
  return out;
}

bool RocksDbGraphStore::WaitForOutbox(absl::Time deadline) {
  absl::MutexLock lock(&state_mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_) {
    return outbox_total_ > 0 || closing_;
  };
  state_mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  return outbox_total_ > 0;
}

}  // namespace georisk::storage
