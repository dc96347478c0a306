#include "services/ingest/resolution_client.h"

#include <memory>
#include <utility>

#include "grpcpp/client_context.h"
#include "services/common/grpc_status.h"

namespace georisk::ingest {
namespace {

class GrpcResolutionClient final : public ResolutionClient {
 public:
  explicit GrpcResolutionClient(
      std::shared_ptr<v1::Resolution::StubInterface> stub)
      : stub_(std::move(stub)) {}

  absl::StatusOr<v1::MatchEntitiesResponse> MatchEntities(
      const v1::MatchEntitiesRequest& request, absl::Time deadline,
      Cancellation* cancel) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    if (cancel != nullptr &&
        !cancel->SetHook([&context] { context.TryCancel(); })) {
      return absl::CancelledError("ingest stream cancelled");
    }
    v1::MatchEntitiesResponse response;
    const grpc::Status status =
        stub_->MatchEntities(&context, request, &response);
    if (cancel != nullptr) cancel->ClearHook();
    if (!status.ok()) return common::FromGrpcStatus(status);
    return response;
  }

 private:
  const std::shared_ptr<v1::Resolution::StubInterface> stub_;
};

}  // namespace

std::unique_ptr<ResolutionClient> NewGrpcResolutionClient(
    std::shared_ptr<v1::Resolution::StubInterface> stub) {
  return std::make_unique<GrpcResolutionClient>(std::move(stub));
}

}  // namespace georisk::ingest
