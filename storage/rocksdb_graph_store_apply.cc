// File: storage/rocksdb_graph_store_apply.cc
//
// RocksDbGraphStore::Apply: the write path. It checks every mutation against
// the record rules (domain/record_validation.h) and the size cap, keeps or
// fails the batch by InvalidMutations, builds one RocksDB WriteBatch with
// internal::BatchBuilder under the commit mutex, writes it, and only then
// publishes the new sequence, counts and cached entity ids.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "domain/record_validation.h"
#include "rocksdb/perf_level.h"
#include "storage/internal/batch_builder.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

// Sets RocksDB's perf level of the calling thread for the scope, then restores
// it. RocksDB's default level counts into the thread-local PerfContext in
// every key comparison; with Debian's shared librocksdb each of those is a
// __tls_get_addr call, which the commit path can do without.
class ScopedPerfLevel {
 public:
  explicit ScopedPerfLevel(rocksdb::PerfLevel level)
      : saved_(rocksdb::GetPerfLevel()) {
    rocksdb::SetPerfLevel(level);
  }
  ~ScopedPerfLevel() { rocksdb::SetPerfLevel(saved_); }
  ScopedPerfLevel(const ScopedPerfLevel&) = delete;
  ScopedPerfLevel& operator=(const ScopedPerfLevel&) = delete;

 private:
  const rocksdb::PerfLevel saved_;
};

}  // namespace

absl::StatusOr<ApplyResult> RocksDbGraphStore::Apply(
    absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
    InvalidMutations invalid) {
  if (mutations.empty()) {
    return absl::InvalidArgumentError(
        "mutations: at least one mutation is required");
  }
  if (mutations.size() >
      static_cast<size_t>(options_.max_mutations_per_batch)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "mutations: ", mutations.size(), " mutations exceed the maximum of ",
        options_.max_mutations_per_batch, " per batch"));
  }
  if (origin.size() > kMaxOriginBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("origin: must be at most ", kMaxOriginBytes,
                     " bytes, got ", origin.size()));
  }
  ApplyResult result;
  // The mutations to build the batch from and, under kReject, the index in
  // `mutations` of each (those that pass validation.h and the size cap).
  absl::Span<const v1::Mutation* const> valid = mutations;
  std::vector<const v1::Mutation*> kept;
  std::vector<int> kept_index;
  const bool reject = invalid != InvalidMutations::kFailBatch;
  if (reject) {
    kept.reserve(mutations.size());
    kept_index.reserve(mutations.size());
  }
  for (size_t i = 0; i < mutations.size(); ++i) {
    // The rules of validation.h and the front door's size cap, with the
    // field path under mutations[i].
    absl::Status s =
        domain::ValidateRecord(*mutations[i], options_.record_limits);
    if (s.ok()) {
      if (reject) {
        kept.push_back(mutations[i]);
        kept_index.push_back(static_cast<int>(i));
      }
      continue;
    }
    domain::FieldError e = domain::SplitFieldError(s.message());
    if (!reject || s.code() != absl::StatusCode::kInvalidArgument) {
      return absl::Status(s.code(), absl::StrCat("mutations[", i, "]",
                                                 e.field.empty() ? "" : ".",
                                                 e.field, ": ", e.reason));
    }
    result.rejections.push_back(
        {static_cast<int>(i), std::move(e.field), std::move(e.reason)});
  }
  if (reject) valid = absl::MakeConstSpan(kept);

  const ScopedPerfLevel no_perf_counters(rocksdb::PerfLevel::kDisable);
  absl::MutexLock commit_lock(&commit_mu_);
  if (writes_stopped_.load()) {
    MaybeResume();
    if (absl::Status health = WriteHealth(); !health.ok()) return health;
  }
  int64_t previous;
  int64_t entity_count;
  int64_t edge_count;
  int64_t signal_count;
  int64_t link_count;
  absl::Time commit_time;
  {
    absl::MutexLock lock(&state_mu_);
    if (closing_) return absl::UnavailableError("the store is closing");
    previous = last_sequence_;
    entity_count = entity_count_;
    edge_count = edge_count_;
    signal_count = signal_count_;
    link_count = link_count_;
    // Never before a time handed out (commits go forward; Watermark()
    // promised no later commit before its time), and taken in the same
    // lock as Watermark() reads: it sees this commit in flight or its
    // promise holds for it.
    commit_time = std::max({Now(), last_commit_time_, watermark_floor_});
    committing_ = true;
    committing_time_ = commit_time;
  }
  // Every way out before the publication below, which clears it itself.
  absl::Cleanup no_longer_committing = [this] {
    absl::MutexLock lock(&state_mu_);
    committing_ = false;
  };
  const int64_t sequence = previous + 1;

  // Partitioned: the builder writes one copy of a cross-shard edge.
  internal::BatchBuilder::ShardOf shard_of;
  if (options_.partition_map.shard_count() > 1) {
    shard_of = [map = &options_.partition_map](absl::string_view id) {
      return map->ShardOf(id);
    };
  }
  internal::BatchBuilder builder(db_->db.get(), db_->cfs, sequence, commit_time,
                                 entity_ids_.get(), std::move(shard_of),
                                 options_.shard_index);
  builder.set_origin(origin);
  RETURN_IF_ERROR(builder.Load(valid));
  if (invalid == InvalidMutations::kFailBatch) {
    result.outcomes.reserve(mutations.size());
    for (size_t i = 0; i < mutations.size(); ++i) {
      ASSIGN_OR_RETURN(MutationOutcome outcome,
                       builder.Add(static_cast<int>(i), *mutations[i]));
      result.outcomes.push_back(outcome);
    }
  } else {
    // Rejected by validation: already in result.rejections, in order.
    result.outcomes.assign(mutations.size(), MutationOutcome::kRejected);
    std::vector<MutationRejection> rejected_here;
    for (size_t j = 0; j < valid.size(); ++j) {
      const int i = kept_index[j];
      absl::StatusOr<MutationOutcome> outcome =
          builder.Add(static_cast<int>(j), *valid[j]);
      if (outcome.ok()) {
        result.outcomes[i] = *outcome;
        continue;
      }
      if (outcome.status().code() != absl::StatusCode::kInvalidArgument) {
        return outcome.status();
      }
      // "mutations[<j>].<field>: <reason>", <j> in `valid`.
      absl::string_view message = outcome.status().message();
      const std::string prefix = absl::StrCat("mutations[", j, "]");
      if (absl::ConsumePrefix(&message, prefix)) {
        absl::ConsumePrefix(&message, ".");
      }
      domain::FieldError e = domain::SplitFieldError(message);
      rejected_here.push_back({i, std::move(e.field), std::move(e.reason)});
    }
    if (!rejected_here.empty()) {
      result.rejections.insert(result.rejections.end(),
                               std::make_move_iterator(rejected_here.begin()),
                               std::make_move_iterator(rejected_here.end()));
      std::sort(result.rejections.begin(), result.rejections.end(),
                [](const MutationRejection& a, const MutationRejection& b) {
                  return a.index < b.index;
                });
    }
  }
  const bool commit = builder.applied_count() > 0;
  builder.Finish(commit, commit ? sequence : previous, origin, &entity_count,
                 &edge_count, &signal_count, &link_count);
  if (builder.batch()->Count() > 0) {
    // Nothing below runs unless RocksDB wrote the whole batch to its WAL:
    // a failed write leaves the sequence, the counts and the caches as they
    // were, and its caller unacknowledged.
    rocksdb::Status written =
        db_->db->Write(db_->write_options, builder.batch());
    if (!written.ok()) return WriteFailed(written);
    if (writes_stopped_.load()) SetWriteHealth(absl::OkStatus());
  }
  if (options_.after_write_for_testing) options_.after_write_for_testing();
  if (entity_ids_ != nullptr) {
    builder.ForEachKnownEntity([&](absl::string_view id, bool exists) {
      if (!exists) {
        entity_ids_->erase(id);
      } else if (entity_ids_->MemoryBytesAfterInsert(id.size()) <=
                 options_.entity_id_cache_bytes) {
        entity_ids_->insert(id);
      }
    });
    entity_ids_count_ = entity_ids_->size();
    entity_ids_bytes_ = entity_ids_->MemoryBytes();
  }
  if (!commit) {
    result.sequence = previous;
    result.commit_time = Now();
    return result;
  }
  last_commit_time_ = commit_time;
  std::move(no_longer_committing).Cancel();
  {
    absl::MutexLock lock(&state_mu_);
    last_sequence_ = sequence;
    committing_ = false;
    entity_count_ = entity_count;
    edge_count_ = edge_count;
    signal_count_ = signal_count;
    link_count_ = link_count;
    // The forwarder may have acknowledged some of these already
    // (AcknowledgeOutbox): the counts are sums, and come right here.
    for (const internal::BatchBuilder::OutboxWrite& w : builder.outbox()) {
      if (++outbox_pending_[w.peer] == 0) outbox_pending_.erase(w.peer);
      ++outbox_total_;
    }
    sequence_cv_.SignalAll();
  }
  result.sequence = sequence;
  result.commit_time = commit_time;
  result.cascaded_edge_deletes = builder.cascaded_edge_deletes();
  result.cascaded_link_deletes = builder.cascaded_link_deletes();
  result.remote_edge_copies = builder.remote_copies();
  return result;
}

}  // namespace georisk::storage
