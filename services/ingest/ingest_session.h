// File: services/ingest/ingest_session.h
//
// IngestSession: the state of one Ingest stream or IngestBatch call, without
// gRPC: it numbers, normalises and validates records, queues the good ones in
// batches, tracks ownership shares, and builds the summary from what
// GraphStore answered. The service's reactors drive it; DrainSession() and
// EndSnapshot() are the rest of the pipeline.
//
//   IngestSession session(options, &metrics);
//   RETURN_IF_ERROR(session.Start(request.options()));
//   RETURN_IF_ERROR(session.Add(request.mutable_records()));
//   RETURN_IF_ERROR(DrainSession(&session, &applier, &cancel));
//   RETURN_IF_ERROR(EndSnapshot(&session, client, &applier, &cancel));
//   Reply(session.Finish());
//
// Not thread-safe: callers serialise calls (the stream reactor holds its lock
// around each one and applies batches outside it).
#ifndef GEORISK_SERVICES_INGEST_INGEST_SESSION_H_
#define GEORISK_SERVICES_INGEST_INGEST_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/record_validation.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/ingest.pb.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/import_resolver.h"
#include "services/ingest/ingest_metrics.h"

namespace georisk::ingest {

struct SessionOptions {
  // Records per GraphStore.Apply call.
  int batch_size = 1000;
  // Encoded bytes per Apply call (a batch closes early when reached).
  int64_t max_batch_bytes = 16 << 20;
  // The ingest-only record rules; unknown fields are rejected at the front
  // door.
  domain::RecordLimits limits = {1 << 20, /*reject_unknown_fields=*/true};
  // A stream with more rejections fails with RESOURCE_EXHAUSTED (the
  // summary would not fit in a response).
  int64_t max_rejections = 100000;
  // Warnings listed in the summary; past this, one last warning says how
  // many more there were.
  int64_t max_warnings = 10000;
  // Distinct signal ids and edge keys a snapshot stream may name
  // (RESOURCE_EXHAUSTED past it); each costs 8 bytes and a hash-set slot.
  int64_t max_snapshot_signals = 5000000;
  // "Now": ownership shares in effect, the time snapshot ends take effect.
  std::function<absl::Time()> clock = absl::Now;
};

class IngestSession {
 public:
  // `metrics` may be null.
  IngestSession(SessionOptions options, IngestMetrics* metrics);

  // Takes the stream's options. Errors: INVALID_ARGUMENT for a malformed
  // snapshot_source or origin.
  absl::Status Start(const v1::IngestOptions& options);
  const v1::IngestOptions& options() const { return options_; }
  // The sources the stream is a whole snapshot of: options.snapshot_source
  // (if set), then options.snapshot_sources; empty for other streams.
  const std::vector<std::string>& snapshot_sources() const {
    return snapshot_sources_;
  }
  bool dry_run() const { return options_.dry_run(); }
  // The change-log origin to apply with: options.origin or "ingest".
  std::string origin() const;
  // The `source` of links resolution writes for entities without one: the
  // first of snapshot_sources(), else origin().
  std::string LinkSource() const;

  // Numbers `records` from the next index, normalises and validates them,
  // rejects the bad ones and moves the good ones to the queue (with dry_run,
  // counts them as accepted). Errors: RESOURCE_EXHAUSTED past
  // max_rejections or max_snapshot_signals; the stream must then stop.
  absl::Status Add(google::protobuf::RepeatedPtrField<v1::Mutation>* records);

  // Records queued and not yet taken.
  size_t queued() const { return queue_.size(); }
  // Records added and not yet merged (queued or being applied).
  int64_t in_flight() const { return in_flight_; }
  // True when a whole batch (batch_size records or max_batch_bytes) waits.
  bool HasFullBatch() const;
  // Removes the next batch from the queue (empty if none).
  std::vector<PendingRecord> TakeBatch();
  // Accounts for `batch` (from TakeBatch(), in order) as `result` says.
  void Merge(const std::vector<PendingRecord>& batch,
             const BatchResult& result);
  // Every record with a smaller index was rejected or acknowledged by
  // GraphStore.
  int64_t acknowledged_through() const;

  // Whether the stream upserted the signal `id` (snapshot streams only).
  bool NamedSignal(absl::string_view id) const;
  // Whether the stream upserted or deleted this edge (its from, kind, to,
  // product code and record id; snapshot streams only).
  bool NamedEdge(const v1::Edge& edge) const;
  void AddWarning(int64_t index, absl::string_view field,
                  absl::string_view message);
  // Records the snapshot's ends.
  void SetEnded(int64_t ended, int64_t last_sequence);
  // Adds what resolution did with a batch to the summary's `resolution`.
  void AddResolution(const ResolveResult& resolved);

  // The summary so far; rejections and warnings in the order found.
  const v1::IngestSummary& summary() const { return summary_; }
  // The summary to answer with: rejections and warnings sorted by record
  // index (ingest's own rejections are found before GraphStore's).
  const v1::IngestSummary& Finish();
  absl::Time now() const { return options_clock_(); }

 private:
  void Reject(int64_t index, const v1::Mutation& record, std::string field,
              std::string reason);

  const SessionOptions session_options_;
  const std::function<absl::Time()> options_clock_;
  IngestMetrics* const metrics_;
  v1::IngestOptions options_;
  std::vector<std::string> snapshot_sources_;
  domain::OwnershipTracker ownership_;
  int64_t next_index_ = 0;
  struct Queued {
    PendingRecord record;
    int64_t bytes;  // Encoded size.
  };
  std::deque<Queued> queue_;
  int64_t queued_bytes_ = 0;
  int64_t in_flight_ = 0;
  // Index of the first record not yet merged, when records are in flight.
  int64_t first_in_flight_ = 0;
  int64_t warnings_dropped_ = 0;
  // Hashes of the signal ids a snapshot stream upserted, and of the edge
  // keys it upserted or deleted.
  absl::flat_hash_set<size_t> named_signals_;
  absl::flat_hash_set<size_t> named_edges_;
  v1::IngestSummary summary_;
};

// Applies the session's queued batches until fewer than a whole batch is
// left, or, with `final`, until none is. With `resolver` (and not dry_run),
// each batch's entities are then resolved (import_resolver.h) and the
// counts added to the summary; resolution never fails the drain. Errors:
// the first batch's failure (UNAVAILABLE past the retry deadline,
// CANCELLED...), with the index to resend from in the message.
absl::Status DrainSession(IngestSession* session, BatchApplier* applier,
                          Cancellation* cancel, bool final,
                          const ImportResolver* resolver = nullptr);

// For a snapshot stream (session->snapshot_sources() not empty) whose
// records were all handled: finds GraphStore's signals (ListSignals, per
// source) and edges (ExportSnapshot, one read of the whole graph) of those
// sources and ends (upserts with
// effective_until = now; deletes, if not yet in effect) those the stream did
// not name, recording how many in the summary's `ended`. With dry_run, only
// counts them. A snapshot with no records ends nothing (a warning says so).
// Does nothing for other streams.
absl::Status EndSnapshot(IngestSession* session, GraphStoreClient* client,
                         BatchApplier* applier, Cancellation* cancel);

// The error a stream ends with when `status` stopped it: the same code, and
// a message saying which records are durable and where to resume.
absl::Status StreamError(const absl::Status& status,
                         const IngestSession& session);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_INGEST_SESSION_H_
