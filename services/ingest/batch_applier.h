// File: services/ingest/batch_applier.h
//
// BatchApplier: applies a batch of validated records to GraphStore so that
// one bad record never sinks the good ones, retrying what is retryable.
//
//   BatchApplier applier(client, options, &metrics);
//   BatchResult r = applier.Apply(&records, &cancel);
//   for (const RecordOutcome& o : r.outcomes) { ... }
//   if (!r.status.ok()) { /* graphstore stayed down: see r.status */ }
//
// Each batch is one GraphStore.Apply with reject_invalid: GraphStore checks
// every mutation against the graph once, skips those that break a rule (an
// edge to an entity that does not exist, a rule ingest does not know) and
// commits the others atomically; the applier rejects each skipped record
// with GraphStore's field and reason ("upsert_edge.to_id", "entity
// company/x does not exist"). One call per batch, however many records are
// bad; each record sees every valid earlier one. RESOURCE_EXHAUSTED (batch
// too large for the server) splits the batch in halves.
//
// UNAVAILABLE and DEADLINE_EXCEEDED are retried with exponential backoff
// (with jitter), each call with its own deadline, for at most retry_deadline
// from the first failure of that call. A retried Apply that had in fact been
// committed is harmless: its records come back UNCHANGED or DUPLICATE.
//
// Thread-safe: concurrent Apply() calls are independent. The client, the
// metrics and the options' clock must outlive the applier.
#ifndef GEORISK_SERVICES_INGEST_BATCH_APPLIER_H_
#define GEORISK_SERVICES_INGEST_BATCH_APPLIER_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/graphstore.pb.h"
#include "services/common/shard_status.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/ingest_metrics.h"

namespace georisk::ingest {

struct ApplierOptions {
  // Deadline of each GraphStore call.
  absl::Duration call_deadline = absl::Seconds(30);
  // How long one call is retried after UNAVAILABLE/DEADLINE_EXCEEDED.
  absl::Duration retry_deadline = absl::Seconds(60);
  // First backoff; doubles up to max_backoff, with +-25% jitter.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  // Zero (the default): UNAVAILABLE is retried for retry_deadline. Positive:
  // after an UNAVAILABLE the call is tried once more this long later (a
  // probe); a second UNAVAILABLE in a row means graphstore is unreachable
  // and the call fails at once with UNAVAILABLE, so that a caller that can
  // retry itself (IngestBatch's) hears it now rather than after
  // retry_deadline. DEADLINE_EXCEEDED (a slow graphstore) is still retried.
  absl::Duration unreachable_probe = absl::ZeroDuration();
  // Recorded in the change log.
  std::string origin = "ingest";
};

// A record on its way to GraphStore.
struct PendingRecord {
  // Its index in the stream or batch (-1 for records ingest makes itself,
  // e.g. snapshot ends).
  int64_t index = 0;
  v1::Mutation mutation;
};

// What became of one record.
struct RecordOutcome {
  int64_t index = 0;
  // APPLIED, DUPLICATE or UNCHANGED; UNSPECIFIED when rejected or not
  // attempted (the batch failed first).
  v1::MutationOutcome outcome = v1::MUTATION_OUTCOME_UNSPECIFIED;
  // When GraphStore rejected it: the field (relative to the record) and why.
  std::string field;
  std::string reason;

  bool rejected() const { return !reason.empty(); }
};

struct BatchResult {
  // One per record, in order.
  std::vector<RecordOutcome> outcomes;
  // The highest commit sequence GraphStore answered (0 if none).
  int64_t last_sequence = 0;
  // OK, or why the batch stopped: UNAVAILABLE (graphstore stayed down past
  // retry_deadline), CANCELLED, or a non-retryable error. Records before the
  // first one with outcome UNSPECIFIED and not rejected were handled.
  absl::Status status;
};

class BatchApplier {
 public:
  BatchApplier(GraphStoreClient* client, ApplierOptions options,
               IngestMetrics* metrics);

  // Applies `records` in order. Their mutations are moved into requests and
  // back; the vector is left as it was.
  BatchResult Apply(std::vector<PendingRecord>* records, Cancellation* cancel);

  // Runs `call(deadline)` until it succeeds, fails with a code other than
  // UNAVAILABLE/DEADLINE_EXCEEDED, retry_deadline passes, or `cancel` fires.
  template <typename T>
  absl::StatusOr<T> Retry(
      const std::function<absl::StatusOr<T>(absl::Time deadline)>& call,
      Cancellation* cancel);

  const ApplierOptions& options() const { return options_; }

 private:
  // Sleeps the jittered `backoff`; false if cancelled.
  bool Backoff(absl::Duration backoff, Cancellation* cancel);

  GraphStoreClient* const client_;
  const ApplierOptions options_;
  IngestMetrics* const metrics_;
};

template <typename T>
absl::StatusOr<T> BatchApplier::Retry(
    const std::function<absl::StatusOr<T>(absl::Time deadline)>& call,
    Cancellation* cancel) {
  absl::Time give_up = absl::InfiniteFuture();
  absl::Duration backoff = options_.initial_backoff;
  int unavailable_in_a_row = 0;
  while (true) {
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError("ingest stream cancelled");
    }
    const absl::Time now = absl::Now();
    absl::StatusOr<T> result = call(now + options_.call_deadline);
    if (result.ok()) return result;
    const absl::StatusCode code = result.status().code();
    if (code != absl::StatusCode::kUnavailable &&
        code != absl::StatusCode::kDeadlineExceeded) {
      return result;
    }
    unavailable_in_a_row =
        code == absl::StatusCode::kUnavailable ? unavailable_in_a_row + 1 : 0;
    if (options_.unreachable_probe > absl::ZeroDuration()) {
      if (unavailable_in_a_row >= 2) {
        // Reworded, so that the shard it names (shard_status.h) reaches
        // the caller's retry hint.
        return common::Reworded(
            result.status(),
            absl::StrCat("graphstore is unreachable (last error: ",
                         result.status().ToString(
                             absl::StatusToStringMode::kWithNoExtraData),
                         "); retry later"));
      }
      if (unavailable_in_a_row == 1) backoff = options_.unreachable_probe;
    }
    if (give_up == absl::InfiniteFuture()) {
      give_up = now + options_.retry_deadline;
    }
    if (absl::Now() + backoff > give_up) {
      absl::Status out = absl::UnavailableError(absl::StrCat(
          "graphstore unavailable for ",
          absl::FormatDuration(options_.retry_deadline), " (last error: ",
          result.status().ToString(absl::StatusToStringMode::kWithNoExtraData),
          ")"));
      // The shard it names, if any (shard_status.h), for the retry hint.
      if (absl::optional<absl::Cord> shard =
              result.status().GetPayload(common::kShardPayloadUrl)) {
        out.SetPayload(common::kShardPayloadUrl, *std::move(shard));
      }
      return out;
    }
    if (metrics_ != nullptr) metrics_->retries->Increment();
    if (!Backoff(backoff, cancel)) {
      return absl::CancelledError("ingest stream cancelled");
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_BATCH_APPLIER_H_
