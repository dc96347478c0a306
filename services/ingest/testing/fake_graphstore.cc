#include "services/ingest/testing/fake_graphstore.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "base/proto_time.h"
#include "services/graphstore/graphstore_service.h"

namespace georisk::ingest::testing {
namespace {

class DirectClient final : public GraphStoreClient {
 public:
  explicit DirectClient(FakeGraphStore* fake) : fake_(fake) {}
  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request,
                                          absl::Time deadline,
                                          Cancellation* cancel) override {
    return fake_->Apply(request, deadline, [cancel] {
      return cancel != nullptr && cancel->cancelled();
    });
  }
  absl::StatusOr<v1::ListSignalsResponse> ListSignals(
      const v1::ListSignalsRequest& request, absl::Time deadline,
      Cancellation* cancel) override {
    return fake_->ListSignals(request);
  }
  absl::Status ExportSnapshot(
      const std::function<void(v1::ExportSnapshotResponse&)>& on_chunk,
      absl::Time deadline, Cancellation* cancel) override {
    absl::StatusOr<std::vector<v1::ExportSnapshotResponse>> chunks =
        fake_->ExportSnapshot();
    if (!chunks.ok()) return chunks.status();
    for (v1::ExportSnapshotResponse& chunk : *chunks) on_chunk(chunk);
    return absl::OkStatus();
  }

 private:
  FakeGraphStore* const fake_;
};

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                               const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(common::ToGrpcStatus(status));
  return reactor;
}

class Service final : public v1::GraphStore::CallbackService {
 public:
  explicit Service(FakeGraphStore* fake) : fake_(fake) {}

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* context,
                                  const v1::ApplyRequest* request,
                                  v1::ApplyResponse* response) override {
    absl::StatusOr<v1::ApplyResponse> r =
        fake_->Apply(*request, absl::FromChrono(context->deadline()),
                     [context] { return context->IsCancelled(); });
    if (r.ok()) *response = std::move(*r);
    return Done(context, r.status());
  }

  grpc::ServerUnaryReactor* ListSignals(
      grpc::CallbackServerContext* context,
      const v1::ListSignalsRequest* request,
      v1::ListSignalsResponse* response) override {
    absl::StatusOr<v1::ListSignalsResponse> r = fake_->ListSignals(*request);
    if (r.ok()) *response = std::move(*r);
    return Done(context, r.status());
  }

  // Writes the export's messages one after the other (the fake reads the
  // whole snapshot first; the real service streams it).
  class ExportReactor final
      : public grpc::ServerWriteReactor<v1::ExportSnapshotResponse> {
   public:
    explicit ExportReactor(FakeGraphStore* fake) {
      absl::StatusOr<std::vector<v1::ExportSnapshotResponse>> chunks =
          fake->ExportSnapshot();
      if (!chunks.ok()) {
        Finish(common::ToGrpcStatus(chunks.status()));
        return;
      }
      chunks_ = std::move(*chunks);
      Next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        return;
      }
      Next();
    }
    void OnDone() override { delete this; }

   private:
    void Next() {
      if (next_ == chunks_.size()) {
        Finish(grpc::Status::OK);
        return;
      }
      StartWrite(&chunks_[next_++]);
    }
    std::vector<v1::ExportSnapshotResponse> chunks_;
    size_t next_ = 0;
  };

  grpc::ServerWriteReactor<v1::ExportSnapshotResponse>* ExportSnapshot(
      grpc::CallbackServerContext* context,
      const v1::ExportSnapshotRequest* request) override {
    return new ExportReactor(fake_);
  }

  grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                      const v1::GetEntityRequest* request,
                                      v1::Entity* response) override {
    absl::StatusOr<v1::Entity> e = fake_->store()->GetEntity(request->id());
    if (e.ok()) *response = std::move(*e);
    return Done(context, e.status());
  }

  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override {
    absl::StatusOr<storage::StoreStats> s = fake_->store()->GetStats();
    if (s.ok()) {
      response->set_entity_count(s->entity_count);
      response->set_edge_count(s->edge_count);
      response->set_signal_count(s->signal_count);
      response->set_last_sequence(s->last_sequence);
    }
    return Done(context, s.status());
  }

 private:
  FakeGraphStore* const fake_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FakeGraphStore>> FakeGraphStore::Create(
    const std::string& dir) {
  storage::RocksDbGraphStoreOptions options;
  options.path = dir;
  options.sync = false;
  auto store = storage::RocksDbGraphStore::Open(options);
  if (!store.ok()) return store.status();
  std::unique_ptr<FakeGraphStore> fake(new FakeGraphStore);
  fake->store_ = std::move(*store);
  fake->service_ = std::make_unique<Service>(fake.get());
  return fake;
}

FakeGraphStore::~FakeGraphStore() = default;

void FakeGraphStore::FailNextApplies(int n, absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
  fail_status_ = std::move(status);
}

void FakeGraphStore::FailAllApplies(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_all_ = std::move(status);
}

void FakeGraphStore::SetApplyDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

void FakeGraphStore::SetMaxBatch(int max) {
  absl::MutexLock lock(&mu_);
  max_batch_ = max;
}

void FakeGraphStore::OnApply(std::function<void(const v1::ApplyRequest&)> h) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(h);
}

int FakeGraphStore::apply_calls() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(batch_sizes_.size());
}

std::vector<int> FakeGraphStore::batch_sizes() const {
  absl::MutexLock lock(&mu_);
  return batch_sizes_;
}

absl::StatusOr<v1::ApplyResponse> FakeGraphStore::Apply(
    const v1::ApplyRequest& request, absl::Time deadline,
    const std::function<bool()>& cancelled) {
  absl::Duration delay;
  std::optional<absl::Status> fail;
  std::function<void(const v1::ApplyRequest&)> hook;
  {
    absl::MutexLock lock(&mu_);
    batch_sizes_.push_back(request.mutations_size());
    delay = delay_;
    hook = hook_;
    if (!fail_all_.ok()) {
      fail = fail_all_;
    } else if (fail_next_ > 0) {
      --fail_next_;
      fail = fail_status_;
    } else if (max_batch_ > 0 && request.mutations_size() > max_batch_) {
      fail = absl::ResourceExhaustedError(
          absl::StrCat("more than ", max_batch_, " mutations"));
    }
  }
  if (hook) hook(request);
  if (delay > absl::ZeroDuration()) {
    const absl::Time until = std::min(absl::Now() + delay, deadline);
    while (absl::Now() < until) {
      if (cancelled && cancelled()) return absl::CancelledError("cancelled");
      absl::SleepFor(std::min(absl::Milliseconds(5), until - absl::Now()));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("deadline exceeded");
    }
  }
  if (fail) return *fail;
  absl::StatusOr<storage::ApplyResult> result =
      store_->Apply(request.mutations(), request.origin());
  if (!result.ok()) return result.status();
  v1::ApplyResponse response;
  response.set_sequence(result->sequence);
  *response.mutable_commit_time() = base::ToProtoTime(result->commit_time);
  for (storage::MutationOutcome o : result->outcomes) {
    response.add_outcomes(graphstore::OutcomeToProto(o));
  }
  response.set_cascaded_edge_deletes(result->cascaded_edge_deletes);
  return response;
}

absl::StatusOr<v1::ListSignalsResponse> FakeGraphStore::ListSignals(
    const v1::ListSignalsRequest& request) {
  storage::SignalQuery query;
  query.source = request.source();
  query.target_id = request.target_id();
  query.authority = request.authority();
  query.page_size = request.page_size();
  query.page_token = request.page_token();
  if (request.has_active_at())
    query.active_at = base::FromProtoTime(request.active_at());
  absl::StatusOr<storage::SignalPage> page = store_->ListSignals(query);
  if (!page.ok()) return page.status();
  v1::ListSignalsResponse response;
  for (v1::Signal& s : page->signals) *response.add_signals() = std::move(s);
  response.set_next_page_token(page->next_page_token);
  return response;
}

std::unique_ptr<GraphStoreClient> FakeGraphStore::NewClient() {
  return std::make_unique<DirectClient>(this);
}

absl::StatusOr<std::vector<v1::ExportSnapshotResponse>>
FakeGraphStore::ExportSnapshot() {
  std::vector<v1::ExportSnapshotResponse> out;
  const absl::Status status = store_->ExportSnapshot(
      [&out](storage::SnapshotChunk& chunk) {
        v1::ExportSnapshotResponse& r = out.emplace_back();
        for (v1::Entity& e : chunk.entities) *r.add_entities() = std::move(e);
        for (v1::Edge& e : chunk.edges) *r.add_edges() = std::move(e);
        for (v1::Signal& s : chunk.signals) *r.add_signals() = std::move(s);
        r.set_sequence(chunk.sequence);
        return absl::OkStatus();
      },
      /*chunk_records=*/100);
  if (!status.ok()) return status;
  return out;
}

}  // namespace georisk::ingest::testing
