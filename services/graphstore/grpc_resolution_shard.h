// File: services/graphstore/grpc_resolution_shard.h
//
// GrpcResolutionShard: a ResolutionShard (resolution_shard.h) over another
// graphstore pod's georisk.v1.Resolution and georisk.v1.GraphStore, for the
// router (routed_resolution.h). Every call carries the metadata
// `georisk-shard-local` (the pod answers for its own shard, its review queue
// being its part of the whole, and does not route again) and its own
// deadline (`timeout`). Errors as ResolutionShard says: those about the
// request as the shard answered them, the others named ("graphstore-2:
// failed to connect to all addresses").
//
//   auto channel = common::MakeChannel({.target = "graphstore-2...:50051"});
//   GrpcResolutionShard shard(*channel, 2, absl::Seconds(10));
//
// Thread-safe.
#ifndef GEORISK_SERVICES_GRAPHSTORE_GRPC_RESOLUTION_SHARD_H_
#define GEORISK_SERVICES_GRAPHSTORE_GRPC_RESOLUTION_SHARD_H_

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/graphstore/resolution_shard.h"

namespace georisk::graphstore {

class GrpcResolutionShard final : public ResolutionShard {
 public:
  GrpcResolutionShard(std::shared_ptr<grpc::Channel> channel, int shard,
                      absl::Duration timeout);

  absl::StatusOr<v1::MatchEntitiesResponse> Match(
      const v1::MatchEntitiesRequest& request) override;
  absl::StatusOr<v1::ListReviewQueueResponse> ReviewQueue(
      const v1::ListReviewQueueRequest& request) override;
  absl::StatusOr<v1::ListLinksResponse> Links(
      const v1::ListLinksRequest& request) override;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<int64_t> Apply(const std::vector<v1::Mutation>& mutations,
                                absl::string_view origin) override;

 private:
  // Calls `method` of `stub` with the deadline and the shard-local
  // metadata; the answer or the shard's error (ShardAnswer).
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Stub* stub,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request) const;

  std::unique_ptr<v1::Resolution::Stub> resolution_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  const int shard_;
  const absl::Duration timeout_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_GRPC_RESOLUTION_SHARD_H_
