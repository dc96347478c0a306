// The worked example of docs/scoring-model.md ("A worked example"), number
// for number. Change both together.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;

Graph WorkedExample() {
  Graph g;
  g.entities = {Company("company/tsmc", "TW"),
                Facility("facility/tsmc-hsinchu", "TW"),
                Company("company/foxconn", "TW"),
                Facility("facility/foxconn-ohio", "US"),
                Company("company/openai", "US"),
                Company("company/samsung", "KR"),
                Facility("facility/samsung-xian", "CN")};
  g.edges = {
      Operates("company/tsmc", "facility/tsmc-hsinchu", 0.6),
      Operates("company/foxconn", "facility/foxconn-ohio", 0.2),
      Supplies("facility/tsmc-hsinchu", "facility/foxconn-ohio", 0.5, "8542"),
      Supplies("facility/foxconn-ohio", "company/openai", 0.4, "8471"),
      Operates("company/samsung", "facility/samsung-xian", 0.4)};
  g.signals = {Tension("signal/cross-strait", 0.6),
               Tariff("signal/us-tw-illustrative", "Reciprocal (illustrative)",
                      "US", "TW", "", 0.2),
               Window(Revoked("signal/veu-revocation", "US-BIS",
                              {"facility/samsung-xian"}, 0.5),
                      Date(2025, 12, 31), absl::InfiniteFuture())};
  return g;
}

TEST(WorkedExampleTest, CrossStrait) {
  auto e = WorkedExample().Load(Date(2026, 1, 15));
  EXPECT_NEAR(R(*e, "facility/tsmc-hsinchu", kCS), 0.6, kEps);
  EXPECT_NEAR(R(*e, "company/tsmc", kCS), 0.744, kEps);
  EXPECT_NEAR(R(*e, "facility/foxconn-ohio", kCS), 0.255, kEps);
  EXPECT_NEAR(R(*e, "company/foxconn", kCS), 0.6204, kEps);
  EXPECT_NEAR(R(*e, "company/openai", kCS), 0.0867, kEps);
  EXPECT_NEAR(D(*e, "facility/samsung-xian", kCS), 0.3, kEps);
  EXPECT_NEAR(R(*e, "company/samsung", kCS), 0.12, kEps);
}

TEST(WorkedExampleTest, Tariffs) {
  auto e = WorkedExample().Load(Date(2026, 1, 15));
  EXPECT_NEAR(D(*e, "facility/tsmc-hsinchu", kTariffs), 0.4, kEps);
  EXPECT_NEAR(D(*e, "facility/foxconn-ohio", kTariffs), 0.2, kEps);
  EXPECT_NEAR(R(*e, "facility/foxconn-ohio", kTariffs), 0.336, kEps);
  EXPECT_NEAR(R(*e, "company/openai", kTariffs), 0.11424, kEps);
  EXPECT_NEAR(R(*e, "company/foxconn", kTariffs), 0.0672, kEps);
  EXPECT_NEAR(R(*e, "company/tsmc", kTariffs), 0.24, kEps);
}

TEST(WorkedExampleTest, ExportControls) {
  auto e = WorkedExample().Load(Date(2026, 1, 15));
  EXPECT_NEAR(D(*e, "facility/samsung-xian", kEC), 0.5, kEps);
  EXPECT_NEAR(R(*e, "company/samsung", kEC), 0.2, kEps);
  // The day before the revocation took effect: nothing.
  auto before = WorkedExample().Load(Date(2025, 12, 30));
  EXPECT_EQ(R(*before, "company/samsung", kEC), 0);
}

TEST(WorkedExampleTest, CompositesAndBands) {
  auto e = WorkedExample().Load(Date(2026, 1, 15));
  struct Row {
    const char* id;
    double composite;
    v1::Band band;
  };
  for (const Row& row :
       std::vector<Row>{{"company/openai", 13.314978816, v1::BAND_LOW},
                        {"facility/foxconn-ohio", 36.44736, v1::BAND_MEDIUM},
                        {"facility/tsmc-hsinchu", 60.48, v1::BAND_HIGH},
                        {"company/tsmc", 65.34912, v1::BAND_HIGH},
                        {"company/foxconn", 51.66283776, v1::BAND_MEDIUM},
                        {"facility/samsung-xian", 62.0, v1::BAND_HIGH},
                        {"company/samsung", 27.68, v1::BAND_LOW}}) {
    absl::StatusOr<v1::Score> s = e->GetScore(row.id);
    ASSERT_TRUE(s.ok()) << row.id;
    EXPECT_NEAR(s->composite(), row.composite, 1e-9) << row.id;
    EXPECT_EQ(s->band(), row.band) << row.id;
  }
}

TEST(WorkedExampleTest, Explanations) {
  auto e = WorkedExample().Load(Date(2026, 1, 15));
  absl::StatusOr<v1::Explanation> fox =
      e->Explain("company/foxconn", kCS, 3, 6);
  ASSERT_TRUE(fox.ok());
  ASSERT_EQ(fox->contributions_size(), 2);
  // -ln(1 - 0.6) = 0.916291 (location), -ln(1 - 0.2 x 0.255) = 0.052346.
  EXPECT_NEAR(fox->contributions(0).log_odds(), 0.916290731874155, 1e-12);
  EXPECT_EQ(fox->contributions(0).description(),
            "cross-strait tension 0.60 x location weight 1.00 (TW)");
  EXPECT_NEAR(fox->contributions(1).log_odds(), 0.052346480372209236, 1e-12);
  EXPECT_EQ(fox->contributions(1).description(),
            "operated facility: 20% of foxconn's capacity");
  EXPECT_NEAR(fox->contributions(0).fraction(),
              0.916290731874155 / 0.9686372122463645, 1e-12);

  absl::StatusOr<v1::Explanation> oa = e->Explain("company/openai", kCS, 3, 6);
  ASSERT_TRUE(oa.ok());
  ASSERT_EQ(oa->paths_size(), 1);
  EXPECT_EQ(oa->paths(0).summary(),
            "openai <- foxconn-ohio <- tsmc-hsinchu: cross-strait 0.60 "
            "(cross-strait)");
  EXPECT_NEAR(oa->contributions(0).log_odds(), 0.09069086528450379, 1e-12);
}

}  // namespace
}  // namespace georisk::scorer::testing
