// Dated ownership (docs/scoring-model.md, "Dated ownership"): several
// records of one owner/asset pair, told apart by record_id; of those in
// effect at the evaluation date, the one whose window started last counts
// (then the greatest record_id); time advancing switches records.
// Expectations computed by hand in the comments.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

constexpr double kEps = 1e-12;

// Holding h owns company c through three records; c is listed by JP-METI
// (no ownership rule) at 0.5, so h's export-control score is
// w x 0.5 for the share w in effect:
//   a: 48%, 2015-01-01 .. 2024-01-01
//   b: 51%, 2023-06-01 .. (no end)
//   c: 40%, 2010-01-01 .. 2030-01-01 (the greatest record_id, but the
//      earliest start: outranked wherever a or b is in effect)
std::vector<v1::Edge> ThreeRecords() {
  return {WithRecordId(Window(Owns("company/h", "company/c", 0.48),
                              Date(2015, 1, 1), Date(2024, 1, 1)),
                       "a"),
          WithRecordId(Window(Owns("company/h", "company/c", 0.51),
                              Date(2023, 6, 1), absl::InfiniteFuture()),
                       "b"),
          WithRecordId(Window(Owns("company/h", "company/c", 0.40),
                              Date(2010, 1, 1), Date(2030, 1, 1)),
                       "c")};
}

Graph Holding(std::vector<v1::Edge> edges) {
  Graph g;
  g.entities = {Company("company/h", "JP"), Company("company/c", "RU")};
  g.edges = std::move(edges);
  g.signals = {Listing("signal/meti", "JP-METI", {"company/c"}, 0.5)};
  return g;
}

TEST(DatedOwnershipTest, TheRecordThatStartedLastCounts) {
  const struct {
    absl::Time at;
    double share;
  } cases[] = {
      {Date(2012, 1, 1), 0.40},  // only c
      {Date(2020, 1, 1), 0.48},  // a and c: a started later
      {Date(2023, 7, 1), 0.51},  // a, b and c: b started last
      {Date(2025, 1, 1), 0.51},  // b and c
      {Date(2031, 1, 1), 0.51},  // only b
  };
  for (const auto& k : cases) {
    auto e = Holding(ThreeRecords()).Load(k.at);
    EXPECT_NEAR(R(*e, "company/h", kEC), k.share * 0.5, kEps)
        << absl::FormatTime(k.at);
  }
  // Before 2010 no record is in effect.
  EXPECT_EQ(
      R(*Holding(ThreeRecords()).Load(Date(2009, 1, 1)), "company/h", kEC), 0);
}

TEST(DatedOwnershipTest, FileOrderDoesNotMatter) {
  std::vector<v1::Edge> reversed = ThreeRecords();
  std::reverse(reversed.begin(), reversed.end());
  auto e = Holding(reversed).Load(Date(2020, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.48 * 0.5, kEps);
  // Applied one by one, in either order, the same.
  for (bool reverse : {false, true}) {
    Graph g = Holding({});
    auto inc = g.Load(Date(2025, 1, 1));
    std::vector<v1::Edge> edges = ThreeRecords();
    if (reverse) std::reverse(edges.begin(), edges.end());
    int64_t seq = 2;
    for (const v1::Edge& edge : edges) {
      inc->ApplyChange(MakeChange(seq++, {Upsert(edge)}), Date(2025, 1, 1));
    }
    EXPECT_NEAR(R(*inc, "company/h", kEC), 0.51 * 0.5, kEps) << reverse;
    // A replay of a record changes nothing.
    EXPECT_TRUE(inc->ApplyChange(MakeChange(seq++, {Upsert(edges[0])}),
                                 Date(2025, 1, 1))
                    .empty());
  }
}

TEST(DatedOwnershipTest, AdvancingTimeSwitchesRecords) {
  auto e = Holding(ThreeRecords()).Load(Date(2012, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.20, kEps);  // c: 0.40 x 0.5
  e->AdvanceTime(Date(2020, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.24, kEps);  // a: 0.48 x 0.5
  e->AdvanceTime(Date(2023, 7, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.255, kEps);  // b: 0.51 x 0.5
  e->AdvanceTime(Date(2012, 1, 1));                   // and back
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.20, kEps);
  e->AdvanceTime(Date(2009, 1, 1));
  EXPECT_EQ(R(*e, "company/h", kEC), 0);
}

TEST(DatedOwnershipTest, DeletingARecordLeavesTheOthers) {
  auto e = Holding(ThreeRecords()).Load(Date(2025, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.255, kEps);
  // Without b, c (40%) is the only record in effect in 2025.
  e->ApplyChange(MakeChange(2, {DeleteEdge(ThreeRecords()[1])}),
                 Date(2025, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.20, kEps);
  // And time still switches: a counts again in 2020.
  e->AdvanceTime(Date(2020, 1, 1));
  EXPECT_NEAR(R(*e, "company/h", kEC), 0.24, kEps);
}

// The real case of tests/data/real/GAPS.md section 2 (zala.entities.ftm.json
// lines 73, 74, 79): a listed person's 50% (ended 2023-03-02), 48% (ended
// 2023-12-21) and 51% (current) of one company, all from 2015-11-25. Equal
// starts: the greatest record_id counts (ru-dfe0... > ru-7f20... >
// ru-770b...), the current 51%, so OFAC's 50% rule covers the company in
// every year. Without the 51%, the 48% outranks the 50% (its record_id is
// greater) while both are in effect: not enough. The 50% alone counts
// until it ends on 2023-03-02.
TEST(DatedOwnershipTest, ZalaRecordsOfOnePersonAndCompany) {
  const absl::Time from = Date(2015, 11, 25);
  const v1::Edge r50 =
      WithRecordId(Window(Owns("person/zakharov", "company/cst", 0.50), from,
                          Date(2023, 3, 2)),
                   "ru-770bdf5f22537fa2a94176f53fa87fe28ecf94fa");
  const v1::Edge r48 =
      WithRecordId(Window(Owns("person/zakharov", "company/cst", 0.48), from,
                          Date(2023, 12, 21)),
                   "ru-7f202fd87a7ec03404a36667672156628713531c");
  const v1::Edge r51 =
      WithRecordId(Window(Owns("person/zakharov", "company/cst", 0.51), from,
                          absl::InfiniteFuture()),
                   "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7");
  Graph g;
  g.entities = {Person("person/zakharov", "RU"), Company("company/cst", "RU")};
  g.edges = {r51, r48, r50};
  g.signals = {Listing("signal/sdn", "US-OFAC", {"person/zakharov"}, 0.9)};
  for (absl::Time t : {Date(2020, 1, 1), Date(2023, 6, 1), Date(2026, 1, 1)}) {
    EXPECT_NEAR(R(*g.Load(t), "company/cst", kEC), 0.9, kEps)
        << absl::FormatTime(t);
  }
  g.edges = {r48, r50};
  EXPECT_EQ(R(*g.Load(Date(2020, 1, 1)), "company/cst", kEC), 0);  // 48%
  g.edges = {r50};
  auto e = g.Load(Date(2020, 1, 1));
  EXPECT_NEAR(R(*e, "company/cst", kEC), 0.9, kEps);  // 50% >= 50%
  e->AdvanceTime(Date(2023, 6, 1));
  EXPECT_EQ(R(*e, "company/cst", kEC), 0);  // ended 2023-03-02
}

// Random upserts and deletes of the records of a few pairs (a person and
// companies as owners, overlapping windows, equal starts), with random moves
// of the date: the incremental engine always equals a fresh load of the same
// records at the same date.
TEST(DatedOwnershipTest, IncrementalEqualsFreshLoadUnderRandomChanges) {
  const std::vector<std::string> ids = {"person/p", "company/a", "company/b",
                                        "company/c"};
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"person/p", "company/a"},
      {"company/b", "company/a"},
      {"company/a", "company/c"},
      {"person/p", "company/c"}};
  const std::vector<absl::Time> dates = {
      absl::InfinitePast(), Date(2019, 1, 1), Date(2021, 1, 1),
      Date(2023, 1, 1),     Date(2025, 1, 1), absl::InfiniteFuture()};
  Graph g;
  g.entities = {Person("person/p", ""), Company("company/a", "TW"),
                Company("company/b", "CN"), Company("company/c", "TW")};
  g.signals = {Listing("signal/p", "US-OFAC", {"person/p"}, 0.9),
               Listing("signal/b", "US-OFAC", {"company/b"}, 0.6),
               Listing("signal/c", "JP-METI", {"company/c"}, 0.5),
               Tension("signal/cs", 0.5)};
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    auto uniform = [&](size_t n) {
      return static_cast<size_t>(rng() % static_cast<uint64_t>(n));
    };
    std::map<std::tuple<size_t, std::string>, v1::Edge> records;
    absl::Time now = Date(2022, 6, 1);
    auto e = g.Load(now);
    int64_t seq = 2;
    for (int step = 0; step < 40; ++step) {
      const size_t op = uniform(4);
      if (op == 3) {
        now = dates[1 + uniform(dates.size() - 2)] + absl::Hours(uniform(3));
        e->AdvanceTime(now);
      } else if (op == 2 && !records.empty()) {
        auto it = records.begin();
        std::advance(it, uniform(records.size()));
        e->ApplyChange(MakeChange(seq++, {DeleteEdge(it->second)}), now);
        records.erase(it);
      } else {
        const size_t pair = uniform(pairs.size());
        const std::string rid = absl::StrCat("r", uniform(3));
        size_t from = uniform(dates.size() - 1);
        size_t until = from + 1 + uniform(dates.size() - 1 - from);
        v1::Edge edge =
            WithRecordId(Window(Owns(pairs[pair].first, pairs[pair].second,
                                     0.1 * static_cast<double>(1 + uniform(8))),
                                dates[from], dates[until]),
                         rid);
        records[{pair, rid}] = edge;
        e->ApplyChange(MakeChange(seq++, {Upsert(edge)}), now);
      }
      Graph fresh = g;
      for (const auto& [key, edge] : records) fresh.edges.push_back(edge);
      auto full = fresh.Load(now);
      for (const std::string& id : ids) {
        for (v1::Factor f : {kEC, kTariffs, kCS}) {
          ASSERT_NEAR(R(*e, id, f), R(*full, id, f), 1e-9)
              << "seed " << seed << " step " << step << " " << id << " " << f;
        }
      }
    }
  }
}

}  // namespace
}  // namespace georisk::scorer::testing
