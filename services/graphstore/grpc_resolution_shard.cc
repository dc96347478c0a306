#include "services/graphstore/grpc_resolution_shard.h"

#include <string>
#include <utility>

#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"

namespace georisk::graphstore {

GrpcResolutionShard::GrpcResolutionShard(std::shared_ptr<grpc::Channel> channel,
                                         int shard, absl::Duration timeout)
    : resolution_(v1::Resolution::NewStub(channel)),
      graph_(v1::GraphStore::NewStub(std::move(channel))),
      shard_(shard),
      timeout_(timeout) {}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> GrpcResolutionShard::Call(
    Stub* stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                 Response*),
    const Request& request) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  context.AddMetadata(common::kShardLocalMetadata, "1");
  Response response;
  const grpc::Status status = (stub->*method)(&context, request, &response);
  if (!status.ok()) {
    return ShardAnswer(common::FromGrpcStatus(status), shard_);
  }
  return response;
}

absl::StatusOr<v1::MatchEntitiesResponse> GrpcResolutionShard::Match(
    const v1::MatchEntitiesRequest& request) {
  return Call(resolution_.get(), &v1::Resolution::Stub::MatchEntities, request);
}

absl::StatusOr<v1::ListReviewQueueResponse> GrpcResolutionShard::ReviewQueue(
    const v1::ListReviewQueueRequest& request) {
  return Call(resolution_.get(), &v1::Resolution::Stub::ListReviewQueue,
              request);
}

absl::StatusOr<v1::ListLinksResponse> GrpcResolutionShard::Links(
    const v1::ListLinksRequest& request) {
  return Call(resolution_.get(), &v1::Resolution::Stub::ListLinks, request);
}

absl::StatusOr<v1::Entity> GrpcResolutionShard::GetEntity(
    absl::string_view id) {
  v1::GetEntityRequest request;
  request.set_id(std::string(id));
  return Call(graph_.get(), &v1::GraphStore::Stub::GetEntity, request);
}

absl::StatusOr<int64_t> GrpcResolutionShard::Apply(
    const std::vector<v1::Mutation>& mutations, absl::string_view origin) {
  v1::ApplyRequest request;
  for (const v1::Mutation& m : mutations) *request.add_mutations() = m;
  request.set_origin(std::string(origin));
  absl::StatusOr<v1::ApplyResponse> applied =
      Call(graph_.get(), &v1::GraphStore::Stub::Apply, request);
  if (!applied.ok()) return applied.status();
  return applied->sequence();
}

}  // namespace georisk::graphstore
