// The condensation: Tarjan without recursion on deep chains, and the
// incremental maintenance (Pearce-Kelly reordering, merges, splits) checked
// against a fresh Tarjan after every random edit.
#include "services/scorer/model/condensation.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

// This test's write access to a State (see state.h): the nodes and the
// propagation graphs it builds by hand. Defined here only.
class StateTestWriter {
 public:
  explicit StateTestWriter(State* st) : st_(st) {}
  void AddNode(EntityRec e) {
    st_->AddEntity(std::move(e));
    st_->sd_.PushBack(Triple());
    st_->s_.PushBack(Triple());
    st_->flags_.PushBack(0);
  }
  Adjacency<PropIn>& pin() { return st_->pin_; }
  Adjacency<PropOut>& pout() { return st_->pout_; }

 private:
  State* st_;
};

namespace {

// A live state of n nodes without edges.
std::unique_ptr<State> Empty(size_t n) {
  auto st = std::make_unique<State>();
  StateTestWriter wr(st.get());
  for (size_t i = 0; i < n; ++i) {
    EntityRec e;
    e.id = absl::StrCat("company/c", i);
    e.alive = true;
    wr.AddNode(e);
  }
  wr.pin().Build(n, {});
  wr.pout().Build(n, {});
  BuildCondensation(st.get());
  ComputeAllInputs(st.get());
  return st;
}

// The partition into SCCs as sets of nodes, from a fresh Tarjan.
std::set<std::set<Node>> FreshSccs(const State& st) {
  std::set<std::set<Node>> out;
  StronglyConnected(st, {}, true, [&](std::vector<Node>& scc) {
    out.insert(std::set<Node>(scc.begin(), scc.end()));
  });
  return out;
}

std::set<std::set<Node>> MaintainedComps(const State& st) {
  std::map<Comp, std::set<Node>> by_comp;
  for (Node v = 0; v < st.node_count(); ++v) by_comp[st.comp_of()[v]].insert(v);
  std::set<std::set<Node>> out;
  for (const auto& [c, nodes] : by_comp) out.insert(nodes);
  return out;
}

void ExpectValid(const State& st, const std::string& where) {
  for (Node v = 0; v < st.node_count(); ++v) {
    const Comp c = st.comp_of()[v];
    ASSERT_TRUE(st.comp_flags()[c] & kCompAlive) << where;
    ASSERT_EQ(st.comp_by_key().at(st.key()[c]), c) << where;
    for (const PropOut& e : st.pout().List(v)) {
      const Comp d = st.comp_of()[e.dst];
      if (d != c) {
        ASSERT_LT(st.key()[c], st.key()[d]) << where << " " << v;
      }
    }
  }
  // Members lists agree with comp_of.
  std::map<Comp, std::set<Node>> by_comp;
  for (Node v = 0; v < st.node_count(); ++v) by_comp[st.comp_of()[v]].insert(v);
  for (const auto& [c, nodes] : by_comp) {
    if (nodes.size() == 1) {
      ASSERT_TRUE(st.members()[c].empty()) << where;
      ASSERT_EQ(st.rep()[c], *nodes.begin()) << where;
    } else {
      ASSERT_EQ(std::set<Node>(st.members()[c].begin(), st.members()[c].end()),
                nodes)
          << where;
    }
  }
}

TEST(StronglyConnectedTest, MillionNodeChainDoesNotRecurse) {
  constexpr size_t kN = 1'000'000;
  auto st = Empty(kN);
  std::vector<std::pair<uint32_t, PropIn>> in;
  std::vector<std::pair<uint32_t, PropOut>> out;
  for (Node v = 0; v + 1 < kN; ++v) {
    in.push_back({v + 1, PropIn{v, v, 0.5}});
    out.push_back({v, PropOut{v + 1, v, 0.5f}});
  }
  // Close the chain into one big cycle.
  in.push_back({0, PropIn{kN - 1, kN - 1, 0.5}});
  out.push_back({kN - 1, PropOut{0, kN - 1, 0.5f}});
  StateTestWriter wr(st.get());
  wr.pin().Build(kN, in);
  wr.pout().Build(kN, out);
  size_t sccs = 0, largest = 0;
  StronglyConnected(*st, {}, true, [&](std::vector<Node>& scc) {
    ++sccs;
    largest = std::max(largest, scc.size());
  });
  EXPECT_EQ(sccs, 1u);
  EXPECT_EQ(largest, kN);
}

TEST(StronglyConnectedTest, EmitsInReverseTopologicalOrder) {
  auto st = Empty(5);
  // 0 -> 1 <-> 2 -> 3, 4 alone.
  AddPropEdge(st.get(), 0, 1, 0, 0.5);
  AddPropEdge(st.get(), 1, 2, 1, 0.5);
  AddPropEdge(st.get(), 2, 1, 2, 0.5);
  AddPropEdge(st.get(), 2, 3, 3, 0.5);
  std::vector<std::set<Node>> order;
  StronglyConnected(*st, {}, true, [&](std::vector<Node>& scc) {
    order.emplace_back(scc.begin(), scc.end());
  });
  auto pos = [&](Node v) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (order[i].count(v)) return i;
    }
    return order.size();
  };
  EXPECT_EQ(order.size(), 4u);
  EXPECT_EQ(pos(1), pos(2));
  EXPECT_LT(pos(3), pos(1));  // Sinks first.
  EXPECT_LT(pos(1), pos(0));
}

TEST(CondensationTest, InsertionAgainstTheOrderMergesACycle) {
  auto st = Empty(4);
  AddPropEdge(st.get(), 0, 1, 0, 0.5);
  AddPropEdge(st.get(), 1, 2, 1, 0.5);
  AddPropEdge(st.get(), 2, 3, 2, 0.5);
  ExpectValid(*st, "chain");
  EXPECT_NE(st->comp_of()[0], st->comp_of()[2]);
  AddPropEdge(st.get(), 2, 0, 3, 0.5);  // Closes 0 -> 1 -> 2 -> 0.
  ExpectValid(*st, "cycle");
  EXPECT_EQ(st->comp_of()[0], st->comp_of()[1]);
  EXPECT_EQ(st->comp_of()[0], st->comp_of()[2]);
  EXPECT_NE(st->comp_of()[0], st->comp_of()[3]);
  EXPECT_EQ(MaintainedComps(*st), FreshSccs(*st));
  RemovePropEdge(st.get(), 1, 2, 1);
  EXPECT_TRUE(st->comp_flags()[st->comp_of()[0]] & kCompNeedsSplit);
  SplitMarkedComps(st.get());
  ExpectValid(*st, "split");
  EXPECT_EQ(MaintainedComps(*st), FreshSccs(*st));
}

// Random edits on a small dense graph, checked after every one.
TEST(CondensationTest, RandomEditsMatchFreshTarjan) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    constexpr size_t kN = 25;
    auto st = Empty(kN);
    std::vector<std::pair<std::pair<Node, Node>, Slot>> edges;
    Slot next_slot = 0;
    for (int step = 0; step < 400; ++step) {
      const std::string where = absl::StrCat("seed ", seed, " step ", step);
      const int batch = 1 + static_cast<int>(rng() % 4);
      for (int b = 0; b < batch; ++b) {
        if (edges.empty() || rng() % 5 < 3) {
          const Node u = static_cast<Node>(rng() % kN);
          const Node v = static_cast<Node>(rng() % kN);
          if (u == v) continue;
          AddPropEdge(st.get(), u, v, next_slot, 0.5);
          edges.push_back({{u, v}, next_slot++});
        } else {
          const size_t i = rng() % edges.size();
          RemovePropEdge(st.get(), edges[i].first.first, edges[i].first.second,
                         edges[i].second);
          edges.erase(edges.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      SplitMarkedComps(st.get());
      ExpectValid(*st, where);
      ASSERT_EQ(MaintainedComps(*st), FreshSccs(*st)) << where;
    }
  }
}

}  // namespace
}  // namespace georisk::scorer::internal
