// Scorer replicas that agree (issue #17): two scorers follow one graphstore
// and number their alert logs alike, because an alert's sequence derives
// from the feed position that made it (storage::AlertSequence), not from a
// counter of the replica. A watcher on replica A, killed with -9 in the
// middle of the stream while the graph keeps changing, resumes on replica B
// from the last sequence it saw plus one: what it got from A and then from
// B is, past the records A made before B started, B's whole log, with no gap
// and no duplicate, record for record.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/alert_log.h"
#include "tests/testing/alert_watch.h"
#include "tests/testing/process.h"

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

// Only a jump rule, nothing held: every jump is one record at once.
constexpr char kModelConfig[] = R"pb(
  version: "replicas-test"
  alert_rules {
    name: "risk_jump"
    jump {
      min_points: 10
      resolve_after { seconds: 3600 }
    }
    severity: SEVERITY_INFO
  }
)pb";

constexpr int kFabs = 3;
// Commits after the fabs exist; each moves every fab by 48 points, so each
// makes kFabs records (a fire, then updates). The first kEarlySteps are
// committed before replica B starts: B bootstraps from a snapshot after
// them, and its log never holds their records, which A's does. A counter of
// the replica would then number B's records kEarlySteps * kFabs lower than
// A's, and the resumed watch would skip that many.
constexpr int kSteps = 24;
constexpr int kEarlySteps = 4;
constexpr size_t kRecords = kFabs * kSteps;
constexpr size_t kEarlyRecords = kFabs * kEarlySteps;

std::string Fab(int i) { return absl::StrCat("facility/replica-fab-", i); }

v1::ApplyRequest Step(double severity) {
  v1::ApplyRequest request;
  for (int i = 0; i < kFabs; ++i) {
    *request.add_mutations() =
        Upsert(Revoked(absl::StrCat("signal/veu-replica-fab-", i), "US-BIS",
                       {Fab(i)}, severity));
  }
  return request;
}

class ScorerReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gs =
        ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                               {"--data_dir=" + dir_ + "/gs", "--sync=false"},
                               dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    gs_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
    const std::string config = dir_ + "/model.textproto";
    FILE* f = fopen(config.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(kModelConfig, f);
    fclose(f);
  }

  // A scorer with its data and its log in `dir_`/`name`.
  std::unique_ptr<ServiceProcess> StartScorer(const std::string& name) {
    std::filesystem::create_directories(dir_ + "/" + name);
    auto p =
        ServiceProcess::Start({Runfile("services/scorer/scorer"),
                               {"--data_dir=" + dir_ + "/" + name,
                                "--graphstore=" + graphstore_->address(),
                                "--model_config=" + dir_ + "/model.textproto"},
                               dir_ + "/" + name});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    EXPECT_TRUE(
        common::WaitForServing((*p)->address(), "", absl::Seconds(60)).ok())
        << (*p)->Log();
    return *std::move(p);
  }

  int64_t Apply(const v1::ApplyRequest& request) {
    grpc::ClientContext context;
    v1::ApplyResponse response;
    grpc::Status s = gs_->Apply(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
  }

  std::string dir_ = MakeTempDir("scorer-replicas");
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
};

TEST_F(ScorerReplicasTest, AWatcherResumesOnTheOtherReplicaWithNoGapNoDup) {
  std::unique_ptr<ServiceProcess> a = StartScorer("scorer-a");
  ASSERT_TRUE(a != nullptr);

  // The fabs at 24: new entities have not moved, no alert.
  v1::ApplyRequest fabs;
  for (int i = 0; i < kFabs; ++i) {
    *fabs.add_mutations() = Upsert(Facility(Fab(i), "DE"));
  }
  const v1::ApplyRequest at_24 = Step(0.24);
  for (const v1::Mutation& m : at_24.mutations()) *fabs.add_mutations() = m;
  Apply(fabs);
  auto step = [&](int s) { Apply(Step(s % 2 == 0 ? 0.72 : 0.24)); };
  for (int s = 0; s < kEarlySteps; ++s) step(s);
  std::unique_ptr<ServiceProcess> b = StartScorer("scorer-b");
  ASSERT_TRUE(b != nullptr);

  // The graph moves while the watcher reads A (up to half of the steps),
  // and on after A is killed (the second half).
  absl::Notification killed;
  std::thread writer([&] {
    for (int s = kEarlySteps; s < kSteps; ++s) {
      if (s == kSteps / 2) killed.WaitForNotification();
      step(s);
      absl::SleepFor(absl::Milliseconds(20));
    }
  });

  absl::Mutex mu;
  std::vector<v1::Alert> seen;
  auto alerts_a = AlertsOf(*a);
  grpc::Status on_a;
  std::thread watcher([&] {
    on_a = WatchAlertsInto(alerts_a.get(), 1, kRecords, absl::Seconds(60), &mu,
                           &seen);
  });
  // Mid-stream: a third of the records delivered (beyond the early ones),
  // at most half of them written.
  auto delivered = [&] {
    absl::MutexLock lock(&mu);
    return seen.size();
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (delivered() < kRecords / 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const size_t before_kill = delivered();
  absl::StatusOr<int> code = a->Stop(SIGKILL, absl::Seconds(10));
  killed.Notify();
  watcher.join();
  writer.join();
  ASSERT_GE(before_kill, kRecords / 3) << a->Log();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 128 + SIGKILL);
  EXPECT_FALSE(on_a.ok()) << "the stream on A should break when A dies";
  const size_t from_a = delivered();
  // At most the first half's records came from A.
  ASSERT_LE(from_a, kRecords / 2);

  // Resume on B from the last sequence seen + 1.
  const int64_t last = seen.back().sequence();
  auto alerts_b = AlertsOf(*b);
  grpc::Status on_b = WatchAlertsInto(alerts_b.get(), last + 1, kRecords,
                                      absl::Seconds(60), &mu, &seen);
  EXPECT_TRUE(on_b.ok() || on_b.error_code() == grpc::StatusCode::CANCELLED)
      << on_b.error_message();
  ASSERT_EQ(seen.size(), kRecords) << b->Log();

  // B's whole log, read afresh from its start: every record after the early
  // ones, under the sequences A gave them.
  absl::Mutex full_mu;
  std::vector<v1::Alert> full;
  WatchAlertsInto(alerts_b.get(), 1, kRecords - kEarlyRecords,
                  absl::Seconds(30), &full_mu, &full);
  ASSERT_EQ(full.size(), kRecords - kEarlyRecords);
  EXPECT_GT(seen[kEarlyRecords].sequence(), seen[kEarlyRecords - 1].sequence());
  for (size_t i = kEarlyRecords; i < kRecords; ++i) {
    EXPECT_EQ(AlertKey(seen[i]), AlertKey(full[i - kEarlyRecords]))
        << "record " << i << (i < from_a ? " (from A)" : " (from B)");
  }
  // The numbering is the feed's: each commit's records start at its base.
  for (size_t i = 0; i < full.size(); i += kFabs) {
    EXPECT_EQ(full[i].feed_position(), full[i].graph_sequence());
    EXPECT_EQ(full[i].sequence(),
              full[i].feed_position() * storage::kAlertRecordsPerPosition);
    EXPECT_EQ(full[i + kFabs - 1].sequence(), full[i].sequence() + kFabs - 1);
  }
  EXPECT_EQ(*b->Stop(SIGTERM, absl::Seconds(30)), 0);
  EXPECT_EQ(*graphstore_->Stop(SIGTERM, absl::Seconds(30)), 0);
}

}  // namespace
}  // namespace georisk
