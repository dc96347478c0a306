#include "storage/score_history.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "base/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace georisk::storage {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

v1::ScoreHistoryPoint Point(absl::Time t, int64_t seq, double composite,
                            double export_controls = 0) {
  v1::ScoreHistoryPoint p;
  *p.mutable_time() = base::ToProtoTime(t);
  p.set_graph_sequence(seq);
  p.set_model_version("1.1.0");
  p.set_composite(composite);
  v1::FactorScore* f = p.add_factors();
  f->set_factor(v1::FACTOR_EXPORT_CONTROLS);
  f->set_propagated(export_controls);
  return p;
}

class ScoreHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    history_.reset();
    options_.path = path_;
    absl::StatusOr<std::unique_ptr<ScoreHistory>> h =
        ScoreHistory::Open(options_);
    ASSERT_TRUE(h.ok()) << h.status();
    history_ = *std::move(h);
  }
  int Record(std::vector<std::pair<std::string, v1::ScoreHistoryPoint>> p) {
    absl::StatusOr<int> n =
        history_->Record(p, [](const std::string& id, v1::Factor f) {
          return absl::StrCat("reason of ", id, " factor ", f);
        });
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }
  std::vector<double> Composites(const ScoreHistoryPage& page) {
    std::vector<double> out;
    for (const auto& p : page.points) out.push_back(p.composite());
    return out;
  }

  std::string path_ = base::testing::MakeTempDir("score_history") + "/db";
  ScoreHistoryOptions options_;
  std::unique_ptr<ScoreHistory> history_;
};

TEST_F(ScoreHistoryTest, FirstPointAndMovesBeyondTheDeltaAreKept) {
  options_.min_delta = 1.0;
  Reopen();
  EXPECT_EQ(Record({{"company/a", Point(kT0, 1, 10)}}), 1);
  // 0.9 points: within the delta.
  EXPECT_EQ(Record({{"company/a", Point(kT0 + absl::Seconds(1), 2, 10.9)}}), 0);
  // 1.5 points from the last point kept (10), not from the skipped one.
  EXPECT_EQ(Record({{"company/a", Point(kT0 + absl::Seconds(2), 3, 11.5)}}), 1);
  // A factor's move x 100 counts: 0.02 -> 2 points.
  EXPECT_EQ(
      Record({{"company/a", Point(kT0 + absl::Seconds(3), 4, 11.5, 0.02)}}), 1);
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", {}, 0, "");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Composites(*page), (std::vector<double>{10, 11.5, 11.5}));
  EXPECT_EQ(page->points[0].reason(), "reason of company/a factor 0");
  EXPECT_EQ(
      page->points[2].reason(),
      absl::StrCat("reason of company/a factor ", v1::FACTOR_EXPORT_CONTROLS));
  EXPECT_EQ(page->points[1].graph_sequence(), 3);
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(ScoreHistoryTest, ABatchComparesWithItsOwnEarlierPoints) {
  options_.min_delta = 1.0;
  Reopen();
  EXPECT_EQ(Record({{"company/a", Point(kT0, 1, 10)},
                    {"company/a", Point(kT0, 2, 10.5)},
                    {"company/a", Point(kT0, 3, 12)},
                    {"company/b", Point(kT0, 3, 50)}}),
            3);
}

TEST_F(ScoreHistoryTest, DeletionIsAPointOnce) {
  Record({{"company/a", Point(kT0, 1, 10)}});
  v1::ScoreHistoryPoint gone = Point(kT0 + absl::Seconds(1), 2, 0);
  gone.clear_factors();
  gone.set_deleted(true);
  EXPECT_EQ(Record({{"company/a", gone}}), 1);
  gone.set_graph_sequence(3);
  EXPECT_EQ(Record({{"company/a", gone}}), 0);
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", {}, 0, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->points.size(), 2u);
  EXPECT_TRUE(page->points[1].deleted());
  EXPECT_TRUE(page->points[1].reason().empty());
}

TEST_F(ScoreHistoryTest, PointsSurviveAReopen) {
  Record({{"company/a", Point(kT0, 1, 10)}});
  Reopen();
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", {}, 0, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Composites(*page), (std::vector<double>{10}));
  EXPECT_FALSE(*history_->Empty());
}

TEST_F(ScoreHistoryTest, UnknownEntityIsNotFoundAndNeighboursDoNotLeak) {
  Record(
      {{"company/ab", Point(kT0, 1, 10)}, {"company/a/x", Point(kT0, 1, 20)}});
  EXPECT_TRUE(*history_->Empty() == false);
  EXPECT_EQ(history_->Query("company/a", {}, 0, "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(history_->AsOf("company/a", kT0).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/ab", {}, 0, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Composites(*page), (std::vector<double>{10}));
}

TEST_F(ScoreHistoryTest, TimeRangeIsHalfOpen) {
  for (int i = 0; i < 5; ++i) {
    Record({{"company/a", Point(kT0 + absl::Hours(i), i + 1, 10 * (i + 1))}});
  }
  ScoreHistoryQuery q;
  q.from = kT0 + absl::Hours(1);
  q.to = kT0 + absl::Hours(3);
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", q, 0, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Composites(*page), (std::vector<double>{20, 30}));
  // Times before 1970 order before those after.
  Record({{"company/old", Point(absl::FromUnixSeconds(-100), 1, 5)},
          {"company/old", Point(absl::FromUnixSeconds(100), 2, 50)}});
  page = history_->Query("company/old", {}, 0, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Composites(*page), (std::vector<double>{5, 50}));
}

TEST_F(ScoreHistoryTest, PagesCoverEveryPointOnce) {
  for (int i = 0; i < 7; ++i) {
    Record({{"company/a", Point(kT0 + absl::Minutes(i), i + 1, 10 * i)}});
  }
  Record({{"company/b", Point(kT0, 1, 99)}});
  std::vector<double> all;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ScoreHistoryPage> page =
        history_->Query("company/a", {}, 3, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (double c : Composites(*page)) all.push_back(c);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (std::vector<double>{0, 10, 20, 30, 40, 50, 60}));
  // Exactly a page's worth: no empty last page.
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", {}, 7, "");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(ScoreHistoryTest, BadPageArgumentsNameTheField) {
  Record({{"company/a", Point(kT0, 1, 10)}});
  absl::Status s = history_->Query("company/a", {}, -1, "").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("page_size"), std::string::npos);
  s = history_->Query("company/a", {}, 0, "not a token").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("page_token"), std::string::npos);
}

TEST_F(ScoreHistoryTest, FactorFilterKeepsPointsWhereThatFactorMoved) {
  Record({{"company/a", Point(kT0, 1, 10, 0.0)}});
  Record({{"company/a", Point(kT0 + absl::Seconds(1), 2, 20, 0.0)}});  // no
  Record({{"company/a", Point(kT0 + absl::Seconds(2), 3, 20, 0.3)}});  // yes
  Record({{"company/a", Point(kT0 + absl::Seconds(3), 4, 30, 0.3)}});  // no
  Record({{"company/a", Point(kT0 + absl::Seconds(4), 5, 30, 0.1)}});  // yes
  ScoreHistoryQuery q;
  q.factor = v1::FACTOR_EXPORT_CONTROLS;
  absl::StatusOr<ScoreHistoryPage> page =
      history_->Query("company/a", q, 0, "");
  ASSERT_TRUE(page.ok());
  std::vector<int64_t> seqs;
  for (const auto& p : page->points) seqs.push_back(p.graph_sequence());
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 3, 5}));
  // Resuming mid-way judges the first point against the one before it.
  q.from = kT0 + absl::Seconds(3);
  page = history_->Query("company/a", q, 0, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->points.size(), 1u);
  EXPECT_EQ(page->points[0].graph_sequence(), 5);
}

TEST_F(ScoreHistoryTest, AsOfIsTheLastPointAtOrBefore) {
  Record({{"company/a", Point(kT0, 1, 10)}});
  Record({{"company/a", Point(kT0 + absl::Hours(1), 2, 20)}});
  EXPECT_EQ(history_->AsOf("company/a", kT0 - absl::Seconds(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(history_->AsOf("company/a", kT0)->composite(), 10);
  EXPECT_EQ(history_->AsOf("company/a", kT0 + absl::Minutes(59))->composite(),
            10);
  EXPECT_EQ(history_->AsOf("company/a", kT0 + absl::Hours(1))->composite(), 20);
  EXPECT_EQ(history_->AsOf("company/a", kT0 + absl::Hours(100))->composite(),
            20);
}

TEST_F(ScoreHistoryTest, TrimDropsByAgeAndByCount) {
  options_.max_age = absl::Hours(24);
  options_.max_points_per_entity = 3;
  Reopen();
  for (int i = 0; i < 6; ++i) {
    Record({{"company/a", Point(kT0 + absl::Hours(i), i + 1, 10 * i)}});
  }
  Record({{"company/b", Point(kT0, 1, 5)}});
  // Now = kT0 + 10h: nothing old enough; a keeps its newest 3.
  absl::StatusOr<int64_t> dropped = history_->Trim(kT0 + absl::Hours(10));
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 3);
  EXPECT_EQ(Composites(*history_->Query("company/a", {}, 0, "")),
            (std::vector<double>{30, 40, 50}));
  EXPECT_EQ(Composites(*history_->Query("company/b", {}, 0, "")),
            (std::vector<double>{5}));
  // Now = kT0 + 28h30m: points before kT0 + 4h30m are older than a day.
  dropped = history_->Trim(kT0 + absl::Hours(28) + absl::Minutes(30));
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 3);  // a's 30 and 40, b's 5.
  EXPECT_EQ(Composites(*history_->Query("company/a", {}, 0, "")),
            (std::vector<double>{50}));
  EXPECT_EQ(history_->Query("company/b", {}, 0, "").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*history_->Trim(kT0 + absl::Hours(28) + absl::Minutes(30)), 0);
}

TEST_F(ScoreHistoryTest, OpenRejectsBadOptions) {
  history_.reset();
  ScoreHistoryOptions bad;
  EXPECT_EQ(ScoreHistory::Open(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.path = path_;
  bad.min_delta = -1;
  EXPECT_EQ(ScoreHistory::Open(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.min_delta = 0;
  bad.max_points_per_entity = 0;
  EXPECT_EQ(ScoreHistory::Open(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ScoreHistoryTest, RecordRejectsAnIdWithNul) {
  absl::StatusOr<int> n = history_->Record(
      {{std::string("company/a\0b", 11), Point(kT0, 1, 1)}}, nullptr);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(*history_->Empty());
}

// The newest points held in memory change nothing: a history with them and
// one without, given the same random batches (moves below and above the
// delta, deletions, a clock that goes back, several points of an entity in
// one batch, too many entities for the cache, trims that drop an entity's
// newest point), write the same points and answer the same queries.
TEST(ScoreHistoryCacheTest, TheCacheOfNewestPointsChangesNoDecision) {
  const std::string dir = base::testing::MakeTempDir("score_history_cache");
  ScoreHistoryOptions cached;
  cached.path = dir + "/cached";
  cached.last_point_cache_entries = 12;  // Fewer than the entities.
  cached.max_points_per_entity = 6;
  cached.max_age = absl::Minutes(40);  // Trims drop newest points too.
  ScoreHistoryOptions plain = cached;
  plain.path = dir + "/plain";
  plain.last_point_cache_entries = 0;
  auto a = ScoreHistory::Open(cached);
  auto b = ScoreHistory::Open(plain);
  ASSERT_TRUE(a.ok() && b.ok());
  std::mt19937 random(11);
  auto uniform = [&](int n) { return static_cast<int>(random() % n); };
  std::vector<double> composite(20, 10);
  absl::Time now = kT0;
  int64_t sequence = 0;
  int64_t written = 0;
  for (int round = 0; round < 400; ++round) {
    // Mostly forward, sometimes back by up to a minute.
    now += absl::Seconds(uniform(5) == 0 ? -uniform(60) : uniform(600));
    std::vector<std::pair<std::string, v1::ScoreHistoryPoint>> batch;
    const int n = 1 + uniform(8);
    for (int k = 0; k < n; ++k) {
      const int e = uniform(20);
      // Small drifts (below the delta) and jumps.
      composite[e] =
          std::clamp(composite[e] + (uniform(4) == 0 ? uniform(21) - 10
                                                     : 0.1 * (uniform(9) - 4)),
                     0.0, 100.0);
      v1::ScoreHistoryPoint p =
          Point(now, ++sequence, composite[e], composite[e] / 100 * uniform(2));
      p.set_deleted(uniform(25) == 0);
      batch.emplace_back(absl::StrCat("company/e", e), std::move(p));
    }
    absl::StatusOr<int> x = (*a)->Record(batch, nullptr);
    absl::StatusOr<int> y = (*b)->Record(batch, nullptr);
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_EQ(*x, *y) << "round " << round;
    written += *x;
    if (uniform(40) == 0) {
      absl::StatusOr<int64_t> tx = (*a)->Trim(now);
      absl::StatusOr<int64_t> ty = (*b)->Trim(now);
      ASSERT_TRUE(tx.ok() && ty.ok());
      ASSERT_EQ(*tx, *ty);
    }
  }
  EXPECT_GT(written, 200);
  EXPECT_LE((*a)->cached_entities(), 12);
  EXPECT_EQ((*b)->cached_entities(), 0);
  for (int e = 0; e < 20; ++e) {
    const std::string id = absl::StrCat("company/e", e);
    absl::StatusOr<ScoreHistoryPage> x = (*a)->Query(id, {}, 1000, "");
    absl::StatusOr<ScoreHistoryPage> y = (*b)->Query(id, {}, 1000, "");
    ASSERT_EQ(x.ok(), y.ok()) << id;
    if (!x.ok()) continue;
    ASSERT_EQ(x->points.size(), y->points.size()) << id;
    for (size_t i = 0; i < x->points.size(); ++i) {
      EXPECT_EQ(x->points[i].SerializeAsString(),
                y->points[i].SerializeAsString())
          << id << " point " << i;
    }
  }
}

}  // namespace
}  // namespace georisk::storage
