#include "services/scorer/shard_feed_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/rpc_edge.h"

namespace georisk::scorer {
namespace {

constexpr RebuildReason kReasons[] = {RebuildReason::kGraphChanged,
                                      RebuildReason::kAheadOfHead,
                                      RebuildReason::kTrimmed};

std::string ShardName(int shard) { return absl::StrCat("graphstore-", shard); }

// The most changes a shard's feed holds unapplied before it stops reading.
constexpr int64_t kMaxQueuedChanges = 1024;

}  // namespace

ShardedFeedFollower::ShardedFeedFollower(std::vector<Shard> shards,
                                         storage::GraphMirror* mirror,
                                         GraphFeedConsumer* consumer,
                                         FeedFollowerOptions options,
                                         std::function<absl::Time()> clock)
    : shards_(std::move(shards)),
      mirror_(mirror),
      consumer_(consumer),
      options_(options),
      clock_(std::move(clock)),
      started_(clock_()),
      state_(new ShardState[shards_.size()]),
      merge_(static_cast<int>(shards_.size()), options_.merge_hold, started_),
      apply_error_(shards_.size()) {
  for (int i = 0; i < static_cast<int>(shards_.size()); ++i) {
    v1::GraphPosition& p = positions_.emplace_back();
    p.set_shard(i);
  }
  reached_ = positions_;
  rebuilds_metric_ = AddRebuildsMetric(options_.registry);
  if (options_.registry == nullptr) return;
  lag_seconds_metric_ = &options_.registry->AddGauge(
      "georisk_scorer_feed_lag_seconds",
      "How stale the scorer's copy of a graphstore shard may be: seconds "
      "since the shard's feed last showed no change left to apply.",
      {"shard"});
  lag_changes_metric_ = &options_.registry->AddGauge(
      "georisk_scorer_feed_lag_changes",
      "A shard's head sequence, as its feed last reported it, minus the "
      "last of its changes the scorer applied.",
      {"shard"});
  connected_metric_ = &options_.registry->AddGauge(
      "georisk_scorer_feed_connected",
      "1 while the shard's change feed stream is open, else 0.", {"shard"});
  forced_metric_ =
      &options_.registry
           ->AddCounter("georisk_scorer_feed_merge_forced_total",
                        "Changes of a shard applied before every other "
                        "shard's feed had shown nothing earlier (it was down "
                        "or silent for the merge's hold): their order, and "
                        "the alert sequences around them, may differ between "
                        "replicas.")
           .WithLabels({});
  RefreshMetrics();
}

ShardedFeedFollower::~ShardedFeedFollower() { Stop(); }

void ShardedFeedFollower::Publish() {
  absl::MutexLock lock(&mu_);
  reached_ = positions_;
}

int64_t ShardedFeedFollower::applied_sequence() const {
  absl::MutexLock lock(&mu_);
  return SumOfPositions(reached_);
}

int64_t ShardedFeedFollower::applied_sequence(int shard) const {
  absl::MutexLock lock(&mu_);
  return reached_.at(shard).sequence();
}

int ShardedFeedFollower::bootstraps() const {
  int n = 0;
  for (int i = 0; i < shards(); ++i) n += state_[i].bootstraps.load();
  return n;
}

int ShardedFeedFollower::bootstraps(int shard) const {
  return state_[shard].bootstraps.load();
}

int ShardedFeedFollower::rebuilds(int shard, RebuildReason reason) const {
  absl::MutexLock lock(&mu_);
  return state_[shard].rebuilds[static_cast<int>(reason)];
}

double ShardedFeedFollower::LagSeconds(int shard) const {
  const std::optional<absl::Time>& at = state_[shard].caught_up;
  return std::max(0.0, absl::ToDoubleSeconds(clock_() - at.value_or(started_)));
}

v1::FeedStatus ShardedFeedFollower::Status() const {
  v1::FeedStatus status;
  status.set_loaded(loaded());
  int64_t applied = 0, head = 0, bootstraps = 0, total = 0;
  int64_t rebuilds[3] = {0, 0, 0};
  absl::MutexLock lock(&mu_);
  const std::vector<v1::GraphPosition>& positions = reached_;
  for (int i = 0; i < shards(); ++i) {
    const ShardState& s = state_[i];
    v1::ShardFeedStatus* out = status.add_shards();
    out->set_shard(i);
    out->set_target(shards_[i].target);
    out->set_graph_id(positions[i].graph_id());
    out->set_applied_sequence(positions[i].sequence());
    out->set_head_sequence(std::max(s.head.load(), positions[i].sequence()));
    out->set_connected(s.connected);
    if (s.caught_up.has_value()) {
      *out->mutable_caught_up_time() = base::ToProtoTime(*s.caught_up);
    }
    out->set_lag_seconds(LagSeconds(i));
    out->set_bootstraps(s.bootstraps.load());
    for (RebuildReason r : kReasons) {
      const int n = s.rebuilds[static_cast<int>(r)];
      (*out->mutable_rebuilds())[RebuildReasonName(r)] = n;
      rebuilds[static_cast<int>(r)] += n;
      total += n;
    }
    if (!s.last_error.ok()) out->set_last_error(s.last_error.ToString());
    if (!s.last_error.ok() && status.last_error().empty()) {
      status.set_last_error(
          absl::StrCat(ShardName(i), ": ", s.last_error.ToString()));
    }
    if (s.last_rebuild.has_value() &&
        (!status.has_last_rebuild() ||
         base::ToProtoTime(s.last_rebuild->time).seconds() >=
             status.last_rebuild().time().seconds())) {
      v1::FeedStatus::Rebuild* last = status.mutable_last_rebuild();
      last->set_reason(RebuildReasonName(s.last_rebuild->reason));
      *last->mutable_time() = base::ToProtoTime(s.last_rebuild->time);
      last->set_detail(
          absl::StrCat(ShardName(i), ": ", s.last_rebuild->detail));
    }
    applied += out->applied_sequence();
    head += out->head_sequence();
    bootstraps += out->bootstraps();
  }
  status.set_applied_sequence(applied);
  status.set_head_sequence(head);
  status.set_bootstraps(bootstraps);
  for (RebuildReason r : kReasons) {
    (*status.mutable_rebuilds())[RebuildReasonName(r)] =
        rebuilds[static_cast<int>(r)];
  }
  status.set_rebuilds_total(total);
  return status;
}

void ShardedFeedFollower::RefreshMetrics() {
  if (lag_seconds_metric_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> applied(shards());
  for (int i = 0; i < shards(); ++i) applied[i] = reached_[i].sequence();
  for (int i = 0; i < shards(); ++i) {
    const std::string label = absl::StrCat(i);
    lag_seconds_metric_->WithLabels({label}).Set(LagSeconds(i));
    lag_changes_metric_->WithLabels({label}).Set(static_cast<double>(
        std::max<int64_t>(0, state_[i].head.load() - applied[i])));
    connected_metric_->WithLabels({label}).Set(state_[i].connected ? 1 : 0);
  }
}

void ShardedFeedFollower::CountRebuild(int shard, RebuildReason reason,
                                       const absl::Status& cause) {
  {
    absl::MutexLock lock(&mu_);
    ++state_[shard].rebuilds[static_cast<int>(reason)];
    state_[shard].last_rebuild =
        FeedFollower::Rebuild{reason, clock_(), std::string(cause.message())};
  }
  if (rebuilds_metric_ != nullptr) {
    rebuilds_metric_->WithLabels({RebuildReasonName(reason)}).Increment();
  }
}

std::optional<RebuildReason> ShardedFeedFollower::RebuildFor(
    int shard, const absl::Status& status) {
  return RebuildReasonFor(status, mirror_->applied_sequence(shard),
                          shards_[shard].stub.get());
}

void ShardedFeedFollower::Start() {
  thread_ = std::thread([this] { Run(); });
  tick_thread_ = std::thread([this] {
    // A change the merge holds for a silent shard is let through when its
    // wait ends, even if no feed delivers anything meanwhile.
    for (int tick = 1; Sleep(absl::Milliseconds(100)); ++tick) {
      {
        absl::MutexLock lock(&apply_mu_);
        if (loaded_.load()) DrainLocked();
      }
      if (tick % 10 == 0) RefreshMetrics();
    }
  });
}

void ShardedFeedFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (int i = 0; i < shards(); ++i) {
      if (state_[i].call != nullptr) state_[i].call->TryCancel();
    }
  }
  if (thread_.joinable()) thread_.join();
  if (tick_thread_.joinable()) tick_thread_.join();
  // No thread is added once Run() has returned.
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(shard_threads_);
  }
  for (std::thread& t : threads) t.join();
}

bool ShardedFeedFollower::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void ShardedFeedFollower::SetError(int shard, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  state_[shard].last_error = status;
}

void ShardedFeedFollower::SetConnected(int shard, bool connected) {
  absl::MutexLock lock(&mu_);
  state_[shard].connected = connected;
}

void ShardedFeedFollower::CaughtUp(int shard) {
  absl::MutexLock lock(&mu_);
  state_[shard].caught_up = clock_();
}

bool ShardedFeedFollower::Sleep(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping), d);
}

void ShardedFeedFollower::Run() {
  // Every shard's records in the mirror, then one load of the whole graph.
  absl::Duration backoff = options_.retry_initial;
  while (true) {
    if (stopping()) return;
    absl::Status status;
    for (int i = 0; i < shards() && status.ok(); ++i) {
      if (mirror_->applied_sequence(i) > 0) continue;
      status = BootstrapShard(i);
      if (!status.ok()) {
        SetError(i, status);
        common::log::Warning(
            "graph feed: cannot read the shard's snapshot",
            {{"shard", ShardName(i)},
             {"error", status.ToString()},
             {"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
      }
    }
    if (status.ok()) status = LoadAll();
    if (status.ok()) break;
    if (!Sleep(backoff)) return;
    backoff = std::min(backoff * 2, options_.retry_max);
  }
  {
    absl::MutexLock apply_lock(&apply_mu_);
    merge_.StartWaiting(clock_());
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (int i = 0; i < shards(); ++i) {
    shard_threads_.emplace_back([this, i] { RunShard(i); });
  }
}

void ShardedFeedFollower::RunShard(int shard) {
  absl::Duration backoff = options_.retry_initial;
  bool rebuild = false;
  while (!stopping()) {
    absl::Status status;
    if (rebuild) {
      status = BootstrapShard(shard);
      if (status.ok()) status = LoadAll();
      if (status.ok()) rebuild = false;
    } else {
      status = Follow(shard);
      SetConnected(shard, false);
      if (std::optional<RebuildReason> reason = RebuildFor(shard, status)) {
        common::log::Warning(
            "graph feed: our position does not continue in the shard's "
            "graph; rebuilding the shard from its snapshot",
            {{"shard", ShardName(shard)},
             {"reason", RebuildReasonName(*reason)},
             {"applied_sequence", mirror_->applied_sequence(shard)},
             {"graph_id", mirror_->graph_id(shard)},
             {"error", std::string(status.message())}});
        CountRebuild(shard, *reason, status);
        rebuild = true;
        status = BootstrapShard(shard);
        if (status.ok()) status = LoadAll();
        if (status.ok()) rebuild = false;
      }
    }
    if (stopping()) return;
    if (status.ok()) {
      backoff = options_.retry_initial;
      SetError(shard, absl::OkStatus());
      continue;
    }
    SetError(shard, status);
    common::log::Warning("graph feed interrupted; retrying",
                         {{"shard", ShardName(shard)},
                          {"error", status.ToString()},
                          {"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
    if (!Sleep(backoff)) return;
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

absl::Status ShardedFeedFollower::BootstrapShard(int shard) {
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + options_.snapshot_deadline));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    state_[shard].call = &context;
  }
  state_[shard].bootstraps.fetch_add(1);
  absl::Status status = mirror_->BeginReplace(shard);
  int64_t sequence = 0, records = 0;
  std::string graph_id;
  if (status.ok()) {
    // A shard may also be a router (graphstore --route, every pod in prod),
    // whose export is every shard's in turn; its change feed is its own
    // shard's alone, and so must be the snapshot it resumes from.
    context.AddMetadata(common::kShardLocalMetadata, "1");
    auto reader = shards_[shard].stub->ExportSnapshot(
        &context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    bool first = true;
    int32_t chunk_shard = 0;
    while (status.ok() && reader->Read(&chunk)) {
      if (first) chunk_shard = chunk.shard();
      first = false;
      if (chunk.shard() != chunk_shard) {
        status = absl::FailedPreconditionError(
            absl::StrCat("shard ", shard, " (", shards_[shard].target,
                         ") exported more than its own shard (shard ",
                         chunk_shard, " then shard ", chunk.shard(),
                         "): a router that ignores georisk-shard-local"));
        break;
      }
      sequence = chunk.sequence();
      graph_id = chunk.graph_id();
      records += chunk.entities_size() + chunk.edges_size() +
                 chunk.signals_size() + chunk.links_size();
      std::vector<v1::Entity> entities(
          std::make_move_iterator(chunk.mutable_entities()->begin()),
          std::make_move_iterator(chunk.mutable_entities()->end()));
      std::vector<v1::Edge> edges(
          std::make_move_iterator(chunk.mutable_edges()->begin()),
          std::make_move_iterator(chunk.mutable_edges()->end()));
      std::vector<v1::Signal> signals(
          std::make_move_iterator(chunk.mutable_signals()->begin()),
          std::make_move_iterator(chunk.mutable_signals()->end()));
      std::vector<v1::Link> links(
          std::make_move_iterator(chunk.mutable_links()->begin()),
          std::make_move_iterator(chunk.mutable_links()->end()));
      status = mirror_->AddChunk(shard, entities, edges, signals, links);
    }
    if (!status.ok()) context.TryCancel();
    absl::Status finished = common::FromGrpcStatus(reader->Finish());
    if (status.ok()) status = finished;
  }
  {
    absl::MutexLock lock(&mu_);
    state_[shard].call = nullptr;
  }
  if (status.ok()) status = mirror_->FinishReplace(shard, sequence, graph_id);
  if (!status.ok()) return status;
  state_[shard].head.store(std::max(state_[shard].head.load(), sequence));
  CaughtUp(shard);
  common::log::Info("bootstrapped a shard from its snapshot",
                    {{"shard", ShardName(shard)},
                     {"sequence", sequence},
                     {"graph_id", graph_id},
                     {"records", records}});
  return absl::OkStatus();
}

absl::Status ShardedFeedFollower::LoadAll() {
  absl::MutexLock lock(&apply_mu_);
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<v1::Link> links;
  std::vector<v1::GraphPosition> positions(shards());
  for (int i = 0; i < shards(); ++i) {
    positions[i].set_shard(i);
    positions[i].set_graph_id(mirror_->graph_id(i));
    positions[i].set_sequence(mirror_->applied_sequence(i));
  }
  if (absl::Status s = mirror_->ReadAll(&entities, &edges, &signals, &links);
      !s.ok()) {
    return s;
  }
  common::log::Info("loading the local copy of every shard",
                    {{"shards", static_cast<int64_t>(shards())},
                     {"position", SumOfPositions(positions)},
                     {"entities", static_cast<int64_t>(entities.size())},
                     {"edges", static_cast<int64_t>(edges.size())},
                     {"links", static_cast<int64_t>(links.size())}});
  positions_ = positions;
  consumer_->LoadShards(std::move(entities), std::move(edges),
                        std::move(signals), std::move(links),
                        std::move(positions));
  Publish();
  loaded_.store(true);
  return absl::OkStatus();
}

void ShardedFeedFollower::DrainLocked() {
  const absl::Time now = clock_();
  while (std::optional<FeedMerge::Run> run = merge_.Next(now)) {
    const int shard = run->shard;
    std::vector<v1::Change>& changes = run->changes;
    if (run->forced > 0) {
      if (forced_metric_ != nullptr) forced_metric_->Increment(run->forced);
      common::log::Warning(
          "graph feed: applying a shard's changes before every other shard "
          "showed nothing earlier (a shard is down or silent): replicas may "
          "order them differently",
          {{"shard", ShardName(shard)},
           {"changes", static_cast<int64_t>(run->forced)},
           {"first_sequence", changes.front().sequence()}});
    }
    if (absl::Status s = mirror_->ApplyChanges(shard, changes); !s.ok()) {
      // Its feed restarts from the mirror's cursor.
      apply_error_[shard] = s;
      merge_.Reset(shard, mirror_->applied_sequence(shard));
      absl::MutexLock lock(&mu_);
      if (state_[shard].call != nullptr) state_[shard].call->TryCancel();
      continue;
    }
    const int64_t first = changes.front().sequence();
    const int64_t last = changes.back().sequence();
    int64_t merged = 0, heads = 0;
    for (int i = 0; i < shards(); ++i) {
      merged += positions_[i].sequence();
      heads += std::max(state_[i].head.load(),
                        i == shard ? last : positions_[i].sequence());
    }
    for (v1::Change& c : changes) c.set_sequence(++merged);
    positions_[shard].set_sequence(last);
    consumer_->ApplyShard(shard, first, changes, heads);
    Publish();
    if (merge_.queued(shard) == 0 && last >= state_[shard].head.load()) {
      CaughtUp(shard);
    }
  }
}

absl::Status ShardedFeedFollower::Follow(int shard) {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    state_[shard].call = &context;
  }
  v1::WatchChangesRequest request;
  {
    absl::MutexLock lock(&apply_mu_);
    merge_.Reset(shard, mirror_->applied_sequence(shard));
    apply_error_[shard] = absl::OkStatus();
  }
  request.set_from_sequence(mirror_->applied_sequence(shard) + 1);
  const std::string graph_id = mirror_->graph_id(shard);
  request.set_graph_id(graph_id);
  request.set_follower_class(v1::FOLLOWER_CLASS_SERVICE);
  if (shards() > 1) {
    // Each heartbeat carries the shard's watermark, which lets the other
    // shards' changes through the merge.
    const absl::Duration d = options_.merge_heartbeat;
    const int64_t seconds = absl::ToInt64Seconds(d);
    request.mutable_heartbeat_interval()->set_seconds(seconds);
    request.mutable_heartbeat_interval()->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(d - absl::Seconds(seconds))));
  }
  auto reader = shards_[shard].stub->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  absl::Status status;
  bool checked = false;
  bool first = true;
  while (reader->Read(&response)) {
    if (!checked && !response.graph_id().empty()) {
      checked = true;
      status = graph_id.empty()
                   ? mirror_->SetGraphId(shard, response.graph_id())
                   : (response.graph_id() == graph_id
                          ? absl::OkStatus()
                          : absl::FailedPreconditionError(absl::StrCat(
                                "the feed is of graph ", response.graph_id(),
                                "; our position is in graph ", graph_id)));
      if (!status.ok()) {
        context.TryCancel();
        break;
      }
      if (graph_id.empty()) {
        absl::MutexLock lock(&apply_mu_);
        positions_[shard].set_graph_id(response.graph_id());
        Publish();
      }
    }
    SetConnected(shard, true);
    const int64_t head = response.head_sequence();
    state_[shard].head.store(head);
    const absl::Time watermark =
        response.has_commit_watermark()
            ? base::FromProtoTime(response.commit_watermark())
            : absl::InfinitePast();
    std::vector<v1::Change> changes(
        std::make_move_iterator(response.mutable_changes()->begin()),
        std::make_move_iterator(response.mutable_changes()->end()));
    {
      absl::MutexLock lock(&apply_mu_);
      // A run of this shard the mirror refused dropped its queue: what this
      // stream brings now would not follow the mirror's cursor.
      if (!apply_error_[shard].ok()) {
        status = apply_error_[shard];
        context.TryCancel();
        break;
      }
      if (first) merge_.Connected(shard, true, clock_());
      first = false;
      merge_.Deliver(shard, std::move(changes), head, watermark, clock_());
      DrainLocked();
      if (merge_.queued(shard) == 0 &&
          mirror_->applied_sequence(shard) >= head) {
        CaughtUp(shard);
      }
      // Reading on while this feed's changes wait for the others' would
      // only grow the queue: the stream waits instead (the graphstore's
      // buffers hold the rest).
      auto drained = [this, shard]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_) {
        return merge_.queued(shard) <= kMaxQueuedChanges ||
               !apply_error_[shard].ok();
      };
      while (!apply_mu_.AwaitWithTimeout(absl::Condition(&drained),
                                         absl::Milliseconds(100))) {
        if (stopping()) break;
      }
      status = apply_error_[shard];
    }
    if (!status.ok()) {
      context.TryCancel();
      break;
    }
    SetError(shard, absl::OkStatus());
  }
  absl::Status finished = common::FromGrpcStatus(reader->Finish());
  {
    absl::MutexLock lock(&mu_);
    state_[shard].call = nullptr;
  }
  {
    // What it received and did not apply is read again by the next stream.
    absl::MutexLock lock(&apply_mu_);
    merge_.Connected(shard, false, clock_());
    merge_.Reset(shard, mirror_->applied_sequence(shard));
  }
  if (!status.ok()) return status;
  return finished.ok() ? absl::UnavailableError("feed ended") : finished;
}

}  // namespace georisk::scorer
