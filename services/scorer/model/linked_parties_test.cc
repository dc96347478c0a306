// Linked parties (docs/scoring-model.md, "Linked parties"): the worked
// example number for number, and incremental links and unlinks against a
// fresh load. Change the document and this test together.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kEps = 1e-12;

v1::Entity Named(v1::Entity e, const std::string& name) {
  e.set_name(name);
  return e;
}

// The supply graph's SMIC, the Consolidated Screening List's record of it
// and OpenSanctions' (FtM) record, each under its own id; OFAC lists the CSL
// record.
Graph Example() {
  Graph g;
  g.entities = {
      Named(Company("company/smic", "CN"), "SMIC"),
      Named(Company("company/csl-el-1", "CN"),
            "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORPORATION"),
      Named(Company("company/ftm-smic", "CN"), "Semiconductor Manufacturing"),
      Named(Company("company/smic-beijing", "CN"), "SMIC Beijing"),
      Named(Company("company/smic-tianjin", "CN"), "SMIC Tianjin"),
      Named(Company("company/customer", "US"), "Customer")};
  g.edges = {Owns("company/smic", "company/smic-beijing", 0.3),
             Owns("company/ftm-smic", "company/smic-beijing", 0.3),
             Owns("company/ftm-smic", "company/smic-tianjin", 0.55),
             Supplies("company/smic", "company/customer", 0.5, "8542"),
             Supplies("company/csl-el-1", "company/customer", 0.4, "8542")};
  g.signals = {
      Listing("signal/ofac-smic", "US-OFAC", {"company/csl-el-1"}, 0.8)};
  return g;
}

v1::Link ByLei() {
  v1::Link l = Link("company/csl-el-1", "company/smic");
  l.clear_evidence();
  l.add_evidence("lei 549300ZZLZ1PVR5XDO63");
  return l;
}

v1::Link ByName() {
  v1::Link l = Link("company/ftm-smic", "company/smic");
  l.set_method(v1::Link::NAME);
  l.set_score(0.93);
  (*l.mutable_features())["country"] = 1;
  l.clear_evidence();
  l.add_evidence("'Semiconductor Manufacturing' ~ 'SMIC'");
  l.set_decided_by("reviewer:alice");
  return l;
}

Graph Linked() {
  Graph g = Example();
  g.links = {ByLei(), ByName()};
  return g;
}

void ExpectUnlinked(const Engine& e) {
  EXPECT_NEAR(R(e, "company/csl-el-1", kEC), 0.8, kEps);
  EXPECT_EQ(R(e, "company/smic", kEC), 0);
  EXPECT_EQ(R(e, "company/ftm-smic", kEC), 0);
  EXPECT_EQ(R(e, "company/smic-tianjin", kEC), 0);
  EXPECT_EQ(R(e, "company/smic-beijing", kEC), 0);
  // 0.85 x 0.4 x 0.8.
  EXPECT_NEAR(R(e, "company/customer", kEC), 0.272, kEps);
}

void ExpectLinked(const Engine& e) {
  // One party: the listing of the CSL record is SMIC's and the FtM record's.
  for (const char* id :
       {"company/csl-el-1", "company/smic", "company/ftm-smic"}) {
    EXPECT_NEAR(R(e, id, kEC), 0.8, kEps) << id;
    EXPECT_NEAR(Composite(e, id), 80, 1e-9) << id;
  }
  // OFAC's 50% rule through the FtM record's 55%.
  EXPECT_NEAR(D(e, "company/smic-tianjin", kEC), 0.8, kEps);
  EXPECT_NEAR(R(e, "company/smic-tianjin", kEC), 0.8, kEps);
  // Two sources of one 30% stake: 30% once, below the rule (0.6 if summed).
  EXPECT_EQ(R(e, "company/smic-beijing", kEC), 0);
  // Two records of one supply: the greater, 0.85 x 0.5 x 0.8.
  EXPECT_NEAR(R(e, "company/customer", kEC), 0.34, kEps);
  EXPECT_NEAR(Composite(e, "company/customer"), 34, 1e-9);
}

TEST(LinkedPartiesTest, WorkedExampleWithoutLinks) {
  ExpectUnlinked(*Example().Load());
}

TEST(LinkedPartiesTest, WorkedExampleLinked) { ExpectLinked(*Linked().Load()); }

TEST(LinkedPartiesTest, NegativeAndUnsureLinksJoinNothing) {
  Graph g = Example();
  v1::Link no = ByLei();
  no.set_judgement(v1::Link::NEGATIVE);
  v1::Link maybe = ByName();
  maybe.set_judgement(v1::Link::UNSURE);
  g.links = {no, maybe};
  ExpectUnlinked(*g.Load());
}

TEST(LinkedPartiesTest, LinksAndUnlinksRescoreIncrementally) {
  std::unique_ptr<Engine> e = Example().Load();
  std::vector<v1::ScoreChange> moved = e->ApplyChange(
      MakeChange(2, {Upsert(ByLei()), Upsert(ByName())}), DefaultAsOf());
  ExpectLinked(*e);
  std::vector<std::string> ids;
  for (const v1::ScoreChange& c : moved) ids.push_back(c.after().entity_id());
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre(
                       "company/smic", "company/ftm-smic",
                       "company/smic-tianjin", "company/customer"));

  // Refused on review: the pair is two parties again; SMIC and the FtM
  // record stay one.
  v1::Link refused = ByLei();
  refused.set_judgement(v1::Link::NEGATIVE);
  e->ApplyChange(MakeChange(3, {Upsert(refused)}), DefaultAsOf());
  ExpectUnlinked(*e);
  Graph g = Example();
  g.links = {refused, ByName()};
  std::unique_ptr<Engine> fresh = g.Load();
  for (const v1::Entity& ent : g.entities) {
    EXPECT_EQ(Composite(*e, ent.id()), Composite(*fresh, ent.id())) << ent.id();
  }

  // Accepted again, then the link deleted.
  e->ApplyChange(MakeChange(4, {Upsert(ByLei())}), DefaultAsOf());
  ExpectLinked(*e);
  e->ApplyChange(
      MakeChange(5, {DeleteLink("company/smic", "company/csl-el-1")}),
      DefaultAsOf());
  ExpectUnlinked(*e);
  EXPECT_EQ(e->stats().skipped_records, 0);
}

TEST(LinkedPartiesTest, EdgesOfMembersMoveWithTheParty) {
  std::unique_ptr<Engine> e = Linked().Load();
  // A second record of the 30% stake, raised to 60%: the greater counts.
  e->ApplyChange(
      MakeChange(
          2, {Upsert(Owns("company/ftm-smic", "company/smic-beijing", 0.6))}),
      DefaultAsOf());
  EXPECT_NEAR(R(*e, "company/smic-beijing", kEC), 0.8, kEps);
  // Deleted: the other source's 30% is what is left.
  e->ApplyChange(MakeChange(3, {DeleteEdge(Owns("company/ftm-smic",
                                                "company/smic-beijing", 0.6))}),
                 DefaultAsOf());
  EXPECT_EQ(R(*e, "company/smic-beijing", kEC), 0);
  // The primary deleted (GraphStore deletes its edges and positive links):
  // SMIC and the FtM record remain one party, unlisted.
  e->ApplyChange(
      MakeChange(4, {DeleteEntity("company/csl-el-1"),
                     DeleteEdge(Supplies("company/csl-el-1", "company/customer",
                                         0.4, "8542")),
                     DeleteLink("company/csl-el-1", "company/smic")}),
      DefaultAsOf());
  EXPECT_EQ(R(*e, "company/smic", kEC), 0);
  EXPECT_EQ(R(*e, "company/customer", kEC), 0);
  EXPECT_EQ(e->stats().skipped_records, 0);
}

TEST(LinkedPartiesTest, ExplanationsSayHowTheListingArrived) {
  std::unique_ptr<Engine> e = Linked().Load();
  // The party's primary is its smallest id, the CSL record; explaining SMIC
  // names the link that makes it that party.
  absl::StatusOr<v1::Explanation> smic = e->Explain("company/smic", kEC, 3, 6);
  ASSERT_TRUE(smic.ok()) << smic.status();
  ASSERT_FALSE(smic->contributions().empty());
  EXPECT_EQ(
      smic->contributions(0).description(),
      "the same party as SEMICONDUCTOR MANUFACTURING INTERNATIONAL "
      "CORPORATION (company/csl-el-1), linked to SEMICONDUCTOR MANUFACTURING "
      "INTERNATIONAL CORPORATION by identifier (lei 549300ZZLZ1PVR5XDO63), "
      "automatically (rule:identifier)");
  absl::StatusOr<v1::Explanation> ftm =
      e->Explain("company/ftm-smic", kEC, 3, 6);
  ASSERT_TRUE(ftm.ok()) << ftm.status();
  EXPECT_THAT(ftm->contributions(0).description(),
              HasSubstr("linked to SMIC by name and country, score 0.93 "
                        "('Semiconductor Manufacturing' ~ 'SMIC'), confirmed "
                        "by alice, then to SEMICONDUCTOR MANUFACTURING "
                        "INTERNATIONAL CORPORATION by identifier"));

  // A listing naming a member other than the primary says so.
  Graph g = Linked();
  g.signals = {Listing("signal/ofac-smic", "US-OFAC", {"company/smic"}, 0.8)};
  std::unique_ptr<Engine> e2 = g.Load();
  absl::StatusOr<v1::Explanation> primary =
      e2->Explain("company/csl-el-1", kEC, 3, 6);
  ASSERT_TRUE(primary.ok()) << primary.status();
  bool found = false;
  for (const v1::Contribution& c : primary->contributions()) {
    if (!c.has_direct()) continue;
    found = true;
    EXPECT_EQ(c.description(),
              "listed by US-OFAC as 'SMIC' (company/smic), linked to "
              "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORPORATION by "
              "identifier (lei 549300ZZLZ1PVR5XDO63), automatically "
              "(rule:identifier)");
  }
  EXPECT_TRUE(found);
}

TEST(LinkedPartiesTest, ScenariosCannotChangeLinks) {
  std::unique_ptr<Engine> e = Example().Load();
  v1::Scenario s;
  *s.add_overrides() = Upsert(ByLei());
  absl::StatusOr<v1::RunScenarioResponse> r = e->RunScenario(s, 10, 0, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::scorer::testing
