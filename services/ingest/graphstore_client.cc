#include "services/ingest/graphstore_client.h"

#include <memory>
#include <utility>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace georisk::ingest {
namespace {

class GrpcGraphStoreClient final : public GraphStoreClient {
 public:
  GrpcGraphStoreClient(std::shared_ptr<v1::GraphStore::StubInterface> stub,
                       std::shared_ptr<grpc::Channel> channel)
      : stub_(std::move(stub)), channel_(std::move(channel)) {}

  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request,
                                          absl::Time deadline,
                                          Cancellation* cancel) override {
    v1::ApplyResponse response;
    absl::Status s = Call(deadline, cancel, [&](grpc::ClientContext* context) {
      return stub_->Apply(context, request, &response);
    });
    if (!s.ok()) return s;
    return response;
  }

  absl::StatusOr<v1::ListSignalsResponse> ListSignals(
      const v1::ListSignalsRequest& request, absl::Time deadline,
      Cancellation* cancel) override {
    v1::ListSignalsResponse response;
    absl::Status s = Call(deadline, cancel, [&](grpc::ClientContext* context) {
      return stub_->ListSignals(context, request, &response);
    });
    if (!s.ok()) return s;
    return response;
  }

  absl::Status ExportSnapshot(
      const std::function<void(v1::ExportSnapshotResponse&)>& on_chunk,
      absl::Time deadline, Cancellation* cancel) override {
    return Call(deadline, cancel, [&](grpc::ClientContext* context) {
      std::unique_ptr<grpc::ClientReaderInterface<v1::ExportSnapshotResponse>>
          reader = stub_->ExportSnapshot(context, v1::ExportSnapshotRequest());
      v1::ExportSnapshotResponse chunk;
      while (reader->Read(&chunk)) {
        on_chunk(chunk);
        chunk.Clear();
      }
      return reader->Finish();
    });
  }

 private:
  template <typename Fn>
  absl::Status Call(absl::Time deadline, Cancellation* cancel, Fn fn) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    if (cancel != nullptr &&
        !cancel->SetHook([&context] { context.TryCancel(); })) {
      return absl::CancelledError("ingest stream cancelled");
    }
    const grpc::Status status = fn(&context);
    if (cancel != nullptr) cancel->ClearHook();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        channel_ != nullptr) {
      // gRPC waits longer and longer between reconnection attempts (1 s,
      // 1.6 s... up to 2 min) and fails calls at once meanwhile: the next
      // retry should find a graphstore that came back.
      grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
    }
    return common::FromGrpcStatus(status);
  }

  const std::shared_ptr<v1::GraphStore::StubInterface> stub_;
  const std::shared_ptr<grpc::Channel> channel_;  // May be null.
};

}  // namespace

std::unique_ptr<GraphStoreClient> NewGrpcGraphStoreClient(
    std::shared_ptr<v1::GraphStore::StubInterface> stub,
    std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcGraphStoreClient>(std::move(stub),
                                                std::move(channel));
}

}  // namespace georisk::ingest
