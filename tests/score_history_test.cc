// Score history end to end (issue #19): graphstore, ingest and scorer as
// processes on loopback. georiskctl imports the demo, then the example
// signal change data/examples/tension-rises.jsonl (cross-strait tension to
// 0.85); the scorer's history of a Taiwanese fab shows the move at the
// change's sequence with the tension signal as its reason, through
// GetScoreHistory and `georiskctl history --output json`; the scorer is
// killed with SIGKILL and restarted on the same data directory: the points
// are still there. Prints the history database's size per point.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::testing::HasSubstr;

constexpr char kFab[] = "facility/tsmc-hsinchu";

class ScoreHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("score_history");
    testing::StackOptions options;
    options.dir = dir_;
    options.scorer = true;
    // Ingest's own default: the demo arrives as one commit, so the change
    // after it is the first to move the fab.
    options.ingest_batch_size = 1000;
    auto stack = testing::ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    graphstore_ = stack_->graphstore();
    ingest_ = stack_->ingest();
    ConnectScorer();
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  void StartScorer() {
    absl::Status started = stack_->StartScorer();
    ASSERT_TRUE(started.ok()) << started;
    ConnectScorer();
  }

  void ConnectScorer() {
    scorer_ = stack_->scorer();
    stub_ = v1::Scorer::NewStub(grpc::CreateChannel(
        scorer_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  CommandResult Georiskctl(std::vector<std::string> args) {
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"),
                      std::move(args));
  }

  void Import(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"import"};
    for (const std::string& f : files) args.push_back(Runfile(f));
    args.push_back(absl::StrCat("--ingest=", ingest_->address()));
    args.push_back("--progress=none");
    CommandResult r = Georiskctl(args);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }

  int64_t LastSequence() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats.last_sequence();
  }

  // Polls until the fab's score reflects `sequence` (a point is recorded
  // only when the score moves, so the history's last point may be older),
  // then polls its history until it holds `points` points (the listeners
  // record them just after the engine is updated).
  v1::GetScoreHistoryResponse HistoryAt(int64_t sequence, int points) {
    v1::Score score;
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(kFab);
      if (stub_->GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    EXPECT_GE(score.graph_sequence(), sequence) << scorer_->Log();
    v1::GetScoreHistoryResponse response;
    grpc::Status s;
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      v1::GetScoreHistoryRequest request;
      request.set_entity_id(kFab);
      response.Clear();
      s = stub_->GetScoreHistory(&context, request, &response);
      if (s.ok() && response.points_size() >= points) break;
      absl::SleepFor(absl::Milliseconds(25));
    }
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  std::string dir_;
  std::unique_ptr<testing::ServiceStack> stack_;
  ServiceProcess* graphstore_ = nullptr;
  ServiceProcess* ingest_ = nullptr;
  ServiceProcess* scorer_ = nullptr;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  std::unique_ptr<v1::Scorer::Stub> stub_;
};

TEST_F(ScoreHistoryTest, SignalChangeIsAPointWithItsReasonAndSurvivesKill9) {
  Import({"data/demo/entities.jsonl", "data/demo/edges.jsonl",
          "data/demo/signals.jsonl"});
  const int64_t demo = LastSequence();
  v1::GetScoreHistoryResponse before = HistoryAt(demo, 1);
  ASSERT_GE(before.points_size(), 1);
  const double first = before.points(before.points_size() - 1).composite();

  Import({"data/examples/tension-rises.jsonl"});
  const int64_t change = LastSequence();
  ASSERT_GT(change, demo);
  v1::GetScoreHistoryResponse after = HistoryAt(change, 2);
  ASSERT_GE(after.points_size(), 2);
  const v1::ScoreHistoryPoint& moved = after.points(after.points_size() - 1);
  EXPECT_EQ(moved.graph_sequence(), change);
  EXPECT_GT(moved.composite(), first);
  EXPECT_THAT(moved.reason(), HasSubstr("ension")) << moved.DebugString();
  EXPECT_FALSE(moved.rebuild());

  CommandResult cli = Georiskctl({"history", kFab,
                                  absl::StrCat("--scorer=", scorer_->address()),
                                  "--output=json"});
  ASSERT_EQ(cli.code, 0) << cli.err;
  EXPECT_THAT(cli.out,
              HasSubstr(absl::StrCat("\"graph_sequence\": \"", change, "\"")));
  CommandResult table = Georiskctl(
      {"history", kFab, absl::StrCat("--scorer=", scorer_->address())});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("REASON"));

  // kill -9, restart on the same data directory: the points are there.
  absl::StatusOr<int> killed = scorer_->Stop(SIGKILL, absl::Seconds(30));
  ASSERT_TRUE(killed.ok()) << killed.status();
  StartScorer();
  v1::GetScoreHistoryResponse again = HistoryAt(change, after.points_size());
  ASSERT_EQ(again.points_size(), after.points_size());
  for (int i = 0; i < again.points_size(); ++i) {
    EXPECT_EQ(again.points(i).SerializeAsString(),
              after.points(i).SerializeAsString())
        << i;
  }

  // The history database's size on disk (RocksDB's WAL, manifest, options
  // and info log included: an upper figure for a small history).
  uintmax_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(
           dir_ + "/scorer/history")) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  std::printf("score history: %ju bytes on disk\n", bytes);
}

}  // namespace
}  // namespace georisk
