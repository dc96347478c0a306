// Propagation: the noisy-OR kernel on chains and cycles (fixed points solved
// by hand), input-less cycles, the composite and bands, the clamp, and what
// every Score carries.
#include <cmath>
#include <memory>

#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;
constexpr double kBeta = 0.85;

TEST(PropagationTest, NoisyOrAlongAChainOfSuppliers) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "US"),
                Company("company/c", "US"), Company("company/d", "US")};
  g.edges = {Supplies("company/a", "company/b", 0.4),
             Supplies("company/b", "company/c", 0.5),
             Supplies("company/d", "company/c", 0.2)};
  g.signals = {Listing("signal/a", "US-BIS", {"company/a"}, 0.5),
               Listing("signal/d", "US-BIS", {"company/d"}, 0.25)};
  auto e = g.Load();
  const double rb = kBeta * 0.4 * 0.5;  // 0.17
  EXPECT_NEAR(R(*e, "company/b", kEC), rb, kEps);
  // C: 1 - (1 - 0.85 x 0.5 x R(B)) (1 - 0.85 x 0.2 x 0.25).
  EXPECT_NEAR(R(*e, "company/c", kEC),
              1 - (1 - kBeta * 0.5 * rb) * (1 - kBeta * 0.2 * 0.25), kEps);
}

TEST(PropagationTest, CycleReachesItsFixedPoint) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "CN")};
  g.edges = {Supplies("company/a", "company/b", 0.4),
             Supplies("company/b", "company/a", 0.5)};
  g.signals = {Listing("signal/a", "US-BIS", {"company/a"}, 0.5)};
  auto e = g.Load();
  // R_A = 1 - 0.5 (1 - 0.425 R_B), R_B = 0.34 R_A
  //   => R_A = 0.5 / (1 - 0.5 x 0.425 x 0.34).
  const double ra = 0.5 / (1 - 0.5 * 0.425 * 0.34);
  EXPECT_NEAR(R(*e, "company/a", kEC), ra, 1e-11);
  EXPECT_NEAR(R(*e, "company/b", kEC), 0.34 * ra, 1e-11);
}

// P supplies its two subsidiaries, each wholly owned: a cycle whose gain is
// 0.85 + 0.85 > 1. With an input its fixed point is unique; without one, the
// least fixed point, 0, is the answer, also after the input goes away.
TEST(PropagationTest, InputlessCycleIsZeroNotASelfSustainingRisk) {
  Graph g;
  g.entities = {Company("company/p", "US"), Company("company/s1", "US"),
                Company("company/s2", "US"), Company("company/x", "CN")};
  g.edges = {Supplies("company/p", "company/s1", 1.0),
             Supplies("company/p", "company/s2", 1.0),
             Owns("company/p", "company/s1", 1.0),
             Owns("company/p", "company/s2", 1.0),
             Supplies("company/x", "company/s1", 0.01)};
  g.signals = {Listing("signal/x", "US-BIS", {"company/x"}, 0.5)};
  auto e = g.Load();
  EXPECT_GT(R(*e, "company/p", kEC), 0.5);  // Amplified by the loop.
  e->ApplyChange(MakeChange(2, {DeleteSignal("signal/x")}), DefaultAsOf());
  EXPECT_EQ(R(*e, "company/p", kEC), 0);
  EXPECT_EQ(R(*e, "company/s1", kEC), 0);
  EXPECT_EQ(R(*e, "company/s2", kEC), 0);
  EXPECT_TRUE(e->CheckConsistency(1e-12).ok());
}

// Apply updates scores at once and lists what moved; the protos come from
// ScoreChanges, and only until the engine changes again.
TEST(PropagationTest, ScoreChangesAreBuiltFromTheLastUpdateOnly) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "US"),
                Company("company/c", "US")};
  g.edges = {Supplies("company/a", "company/b", 0.4)};
  g.signals = {Listing("signal/a", "US-BIS", {"company/a"}, 0.5)};
  auto e = g.Load();
  const double rb = R(*e, "company/b", kEC);
  ScoreUpdate update =
      e->Apply(MakeChange(2, {DeleteSignal("signal/a")}), DefaultAsOf());
  EXPECT_EQ(update.size(), 2);
  EXPECT_EQ(R(*e, "company/b", kEC), 0);  // Before any proto is built.
  absl::StatusOr<std::vector<v1::ScoreChange>> changes =
      e->ScoreChanges(update);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2);
  EXPECT_EQ((*changes)[0].after().entity_id(), "company/a");
  EXPECT_EQ((*changes)[1].before().entity_id(), "company/b");
  EXPECT_NEAR((*changes)[1].before().factors(0).propagated(), rb, kEps);
  EXPECT_EQ((*changes)[1].after().factors(0).propagated(), 0);
  EXPECT_EQ((*changes)[1].graph_sequence(), 2);
  EXPECT_EQ((*changes)[1].before().graph_sequence(), 1);
  EXPECT_EQ((*changes)[1].after().graph_sequence(), 2);

  // A stale change moves nothing; any later update makes `update` stale.
  EXPECT_TRUE(e->Apply(MakeChange(2, {}), DefaultAsOf()).empty());
  EXPECT_EQ(e->ScoreChanges(update).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PropagationTest, OperatesAndOwnsFlowUpward) {
  Graph g;
  g.entities = {Company("company/op", "KR"), Facility("facility/fab", "TW"),
                Company("company/parent", "KR")};
  g.edges = {Operates("company/op", "facility/fab", 0.3),
             Owns("company/parent", "company/op", 0.6)};
  g.signals = {Tension("signal/t", 0.5)};
  auto e = g.Load();
  // Fab in TW: 0.5. Operator: 0.3 x 0.5. Parent: 0.6 x that.
  EXPECT_NEAR(R(*e, "facility/fab", kCS), 0.5, kEps);
  EXPECT_NEAR(R(*e, "company/op", kCS), 0.15, kEps);
  EXPECT_NEAR(R(*e, "company/parent", kCS), 0.09, kEps);
}

TEST(CompositeTest, CombinesFactorsWithTheirLambdas) {
  Graph g;
  g.entities = {Facility("facility/f", "TW"), Company("company/s", "CN")};
  g.edges = {Supplies("company/s", "facility/f", 0.5, "8542")};
  g.signals = {Listing("signal/l", "US-BIS", {"facility/f"}, 0.4),
               Tension("signal/t", 0.5),
               Tariff("signal/tw", "Duty", "TW", "CN", "", 0.1)};
  auto e = g.Load();
  const double ec = R(*e, "facility/f", kEC);
  const double ta = R(*e, "facility/f", kTariffs);
  const double cs = R(*e, "facility/f", kCS);
  // Defaults: lambda 1.0, 0.6, 0.8.
  const double expected =
      100 * (1 - (1 - 1.0 * ec) * (1 - 0.6 * ta) * (1 - 0.8 * cs));
  EXPECT_NEAR(Composite(*e, "facility/f"), expected, 1e-10);
  // ec = 0.4; tariffs d = 0.5 x 0.1 / 0.5 = 0.1; cs d = 0.5 + 0.5 x 0.5 =
  // 0.75, S in CN: 0.25, R_cs = 1 - 0.25 (1 - 0.85 x 0.5 x 0.25).
  EXPECT_NEAR(ec, 0.4, kEps);
  EXPECT_NEAR(D(*e, "facility/f", kTariffs), 0.1, kEps);
  EXPECT_NEAR(D(*e, "facility/f", kCS), 0.75, kEps);
  absl::StatusOr<v1::Score> s = e->GetScore("facility/f");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->band(), expected >= 80   ? v1::BAND_CRITICAL
                       : expected >= 60 ? v1::BAND_HIGH
                       : expected >= 30 ? v1::BAND_MEDIUM
                                        : v1::BAND_LOW);
}

TEST(CompositeTest, BandThresholds) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "CN"),
                Company("company/c", "CN"), Company("company/d", "CN")};
  g.signals = {Listing("signal/a", "US-BIS", {"company/a"}, 0.29),
               Listing("signal/b", "US-BIS", {"company/b"}, 0.30),
               Listing("signal/c", "US-BIS", {"company/c"}, 0.60),
               Listing("signal/d", "US-BIS", {"company/d"}, 0.80)};
  auto e = g.Load();
  EXPECT_EQ(e->GetScore("company/a")->band(), v1::BAND_LOW);
  EXPECT_EQ(e->GetScore("company/b")->band(), v1::BAND_MEDIUM);
  EXPECT_EQ(e->GetScore("company/c")->band(), v1::BAND_HIGH);
  EXPECT_EQ(e->GetScore("company/d")->band(), v1::BAND_CRITICAL);
}

TEST(ScoreTest, CarriesModelVersionSequenceAndDate) {
  Graph g;
  g.entities = {Company("company/a", "CN")};
  auto e = g.Load(Date(2026, 2, 1));
  absl::StatusOr<v1::Score> s = e->GetScore("company/a");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->model_version(), "v1.1.0");
  EXPECT_EQ(s->graph_sequence(), 1);
  EXPECT_EQ(base::FromProtoTime(s->as_of()), Date(2026, 2, 1));
  EXPECT_EQ(s->entity_kind(), v1::Entity::COMPANY);
  EXPECT_EQ(s->country(), "CN");
  ASSERT_EQ(s->factors_size(), 3);
  EXPECT_EQ(s->factors(0).factor(), v1::FACTOR_EXPORT_CONTROLS);
  EXPECT_EQ(s->factors(2).factor(), v1::FACTOR_CROSS_STRAIT);
  EXPECT_EQ(s->composite(), 0);
  EXPECT_EQ(s->band(), v1::BAND_LOW);
}

TEST(ScoreTest, UnknownAndDeletedEntitiesAreNotFound) {
  Graph g;
  g.entities = {Company("company/a", "CN")};
  auto e = g.Load();
  EXPECT_EQ(e->GetScore("company/nope").status().code(),
            absl::StatusCode::kNotFound);
  e->ApplyChange(MakeChange(2, {DeleteEntity("company/a")}), DefaultAsOf());
  EXPECT_EQ(e->GetScore("company/a").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(e->entity_count(), 0);
}

TEST(ApplyChangeTest, ReportsNewChangedAndDeletedEntities) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "US"),
                Company("company/c", "US")};
  g.edges = {Supplies("company/a", "company/b", 0.5)};
  auto e = g.Load();
  std::vector<v1::ScoreChange> moved = e->ApplyChange(
      MakeChange(2, {Upsert(Company("company/n", "DE")),
                     Upsert(Listing("signal/a", "US-BIS", {"company/a"}, 0.8)),
                     DeleteEntity("company/c")}),
      DefaultAsOf());
  ASSERT_EQ(moved.size(), 4u);  // a, b (moved), c (deleted), n (new).
  EXPECT_EQ(moved[0].after().entity_id(), "company/a");
  EXPECT_NEAR(moved[0].before().composite(), 0, kEps);
  EXPECT_NEAR(moved[0].after().composite(), 80, 1e-9);
  EXPECT_EQ(moved[0].before().graph_sequence(), 1);
  EXPECT_EQ(moved[0].after().graph_sequence(), 2);
  EXPECT_EQ(moved[0].graph_sequence(), 2);
  EXPECT_EQ(moved[1].after().entity_id(), "company/b");
  EXPECT_EQ(moved[2].before().entity_id(), "company/c");
  EXPECT_FALSE(moved[2].has_after());
  EXPECT_EQ(moved[3].after().entity_id(), "company/n");
  EXPECT_FALSE(moved[3].has_before());
  EXPECT_EQ(e->sequence(), 2);
  // A replayed change is ignored.
  EXPECT_TRUE(
      e->ApplyChange(MakeChange(2, {DeleteSignal("signal/a")}), DefaultAsOf())
          .empty());
  EXPECT_NEAR(R(*e, "company/a", kEC), 0.8, kEps);
  EXPECT_EQ(e->stats().stale_changes, 1);
}

TEST(ClampTest, FullSeverityStaysFinite) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "US")};
  g.edges = {Supplies("company/a", "company/b", 1.0)};
  g.signals = {Listing("signal/a", "US-OFAC", {"company/a"}, 1.0)};
  auto e = g.Load();
  const double r = R(*e, "company/a", kEC);
  EXPECT_LT(r, 1.0);
  EXPECT_GE(r, 1 - 1e-15);
  EXPECT_TRUE(std::isfinite(-std::log(1 - r)));
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/a", kEC, 1, 1);
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->contributions_size(), 1);
  EXPECT_TRUE(std::isfinite(ex->contributions(0).log_odds()));
  EXPECT_NEAR(R(*e, "company/b", kEC), kBeta * r, 1e-12);
}

}  // namespace
}  // namespace georisk::scorer::testing
