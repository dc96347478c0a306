// File: bench/scorer_graph.h
//
// The supply graph of the scorer benchmarks (bench/scorer_bench.cc,
// bench/alert_bench.cc): entities "company/c0000123" and "facility/f0000125"
// (every fifth index a facility) in six tiers (raw materials -> components
// -> ... -> end customers); every fifth entity a facility operated by one
// company (5% by two) at that company's tier; half the companies owned by a
// parent in the same or the next tier (20% with a minority co-owner
// anywhere); each customer depending on a few suppliers of the tier below
// with dependency shares summing to 0.6..1 (hub suppliers preferred), and 2%
// of supply edges from any tier, which close cycles. Signals: cross-strait
// tension, US tariff programmes that stack on CN lines, a few thousand
// listings, a destination control and VEU-style revocations.
//
//   ScorerGraph g = GenerateScorerGraph(1'000'000, 5'000'000, /*seed=*/42);
//   engine.Load(std::move(g.entities), std::move(g.edges), ...);
//
// The same arguments always give the same graph. Thread-compatible.
#ifndef GEORISK_BENCH_SCORER_GRAPH_H_
#define GEORISK_BENCH_SCORER_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "georisk/v1/graph.pb.h"

namespace georisk::bench {

struct ScorerGraph {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<int> tier;  // Per entity, 0..5.
};

// The id of entity `i` of a generated graph.
std::string ScorerGraphId(int64_t i);

// `entities` entities and about `edges` edges (the supply edges fill the
// budget left by the operating and ownership ones).
ScorerGraph GenerateScorerGraph(int64_t entities, int64_t edges, uint64_t seed);

}  // namespace georisk::bench

#endif  // GEORISK_BENCH_SCORER_GRAPH_H_
