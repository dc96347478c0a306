// File: services/scorer/graph_feed_consumer.h
//
// GraphFeedConsumer is what a graph change feed feeds: the whole graph once,
// then every change after it, in order. FeedFollower calls it; ScoreState
// implements it. It names graph messages only (graph.proto), so a consumer
// needs neither gRPC nor the GraphStore service's generated code.
//
//   class Counter final : public GraphFeedConsumer {
//     void Load(std::vector<v1::Entity> e, std::vector<v1::Edge> x,
//               std::vector<v1::Signal> s, std::vector<v1::Link> l,
//               int64_t sequence) override {...}
//     void Apply(const std::vector<v1::Change>& changes,
//                int64_t head_sequence) override {...}
//   };
//
// Thread safety: the feed calls a consumer from one thread at a time; what
// the consumer shares with other threads is its own business.
#ifndef GEORISK_SERVICES_SCORER_GRAPH_FEED_CONSUMER_H_
#define GEORISK_SERVICES_SCORER_GRAPH_FEED_CONSUMER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "georisk/v1/graph.pb.h"
#include "georisk/v1/score.pb.h"

namespace georisk::scorer {

// The merged position of per-shard positions: the sum of their sequences.
inline int64_t SumOfPositions(const std::vector<v1::GraphPosition>& positions) {
  int64_t sum = 0;
  for (const v1::GraphPosition& p : positions) sum += p.sequence();
  return sum;
}

// What the follower feeds.
class GraphFeedConsumer {
 public:
  virtual ~GraphFeedConsumer() = default;
  // The whole graph at `sequence`: at start, and again after a bootstrap.
  // The vectors are handed over (moved in).
  virtual void Load(std::vector<v1::Entity> entities,
                    std::vector<v1::Edge> edges,
                    std::vector<v1::Signal> signals,
                    std::vector<v1::Link> links, int64_t sequence) = 0;
  // Consecutive changes following the last Load()/Apply(), already durable
  // in the mirror. `head_sequence` is GraphStore's head when they were sent.
  virtual void Apply(const std::vector<v1::Change>& changes,
                     int64_t head_sequence) = 0;

  // From a follower of several feeds (ShardedFeedFollower, one per
  // graphstore shard). The whole graph at `positions` (one per shard, shard
  // 0 first). Default: Load() at their sum.
  virtual void LoadShards(std::vector<v1::Entity> entities,
                          std::vector<v1::Edge> edges,
                          std::vector<v1::Signal> signals,
                          std::vector<v1::Link> links,
                          std::vector<v1::GraphPosition> positions) {
    const int64_t sum = SumOfPositions(positions);
    Load(std::move(entities), std::move(edges), std::move(signals),
         std::move(links), sum);
  }
  // Consecutive changes of shard `shard`'s feed, renumbered: each change's
  // sequence is the merged position it brings the consumer to (the sum of
  // every shard's position), consecutive after the last Load/Apply; the
  // shard's own sequence of the first is `shard_sequence` (of the k-th,
  // shard_sequence + k). `head_sequence`: the sum of the shards' heads.
  // Default: Apply().
  virtual void ApplyShard(int shard, int64_t shard_sequence,
                          const std::vector<v1::Change>& changes,
                          int64_t head_sequence) {
    (void)shard;
    (void)shard_sequence;
    Apply(changes, head_sequence);
  }
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_GRAPH_FEED_CONSUMER_H_
