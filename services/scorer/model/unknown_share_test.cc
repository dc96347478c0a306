// Ownership of unknown share (graph.proto Edge.share_unknown;
// docs/scoring-model.md, "Unknown shares"): it counts in no score and in no
// 50% aggregate, alone or with known shares, and the owned company's
// explanation shows it as a line with no score when the owner is exposed.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

using ::testing::ElementsAre;

v1::Edge Unknown(const std::string& owner, const std::string& asset) {
  v1::Edge e = Owns(owner, asset, 0);
  e.set_share_unknown(true);
  return e;
}

std::vector<v1::Contribution> Ec(const Engine& e, const std::string& id) {
  absl::StatusOr<v1::Explanation> x = e.Explain(id, kEC, 3, 6);
  EXPECT_TRUE(x.ok()) << x.status();
  if (!x.ok()) return {};
  for (const v1::ExplanationPath& p : x->paths()) {
    // A line with no score starts no path and is on none.
    for (const v1::PathHop& h : p.hops()) {
      EXPECT_NE(h.entity_id(), "person/p") << id;
    }
  }
  return {x->contributions().begin(), x->contributions().end()};
}

std::vector<std::string> Descriptions(const std::vector<v1::Contribution>& c) {
  std::vector<std::string> out;
  for (const v1::Contribution& x : c) out.push_back(x.description());
  return out;
}

TEST(UnknownShareTest, CountsInNoAggregateAndIsShown) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/l", "CY"),
                Company("company/u", "CY"), Company("company/c", "CY")};
  // u: owned by the listed person, share unknown, and nothing else.
  // c: 45% by listed l plus the person's stake of unknown share: 45% < 50%,
  // whatever the unknown share may be, c is not covered.
  g.edges = {Unknown("person/p", "company/u"), Unknown("person/p", "company/c"),
             Owns("company/l", "company/c", 0.45)};
  g.signals = {Listing("signal/p", "US-OFAC", {"person/p"}, 0.9),
               Listing("signal/l", "US-OFAC", {"company/l"}, 0.8)};
  auto e = g.Load();
  EXPECT_EQ(D(*e, "company/u", kEC), 0);
  EXPECT_EQ(R(*e, "company/u", kEC), 0);
  EXPECT_EQ(D(*e, "company/c", kEC), 0);
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
  const std::vector<v1::Contribution> u = Ec(*e, "company/u");
  EXPECT_THAT(Descriptions(u),
              ElementsAre("owned by p (person), share unknown: counted in no "
                          "score and in no 50% rule"));
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].log_odds(), 0);
  EXPECT_EQ(u[0].fraction(), 0);
  EXPECT_EQ(u[0].upstream().entity_id(), "person/p");
  EXPECT_EQ(u[0].upstream().weight(), 0);
  EXPECT_NEAR(u[0].upstream().upstream_score(), 0.9, 1e-12);
  EXPECT_THAT(Descriptions(Ec(*e, "company/c")),
              ElementsAre("owned by p (person), share unknown: counted in no "
                          "score and in no 50% rule"));
  // The owner is not exposed by what it owns at an unknown share.
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.9, 1e-12);
}

TEST(UnknownShareTest, ScoredLinesComeFirstAndKeepTheirFractions) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/l", "CY"),
                Company("company/c", "CY")};
  g.edges = {Unknown("person/p", "company/c"),
             Owns("company/l", "company/c", 0.6)};
  g.signals = {Listing("signal/p", "US-OFAC", {"person/p"}, 0.9),
               Listing("signal/l", "US-OFAC", {"company/l"}, 0.8)};
  auto e = g.Load();
  // 60% by l alone: covered at l's 0.8; the person's stake adds nothing.
  EXPECT_NEAR(D(*e, "company/c", kEC), 0.8, 1e-12);
  const std::vector<v1::Contribution> c = Ec(*e, "company/c");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].description(), "owned 60% by l (company), listed by US-OFAC");
  EXPECT_NEAR(c[0].fraction(), 1.0, 1e-12);
  EXPECT_EQ(c[1].log_odds(), 0);
  EXPECT_EQ(c[1].upstream().entity_id(), "person/p");
}

TEST(UnknownShareTest, NoLineWhenTheOwnerIsNotExposed) {
  Graph g;
  g.entities = {Company("company/o", "CY"), Company("company/c", "CY")};
  g.edges = {Unknown("company/o", "company/c")};
  auto e = g.Load();
  EXPECT_TRUE(Ec(*e, "company/c").empty());
}

TEST(UnknownShareTest, AChangeOfOnlyTheFlagReachesTheExplanation) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/c", "CY")};
  v1::Edge edge = Owns("person/p", "company/c", 0);
  g.edges = {edge};
  g.signals = {Listing("signal/p", "US-OFAC", {"person/p"}, 0.9)};
  auto e = g.Load();
  EXPECT_TRUE(Ec(*e, "company/c").empty());
  edge.set_share_unknown(true);
  e->ApplyChange(MakeChange(2, {Upsert(edge)}), DefaultAsOf());
  EXPECT_EQ(Ec(*e, "company/c").size(), 1u);
  edge.set_share_unknown(false);
  e->ApplyChange(MakeChange(3, {Upsert(edge)}), DefaultAsOf());
  EXPECT_TRUE(Ec(*e, "company/c").empty());
}

}  // namespace
}  // namespace georisk::scorer::testing
