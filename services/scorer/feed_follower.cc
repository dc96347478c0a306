#include "services/scorer/feed_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace georisk::scorer {

const char* RebuildReasonName(RebuildReason reason) {
  switch (reason) {
    case RebuildReason::kGraphChanged:
      return "graph_changed";
    case RebuildReason::kAheadOfHead:
      return "ahead_of_head";
    case RebuildReason::kTrimmed:
      return "trimmed";
  }
  return "unknown";
}

FeedFollower::FeedFollower(
    std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
    storage::GraphMirror* mirror, GraphFeedConsumer* consumer,
    FeedFollowerOptions options)
    : graphstore_(std::move(graphstore)),
      mirror_(mirror),
      consumer_(consumer),
      options_(options) {
  rebuilds_metric_ = AddRebuildsMetric(options_.registry);
}

common::Family<common::Counter>* AddRebuildsMetric(
    common::MetricsRegistry* registry) {
  if (registry == nullptr) return nullptr;
  common::Family<common::Counter>* metric = &registry->AddCounter(
      "georisk_scorer_feed_rebuilds_total",
      "Times the scorer re-read the whole graph from GraphStore's snapshot "
      "while holding one, by reason: graph_changed (GraphStore holds "
      "another graph), ahead_of_head (our position is past its head), "
      "trimmed (the changes we needed left its change log).",
      {"reason"});
  for (RebuildReason r :
       {RebuildReason::kGraphChanged, RebuildReason::kAheadOfHead,
        RebuildReason::kTrimmed}) {
    metric->WithLabels({RebuildReasonName(r)});  // Exported as 0.
  }
  return metric;
}

std::optional<RebuildReason> RebuildReasonFor(
    const absl::Status& status, int64_t applied,
    v1::GraphStore::StubInterface* graphstore) {
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    return RebuildReason::kGraphChanged;
  }
  if (status.code() != absl::StatusCode::kOutOfRange) return std::nullopt;
  // OUT_OF_RANGE is either end of the log: ask where the head is.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetStatsResponse stats;
  grpc::Status got =
      graphstore->GetStats(&context, v1::GetStatsRequest(), &stats);
  if (got.ok() && applied > stats.last_sequence()) {
    return RebuildReason::kAheadOfHead;
  }
  // Trimmed (or the head is unknown: a snapshot is right either way).
  return RebuildReason::kTrimmed;
}

int FeedFollower::rebuilds(RebuildReason reason) const {
  absl::MutexLock lock(&mu_);
  return rebuilds_[static_cast<int>(reason)];
}

std::optional<FeedFollower::Rebuild> FeedFollower::last_rebuild() const {
  absl::MutexLock lock(&mu_);
  return last_rebuild_;
}

std::string FeedFollower::graph_id() const { return mirror_->graph_id(); }

v1::FeedStatus FeedFollower::Status() const {
  v1::FeedStatus status;
  status.set_graph_id(graph_id());
  status.set_loaded(loaded());
  status.set_applied_sequence(applied_sequence());
  status.set_head_sequence(head_sequence());
  status.set_bootstraps(bootstraps());
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (RebuildReason r :
       {RebuildReason::kGraphChanged, RebuildReason::kAheadOfHead,
        RebuildReason::kTrimmed}) {
    const int n = rebuilds_[static_cast<int>(r)];
    (*status.mutable_rebuilds())[RebuildReasonName(r)] = n;
    total += n;
  }
  status.set_rebuilds_total(total);
  if (last_rebuild_.has_value()) {
    v1::FeedStatus::Rebuild* last = status.mutable_last_rebuild();
    last->set_reason(RebuildReasonName(last_rebuild_->reason));
    *last->mutable_time() = base::ToProtoTime(last_rebuild_->time);
    last->set_detail(last_rebuild_->detail);
  }
  if (!last_error_.ok()) status.set_last_error(last_error_.ToString());
  return status;
}

void FeedFollower::CountRebuild(RebuildReason reason,
                                const absl::Status& cause) {
  {
    absl::MutexLock lock(&mu_);
    ++rebuilds_[static_cast<int>(reason)];
    last_rebuild_ = Rebuild{reason, absl::Now(), std::string(cause.message())};
  }
  if (rebuilds_metric_ != nullptr) {
    rebuilds_metric_->WithLabels({RebuildReasonName(reason)}).Increment();
  }
}

std::optional<RebuildReason> FeedFollower::RebuildFor(
    const absl::Status& status) {
  return RebuildReasonFor(status, applied_.load(), graphstore_.get());
}

FeedFollower::~FeedFollower() { Stop(); }

void FeedFollower::Start() {
  thread_ = std::thread([this] { Run(); });
}

void FeedFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (call_ != nullptr) call_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status FeedFollower::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void FeedFollower::SetError(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  last_error_ = status;
}

bool FeedFollower::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping), d);
}

void FeedFollower::Run() {
  absl::Duration backoff = options_.retry_initial;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Status status;
    if (!loaded_.load()) {
      status = mirror_->applied_sequence() > 0 ? LoadFromMirror() : Bootstrap();
    } else {
      status = Follow();
      if (std::optional<RebuildReason> reason = RebuildFor(status)) {
        // Our position is not in the graph GraphStore holds, or no longer
        // in its log: start over from a snapshot.
        common::log::Warning(
            "graph feed: our position does not continue in GraphStore's "
            "graph; rebuilding from a snapshot",
            {{"reason", RebuildReasonName(*reason)},
             {"applied_sequence", applied_.load()},
             {"graph_id", mirror_->graph_id()},
             {"error", std::string(status.message())}});
        CountRebuild(*reason, status);
        status = Bootstrap();
      }
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (status.ok()) {
      backoff = options_.retry_initial;
      SetError(absl::OkStatus());
      continue;
    }
    SetError(status);
    common::log::Warning("graph feed interrupted; retrying",
                         {{"error", status.ToString()},
                          {"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
    if (!Sleep(backoff)) return;
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

absl::Status FeedFollower::LoadFromMirror() {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<v1::Link> links;
  int64_t sequence = mirror_->applied_sequence();
  if (absl::Status s = mirror_->ReadAll(&entities, &edges, &signals, &links);
      !s.ok()) {
    return s;
  }
  common::log::Info("resuming from the local copy of the graph",
                    {{"sequence", sequence},
                     {"entities", static_cast<int64_t>(entities.size())},
                     {"edges", static_cast<int64_t>(edges.size())},
                     {"links", static_cast<int64_t>(links.size())}});
  consumer_->Load(std::move(entities), std::move(edges), std::move(signals),
                  std::move(links), sequence);
  applied_.store(sequence);
  loaded_.store(true);
  return absl::OkStatus();
}

absl::Status FeedFollower::Bootstrap() {
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + options_.snapshot_deadline));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    call_ = &context;
  }
  auto clear_call = [this] {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  };
  bootstraps_.fetch_add(1);
  absl::Status status = mirror_->BeginReplace();
  int64_t entities = 0, edges = 0, signals = 0, links = 0;
  int64_t sequence = 0;
  std::string graph_id;
  if (status.ok()) {
    auto reader =
        graphstore_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    bool first = true;
    int32_t chunk_shard = 0;
    while (status.ok() && reader->Read(&chunk)) {
      // A router's export is every shard's in turn, but its change feed is
      // its own shard's: one feed cannot follow a partitioned graph.
      if (first) chunk_shard = chunk.shard();
      first = false;
      if (chunk.shard() != chunk_shard) {
        status = absl::FailedPreconditionError(absl::StrCat(
            "the graphstore is partitioned (its snapshot holds shard ",
            chunk_shard, " then shard ", chunk.shard(),
            "): follow every shard with --graphstore_shards"));
        break;
      }
      sequence = chunk.sequence();
      graph_id = chunk.graph_id();
      entities += chunk.entities_size();
      edges += chunk.edges_size();
      signals += chunk.signals_size();
      links += chunk.links_size();
      status = mirror_->AddChunk(
          std::vector<v1::Entity>(
              std::make_move_iterator(chunk.mutable_entities()->begin()),
              std::make_move_iterator(chunk.mutable_entities()->end())),
          std::vector<v1::Edge>(
              std::make_move_iterator(chunk.mutable_edges()->begin()),
              std::make_move_iterator(chunk.mutable_edges()->end())),
          std::vector<v1::Signal>(
              std::make_move_iterator(chunk.mutable_signals()->begin()),
              std::make_move_iterator(chunk.mutable_signals()->end())),
          std::vector<v1::Link>(
              std::make_move_iterator(chunk.mutable_links()->begin()),
              std::make_move_iterator(chunk.mutable_links()->end())));
    }
    if (!status.ok()) context.TryCancel();
    absl::Status finished = common::FromGrpcStatus(reader->Finish());
    if (status.ok()) status = finished;
  }
  clear_call();
  if (status.ok()) status = mirror_->FinishReplace(sequence, graph_id);
  if (!status.ok()) return status;
  common::log::Info("bootstrapped from a graph snapshot",
                    {{"sequence", sequence},
                     {"graph_id", graph_id},
                     {"entities", entities},
                     {"edges", edges},
                     {"signals", signals},
                     {"links", links}});
  head_.store(std::max(head_.load(), sequence));
  // The consumer loads what the mirror holds, in its key order, as after a
  // restart: the scores of a first start are then those of every restart,
  // and those of a scorer following shards (whose mirror orders the same
  // records alike), not those of the export's partition order (the engine's
  // node order, and so its sweeps, follow the load order).
  return LoadFromMirror();
}

absl::Status FeedFollower::Follow() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    call_ = &context;
  }
  v1::WatchChangesRequest request;
  request.set_from_sequence(applied_.load() + 1);
  const std::string graph_id = mirror_->graph_id();
  request.set_graph_id(graph_id);
  // The reserved pool: outside streams cannot lock the scorer out.
  request.set_follower_class(v1::FOLLOWER_CLASS_SERVICE);
  auto reader = graphstore_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  absl::Status status;
  std::vector<v1::Change> changes;
  bool checked = false;
  while (reader->Read(&response)) {
    if (!checked && !response.graph_id().empty()) {
      // The server checked the id we sent; this covers a mirror that had
      // none (it adopts the graph's) and a server that ignored it.
      checked = true;
      status = graph_id.empty()
                   ? mirror_->SetGraphId(response.graph_id())
                   : (response.graph_id() == graph_id
                          ? absl::OkStatus()
                          : absl::FailedPreconditionError(absl::StrCat(
                                "the feed is of graph ", response.graph_id(),
                                "; our position is in graph ", graph_id)));
      if (!status.ok()) {
        context.TryCancel();
        break;
      }
    }
    head_.store(response.head_sequence());
    if (response.changes_size() == 0) continue;  // Heartbeat.
    changes.assign(std::make_move_iterator(response.mutable_changes()->begin()),
                   std::make_move_iterator(response.mutable_changes()->end()));
    status = mirror_->ApplyChanges(changes);
    if (!status.ok()) {
      context.TryCancel();
      break;
    }
    consumer_->Apply(changes, response.head_sequence());
    applied_.store(changes.back().sequence());
    SetError(absl::OkStatus());
  }
  absl::Status finished = common::FromGrpcStatus(reader->Finish());
  {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  if (!status.ok()) return status;
  // A feed stream only ends with an error (cancel, shutdown, trimmed...).
  return finished.ok() ? absl::UnavailableError("feed ended") : finished;
}

}  // namespace georisk::scorer
