// A warm full propagation (FullPropagate with Start::kWarm, what a warm
// Engine::RescoreAll runs) against an exact recomputation: from any start
// (random survivals, zeros where the score is positive and the reverse, or
// the scores of the graph before some changes), it reaches the least fixed
// point the cold start reaches, within a small multiple of the tolerance,
// with exactly the same zeros. Random graphs with cycles (test_graphs.h),
// fixed seeds; and the loops of weight-1 edges that must start cold.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/propagate.h"
#include "services/scorer/model/state.h"
#include "services/scorer/model/test_graphs.h"
#include "services/scorer/model/update.h"

namespace georisk::scorer::internal {

// This test's write access to a State (see state.h): the survivals a warm
// propagation starts from. Defined here only.
class WarmStartTestWriter {
 public:
  explicit WarmStartTestWriter(State* st) : st_(st) {}
  std::vector<Triple>& s() { return st_->s_.live(); }

 private:
  State* st_;
};

namespace {

using ::georisk::scorer::testing::Company;
using ::georisk::scorer::testing::Date;
using ::georisk::scorer::testing::Graph;
using ::georisk::scorer::testing::Listing;
using ::georisk::scorer::testing::Owns;
using ::georisk::scorer::testing::RandomWorld;
using ::georisk::scorer::testing::Supplies;
using ::georisk::scorer::testing::TestConfig;

Params ParamsAt(double tolerance) {
  v1::ModelConfig c = TestConfig();
  c.set_convergence_tolerance(tolerance);
  c.set_max_iterations(100000);
  c.clear_sha256();
  absl::StatusOr<v1::ModelConfig> normalized = NormalizeModelConfig(c);
  EXPECT_TRUE(normalized.ok()) << normalized.status();
  return MakeParams(*normalized);
}

std::unique_ptr<State> Build(const Graph& g, const Params& p,
                             absl::Time as_of) {
  auto st = std::make_unique<State>();
  int64_t skipped = 0;
  BuildState(st.get(), p, g.entities, g.edges, g.signals, 1, ToNs(as_of),
             &skipped, g.links);
  EXPECT_EQ(skipped, 0);
  return st;
}

// Survivals by entity id.
std::map<std::string, Triple> ById(const State& st) {
  std::map<std::string, Triple> out;
  for (Node v = 0; v < st.node_count(); ++v) {
    out[st.entities()[v].id] = st.s()[v];
  }
  return out;
}

// The largest difference between a's and b's survivals (the same graph,
// built the same way, so the same node numbers); fails on a zero (survival
// exactly 1) in one and not in the other.
double LargestDifference(const State& a, const State& b,
                         const std::string& where) {
  EXPECT_EQ(a.node_count(), b.node_count()) << where;
  double worst = 0;
  for (Node v = 0; v < a.node_count() && v < b.node_count(); ++v) {
    EXPECT_EQ(a.entities()[v].id, b.entities()[v].id) << where;
    for (int f = 0; f < kNumFactors; ++f) {
      const double x = a.s()[v].v[f], y = b.s()[v].v[f];
      EXPECT_EQ(x == 1, y == 1) << where << " " << a.entities()[v].id
                                << " factor " << f << ": " << x << " vs " << y;
      worst = std::max(worst, std::abs(x - y));
    }
  }
  return worst;
}

class WarmStartTest : public ::testing::TestWithParam<uint64_t> {};

// At the default tolerance, from three kinds of start, against the exact
// (tolerance 1e-13) cold recomputation: within kBound, as the cold start
// at the same tolerance is; and every cycle without a loop of weight-1
// edges started warm.
TEST_P(WarmStartTest, ReachesTheColdFixedPointFromAnyStart) {
  RandomWorld world(GetParam());
  const Params exact = ParamsAt(1e-13);
  const Params p = ParamsAt(kDefaultConvergenceTolerance);
  constexpr double kBound = 100 * kDefaultConvergenceTolerance;
  std::mt19937_64 rng(GetParam());
  std::uniform_real_distribution<double> unit(0, 1);
  Graph g = world.Initial(40, 120, 25);
  absl::Time as_of = Date(2026, 1, 15);
  std::map<std::string, Triple> before = ById(*Build(g, p, as_of));
  double worst_warm = 0, worst_cold = 0;
  int64_t warm_cycles = 0, cycles = 0;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 3; ++k) world.RandomMutations();
    if (round % 4 == 0) as_of = world.RandomDate();
    g = world.Snapshot();
    const std::unique_ptr<State> reference = Build(g, exact, as_of);
    const std::unique_ptr<State> cold = Build(g, p, as_of);
    for (const auto& [key, c] : cold->comp_by_key()) {
      cycles += cold->IsMulti(c) ? 1 : 0;
    }
    const std::string at = absl::StrCat("seed ", GetParam(), " round ", round);
    worst_cold = std::max(worst_cold, LargestDifference(*cold, *reference, at));
    for (int start = 0; start < 3; ++start) {
      const std::string where = absl::StrCat(at, " start ", start);
      std::unique_ptr<State> warm = Build(g, p, as_of);
      std::vector<Triple>& s = WarmStartTestWriter(warm.get()).s();
      for (Node v = 0; v < warm->node_count(); ++v) {
        for (int f = 0; f < kNumFactors; ++f) {
          double& x = s[v].v[f];
          switch (start) {
            case 0:  // Anywhere: 1, the floor, or uniform in between.
              x = round % 3 == 0   ? 1
                  : unit(rng) < .2 ? kMinSurvival
                                   : std::max(unit(rng), kMinSurvival);
              break;
            case 1:  // Zero where the score is positive, and the reverse.
              x = x == 1 ? std::max(unit(rng), kMinSurvival) : 1;
              break;
            default: {  // The scores before the last changes.
              auto it = before.find(warm->entities()[v].id);
              x = it == before.end() ? 1 : it->second.v[f];
            }
          }
        }
      }
      const PropagationStats stats = RescoreAll(warm.get(), p, Start::kWarm);
      ASSERT_EQ(stats.unconverged_comps, 0) << where;
      if (start == 2) warm_cycles += stats.warm_cycles;
      const double d = LargestDifference(*warm, *reference, where);
      ASSERT_LE(d, kBound) << where;
      worst_warm = std::max(worst_warm, d);
      if (start == 2) before = ById(*warm);
    }
  }
  std::printf(
      "seed %llu: largest difference from the exact fixed point %.3g warm, "
      "%.3g cold (tolerance %.0e); %lld of %lld cycles started warm\n",
      static_cast<unsigned long long>(GetParam()), worst_warm, worst_cold,
      kDefaultConvergenceTolerance, static_cast<long long>(warm_cycles),
      static_cast<long long>(cycles));
  // Otherwise the warm path would not have been tested.
  EXPECT_GT(warm_cycles, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, WarmStartTest,
                         ::testing::Range<uint64_t>(1, 9));

// Two companies wholly owning each other, nothing listed: any value is a
// fixed point of the loop, and the answer is the least, 0. A warm start from
// a risk left over must not keep it.
TEST(WarmStartLoopTest, WeightOneLoopWithoutInputIsZero) {
  Graph g;
  g.entities = {Company("company/a", "US"), Company("company/b", "US")};
  g.edges = {Owns("company/a", "company/b", 1.0),
             Owns("company/b", "company/a", 1.0)};
  const Params p = ParamsAt(kDefaultConvergenceTolerance);
  std::unique_ptr<State> st = Build(g, p, Date(2026, 1, 15));
  for (Triple& t : WarmStartTestWriter(st.get()).s()) t.v = {0.3, 0.3, 0.3};
  const PropagationStats stats = RescoreAll(st.get(), p, Start::kWarm);
  EXPECT_EQ(stats.warm_cycles, 0);
  for (Node v = 0; v < st->node_count(); ++v) {
    for (int f = 0; f < kNumFactors; ++f) EXPECT_EQ(st->s()[v].v[f], 1);
  }
}

// The same loop with an input (a listed supplier of a): it starts cold, as
// every cycle with a loop of weight-1 edges does, and reaches the cold
// result.
TEST(WarmStartLoopTest, WeightOneLoopStartsCold) {
  Graph g;
  g.entities = {Company("company/a", "US"), Company("company/b", "US"),
                Company("company/c", "CN"), Company("company/d", "US")};
  g.edges = {Owns("company/a", "company/b", 1.0),
             Owns("company/b", "company/a", 1.0),
             Supplies("company/c", "company/a", 0.5),
             Supplies("company/a", "company/d", 0.4),
             Supplies("company/d", "company/c", 0.4)};
  g.signals = {Listing("signal/c", "US-BIS", {"company/c"}, 0.5)};
  const Params p = ParamsAt(kDefaultConvergenceTolerance);
  std::unique_ptr<State> cold = Build(g, p, Date(2026, 1, 15));
  std::unique_ptr<State> warm = Build(g, p, Date(2026, 1, 15));
  for (Triple& t : WarmStartTestWriter(warm.get()).s()) t.v = {0.9, 0.9, 0.9};
  const PropagationStats stats = RescoreAll(warm.get(), p, Start::kWarm);
  EXPECT_EQ(stats.warm_cycles, 0);
  for (Node v = 0; v < warm->node_count(); ++v) {
    EXPECT_EQ(warm->s()[v], cold->s()[v]) << warm->entities()[v].id;
  }
}

}  // namespace
}  // namespace georisk::scorer::internal
