#include "services/ingest/ingest_service.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"

namespace georisk::ingest {
namespace {

using ingest::BatchApplier;
using ingest::BatchResult;
using ingest::IngestSession;
using ingest::PendingRecord;

IngestServiceOptions Sanitize(IngestServiceOptions options) {
  options.max_in_flight_records =
      std::max<int64_t>(options.max_in_flight_records, 1);
  options.session.batch_size = static_cast<int>(std::clamp<int64_t>(
      options.session.batch_size, 1, options.max_in_flight_records));
  options.max_concurrent_calls = std::max(options.max_concurrent_calls, 1);
  options.max_calls_per_client =
      std::clamp(options.max_calls_per_client, 1, options.max_concurrent_calls);
  return options;
}

ingest::ApplierOptions WithOrigin(ingest::ApplierOptions options,
                                  std::string origin) {
  options.origin = std::move(origin);
  return options;
}

// The status of a call stopped by a cancellation.
absl::Status Stopped(bool shutdown, const IngestSession& session) {
  if (shutdown) {
    return ingest::StreamError(
        absl::UnavailableError("ingest is shutting down"), session);
  }
  return absl::CancelledError("cancelled by the client");
}

}  // namespace

// What the service knows of a call in progress: how to stop it.
class IngestService::Call {
 public:
  virtual ~Call() = default;
  // Stops the call: at once if it waits, else when its GraphStore call
  // returns (which this cancels).
  virtual void Stop(bool shutdown) = 0;
  // Stops the call as Stop() does, ending it with DEADLINE_EXCEEDED, if it
  // has waited for its client's next message since `cutoff` or earlier.
  // Returns whether it did.
  virtual bool StopIfIdleSince(absl::Time cutoff) { return false; }
};

// One Ingest stream. The reactor reads and validates messages on gRPC's
// threads; its worker thread applies batches and finishes the call.
class IngestService::StreamReactor final
    : public grpc::ServerReadReactor<v1::IngestRequest>,
      public IngestService::Call {
 public:
  StreamReactor(IngestService* service, grpc::CallbackServerContext* context,
                v1::IngestResponse* response)
      : service_(service),
        context_(context),
        response_(response),
        session_(service->options_.session, &service->metrics_) {}

  // Starts reading, or refuses the call. Called once, before gRPC gets the
  // reactor.
  void Begin() {
    if (absl::Status refusal = service_->Admit(this, ClientIdentity(*context_));
        !refusal.ok()) {
      common::AddRetryHint(context_, refusal);
      Finish(common::ToGrpcStatus(refusal));
      return;
    }
    admitted_ = true;
    {
      absl::MutexLock lock(&mu_);
      last_message_ = service_->Now();
    }
    worker_ = std::thread([this] { Run(); });
    StartRead(&request_);
  }

  bool StopIfIdleSince(absl::Time cutoff) override {
    {
      absl::MutexLock lock(&mu_);
      // Waiting for the client: a read is outstanding and nothing else
      // holds the stream up.
      if (stopped_ || finished_ || paused_ || input_done_ || !failure_.ok() ||
          last_message_ > cutoff) {
        return false;
      }
      stopped_ = true;
      idle_ = true;
    }
    cancel_.Cancel();
    return true;
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    {
      absl::MutexLock lock(&mu_);
      last_message_ = service_->Now();
      if (!ok) {
        input_done_ = true;  // The client half-closed (or the call ended).
        return;
      }
      if (stopped_ || finished_ || !failure_.ok()) return;
      absl::Status s;
      if (!started_) {
        started_ = true;
        s = session_.Start(request_.options());
      }
      const int64_t limit = service_->options_.max_in_flight_records;
      if (s.ok() && request_.records_size() > limit) {
        s = ingest::StreamError(
            absl::ResourceExhaustedError(absl::StrCat(
                "a message may carry at most ", limit, " records, got ",
                request_.records_size(), ": send smaller messages")),
            session_);
      }
      if (s.ok()) {
        s = session_.Add(request_.mutable_records());
        if (!s.ok()) s = ingest::StreamError(s, session_);
      }
      request_.Clear();
      if (!s.ok()) {
        failure_ = s;
        return;
      }
      if (session_.in_flight() < limit) {
        read_more = true;
      } else {
        paused_ = true;  // The worker reads again once batches are applied.
      }
    }
    if (read_more) StartRead(&request_);
  }

  void OnCancel() override { Stop(/*shutdown=*/false); }

  void Stop(bool shutdown) override {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      shutdown_ = shutdown;
    }
    cancel_.Cancel();
  }

  void OnDone() override {
    if (worker_.joinable()) {
      if (worker_.get_id() == std::this_thread::get_id()) {
        worker_.detach();  // Finish() ran OnDone inline: Run() is done.
      } else {
        worker_.join();
      }
    }
    if (admitted_) service_->Release(this);
    delete this;
  }

 private:
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopped_ || !failure_.ok() || session_.HasFullBatch() ||
           ((paused_ || input_done_) && session_.queued() > 0) ||
           (input_done_ && session_.queued() == 0);
  }

  void Run() {
    std::optional<BatchApplier> applier;
    absl::Status status;
    bool stopped = false;
    bool shutdown = false;
    while (true) {
      std::vector<PendingRecord> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &StreamReactor::HasWork));
        if (stopped_) {
          stopped = true;
          shutdown = shutdown_;
          break;
        }
        if (!failure_.ok()) {
          status = failure_;
          break;
        }
        if (session_.queued() == 0) break;  // Input done, all applied.
        batch = session_.TakeBatch();
        session_dry_run_ = session_.dry_run();
        link_source_ = session_.LinkSource();
        if (!applier) {
          applier.emplace(
              service_->client_.get(),
              WithOrigin(service_->options_.applier, session_.origin()),
              &service_->metrics_);
        }
      }
      const BatchResult result = applier->Apply(&batch, &cancel_);
      bool read_more = false;
      {
        absl::MutexLock lock(&mu_);
        session_.Merge(batch, result);
        if (stopped_) {
          stopped = true;
          shutdown = shutdown_;
          break;
        }
        if (!result.status.ok()) {
          status = ingest::StreamError(result.status, session_);
          break;
        }
        if (paused_ &&
            session_.in_flight() < service_->options_.max_in_flight_records) {
          paused_ = false;
          // The client's wait starts now, not at its last message.
          last_message_ = service_->Now();
          read_more = true;
        }
      }
      if (read_more) StartRead(&request_);
      // Resolution after the acknowledgement, while the client keeps
      // sending: it never holds the records up, and never fails the stream.
      if (service_->resolver_ != nullptr && !session_dry_run_) {
        const ingest::ResolveResult resolved = service_->resolver_->Resolve(
            batch, result, link_source_, &*applier, &cancel_);
        absl::MutexLock lock(&mu_);
        session_.AddResolution(resolved);
      }
    }
    if (!stopped && status.ok()) {
      // The input is done and every record handled: no read is outstanding,
      // so nothing else touches the session now.
      if (!applier) {
        applier.emplace(
            service_->client_.get(),
            WithOrigin(service_->options_.applier, session_.origin()),
            &service_->metrics_);
      }
      status = ingest::EndSnapshot(&session_, service_->client_.get(),
                                   &*applier, &cancel_);
      absl::MutexLock lock(&mu_);
      if (stopped_) {
        stopped = true;
        shutdown = shutdown_;
      }
    }
    grpc::Status final_status;
    {
      absl::MutexLock lock(&mu_);
      if (stopped && idle_) {
        status = ingest::StreamError(
            absl::DeadlineExceededError(absl::StrCat(
                "no message from the client for ",
                absl::FormatDuration(service_->options_.stream_idle_timeout),
                ": the stream was ended as idle")),
            session_);
      } else if (stopped) {
        status = Stopped(shutdown, session_);
      }
      if (status.ok()) *response_->mutable_summary() = session_.Finish();
      final_status = common::ToGrpcStatus(status);
      finished_ = true;  // A read still outstanding is ignored.
    }
    common::AddRetryHint(context_, status);
    Finish(final_status);  // Last use of `this`: OnDone() may follow.
  }

  IngestService* const service_;
  grpc::CallbackServerContext* const context_;
  v1::IngestResponse* const response_;
  ingest::Cancellation cancel_;
  bool admitted_ = false;
  std::thread worker_;
  // Written by gRPC on StartRead(); read in OnReadDone().
  v1::IngestRequest request_;
  // The session's, copied by the worker for resolution outside mu_.
  bool session_dry_run_ = false;
  std::string link_source_;

  absl::Mutex mu_;
  IngestSession session_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // Reading waits for batches to be applied (flow control).
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool input_done_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  // Stopped by the idle check.
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
  // When the client last sent a message (or the stream began, or reading
  // resumed after a pause).
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

// One IngestBatch call, run on a thread of its own.
class IngestService::BatchReactor final : public grpc::ServerUnaryReactor,
                                          public IngestService::Call {
 public:
  BatchReactor(IngestService* service, grpc::CallbackServerContext* context,
               const v1::IngestBatchRequest* request,
               v1::IngestBatchResponse* response)
      : service_(service),
        context_(context),
        request_(request),
        response_(response) {}

  void Begin() {
    if (absl::Status refusal = service_->Admit(this, ClientIdentity(*context_));
        !refusal.ok()) {
      common::AddRetryHint(context_, refusal);
      Finish(common::ToGrpcStatus(refusal));
      return;
    }
    admitted_ = true;
    worker_ = std::thread([this] { Run(); });
  }

  void OnCancel() override { Stop(/*shutdown=*/false); }

  void Stop(bool shutdown) override {
    shutdown_.store(shutdown);
    cancel_.Cancel();
  }

  void OnDone() override {
    if (worker_.joinable()) {
      if (worker_.get_id() == std::this_thread::get_id()) {
        worker_.detach();
      } else {
        worker_.join();
      }
    }
    if (admitted_) service_->Release(this);
    delete this;
  }

 private:
  void Run() {
    const IngestServiceOptions& options = service_->options_;
    IngestSession session(options.session, &service_->metrics_);
    absl::Status status = session.Start(request_->options());
    if (status.ok() && request_->records_size() > options.max_batch_records) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("IngestBatch takes at most ", options.max_batch_records,
                       " records, got ", request_->records_size(),
                       ": use the Ingest stream"));
    }
    ingest::ApplierOptions applier_options =
        WithOrigin(options.applier, session.origin());
    applier_options.unreachable_probe = options.batch_unreachable_probe;
    BatchApplier applier(service_->client_.get(), std::move(applier_options),
                         &service_->metrics_);
    if (status.ok()) {
      google::protobuf::RepeatedPtrField<v1::Mutation> records =
          request_->records();
      status = session.Add(&records);
      if (!status.ok()) status = ingest::StreamError(status, session);
    }
    if (status.ok()) {
      status = ingest::DrainSession(&session, &applier, &cancel_,
                                    /*final=*/true, service_->resolver_.get());
    }
    if (status.ok()) {
      status = ingest::EndSnapshot(&session, service_->client_.get(), &applier,
                                   &cancel_);
    }
    if (cancel_.cancelled()) status = Stopped(shutdown_.load(), session);
    if (status.ok()) *response_->mutable_summary() = session.Finish();
    common::AddRetryHint(context_, status);
    Finish(common::ToGrpcStatus(status));  // Last use of `this`.
  }

  IngestService* const service_;
  grpc::CallbackServerContext* const context_;
  const v1::IngestBatchRequest* const request_;
  v1::IngestBatchResponse* const response_;
  ingest::Cancellation cancel_;
  std::atomic<bool> shutdown_{false};
  bool admitted_ = false;
  std::thread worker_;
};

IngestService::IngestService(
    std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
    IngestServiceOptions options, common::MetricsRegistry* registry,
    std::shared_ptr<v1::Resolution::StubInterface> resolution)
    : IngestService(ingest::NewGrpcGraphStoreClient(std::move(graphstore)),
                    resolution == nullptr ? nullptr
                                          : ingest::NewGrpcResolutionClient(
                                                std::move(resolution)),
                    std::move(options), registry) {}

IngestService::IngestService(std::shared_ptr<grpc::Channel> graphstore,
                             IngestServiceOptions options,
                             common::MetricsRegistry* registry)
    : IngestService(
          ingest::NewGrpcGraphStoreClient(v1::GraphStore::NewStub(graphstore),
                                          graphstore),
          ingest::NewGrpcResolutionClient(v1::Resolution::NewStub(graphstore)),
          std::move(options), registry) {}

IngestService::IngestService(
    std::unique_ptr<ingest::GraphStoreClient> client,
    std::unique_ptr<ingest::ResolutionClient> resolution,
    IngestServiceOptions options, common::MetricsRegistry* registry)
    : options_(Sanitize(std::move(options))),
      client_(std::move(client)),
      resolution_(std::move(resolution)),
      resolver_(options_.resolve_on_import && resolution_ != nullptr
                    ? std::make_unique<ingest::ImportResolver>(
                          resolution_.get(), options_.resolver)
                    : nullptr),
      metrics_(registry) {
  if (options_.stream_idle_timeout > absl::ZeroDuration() &&
      options_.idle_check_interval > absl::ZeroDuration()) {
    idle_thread_ = std::thread([this] { IdleLoop(); });
  }
}

IngestService::~IngestService() {
  Shutdown();
  if (idle_thread_.joinable()) idle_thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_map<Call*, std::string>* calls) {
        return calls->empty();
      },
      &calls_));
}

absl::Time IngestService::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

void IngestService::IdleLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&shutting_down_),
                           options_.idle_check_interval);
      if (shutting_down_) return;
    }
    CheckIdleStreams();
  }
}

int IngestService::CheckIdleStreams() {
  if (options_.stream_idle_timeout <= absl::ZeroDuration()) return 0;
  const absl::Time cutoff = Now() - options_.stream_idle_timeout;
  int stopped = 0;
  absl::MutexLock lock(&mu_);
  // With the lock held: a call leaves calls_ only in its OnDone().
  for (const auto& [call, client] : calls_) {
    stopped += call->StopIfIdleSince(cutoff);
  }
  return stopped;
}

void IngestService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  shutting_down_ = true;
  // With the lock held: a call leaves calls_ (and is deleted) only in its
  // OnDone(), which takes it.
  for (const auto& [call, client] : calls_) call->Stop(/*shutdown=*/true);
}

absl::Status IngestService::Admit(Call* call, const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) {
    return absl::UnavailableError("ingest is shutting down; retry elsewhere");
  }
  if (static_cast<int>(calls_.size()) >= options_.max_concurrent_calls) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", options_.max_concurrent_calls,
                     " Ingest calls at once; retry later"));
  }
  int& of_client = calls_by_client_[client];
  if (of_client >= options_.max_calls_per_client) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", options_.max_calls_per_client,
                     " Ingest calls at once from one client (", client,
                     "); finish one first"));
  }
  ++of_client;
  calls_.emplace(call, client);
  metrics_.streams->Add(1);
  return absl::OkStatus();
}

void IngestService::Release(Call* call) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  auto by_client = calls_by_client_.find(it->second);
  if (--by_client->second == 0) calls_by_client_.erase(by_client);
  calls_.erase(it);
  metrics_.streams->Add(-1);
}

std::string ClientIdentity(const grpc::CallbackServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    std::vector<grpc::string_ref> principal =
        auth->FindPropertyValues("georisk_principal");
    if (!principal.empty()) {
      return absl::StrCat("token:",
                          absl::string_view(principal.front().data(),
                                            principal.front().size()));
    }
  }
  // "ipv4:127.0.0.1:50123", "ipv6:[::1]:50123": drop the port.
  std::string peer = context.peer();
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) {
    peer.resize(colon);
  }
  return absl::StrCat("peer:", peer);
}

grpc::ServerReadReactor<v1::IngestRequest>* IngestService::Ingest(
    grpc::CallbackServerContext* context, v1::IngestResponse* response) {
  auto* reactor = new StreamReactor(this, context, response);
  reactor->Begin();
  return reactor;
}

grpc::ServerUnaryReactor* IngestService::IngestBatch(
    grpc::CallbackServerContext* context, const v1::IngestBatchRequest* request,
    v1::IngestBatchResponse* response) {
  auto* reactor = new BatchReactor(this, context, request, response);
  reactor->Begin();
  return reactor;
}

grpc::ServerUnaryReactor* IngestService::ListSources(
    grpc::CallbackServerContext* context, const v1::ListSourcesRequest*,
    v1::ListSourcesResponse* response) {
  if (sources_ != nullptr) {
    for (v1::SourceStatus& s : sources_->List()) {
      *response->add_sources() = std::move(s);
    }
  }
  return common::FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* IngestService::RunSource(
    grpc::CallbackServerContext* context, const v1::RunSourceRequest* request,
    v1::RunSourceResponse* response) {
  if (request->name().empty()) {
    return common::FinishUnary(context,
                               absl::InvalidArgumentError("name: required"));
  }
  if (sources_ == nullptr) {
    return common::FinishUnary(
        context, absl::NotFoundError(
                     absl::StrCat("no source named \"", request->name(),
                                  "\": ingest runs without --sources_config")));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  sources_->RunNowAsync(
      request->name(),
      [context, reactor, response](absl::StatusOr<v1::SourceStatus> status) {
        if (status.ok()) *response->mutable_source() = std::move(*status);
        common::AddRetryHint(context, status.status());
        reactor->Finish(common::ToGrpcStatus(status.status()));
      });
  return reactor;
}

}  // namespace georisk::ingest
