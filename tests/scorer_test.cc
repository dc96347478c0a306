// graphstore and scorer as real processes: the scorer answers UNAVAILABLE
// (with a retry hint) until it has the graph, then scores, explains, streams
// score changes, runs scenarios without touching live scores, resumes from
// its own copy of the graph after a restart, and its alert log can be
// watched across that restart without losing or repeating a record.
#include <signal.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/testing/builders.h"
#include "georisk/v1/alerts.grpc.pb.h"
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
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::PickFreePort;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

// BIS's revocation of `target`'s VEU authorisation (90 FR 42321).
v1::Mutation Revocation(const std::string& id, const std::string& target,
                        double severity) {
  return Upsert(
      WithSource(Revoked(id, "US-BIS", {target}, severity), "90 FR 42321"));
}

class ScorerTest : public ::testing::Test {
 protected:
  void StartGraphstore() {
    auto p =
        ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                               {"--data_dir=" + dir_ + "/gs", "--sync=false"},
                               dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    graphstore_ = std::move(*p);
    gs_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  void StartScorer(const std::string& graphstore_address) {
    auto p = ServiceProcess::Start({Runfile("services/scorer/scorer"),
                                    {"--data_dir=" + dir_ + "/scorer",
                                     "--graphstore=" + graphstore_address},
                                    dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    scorer_ = std::move(*p);
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

  grpc::Status GetScore(const std::string& id, v1::Score* score,
                        std::string* pushback = nullptr) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    grpc::Status s = sc_->GetScore(&context, request, score);
    if (pushback != nullptr) {
      auto it =
          context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
      if (it != context.GetServerTrailingMetadata().end()) {
        *pushback = std::string(it->second.data(), it->second.size());
      }
    }
    return s;
  }

  // Polls until the scorer's score of `id` reflects `sequence`.
  v1::Score ScoreAt(const std::string& id, int64_t sequence) {
    v1::Score score;
    for (int i = 0; i < 400; ++i) {
      if (GetScore(id, &score).ok() && score.graph_sequence() >= sequence) {
        return score;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << id << " never reached sequence " << sequence << "\n"
                  << scorer_->Log();
    return score;
  }

  std::vector<v1::Alert> WatchAlerts(int64_t from, size_t n) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
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

  std::string dir_ = MakeTempDir("scorer");
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
  std::unique_ptr<v1::Scorer::Stub> sc_;
  std::unique_ptr<v1::Alerts::Stub> alerts_;
};

TEST_F(ScorerTest, UnavailableWithARetryHintUntilTheGraphIsLoaded) {
  // No graphstore yet: the scorer cannot have scores.
  StartScorer(absl::StrCat("127.0.0.1:", PickFreePort()));
  absl::StatusOr<common::HealthState> health =
      common::CheckHealth(scorer_->address(), "", absl::Seconds(5));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(*health, "NOT_SERVING");
  v1::Score score;
  std::string pushback;
  grpc::Status s = GetScore("company/x", &score, &pushback);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "not computed yet"));
  EXPECT_EQ(pushback, "2000");
  grpc::ClientContext context;
  v1::ModelConfig model;  // The model is known regardless.
  ASSERT_TRUE(sc_->GetModel(&context, v1::GetModelRequest(), &model).ok());
  EXPECT_FALSE(model.version().empty());
}

TEST_F(ScorerTest, ScoresExplainsStreamsScenariosAndResumes) {
  StartGraphstore();
  const std::string fab = "facility/skhynix-wuxi";
  const std::string company = "company/skhynix";
  v1::Entity wuxi = Facility(fab, "CN");
  wuxi.set_name("SK hynix Wuxi");  // The explanation names it.
  int64_t seq =
      Apply({Upsert(NamedCompany(company, "SK hynix", "KR")), Upsert(wuxi),
             Upsert(NamedCompany("company/apple", "Apple", "US")),
             Upsert(Operates(company, fab, 0.4)),
             Upsert(Supplies(company, "company/apple", 0.5, "8542"))});
  StartScorer(graphstore_->address());
  ASSERT_TRUE(
      common::WaitForServing(scorer_->address(), "", absl::Seconds(30)).ok());
  v1::Score before = ScoreAt(company, seq);
  EXPECT_DOUBLE_EQ(before.composite(), 0);

  // A live change: the fab's VEU is revoked; the stream sees it.
  grpc::ClientContext watch_context;
  v1::WatchScoreChangesRequest watch;
  watch.add_entity_ids(fab);
  auto changes = sc_->WatchScoreChanges(&watch_context, watch);
  absl::SleepFor(absl::Milliseconds(200));  // The stream is open.
  seq = Apply({Revocation("signal/veu-wuxi", fab, 0.8)});
  v1::WatchScoreChangesResponse changed;
  ASSERT_TRUE(changes->Read(&changed));
  ASSERT_GE(changed.changes_size(), 1);
  EXPECT_EQ(changed.changes(0).after().entity_id(), fab);
  EXPECT_GT(changed.changes(0).after().composite(), 0);
  watch_context.TryCancel();
  changes->Finish();

  v1::Score fab_score = ScoreAt(fab, seq);
  v1::Score company_score = ScoreAt(company, seq);
  EXPECT_GT(fab_score.composite(), company_score.composite());
  EXPECT_GT(company_score.composite(), 0);  // Through its Chinese fab.
  EXPECT_FALSE(company_score.model_version().empty());

  // Explanation: the fab is the reason, and the shares add up.
  grpc::ClientContext explain_context;
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(company);
  v1::Explanation explanation;
  ASSERT_TRUE(sc_->ExplainScore(&explain_context, explain, &explanation).ok());
  ASSERT_GT(explanation.contributions_size(), 0);
  EXPECT_EQ(explanation.contributions(0).upstream().entity_id(), fab);
  ASSERT_GT(explanation.paths_size(), 0);
  EXPECT_TRUE(absl::StrContains(explanation.paths(0).summary(), "Wuxi"));

  // A scenario lifting the revocation moves scores in the answer only.
  grpc::ClientContext scenario_context;
  v1::RunScenarioRequest scenario;
  scenario.mutable_scenario()->set_name("licence granted");
  scenario.mutable_scenario()->add_overrides()->set_delete_signal_id(
      "signal/veu-wuxi");
  v1::RunScenarioResponse deltas;
  ASSERT_TRUE(sc_->RunScenario(&scenario_context, scenario, &deltas).ok());
  ASSERT_GT(deltas.deltas_size(), 0);
  EXPECT_LT(deltas.deltas(0).delta(), 0);
  v1::Score live;
  ASSERT_TRUE(GetScore(fab, &live).ok());
  EXPECT_DOUBLE_EQ(live.composite(), fab_score.composite());

  // Alerts: the revocation raised some (the fab entered the critical band;
  // SK hynix and Apple jumped). Watch them all, then break off.
  // The sequences of the log, oldest first (ListAlerts lists newest first;
  // the log holds fewer than a page).
  auto logged = [this] {
    grpc::ClientContext context;
    v1::ListAlertsRequest list;
    list.set_page_size(1000);
    v1::ListAlertsResponse page;
    EXPECT_TRUE(alerts_->ListAlerts(&context, list, &page).ok());
    std::vector<int64_t> out;
    for (const v1::Alert& a : page.alerts())
      out.insert(out.begin(), a.sequence());
    return out;
  };
  const std::vector<int64_t> before_restart = logged();
  ASSERT_FALSE(before_restart.empty()) << scorer_->Log();
  const int64_t last_seen = before_restart.back();
  std::vector<v1::Alert> first = WatchAlerts(1, before_restart.size());
  ASSERT_EQ(first.size(), before_restart.size());
  bool fab_critical = false;
  for (const v1::Alert& a : first) {
    if (a.entity_id() == fab && a.rule_name() == "risk_band_critical") {
      fab_critical = true;
      EXPECT_EQ(a.state(), v1::Alert::FIRING);
      EXPECT_EQ(a.severity(), v1::SEVERITY_CRITICAL);
      EXPECT_EQ(a.factor(), v1::FACTOR_EXPORT_CONTROLS);
      ASSERT_GT(a.reasons_size(), 0);
      EXPECT_TRUE(absl::StrContains(a.reasons(0), "revoked")) << a.reasons(0);
    }
  }
  EXPECT_TRUE(fab_critical);

  // Restart the scorer; the graph moves on meanwhile.
  ASSERT_EQ(*scorer_->Stop(SIGTERM, absl::Seconds(20)), 0);
  seq = Apply({Revocation("signal/veu-wuxi", fab, 0.2)});  // Severity down.
  StartScorer(graphstore_->address());
  v1::Score after_restart = ScoreAt(fab, seq);
  EXPECT_LT(after_restart.composite(), fab_score.composite());
  EXPECT_TRUE(absl::StrContains(scorer_->Log(),
                                "resuming from the local copy of the graph"))
      << scorer_->Log();

  // Resume the alert watch from the last sequence seen + 1: only records
  // written after it (the fab's band alerts resolving), each once, in order.
  std::vector<int64_t> after_restart_log;
  for (int i = 0; i < 200 && after_restart_log.size() <= before_restart.size();
       ++i) {
    after_restart_log = logged();
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_GT(after_restart_log.size(), before_restart.size())
      << "the severity drop should resolve alerts";
  const std::vector<int64_t> written_after(
      after_restart_log.begin() + before_restart.size(),
      after_restart_log.end());
  std::vector<v1::Alert> resumed =
      WatchAlerts(last_seen + 1, written_after.size());
  ASSERT_EQ(resumed.size(), written_after.size());
  bool resolved = false;
  for (size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(resumed[i].sequence(), written_after[i]);
    resolved |= resumed[i].entity_id() == fab &&
                resumed[i].rule_name() == "risk_band_critical" &&
                resumed[i].state() == v1::Alert::RESOLVED;
  }
  EXPECT_TRUE(resolved);
}

}  // namespace
}  // namespace georisk
