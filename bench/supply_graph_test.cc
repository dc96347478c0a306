#include "bench/supply_graph.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "domain/validation.h"
#include "gtest/gtest.h"

namespace georisk::bench {
namespace {

std::vector<v1::Edge> AllEdges(SupplyGraph& graph) {
  std::vector<v1::Edge> all, batch;
  while (graph.NextEdges(777, &batch)) {
    EXPECT_LE(batch.size(), 777u);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

TEST(SupplyGraphTest, EntitiesAreValid) {
  for (int64_t i : {0, 1, 4, 5, 999'999}) {
    v1::Entity e = MakeEntity(i);
    EXPECT_TRUE(domain::ValidateEntity(e, "e").ok()) << e.DebugString();
    EXPECT_EQ(e.id(), EntityId(i));
  }
  EXPECT_EQ(EntityId(5), "facility/f0000005");
  EXPECT_EQ(EntityId(7), "company/c0000007");
}

TEST(SupplyGraphTest, EdgesAreValidDistinctAndCounted) {
  SupplyGraph graph({.entities = 20'000, .edges = 60'000});
  const std::vector<v1::Edge> edges = AllEdges(graph);
  ASSERT_EQ(edges.size(), 60'000u);
  EXPECT_EQ(graph.produced(), 60'000);

  std::set<std::tuple<std::string, int, std::string, std::string>> keys;
  int kinds[4] = {};
  for (const v1::Edge& e : edges) {
    ASSERT_TRUE(domain::ValidateEdge(e, "e").ok()) << e.DebugString();
    EXPECT_TRUE(
        keys.emplace(e.from_id(), e.kind(), e.to_id(), e.product_code()).second)
        << "duplicate " << e.DebugString();
    ++kinds[e.kind()];
  }
  EXPECT_GT(kinds[v1::Edge::OWNS], 6'000);
  EXPECT_GT(kinds[v1::Edge::OPERATES], 6'000);
  EXPECT_GT(kinds[v1::Edge::SUPPLIES], 36'000);

  // Skewed: the biggest supplier has far more than the mean of 3 edges.
  const auto& degree = graph.out_degree();
  EXPECT_GT(*std::max_element(degree.begin(), degree.end()), 300u);
}

TEST(SupplyGraphTest, FanoutEntityHasExactlyItsNeighbours) {
  SupplyGraph graph(
      {.entities = 5'000, .edges = 20'000, .fanout_degree = 1000});
  const std::string fanout = graph.fanout_entity_id();
  EXPECT_EQ(fanout.rfind("company/", 0), 0u);
  std::set<std::string> neighbours;
  int touching = 0;
  for (const v1::Edge& e : AllEdges(graph)) {
    if (e.from_id() == fanout) neighbours.insert(e.to_id());
    touching += e.from_id() == fanout || e.to_id() == fanout;
  }
  EXPECT_EQ(neighbours.size(), 1000u);
  EXPECT_EQ(touching, 1000);
  EXPECT_EQ(graph.out_degree()[graph.fanout_entity()], 1000u);
}

TEST(SupplyGraphTest, SameSeedSameGraph) {
  SupplyGraph a({.entities = 3'000, .edges = 5'000});
  SupplyGraph b({.entities = 3'000, .edges = 5'000});
  const std::vector<v1::Edge> ea = AllEdges(a), eb = AllEdges(b);
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) {
    ASSERT_EQ(ea[i].SerializeAsString(), eb[i].SerializeAsString()) << i;
  }
}

}  // namespace
}  // namespace georisk::bench
