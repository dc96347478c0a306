// Scenarios: overrides on a copy-on-write overlay. The live state is never
// touched; the deltas equal a full recomputation of the modified graph.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Graph Demo() {
  Graph g;
  g.entities = {Company("company/l", "CN"),    Company("company/x", "CN"),
                Facility("facility/xf", "CN"), Facility("facility/tw", "TW"),
                Company("company/oem", "US"),  Company("company/dc", "US")};
  g.edges = {Owns("company/l", "company/x", 0.6),
             Operates("company/x", "facility/xf", 1.0),
             Supplies("facility/xf", "company/oem", 0.3, "8542"),
             Supplies("facility/tw", "company/oem", 0.5, "8542"),
             Supplies("company/oem", "company/dc", 0.8, "8471")};
  g.signals = {Listing("signal/el", "US-BIS", {"company/l"}, 0.8),
               Tension("signal/gpr", 0.5)};
  return g;
}

v1::Scenario Scenario(std::vector<v1::Mutation> overrides) {
  v1::Scenario s;
  s.set_name("what if");
  for (v1::Mutation& m : overrides) *s.add_overrides() = std::move(m);
  return s;
}

std::map<std::string, std::string> AllScores(const Engine& e, const Graph& g) {
  std::map<std::string, std::string> out;
  for (const v1::Entity& ent : g.entities) {
    absl::StatusOr<v1::Score> s = e.GetScore(ent.id());
    out[ent.id()] = s.ok() ? s->SerializeAsString() : "absent";
  }
  return out;
}

TEST(ScenarioTest, LiveScoresAreUntouched) {
  const Graph g = Demo();
  auto e = g.Load();
  const auto before = AllScores(*e, g);
  Engine::TopQuery q;
  const std::string top_before = e->ListTopRisks(q)->SerializeAsString();
  v1::Scenario s =
      Scenario({DeleteEdge(Supplies("facility/tw", "company/oem", 0)),
                DeleteSignal("signal/el"), DeleteEntity("company/dc"),
                Upsert(Tension("signal/gpr", 0.9))});
  *s.mutable_as_of() = base::ToProtoTime(Date(2027, 1, 1));
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(s, 100, 0, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->affected_count(), 0);
  EXPECT_EQ(AllScores(*e, g), before);
  EXPECT_EQ(e->ListTopRisks(q)->SerializeAsString(), top_before);
  EXPECT_EQ(e->sequence(), 1);
  EXPECT_EQ(e->as_of(), DefaultAsOf());
  EXPECT_TRUE(e->CheckConsistency(1e-12).ok());
}

TEST(ScenarioTest, CuttingASupplierRanksDeltasWithReasons) {
  const Graph g = Demo();
  auto e = g.Load();
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(
      Scenario({DeleteEdge(Supplies("facility/tw", "company/oem", 0))}), 20, 0,
      true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name(), "what if");
  EXPECT_EQ(r->graph_sequence(), 1);
  EXPECT_EQ(r->model_version(), "v1.1.0");
  ASSERT_EQ(r->deltas_size(), 2);  // The OEM and its customer.
  EXPECT_EQ(r->affected_count(), 2);
  const v1::ScoreDelta& oem = r->deltas(0);
  EXPECT_EQ(oem.entity_id(), "company/oem");
  EXPECT_LT(oem.delta(), 0);
  EXPECT_NEAR(oem.delta(), oem.after().composite() - oem.before().composite(),
              1e-12);
  EXPECT_GE(std::abs(r->deltas(0).delta()), std::abs(r->deltas(1).delta()));
  EXPECT_EQ(oem.before().composite(), e->GetScore("company/oem")->composite());
  // Its remaining reasons: the export-control exposure through xf.
  ASSERT_GE(oem.top_reasons_size(), 1);
  EXPECT_EQ(oem.top_reasons(0).upstream().entity_id(), "facility/xf");

  // min_delta (between the two moves) and max_results.
  const double between =
      (std::abs(r->deltas(0).delta()) + std::abs(r->deltas(1).delta())) / 2;
  r = e->RunScenario(
      Scenario({DeleteEdge(Supplies("facility/tw", "company/oem", 0))}), 1,
      between, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->affected_count(), 1);
  ASSERT_EQ(r->deltas_size(), 1);
  EXPECT_EQ(r->deltas(0).top_reasons_size(), 0);
}

TEST(ScenarioTest, ADateWhenTheBisRuleIsInForce) {
  const Graph g = Demo();
  auto e = g.Load();  // 2026-01-15: suspended.
  EXPECT_EQ(D(*e, "company/x", kEC), 0);
  v1::Scenario s;
  *s.mutable_as_of() = base::ToProtoTime(Date(2026, 11, 10));
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(s, 20, 1, false);
  ASSERT_TRUE(r.ok());
  std::map<std::string, const v1::ScoreDelta*> delta;
  for (const v1::ScoreDelta& d : r->deltas()) delta[d.entity_id()] = &d;
  ASSERT_TRUE(delta.count("company/x"));
  ASSERT_TRUE(delta.count("facility/xf"));
  ASSERT_TRUE(delta.count("company/oem"));
  // X, owned 60% by L, and its facility now carry L's 0.8.
  EXPECT_EQ(delta["company/x"]->before().factors(0).propagated(), 0);
  EXPECT_NEAR(delta["company/x"]->after().factors(0).propagated(), 0.8, 1e-12);
  EXPECT_NEAR(delta["facility/xf"]->after().factors(0).direct(), 0.8, 1e-12);
  // Composite of the facility (CN, cross-strait 0.5 x 0.5 = 0.25):
  // 100 (1 - 0.2 x 0.8) - 100 (1 - 0.8 x 0.25) = 84 - 20 = 64.
  EXPECT_NEAR(delta["facility/xf"]->delta(), 64, 1e-9);
  EXPECT_GT(delta["company/oem"]->delta(), 0);
  EXPECT_EQ(base::FromProtoTime(r->deltas(0).after().as_of()),
            Date(2026, 11, 10));
}

TEST(ScenarioTest, DatesBefore1900OrAfter9999AreRefused) {
  const Graph g = Demo();
  auto e = g.Load();
  v1::Scenario s;
  s.mutable_as_of()->set_seconds(-62167219200);  // 0000-01-01.
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(s, 20, 1, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "scenario.as_of: must be a date from 1900-01-01 to 9999-12-31, "
            "got 0000-01-01T00:00:00Z");
  s.mutable_as_of()->set_seconds(-2208988801);  // 1899-12-31T23:59:59Z.
  EXPECT_EQ(e->RunScenario(s, 20, 1, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  s.mutable_as_of()->set_seconds(253402300800);  // 10000-01-01.
  EXPECT_EQ(e->RunScenario(s, 20, 1, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  s.mutable_as_of()->set_seconds(0);
  s.mutable_as_of()->set_nanos(-1);
  EXPECT_EQ(e->RunScenario(s, 20, 1, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The bounds themselves are dates.
  s.mutable_as_of()->set_nanos(0);
  s.mutable_as_of()->set_seconds(-2208988800);
  EXPECT_TRUE(e->RunScenario(s, 20, 1, false).ok());
  s.mutable_as_of()->set_seconds(253402300799);
  EXPECT_TRUE(e->RunScenario(s, 20, 1, false).ok());
}

TEST(ScenarioTest, DeletedEntitiesHaveNoAfter) {
  const Graph g = Demo();
  auto e = g.Load();
  absl::StatusOr<v1::RunScenarioResponse> r =
      e->RunScenario(Scenario({DeleteEntity("facility/tw")}), 20, 0, false);
  ASSERT_TRUE(r.ok());
  bool found = false;
  for (const v1::ScoreDelta& d : r->deltas()) {
    if (d.entity_id() != "facility/tw") continue;
    found = true;
    EXPECT_FALSE(d.has_after());
    EXPECT_NEAR(d.delta(), -d.before().composite(), 1e-12);
  }
  EXPECT_TRUE(found);
}

TEST(ScenarioTest, InvalidOverridesAreNamed) {
  const Graph g = Demo();
  auto e = g.Load();
  v1::Edge bad = Supplies("facility/tw", "company/oem", 1.5);
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(
      Scenario({DeleteSignal("signal/el"), Upsert(bad)}), 20, 0, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("scenario.overrides[1].upsert_edge.weight"));

  r = e->RunScenario(Scenario({Upsert(Company("company/new", "US"))}), 20, 0,
                     false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("scenario.overrides[0].upsert_entity:"));

  r = e->RunScenario(
      Scenario({DeleteEntity("company/oem"),
                Upsert(Supplies("facility/tw", "company/oem", 0.5))}),
      20, 0, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              StartsWith("scenario.overrides[1].upsert_edge.to_id: entity "
                         "company/oem does not exist"));

  EXPECT_EQ(e->RunScenario(Scenario({}), 0, 0, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e->RunScenario(Scenario({}), 20, -1, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::Mutation empty;
  EXPECT_EQ(e->RunScenario(Scenario({empty}), 20, 0, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Random scenarios on random graphs: the deltas are exactly the entities
// whose composite differs between the live graph and a full recomputation
// of the modified one, with the same values; and nothing live moves.
TEST(ScenarioTest, EqualsFullRecomputationOfTheModifiedGraph) {
  v1::ModelConfig config = TestConfig();
  config.set_max_iterations(100000);
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    RandomWorld world(seed);
    Graph g = world.Initial(40, 120, 25);
    auto live = g.Load(config, Date(2026, 1, 15));
    for (int k = 0; k < 25; ++k) {
      const std::string where = absl::StrCat("seed ", seed, " scenario ", k);
      RandomWorld what_if = world;  // The live world stays as it is.
      std::vector<v1::Mutation> overrides;
      for (int i = 0; i < 3; ++i) {
        for (v1::Mutation& m : what_if.RandomMutations(false)) {
          overrides.push_back(std::move(m));
        }
      }
      v1::Scenario s = Scenario(overrides);
      absl::Time date = DefaultAsOf();
      if (what_if.Uniform(3) == 0) {
        date = what_if.RandomDate();
        *s.mutable_as_of() = base::ToProtoTime(date);
      }
      const auto before = AllScores(*live, g);
      absl::StatusOr<v1::RunScenarioResponse> r =
          live->RunScenario(s, 1000, 0, k % 2 == 0);
      ASSERT_TRUE(r.ok()) << where << ": " << r.status();
      ASSERT_EQ(AllScores(*live, g), before) << where;

      const Graph modified = what_if.Snapshot();
      auto expected = modified.Load(config, date);
      std::map<std::string, const v1::ScoreDelta*> deltas;
      for (const v1::ScoreDelta& d : r->deltas()) deltas[d.entity_id()] = &d;
      ASSERT_EQ(r->affected_count(), r->deltas_size()) << where;
      for (const v1::Entity& ent : g.entities) {
        const double was = live->GetScore(ent.id())->composite();
        absl::StatusOr<v1::Score> now = expected->GetScore(ent.id());
        const double delta = (now.ok() ? now->composite() : 0) - was;
        auto it = deltas.find(ent.id());
        if (std::abs(delta) > 1e-7 || !now.ok()) {
          ASSERT_NE(it, deltas.end()) << where << " " << ent.id();
        }
        if (it == deltas.end()) continue;
        ASSERT_NEAR(it->second->delta(), delta, 1e-7)
            << where << " " << ent.id();
        ASSERT_EQ(it->second->has_after(), now.ok()) << where;
        if (now.ok()) {
          for (int f = 0; f < 3; ++f) {
            ASSERT_NEAR(it->second->after().factors(f).propagated(),
                        now->factors(f).propagated(), 1e-9)
                << where << " " << ent.id();
          }
        }
      }
    }
    ASSERT_TRUE(live->CheckConsistency(1e-11).ok()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace georisk::scorer::testing

namespace georisk::scorer::testing {
namespace {

// As-of reads: a signal that starts in the future and one that has ended.
// facility/a (DE) is revoked from 2027-01-01 (severity 0.5); facility/b (DE)
// was revoked 2025-01-01 to 2026-01-01 (severity 0.4). Evaluated now
// (2026-01-15), neither counts; as of 2027-06-01 a's does (R = 0.5), as of
// 2025-06-01 b's does (R = 0.4). Each as-of read equals a fresh load at that
// date, and the live scores do not move.
Graph Dated() {
  Graph g;
  g.entities = {Facility("facility/a", "DE"), Facility("facility/b", "DE"),
                Company("company/op", "DE")};
  g.edges = {Operates("company/op", "facility/a", 0.5)};
  g.signals = {Window(Revoked("signal/future", "US-BIS", {"facility/a"}, 0.5),
                      Date(2027, 1, 1), absl::InfiniteFuture()),
               Window(Revoked("signal/ended", "US-BIS", {"facility/b"}, 0.4),
                      Date(2025, 1, 1), Date(2026, 1, 1))};
  return g;
}

double EcOf(const v1::Score& s) {
  for (const v1::FactorScore& f : s.factors()) {
    if (f.factor() == kEC) return f.propagated();
  }
  return 0;
}

TEST(AsOfTest, ScoresAsOfADateCountTheSignalsInForceThen) {
  auto e = Dated().Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  const std::vector<std::string> ids = {"facility/a", "facility/b",
                                        "company/op", "company/nobody"};
  auto live = e->GetScores(ids, std::nullopt);
  ASSERT_EQ(live.size(), 4u);
  ASSERT_TRUE(live[0].ok()) << live[0].status();
  EXPECT_EQ(EcOf(*live[0]), 0);
  EXPECT_EQ(EcOf(*live[1]), 0);
  EXPECT_EQ(live[3].status().code(), absl::StatusCode::kNotFound);

  auto future = e->GetScores(ids, Date(2027, 6, 1));
  ASSERT_TRUE(future[0].ok()) << future[0].status();
  EXPECT_NEAR(EcOf(*future[0]), 0.5, 1e-12);
  EXPECT_EQ(EcOf(*future[1]), 0);
  EXPECT_NEAR(EcOf(*future[2]), 0.25, 1e-12);  // 0.5 capacity x 0.5.
  EXPECT_EQ(base::FromProtoTime(future[0]->as_of()), Date(2027, 6, 1));
  EXPECT_EQ(future[3].status().code(), absl::StatusCode::kNotFound);

  auto past = e->GetScores(ids, Date(2025, 6, 1));
  EXPECT_EQ(EcOf(*past[0]), 0);
  EXPECT_NEAR(EcOf(*past[1]), 0.4, 1e-12);

  // The same numbers as the model loaded at those dates.
  auto loaded_future = Dated().Load(Date(2027, 6, 1));
  EXPECT_NEAR(future[2]->composite(), Composite(*loaded_future, "company/op"),
              1e-9);
  auto loaded_past = Dated().Load(Date(2025, 6, 1));
  EXPECT_NEAR(past[1]->composite(), Composite(*loaded_past, "facility/b"),
              1e-9);

  // Live scores untouched.
  EXPECT_EQ(R(*e, "facility/a", kEC), 0);
  EXPECT_EQ(R(*e, "facility/b", kEC), 0);
  EXPECT_EQ(e->as_of(), DefaultAsOf());
}

TEST(AsOfTest, ExplainAsOfADateShowsTheSignalInForceThen) {
  auto e = Dated().Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  auto now = e->Explain("facility/a", kEC, 3, 6, std::nullopt);
  ASSERT_TRUE(now.ok()) << now.status();
  auto then = e->Explain("facility/a", kEC, 3, 6, Date(2027, 6, 1));
  ASSERT_TRUE(then.ok()) << then.status();
  bool found = false;
  for (const v1::Contribution& c : then->contributions()) {
    found |= c.direct().signal_id() == "signal/future";
  }
  EXPECT_TRUE(found) << then->DebugString();
  EXPECT_NEAR(EcOf(then->score()), 0.5, 1e-12);
  EXPECT_EQ(base::FromProtoTime(then->score().as_of()), Date(2027, 6, 1));
  for (const v1::Contribution& c : now->contributions()) {
    EXPECT_NE(c.direct().signal_id(), "signal/future");
  }
  EXPECT_EQ(EcOf(now->score()), 0);
  EXPECT_EQ(e->Explain("facility/nobody", kEC, 3, 6, Date(2027, 6, 1))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace georisk::scorer::testing
