// File: bench/supply_graph.h
//
// Deterministic synthetic supply-chain graphs for the graphstore benchmarks:
// entities "company/c0000123" and "facility/f0000125" (every fifth index is a
// facility), and distinct, valid edges between them with a skewed degree
// distribution (a few hubs, a long tail of small suppliers), a mix of
// SUPPLIES, OWNS and OPERATES, and optionally one "fan-out" entity with
// exactly `fanout_degree` neighbours and no other edge.
//
//   SupplyGraph graph({.entities = 1'000'000, .edges = 5'000'000});
//   for (int64_t i = 0; i < graph.options().entities; ++i) Use(MakeEntity(i));
//   std::vector<v1::Edge> batch;
//   while (graph.NextEdges(10'000, &batch)) Apply(batch);
//   // graph.fanout_entity_id() has exactly 1,000 outbound edges.
//
// The same options and seed always give the same graph, edge for edge.
// Thread-compatible: one SupplyGraph per thread.
#ifndef GEORISK_BENCH_SUPPLY_GRAPH_H_
#define GEORISK_BENCH_SUPPLY_GRAPH_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::bench {

// The id of synthetic entity `index` (>= 0): a facility when index % 5 == 0,
// a company otherwise.
std::string EntityId(int64_t index);
bool IsFacilityIndex(int64_t index);

// A valid entity record for `index`, with a name, a country, a facility type
// for facilities and a source.
v1::Entity MakeEntity(int64_t index);

struct SupplyGraphOptions {
  // Entities [0, entities) must exist before the edges are applied. At least
  // fanout_degree + 2 (and 10 without a fan-out entity).
  int64_t entities = 1'000'000;
  // Distinct edges in total, the fan-out entity's included.
  int64_t edges = 5'000'000;
  // Shares of OWNS (company -> company) and OPERATES (company -> facility)
  // edges; the rest are SUPPLIES with a product code.
  double owns_share = 0.15;
  double operates_share = 0.15;
  // Endpoint skew: an endpoint index is floor(entities * u^skew) for uniform
  // u, then (for targets) scattered by a bijection so that the biggest
  // suppliers and the biggest customers are different entities. 1 is
  // uniform; 3 gives the first supplier about 1% of all edges.
  double skew = 3.0;
  // Out-degree of the fan-out entity (SUPPLIES edges to distinct entities);
  // it takes part in no other edge. 0: no fan-out entity.
  int fanout_degree = 1000;
  uint64_t seed = 42;
};

class SupplyGraph {
 public:
  explicit SupplyGraph(const SupplyGraphOptions& options);

  const SupplyGraphOptions& options() const { return options_; }

  // Replaces `out` with the next at most `max` edges; returns false (and
  // leaves `out` empty) once every edge was produced. The fan-out entity's
  // edges come first.
  bool NextEdges(int max, std::vector<v1::Edge>* out);

  // Edges produced so far.
  int64_t produced() const { return produced_; }

  // Out-degree of each entity, over the edges produced so far.
  const std::vector<uint32_t>& out_degree() const { return out_degree_; }

  // -1 when fanout_degree is 0.
  int64_t fanout_entity() const { return fanout_entity_; }
  std::string fanout_entity_id() const { return EntityId(fanout_entity_); }

 private:
  int64_t SkewedIndex();
  int64_t SourceIndex();
  int64_t TargetIndex();
  // Adds the edge unless it exists already; returns whether it was added.
  bool Emit(int64_t from, v1::Edge::Kind kind, int64_t to,
            std::vector<v1::Edge>* out);

  const SupplyGraphOptions options_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  int64_t fanout_entity_ = -1;
  int64_t produced_ = 0;
  // (from * entities + to) * 4 + kind of every edge produced.
  absl::flat_hash_set<uint64_t> seen_;
  std::vector<uint32_t> out_degree_;
};

}  // namespace georisk::bench

#endif  // GEORISK_BENCH_SUPPLY_GRAPH_H_
