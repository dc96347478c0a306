// File: services/common/match_merge.h
//
// MergeMatches: the MatchEntities answers of every graphstore shard (each
// shard's Resolution index holds only its own partitions' entities) merged
// into the one answer a single index would give in shape: automatic links
// first, then by score descending (ties by entity id, so the order is the
// same on every run), at most the request's limit (0 means 5, at most 50:
// resolution.proto). The merged `sequence` is the sum of the shards'
// sequences: each shard numbers its own commits, so only the sum grows with
// every commit of the graph. Used by ingest's ShardedResolutionClient and
// by the routing graphstore (docs/scale-out.md).
//
//   v1::MatchEntitiesResponse merged =
//       MergeMatches({shard0_answer, shard1_answer}, request.limit());
//
// Pure; thread-safe.
#ifndef GEORISK_SERVICES_COMMON_MATCH_MERGE_H_
#define GEORISK_SERVICES_COMMON_MATCH_MERGE_H_

#include <vector>

#include "georisk/v1/resolution.pb.h"

namespace georisk::common {

// The candidates of `answers` (one per shard) merged as described above,
// at most `limit` (the request's field: 0 means 5, at most 50). Pure.
v1::MatchEntitiesResponse MergeMatches(
    std::vector<v1::MatchEntitiesResponse> answers, int limit);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_MATCH_MERGE_H_
