// The builders make records that pass the graph's record rules
// (domain/record_validation.h), so a test that uses them fails only on what
// it means to test.
#include "domain/testing/builders.h"

#include "absl/time/time.h"
#include "domain/record_validation.h"
#include "gtest/gtest.h"

namespace georisk::domain::testing {
namespace {

void ExpectValid(const v1::Mutation& m) {
  EXPECT_TRUE(ValidateRecord(m, RecordLimits()).ok())
      << ValidateRecord(m, RecordLimits()) << " for " << m.DebugString();
}

TEST(BuildersTest, EveryBuiltRecordPassesTheRecordRules) {
  const absl::Time t = absl::FromUnixSeconds(1750000000);
  for (const v1::Mutation& m : {
           Upsert(Company("company/tsmc")),
           Upsert(NamedCompany("company/csl-1", "TSMC", "TW",
                               "549300XXXXXXXXXXXX75")),
           Upsert(Person("person/ana", "RU")),
           Upsert(Facility("facility/fab18", "TW")),
           Upsert(WithIdentifiers(Company("company/apple", "US"),
                                  {{"lei", "HWUPKR0MPOU8FGXBT394"}})),
           Upsert(Supplies("company/tsmc", "company/apple", 0.6)),
           Upsert(Operates("company/tsmc", "facility/fab18", 1)),
           Upsert(WithRecordId(Window(Owns("person/ana", "company/tsmc", 0.5),
                                      t, absl::InfiniteFuture()),
                               "ru-73")),
           Upsert(WithSource(Owns("company/a", "company/b", 0.5), "gleif")),
           Upsert(Listing("signal/l", "US-BIS", {"company/tsmc"}, 0.9)),
           Upsert(Tariff("signal/t", "Section 301", "US", "CN", "8542", 0.25)),
           Upsert(Tension("signal/x", 0.4, {{"TW", 1}})),
           Upsert(IdentifierLink("company/tsmc", "company/csl-1",
                                 v1::Link::POSITIVE)),
           Upsert(WithSource(
               NameLink("company/tsmc", "company/csl-1", v1::Link::UNSURE, 0.8),
               "csl.csv")),
           DeleteEntity("company/tsmc"),
           DeleteEdge(Supplies("company/tsmc", "company/apple", 0.6)),
           DeleteSignal("signal/l"),
           DeleteLink("company/tsmc", "company/csl-1"),
       }) {
    ExpectValid(m);
  }
}

TEST(BuildersTest, LinksSayHowTheyWereDecided) {
  const v1::Link id = IdentifierLink("company/a", "company/b",
                                     v1::Link::NEGATIVE, "reviewer:ana");
  EXPECT_EQ(id.judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(id.method(), v1::Link::IDENTIFIER);
  EXPECT_EQ(id.decided_by(), "reviewer:ana");
  EXPECT_EQ(id.features().at("identifier"), 1);
  const v1::Link name =
      NameLink("company/a", "company/b", v1::Link::UNSURE, 0.8);
  EXPECT_EQ(name.method(), v1::Link::NAME);
  EXPECT_EQ(name.decided_by(), "rule:name");
  EXPECT_EQ(name.score(), 0.8);
  EXPECT_EQ(name.features().at("name_similarity"), 0.8);
  const v1::Mutation del = DeleteLink("company/b", "company/a");
  EXPECT_EQ(del.delete_link().entity_a(), "company/b");
  EXPECT_EQ(del.delete_link().entity_b(), "company/a");
}

TEST(BuildersTest, DeleteEdgeNamesTheWholeKey) {
  const v1::Mutation m = DeleteEdge(WithRecordId(
      Supplies("company/tsmc", "company/apple", 0.6, "854231"), "r1"));
  EXPECT_EQ(m.delete_edge().from_id(), "company/tsmc");
  EXPECT_EQ(m.delete_edge().to_id(), "company/apple");
  EXPECT_EQ(m.delete_edge().kind(), v1::Edge::SUPPLIES);
  EXPECT_EQ(m.delete_edge().product_code(), "854231");
  EXPECT_EQ(m.delete_edge().record_id(), "r1");
}

}  // namespace
}  // namespace georisk::domain::testing
