#include "services/scorer/alert_pipeline.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "storage/alert_log.h"
#include "storage/testing/full_disk_file_system.h"

namespace georisk::scorer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::Explanation WithContributions(
    const std::vector<std::pair<std::string, double>>& contributions) {
  v1::Explanation e;
  for (const auto& [description, fraction] : contributions) {
    v1::Contribution* c = e.add_contributions();
    c->set_description(description);
    c->set_fraction(fraction);
  }
  return e;
}

TEST(AlertReasonsTest, EmptyExplanationHasNoReasons) {
  EXPECT_THAT(AlertReasons(v1::Explanation()), IsEmpty());
}

TEST(AlertReasonsTest, ContributionsWithRoundedPercent) {
  EXPECT_THAT(AlertReasons(WithContributions(
                  {{"listed by US-BIS", 0.625}, {"tariff CN->US", 0.004}})),
              ElementsAre("listed by US-BIS (63%)", "tariff CN->US (0%)"));
}

TEST(AlertReasonsTest, AtMostThreeContributionsThenTheFirstPath) {
  v1::Explanation e =
      WithContributions({{"a", 0.4}, {"b", 0.3}, {"c", 0.2}, {"d", 0.1}});
  e.add_paths()->set_summary("X <- Y: cross-strait 0.6");
  e.add_paths()->set_summary("X <- Z: tariffs 0.1");
  EXPECT_THAT(AlertReasons(e), ElementsAre("a (40%)", "b (30%)", "c (20%)",
                                           "X <- Y: cross-strait 0.6"));
}

TEST(AlertReasonsTest, PathWithoutContributions) {
  v1::Explanation e;
  e.add_paths()->set_summary("only a path");
  EXPECT_THAT(AlertReasons(e), ElementsAre("only a path"));
}

v1::ScoreChange Move(const std::string& entity_id, double before,
                     double after) {
  v1::ScoreChange c;
  for (v1::Score* s : {c.mutable_before(), c.mutable_after()}) {
    s->set_entity_id(entity_id);
    s->set_entity_kind(v1::Entity::COMPANY);
    s->set_country("CN");
  }
  c.mutable_before()->set_composite(before);
  c.mutable_after()->set_composite(after);
  return c;
}

v1::BandThresholds Bands() {
  v1::BandThresholds b;
  b.set_medium(30);
  b.set_high(60);
  b.set_critical(80);
  return b;
}

std::unique_ptr<AlertEvaluator> BandEvaluator() {
  v1::AlertRule r;
  r.set_name("risk_band_high");
  r.mutable_band_crossing()->set_min_band(v1::BAND_HIGH);
  r.mutable_band_crossing()->set_hysteresis(2);
  return std::make_unique<AlertEvaluator>(std::vector<v1::AlertRule>{r},
                                          Bands(), "v1");
}

AlertEvaluator::ReasonsFn NoReasons() {
  return
      [](const std::string&, v1::Factor) { return std::vector<std::string>{}; };
}

// The disk fills under the alert log while an alert fires: the write fails,
// nothing is announced, and the alert is not lost: once space is back the
// next Tick writes it (then the later one, in order, each numbered from the
// feed position that made it) and announces both exactly once.
TEST(AlertPipelineTest, AnAlertAFullDiskRefusedIsWrittenAndAnnouncedLater) {
  auto fs = std::make_shared<storage::testing::FullDiskFileSystem>();
  storage::AlertLogOptions options;
  options.path = base::testing::MakeTempDir("alert_pipeline") + "/alerts";
  options.file_system_for_testing = fs;
  auto log = storage::AlertLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  common::MetricsRegistry registry;
  absl::Time now = absl::FromUnixSeconds(1767225600);
  AlertPipeline pipeline(
      BandEvaluator(), log->get(), [&] { return now; }, &registry);
  ASSERT_TRUE(pipeline.Restore().ok());
  std::vector<v1::Alert> announced;
  pipeline.AddNotifier([&](const v1::Alert& a) { announced.push_back(a); });

  fs->SetFull(true);
  pipeline.OnScoreChanges({Move("company/a", 40, 70)}, 7, NoReasons());
  EXPECT_THAT(announced, IsEmpty());
  EXPECT_EQ((*log)->head(), 0);
  EXPECT_EQ(pipeline.pending(), 1u);
  pipeline.Tick(7);  // Still full: still pending.
  EXPECT_EQ(pipeline.pending(), 1u);
  EXPECT_THAT(registry.Render(),
              HasSubstr("georisk_alert_records_pending 1\n"));

  fs->SetFull(false);
  pipeline.OnScoreChanges({Move("company/b", 40, 75)}, 8, NoReasons());
  // RocksDB recovers from the full disk by itself, shortly after.
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
       pipeline.pending() > 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(100));
    pipeline.Tick(8);
  }
  ASSERT_EQ(pipeline.pending(), 0u);
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0].entity_id(), "company/a");
  EXPECT_EQ(announced[0].sequence(), 7 * storage::kAlertRecordsPerPosition);
  EXPECT_EQ(announced[0].graph_sequence(), 7);
  EXPECT_EQ(announced[0].feed_position(), 7);
  EXPECT_EQ(announced[1].entity_id(), "company/b");
  EXPECT_EQ(announced[1].sequence(), 8 * storage::kAlertRecordsPerPosition);
  pipeline.Tick(8);
  EXPECT_EQ(announced.size(), 2u);  // Announced once.

  auto stored = (*log)->Read(1, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].entity_id(), "company/a");
  EXPECT_EQ((*stored)[1].entity_id(), "company/b");
  auto active = (*log)->Active();
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), 2u);
}

std::unique_ptr<AlertEvaluator> JumpEvaluator() {
  v1::AlertRule r;
  r.set_name("risk_jump");
  r.mutable_jump()->set_min_points(10);
  r.mutable_jump()->mutable_resolve_after()->set_seconds(3600);
  r.mutable_coalesce_window()->set_seconds(30);
  return std::make_unique<AlertEvaluator>(std::vector<v1::AlertRule>{r},
                                          Bands(), "v1");
}

// Records are numbered from the feed position that made them: the records
// of one change follow its position's base in order, and an update held
// for its window is numbered, when Tick emits it, from the position the
// scorer has reached then.
TEST(AlertPipelineTest, RecordsAreNumberedFromTheFeedPositionThatMadeThem) {
  auto log = storage::AlertLog::Open(
      {base::testing::MakeTempDir("alert_pipeline") + "/alerts"});
  ASSERT_TRUE(log.ok()) << log.status();
  common::MetricsRegistry registry;
  absl::Time now = absl::FromUnixSeconds(1767225600);
  AlertPipeline pipeline(
      JumpEvaluator(), log->get(), [&] { return now; }, &registry);
  ASSERT_TRUE(pipeline.Restore().ok());
  std::vector<v1::Alert> announced;
  pipeline.AddNotifier([&](const v1::Alert& a) { announced.push_back(a); });

  pipeline.OnScoreChanges(
      {Move("company/a", 20, 40), Move("company/b", 20, 40)}, 3, NoReasons());
  now += absl::Seconds(5);
  pipeline.OnScoreChanges({Move("company/a", 40, 60)}, 5,
                          NoReasons());  // Held.
  pipeline.Tick(5);
  ASSERT_EQ(announced.size(), 2u);
  now += absl::Seconds(30);
  // Due now; an older position (a stale read of the scorer's) does not move
  // the pipeline back.
  pipeline.Tick(4);

  constexpr int64_t kBase = storage::kAlertRecordsPerPosition;
  ASSERT_EQ(announced.size(), 3u);
  EXPECT_EQ(announced[0].sequence(), 3 * kBase);
  EXPECT_EQ(announced[1].sequence(), 3 * kBase + 1);
  EXPECT_EQ(announced[1].entity_id(), "company/b");
  // The held update: made by change 5, emitted at the end of its window.
  EXPECT_EQ(announced[2].entity_id(), "company/a");
  EXPECT_EQ(announced[2].score_after(), 60);
  EXPECT_EQ(announced[2].graph_sequence(), 5);
  EXPECT_EQ(announced[2].feed_position(), 5);
  EXPECT_EQ(announced[2].sequence(), 5 * kBase);
}

// With shards, each record carries the per-shard cursors its position is
// the sum of: those of its change, and for a record of the clock those of
// the position the scorer had reached at the tick.
std::vector<v1::GraphPosition> Cursors(int64_t s0, int64_t s1) {
  std::vector<v1::GraphPosition> out(2);
  out[0].set_shard(0);
  out[0].set_sequence(s0);
  out[1].set_shard(1);
  out[1].set_sequence(s1);
  return out;
}

std::string Describe(const v1::Alert& a) {
  std::string out = absl::StrCat(a.feed_position(), ":");
  for (const v1::GraphPosition& p : a.feed_positions()) {
    absl::StrAppend(&out, " ", p.shard(), "@", p.sequence());
  }
  return out;
}

TEST(AlertPipelineTest, RecordsCarryThePerShardCursorsOfTheirPosition) {
  auto log = storage::AlertLog::Open(
      {base::testing::MakeTempDir("alert_pipeline") + "/alerts"});
  ASSERT_TRUE(log.ok()) << log.status();
  common::MetricsRegistry registry;
  absl::Time now = absl::FromUnixSeconds(1767225600);
  AlertPipeline pipeline(
      JumpEvaluator(), log->get(), [&] { return now; }, &registry);
  ASSERT_TRUE(pipeline.Restore().ok());
  std::vector<v1::Alert> announced;
  pipeline.AddNotifier([&](const v1::Alert& a) { announced.push_back(a); });

  pipeline.OnScoreChanges({Move("company/a", 20, 40)}, 3, NoReasons(),
                          Cursors(2, 1));
  now += absl::Seconds(5);
  pipeline.OnScoreChanges({Move("company/a", 40, 60)}, 5, NoReasons(),
                          Cursors(2, 3));  // Held.
  now += absl::Seconds(30);
  // The held update is emitted at the position reached, with its cursors;
  // a stale tick moves neither back.
  pipeline.Tick(7, Cursors(4, 3));
  pipeline.Tick(6, Cursors(3, 3));
  // One graphstore: no cursors.
  pipeline.OnScoreChanges({Move("company/b", 20, 40)}, 9, NoReasons());
  std::vector<std::string> got;
  for (const v1::Alert& a : announced) got.push_back(Describe(a));
  EXPECT_THAT(got, ElementsAre("3: 0@2 1@1", "7: 0@4 1@3", "9:"));
}

}  // namespace
}  // namespace georisk::scorer
