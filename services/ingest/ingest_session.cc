#include "services/ingest/ingest_session.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "domain/normalize.h"
#include "domain/validation.h"
#include "services/common/shard_status.h"

namespace georisk::ingest {
namespace {

// Longest options.origin.
constexpr size_t kMaxOriginBytes = 128;
// Most sources one snapshot stream may end (options.snapshot_source and
// snapshot_sources together; the CSL has 13 lists).
constexpr int kMaxSnapshotSources = 64;

size_t Hash(absl::string_view id) {
  return std::hash<std::string_view>()(std::string_view(id.data(), id.size()));
}

// An edge's identity (from, kind, to, product code, record id), hashed.
size_t EdgeHash(absl::string_view from_id, int kind, absl::string_view to_id,
                absl::string_view product_code, absl::string_view record_id) {
  return Hash(absl::StrCat(from_id, "\x1f", kind, "\x1f", to_id, "\x1f",
                           product_code, "\x1f", record_id));
}

// Reading the whole graph to find a source's edges takes longer than one
// ordinary call (time proportional to the graph).
constexpr absl::Duration kSnapshotExportDeadline = absl::Minutes(10);

// The record a snapshot end is about, for warnings.
std::string EndedRecord(const v1::Mutation& m) {
  if (m.has_upsert_signal()) return m.upsert_signal().id();
  if (!m.delete_signal_id().empty()) return m.delete_signal_id();
  const bool upsert = m.has_upsert_edge();
  const std::string& from =
      upsert ? m.upsert_edge().from_id() : m.delete_edge().from_id();
  const std::string& to =
      upsert ? m.upsert_edge().to_id() : m.delete_edge().to_id();
  const int kind = upsert ? m.upsert_edge().kind() : m.delete_edge().kind();
  return absl::StrCat("edge ", from, " -> ", to, " (",
                      v1::Edge::Kind_Name(static_cast<v1::Edge::Kind>(kind)),
                      ")");
}

}  // namespace

IngestSession::IngestSession(SessionOptions options, IngestMetrics* metrics)
    : session_options_(std::move(options)),
      options_clock_(session_options_.clock ? session_options_.clock
                                            : std::function<absl::Time()>(
                                                  [] { return absl::Now(); })),
      metrics_(metrics),
      ownership_(options_clock_()) {}

absl::Status IngestSession::Start(const v1::IngestOptions& options) {
  std::vector<std::string> sources;
  auto add = [&](const std::string& source,
                 const std::string& field) -> absl::Status {
    if (source.empty() ||
        absl::StripAsciiWhitespace(source).size() != source.size() ||
        source.size() > domain::kMaxSourceBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field,
                       ": must be a source as records carry it (not empty, no "
                       "surrounding blanks, at most ",
                       domain::kMaxSourceBytes, " bytes)"));
    }
    if (std::find(sources.begin(), sources.end(), source) != sources.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", source,
                       "\" is already one of the snapshot's sources"));
    }
    sources.push_back(source);
    return absl::OkStatus();
  };
  if (!options.snapshot_source().empty()) {
    absl::Status s = add(options.snapshot_source(), "options.snapshot_source");
    if (!s.ok()) return s;
  }
  if (options.snapshot_sources_size() > kMaxSnapshotSources) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.snapshot_sources: at most ", kMaxSnapshotSources,
                     " sources, got ", options.snapshot_sources_size()));
  }
  for (int i = 0; i < options.snapshot_sources_size(); ++i) {
    absl::Status s = add(options.snapshot_sources(i),
                         absl::StrCat("options.snapshot_sources[", i, "]"));
    if (!s.ok()) return s;
  }
  if (options.origin().size() > kMaxOriginBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "options.origin: must be at most ", kMaxOriginBytes, " bytes"));
  }
  options_ = options;
  snapshot_sources_ = std::move(sources);
  return absl::OkStatus();
}

std::string IngestSession::origin() const {
  return options_.origin().empty() ? std::string("ingest") : options_.origin();
}

std::string IngestSession::LinkSource() const {
  return snapshot_sources_.empty() ? origin() : snapshot_sources_.front();
}

void IngestSession::Reject(int64_t index, const v1::Mutation& record,
                           std::string field, std::string reason) {
  v1::Rejection* r = summary_.add_rejections();
  r->set_record_index(index);
  r->set_field(std::move(field));
  r->set_reason(std::move(reason));
  r->set_idempotency_key(record.idempotency_key().size() <=
                                 domain::kMaxIdempotencyKeyBytes
                             ? record.idempotency_key()
                             : record.idempotency_key().substr(
                                   0, domain::kMaxIdempotencyKeyBytes));
  summary_.set_rejected(summary_.rejected() + 1);
  if (metrics_ != nullptr) metrics_->records_rejected->Increment();
}

void IngestSession::AddWarning(int64_t index, absl::string_view field,
                               absl::string_view message) {
  if (summary_.warnings_size() < session_options_.max_warnings) {
    v1::Warning* w = summary_.add_warnings();
    w->set_record_index(index);
    w->set_field(std::string(field));
    w->set_message(std::string(message));
    return;
  }
  ++warnings_dropped_;
  if (warnings_dropped_ == 1) {
    v1::Warning* w = summary_.add_warnings();
    w->set_record_index(-1);
    w->set_message(absl::StrCat("more warnings than ",
                                session_options_.max_warnings,
                                "; the rest are not listed"));
  }
}

absl::Status IngestSession::Add(
    google::protobuf::RepeatedPtrField<v1::Mutation>* records) {
  const bool snapshot = !snapshot_sources_.empty();
  for (v1::Mutation& record : *records) {
    const int64_t index = next_index_++;
    summary_.set_received(summary_.received() + 1);
    domain::NormalizeMutation(&record);
    if (snapshot) {
      // Named, even if rejected: a bad new version does not end the old one.
      if (record.has_upsert_signal() && !record.upsert_signal().id().empty()) {
        named_signals_.insert(Hash(record.upsert_signal().id()));
      } else if (record.has_upsert_edge()) {
        const v1::Edge& e = record.upsert_edge();
        named_edges_.insert(EdgeHash(e.from_id(), e.kind(), e.to_id(),
                                     e.product_code(), e.record_id()));
      } else if (record.has_delete_edge()) {
        const v1::EdgeKey& k = record.delete_edge();
        named_edges_.insert(EdgeHash(k.from_id(), k.kind(), k.to_id(),
                                     k.product_code(), k.record_id()));
      }
      if (static_cast<int64_t>(named_signals_.size() + named_edges_.size()) >
          session_options_.max_snapshot_signals) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "a snapshot stream may name at most ",
            session_options_.max_snapshot_signals, " signals and edges"));
      }
    }
    const absl::Status valid =
        domain::ValidateRecord(record, session_options_.limits);
    if (!valid.ok()) {
      domain::FieldError e = domain::SplitFieldError(valid.message());
      Reject(index, record, std::move(e.field), std::move(e.reason));
      if (summary_.rejected() > session_options_.max_rejections) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "more than ", session_options_.max_rejections,
            " records rejected; the summary would be too large: fix the "
            "input"));
      }
      continue;
    }
    for (const domain::OwnershipWarning& warning : ownership_.Add(record)) {
      AddWarning(index, warning.field, warning.message);
    }
    if (options_.dry_run()) {
      summary_.set_accepted(summary_.accepted() + 1);
      if (metrics_ != nullptr) metrics_->records_validated->Increment();
      continue;
    }
    // ValidateRecord() computed the size; a moved message loses it.
    const int64_t bytes = record.GetCachedSize();
    queued_bytes_ += bytes;
    ++in_flight_;
    if (metrics_ != nullptr) metrics_->in_flight->Add(1);
    queue_.push_back({{index, std::move(record)}, bytes});
  }
  return absl::OkStatus();
}

bool IngestSession::HasFullBatch() const {
  return static_cast<int64_t>(queue_.size()) >= session_options_.batch_size ||
         queued_bytes_ >= session_options_.max_batch_bytes;
}

std::vector<PendingRecord> IngestSession::TakeBatch() {
  std::vector<PendingRecord> batch;
  int64_t bytes = 0;
  while (!queue_.empty() &&
         static_cast<int64_t>(batch.size()) < session_options_.batch_size) {
    const int64_t size = queue_.front().bytes;
    if (!batch.empty() && bytes + size > session_options_.max_batch_bytes) {
      break;
    }
    bytes += size;
    batch.push_back(std::move(queue_.front().record));
    queue_.pop_front();
  }
  queued_bytes_ -= bytes;
  return batch;
}

void IngestSession::Merge(const std::vector<PendingRecord>& batch,
                          const BatchResult& result) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const RecordOutcome& o = result.outcomes[i];
    if (o.rejected()) {
      Reject(o.index, batch[i].mutation, o.field, o.reason);
    } else {
      switch (o.outcome) {
        case v1::MUTATION_OUTCOME_APPLIED:
          summary_.set_accepted(summary_.accepted() + 1);
          if (metrics_ != nullptr) metrics_->records_applied->Increment();
          break;
        case v1::MUTATION_OUTCOME_DUPLICATE:
          summary_.set_duplicates(summary_.duplicates() + 1);
          if (metrics_ != nullptr) metrics_->records_duplicate->Increment();
          break;
        case v1::MUTATION_OUTCOME_UNCHANGED:
          summary_.set_duplicates(summary_.duplicates() + 1);
          if (metrics_ != nullptr) metrics_->records_unchanged->Increment();
          break;
        default:
          // Not attempted: the batch stopped (result.status says why).
          continue;
      }
    }
    --in_flight_;
    if (metrics_ != nullptr) metrics_->in_flight->Add(-1);
    first_in_flight_ = o.index + 1;
  }
  summary_.set_last_sequence(
      std::max(summary_.last_sequence(), result.last_sequence));
}

const v1::IngestSummary& IngestSession::Finish() {
  auto* rejections = summary_.mutable_rejections();
  std::stable_sort(rejections->begin(), rejections->end(),
                   [](const v1::Rejection& a, const v1::Rejection& b) {
                     return a.record_index() < b.record_index();
                   });
  auto* warnings = summary_.mutable_warnings();
  std::stable_sort(warnings->begin(), warnings->end(),
                   [](const v1::Warning& a, const v1::Warning& b) {
                     return a.record_index() < b.record_index();
                   });
  return summary_;
}

int64_t IngestSession::acknowledged_through() const {
  if (in_flight_ == 0) return next_index_;
  return first_in_flight_;
}

bool IngestSession::NamedSignal(absl::string_view id) const {
  return named_signals_.contains(Hash(id));
}

bool IngestSession::NamedEdge(const v1::Edge& edge) const {
  return named_edges_.contains(EdgeHash(edge.from_id(), edge.kind(),
                                        edge.to_id(), edge.product_code(),
                                        edge.record_id()));
}

void IngestSession::SetEnded(int64_t ended, int64_t last_sequence) {
  summary_.set_ended(ended);
  if (metrics_ != nullptr && !dry_run()) {
    metrics_->snapshot_ended->Increment(static_cast<double>(ended));
  }
  summary_.set_last_sequence(std::max(summary_.last_sequence(), last_sequence));
}

void IngestSession::AddResolution(const ResolveResult& resolved) {
  ingest::AddResolution(resolved.tally, summary_.mutable_resolution());
  summary_.set_last_sequence(
      std::max(summary_.last_sequence(), resolved.last_sequence));
}

absl::Status StreamError(const absl::Status& status,
                         const IngestSession& session) {
  const int64_t through = session.acknowledged_through();
  return common::Reworded(
      status,
      absl::StrCat(status.message(), "; records before index ", through,
                   " were handled (what was accepted is durable): resend "
                   "from index ",
                   through));
}

absl::Status DrainSession(IngestSession* session, BatchApplier* applier,
                          Cancellation* cancel, bool final,
                          const ImportResolver* resolver) {
  while (session->HasFullBatch() || (final && session->queued() > 0)) {
    std::vector<PendingRecord> batch = session->TakeBatch();
    if (batch.empty()) break;
    const BatchResult result = applier->Apply(&batch, cancel);
    session->Merge(batch, result);
    if (!result.status.ok()) return StreamError(result.status, *session);
    if (resolver != nullptr && !session->dry_run()) {
      session->AddResolution(resolver->Resolve(
          batch, result, session->LinkSource(), applier, cancel));
    }
  }
  return absl::OkStatus();
}

absl::Status EndSnapshot(IngestSession* session, GraphStoreClient* client,
                         BatchApplier* applier, Cancellation* cancel) {
  const std::vector<std::string>& sources = session->snapshot_sources();
  if (sources.empty()) return absl::OkStatus();
  const std::string field = session->options().snapshot_source().empty()
                                ? "options.snapshot_sources"
                                : "options.snapshot_source";
  if (session->summary().received() == 0) {
    session->AddWarning(-1, field, "empty snapshot: nothing was ended");
    return absl::OkStatus();
  }
  // For messages: "a", or "a", "b" and "c".
  std::string named;
  for (size_t i = 0; i < sources.size(); ++i) {
    absl::StrAppend(&named,
                    i == 0                    ? ""
                    : i + 1 == sources.size() ? " and "
                                              : ", ",
                    "\"", sources[i], "\"");
  }
  const absl::flat_hash_set<std::string> of_snapshot(sources.begin(),
                                                     sources.end());
  const absl::Time now = session->now();
  std::vector<PendingRecord> ends;
  for (const std::string& source : sources) {
    v1::ListSignalsRequest request;
    request.set_source(source);
    request.set_page_size(1000);
    do {
      absl::StatusOr<v1::ListSignalsResponse> page =
          applier->Retry<v1::ListSignalsResponse>(
              [&](absl::Time deadline) {
                return client->ListSignals(request, deadline, cancel);
              },
              cancel);
      if (!page.ok()) {
        return absl::Status(
            page.status().code(),
            absl::StrCat(
                "snapshot: listing the signals of \"", source,
                "\" failed, nothing was ended: ", page.status().message()));
      }
      for (v1::Signal& signal : *page->mutable_signals()) {
        if (session->NamedSignal(signal.id())) continue;
        if (signal.has_effective_until() &&
            base::FromProtoTime(signal.effective_until()) <= now) {
          continue;  // Already ended.
        }
        PendingRecord end;
        end.index = -1;
        if (signal.has_effective_from() &&
            base::FromProtoTime(signal.effective_from()) >= now) {
          // Never in effect: nothing to end, so it goes.
          end.mutation.set_delete_signal_id(signal.id());
        } else {
          signal.clear_update_sequence();
          *signal.mutable_effective_until() = base::ToProtoTime(now);
          *end.mutation.mutable_upsert_signal() = std::move(signal);
        }
        ends.push_back(std::move(end));
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
  }

  // Edges: GraphStore cannot list them by source, so read the whole graph at
  // one snapshot (ExportSnapshot) and keep the source's edges in effect now
  // that the stream did not name.
  absl::StatusOr<std::vector<v1::Edge>> stale =
      applier->Retry<std::vector<v1::Edge>>(
          [&](absl::Time) -> absl::StatusOr<std::vector<v1::Edge>> {
            std::vector<v1::Edge> found;
            const absl::Status s = client->ExportSnapshot(
                [&](v1::ExportSnapshotResponse& chunk) {
                  for (v1::Edge& e : *chunk.mutable_edges()) {
                    if (!of_snapshot.contains(e.source()) ||
                        session->NamedEdge(e)) {
                      continue;
                    }
                    if (e.has_effective_until() &&
                        base::FromProtoTime(e.effective_until()) <= now) {
                      continue;  // Already ended.
                    }
                    found.push_back(std::move(e));
                  }
                },
                absl::Now() + kSnapshotExportDeadline, cancel);
            if (!s.ok()) return s;
            return found;
          },
          cancel);
  if (!stale.ok()) {
    return absl::Status(
        stale.status().code(),
        absl::StrCat("snapshot: reading the edges of ", named,
                     " failed, nothing was ended: ", stale.status().message()));
  }
  for (v1::Edge& edge : *stale) {
    PendingRecord end;
    end.index = -1;
    if (edge.has_effective_from() &&
        base::FromProtoTime(edge.effective_from()) >= now) {
      v1::EdgeKey* key = end.mutation.mutable_delete_edge();
      key->set_from_id(edge.from_id());
      key->set_kind(edge.kind());
      key->set_to_id(edge.to_id());
      key->set_product_code(edge.product_code());
      key->set_record_id(edge.record_id());
    } else {
      edge.clear_update_sequence();
      *edge.mutable_effective_until() = base::ToProtoTime(now);
      *end.mutation.mutable_upsert_edge() = std::move(edge);
    }
    ends.push_back(std::move(end));
  }

  if (session->dry_run()) {
    session->SetEnded(static_cast<int64_t>(ends.size()), 0);
    return absl::OkStatus();
  }
  int64_t ended = 0;
  int64_t last_sequence = 0;
  const size_t chunk = 1000;
  for (size_t begin = 0; begin < ends.size(); begin += chunk) {
    std::vector<PendingRecord> batch(
        std::make_move_iterator(ends.begin() + begin),
        std::make_move_iterator(ends.begin() +
                                std::min(ends.size(), begin + chunk)));
    const BatchResult result = applier->Apply(&batch, cancel);
    for (size_t i = 0; i < batch.size(); ++i) {
      const RecordOutcome& o = result.outcomes[i];
      if (o.rejected()) {
        session->AddWarning(
            -1, field,
            absl::StrCat("could not end ", EndedRecord(batch[i].mutation), ": ",
                         o.field, o.field.empty() ? "" : ": ", o.reason));
      } else if (o.outcome == v1::MUTATION_OUTCOME_APPLIED) {
        ++ended;
      }
    }
    last_sequence = std::max(last_sequence, result.last_sequence);
    if (!result.status.ok()) {
      session->SetEnded(ended, last_sequence);
      return absl::Status(
          result.status.code(),
          absl::StrCat("snapshot: ending the records of ", named,
                       " stopped after ", ended, ": ", result.status.message(),
                       "; every record was handled: import the snapshot "
                       "again to finish"));
    }
  }
  session->SetEnded(ended, last_sequence);
  return absl::OkStatus();
}

}  // namespace georisk::ingest
