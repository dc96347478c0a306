// Scorer replicas that agree when the graph is partitioned (issue #17,
// docs/scale-out.md "Replicas that agree"): two scorers follow the same 3
// graphstore shards, and each applies the shards' changes in one order that
// depends on the changes alone (services/scorer/feed_merge.h), so the same
// change gets the same merged position on both and their alert logs are
// numbered alike.
//
// The test makes the orders differ if anything but the changes decided
// them: every step commits on all three shards at once (one ingest batch,
// split by shard), replica A scores them live, and replica B is stopped for
// a stretch of steps and then catches up from its cursors, reading three
// backlogs at once. A watcher on A, killed with -9 mid-stream while the
// graph keeps changing, resumes on B from the last sequence it saw plus one:
// what it got from A and then from B is B's whole log, record for record,
// with no gap and no duplicate, and no change was forced through the merge.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/alert_log.h"
#include "storage/partition_map.h"
#include "tests/testing/alert_watch.h"
#include "tests/testing/process.h"
#include "tests/testing/sharded_graph.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::AlertKey;
using ::georisk::testing::AlertsOf;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::WatchAlertsInto;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;

// Only a jump rule, nothing held: every jump is one record at once.
constexpr char kModelConfig[] = R"pb(
  version: "replicas-shards-test"
  alert_rules {
    name: "risk_jump"
    jump {
      min_points: 10
      resolve_after { seconds: 3600 }
    }
    severity: SEVERITY_INFO
  }
)pb";

// Steps 0..kSteps-1 move every fab by 48 points (one record per fab). B is
// stopped during steps [kBStopped, kBBack) and catches up on them; A is
// killed once the watcher has seen the records up to about kKillAfter.
constexpr int kSteps = 24;
constexpr int kBStopped = 4;
constexpr int kBBack = 12;
constexpr int kKillAfter = 16;

class ScorerReplicasShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ShardedGraphOptions options;
    options.dir = dir_;
    options.map = kMap;
    options.shards = kShards;
    auto graph = testing::ShardedGraph::Start(options);
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = *std::move(graph);
    ingest_ = v1::Ingest::NewStub(grpc::CreateChannel(
        graph_->ingest()->address(), grpc::InsecureChannelCredentials()));
    std::ofstream(dir_ + "/model.textproto") << kModelConfig;
    // One fab on each shard, so that every step commits on every shard.
    const storage::PartitionMap map = *storage::PartitionMap::Parse(kMap);
    for (int k = 0; static_cast<int>(fabs_.size()) < kShards; ++k) {
      const std::string id = absl::StrCat("facility/replica-fab-", k);
      const int shard = map.ShardOf(id);
      bool taken = false;
      for (const std::string& f : fabs_) taken |= map.ShardOf(f) == shard;
      if (!taken) fabs_.push_back(id);
    }
  }

  std::unique_ptr<ServiceProcess> StartScorer(const std::string& name) {
    std::filesystem::create_directories(dir_ + "/" + name);
    auto p =
        ServiceProcess::Start({Runfile("services/scorer/scorer"),
                               {"--data_dir=" + dir_ + "/" + name,
                                "--graphstore_shards=" + graph_->targets(),
                                "--model_config=" + dir_ + "/model.textproto"},
                               dir_ + "/" + name});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    EXPECT_TRUE(
        common::WaitForServing((*p)->address(), "", absl::Seconds(60)).ok())
        << (*p)->Log();
    return *std::move(p);
  }

  // Every fab's signal at `severity`: one batch, one commit per shard.
  void Step(double severity) {
    v1::IngestBatchRequest request;
    for (const std::string& fab : fabs_) {
      *request.add_records() =
          Upsert(Revoked(absl::StrCat("signal/veu-", fab.substr(9)), "US-BIS",
                         {fab}, severity));
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::IngestBatchResponse response;
    const grpc::Status s = ingest_->IngestBatch(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.summary().accepted(), kShards);
  }
  void StepNumber(int s) { Step(s % 2 == 0 ? 0.72 : 0.24); }

  // Waits until `scorer` has applied every shard's head.
  void WaitCaughtUp(const ServiceProcess& scorer) {
    auto stub = v1::Scorer::NewStub(grpc::CreateChannel(
        scorer.address(), grpc::InsecureChannelCredentials()));
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    v1::FeedStatus status;
    while (absl::Now() < give_up) {
      grpc::ClientContext context;
      status.Clear();
      if (stub->GetFeedStatus(&context, v1::GetFeedStatusRequest(), &status)
              .ok() &&
          status.shards_size() == kShards &&
          status.applied_sequence() == Heads()) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "not caught up: " << status.ShortDebugString();
  }

  // The sum of the shards' last sequences.
  int64_t Heads() {
    int64_t sum = 0;
    for (int i = 0; i < kShards; ++i) {
      auto gs = v1::GraphStore::NewStub(grpc::CreateChannel(
          graph_->listen(i), grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      v1::GetStatsResponse stats;
      EXPECT_TRUE(gs->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
      sum += stats.last_sequence();
    }
    return sum;
  }

  static double Metric(const ServiceProcess& p, absl::string_view name) {
    absl::StatusOr<testing::HttpResult> got =
        testing::HttpGet(p.metrics_port(), "/metrics");
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return -1;
    for (absl::string_view line : absl::StrSplit(got->body, '\n')) {
      if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " "))
        continue;
      double v = -1;
      EXPECT_TRUE(absl::SimpleAtod(line, &v)) << line;
      return v;
    }
    ADD_FAILURE() << name << " not in /metrics";
    return -1;
  }

  std::string dir_ = MakeTempDir("scorer-replicas-shards");
  std::unique_ptr<testing::ShardedGraph> graph_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  std::vector<std::string> fabs_;
};

TEST_F(ScorerReplicasShardsTest, TheReplicasNumberAlikeAndAWatchResumes) {
  const size_t kRecords = kShards * kSteps;
  // The fabs at 24: new entities have not moved, no alert.
  {
    v1::IngestBatchRequest request;
    for (const std::string& fab : fabs_) {
      *request.add_records() = Upsert(Facility(fab, "DE"));
    }
    grpc::ClientContext context;
    v1::IngestBatchResponse response;
    ASSERT_TRUE(ingest_->IngestBatch(&context, request, &response).ok());
    ASSERT_EQ(response.summary().accepted(), kShards);
  }
  Step(0.24);
  std::unique_ptr<ServiceProcess> a = StartScorer("scorer-a");
  std::unique_ptr<ServiceProcess> b = StartScorer("scorer-b");
  ASSERT_TRUE(a != nullptr && b != nullptr);
  for (int s = 0; s < kBStopped; ++s) StepNumber(s);
  WaitCaughtUp(*a);
  WaitCaughtUp(*b);
  // B stops (cleanly: it has applied every change) for a stretch of steps.
  ASSERT_EQ(*b->Stop(SIGTERM, absl::Seconds(30)), 0);
  for (int s = kBStopped; s < kBBack; ++s) {
    StepNumber(s);
    absl::SleepFor(absl::Milliseconds(10));
  }
  WaitCaughtUp(*a);

  absl::Mutex mu;
  std::vector<v1::Alert> seen;
  auto alerts_a = AlertsOf(*a);
  grpc::Status on_a;
  std::thread watcher([&] {
    on_a = WatchAlertsInto(alerts_a.get(), 1, kRecords, absl::Seconds(60), &mu,
                           &seen);
  });
  // B returns and catches up on three backlogs while the graph moves on.
  absl::Notification killed;
  std::thread writer([&] {
    for (int s = kBBack; s < kSteps; ++s) {
      if (s == kKillAfter + 2) killed.WaitForNotification();
      StepNumber(s);
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  b = StartScorer("scorer-b");
  ASSERT_TRUE(b != nullptr);
  auto delivered = [&] {
    absl::MutexLock lock(&mu);
    return seen.size();
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (delivered() < kShards * kKillAfter && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const size_t before_kill = delivered();
  absl::StatusOr<int> code = a->Stop(SIGKILL, absl::Seconds(10));
  killed.Notify();
  watcher.join();
  writer.join();
  ASSERT_GE(before_kill, size_t{kShards * kKillAfter}) << a->Log();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_FALSE(on_a.ok()) << "the stream on A should break when A dies";
  const size_t from_a = delivered();
  ASSERT_LT(from_a, kRecords);

  // Resume on B from the last sequence seen + 1.
  const int64_t last = seen.back().sequence();
  auto alerts_b = AlertsOf(*b);
  grpc::Status on_b = WatchAlertsInto(alerts_b.get(), last + 1, kRecords,
                                      absl::Seconds(60), &mu, &seen);
  EXPECT_TRUE(on_b.ok() || on_b.error_code() == grpc::StatusCode::CANCELLED)
      << on_b.error_message();
  ASSERT_EQ(seen.size(), kRecords) << b->Log();

  // B's whole log, from its start: the same records under the same
  // sequences, those it made live, those it made catching up, and those
  // made after A died.
  absl::Mutex full_mu;
  std::vector<v1::Alert> full;
  WatchAlertsInto(alerts_b.get(), 1, kRecords, absl::Seconds(30), &full_mu,
                  &full);
  ASSERT_EQ(full.size(), kRecords);
  for (size_t i = 0; i < kRecords; ++i) {
    EXPECT_EQ(AlertKey(seen[i]), AlertKey(full[i]))
        << "record " << i << (i < from_a ? " (from A)" : " (from B)");
  }
  // Each record's sequence is its position's base plus its rank, and the
  // positions only grow.
  for (size_t i = 0; i < full.size(); ++i) {
    EXPECT_EQ(full[i].sequence() / storage::kAlertRecordsPerPosition,
              full[i].feed_position())
        << i;
    // The position is the sum of the shards' cursors the record carries.
    ASSERT_EQ(full[i].feed_positions_size(), kShards) << i;
    int64_t sum = 0;
    for (const v1::GraphPosition& p : full[i].feed_positions()) {
      sum += p.sequence();
    }
    EXPECT_EQ(sum, full[i].feed_position()) << i;
    if (i > 0) EXPECT_GT(full[i].sequence(), full[i - 1].sequence()) << i;
  }
  EXPECT_EQ(Metric(*b, "georisk_scorer_feed_merge_forced_total"), 0);
  EXPECT_EQ(*b->Stop(SIGTERM, absl::Seconds(30)), 0);
}

}  // namespace
}  // namespace georisk
