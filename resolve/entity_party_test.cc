#include "resolve/entity_party.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(EntityPartyTest, CopiesEveryField) {
  v1::Entity e;
  e.set_id("company/smic");
  e.set_kind(v1::Entity::COMPANY);
  e.set_name("Semiconductor Manufacturing International Corporation");
  e.add_aliases("SMIC");
  e.add_aliases("中芯国际");
  e.set_country("CN");
  (*e.mutable_identifiers())["ticker"] = "0981.HK";
  (*e.mutable_identifiers())["csl_entity_number"] = "46001";
  Party p = PartyFromEntity(e);
  EXPECT_EQ(p.id, "company/smic");
  EXPECT_EQ(p.kind, PartyKind::kCompany);
  EXPECT_EQ(p.name, e.name());
  EXPECT_THAT(p.aliases, ElementsAre("SMIC", "中芯国际"));
  EXPECT_EQ(p.country, "CN");
  EXPECT_THAT(p.identifiers, ElementsAre(Pair("csl_entity_number", "46001"),
                                         Pair("ticker", "0981.HK")));
}

TEST(EntityPartyTest, Kinds) {
  v1::Entity e;
  e.set_kind(v1::Entity::FACILITY);
  EXPECT_EQ(PartyFromEntity(e).kind, PartyKind::kFacility);
  e.set_kind(v1::Entity::PERSON);
  EXPECT_EQ(PartyFromEntity(e).kind, PartyKind::kPerson);
  e.set_kind(v1::Entity::KIND_UNSPECIFIED);
  EXPECT_EQ(PartyFromEntity(e).kind, PartyKind::kUnspecified);
}

}  // namespace
}  // namespace georisk::resolve
