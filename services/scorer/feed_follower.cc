#include "services/scorer/feed_follower.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"

namespace georisk::scorer {

FeedFollower::FeedFollower(
    std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
    storage::GraphMirror* mirror, GraphFeedConsumer* consumer,
    FeedFollowerOptions options)
    : graphstore_(std::move(graphstore)),
      mirror_(mirror),
      consumer_(consumer),
      options_(options) {}

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
      if (status.code() == absl::StatusCode::kOutOfRange) {
        // The changes we need were trimmed: start over from a snapshot.
        common::log::Warning("change feed trimmed past our sequence; bootstrapping",
                     {{"applied_sequence", applied_.load()},
                      {"error", std::string(status.message())}});
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
  int64_t sequence = mirror_->applied_sequence();
  if (absl::Status s = mirror_->ReadAll(&entities, &edges, &signals); !s.ok()) {
    return s;
  }
  common::log::Info("resuming from the local copy of the graph",
            {{"sequence", sequence},
             {"entities", static_cast<int64_t>(entities.size())},
             {"edges", static_cast<int64_t>(edges.size())}});
  consumer_->Load(std::move(entities), std::move(edges), std::move(signals),
                  sequence);
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
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  int64_t sequence = 0;
  if (status.ok()) {
    auto reader =
        graphstore_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    while (status.ok() && reader->Read(&chunk)) {
      sequence = chunk.sequence();
      size_t e0 = entities.size(), x0 = edges.size(), s0 = signals.size();
      for (auto& e : *chunk.mutable_entities())
        entities.push_back(std::move(e));
      for (auto& e : *chunk.mutable_edges()) edges.push_back(std::move(e));
      for (auto& s : *chunk.mutable_signals()) signals.push_back(std::move(s));
      status = mirror_->AddChunk(absl::MakeConstSpan(entities).subspan(e0),
                                 absl::MakeConstSpan(edges).subspan(x0),
                                 absl::MakeConstSpan(signals).subspan(s0));
    }
    if (!status.ok()) context.TryCancel();
    absl::Status finished = common::FromGrpcStatus(reader->Finish());
    if (status.ok()) status = finished;
  }
  clear_call();
  if (status.ok()) status = mirror_->FinishReplace(sequence);
  if (!status.ok()) return status;
  common::log::Info("bootstrapped from a graph snapshot",
            {{"sequence", sequence},
             {"entities", static_cast<int64_t>(entities.size())},
             {"edges", static_cast<int64_t>(edges.size())},
             {"signals", static_cast<int64_t>(signals.size())}});
  consumer_->Load(std::move(entities), std::move(edges), std::move(signals),
                  sequence);
  applied_.store(sequence);
  head_.store(std::max(head_.load(), sequence));
  loaded_.store(true);
  return absl::OkStatus();
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
  auto reader = graphstore_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  absl::Status status;
  std::vector<v1::Change> changes;
  while (reader->Read(&response)) {
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
