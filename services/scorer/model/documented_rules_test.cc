// The two worked examples of docs/scoring-model.md's "Listings are not
// counted twice" and "Self-ownership is dropped" sections, computed by hand
// below (not copied from the engine's output). Change both together.
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-9;

// company/parent (DE) is listed by US-OFAC, severity 0.8. It owns 60% of
// company/sub (DE), which the EU also lists in its own right (severity 0.5),
// and operates facility/plant (DE), half its capacity. No tariff, no tension.
//
// By hand, export controls (the only factor; lambda_ec = 1):
//   plant:  OFAC's listing reaches it through its operator: d = 0.8, R = 0.8.
//   sub:    OFAC's 50% rule (parent owns 60%) gives it parent's 0.8, and its
//           own EU listing 0.5: d = 1 - (1 - 0.8)(1 - 0.5) = 0.9, R = 0.9.
//   parent: d = 0.8 (its own listing). Its in-edges: sub -> parent (OWNS,
//           w = 0.6) and plant -> parent (OPERATES, w = 0.5). Both carry an
//           OFAC listing that came from parent itself, and parent is listed
//           by OFAC, so what parent sees of them leaves OFAC out:
//             sub as seen by parent:   R = 0.5 (the EU listing only);
//             plant as seen by parent: R = 0 (nothing but OFAC's).
//           R = 1 - (1 - 0.8)(1 - 0.6 x 0.5)(1 - 0.5 x 0)
//             = 1 - 0.2 x 0.7 x 1 = 0.86; composite 86.0.
//   Counted twice it would be 1 - 0.2 (1 - 0.6 x 0.9)(1 - 0.5 x 0.8)
//             = 1 - 0.2 x 0.46 x 0.6 = 0.9448.
Graph SameAuthority() {
  Graph g;
  g.entities = {Company("company/parent", "DE"), Company("company/sub", "DE"),
                Facility("facility/plant", "DE")};
  g.edges = {Owns("company/parent", "company/sub", 0.6),
             Operates("company/parent", "facility/plant", 0.5)};
  g.signals = {
      Listing("signal/ofac-parent", "US-OFAC", {"company/parent"}, 0.8),
      Listing("signal/eu-sub", "EU", {"company/sub"}, 0.5)};
  return g;
}

TEST(DocumentedRulesTest,
     AListingDoesNotFlowBackToAPartyListedByTheSameAuthority) {
  auto e = SameAuthority().Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  EXPECT_NEAR(R(*e, "facility/plant", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "company/sub", kEC), 0.9, kEps);
  EXPECT_NEAR(D(*e, "company/parent", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "company/parent", kEC), 0.86, kEps);
  EXPECT_NEAR(Composite(*e, "company/parent"), 86.0, 1e-7);
}

TEST(DocumentedRulesTest, WithoutOtherListingsNothingFlowsBack) {
  // The same graph without the EU's listing of sub. By hand: sub derives
  // OFAC's 0.8 from parent (R = 0.8), plant derives it from its operator
  // (R = 0.8), and parent, OFAC-listed itself, sees neither:
  //   R(parent) = 1 - 0.2 (1 - 0.6 x 0)(1 - 0.5 x 0) = 0.8 (composite 80.0),
  // not 1 - 0.2 (1 - 0.6 x 0.8)(1 - 0.5 x 0.8) = 1 - 0.2 x 0.52 x 0.6
  // = 0.9376.
  Graph g = SameAuthority();
  g.signals = {
      Listing("signal/ofac-parent", "US-OFAC", {"company/parent"}, 0.8)};
  auto e = g.Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  EXPECT_NEAR(R(*e, "company/sub", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "facility/plant", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "company/parent", kEC), 0.8, kEps);
  EXPECT_NEAR(Composite(*e, "company/parent"), 80.0, 1e-7);
}

// company/selfheld (TW) owns 40% of itself (treasury shares, or two ids of
// one party merged). Cross-strait tension 0.6. By hand, cross-strait
// (lambda_cs = 0.8):
//   d = 0.6 x 1.0 (TW's weight) = 0.6. The self-ownership edge is dropped
//   from propagation, so R = d = 0.6; composite 100 x 0.8 x 0.6 = 48.0.
//   Were it counted, R would solve R = 1 - (1 - 0.6)(1 - 0.4 R), i.e.
//   R = 0.6 + 0.16 R, R = 0.6 / 0.84 = 0.714286 (composite 57.1).
// company/holder (TW), which owns 40% of selfheld, still gets selfheld's
// exposure: R(holder) = 1 - (1 - 0.6)(1 - 0.4 x 0.6) = 1 - 0.4 x 0.76
// = 0.696.
TEST(DocumentedRulesTest, SelfOwnershipIsDroppedFromPropagation) {
  Graph g;
  g.entities = {Company("company/selfheld", "TW"),
                Company("company/holder", "TW")};
  g.edges = {Owns("company/selfheld", "company/selfheld", 0.4),
             Owns("company/holder", "company/selfheld", 0.4)};
  g.signals = {Tension("signal/cross-strait", 0.6)};
  auto e = g.Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  EXPECT_NEAR(D(*e, "company/selfheld", kCS), 0.6, kEps);
  EXPECT_NEAR(R(*e, "company/selfheld", kCS), 0.6, kEps);
  EXPECT_NEAR(Composite(*e, "company/selfheld"), 48.0, 1e-7);
  EXPECT_NEAR(R(*e, "company/holder", kCS), 0.696, kEps);
}

// The same two companies, holder listed by US-OFAC (severity 0.8) and no
// tension. By hand: the OFAC 50% rule counts the shares of listed owners
// only: holder's 40% < 50%; selfheld's 40% in itself does not count (it is
// not listed), so selfheld is not treated as listed: R_ec(selfheld) = 0.
TEST(DocumentedRulesTest, ASelfHeldShareDoesNotQualifyACompanyUnderTheRule) {
  Graph g;
  g.entities = {Company("company/selfheld", "TW"),
                Company("company/holder", "TW")};
  g.edges = {Owns("company/selfheld", "company/selfheld", 0.4),
             Owns("company/holder", "company/selfheld", 0.4)};
  g.signals = {
      Listing("signal/ofac-holder", "US-OFAC", {"company/holder"}, 0.8)};
  auto e = g.Load(DefaultAsOf());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(R(*e, "company/selfheld", kEC), 0);
  EXPECT_NEAR(R(*e, "company/holder", kEC), 0.8, kEps);
}

}  // namespace
}  // namespace georisk::scorer::testing
