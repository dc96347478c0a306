// File: services/graphstore/resolution_shard.h
//
// The two faces of the Resolution service the router needs
// (routed_resolution.h, docs/scale-out.md "Resolution across shards through
// the router"), in the proto's types:
//
//   - ResolutionCalls: the four RPCs answered for the whole graph, what
//     ResolutionService hands a call to when the pod routes;
//   - ResolutionShard: what the router asks of one shard: its own answer to
//     MatchEntities, ListLinks and its part of ListReviewQueue, an entity,
//     and a write. This pod's shard answers in process
//     (LocalResolutionShard, resolution_service.h); another pod's over gRPC
//     (GrpcResolutionShard, grpc_resolution_shard.h) with the metadata
//     `georisk-shard-local`, so that it answers for its shard and does not
//     route again.
//
//   std::vector<std::unique_ptr<ResolutionShard>> shards = ...;  // index i: i
//   absl::StatusOr<v1::ListLinksResponse> page = shards[2]->Links(request);
//
// Implementations are thread-safe.
#ifndef GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SHARD_H_
#define GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SHARD_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/resolution.pb.h"

namespace georisk::graphstore {

// `status` of shard `shard` as a ResolutionShard answers it: OK and the
// errors about the request unchanged, the others named and recorded
// (common::FromShard).
absl::Status ShardAnswer(const absl::Status& status, int shard);

// The Resolution RPCs without gRPC; `principal` is the caller's token name,
// empty without authentication. Errors as resolution.proto documents.
class ResolutionCalls {
 public:
  virtual ~ResolutionCalls() = default;
  virtual absl::Status Match(const v1::MatchEntitiesRequest& request,
                             v1::MatchEntitiesResponse* response) = 0;
  virtual absl::Status ReviewQueue(const v1::ListReviewQueueRequest& request,
                                   v1::ListReviewQueueResponse* response) = 0;
  virtual absl::Status Review(const v1::ReviewLinkRequest& request,
                              absl::string_view principal,
                              v1::ReviewLinkResponse* response) = 0;
  virtual absl::Status Links(const v1::ListLinksRequest& request,
                             v1::ListLinksResponse* response) = 0;
};

// One shard, as the router reads and writes it. Errors the shard answers
// for the request (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
// OUT_OF_RANGE, PERMISSION_DENIED) come back as they are; the others (the
// shard is down or slow: UNAVAILABLE, DEADLINE_EXCEEDED...) name the shard
// ("graphstore-1: ...", recorded for the retry hint: shard_status.h).
class ResolutionShard {
 public:
  virtual ~ResolutionShard() = default;

  // The shard's MatchEntities: candidates among its own entities.
  virtual absl::StatusOr<v1::MatchEntitiesResponse> Match(
      const v1::MatchEntitiesRequest& request) = 0;
  // The shard's part of the review queue: the UNSURE links whose entity_a
  // (the smaller id, where the link's primary copy is) is in its
  // partitions, so the shards' parts together hold each link once;
  // `total_size` counts that part. Its page tokens are its own.
  virtual absl::StatusOr<v1::ListReviewQueueResponse> ReviewQueue(
      const v1::ListReviewQueueRequest& request) = 0;
  // The shard's ListLinks of an entity of its partitions (it holds a copy of
  // every link of that entity).
  virtual absl::StatusOr<v1::ListLinksResponse> Links(
      const v1::ListLinksRequest& request) = 0;
  // GetEntity of an entity of its partitions.
  virtual absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) = 0;
  // Applies `mutations` in one commit with `origin`, all or nothing (an
  // invalid mutation fails the call naming "mutations[i]..."); the commit's
  // sequence.
  virtual absl::StatusOr<int64_t> Apply(
      const std::vector<v1::Mutation>& mutations, absl::string_view origin) = 0;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SHARD_H_
