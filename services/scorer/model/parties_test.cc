#include "services/scorer/model/parties.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::scorer::internal {
namespace {

using ::testing::ElementsAre;

v1::Link L(const std::string& a, const std::string& b,
           v1::Link::Judgement j = v1::Link::POSITIVE) {
  v1::Link l;
  l.set_entity_a(a);
  l.set_entity_b(b);
  l.set_judgement(j);
  return l;
}

void RegroupAll(Parties* p, const std::vector<std::string>& ids) {
  p->Regroup(p->Component(ids), [](const std::string&) { return true; });
}

TEST(PartiesTest, PositiveLinksFormPartiesWithTheSmallestIdAsPrimary) {
  Parties p;
  p.SetLink(L("c", "b"));
  p.SetLink(L("b", "d"));
  p.SetLink(L("a", "x", v1::Link::NEGATIVE));
  p.SetLink(L("e", "f", v1::Link::UNSURE));
  RegroupAll(&p, {"a", "b", "c", "d", "e", "f", "x"});
  ASSERT_NE(p.PrimaryOf("d"), nullptr);
  EXPECT_EQ(*p.PrimaryOf("d"), "b");
  EXPECT_THAT(p.MembersOf("b"), ElementsAre("b", "c", "d"));
  EXPECT_EQ(p.PrimaryOf("a"), nullptr);
  EXPECT_EQ(p.PrimaryOf("e"), nullptr);
  EXPECT_EQ(p.EffectiveId("x"), "x");
  // c -> b -> d: two links, in order.
  std::vector<const v1::Link*> chain = p.Chain("c", "d");
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0]->entity_a(), "c");
  EXPECT_EQ(chain[1]->entity_b(), "d");
  EXPECT_TRUE(p.Chain("a", "x").empty());
}

TEST(PartiesTest, UnlinkingSplitsAndTheDeadAreNotPrimaries) {
  Parties p;
  p.SetLink(L("a", "b"));
  p.SetLink(L("b", "c"));
  p.Regroup(p.Component({"a"}),
            [](const std::string& id) { return id != "a"; });
  EXPECT_EQ(*p.PrimaryOf("a"), "b");
  EXPECT_EQ(p.RemoveLink("c", "b"), v1::Link::POSITIVE);
  RegroupAll(&p, {"a", "b", "c"});
  EXPECT_EQ(p.PrimaryOf("c"), nullptr);
  EXPECT_THAT(p.MembersOf("a"), ElementsAre("a", "b"));
  // A refusal replaces the positive judgement of its pair.
  EXPECT_EQ(p.SetLink(L("b", "a", v1::Link::NEGATIVE)), v1::Link::POSITIVE);
  RegroupAll(&p, {"a", "b"});
  EXPECT_EQ(p.PrimaryOf("a"), nullptr);
  EXPECT_EQ(p.FindLink("a", "b")->judgement(), v1::Link::NEGATIVE);
  // Deleting an entity keeps its refusals.
  EXPECT_FALSE(p.RemovePositiveAndUnsureLinksOf("a"));
  EXPECT_NE(p.FindLink("a", "b"), nullptr);
}

TEST(PartiesTest, RawEdgesAreIndexedByBothEnds) {
  Parties p;
  v1::Edge e;
  e.set_from_id("a");
  e.set_to_id("b");
  e.set_kind(v1::Edge::OWNS);
  e.set_weight(0.3);
  p.PutRawEdge(e);
  EXPECT_EQ(p.RawEdgesOf("a"), p.RawEdgesOf("b"));
  ASSERT_EQ(p.RawEdgesOf("a").size(), 1u);
  EXPECT_TRUE(p.EraseRawEdge(Parties::RawKey(e)));
  EXPECT_FALSE(p.EraseRawEdge(Parties::RawKey(e)));
  EXPECT_TRUE(p.RawEdgesOf("b").empty());
  v1::EdgeKey k;
  k.set_from_id("a");
  k.set_to_id("b");
  k.set_kind(v1::Edge::OWNS);
  EXPECT_EQ(Parties::RawKey(k), Parties::RawKey(e));
}

}  // namespace
}  // namespace georisk::scorer::internal
