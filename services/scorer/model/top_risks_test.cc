// ListTopRisks: ranking, filters, totals and page tokens, and the index kept
// up to date as scores move.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

// 60 entities: severities i / 100 for i < 40 (some ties), the rest at 0.
Graph Ranked() {
  Graph g;
  const std::vector<std::string> countries = {"CN", "US", "TW"};
  for (int i = 0; i < 60; ++i) {
    g.entities.push_back(
        i % 2
            ? Company(absl::StrCat("company/c", 100 + i), countries[i % 3])
            : Facility(absl::StrCat("facility/f", 100 + i), countries[i % 3]));
    if (i < 40) {
      g.signals.push_back(Listing(absl::StrCat("signal/s", i), "US-OFAC",
                                  {g.entities.back().id()},
                                  0.05 + (i / 2) * 0.04));
    }
  }
  return g;
}

std::vector<v1::Score> AllPages(const Engine& e, Engine::TopQuery q) {
  std::vector<v1::Score> out;
  int pages = 0;
  do {
    absl::StatusOr<v1::ListTopRisksResponse> page = e.ListTopRisks(q);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(page->scores_size(), q.page_size);
    for (const v1::Score& s : page->scores()) out.push_back(s);
    q.page_token = page->next_page_token();
    EXPECT_LT(++pages, 100);
  } while (!q.page_token.empty());
  return out;
}

void ExpectRanked(const std::vector<v1::Score>& scores) {
  std::set<std::string> seen;
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_TRUE(seen.insert(scores[i].entity_id()).second)
        << "repeated " << scores[i].entity_id();
    if (i == 0) continue;
    const v1::Score& a = scores[i - 1];
    const v1::Score& b = scores[i];
    EXPECT_TRUE(
        a.composite() > b.composite() ||
        (a.composite() == b.composite() && a.entity_id() < b.entity_id()))
        << a.entity_id() << " before " << b.entity_id();
  }
}

TEST(TopRisksTest, PagesAreStableAndCoverEverything) {
  auto e = Ranked().Load();
  Engine::TopQuery q;
  q.page_size = 7;
  const std::vector<v1::Score> all = AllPages(*e, q);
  EXPECT_EQ(all.size(), 60u);
  ExpectRanked(all);
  EXPECT_NEAR(all[0].composite(), 100 * (0.05 + 19 * 0.04), 1e-9);
  // The same query again gives the same pages.
  std::vector<std::string> ids, again;
  for (const v1::Score& s : all) ids.push_back(s.entity_id());
  for (const v1::Score& s : AllPages(*e, q)) again.push_back(s.entity_id());
  EXPECT_EQ(ids, again);
  // Other page sizes cut the same sequence.
  q.page_size = 13;
  std::vector<std::string> other;
  for (const v1::Score& s : AllPages(*e, q)) other.push_back(s.entity_id());
  EXPECT_EQ(ids, other);
}

TEST(TopRisksTest, FiltersAndTotals) {
  auto e = Ranked().Load();
  Engine::TopQuery q;
  q.page_size = 5;
  q.kind = v1::Entity::FACILITY;
  q.country = "CN";
  absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  // Facilities are even indices, CN is i % 3 == 0: i % 6 == 0: 10 of them.
  EXPECT_EQ(page->total_size(), 10);
  for (const v1::Score& s : page->scores()) {
    EXPECT_EQ(s.entity_kind(), v1::Entity::FACILITY);
    EXPECT_EQ(s.country(), "CN");
  }
  const std::vector<v1::Score> all = AllPages(*e, q);
  EXPECT_EQ(all.size(), 10u);
  ExpectRanked(all);

  Engine::TopQuery high;
  high.min_score = 50;
  page = e->ListTopRisks(high);
  ASSERT_TRUE(page.ok());
  for (const v1::Score& s : page->scores()) EXPECT_GE(s.composite(), 50);
  EXPECT_EQ(page->total_size(), page->scores_size());
  EXPECT_GT(page->total_size(), 0);

  Engine::TopQuery by_factor;
  by_factor.factor = v1::FACTOR_EXPORT_CONTROLS;
  by_factor.page_size = 3;
  page = e->ListTopRisks(by_factor);
  ASSERT_TRUE(page.ok());
  EXPECT_NEAR(page->scores(0).factors(0).propagated(), 0.05 + 19 * 0.04, 1e-12);
  EXPECT_EQ(page->total_size(), 60);
}

TEST(TopRisksTest, FilterThatMatchesNothing) {
  auto e = Ranked().Load();
  // No entity in DE, no person at all; also with min_score and by factor.
  for (const auto& [kind, country] :
       std::vector<std::pair<v1::Entity::Kind, std::string>>{
           {v1::Entity::KIND_UNSPECIFIED, "DE"},
           {v1::Entity::PERSON, ""},
           {v1::Entity::FACILITY, "ZZ"}}) {
    for (double min_score : {0.0, 10.0}) {
      for (v1::Factor factor : {v1::FACTOR_UNSPECIFIED, v1::FACTOR_TARIFFS}) {
        Engine::TopQuery q;
        q.kind = kind;
        q.country = country;
        q.min_score = min_score;
        q.factor = factor;
        absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
        ASSERT_TRUE(page.ok()) << page.status();
        EXPECT_EQ(page->scores_size(), 0) << country;
        EXPECT_EQ(page->total_size(), 0) << country;
        EXPECT_EQ(page->next_page_token(), "") << country;
        // A token is still checked, though there is nothing to list.
        q.page_token = "not a token!";
        EXPECT_EQ(e->ListTopRisks(q).status().code(),
                  absl::StatusCode::kInvalidArgument);
      }
    }
  }
  // An entity that appears in the filter is listed at once.
  e->ApplyChange(
      MakeChange(
          2, {Upsert(Company("company/de1", "DE")),
              Upsert(Listing("signal/de", "US-OFAC", {"company/de1"}, 0.5))}),
      DefaultAsOf());
  Engine::TopQuery q;
  q.country = "DE";
  absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->scores_size(), 1);
  EXPECT_EQ(page->scores(0).entity_id(), "company/de1");
  EXPECT_EQ(page->total_size(), 1);
}

TEST(TopRisksTest, PageThatHoldsEveryMatchHasNoToken) {
  auto e = Ranked().Load();
  // 10 CN facilities (FiltersAndTotals), ranked at and above 0: one page of
  // exactly 10 holds them all, and one of 9 continues to the 10th.
  Engine::TopQuery q;
  q.kind = v1::Entity::FACILITY;
  q.country = "CN";
  q.page_size = 10;
  absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->scores_size(), 10);
  EXPECT_EQ(page->next_page_token(), "");
  q.page_size = 9;
  page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->scores_size(), 9);
  ASSERT_NE(page->next_page_token(), "");
  q.page_token = page->next_page_token();
  page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->scores_size(), 1);
  EXPECT_EQ(page->next_page_token(), "");
  // With min_score the count walks the ranking and stops at the bound.
  Engine::TopQuery high;
  high.kind = v1::Entity::FACILITY;
  high.country = "CN";
  high.min_score = 30;
  page = e->ListTopRisks(high);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total_size(), page->scores_size());
  EXPECT_GT(page->total_size(), 0);
  for (const v1::Score& s : page->scores()) EXPECT_GE(s.composite(), 30);
}

TEST(TopRisksTest, BadTokensAndFilters) {
  auto e = Ranked().Load();
  Engine::TopQuery q;
  q.page_size = 5;
  absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  Engine::TopQuery other = q;
  other.country = "US";
  other.page_token = page->next_page_token();
  EXPECT_EQ(e->ListTopRisks(other).status().code(),
            absl::StatusCode::kInvalidArgument);
  other = q;
  other.factor = v1::FACTOR_TARIFFS;
  other.page_token = page->next_page_token();
  EXPECT_EQ(e->ListTopRisks(other).status().code(),
            absl::StatusCode::kInvalidArgument);
  q.page_token = "not a token!";
  EXPECT_EQ(e->ListTopRisks(q).status().code(),
            absl::StatusCode::kInvalidArgument);
  q.page_token = "";
  q.country = "usa";
  EXPECT_EQ(e->ListTopRisks(q).status().code(),
            absl::StatusCode::kInvalidArgument);
  q.country = "";
  q.factor = static_cast<v1::Factor>(7);
  EXPECT_EQ(e->ListTopRisks(q).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TopRisksTest, IndexFollowsScoreChanges) {
  auto e = Ranked().Load();
  // The lowest-ranked entity becomes the highest; the top one is deleted.
  Engine::TopQuery q;
  q.page_size = 1;
  const std::string top = e->ListTopRisks(q)->scores(0).entity_id();
  e->ApplyChange(
      MakeChange(
          2, {Upsert(Listing("signal/new", "US-OFAC", {"company/c159"}, 0.99)),
              DeleteEntity(top), Upsert(Company("company/zz", "DE"))}),
      DefaultAsOf());
  absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->scores(0).entity_id(), "company/c159");
  EXPECT_EQ(page->total_size(), 60);  // One deleted, one new.
  q.page_size = 1000;
  const std::vector<v1::Score> all = AllPages(*e, q);
  ASSERT_EQ(all.size(), 60u);
  ExpectRanked(all);
  for (const v1::Score& s : all) EXPECT_NE(s.entity_id(), top);
  // A token minted before a change still continues after it.
  q.page_size = 10;
  page = e->ListTopRisks(q);
  ASSERT_TRUE(page.ok());
  e->ApplyChange(MakeChange(3, {DeleteSignal("signal/s0")}), DefaultAsOf());
  q.page_token = page->next_page_token();
  EXPECT_TRUE(e->ListTopRisks(q).ok());
}

// include_reasons: each row's main reason is exactly the first contribution
// ExplainScore gives for it with the query's factor, on every page, for the
// composite and each factor; without it there are none.
TEST(TopRisksTest, MainReasonsAreTheExplanationsFirstContribution) {
  for (bool links : {false, true}) {
    RandomWorld world(links ? 11 : 7, links);
    auto e = world.Initial(150, 450, 40).Load();
    for (v1::Factor factor : {v1::FACTOR_UNSPECIFIED, kEC, kTariffs, kCS}) {
      SCOPED_TRACE(absl::StrCat("factor ", factor, links ? " links" : ""));
      Engine::TopQuery q;
      q.factor = factor;
      q.page_size = 17;
      q.include_reasons = true;
      int with_reason = 0, without = 0;
      do {
        absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(q);
        ASSERT_TRUE(page.ok()) << page.status();
        ASSERT_EQ(page->main_reasons_size(), page->scores_size());
        for (int i = 0; i < page->scores_size(); ++i) {
          const std::string& id = page->scores(i).entity_id();
          absl::StatusOr<v1::Explanation> ex = e->Explain(id, factor, 1, 6);
          ASSERT_TRUE(ex.ok()) << ex.status();
          const v1::Contribution& got = page->main_reasons(i);
          if (ex->contributions().empty()) {
            EXPECT_EQ(got.ByteSizeLong(), 0u)
                << id << ": " << got.DebugString();
            ++without;
            continue;
          }
          EXPECT_EQ(got.SerializeAsString(),
                    ex->contributions(0).SerializeAsString())
              << id << ": got " << got.DebugString() << " want "
              << ex->contributions(0).DebugString();
          ++with_reason;
        }
        q.page_token = page->next_page_token();
      } while (!q.page_token.empty());
      // The world has entities with and without exposure.
      EXPECT_GT(with_reason, 0);
      EXPECT_GT(without, 0);
    }
    Engine::TopQuery plain;
    absl::StatusOr<v1::ListTopRisksResponse> page = e->ListTopRisks(plain);
    ASSERT_TRUE(page.ok());
    EXPECT_GT(page->scores_size(), 0);
    EXPECT_EQ(page->main_reasons_size(), 0);
  }
}

// A row with exposure in several factors: the reason comes from the factor
// ranked by, and over all factors it is the largest log_odds of any.
TEST(TopRisksTest, MainReasonFollowsTheFactor) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/up", "TW")};
  g.edges = {Supplies("company/up", "company/a", 0.9)};
  g.signals = {Listing("signal/l", "US-BIS", {"company/a"}, 0.2),
               Tension("signal/t", 0.9, {{"TW", 1.0}})};
  auto e = g.Load();
  Engine::TopQuery q;
  q.include_reasons = true;
  q.kind = v1::Entity::COMPANY;
  q.country = "CN";
  q.factor = kEC;
  absl::StatusOr<v1::ListTopRisksResponse> ec = e->ListTopRisks(q);
  ASSERT_TRUE(ec.ok());
  ASSERT_EQ(ec->main_reasons_size(), 1);
  EXPECT_EQ(ec->main_reasons(0).factor(), kEC);
  EXPECT_EQ(ec->main_reasons(0).direct().signal_id(), "signal/l");
  q.factor = kCS;
  absl::StatusOr<v1::ListTopRisksResponse> cs = e->ListTopRisks(q);
  ASSERT_TRUE(cs.ok());
  ASSERT_EQ(cs->main_reasons_size(), 1);
  EXPECT_EQ(cs->main_reasons(0).factor(), kCS);
  q.factor = v1::FACTOR_UNSPECIFIED;
  absl::StatusOr<v1::ListTopRisksResponse> all = e->ListTopRisks(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->main_reasons_size(), 1);
  const double ec_log = ec->main_reasons(0).log_odds();
  const double cs_log = cs->main_reasons(0).log_odds();
  EXPECT_EQ(all->main_reasons(0).factor(), ec_log >= cs_log ? kEC : kCS);
  EXPECT_EQ(all->main_reasons(0).log_odds(), std::max(ec_log, cs_log));
}

}  // namespace
}  // namespace georisk::scorer::testing
