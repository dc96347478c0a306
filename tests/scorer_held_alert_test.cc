// A held alert update survives a scorer restart (issue #15). With a jump
// rule whose coalesce window is 20 s: a jump 24 -> 48 fires, a second jump
// to 72 within the window is held, the scorer is killed (kill -9, or SIGTERM)
// before the window ends and restarted; when the window ends the held update
// (48 -> 72) is emitted: a record on WatchAlerts and a POST that a real
// Alertmanager then lists. Before the fix the held update was lost and
// Alertmanager kept 24 -> 48.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/alertmanager.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::FindAlert;
using ::georisk::testing::ListAlerts;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::StartAlertmanager;
using ::georisk::testing::StringMap;

constexpr char kFab[] = "facility/held-fab";
constexpr int kWindowSeconds = 20;

// Only a jump rule, with a window long enough for a restart inside it.
constexpr char kModelConfig[] = R"pb(
  version: "held-alert-test"
  alert_rules {
    name: "risk_jump"
    jump {
      min_points: 10
      resolve_after { seconds: 3600 }
    }
    coalesce_window { seconds: 20 }
    severity: SEVERITY_INFO
  }
)pb";

// The revocation of the held fab's authorisation.
v1::Mutation Revocation(double severity) {
  return Upsert(Revoked("signal/veu-held-fab", "US-BIS", {kFab}, severity));
}

class ScorerHeldAlertTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (access(testing::kAlertmanagerBinary, X_OK) != 0) {
      GTEST_FAIL() << testing::kAlertmanagerBinary
                   << " is missing: deploy/install-deps.sh installs it";
    }
    auto am = StartAlertmanager("alertmanager");
    ASSERT_TRUE(am.ok()) << am.status();
    am_ = std::move(*am);
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

  void StartScorer() {
    auto p = ServiceProcess::Start(
        {Runfile("services/scorer/scorer"),
         {"--data_dir=" + dir_ + "/scorer",
          "--graphstore=" + graphstore_->address(),
          "--model_config=" + dir_ + "/model.textproto",
          "--alertmanager_url=" + am_.url, "--alertmanager_resend_interval=2s"},
         dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    scorer_ = std::move(*p);
    ASSERT_TRUE(
        common::WaitForServing(scorer_->address(), "", absl::Seconds(60)).ok())
        << scorer_->Log();
    auto channel = grpc::CreateChannel(scorer_->address(),
                                       grpc::InsecureChannelCredentials());
    sc_ = v1::Scorer::NewStub(channel);
    alerts_ = v1::Alerts::NewStub(channel);
  }

  int64_t Apply(std::vector<v1::Mutation> mutations) {
    v1::ApplyRequest request;
    for (auto& m : mutations) *request.add_mutations() = m;
    grpc::ClientContext context;
    v1::ApplyResponse response;
    grpc::Status s = gs_->Apply(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
  }

  // Polls until the scorer's score of kFab reflects `sequence`.
  double CompositeAt(int64_t sequence) {
    for (int i = 0; i < 1200; ++i) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(kFab);
      v1::Score score;
      if (sc_->GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        return score.composite();
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << "never reached sequence " << sequence << "\n"
                  << scorer_->Log();
    return -1;
  }

  // Alert records from `from` on, until `n` arrived or `timeout` passed.
  std::vector<v1::Alert> WatchAlerts(int64_t from, size_t n,
                                     absl::Duration timeout) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    v1::WatchAlertsRequest request;
    request.set_from_sequence(from);
    auto reader = alerts_->WatchAlerts(&context, request);
    std::vector<v1::Alert> out;
    v1::WatchAlertsResponse response;
    while (out.size() < n && reader->Read(&response)) {
      for (const auto& a : response.alerts()) out.push_back(a);
    }
    context.TryCancel();
    reader->Finish();
    return out;
  }

  // Alertmanager's summary of the jump alert ("" while it lists none).
  std::string AlertmanagerSummary() {
    auto listed = ListAlerts(am_.url, "?active=true");
    if (!listed.ok()) return "";
    const google::protobuf::Struct* a = FindAlert(*listed, kFab, "risk_jump");
    return a == nullptr ? "" : StringMap(*a, "annotations")["summary"];
  }

  std::string dir_ = MakeTempDir("scorer-held");
  testing::Alertmanager am_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
  std::unique_ptr<v1::Scorer::Stub> sc_;
  std::unique_ptr<v1::Alerts::Stub> alerts_;
};

TEST_P(ScorerHeldAlertTest,
       AHeldUpdateIsEmittedWhenItsWindowEndsAfterARestart) {
  const int kill_signal = GetParam();
  StartScorer();
  const v1::Mutation fab = Upsert(Facility(kFab, "DE"));
  // A new entity has not moved: 24, no alert.
  int64_t seq = Apply({fab, Revocation(0.24)});
  EXPECT_NEAR(CompositeAt(seq), 24, 1e-9);

  // 24 -> 48: the jump fires.
  seq = Apply({Revocation(0.48)});
  EXPECT_NEAR(CompositeAt(seq), 48, 1e-9);
  std::vector<v1::Alert> fired = WatchAlerts(1, 1, absl::Seconds(20));
  ASSERT_EQ(fired.size(), 1u) << scorer_->Log();
  EXPECT_EQ(fired[0].rule_name(), "risk_jump");
  EXPECT_EQ(fired[0].state(), v1::Alert::FIRING);
  EXPECT_NEAR(fired[0].score_after(), 48, 1e-9);
  const absl::Time fired_at = base::FromProtoTime(fired[0].update_time());

  // 48 -> 72 inside the window: held, not emitted.
  seq = Apply({Revocation(0.72)});
  EXPECT_NEAR(CompositeAt(seq), 72, 1e-9);
  const int64_t after_fire = fired[0].sequence() + 1;
  EXPECT_TRUE(WatchAlerts(after_fire, 1, absl::Seconds(1)).empty());
  // Alertmanager shows the fire.
  std::string summary;
  for (int i = 0; i < 400 && !absl::StrContains(summary, "48.0"); ++i) {
    summary = AlertmanagerSummary();
    if (!absl::StrContains(summary, "48.0")) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  EXPECT_TRUE(absl::StrContains(summary, "24.0 \u2192 48.0")) << summary;

  // The scorer dies inside the window and comes back.
  ASSERT_LT(absl::Now(), fired_at + absl::Seconds(kWindowSeconds))
      << "too slow to restart inside the window";
  absl::StatusOr<int> code = scorer_->Stop(kill_signal, absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, kill_signal == SIGKILL ? 128 + SIGKILL : 0);
  StartScorer();

  // The held update comes out when the window ends: on WatchAlerts...
  std::vector<v1::Alert> update =
      WatchAlerts(after_fire, 1, absl::Seconds(kWindowSeconds + 30));
  ASSERT_EQ(update.size(), 1u) << scorer_->Log();
  EXPECT_EQ(update[0].alert_id(), absl::StrCat(kFab, "|risk_jump"));
  EXPECT_EQ(update[0].state(), v1::Alert::FIRING);
  EXPECT_NEAR(update[0].score_before(), 48, 1e-9);
  EXPECT_NEAR(update[0].score_after(), 72, 1e-9);
  EXPECT_EQ(update[0].graph_sequence(), seq);
  // Made at the feed position the restarted scorer had reached: the
  // change that made it, the last one.
  EXPECT_EQ(update[0].feed_position(), seq);
  EXPECT_GT(update[0].sequence(), fired[0].sequence());
  EXPECT_GE(base::FromProtoTime(update[0].update_time()),
            fired_at + absl::Seconds(kWindowSeconds));
  EXPECT_EQ(base::FromProtoTime(update[0].start_time()),
            base::FromProtoTime(fired[0].start_time()));

  // ... and at Alertmanager, which now shows 48 -> 72.
  for (int i = 0; i < 600 && !absl::StrContains(summary, "72.0"); ++i) {
    summary = AlertmanagerSummary();
    if (!absl::StrContains(summary, "72.0")) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  EXPECT_TRUE(absl::StrContains(summary, "48.0 \u2192 72.0")) << summary;

  // Emitted once: nothing more is held.
  EXPECT_TRUE(
      WatchAlerts(update[0].sequence() + 1, 1, absl::Seconds(3)).empty());
  EXPECT_EQ(*scorer_->Stop(SIGTERM, absl::Seconds(30)), 0);
  EXPECT_EQ(*am_.process->Stop(SIGTERM, absl::Seconds(20)), 0);
}

INSTANTIATE_TEST_SUITE_P(KillAndTerm, ScorerHeldAlertTest,
                         ::testing::Values(SIGKILL, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGKILL ? "Sigkill" : "Sigterm";
                         });

}  // namespace
}  // namespace georisk
