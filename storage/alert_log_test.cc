#include "storage/alert_log.h"

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "storage/testing/full_disk_file_system.h"

namespace georisk::storage {
namespace {

v1::Alert Record(const std::string& entity, v1::Alert::State state,
                 v1::Severity severity = v1::SEVERITY_WARNING) {
  v1::Alert a;
  a.set_entity_id(entity);
  a.set_rule_name("risk_band_high");
  a.set_alert_id(entity + "|risk_band_high");
  a.set_state(state);
  a.set_severity(severity);
  return a;
}

TEST(AlertLogTest, AppendNumbersRecordsAndSurvivesReopen) {
  std::string dir = base::testing::MakeTempDir("alerts");
  {
    auto log = AlertLog::Open({dir});
    ASSERT_TRUE(log.ok()) << log.status();
    auto written = (*log)->Append({Record("company/a", v1::Alert::FIRING),
                                   Record("company/b", v1::Alert::FIRING)});
    ASSERT_TRUE(written.ok());
    EXPECT_EQ((*written)[0].sequence(), 1);
    EXPECT_EQ((*written)[1].sequence(), 2);
    ASSERT_TRUE(
        (*log)->Append({Record("company/a", v1::Alert::RESOLVED)}).ok());
    EXPECT_EQ((*log)->head(), 3);
  }
  auto log = AlertLog::Open({dir});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->head(), 3);
  auto records = (*log)->Read(2, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].entity_id(), "company/b");
  EXPECT_EQ((*records)[1].state(), v1::Alert::RESOLVED);
  // Only b is still firing.
  auto active = (*log)->Active();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].entity_id(), "company/b");
  EXPECT_EQ((*active)[0].sequence(), 2);
  // A new append continues the numbering.
  auto more = (*log)->Append({Record("company/c", v1::Alert::FIRING)});
  EXPECT_EQ((*more)[0].sequence(), 4);
}

v1::Alert At(const std::string& entity, int64_t feed_position) {
  v1::Alert a = Record(entity, v1::Alert::FIRING);
  a.set_feed_position(feed_position);
  return a;
}

TEST(AlertSequenceTest, APositionsFirstRecordIsItsBaseAndTheRestFollow) {
  constexpr int64_t kBase = kAlertRecordsPerPosition;
  EXPECT_EQ(AlertSequence(0, 1), kBase);
  EXPECT_EQ(AlertSequence(kBase, 1), kBase + 1);
  EXPECT_EQ(AlertSequence(kBase + 1, 7), 7 * kBase);
  // A log numbered 1, 2, 3... before feed positions continues above its
  // head, and so does one whose head is past the position.
  EXPECT_EQ(AlertSequence(5, 0), 6);
  EXPECT_EQ(AlertSequence(9 * kBase + 3, 4), 9 * kBase + 4);
  // A position's records beyond 2^20 run on into the next position's
  // range; the next position then continues above them.
  EXPECT_EQ(AlertSequence(2 * kBase - 1, 1), 2 * kBase);
  EXPECT_EQ(AlertSequence(2 * kBase, 2), 2 * kBase + 1);
  EXPECT_EQ(AlertSequence(0, -3), 1);
  EXPECT_EQ(AlertSequence(0, std::numeric_limits<int64_t>::max()), 1);
}

// Two replicas' logs that get the same records number them alike, whatever
// batches the records came in: the sequence is a function of the feed
// positions and the log's history, not of a counter of the replica.
TEST(AlertLogTest, LogsGivenTheSameRecordsNumberThemAlike) {
  std::string dir = base::testing::MakeTempDir("alerts");
  auto a = AlertLog::Open({dir + "/a"});
  auto b = AlertLog::Open({dir + "/b"});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append({At("company/x", 3), At("company/y", 3)}).ok());
  ASSERT_TRUE((*a)->Append({At("company/z", 5)}).ok());
  ASSERT_TRUE((*a)->Append({At("company/x", 9)}).ok());
  ASSERT_TRUE((*b)->Append({At("company/x", 3)}).ok());
  ASSERT_TRUE(
      (*b)->Append({At("company/y", 3), At("company/z", 5), At("company/x", 9)})
          .ok());
  auto from_a = (*a)->Read(1, 10);
  auto from_b = (*b)->Read(1, 10);
  ASSERT_TRUE(from_a.ok() && from_b.ok());
  std::vector<int64_t> seq_a, seq_b;
  for (const v1::Alert& r : *from_a) seq_a.push_back(r.sequence());
  for (const v1::Alert& r : *from_b) seq_b.push_back(r.sequence());
  constexpr int64_t kBase = kAlertRecordsPerPosition;
  EXPECT_EQ(seq_a, (std::vector<int64_t>{3 * kBase, 3 * kBase + 1, 5 * kBase,
                                         9 * kBase}));
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_EQ((*a)->head(), 9 * kBase);
  // Reading from a sequence between two records starts at the next one, as
  // a watcher resuming after 3 * kBase + 1 does.
  auto after = (*b)->Read(3 * kBase + 2, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].sequence(), 5 * kBase);
}

// After a reopen the numbering continues from the stored head alone.
TEST(AlertLogTest, NumberingFromFeedPositionsContinuesAfterReopen) {
  std::string dir = base::testing::MakeTempDir("alerts");
  constexpr int64_t kBase = kAlertRecordsPerPosition;
  {
    auto log = AlertLog::Open({dir});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append({At("company/x", 4)}).ok());
  }
  auto log = AlertLog::Open({dir});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->head(), 4 * kBase);
  auto written = (*log)->Append({At("company/y", 4), At("company/z", 6)});
  ASSERT_TRUE(written.ok());
  EXPECT_EQ((*written)[0].sequence(), 4 * kBase + 1);
  EXPECT_EQ((*written)[1].sequence(), 6 * kBase);
  EXPECT_EQ((*written)[1].feed_position(), 6);
}

TEST(AlertLogTest, HeldUpdatesSurviveReopenAndEndWithTheirAlertsNextRecord) {
  std::string dir = base::testing::MakeTempDir("alerts");
  v1::Alert held_a = Record("company/a", v1::Alert::FIRING);
  held_a.set_score_after(72);
  held_a.set_sequence(99);  // Ignored: a held update has no sequence yet.
  {
    auto log = AlertLog::Open({dir});
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)
                    ->Append({Record("company/a", v1::Alert::FIRING),
                              Record("company/b", v1::Alert::FIRING)})
                    .ok());
    // A held update alone: stored, not logged.
    auto written = (*log)->Append({}, {held_a});
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_TRUE(written->empty());
    EXPECT_EQ((*log)->head(), 2);
  }
  auto log = AlertLog::Open({dir});
  ASSERT_TRUE(log.ok()) << log.status();
  auto held = (*log)->Held();
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].alert_id(), "company/a|risk_band_high");
  EXPECT_DOUBLE_EQ((*held)[0].score_after(), 72);
  EXPECT_EQ((*held)[0].sequence(), 0);
  // A's next record (the held update emitted) ends what a held, in the same
  // write that holds one for b.
  v1::Alert held_b = Record("company/b", v1::Alert::FIRING);
  ASSERT_TRUE(
      (*log)->Append({Record("company/a", v1::Alert::FIRING)}, {held_b}).ok());
  held = (*log)->Held();
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].alert_id(), "company/b|risk_band_high");
  // A resolution ends it too.
  ASSERT_TRUE((*log)->Append({Record("company/b", v1::Alert::RESOLVED)}).ok());
  held = (*log)->Held();
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->empty());
  EXPECT_EQ((*log)->head(), 4);
}

TEST(AlertLogTest, BadHeldUpdatesWriteNothing) {
  auto log = AlertLog::Open({base::testing::MakeTempDir("alerts")});
  ASSERT_TRUE(log.ok());
  v1::Alert no_id = Record("company/a", v1::Alert::FIRING);
  no_id.clear_alert_id();
  EXPECT_EQ((*log)
                ->Append({Record("company/a", v1::Alert::FIRING)}, {no_id})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*log)
                ->Append({}, {Record("company/a", v1::Alert::RESOLVED)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*log)->head(), 0);
  EXPECT_TRUE((*log)->Held()->empty());
}

TEST(AlertLogTest, BadRecordsWriteNothing) {
  auto log = AlertLog::Open({base::testing::MakeTempDir("alerts")});
  v1::Alert no_id = Record("company/a", v1::Alert::FIRING);
  no_id.clear_alert_id();
  auto r = (*log)->Append({Record("company/b", v1::Alert::FIRING), no_id});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "records[1].alert_id: required");
  EXPECT_EQ((*log)->head(), 0);
  EXPECT_EQ((*log)->Read(0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AlertLogTest, ListFiltersNewestFirstAndPagesWithoutOverlap) {
  auto log = AlertLog::Open({base::testing::MakeTempDir("alerts")});
  std::vector<v1::Alert> records;
  for (int i = 0; i < 25; ++i) {
    records.push_back(
        Record(absl::StrCat("company/e", i),
               i % 2 ? v1::Alert::RESOLVED : v1::Alert::FIRING,
               i % 5 ? v1::SEVERITY_WARNING : v1::SEVERITY_CRITICAL));
  }
  ASSERT_TRUE((*log)->Append(records).ok());
  v1::AlertFilter firing;
  firing.set_state(v1::Alert::FIRING);
  std::set<int64_t> seen;
  std::string token;
  int64_t last = 1 << 30;
  int pages = 0;
  do {
    auto page = (*log)->List(firing, 5, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& a : page->alerts) {
      EXPECT_EQ(a.state(), v1::Alert::FIRING);
      EXPECT_LT(a.sequence(), last);  // Newest first.
      last = a.sequence();
      EXPECT_TRUE(seen.insert(a.sequence()).second);
    }
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 13u);
  EXPECT_EQ(pages, 3);

  v1::AlertFilter critical;
  critical.set_min_severity(v1::SEVERITY_CRITICAL);
  auto page = (*log)->List(critical, 100, "");
  EXPECT_EQ(page->alerts.size(), 5u);
  EXPECT_EQ((*log)->List(critical, 10, "garbage!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AlertLogTest, WaitWakesOnAppend) {
  auto log = AlertLog::Open({base::testing::MakeTempDir("alerts")});
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE((*log)->Append({Record("company/a", v1::Alert::FIRING)}).ok());
  });
  EXPECT_EQ((*log)->WaitForSequence(1, absl::Now() + absl::Seconds(10)), 1);
  t.join();
  EXPECT_EQ((*log)->WaitForSequence(2, absl::Now() + absl::Milliseconds(20)),
            1);
}

// Appends `record` once space is back: RocksDB's own recovery from a full
// disk runs in the background, so appends fail until it has (60 s at most).
absl::StatusOr<std::vector<v1::Alert>> AppendWhenSpaceIsBack(
    AlertLog& log, const v1::Alert& record) {
  auto written = log.Append({record});
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
       !written.ok() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(100));
    written = log.Append({record});
  }
  return written;
}

// The disk fills under the alert log (issue #15): an append that cannot be
// written fails whole (the scorer then does not announce its records), the
// numbering has no gap, and once space is back (RocksDB's own recovery)
// appends go on; a reopen has exactly what was written.
TEST(AlertLogTest, AFullDiskWritesNothingAndAppendsGoOnAfterwards) {
  const std::string dir = base::testing::MakeTempDir("alerts");
  auto fs = std::make_shared<testing::FullDiskFileSystem>();
  AlertLogOptions options;
  options.path = dir;
  options.file_system_for_testing = fs;
  {
    auto log = AlertLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Append({Record("company/a", v1::Alert::FIRING)}).ok());
    fs->SetFull(true);
    EXPECT_FALSE((*log)->Append({Record("company/b", v1::Alert::FIRING)}).ok());
    EXPECT_EQ((*log)->head(), 1);
    // Still full: the next append fails without writing (a write into
    // RocksDB's failed WAL file would abort the process).
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<std::vector<v1::Alert>> again =
          (*log)->Append({Record("company/b", v1::Alert::FIRING)});
      EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
    }
    EXPECT_EQ((*log)->head(), 1);
    ASSERT_TRUE((*log)->Active().ok());
    fs->SetFull(false);
    auto written =
        AppendWhenSpaceIsBack(**log, Record("company/c", v1::Alert::FIRING));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ((*written)[0].sequence(), 2);
  }
  options.file_system_for_testing = nullptr;
  auto log = AlertLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->head(), 2);
  auto records = (*log)->Read(1, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].entity_id(), "company/a");
  EXPECT_EQ((*records)[1].entity_id(), "company/c");
}

// The disk is full before anything was written (a fresh log, or one whose
// memtable was just flushed): RocksDB's recovery has nothing to flush and
// clears its error at once while its WAL file is still the failed one, which
// the next write would hit (an assertion aborts the process). The log opens
// itself again instead; until that works, writes (and reads) answer
// UNAVAILABLE, and nothing is lost or numbered twice.
TEST(AlertLogTest, AFullDiskBeforeTheFirstWriteNeitherAbortsNorLosesTheLog) {
  const std::string dir = base::testing::MakeTempDir("alerts");
  auto fs = std::make_shared<testing::FullDiskFileSystem>();
  AlertLogOptions options;
  options.path = dir;
  options.file_system_for_testing = fs;
  {
    auto log = AlertLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    fs->SetFull(true);
    EXPECT_FALSE((*log)->Append({Record("company/a", v1::Alert::FIRING)}).ok());
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ((*log)
                    ->Append({Record("company/a", v1::Alert::FIRING)})
                    .status()
                    .code(),
                absl::StatusCode::kUnavailable);
    }
    EXPECT_EQ((*log)->head(), 0);
    fs->SetFull(false);
    auto written =
        AppendWhenSpaceIsBack(**log, Record("company/b", v1::Alert::FIRING));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ((*written)[0].sequence(), 1);
    auto active = (*log)->Active();
    ASSERT_TRUE(active.ok()) << active.status();
    EXPECT_EQ(active->size(), 1u);
  }
  options.file_system_for_testing = nullptr;
  auto log = AlertLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->head(), 1);
  auto records = (*log)->Read(1, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].entity_id(), "company/b");
}

}  // namespace
}  // namespace georisk::storage
