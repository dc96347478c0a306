// What a measure is (docs/scoring-model.md, "What a measure is"): the
// model config's MeasurePolicy per ExportControl.Measure says whether a
// signal counts, its default severity and whether the 50% rules extend it;
// and the UK and Swiss rules ("more than 50%") beside OFAC's ("50% or
// more"). Expectations computed by hand in the comments.
#include <memory>

#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;

// Person p, listed by `authority` with `measure` at `severity`, owns
// `share` of company c.
Graph Owned(const std::string& authority, int measure, double severity,
            double share) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/c", "RU")};
  g.edges = {Owns("person/p", "company/c", share)};
  g.signals = {WithMeasure(
      Listing("signal/s", authority, {"person/p"}, severity), measure)};
  return g;
}

TEST(MeasureTest, BlockingAndSectoralSanctionsTriggerThe50PercentRule) {
  auto blocking =
      Owned("US-OFAC", v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9, 0.6)
          .Load();
  EXPECT_NEAR(R(*blocking, "company/c", kEC), 0.9, kEps);
  auto sectoral =
      Owned("US-OFAC", v1::ExportControl::MEASURE_SECTORAL_SANCTION, 0.5, 0.6)
          .Load();
  EXPECT_NEAR(R(*sectoral, "company/c", kEC), 0.5, kEps);
  auto listing =
      Owned("US-OFAC", v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING, 0.8,
            0.6)
          .Load();
  EXPECT_NEAR(R(*listing, "company/c", kEC), 0.8, kEps);
}

TEST(MeasureTest, ADebarmentCountsForItsTargetOnly) {
  auto e =
      Owned("US-OFAC", v1::ExportControl::MEASURE_DEBARMENT, 0.6, 0.6).Load();
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.6, kEps);
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
}

TEST(MeasureTest, OtherMeasuresAreKeptButDoNotCount) {
  auto e = Owned("US-OFAC", v1::ExportControl::MEASURE_OTHER, 0.9, 1.0).Load();
  EXPECT_EQ(R(*e, "person/p", kEC), 0);
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
  // Kept: a config that counts them scores the same signal without a
  // reload of the graph's records.
  v1::ModelConfig config = TestConfig();
  for (v1::MeasurePolicy& p : *config.mutable_measure_policies()) {
    if (p.measure() == v1::ExportControl::MEASURE_OTHER) p.set_counts(true);
  }
  auto counted =
      Owned("US-OFAC", v1::ExportControl::MEASURE_OTHER, 0.9, 1.0).Load(config);
  EXPECT_NEAR(R(*counted, "person/p", kEC), 0.9, kEps);
  EXPECT_EQ(R(*counted, "company/c", kEC), 0);  // still no 50% rule
}

TEST(MeasureTest, UnknownMeasuresCountOnlyIfTheConfigSaysSo) {
  constexpr int kFuture = 42;  // a measure a newer writer knows
  auto e = Owned("US-OFAC", kFuture, 0.7, 1.0).Load();
  EXPECT_EQ(R(*e, "person/p", kEC), 0);
  v1::ModelConfig config = TestConfig();
  config.mutable_unknown_measure()->set_counts(true);
  auto counted = Owned("US-OFAC", kFuture, 0.7, 1.0).Load(config);
  // At its own severity; no 50% rule unless the config says so.
  EXPECT_NEAR(R(*counted, "person/p", kEC), 0.7, kEps);
  EXPECT_EQ(R(*counted, "company/c", kEC), 0);
  config.mutable_unknown_measure()->set_ownership_rules_apply(true);
  auto extended = Owned("US-OFAC", kFuture, 0.7, 1.0).Load(config);
  EXPECT_NEAR(R(*extended, "company/c", kEC), 0.7, kEps);
}

TEST(MeasureTest, ASignalWithoutSeverityTakesItsMeasuresDefault) {
  // Blocking sanction, no severity: the default 0.9; sectoral: 0.5;
  // debarment: 0.3; unclassified: 0 (as before measures existed).
  const struct {
    int measure;
    double severity;
  } cases[] = {{v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9},
               {v1::ExportControl::MEASURE_SECTORAL_SANCTION, 0.5},
               {v1::ExportControl::MEASURE_DEBARMENT, 0.3},
               {v1::ExportControl::MEASURE_UNSPECIFIED, 0}};
  for (const auto& k : cases) {
    auto e = Owned("US-OFAC", k.measure, 0, 0.6).Load();
    EXPECT_NEAR(R(*e, "person/p", kEC), k.severity, kEps) << k.measure;
  }
}

TEST(MeasureTest, AMeasureChangeRescoresIncrementally) {
  auto e = Owned("EU", v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9, 0.6)
               .Load();
  EXPECT_NEAR(R(*e, "company/c", kEC), 0.9, kEps);
  e->ApplyChange(
      MakeChange(
          2, {Upsert(WithMeasure(Listing("signal/s", "EU", {"person/p"}, 0.9),
                                 v1::ExportControl::MEASURE_DEBARMENT))}),
      DefaultAsOf());
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.9, kEps);
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
}

TEST(OwnershipRuleThresholdTest, UkAndSwissNeedMoreThanHalf) {
  // Exactly 50%: OFAC's "50% or more" covers it, the UK's and
  // Switzerland's "more than 50%" do not; 51% is covered by all three.
  for (const char* authority : {"UK", "CH"}) {
    auto half =
        Owned(authority, v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9, 0.5)
            .Load();
    EXPECT_EQ(R(*half, "company/c", kEC), 0) << authority;
    auto more = Owned(authority, v1::ExportControl::MEASURE_BLOCKING_SANCTION,
                      0.9, 0.51)
                    .Load();
    EXPECT_NEAR(R(*more, "company/c", kEC), 0.9, kEps) << authority;
  }
  auto ofac =
      Owned("US-OFAC", v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9, 0.5)
          .Load();
  EXPECT_NEAR(R(*ofac, "company/c", kEC), 0.9, kEps);
}

TEST(OwnershipRuleThresholdTest, TheUkRuleIsWordedAsMoreThanHalf) {
  auto e = Owned("UK", v1::ExportControl::MEASURE_BLOCKING_SANCTION, 0.9, 0.6)
               .Load();
  absl::StatusOr<v1::Explanation> x = e->Explain("company/c", kEC, 3, 6);
  ASSERT_TRUE(x.ok()) << x.status();
  ASSERT_EQ(x->contributions_size(), 1);
  EXPECT_EQ(x->contributions(0).description(),
            "owned 60% by p (person), listed by UK");
  EXPECT_EQ(x->contributions(0).direct().rule(),
            "owned more than 50%, in aggregate, by listed parties");
}

}  // namespace
}  // namespace georisk::scorer::testing
