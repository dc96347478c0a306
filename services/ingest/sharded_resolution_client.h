// File: services/ingest/sharded_resolution_client.h
//
// ShardedResolutionClient: entity resolution against a partitioned graph
// (docs/scale-out.md, "Resolution across shards"). Each graphstore shard's
// Resolution index holds only the entities of its own partitions, so a
// record must be matched against every shard: MatchEntities is sent to all
// of them at once and their candidates are merged into the one answer a
// single index would give in shape: automatic links first, then by score
// descending (ties by entity id, so the order is the same on every run), at
// most the request's limit (0 means 5, at most 50: resolution.proto).
//
//   std::vector<std::unique_ptr<ResolutionClient>> shards = ...;  // shard i
//   auto client = ShardedResolutionClient::Create(std::move(shards));
//   absl::StatusOr<v1::MatchEntitiesResponse> r =
//       (*client)->MatchEntities(request, deadline, &cancel);
//
// All or nothing: when one shard fails, the call fails with that shard's
// error, named ("graphstore-1: ..."; the most telling one when several
// fail: an answer about the request before a transport error). A partial
// answer would be wrong, not merely incomplete: the missing shard may hold
// the record's automatic link, and the import would write a review link to
// a lesser candidate instead. ImportResolver counts a failed match as not
// resolved, with the reason.
//
// The merged `sequence` is the sum of the shards' sequences: each shard
// numbers its own commits, so only the sum grows with every commit of the
// graph (the scorer's positions use the same rule).
//
// Thread-safe: calls may run concurrently (each one fans out on threads of
// its own, one per shard).
#ifndef GEORISK_SERVICES_INGEST_SHARDED_RESOLUTION_CLIENT_H_
#define GEORISK_SERVICES_INGEST_SHARDED_RESOLUTION_CLIENT_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/resolution.pb.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/resolution_client.h"

namespace georisk::ingest {

class ShardedResolutionClient final : public ResolutionClient {
 public:
  // `shards[i]` is shard i's client; none may be null, at least one.
  static absl::StatusOr<std::unique_ptr<ShardedResolutionClient>> Create(
      std::vector<std::unique_ptr<ResolutionClient>> shards);

  absl::StatusOr<v1::MatchEntitiesResponse> MatchEntities(
      const v1::MatchEntitiesRequest& request, absl::Time deadline,
      Cancellation* cancel) override;

 private:
  explicit ShardedResolutionClient(
      std::vector<std::unique_ptr<ResolutionClient>> shards);

  const std::vector<std::unique_ptr<ResolutionClient>> shards_;
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SHARDED_RESOLUTION_CLIENT_H_
