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
#include <vector>

#include "georisk/v1/graph.pb.h"

namespace georisk::scorer {

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
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_GRAPH_FEED_CONSUMER_H_
