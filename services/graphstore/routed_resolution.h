// File: services/graphstore/routed_resolution.h
//
// RoutedResolution: the georisk.v1.Resolution service a graphstore pod
// answers with --route, for the whole partitioned graph (docs/scale-out.md,
// "Resolution across shards through the router"), over one ResolutionShard
// per shard (resolution_shard.h):
//
//   MatchEntities    every shard at once; their candidates merged as one
//                    index answers (common::MergeMatches); all or nothing
//   ListReviewQueue  every shard's part (the links whose entity_a it owns)
//                    merged in the one index's order: score descending,
//                    then entity_a, then entity_b; the page token carries
//                    one position per shard (routed_paging.h), bound to the
//                    filters; `total_size` is the shards' sum
//   ListLinks        the shard of `entity_id` (it holds a copy of every link
//                    of the entity, as it holds both copies of its edges)
//   ReviewLink       both ends read from their shards, the stored link from
//                    the shard of the smaller id (its primary copy); the
//                    decision written on that shard, and for a pair across
//                    shards the other copy on the other end's shard, as
//                    ingest writes a link across shards (one copy per shard,
//                    keys "<k>/out" and "<k>/in", each shard's outbox
//                    queuing the other's copy in the same commit)
//
// A shard that is down fails only the calls that need it, UNAVAILABLE naming
// it ("graphstore-1: ...", with the shard recorded for the retry hint).
//
//   std::vector<std::unique_ptr<ResolutionShard>> shards = ...;  // index i: i
//   auto router = RoutedResolution::Create(map, std::move(shards), {});
//   resolution_service.RouteThrough(router->get());
//
// Thread-safe: every call may run concurrently (MatchEntities asks the
// shards on threads of its own); the shards must be.
#ifndef GEORISK_SERVICES_GRAPHSTORE_ROUTED_RESOLUTION_H_
#define GEORISK_SERVICES_GRAPHSTORE_ROUTED_RESOLUTION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/graphstore/resolution_shard.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {

struct RoutedResolutionOptions {
  // The clock of a review's decided_at. Default (empty): absl::Now.
  std::function<absl::Time()> clock;
};

// The order key of a link in the review queue: its bytes sort as the one
// index lists the queue (score descending, then entity_a, then entity_b).
std::string ReviewQueueOrder(const v1::Link& link);

class RoutedResolution final : public ResolutionCalls {
 public:
  // `shards[i]` is shard i of `map`. Errors: INVALID_ARGUMENT when they are
  // not one per shard of the map.
  static absl::StatusOr<std::unique_ptr<RoutedResolution>> Create(
      storage::PartitionMap map,
      std::vector<std::unique_ptr<ResolutionShard>> shards,
      RoutedResolutionOptions options);

  absl::Status Match(const v1::MatchEntitiesRequest& request,
                     v1::MatchEntitiesResponse* response) override;
  absl::Status ReviewQueue(const v1::ListReviewQueueRequest& request,
                           v1::ListReviewQueueResponse* response) override;
  // `response.sequence` and `link.update_sequence` are the commit of the
  // shard of the pair's smaller id. When the other end's shard cannot be
  // written after the first copy was (it went down in between), the review
  // is durable and answered OK: the first shard's outbox delivers the other
  // copy when it is back.
  absl::Status Review(const v1::ReviewLinkRequest& request,
                      absl::string_view principal,
                      v1::ReviewLinkResponse* response) override;
  absl::Status Links(const v1::ListLinksRequest& request,
                     v1::ListLinksResponse* response) override;

 private:
  RoutedResolution(storage::PartitionMap map,
                   std::vector<std::unique_ptr<ResolutionShard>> shards,
                   RoutedResolutionOptions options)
      : map_(std::move(map)),
        shards_(std::move(shards)),
        options_(std::move(options)) {}

  ResolutionShard& OwnerOf(absl::string_view id) const {
    return *shards_[map_.ShardOf(id)];
  }
  // The link between `lo` < `hi` as the shard of `lo` holds it (its
  // ListLinks, paged up to `hi`); NOT_FOUND when there is none.
  absl::StatusOr<v1::Link> FindLink(const std::string& lo,
                                    const std::string& hi) const;
  absl::Time Now() const;

  const storage::PartitionMap map_;
  const std::vector<std::unique_ptr<ResolutionShard>> shards_;
  const RoutedResolutionOptions options_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_ROUTED_RESOLUTION_H_
