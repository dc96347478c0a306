#include "services/graphstore/graphstore_service.h"

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"

namespace georisk::graphstore {
namespace {

std::optional<absl::Time> OptionalTime(
    bool has, const google::protobuf::Timestamp& timestamp) {
  if (!has) return std::nullopt;
  return base::FromProtoTime(timestamp);
}

// Enum values are checked by the store; unknown ones reach it as they came.
template <typename Enum>
std::vector<Enum> Enums(const google::protobuf::RepeatedField<int>& values) {
  std::vector<Enum> out;
  out.reserve(values.size());
  for (int v : values) out.push_back(static_cast<Enum>(v));
  return out;
}

}  // namespace

// Streams ExportSnapshot's chunks. The store pushes chunks from its own
// iteration; this reactor runs that iteration on a thread of its own and
// hands each chunk to gRPC only after the previous write completed, so a
// slow client slows the export instead of growing memory.
class GraphStoreService::ExportReactor final
    : public grpc::ServerWriteReactor<v1::ExportSnapshotResponse> {
 public:
  ExportReactor(GraphStoreService* service, storage::GraphStore* store,
                grpc::CallbackServerContext* context,
                common::ConcurrencyLimit::Slot slot)
      : service_(service),
        store_(store),
        context_(context),
        slot_(std::move(slot)) {
    std::thread([this] { Run(); }).detach();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnDone() override { delete this; }

 private:
  bool Writable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !writing_ || cancelled_;
  }

  void Run() {
    absl::Status status = store_->ExportSnapshot(
        [this](storage::SnapshotChunk& chunk) -> absl::Status {
          absl::MutexLock lock(&mu_);
          mu_.Await(absl::Condition(this, &ExportReactor::Writable));
          if (cancelled_) return absl::CancelledError("client went away");
          response_.Clear();
          for (auto& e : chunk.entities) {
            *response_.add_entities() = std::move(e);
          }
          for (auto& e : chunk.edges) *response_.add_edges() = std::move(e);
          for (auto& s : chunk.signals) {
            *response_.add_signals() = std::move(s);
          }
          for (auto& l : chunk.links) *response_.add_links() = std::move(l);
          response_.set_sequence(chunk.sequence);
          response_.set_graph_id(chunk.graph_id);
          response_.set_shard(chunk.shard);
          writing_ = true;
          StartWrite(&response_);
          return absl::OkStatus();
        },
        service_->options_.export_chunk_records);
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ExportReactor::Writable));
      if (cancelled_ && status.ok()) {
        status = absl::CancelledError("client went away");
      }
    }
    slot_ = {};  // The next export may start while this one finishes.
    common::AddRetryHint(context_, status);
    Finish(common::ToGrpcStatus(
        status));  // Last use of `this`: OnDone deletes it.
  }

  GraphStoreService* const service_;
  storage::GraphStore* const store_;
  grpc::CallbackServerContext* const context_;
  std::optional<common::ConcurrencyLimit::Slot> slot_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  v1::ExportSnapshotResponse response_;
};

GraphStoreService::GraphStoreService(storage::GraphStore* store,
                                     GraphStoreServiceOptions options,
                                     common::MetricsRegistry* registry)
    : store_(store),
      options_(options),
      hub_([store] { return store->LastSequence(); },
           [store](int64_t seq, absl::Time deadline) {
             return store->WaitForSequence(seq, deadline);
           },
           options.watch_heartbeat,
           common::FollowLimits{options.watch_stall_timeout,
                                options.watch_max_buffered_bytes}),
      exports_(options.max_concurrent_exports, "ExportSnapshot streams"),
      watchers_(options.max_watch_streams, "WatchChanges streams"),
      service_watchers_(options.reserved_watch_streams,
                        "WatchChanges streams of FOLLOWER_CLASS_SERVICE") {
  mutations_ = &registry->AddCounter(
      "georisk_graphstore_mutations_total",
      "Mutations received by Apply, by outcome (applied, duplicate, "
      "unchanged, rejected; failed: the batch was not written, e.g. while "
      "writes are stopped by a full disk).",
      {"outcome"});
  auto stat = [store](int64_t storage::StoreStats::*field) {
    return [store, field]() -> double {
      absl::StatusOr<storage::StoreStats> stats = store->GetStats();
      return stats.ok() ? static_cast<double>((*stats).*field) : 0.0;
    };
  };
  registry->AddCallbackGauge("georisk_graphstore_last_sequence",
                             "The last committed sequence.",
                             [store] { return double(store->LastSequence()); });
  registry->AddCallbackGauge("georisk_graphstore_entities", "Entities stored.",
                             stat(&storage::StoreStats::entity_count));
  registry->AddCallbackGauge("georisk_graphstore_edges", "Edges stored.",
                             stat(&storage::StoreStats::edge_count));
  registry->AddCallbackGauge("georisk_graphstore_signals", "Signals stored.",
                             stat(&storage::StoreStats::signal_count));
  registry->AddCallbackGauge("georisk_graphstore_links",
                             "Links (SAME_AS judgements) stored.",
                             stat(&storage::StoreStats::link_count));
  registry->AddCallbackGauge(
      "georisk_graphstore_oldest_retained_sequence",
      "The oldest sequence still in the change log.",
      stat(&storage::StoreStats::oldest_retained_sequence));
  registry->AddCallbackGauge("georisk_graphstore_disk_bytes",
                             "Approximate bytes on disk (SST files and WAL).",
                             stat(&storage::StoreStats::disk_bytes));
  registry->AddCallbackGauge(
      "georisk_graphstore_watch_streams_idle",
      "WatchChanges streams caught up and waiting for commits.",
      [this] { return double(hub_.parked()); });
  registry->AddCallbackGauge(
      "georisk_graphstore_watch_buffered_bytes",
      "Bytes of WatchChanges messages not yet taken by their clients.",
      [this] { return double(hub_.buffered_bytes()); });
  registry->AddCallbackGauge(
      "georisk_graphstore_watch_streams_ended_behind",
      "WatchChanges streams ended with RESOURCE_EXHAUSTED for falling behind "
      "since the server started.",
      [this] { return double(hub_.ended_behind()); });
}

GraphStoreService::~GraphStoreService() { Shutdown(); }

storage::GraphStore* GraphStoreService::ReadStore(
    const grpc::CallbackServerContext* context) {
  if (options_.shard_local_store != nullptr &&
      context->client_metadata().count(common::kShardLocalMetadata) > 0) {
    return options_.shard_local_store;
  }
  return store_;
}

void GraphStoreService::Shutdown() { hub_.Shutdown(); }

grpc::ServerUnaryReactor* GraphStoreService::Apply(
    grpc::CallbackServerContext* context, const v1::ApplyRequest* request,
    v1::ApplyResponse* response) {
  absl::StatusOr<storage::ApplyResult> result = store_->Apply(
      request->mutations(), request->origin(),
      request->reject_invalid() ? storage::InvalidMutations::kReject
                                : storage::InvalidMutations::kFailBatch);
  if (!result.ok()) {
    // A batch refused for its content is rejected; one the store could not
    // write (writes stopped: a full disk) failed.
    mutations_
        ->WithLabels(
            {result.status().code() == absl::StatusCode::kInvalidArgument
                 ? "rejected"
                 : "failed"})
        .Increment(request->mutations_size());
    return common::FinishUnary(context, result.status());
  }
  int applied = 0, duplicate = 0, unchanged = 0;
  for (storage::MutationOutcome outcome : result->outcomes) {
    response->add_outcomes(OutcomeToProto(outcome));
    applied += outcome == storage::MutationOutcome::kApplied;
    duplicate += outcome == storage::MutationOutcome::kDuplicate;
    unchanged += outcome == storage::MutationOutcome::kUnchanged;
  }
  for (const storage::MutationRejection& r : result->rejections) {
    v1::MutationRejection* out = response->add_rejections();
    out->set_mutation_index(r.index);
    out->set_field(r.field);
    out->set_reason(r.reason);
  }
  mutations_->WithLabels({"applied"}).Increment(applied);
  mutations_->WithLabels({"duplicate"}).Increment(duplicate);
  mutations_->WithLabels({"unchanged"}).Increment(unchanged);
  mutations_->WithLabels({"rejected"}).Increment(result->rejections.size());
  response->set_sequence(result->sequence);
  *response->mutable_commit_time() = base::ToProtoTime(result->commit_time);
  response->set_cascaded_edge_deletes(result->cascaded_edge_deletes);
  response->set_cascaded_link_deletes(result->cascaded_link_deletes);
  for (const storage::RemoteEdgeCopy& remote : result->remote_edge_copies) {
    v1::RemoteEdgeCopy* out = response->add_remote_edge_copies();
    *out->mutable_key() = remote.key;
    out->set_copy(remote.copy);
    out->set_shard(remote.shard);
  }
  return common::FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* GraphStoreService::GetEntity(
    grpc::CallbackServerContext* context, const v1::GetEntityRequest* request,
    v1::Entity* response) {
  absl::StatusOr<v1::Entity> entity =
      ReadStore(context)->GetEntity(request->id());
  if (entity.ok()) *response = std::move(*entity);
  return common::FinishUnary(context, entity.status());
}

grpc::ServerUnaryReactor* GraphStoreService::ListEdges(
    grpc::CallbackServerContext* context, const v1::ListEdgesRequest* request,
    v1::ListEdgesResponse* response) {
  absl::StatusOr<storage::Direction> direction =
      DirectionFromProto(request->direction());
  if (!direction.ok()) return common::FinishUnary(context, direction.status());
  storage::EdgeQuery query;
  query.entity_id = request->entity_id();
  query.direction = *direction;
  query.kinds = Enums<v1::Edge::Kind>(request->kinds());
  query.active_at =
      OptionalTime(request->has_active_at(), request->active_at());
  query.page_size = request->page_size();
  query.page_token = request->page_token();
  absl::StatusOr<storage::EdgePage> page = ReadStore(context)->ListEdges(query);
  if (page.ok()) {
    for (v1::Edge& e : page->edges) *response->add_edges() = std::move(e);
    response->set_next_page_token(std::move(page->next_page_token));
  }
  return common::FinishUnary(context, page.status());
}

grpc::ServerUnaryReactor* GraphStoreService::LookupByIdentifier(
    grpc::CallbackServerContext* context,
    const v1::LookupByIdentifierRequest* request,
    v1::LookupByIdentifierResponse* response) {
  storage::IdentifierQuery query;
  query.scheme = request->scheme();
  query.value = request->value();
  query.country = request->country();
  query.include_equivalent = request->include_equivalent();
  query.page_size = request->page_size();
  query.page_token = request->page_token();
  absl::StatusOr<storage::IdentifierPage> page =
      ReadStore(context)->LookupByIdentifier(query);
  if (page.ok()) {
    for (v1::Entity& e : page->entities) {
      *response->add_entities() = std::move(e);
    }
    response->set_next_page_token(std::move(page->next_page_token));
    response->set_scheme(std::move(page->scheme));
    response->set_value(std::move(page->value));
    response->set_sequence(page->sequence);
  }
  return common::FinishUnary(context, page.status());
}

grpc::ServerUnaryReactor* GraphStoreService::Traverse(
    grpc::CallbackServerContext* context, const v1::TraverseRequest* request,
    v1::TraverseResponse* response) {
  absl::StatusOr<storage::Direction> direction =
      DirectionFromProto(request->direction());
  if (!direction.ok()) return common::FinishUnary(context, direction.status());
  storage::TraverseQuery query;
  query.start_ids.assign(request->start_ids().begin(),
                         request->start_ids().end());
  query.direction = *direction;
  query.kinds = Enums<v1::Edge::Kind>(request->kinds());
  query.max_depth = request->max_depth();
  query.max_entities = request->max_entities();
  query.active_at =
      OptionalTime(request->has_active_at(), request->active_at());
  query.include_edges = request->include_edges();
  absl::StatusOr<storage::TraverseResult> result =
      ReadStore(context)->Traverse(query);
  if (result.ok()) {
    for (storage::TraversedEntity& t : result->entities) {
      v1::TraversedEntity* out = response->add_entities();
      *out->mutable_entity() = std::move(t.entity);
      out->set_depth(t.depth);
    }
    for (v1::Edge& e : result->edges) *response->add_edges() = std::move(e);
    response->set_truncated(result->truncated);
    response->set_sequence(result->sequence);
  }
  return common::FinishUnary(context, result.status());
}

grpc::ServerUnaryReactor* GraphStoreService::ListSignals(
    grpc::CallbackServerContext* context, const v1::ListSignalsRequest* request,
    v1::ListSignalsResponse* response) {
  storage::SignalQuery query;
  query.kinds = Enums<v1::SignalKind>(request->kinds());
  query.target_id = request->target_id();
  query.source = request->source();
  query.authority = request->authority();
  query.active_at =
      OptionalTime(request->has_active_at(), request->active_at());
  query.page_size = request->page_size();
  query.page_token = request->page_token();
  absl::StatusOr<storage::SignalPage> page =
      ReadStore(context)->ListSignals(query);
  if (page.ok()) {
    for (v1::Signal& s : page->signals) *response->add_signals() = std::move(s);
    response->set_next_page_token(std::move(page->next_page_token));
  }
  return common::FinishUnary(context, page.status());
}

grpc::ServerWriteReactor<v1::WatchChangesResponse>*
GraphStoreService::WatchChanges(grpc::CallbackServerContext* context,
                                const v1::WatchChangesRequest* request) {
  using Reactor = common::FollowReactor<v1::WatchChangesResponse>;
  auto refuse = [context](const absl::Status& status) {
    return common::RefuseStream<v1::WatchChangesResponse>(context, status);
  };
  int64_t from = request->from_sequence();
  if (from < 0) {
    return refuse(absl::InvalidArgumentError(
        absl::StrCat("from_sequence: must be >= 0, got ", from)));
  }
  const std::string& graph_id = store_->GraphId();
  if (!request->graph_id().empty()) {
    if (!storage::IsGraphId(request->graph_id())) {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat("graph_id: must be 32 lowercase hex characters, got \"",
                       absl::CHexEscape(request->graph_id()), "\"")));
    }
    if (request->graph_id() != graph_id) {
      return refuse(absl::FailedPreconditionError(absl::StrCat(
          "graph_id: the position is in graph ", request->graph_id(),
          " but this store holds graph ", graph_id,
          " (its history was replaced): re-read the graph with "
          "ExportSnapshot and resume from its sequence + 1")));
    }
  }
  if (from == 0) {
    // "From the oldest retained": the first retained change, or, when the
    // log is empty (nothing committed, or all trimmed), the next commit.
    absl::StatusOr<storage::StoreStats> stats = store_->GetStats();
    if (!stats.ok()) return refuse(stats.status());
    from = stats->oldest_retained_sequence > 0 ? stats->oldest_retained_sequence
                                               : stats->last_sequence + 1;
  } else if (const int64_t head = store_->LastSequence(); from > head + 1) {
    // The head only grows: a position past head + 1 now is a position in
    // another history, never one that a commit will reach in order.
    return refuse(absl::OutOfRangeError(absl::StrCat(
        "from_sequence ", from, " is past the head, sequence ", head,
        " (the next commit is ", head + 1,
        "): this store's history is not the one the position came from; "
        "re-read the graph with ExportSnapshot")));
  }
  absl::Duration heartbeat = absl::ZeroDuration();
  if (request->has_heartbeat_interval()) {
    const google::protobuf::Duration& d = request->heartbeat_interval();
    heartbeat = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
    if (heartbeat != absl::ZeroDuration() &&
        (heartbeat < kMinWatchHeartbeat || heartbeat > kMaxWatchHeartbeat)) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          "heartbeat_interval: must be 0 (the server's default) or from ",
          absl::FormatDuration(kMinWatchHeartbeat), " to ",
          absl::FormatDuration(kMaxWatchHeartbeat), ", got ",
          absl::FormatDuration(heartbeat))));
    }
  }
  const bool service = request->follower_class() == v1::FOLLOWER_CLASS_SERVICE;
  absl::StatusOr<common::ConcurrencyLimit::Slot> taken =
      service ? service_watchers_.TryAcquire() : watchers_.TryAcquire();
  if (!taken.ok()) return refuse(taken.status());
  // Held by the stream's read function; released when the stream is done.
  auto slot =
      std::make_shared<common::ConcurrencyLimit::Slot>(*std::move(taken));
  const int batch = options_.watch_batch_changes;
  const int64_t bytes = options_.watch_batch_bytes;
  // The head and the watermark come from one read of the store: the promise
  // is about the commits after that head.
  auto head = [this](v1::WatchChangesResponse* out) {
    const storage::GraphStore::CommitWatermark mark = store_->Watermark();
    out->set_head_sequence(mark.sequence);
    if (mark.time != absl::InfinitePast()) {
      *out->mutable_commit_watermark() = base::ToProtoTime(mark.time);
    }
    out->set_graph_id(store_->GraphId());
  };
  return new Reactor(
      context, &hub_, from,
      [this, batch, bytes, slot, head](
          int64_t* next,
          v1::WatchChangesResponse* out) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(std::vector<v1::Change> changes,
                         store_->ReadChanges(*next, batch, bytes));
        if (changes.empty()) return false;
        *next = changes.back().sequence() + 1;
        for (v1::Change& c : changes) *out->add_changes() = std::move(c);
        head(out);
        return true;
      },
      head, /*exempt=*/service, heartbeat);
}

grpc::ServerWriteReactor<v1::ExportSnapshotResponse>*
GraphStoreService::ExportSnapshot(grpc::CallbackServerContext* context,
                                  const v1::ExportSnapshotRequest* request) {
  absl::StatusOr<common::ConcurrencyLimit::Slot> slot = exports_.TryAcquire();
  if (!slot.ok()) {
    return common::RefuseStream<v1::ExportSnapshotResponse>(context,
                                                            slot.status());
  }
  return new ExportReactor(this, ReadStore(context), context, *std::move(slot));
}

grpc::ServerUnaryReactor* GraphStoreService::GetStats(
    grpc::CallbackServerContext* context, const v1::GetStatsRequest* request,
    v1::GetStatsResponse* response) {
  absl::StatusOr<storage::StoreStats> stats = store_->GetStats();
  if (stats.ok()) {
    response->set_entity_count(stats->entity_count);
    response->set_edge_count(stats->edge_count);
    response->set_signal_count(stats->signal_count);
    response->set_link_count(stats->link_count);
    response->set_last_sequence(stats->last_sequence);
    response->set_oldest_retained_sequence(stats->oldest_retained_sequence);
    response->set_disk_bytes(stats->disk_bytes);
    response->set_graph_id(stats->graph_id);
    response->set_writes_stopped_reason(stats->writes_stopped_reason);
    response->set_shard_index(options_.shard_index);
    response->set_shard_count(options_.shard_count);
    response->set_partitions(options_.shard_partitions);
  }
  return common::FinishUnary(context, stats.status());
}

absl::StatusOr<storage::Direction> DirectionFromProto(v1::Direction direction) {
  switch (direction) {
    case v1::DIRECTION_UNSPECIFIED:
    case v1::DIRECTION_OUTBOUND:
      return storage::Direction::kOutbound;
    case v1::DIRECTION_INBOUND:
      return storage::Direction::kInbound;
    case v1::DIRECTION_BOTH:
      return storage::Direction::kBoth;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("direction: unknown direction ", direction));
  }
}

v1::MutationOutcome OutcomeToProto(storage::MutationOutcome outcome) {
  switch (outcome) {
    case storage::MutationOutcome::kApplied:
      return v1::MUTATION_OUTCOME_APPLIED;
    case storage::MutationOutcome::kDuplicate:
      return v1::MUTATION_OUTCOME_DUPLICATE;
    case storage::MutationOutcome::kUnchanged:
      return v1::MUTATION_OUTCOME_UNCHANGED;
    case storage::MutationOutcome::kRejected:
      return v1::MUTATION_OUTCOME_REJECTED;
  }
  return v1::MUTATION_OUTCOME_UNSPECIFIED;
}

}  // namespace georisk::graphstore
