// Persons in the model (docs/scoring-model.md, "Persons"): a listed
// person's ownership counts in the 50% rules, alone or with companies; a
// person receives and passes no supply, operation or location exposure; it
// is ranked only when asked for by kind; explanations name it as a person.
// Expectations computed by hand in the comments.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;

// The export-control contribution descriptions of `id`, largest first.
std::vector<std::string> EcReasons(const Engine& e, const std::string& id) {
  absl::StatusOr<v1::Explanation> x = e.Explain(id, kEC, 3, 6);
  EXPECT_TRUE(x.ok()) << x.status();
  std::vector<std::string> out;
  if (!x.ok()) return out;
  for (const v1::Contribution& c : x->contributions()) {
    out.push_back(c.description());
  }
  return out;
}

TEST(PersonTest, CompanyOwned51PercentByAListedPersonIsCovered) {
  Graph g;
  g.entities = {Person("person/zakharov", "RU"), Company("company/cst", "RU")};
  g.edges = {Owns("person/zakharov", "company/cst", 0.51)};
  g.signals = {Listing("signal/sdn", "US-OFAC", {"person/zakharov"}, 0.9)};
  auto e = g.Load();
  // The person: its own listing, 0.9; composite 100 x 0.9 = 90.
  EXPECT_NEAR(R(*e, "person/zakharov", kEC), 0.9, kEps);
  EXPECT_NEAR(Composite(*e, "person/zakharov"), 90, 1e-9);
  // The company: 51% >= 50% under OFAC's rule, at the owner's 0.9.
  EXPECT_NEAR(D(*e, "company/cst", kEC), 0.9, kEps);
  EXPECT_NEAR(R(*e, "company/cst", kEC), 0.9, kEps);
  EXPECT_THAT(EcReasons(*e, "company/cst"),
              ::testing::ElementsAre(
                  "owned 51% by zakharov (person), listed by US-OFAC"));
  EXPECT_THAT(EcReasons(*e, "person/zakharov"),
              ::testing::ElementsAre("listed by US-OFAC"));
}

TEST(PersonTest, PersonAndListedCompanySharesAggregate) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/l", "RU"),
                Company("company/c", "CY"), Company("company/d", "CY")};
  g.edges = {Owns("person/p", "company/c", 0.30),
             Owns("company/l", "company/c", 0.25),
             // The person alone, 30%: below the threshold.
             Owns("person/p", "company/d", 0.30)};
  g.signals = {Listing("signal/p", "US-OFAC", {"person/p"}, 0.9),
               Listing("signal/l", "US-OFAC", {"company/l"}, 0.8)};
  auto e = g.Load();
  // 30% + 25% = 55% >= 50%: covered, at the higher owner severity 0.9.
  EXPECT_NEAR(D(*e, "company/c", kEC), 0.9, kEps);
  EXPECT_THAT(EcReasons(*e, "company/c"),
              ::testing::ElementsAre(
                  "owned 55%, in aggregate, by parties listed by US-OFAC: "
                  "30% by p (person), 25% by l (company)"));
  EXPECT_EQ(D(*e, "company/d", kEC), 0);
  // company/l owns 25% of c, but c's exposure is OFAC's listing of its
  // owners, l's own: it is not counted twice (docs/scoring-model.md,
  // "Listings are not counted twice"), l keeps 0.8. The person gets
  // nothing from c either way.
  EXPECT_NEAR(R(*e, "company/l", kEC), 0.8, kEps);
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.9, kEps);
}

TEST(PersonTest, APersonReceivesNoSupplyOrLocationExposure) {
  Graph g;
  // A Taiwanese person and a Taiwanese holding company each own all of a
  // Taiwanese company; cross-strait tension 0.5.
  g.entities = {Person("person/tw", "TW"), Company("company/h", "TW"),
                Company("company/c", "TW")};
  g.edges = {Owns("person/tw", "company/c", 1.0),
             Owns("company/h", "company/c", 1.0)};
  g.signals = {Tension("signal/cs", 0.5)};
  auto e = g.Load();
  // c: 0.5 x TW weight 1.0 = 0.5; h: own 0.5, plus c's through 100%:
  // 1 - (1 - 0.5)(1 - 1.0 x 0.5) = 0.75.
  EXPECT_NEAR(R(*e, "company/c", kCS), 0.5, kEps);
  EXPECT_NEAR(R(*e, "company/h", kCS), 0.75, kEps);
  // The person: its nationality is no location, and ownership passes it
  // nothing.
  EXPECT_EQ(D(*e, "person/tw", kCS), 0);
  EXPECT_EQ(R(*e, "person/tw", kCS), 0);
  EXPECT_EQ(Composite(*e, "person/tw"), 0);
  // Incrementally too: raising the tension moves the company, not the
  // person.
  e->ApplyChange(MakeChange(2, {Upsert(Tension("signal/cs", 0.8))}),
                 DefaultAsOf());
  EXPECT_NEAR(R(*e, "company/c", kCS), 0.8, kEps);
  EXPECT_EQ(R(*e, "person/tw", kCS), 0);
}

TEST(PersonTest, AListingOfAPersonAddedLaterCoversItsCompany) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/c", "RU")};
  g.edges = {Owns("person/p", "company/c", 0.6)};
  auto e = g.Load();
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
  e->ApplyChange(
      MakeChange(2, {Upsert(Listing("signal/eu", "EU", {"person/p"}, 0.7))}),
      DefaultAsOf());
  EXPECT_NEAR(R(*e, "company/c", kEC), 0.7, kEps);
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.7, kEps);
  e->ApplyChange(MakeChange(3, {DeleteSignal("signal/eu")}), DefaultAsOf());
  EXPECT_EQ(R(*e, "company/c", kEC), 0);
}

TEST(PersonTest, PersonsAreRankedOnlyWhenAskedForByKind) {
  Graph g;
  g.entities = {Person("person/a", ""), Person("person/b", ""),
                Company("company/c", "RU"), Facility("facility/f", "RU")};
  g.edges = {Owns("person/a", "company/c", 0.5),
             Operates("company/c", "facility/f", 1.0)};
  g.signals = {Listing("signal/a", "US-OFAC", {"person/a"}, 0.9),
               Listing("signal/b", "US-OFAC", {"person/b"}, 0.6)};
  auto e = g.Load();
  auto ids = [&](v1::Entity::Kind kind) {
    Engine::TopQuery q;
    q.kind = kind;
    absl::StatusOr<v1::ListTopRisksResponse> r = e->ListTopRisks(q);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    for (const v1::Score& s : r->scores()) out.push_back(s.entity_id());
    out.push_back(absl::StrCat("total ", r->total_size()));
    return out;
  };
  // c: 0.9 by the rule; f: operated by c (a company owned 50% or more by a
  // listed person), 0.9. Persons a (90) and b (60) only by kind PERSON.
  EXPECT_THAT(ids(v1::Entity::KIND_UNSPECIFIED),
              ::testing::ElementsAre("company/c", "facility/f", "total 2"));
  EXPECT_THAT(ids(v1::Entity::COMPANY),
              ::testing::ElementsAre("company/c", "total 1"));
  EXPECT_THAT(ids(v1::Entity::PERSON),
              ::testing::ElementsAre("person/a", "person/b", "total 2"));
  Engine::TopQuery q;
  q.kind = v1::Entity::PERSON;
  q.min_score = 70;
  absl::StatusOr<v1::ListTopRisksResponse> r = e->ListTopRisks(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->total_size(), 1);
  EXPECT_THAT(EcReasons(*e, "facility/f"),
              ::testing::ElementsAre(
                  "facility operated by c, a company owned 50% or more, in "
                  "aggregate, by parties listed by US-OFAC"));
}

// docs/scoring-model.md, section 6.5, number for number.
TEST(PersonTest, WorkedExampleOfTheScoringModel) {
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/l", "RU"),
                Company("company/x", "CY"), Company("company/y", "HK"),
                Company("company/z", "AE")};
  g.edges = {Owns("person/p", "company/x", 0.30),
             Owns("company/l", "company/x", 0.25),
             WithRecordId(Window(Owns("person/p", "company/y", 0.45),
                                 Date(2019, 1, 1), Date(2025, 7, 1)),
                          "2019-stake"),
             WithRecordId(Window(Owns("person/p", "company/y", 0.51),
                                 Date(2025, 7, 1), absl::InfiniteFuture()),
                          "2025-stake"),
             Owns("person/p", "company/z", 0.50)};
  g.signals = {// No severity: the blocking sanction's default, 0.9.
               WithMeasure(Listing("signal/ofac-p", "US-OFAC", {"person/p"}, 0),
                           v1::ExportControl::MEASURE_BLOCKING_SANCTION),
               Listing("signal/ofac-l", "US-OFAC", {"company/l"}, 0.8),
               Listing("signal/uk-p", "UK", {"person/p"}, 0.9)};
  auto e = g.Load(Date(2026, 1, 15));
  // P: 1 - (1 - 0.9)(1 - 0.9) = 0.99 with both listings (OFAC and UK).
  EXPECT_NEAR(R(*e, "person/p", kEC), 0.99, kEps);
  EXPECT_NEAR(R(*e, "company/x", kEC), 0.9, kEps);
  EXPECT_NEAR(Composite(*e, "company/x"), 90, 1e-9);
  EXPECT_NEAR(R(*e, "company/l", kEC), 0.8, kEps);
  // Y: 51% is 50% or more (OFAC) and more than 50% (UK): both rules cover
  // it, 1 - (1 - 0.9)(1 - 0.9) = 0.99.
  EXPECT_NEAR(R(*e, "company/y", kEC), 0.99, kEps);
  EXPECT_THAT(EcReasons(*e, "company/y"),
              ::testing::UnorderedElementsAre(
                  "owned 51% by p (person), listed by US-OFAC",
                  "owned 51% by p (person), listed by UK"));
  EXPECT_NEAR(R(*e, "company/z", kEC), 0.9, kEps);  // OFAC only
  EXPECT_THAT(
      EcReasons(*e, "company/z"),
      ::testing::ElementsAre("owned 50% by p (person), listed by US-OFAC"));
  e->AdvanceTime(Date(2025, 1, 1));
  EXPECT_EQ(R(*e, "company/y", kEC), 0);  // 45% < 50%
}

}  // namespace
}  // namespace georisk::scorer::testing
