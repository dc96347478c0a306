// The scorer stops within its shutdown grace even while it catches up
// through a long backlog of graph changes (issue #15: it logged "stopped"
// and worked on for 150 s). The scorer is stopped, graphstore moves on by
// thousands of commits that rescore thousands of entities and raise and
// resolve alerts, the scorer restarts and catches up; SIGTERM in the middle
// of that must end the process within the documented grace (10 s). The
// changes it had received are durable in its copy of the graph: the next
// start resumes from there, follows on, and stops as promptly.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

// Taiwanese facilities whose cross-strait exposure moves with every commit
// (by 1.6 points: no alert), and a few whose revocation flips between 0.9
// and 0.1 (each flip fires or resolves their band and jump alerts).
constexpr int kQuiet = 2000;
constexpr int kAlerting = 20;
constexpr int kBacklog = 2000;
// The documented default --shutdown_grace; the test sets a shorter grace
// (2 s) and allows the whole default for the process to be gone.
constexpr absl::Duration kBound = absl::Seconds(10);

constexpr char kTension[] = "signal/cross-strait";

// The revocation of every alerting facility's authorisation.
v1::Mutation Revocation(double severity) {
  std::vector<std::string> targets;
  for (int i = 0; i < kAlerting; ++i) {
    targets.push_back(absl::StrCat("facility/alerting-", i));
  }
  return Upsert(Revoked("signal/veu", "US-BIS", targets, severity));
}

class ScorerShutdownTest : public ::testing::Test {
 protected:
  void StartScorer() {
    auto p = ServiceProcess::Start(
        {Runfile("services/scorer/scorer"),
         {"--data_dir=" + dir_ + "/scorer",
          "--graphstore=" + graphstore_->address(), "--shutdown_grace=2s"},
         dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    scorer_ = std::move(*p);
    ASSERT_TRUE(
        common::WaitForServing(scorer_->address(), "", absl::Seconds(120)).ok())
        << scorer_->Log();
    sc_ = v1::Scorer::NewStub(grpc::CreateChannel(
        scorer_->address(), grpc::InsecureChannelCredentials()));
  }

  int64_t Apply(std::vector<v1::Mutation> mutations) {
    v1::ApplyRequest request;
    for (auto& m : mutations) *request.add_mutations() = std::move(m);
    grpc::ClientContext context;
    v1::ApplyResponse response;
    grpc::Status s = gs_->Apply(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
  }

  // The graph sequence the scorer's scores reflect (0 if it cannot say).
  int64_t ScorerSequence() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetScoreRequest request;
    request.set_entity_id("facility/quiet-0");
    v1::Score score;
    return sc_->GetScore(&context, request, &score).ok()
               ? score.graph_sequence()
               : 0;
  }

  std::string dir_ = MakeTempDir("scorer-shutdown");
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
  std::unique_ptr<v1::Scorer::Stub> sc_;
};

TEST_F(ScorerShutdownTest, SigtermDuringCatchUpExitsWithinTheGrace) {
  auto gs =
      ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                             {"--data_dir=" + dir_ + "/gs", "--sync=false"},
                             dir_});
  ASSERT_TRUE(gs.ok()) << gs.status();
  graphstore_ = std::move(*gs);
  gs_ = v1::GraphStore::NewStub(grpc::CreateChannel(
      graphstore_->address(), grpc::InsecureChannelCredentials()));

  // The graph, and a scorer that has it.
  for (int start = 0; start < kQuiet; start += 1000) {
    std::vector<v1::Mutation> batch;
    for (int i = start; i < start + 1000 && i < kQuiet; ++i) {
      batch.push_back(
          Upsert(Facility(absl::StrCat("facility/quiet-", i), "TW")));
    }
    Apply(std::move(batch));
  }
  std::vector<v1::Mutation> alerting;
  for (int i = 0; i < kAlerting; ++i) {
    alerting.push_back(
        Upsert(Facility(absl::StrCat("facility/alerting-", i), "DE")));
  }
  alerting.push_back(Upsert(Tension(kTension, 0.5)));
  alerting.push_back(Revocation(0.1));
  const int64_t loaded = Apply(std::move(alerting));
  StartScorer();
  for (int i = 0; i < 2400 && ScorerSequence() < loaded; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_GE(ScorerSequence(), loaded) << scorer_->Log();
  ASSERT_EQ(*scorer_->Stop(SIGTERM, absl::Seconds(30)), 0);

  // The backlog.
  int64_t head = loaded;
  for (int i = 0; i < kBacklog; ++i) {
    const bool up = i % 2 == 0;
    head = Apply({Upsert(Tension(kTension, up ? 0.52 : 0.5)),
                  Revocation(up ? 0.9 : 0.1)});
  }

  // Restart: the scorer resumes from its copy of the graph and catches up.
  StartScorer();
  const absl::Time resumed = absl::Now();
  int64_t reached = ScorerSequence();
  for (int i = 0; i < 400 && reached < loaded + 20; ++i) {
    absl::SleepFor(absl::Milliseconds(25));
    reached = ScorerSequence();
  }
  const double rate = static_cast<double>(reached - loaded) /
                      absl::ToDoubleSeconds(absl::Now() - resumed);
  // Far from done: the rest of the backlog would take longer than the bound.
  ASSERT_LT(reached, head - 500)
      << "caught up too fast to test; rate " << rate << " commits/s";
  std::cerr << "SIGTERM at sequence " << reached << " of " << head << " ("
            << rate << " commits/s, so " << (head - reached) / rate
            << " s of backlog left)\n";

  const absl::Time signalled = absl::Now();
  absl::StatusOr<int> code = scorer_->Stop(SIGTERM, absl::Seconds(300));
  const absl::Duration took = absl::Now() - signalled;
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  std::cerr << "exited " << took << " after SIGTERM\n";
  EXPECT_LT(took, kBound) << scorer_->Log();

  // Nothing received is lost: the next start resumes from its copy of the
  // graph at or past where the scores were, follows on, and stops as
  // promptly.
  StartScorer();
  int64_t next = ScorerSequence();
  EXPECT_GE(next, reached);
  for (int i = 0; i < 1200 && next <= reached + 10; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    next = ScorerSequence();
  }
  EXPECT_GT(next, reached + 10) << scorer_->Log();
  // On a fast machine the restarted scorer may already be caught up; the
  // stop must be as prompt either way.
  if (next >= head) std::fprintf(stderr, "caught up before the second stop\n");
  const absl::Time again = absl::Now();
  code = scorer_->Stop(SIGTERM, absl::Seconds(300));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_LT(absl::Now() - again, kBound) << scorer_->Log();
  EXPECT_EQ(*graphstore_->Stop(SIGTERM, absl::Seconds(30)), 0);
}

}  // namespace
}  // namespace georisk
