// Direct-exposure rules, one small graph each, expectations computed by hand
// (the arithmetic is in the comments).
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;
constexpr double kBeta = 0.85;

TEST(ListingTest, ListedCompanyHasTheSeverity) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "CN")};
  g.signals = {Listing("signal/el", "US-BIS", {"company/a"}, 0.9)};
  auto e = g.Load();
  EXPECT_NEAR(D(*e, "company/a", kEC), 0.9, kEps);
  EXPECT_NEAR(R(*e, "company/a", kEC), 0.9, kEps);
  EXPECT_EQ(D(*e, "company/b", kEC), 0);
}

TEST(ListingTest, TwoListingsCombineByNoisyOr) {
  Graph g;
  g.entities = {Company("company/a", "CN")};
  g.signals = {Listing("signal/el", "US-BIS", {"company/a"}, 0.9),
               Listing("signal/sdn", "US-OFAC", {"company/a"}, 0.5)};
  auto e = g.Load();
  // 1 - (1 - 0.9)(1 - 0.5) = 0.95
  EXPECT_NEAR(D(*e, "company/a", kEC), 0.95, kEps);
}

TEST(ListingTest, TargetsThatAppearLaterAreListedThen) {
  Graph g;
  g.signals = {Listing("signal/el", "US-BIS", {"company/late"}, 0.9)};
  auto e = g.Load();
  e->ApplyChange(MakeChange(2, {Upsert(Company("company/late", "CN"))}),
                 DefaultAsOf());
  EXPECT_NEAR(D(*e, "company/late", kEC), 0.9, kEps);
}

// A 3-level ownership chain: two listed owners hold 30% + 20% = 50% of X,
// X holds 60% of Y, Y holds 50% of Z. OFAC's rule is always active.
TEST(OwnershipRuleTest, ThreeLevelChainSummedAcrossTwoListedOwners) {
  Graph g;
  g.entities = {Company("company/l1", "RU"), Company("company/l2", "RU"),
                Company("company/x", "CY"),  Company("company/y", "AE"),
                Company("company/z", "HK"),  Company("company/w", "CY"),
                Company("company/p", "DE")};
  g.edges = {Owns("company/l1", "company/x", 0.3),
             Owns("company/l2", "company/x", 0.2),
             Owns("company/x", "company/y", 0.6),
             Owns("company/y", "company/z", 0.5),
             // 30% + 15% = 45%: below the threshold.
             Owns("company/l1", "company/w", 0.3),
             Owns("company/l2", "company/w", 0.15),
             // An unlisted co-owner of X.
             Owns("company/p", "company/x", 0.4)};
  g.signals = {Listing("signal/sdn-l1", "US-OFAC", {"company/l1"}, 0.8),
               Listing("signal/sdn-l2", "US-OFAC", {"company/l2"}, 0.6)};
  auto e = g.Load();
  // X, Y, Z qualify and carry the highest severity among their owners.
  EXPECT_NEAR(D(*e, "company/x", kEC), 0.8, kEps);
  EXPECT_NEAR(D(*e, "company/y", kEC), 0.8, kEps);
  EXPECT_NEAR(D(*e, "company/z", kEC), 0.8, kEps);
  EXPECT_EQ(D(*e, "company/w", kEC), 0);
  EXPECT_EQ(D(*e, "company/p", kEC), 0);
  // Propagation child -> parent does not count the same authority's listing
  // twice: Y already is OFAC-restricted, so Z's derived listing adds
  // nothing to it, and so on up to L1.
  EXPECT_NEAR(R(*e, "company/y", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "company/x", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "company/l1", kEC), 0.8, kEps);
  // L2: its own 0.6 listing; X's derived listing (carried from L1) is the
  // same authority's: excluded. R = 0.6.
  EXPECT_NEAR(R(*e, "company/l2", kEC), 0.6, kEps);
  // P owns 40% of X and is not listed: R(P) = 0.4 x R(X) = 0.32.
  EXPECT_NEAR(R(*e, "company/p", kEC), 0.4 * 0.8, kEps);

  // Dropping L2's listing leaves X at 30%: the whole chain falls away.
  e->ApplyChange(MakeChange(2, {DeleteSignal("signal/sdn-l2")}), DefaultAsOf());
  EXPECT_EQ(D(*e, "company/x", kEC), 0);
  EXPECT_EQ(D(*e, "company/z", kEC), 0);
  EXPECT_EQ(R(*e, "company/p", kEC), 0);
}

// Companies owning each other, and a company owning part of itself: the
// closure is a least fixed point, so a cycle never qualifies itself, and
// every computation terminates.
TEST(OwnershipRuleTest, SelfOwningCycles) {
  Graph g;
  g.entities = {Company("company/l", "RU"), Company("company/a", "CY"),
                Company("company/b", "CY"), Company("company/c", "CY"),
                Company("company/d", "CY")};
  g.edges = {
      Owns("company/a", "company/b", 0.6), Owns("company/b", "company/a", 0.6),
      Owns("company/l", "company/a", 0.3),
      // C owns 40% of itself; L owns 50% of C: C qualifies on L's 50%.
      Owns("company/c", "company/c", 0.4), Owns("company/l", "company/c", 0.5),
      // D owns 45% of itself; L owns 10%: 10% < 50%.
      Owns("company/d", "company/d", 0.45),
      Owns("company/l", "company/d", 0.1)};
  g.signals = {Listing("signal/sdn", "US-OFAC", {"company/l"}, 0.9)};
  auto e = g.Load();
  // A: 30% from L; B's 60% would count only if B qualified, which needs A.
  EXPECT_EQ(D(*e, "company/a", kEC), 0);
  EXPECT_EQ(D(*e, "company/b", kEC), 0);
  EXPECT_EQ(R(*e, "company/a", kEC), 0);
  EXPECT_EQ(R(*e, "company/b", kEC), 0);
  EXPECT_NEAR(D(*e, "company/c", kEC), 0.9, kEps);
  EXPECT_NEAR(R(*e, "company/c", kEC), 0.9, kEps);  // No self-loop echo.
  EXPECT_EQ(D(*e, "company/d", kEC), 0);
  // D is 10% owned by L and not restricted: L gets nothing from it; C's
  // derived listing is L's own authority: nothing either.
  EXPECT_NEAR(R(*e, "company/l", kEC), 0.9, kEps);

  // Once L also owns 20% of A, A has 50%: then B has 60% from A.
  e->ApplyChange(MakeChange(2, {Upsert(Owns("company/l", "company/a", 0.5))}),
                 DefaultAsOf());
  EXPECT_NEAR(D(*e, "company/a", kEC), 0.9, kEps);
  EXPECT_NEAR(D(*e, "company/b", kEC), 0.9, kEps);
}

// BIS's Affiliates Rule: active from 2025-09-29, suspended [2025-11-10,
// 2026-11-10) (through 9 Nov 2026).
TEST(OwnershipRuleTest, BisRuleDuringItsSuspensionAndAfter) {
  Graph g;
  g.entities = {Company("company/l", "CN"), Company("company/x", "CN"),
                Facility("facility/xf", "CN")};
  g.edges = {Owns("company/l", "company/x", 0.6),
             Operates("company/x", "facility/xf", 1.0)};
  g.signals = {Listing("signal/el", "US-BIS", {"company/l"}, 0.7)};

  // Before the rule: only the listed company.
  auto e = g.Load(Date(2025, 9, 28));
  EXPECT_EQ(D(*e, "company/x", kEC), 0);
  // Active, before the suspension: X and its facility.
  e->AdvanceTime(Date(2025, 10, 15));
  EXPECT_NEAR(D(*e, "company/x", kEC), 0.7, kEps);
  EXPECT_NEAR(D(*e, "facility/xf", kEC), 0.7, kEps);
  // Suspended.
  e->AdvanceTime(Date(2025, 11, 10));
  EXPECT_EQ(D(*e, "company/x", kEC), 0);
  EXPECT_EQ(D(*e, "facility/xf", kEC), 0);
  e->AdvanceTime(Date(2026, 11, 10) - absl::Seconds(1));
  EXPECT_EQ(D(*e, "company/x", kEC), 0);
  // The suspension's end is exclusive: back in force on 10 Nov 2026.
  std::vector<v1::ScoreChange> moved = e->AdvanceTime(Date(2026, 11, 10));
  EXPECT_NEAR(D(*e, "company/x", kEC), 0.7, kEps);
  EXPECT_NEAR(D(*e, "facility/xf", kEC), 0.7, kEps);
  EXPECT_FALSE(moved.empty());

  // The same, loaded directly at each date.
  EXPECT_EQ(D(*g.Load(Date(2026, 1, 15)), "company/x", kEC), 0);
  EXPECT_NEAR(D(*g.Load(Date(2027, 1, 15)), "company/x", kEC), 0.7, kEps);

  // OFAC's rule does not apply to a BIS listing.
  Graph ofac = g;
  ofac.signals = {Listing("signal/sdn", "US-OFAC", {"company/l"}, 0.7)};
  EXPECT_NEAR(D(*ofac.Load(Date(2026, 1, 15)), "company/x", kEC), 0.7, kEps);
}

// A listing reaches the facilities its target operates; that facility's
// exposure does not flow back into the operator a second time.
TEST(ListingTest, ReachesOperatedFacilitiesWithoutDoubleCounting) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "KR"),
                Facility("facility/f", "CN")};
  g.edges = {Operates("company/a", "facility/f", 0.4),
             Operates("company/b", "facility/f", 0.5)};
  g.signals = {Listing("signal/sdn", "US-OFAC", {"company/a"}, 0.9)};
  auto e = g.Load();
  EXPECT_NEAR(D(*e, "facility/f", kEC), 0.9, kEps);
  EXPECT_NEAR(R(*e, "company/a", kEC), 0.9, kEps);
  // B, a co-operator that is not listed: 0.5 x 0.9.
  EXPECT_NEAR(R(*e, "company/b", kEC), 0.45, kEps);
}

TEST(RevokedAuthorizationTest, AppliesToTheTargetFacility) {
  Graph g;
  g.entities = {Company("company/samsung", "KR"),
                Facility("facility/xian", "CN")};
  g.edges = {Operates("company/samsung", "facility/xian", 0.4)};
  g.signals = {Window(Revoked("signal/veu", "US-BIS", {"facility/xian"}, 0.5),
                      Date(2025, 12, 31), absl::InfiniteFuture())};
  auto e = g.Load();
  EXPECT_NEAR(D(*e, "facility/xian", kEC), 0.5, kEps);
  // The operator: 0.4 x 0.5 = 0.2.
  EXPECT_NEAR(R(*e, "company/samsung", kEC), 0.2, kEps);
  // Before 31 Dec 2025 the revocation is not in effect.
  EXPECT_EQ(D(*g.Load(Date(2025, 12, 30)), "facility/xian", kEC), 0);
}

// A destination control reaches a facility in a destination country in
// proportion to its dependency on controlled inputs from outside.
TEST(DestinationControlTest, ProportionalToControlledInputs) {
  Graph g;
  g.entities = {Facility("facility/f", "CN"), Company("company/us1", "US"),
                Company("company/jp", "JP"),  Company("company/cn", "CN"),
                Company("company/us2", "US"), Company("company/buyer", "CN"),
                Facility("facility/tw", "TW")};
  g.edges = {Supplies("company/us1", "facility/f", 0.3, "8486"),
             Supplies("company/jp", "facility/f", 0.2, "848620"),
             // Domestic: the item does not reach CN from outside.
             Supplies("company/cn", "facility/f", 0.4, "8486"),
             // Not a controlled product.
             Supplies("company/us2", "facility/f", 0.1, "8542"),
             // Same inputs to a facility outside CN: no exposure.
             Supplies("company/us1", "facility/tw", 0.9, "8486"),
             // A company (not a facility) in CN: none directly.
             Supplies("company/us1", "company/buyer", 0.9, "8486")};
  g.signals = {Destination("signal/dc", "US-BIS", {"CN"}, {"8486"}, 0.8)};
  auto e = g.Load();
  // Controlled share 0.3 + 0.2 = 0.5; d = 0.8 x 0.5 = 0.4.
  EXPECT_NEAR(D(*e, "facility/f", kEC), 0.4, kEps);
  EXPECT_EQ(D(*e, "facility/tw", kEC), 0);
  EXPECT_EQ(D(*e, "company/buyer", kEC), 0);

  // Doubling the controlled dependency doubles the exposure.
  e->ApplyChange(
      MakeChange(2,
                 {Upsert(Supplies("company/jp", "facility/f", 0.5, "848620"))}),
      DefaultAsOf());
  // 0.8 x (0.3 + 0.5) = 0.64
  EXPECT_NEAR(D(*e, "facility/f", kEC), 0.64, kEps);
}

// Programmes stack; within a programme the longest HS prefix wins, then an
// explicit origin over "*"; rates are divided by the cap (0.5).
TEST(TariffTest, StackedProgrammesMostSpecificRuleWins) {
  Graph g;
  g.entities = {Company("company/c", "US"), Company("company/s", "CN"),
                Company("company/d", "CN")};
  g.edges = {Supplies("company/s", "company/c", 0.4, "854231"),
             // S also sells at home: S's output shares are 1/2, 1/2.
             Supplies("company/s", "company/d", 0.3, "854231")};
  g.signals = {
      // Section 301: the 6-digit rule beats the 4-digit one.
      Tariff("signal/301-8542", "Section 301", "US", "CN", "8542", 0.5),
      Tariff("signal/301-854231", "Section 301", "US", "*", "854231", 0.25),
      // IEEPA: explicit origin CN beats "*".
      Tariff("signal/ieepa-cn", "IEEPA", "US", "CN", "", 0.10),
      Tariff("signal/ieepa-all", "IEEPA", "US", "*", "", 0.20),
      // A third programme stacks on top.
      Tariff("signal/reciprocal", "Reciprocal", "US", "*", "85", 0.15),
      // Another importer: not relevant.
      Tariff("signal/eu", "EU CET", "DE", "*", "", 0.3)};
  auto e = g.Load();
  // Line rate 0.25 + 0.10 + 0.15 = 0.50. Customer: 0.4 x 0.50 / 0.5 = 0.4.
  EXPECT_NEAR(D(*e, "company/c", kTariffs), 0.4, kEps);
  // Supplier: output share 1/2 x 0.50 / 0.5 = 0.5; the domestic sale none.
  EXPECT_NEAR(D(*e, "company/s", kTariffs), 0.5, kEps);
  EXPECT_EQ(D(*e, "company/d", kTariffs), 0);
  // Propagated to the customer: 1 - (1 - 0.4)(1 - 0.85 x 0.4 x 0.5).
  EXPECT_NEAR(R(*e, "company/c", kTariffs),
              1 - (1 - 0.4) * (1 - kBeta * 0.4 * 0.5), kEps);
}

TEST(TariffTest, OutputSharesFollowAnnualValuesAndTheCapBinds) {
  Graph g;
  g.entities = {Company("company/c", "US"), Company("company/s", "CN"),
                Company("company/d", "CN")};
  v1::Edge export_edge = Supplies("company/s", "company/c", 0.9, "8542");
  export_edge.set_annual_value_usd(3e6);
  v1::Edge home_edge = Supplies("company/s", "company/d", 0.3, "8542");
  home_edge.set_annual_value_usd(1e6);
  g.edges = {export_edge, home_edge};
  g.signals = {Tariff("signal/301", "Section 301", "US", "CN", "8542", 0.5),
               Tariff("signal/ieepa", "IEEPA", "US", "CN", "", 0.2)};
  auto e = g.Load();
  // Output share 3/4 x 0.7 / 0.5 = 1.05 -> capped at full exposure.
  EXPECT_GT(D(*e, "company/s", kTariffs), 1 - 1e-12);
  // Customer: 0.9 x 0.7 / 0.5 = 1.26 -> capped.
  EXPECT_GT(D(*e, "company/c", kTariffs), 1 - 1e-12);
}

TEST(SignalWindowTest, OutsideItsWindowASignalDoesNotCount) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "CN"),
                Company("company/c", "CN")};
  const absl::Time t = DefaultAsOf();
  g.signals = {// Starts next year.
               Window(Listing("signal/future", "US-BIS", {"company/a"}, 0.9),
                      Date(2027, 1, 1), absl::InfiniteFuture()),
               // Ended exactly at t: windows are half-open.
               Window(Listing("signal/ended", "US-BIS", {"company/b"}, 0.9),
                      absl::InfinitePast(), t),
               // Starts exactly at t.
               Window(Listing("signal/starts", "US-BIS", {"company/c"}, 0.9), t,
                      absl::InfiniteFuture())};
  auto e = g.Load(t);
  EXPECT_EQ(D(*e, "company/a", kEC), 0);
  EXPECT_EQ(D(*e, "company/b", kEC), 0);
  EXPECT_NEAR(D(*e, "company/c", kEC), 0.9, kEps);
  // A year later the first one is in force.
  e->AdvanceTime(Date(2027, 1, 1));
  EXPECT_NEAR(D(*e, "company/a", kEC), 0.9, kEps);
}

TEST(EdgeWindowTest, AnOwnershipThatEndedStopsCounting) {
  Graph g;
  g.entities = {Company("company/l", "RU"), Company("company/x", "CY"),
                Company("company/y", "US")};
  g.edges = {Window(Owns("company/l", "company/x", 0.6), absl::InfinitePast(),
                    Date(2026, 1, 1)),
             Supplies("company/x", "company/y", 0.5)};
  g.signals = {Listing("signal/sdn", "US-OFAC", {"company/l"}, 0.9)};
  auto before = g.Load(Date(2025, 12, 1));
  EXPECT_NEAR(D(*before, "company/x", kEC), 0.9, kEps);
  EXPECT_NEAR(R(*before, "company/y", kEC), kBeta * 0.5 * 0.9, kEps);
  auto after = g.Load(Date(2026, 1, 1));
  EXPECT_EQ(D(*after, "company/x", kEC), 0);
  EXPECT_EQ(R(*after, "company/y", kEC), 0);
  // Moving time forward incrementally gives the same.
  before->AdvanceTime(Date(2026, 1, 1));
  EXPECT_EQ(D(*before, "company/x", kEC), 0);
  EXPECT_EQ(R(*before, "company/y", kEC), 0);
}

// Cross-strait: level x location weight (TW 1.0, CN 0.5 by default) plus
// level x the dependency share of supply crossing TW <-> CN.
TEST(CrossStraitTest, LocationAndSupplyCrossingTheStrait) {
  Graph g;
  g.entities = {Facility("facility/tw", "TW"), Facility("facility/cn", "CN"),
                Company("company/us", "US"),   Company("company/k", "CN"),
                Company("company/cn2", "CN"),  Company("company/w", "TW")};
  g.edges = {Supplies("facility/tw", "company/us", 0.5),
             Supplies("facility/tw", "company/k", 0.4),
             Supplies("company/cn2", "company/k", 0.3),
             Supplies("facility/cn", "company/w", 0.25)};
  g.signals = {Tension("signal/gpr", 0.6)};
  auto e = g.Load();
  EXPECT_NEAR(D(*e, "facility/tw", kCS), 0.6, kEps);
  EXPECT_NEAR(D(*e, "facility/cn", kCS), 0.3, kEps);
  EXPECT_EQ(D(*e, "company/us", kCS), 0);
  // K in CN: 0.6 x 0.5 + 0.6 x 0.4 (the TW supply; the CN one does not
  // cross) = 0.54.
  EXPECT_NEAR(D(*e, "company/k", kCS), 0.54, kEps);
  // W in TW: 0.6 x 1.0 + 0.6 x 0.25 = 0.75.
  EXPECT_NEAR(D(*e, "company/w", kCS), 0.75, kEps);
  // Propagated to the US customer: 0.85 x 0.5 x 0.6.
  EXPECT_NEAR(R(*e, "company/us", kCS), kBeta * 0.5 * 0.6, kEps);
}

TEST(CrossStraitTest, SignalWeightsAndTheLatestSignal) {
  Graph g;
  g.entities = {Facility("facility/tw", "TW"), Facility("facility/jp", "JP")};
  g.signals = {Window(Tension("signal/old", 0.9), Date(2025, 1, 1),
                      absl::InfiniteFuture()),
               Window(Tension("signal/new", 0.5, {{"TW", 0.8}, {"JP", 0.2}}),
                      Date(2025, 6, 1), absl::InfiniteFuture())};
  auto e = g.Load();
  // The latest in force wins, with its own weights.
  EXPECT_NEAR(D(*e, "facility/tw", kCS), 0.4, kEps);
  EXPECT_NEAR(D(*e, "facility/jp", kCS), 0.1, kEps);
}

}  // namespace
}  // namespace georisk::scorer::testing
