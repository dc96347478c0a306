// The scheduler with an injected clock, a scripted runner and a real state
// store: due times, backoff, the state kept across a failure and a restart.
#include "services/ingest/source_scheduler.h"

#include <deque>
#include <memory>
#include <set>
#include <string>

#include "base/proto_time.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/source_state_store.h"

namespace georisk::ingest {
namespace {

using ::testing::HasSubstr;

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() {
    absl::StatusOr<std::vector<Source>> sources = ParseSourcesConfig(R"pb(
      sources {
        name: "csl"
        url: "http://x/csl.csv"
        interval: "1h"
        retry_initial: "1m"
        snapshot_source: "trade.gov/csl"
      }
      sources {
        name: "os"
        url: "http://x/delta.json"
        interval: "2h"
        delta: true
      }
    )pb");
    EXPECT_TRUE(sources.ok()) << sources.status();
    sources_ = *sources;
    OpenStore();
  }

  void OpenStore() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<SourceStateStore>> store =
        SourceStateStore::Open(dir_ + "/state");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::unique_ptr<SourceScheduler> Make() {
    SourceSchedulerOptions options;
    options.clock = [this] { return now_; };
    options.registry = &registry_;
    auto s = std::make_unique<SourceScheduler>(
        sources_, store_.get(),
        [this](const Source& source, const v1::SourceStatus& previous) {
          runs_.push_back(source.config.name());
          previous_.push_back(previous);
          now_ += absl::Seconds(10);  // A run takes time.
          if (outcomes_.empty()) return RunOutcome{};
          RunOutcome o = outcomes_.front();
          outcomes_.pop_front();
          return o;
        },
        options);
    EXPECT_TRUE(s->Load().ok());
    return s;
  }

  static RunOutcome Applied(int64_t records, int64_t changes,
                            std::string etag) {
    RunOutcome o;
    o.records = records;
    o.changes = changes;
    o.etag = std::move(etag);
    o.sha256 = "abc";
    return o;
  }
  static RunOutcome Failure(absl::Status status) {
    RunOutcome o;
    o.status = std::move(status);
    return o;
  }
  static v1::SourceStatus Find(const std::vector<v1::SourceStatus>& all,
                               const std::string& name) {
    for (const v1::SourceStatus& s : all) {
      if (s.name() == name) return s;
    }
    return {};
  }

  std::string dir_ = base::testing::MakeTempDir("scheduler");
  std::vector<Source> sources_;
  std::unique_ptr<SourceStateStore> store_;
  common::MetricsRegistry registry_;
  absl::Time now_ = absl::FromUnixSeconds(1796565600);  // 2026-12-06 14:00
  std::vector<std::string> runs_;
  std::vector<v1::SourceStatus> previous_;
  std::deque<RunOutcome> outcomes_;
};

TEST_F(SchedulerTest, RunsNewSourcesAtOnceThenEveryInterval) {
  auto scheduler = Make();
  outcomes_ = {Applied(100, 100, "\"v1\""), Applied(7, 7, "")};
  EXPECT_EQ(scheduler->RunDue(), 2);
  EXPECT_THAT(runs_, ::testing::ElementsAre("csl", "os"));
  const absl::Time csl_done = absl::FromUnixSeconds(1796565600 + 10);
  v1::SourceStatus csl = Find(scheduler->List(), "csl");
  EXPECT_EQ(base::FromProtoTime(csl.last_success()), csl_done);
  EXPECT_EQ(base::FromProtoTime(csl.next_run()), csl_done + absl::Hours(1));
  EXPECT_EQ(csl.records(), 100);
  EXPECT_EQ(csl.etag(), "\"v1\"");
  EXPECT_FALSE(csl.failing());
  EXPECT_FALSE(csl.in_progress());
  EXPECT_EQ(csl.mode(), "snapshot trade.gov/csl");
  EXPECT_EQ(Find(scheduler->List(), "os").mode(), "delta");

  // Nothing is due 59 minutes later; at the hour, csl only.
  now_ = csl_done + absl::Minutes(59);
  EXPECT_EQ(scheduler->RunDue(), 0);
  now_ = csl_done + absl::Hours(1);
  outcomes_ = {Applied(101, 2, "\"v2\"")};
  EXPECT_EQ(scheduler->RunDue(), 1);
  EXPECT_EQ(runs_.back(), "csl");
  // The runner saw the previous success's validators.
  EXPECT_EQ(previous_.back().etag(), "\"v1\"");
  EXPECT_EQ(previous_.back().records(), 100);
}

TEST_F(SchedulerTest, AFailureKeepsTheLastSuccessAndBacksOff) {
  auto scheduler = Make();
  outcomes_ = {Applied(100, 100, "\"v1\""), Applied(7, 7, "")};
  scheduler->RunDue();
  const v1::SourceStatus before = Find(scheduler->List(), "csl");

  // Failures 1, 2, 3 wait 1m, 2m, 4m; the cap is the interval (1h).
  absl::Duration expected[] = {
      absl::Minutes(1),  absl::Minutes(2),  absl::Minutes(4), absl::Minutes(8),
      absl::Minutes(16), absl::Minutes(32), absl::Hours(1),   absl::Hours(1)};
  for (int i = 0; i < 8; ++i) {
    outcomes_ = {Failure(absl::UnavailableError("http://x/csl.csv: HTTP 500"))};
    absl::StatusOr<v1::SourceStatus> s = scheduler->RunNow("csl");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(s->failing());
    EXPECT_EQ(s->error(), "UNAVAILABLE: http://x/csl.csv: HTTP 500");
    EXPECT_EQ(s->consecutive_failures(), i + 1);
    EXPECT_EQ(base::FromProtoTime(s->next_run()),
              base::FromProtoTime(s->last_attempt()) + absl::Seconds(10) +
                  expected[i])
        << i;
    // What was applied stays: records, validators, last success.
    EXPECT_EQ(s->records(), 100);
    EXPECT_EQ(s->etag(), "\"v1\"");
    EXPECT_EQ(s->last_success().seconds(), before.last_success().seconds());
  }
  // A success clears the error and the count.
  outcomes_ = {Applied(100, 0, "\"v1\"")};
  absl::StatusOr<v1::SourceStatus> s = scheduler->RunNow("csl");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->failing());
  EXPECT_EQ(s->error(), "");
  EXPECT_EQ(s->consecutive_failures(), 0);
  EXPECT_EQ(s->failures_total(), 8);

  const std::string metrics = registry_.Render();
  EXPECT_THAT(metrics,
              HasSubstr("georisk_source_failures_total{source=\"csl\"} 8"));
  EXPECT_THAT(metrics, HasSubstr("georisk_source_records{source=\"csl\"} 100"));
  EXPECT_THAT(metrics, HasSubstr("georisk_source_failing{source=\"csl\"} 0"));
  EXPECT_THAT(
      metrics,
      HasSubstr("georisk_source_interval_seconds{source=\"csl\"} 3600"));
  EXPECT_THAT(
      metrics,
      HasSubstr(
          "georisk_source_runs_total{source=\"csl\",outcome=\"failed\"} 8"));
}

TEST_F(SchedulerTest, RunNowValidatesTheName) {
  auto scheduler = Make();
  EXPECT_EQ(scheduler->RunNow("nope").status().code(),
            absl::StatusCode::kNotFound);
  scheduler->Shutdown();
  EXPECT_EQ(scheduler->RunNow("csl").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(SchedulerTest, RunNowAsyncCallsBackWithTheRunsState) {
  auto scheduler = Make();
  absl::Mutex mu;
  std::vector<v1::SourceStatus> seen;
  for (int i = 0; i < 3; ++i) {
    outcomes_.push_back(Applied(5 + i, 1, ""));
  }
  for (int i = 0; i < 3; ++i) {
    scheduler->RunNowAsync("csl", [&](absl::StatusOr<v1::SourceStatus> s) {
      ASSERT_TRUE(s.ok()) << s.status();
      absl::MutexLock lock(&mu);
      seen.push_back(*s);
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::vector<v1::SourceStatus>* s) { return s->size() == 3; },
            &seen),
        absl::Seconds(30));
  }
  scheduler->Shutdown();  // Joins the threads.
  ASSERT_EQ(seen.size(), 3u);
  std::set<int64_t> records;
  for (const v1::SourceStatus& s : seen) records.insert(s.records());
  EXPECT_EQ(records, (std::set<int64_t>{5, 6, 7}));
}

TEST_F(SchedulerTest, StateSurvivesARestartAndAnInterruptedRunIsRedone) {
  {
    auto scheduler = Make();
    outcomes_ = {Applied(100, 100, "\"v1\""), Applied(7, 7, "")};
    scheduler->RunDue();
  }
  OpenStore();
  {
    auto scheduler = Make();
    v1::SourceStatus csl = Find(scheduler->List(), "csl");
    EXPECT_EQ(csl.records(), 100);
    EXPECT_EQ(csl.etag(), "\"v1\"");
    // Not due: the restart keeps the schedule.
    EXPECT_EQ(scheduler->RunDue(), 0);
  }
  // A run that was stored in progress (ingest killed mid-import).
  absl::StatusOr<std::optional<v1::SourceStatus>> stored = store_->Get("os");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  v1::SourceStatus os = **stored;
  os.set_in_progress(true);
  ASSERT_TRUE(store_->Put(os).ok());
  OpenStore();
  auto scheduler = Make();
  runs_.clear();
  EXPECT_EQ(scheduler->RunDue(), 1);
  EXPECT_THAT(runs_, ::testing::ElementsAre("os"));
  EXPECT_FALSE(Find(scheduler->List(), "os").in_progress());
}

TEST_F(SchedulerTest, TheBackgroundThreadRunsDueSources) {
  auto scheduler = Make();
  scheduler->Start();
  for (int i = 0;
       i < 500 && Find(scheduler->List(), "os").last_success().seconds() == 0;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  scheduler->Shutdown();
  EXPECT_GT(Find(scheduler->List(), "csl").last_success().seconds(), 0);
  EXPECT_GT(Find(scheduler->List(), "os").last_success().seconds(), 0);
}

}  // namespace
}  // namespace georisk::ingest
