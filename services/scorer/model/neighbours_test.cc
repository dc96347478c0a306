// Engine::ListNeighbours: an entity's edges in the scored graph, both
// directions, filters, pages and tokens, and which edges propagate exposure.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

using ::testing::ElementsAre;

// b's neighbourhood: suppliers a (two products) and x, owner p, owner
// person h, operated facility f, customer c, a supplier whose edge has
// expired, and b owning itself.
Graph Neighbourhood() {
  Graph g;
  g.entities = {Company("company/a", "TW"),   Company("company/b", "CN"),
                Company("company/c", "US"),   Company("company/p", "CN"),
                Company("company/x", "KR"),   Company("company/old", "JP"),
                Facility("facility/f", "CN"), Person("person/h", "CN")};
  g.edges = {Supplies("company/a", "company/b", 0.4, "8542"),
             Supplies("company/a", "company/b", 0.1, "8541"),
             Supplies("company/x", "company/b", 0.2),
             Owns("company/p", "company/b", 0.6),
             Owns("person/h", "company/b", 0.3),
             Owns("company/b", "company/b", 0.05),
             Operates("company/b", "facility/f", 0.5),
             Supplies("company/b", "company/c", 0.7),
             Window(Supplies("company/old", "company/b", 0.3), Date(2020, 1, 1),
                    Date(2021, 1, 1))};
  g.signals = {Listing("signal/l", "US-BIS", {"company/a"}, 0.5)};
  return g;
}

std::vector<std::string> Describe(const v1::ListNeighboursResponse& r) {
  std::vector<std::string> out;
  for (const v1::Neighbour& n : r.neighbours()) {
    out.push_back(
        absl::StrCat(n.direction() == v1::DIRECTION_INBOUND ? "in " : "out ",
                     v1::Edge::Kind_Name(n.edge().kind()), " ", n.entity_id(),
                     n.edge().product_code().empty() ? "" : " ",
                     n.edge().product_code(), n.propagates() ? " flows" : ""));
  }
  return out;
}

TEST(NeighboursTest, BothDirectionsInOrder) {
  auto e = Neighbourhood().Load();
  absl::StatusOr<v1::ListNeighboursResponse> r =
      e->ListNeighbours("company/b", v1::DIRECTION_BOTH, {}, 100, "");
  ASSERT_TRUE(r.ok()) << r.status();
  // Inbound first; by kind (OWNS, OPERATES, SUPPLIES), id, product. The
  // person's stake carries nothing (exposure never flows into a person,
  // nor out of one), the expired supply nothing; b's self-ownership is
  // listed once, outbound, and carries nothing (a self-loop).
  EXPECT_THAT(Describe(*r),
              ElementsAre("in OWNS company/p flows", "in OWNS person/h",
                          "in SUPPLIES company/a 8541 flows",
                          "in SUPPLIES company/a 8542 flows",
                          "in SUPPLIES company/old 8542",
                          "in SUPPLIES company/x 8542 flows",
                          "out OWNS company/b", "out OPERATES facility/f flows",
                          "out SUPPLIES company/c 8542 flows"));
  EXPECT_EQ(r->total_size(), 9);
  EXPECT_TRUE(r->next_page_token().empty());
}

TEST(NeighboursTest, EdgesAndOtherEndsAsHeld) {
  auto e = Neighbourhood().Load();
  absl::StatusOr<v1::ListNeighboursResponse> r = e->ListNeighbours(
      "company/b", v1::DIRECTION_INBOUND, {v1::Edge::SUPPLIES}, 100, "");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->neighbours_size(), 4);
  const v1::Neighbour& a = r->neighbours(1);  // a, 8542
  EXPECT_EQ(a.edge().from_id(), "company/a");
  EXPECT_EQ(a.edge().to_id(), "company/b");
  EXPECT_EQ(a.edge().kind(), v1::Edge::SUPPLIES);
  EXPECT_EQ(a.edge().weight(), 0.4);
  EXPECT_EQ(a.edge().product_code(), "8542");
  EXPECT_FALSE(a.edge().has_effective_from());
  EXPECT_EQ(a.entity_kind(), v1::Entity::COMPANY);
  EXPECT_EQ(a.country(), "TW");
  absl::StatusOr<v1::Score> sa = e->GetScore("company/a");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(a.entity_name(), sa->entity_name());
  EXPECT_EQ(a.composite(), sa->composite());
  EXPECT_EQ(a.band(), sa->band());
  EXPECT_GT(a.composite(), 0);
  // beta x dependency (the default beta, 0.85).
  EXPECT_NEAR(a.propagation_weight(), e->config().tier_attenuation() * 0.4,
              1e-12);
  // The expired record: its window, not propagating, no weight.
  const v1::Neighbour& old = r->neighbours(2);
  EXPECT_EQ(old.entity_id(), "company/old");
  EXPECT_TRUE(old.edge().has_effective_from());
  EXPECT_TRUE(old.edge().has_effective_until());
  EXPECT_FALSE(old.propagates());
  EXPECT_EQ(old.propagation_weight(), 0);

  // Outbound is the default; the kinds filter combines with it.
  r = e->ListNeighbours("company/b", v1::DIRECTION_UNSPECIFIED,
                        {v1::Edge::OPERATES, v1::Edge::SUPPLIES}, 100, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Describe(*r), ElementsAre("out OPERATES facility/f flows",
                                        "out SUPPLIES company/c 8542 flows"));
  // An entity with no edge: an empty page.
  Graph g = Neighbourhood();
  g.entities.push_back(Company("company/alone", "DE"));
  e = g.Load();
  r = e->ListNeighbours("company/alone", v1::DIRECTION_BOTH, {}, 100, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->neighbours_size(), 0);
  EXPECT_EQ(r->total_size(), 0);
}

TEST(NeighboursTest, PagesCutTheSameList) {
  auto e = Neighbourhood().Load();
  absl::StatusOr<v1::ListNeighboursResponse> all =
      e->ListNeighbours("company/b", v1::DIRECTION_BOTH, {}, 100, "");
  ASSERT_TRUE(all.ok());
  for (int size : {1, 2, 4}) {
    std::vector<std::string> paged;
    std::string token;
    int pages = 0;
    do {
      absl::StatusOr<v1::ListNeighboursResponse> page =
          e->ListNeighbours("company/b", v1::DIRECTION_BOTH, {}, size, token);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_LE(page->neighbours_size(), size);
      EXPECT_EQ(page->total_size(), 9);
      for (const std::string& d : Describe(*page)) paged.push_back(d);
      token = page->next_page_token();
      ASSERT_LT(++pages, 20);
    } while (!token.empty());
    EXPECT_EQ(paged, Describe(*all)) << "page size " << size;
  }
}

TEST(NeighboursTest, TokensContinueAcrossChanges) {
  auto e = Neighbourhood().Load();
  absl::StatusOr<v1::ListNeighboursResponse> first = e->ListNeighbours(
      "company/b", v1::DIRECTION_INBOUND, {v1::Edge::SUPPLIES}, 2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_THAT(Describe(*first),
              ElementsAre("in SUPPLIES company/a 8541 flows",
                          "in SUPPLIES company/a 8542 flows"));
  // A supplier sorting before the cursor appears meanwhile: the next page
  // neither repeats nor skips the edges after the cursor.
  e->ApplyChange(
      MakeChange(2, {Upsert(Company("company/0", "TW")),
                     Upsert(Supplies("company/0", "company/b", 0.1))}),
      DefaultAsOf());
  absl::StatusOr<v1::ListNeighboursResponse> next =
      e->ListNeighbours("company/b", v1::DIRECTION_INBOUND,
                        {v1::Edge::SUPPLIES}, 2, first->next_page_token());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(Describe(*next), ElementsAre("in SUPPLIES company/old 8542",
                                           "in SUPPLIES company/x 8542 flows"));
  EXPECT_EQ(next->total_size(), 5);
}

TEST(NeighboursTest, Errors) {
  auto e = Neighbourhood().Load();
  EXPECT_EQ(e->ListNeighbours("company/nope", v1::DIRECTION_BOTH, {}, 10, "")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  absl::Status s =
      e->ListNeighbours("company/b", static_cast<v1::Direction>(9), {}, 10, "")
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("direction: "));
  s = e->ListNeighbours("company/b", v1::DIRECTION_BOTH,
                        {v1::Edge::OWNS, static_cast<v1::Edge::Kind>(77)}, 10,
                        "")
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("kinds[1]: "));
  s = e->ListNeighbours("company/b", v1::DIRECTION_BOTH,
                        {v1::Edge::KIND_UNSPECIFIED}, 10, "")
          .status();
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("kinds[0]: "));
  s = e->ListNeighbours("company/b", v1::DIRECTION_BOTH, {}, 10, "not!base64")
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("page_token: "));
  // A token of another entity, direction or kinds is refused.
  absl::StatusOr<v1::ListNeighboursResponse> page =
      e->ListNeighbours("company/b", v1::DIRECTION_BOTH, {}, 1, "");
  ASSERT_TRUE(page.ok());
  const std::string token = page->next_page_token();
  ASSERT_FALSE(token.empty());
  for (auto [id, dir, kinds] : std::vector<
           std::tuple<std::string, v1::Direction, std::vector<v1::Edge::Kind>>>{
           {"company/a", v1::DIRECTION_BOTH, {}},
           {"company/b", v1::DIRECTION_INBOUND, {}},
           {"company/b", v1::DIRECTION_BOTH, {v1::Edge::OWNS}}}) {
    s = e->ListNeighbours(id, dir, kinds, 1, token).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(std::string(s.message()),
                ::testing::StartsWith("page_token: "));
  }
  // The same kinds in another order and repeated are the same request.
  page = e->ListNeighbours("company/b", v1::DIRECTION_BOTH,
                           {v1::Edge::SUPPLIES, v1::Edge::OWNS}, 1, "");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(
      e->ListNeighbours("company/b", v1::DIRECTION_BOTH,
                        {v1::Edge::OWNS, v1::Edge::SUPPLIES, v1::Edge::OWNS}, 1,
                        page->next_page_token())
          .ok());
}

// A linked party's edges are held by its primary (its smallest id), which
// lists them; the other member lists none of them.
TEST(NeighboursTest, LinkedPartyEdgesAtThePrimary) {
  Graph g;
  g.entities = {Company("company/m1", "TW"), Company("company/m2", "TW"),
                Company("company/s", "CN")};
  g.edges = {Supplies("company/s", "company/m2", 0.5)};
  g.links = {Link("company/m1", "company/m2")};
  auto e = g.Load();
  absl::StatusOr<v1::ListNeighboursResponse> primary =
      e->ListNeighbours("company/m1", v1::DIRECTION_BOTH, {}, 100, "");
  ASSERT_TRUE(primary.ok());
  EXPECT_THAT(Describe(*primary),
              ElementsAre("in SUPPLIES company/s 8542 flows"));
  EXPECT_EQ(primary->neighbours(0).edge().to_id(), "company/m1");
  absl::StatusOr<v1::ListNeighboursResponse> member =
      e->ListNeighbours("company/m2", v1::DIRECTION_BOTH, {}, 100, "");
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member->neighbours_size(), 0);
}

}  // namespace
}  // namespace georisk::scorer::testing
