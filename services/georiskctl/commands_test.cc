// georiskctl's query commands against in-process fake Scorer, Alerts and
// GraphStore services on 127.0.0.1:0 (with gRPC's health service): what each
// command asks for given its options, what it prints, and its exit code.
#include "services/georiskctl/commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/georiskctl/command_capture.h"
#include "services/georiskctl/exit_codes.h"
#include "services/georiskctl/loopback_server.h"

namespace georisk::cli {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Nothing listens on port 1 (privileged, unused): connections are refused.
constexpr char kNowhere[] = "127.0.0.1:1";

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

v1::Score MakeScore(const std::string& id, const std::string& name,
                    double composite, v1::Band band) {
  v1::Score s;
  s.set_entity_id(id);
  s.set_entity_name(name);
  s.set_country("TW");
  s.set_composite(composite);
  s.set_band(band);
  s.set_graph_sequence(7);
  s.set_model_version("v-test");
  v1::FactorScore* f = s.add_factors();
  f->set_factor(v1::FACTOR_CROSS_STRAIT);
  f->set_propagated(composite / 100);
  f = s.add_factors();
  f->set_factor(v1::FACTOR_TARIFFS);
  f->set_propagated(0.125);
  return s;
}

v1::Alert MakeAlert(int64_t sequence, v1::Alert::State state) {
  v1::Alert a;
  a.set_sequence(sequence);
  a.set_entity_id("company/tsmc");
  a.set_entity_name("TSMC");
  a.set_rule_name("band");
  a.set_state(state);
  a.set_factor(v1::FACTOR_UNSPECIFIED);
  a.set_score_before(24);
  a.set_score_after(64);
  a.add_reasons("cross-strait tension");
  a.mutable_start_time()->set_seconds(1800000000);
  a.mutable_update_time()->set_seconds(1800000000);
  return a;
}

class FakeScorer final : public v1::Scorer::Service {
 public:
  FakeScorer() {
    scores_ = {MakeScore("company/tsmc", "TSMC", 72.5, v1::BAND_HIGH),
               MakeScore("company/foxconn", "Foxconn", 40, v1::BAND_MEDIUM),
               MakeScore("company/apple", "Apple", 12, v1::BAND_LOW)};
  }

  grpc::Status BatchGetScores(grpc::ServerContext*,
                              const v1::BatchGetScoresRequest* request,
                              v1::BatchGetScoresResponse* response) override {
    batch_requests_.Add(*request);
    for (const std::string& id : request->entity_ids()) {
      const v1::Score* s = Find(id);
      if (s != nullptr) {
        *response->add_scores() = *s;
      } else {
        response->add_missing_ids(id);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status ListTopRisks(grpc::ServerContext*,
                            const v1::ListTopRisksRequest* request,
                            v1::ListTopRisksResponse* response) override {
    top_requests_.Add(*request);
    for (const v1::Score& s : scores_) {
      if (response->scores_size() >= request->page_size()) break;
      *response->add_scores() = s;
    }
    response->set_total_size(static_cast<int>(scores_.size()));
    return grpc::Status::OK;
  }

  grpc::Status ExplainScore(grpc::ServerContext*,
                            const v1::ExplainScoreRequest* request,
                            v1::Explanation* e) override {
    explain_requests_.Add(*request);
    const v1::Score* s = Find(request->entity_id());
    if (s == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "no entity " + request->entity_id());
    }
    *e->mutable_score() = *s;
    v1::Contribution* up = e->add_contributions();
    up->set_factor(v1::FACTOR_CROSS_STRAIT);
    up->set_fraction(0.75);
    up->set_description("supplier of");
    up->mutable_upstream()->set_entity_id("facility/tsmc-hsinchu");
    up->mutable_upstream()->set_entity_name("TSMC Hsinchu");
    v1::Contribution* direct = e->add_contributions();
    direct->set_factor(v1::FACTOR_TARIFFS);
    direct->set_fraction(0.25);
    direct->set_description("Section 301 tariff");
    direct->mutable_direct()->set_signal_id("signal/301");
    v1::Contribution* listed = e->add_contributions();
    listed->set_factor(v1::FACTOR_EXPORT_CONTROLS);
    listed->set_fraction(1);
    listed->set_description("listed by US-BIS (EL)");
    listed->mutable_direct()->set_signal_id("signal/el");
    listed->mutable_direct()->set_signal_title("Entity List");
    listed->mutable_direct()->mutable_provenance()->set_summary(
        "Entity List via csl-el, fetched 2026-12-06 14:00 UTC");
    v1::ExplanationPath* p = e->add_paths();
    p->set_factor(v1::FACTOR_CROSS_STRAIT);
    p->set_fraction(0.75);
    p->set_summary("TSMC <- TSMC Hsinchu: cross-strait 0.6");
    p->set_signal_id("signal/cross-strait-tension");
    v1::PathHop* hop = p->add_hops();
    hop->set_entity_name("TSMC");
    hop = p->add_hops();
    hop->set_entity_name("TSMC Hsinchu");
    hop->set_edge_kind(v1::Edge::OPERATES);
    hop->set_weight(0.5);
    hop->set_score(0.6);
    hop->mutable_edge_provenance()->set_summary(
        "operator edge via georiskctl import of fabs.csv, started 2026-12-06 "
        "13:00 UTC");
    e->mutable_entity_provenance()->set_summary(
        "TSMC via bulk load of graph.jsonl, started 2026-12-01 09:00 UTC");
    return grpc::Status::OK;
  }

  grpc::Status RunScenario(grpc::ServerContext*,
                           const v1::RunScenarioRequest* request,
                           v1::RunScenarioResponse* response) override {
    scenario_requests_.Add(*request);
    response->set_name(request->scenario().name());
    response->set_affected_count(1);
    response->set_graph_sequence(7);
    response->set_model_version("v-test");
    v1::ScoreDelta* d = response->add_deltas();
    d->set_entity_id("company/apple");
    *d->mutable_before() = scores_[2];
    *d->mutable_after() = scores_[2];
    d->mutable_after()->set_composite(20.5);
    d->set_delta(8.5);
    d->add_top_reasons()->set_description("cross-strait tension");
    return grpc::Status::OK;
  }

  grpc::Status GetModel(grpc::ServerContext*, const v1::GetModelRequest*,
                        v1::ModelConfig* config) override {
    config->set_version("v-test");
    return grpc::Status::OK;
  }

  // A scorer that rebuilt once, after graphstore's graph was replaced.
  grpc::Status GetFeedStatus(grpc::ServerContext*,
                             const v1::GetFeedStatusRequest*,
                             v1::FeedStatus* status) override {
    status->set_graph_id("0123456789abcdef0123456789abcdef");
    status->set_loaded(true);
    status->set_applied_sequence(7);
    status->set_rebuilds_total(1);
    (*status->mutable_rebuilds())["graph_changed"] = 1;
    status->mutable_last_rebuild()->set_reason("graph_changed");
    status->mutable_last_rebuild()->mutable_time()->set_seconds(1796601600);
    absl::MutexLock lock(&mu_);
    for (const v1::ShardFeedStatus& shard : feed_shards_) {
      *status->add_shards() = shard;
    }
    return grpc::Status::OK;
  }

  // The scorer follows shards: FeedStatus.shards.
  void SetFeedShards(std::vector<v1::ShardFeedStatus> shards) {
    absl::MutexLock lock(&mu_);
    feed_shards_ = std::move(shards);
  }

  std::vector<v1::ListTopRisksRequest> top_requests() const {
    return top_requests_.all();
  }
  std::vector<v1::BatchGetScoresRequest> batch_requests() const {
    return batch_requests_.all();
  }
  std::vector<v1::ExplainScoreRequest> explain_requests() const {
    return explain_requests_.all();
  }
  std::vector<v1::RunScenarioRequest> scenario_requests() const {
    return scenario_requests_.all();
  }

 private:
  const v1::Score* Find(const std::string& id) const {
    for (const v1::Score& s : scores_) {
      if (s.entity_id() == id) return &s;
    }
    return nullptr;
  }

  std::vector<v1::Score> scores_;  // Set in the constructor, then read-only.
  absl::Mutex mu_;
  std::vector<v1::ShardFeedStatus> feed_shards_ ABSL_GUARDED_BY(mu_);
  RequestLog<v1::ListTopRisksRequest> top_requests_;
  RequestLog<v1::ExplainScoreRequest> explain_requests_;
  RequestLog<v1::BatchGetScoresRequest> batch_requests_;
  RequestLog<v1::RunScenarioRequest> scenario_requests_;
};

class FakeAlerts final : public v1::Alerts::Service {
 public:
  grpc::Status ListAlerts(grpc::ServerContext*,
                          const v1::ListAlertsRequest* request,
                          v1::ListAlertsResponse* response) override {
    list_requests_.Add(*request);
    for (const v1::Alert& a : alerts_) {
      if (response->alerts_size() >= request->page_size()) break;
      if (request->filter().state() != v1::Alert::STATE_UNSPECIFIED &&
          a.state() != request->filter().state()) {
        continue;
      }
      *response->add_alerts() = a;
    }
    return grpc::Status::OK;
  }

  // Sends the alerts from the requested sequence, then holds the stream open
  // until the client cancels (as the real one follows new alerts).
  grpc::Status WatchAlerts(
      grpc::ServerContext* context, const v1::WatchAlertsRequest* request,
      grpc::ServerWriter<v1::WatchAlertsResponse>* writer) override {
    watch_requests_.Add(*request);
    for (const v1::Alert& a : alerts_) {
      if (a.sequence() < request->from_sequence()) continue;
      v1::WatchAlertsResponse response;
      *response.add_alerts() = a;
      if (!writer->Write(response)) return grpc::Status::CANCELLED;
    }
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status::CANCELLED;
  }

  std::vector<v1::ListAlertsRequest> list_requests() const {
    return list_requests_.all();
  }
  std::vector<v1::WatchAlertsRequest> watch_requests() const {
    return watch_requests_.all();
  }

 private:
  const std::vector<v1::Alert> alerts_ = {
      MakeAlert(3, v1::Alert::FIRING), MakeAlert(4, v1::Alert::RESOLVED),
      MakeAlert(5, v1::Alert::FIRING), MakeAlert(6, v1::Alert::FIRING)};
  RequestLog<v1::ListAlertsRequest> list_requests_;
  RequestLog<v1::WatchAlertsRequest> watch_requests_;
};

class FakeGraphStore final : public v1::GraphStore::Service {
 public:
  // Three entities carry LEI kLei; pages hold at most two (whatever the
  // page_size asked), the token is the index of the next one.
  static constexpr char kLei[] = "506700GE1G29325QX363";

  grpc::Status LookupByIdentifier(
      grpc::ServerContext*, const v1::LookupByIdentifierRequest* request,
      v1::LookupByIdentifierResponse* response) override {
    lookup_requests_.Add(*request);
    if (request->scheme() == "lei" && request->value() == "bad") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "value: lei \"bad\": an LEI has 20 characters");
    }
    response->set_scheme(request->scheme());
    response->set_value(request->value());
    response->set_sequence(9);
    if (request->value() != kLei) return grpc::Status::OK;
    const int start =
        request->page_token().empty() ? 0 : std::stoi(request->page_token());
    const int end = std::min({start + 2, start + request->page_size(), 3});
    for (int i = start; i < end; ++i) {
      v1::Entity* e = response->add_entities();
      e->set_id(absl::StrCat("company/smic-", i));
      e->set_name(absl::StrCat("SMIC ", i));
      e->set_country("CN");
      (*e->mutable_identifiers())["lei"] = kLei;
      (*e->mutable_identifiers())["csl_entity_number"] = absl::StrCat(100 + i);
    }
    if (end < 3) response->set_next_page_token(absl::StrCat(end));
    return grpc::Status::OK;
  }

  std::vector<v1::LookupByIdentifierRequest> lookup_requests() const {
    return lookup_requests_.all();
  }

  // One entity, company/tsmc; any other id is NOT_FOUND.
  grpc::Status GetEntity(grpc::ServerContext*,
                         const v1::GetEntityRequest* request,
                         v1::Entity* response) override {
    if (request->id() != "company/tsmc") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "entity " + request->id() + " not found");
    }
    response->set_id("company/tsmc");
    response->set_kind(v1::Entity::COMPANY);
    response->set_name("TSMC");
    response->set_country("TW");
    response->set_update_sequence(4);
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::GetStatsResponse* response) override {
    response->set_entity_count(3);
    response->set_edge_count(2);
    response->set_signal_count(1);
    response->set_last_sequence(9);
    response->set_graph_id("0123456789abcdef0123456789abcdef");
    absl::MutexLock lock(&mu_);
    response->set_writes_stopped_reason(writes_stopped_reason_);
    response->set_shard_index(shard_index_);
    response->set_shard_count(shard_count_);
    response->set_partitions(partitions_);
    return grpc::Status::OK;
  }

  void SetWritesStopped(const std::string& reason) {
    absl::MutexLock lock(&mu_);
    writes_stopped_reason_ = reason;
  }

  // What GetStats says of the shard. Default: shard 0 of 1, 0-1023.
  void SetShard(int index, int count, const std::string& partitions) {
    absl::MutexLock lock(&mu_);
    shard_index_ = index;
    shard_count_ = count;
    partitions_ = partitions;
  }

 private:
  absl::Mutex mu_;
  RequestLog<v1::LookupByIdentifierRequest> lookup_requests_;
  std::string writes_stopped_reason_ ABSL_GUARDED_BY(mu_);
  int shard_index_ ABSL_GUARDED_BY(mu_) = 0;
  int shard_count_ ABSL_GUARDED_BY(mu_) = 1;
  std::string partitions_ ABSL_GUARDED_BY(mu_) = "0-1023";
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    server_ =
        StartLoopbackServer({&scorer_, &alerts_, &graphstore_}, &address_);
    ASSERT_NE(server_, nullptr);
    options_.client.graphstore = address_;
    options_.client.ingest = address_;
    options_.client.scorer = address_;
    options_.client.endpoints_file = "";
    options_.client.timeout = absl::Seconds(10);
  }

  void TearDown() override {
    server_->Shutdown();
    server_->Wait();
  }

  // Runs `command` with options_ and `args`; its output lands in out_ and
  // err_.
  template <typename Command>
  int Run(Command command, const std::vector<std::string>& args) {
    return RunCaptured(command, options_, args, &out_, &err_);
  }

  FakeScorer scorer_;
  FakeAlerts alerts_;
  FakeGraphStore graphstore_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  CommandOptions options_;
  std::string out_, err_;
};

TEST_F(CommandsTest, ScorePrintsATableAndFailsOnAMissingId) {
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc", "company/apple"}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("ENTITY"));
  EXPECT_THAT(out_, HasSubstr("company/tsmc"));
  EXPECT_THAT(out_, HasSubstr("72.5"));
  EXPECT_THAT(out_, HasSubstr("high"));
  EXPECT_THAT(out_, HasSubstr("12.5"));  // Tariffs 0.125 of company/tsmc.
  EXPECT_EQ(err_, "");

  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc", "company/nobody"}), kExitFailed);
  EXPECT_THAT(out_, HasSubstr("company/tsmc"));
  EXPECT_THAT(err_, HasSubstr("no entity company/nobody"));

  EXPECT_EQ(Run(ScoreCommand, {}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("georiskctl score: give at least one"));
}

TEST_F(CommandsTest, ScoreAndExplainAsOfADateSendIt) {
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc"}), kExitOk);
  ASSERT_EQ(scorer_.batch_requests().size(), 1u);
  EXPECT_FALSE(scorer_.batch_requests()[0].has_as_of());  // Default: now.
  options_.as_of = absl::FromUnixSeconds(1814400000);
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc"}), kExitOk);
  ASSERT_EQ(scorer_.batch_requests().size(), 2u);
  EXPECT_EQ(scorer_.batch_requests()[1].as_of().seconds(), 1814400000);
  EXPECT_EQ(Run(ExplainCommand, {"company/tsmc"}), kExitOk);
  ASSERT_EQ(scorer_.explain_requests().size(), 1u);
  EXPECT_EQ(scorer_.explain_requests()[0].as_of().seconds(), 1814400000);
}

TEST_F(CommandsTest, ScoreAsJson) {
  options_.client.output = "json";
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc"}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("\"entity_id\": \"company/tsmc\""));
  EXPECT_THAT(out_, Not(HasSubstr("ENTITY")));
}

TEST_F(CommandsTest, ScoreWhenTheScorerIsDownIsUnavailable) {
  options_.client.scorer = kNowhere;
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc"}), kExitUnavailable);
  EXPECT_THAT(err_, AllOf(HasSubstr("scorer at 127.0.0.1:1"),
                          HasSubstr("not reachable")));
}

TEST_F(CommandsTest, ScoreWithAnUnreadableTokenFileIsUsage) {
  options_.client.token_file = ::testing::TempDir() + "/no-such-token";
  EXPECT_EQ(Run(ScoreCommand, {"company/tsmc"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("georiskctl score:"));
}

TEST_F(CommandsTest, TopSendsItsOptionsAndPrintsMainReasons) {
  options_.factor = "cross_strait";
  options_.kind = "facility";
  options_.country = "tw";
  options_.min_score = 10;
  options_.limit = 2;
  EXPECT_EQ(Run(TopCommand, {}), kExitOk);
  const auto requests = scorer_.top_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].factor(), v1::FACTOR_CROSS_STRAIT);
  EXPECT_EQ(requests[0].entity_kind(), v1::Entity::FACILITY);
  EXPECT_EQ(requests[0].country(), "TW");
  EXPECT_DOUBLE_EQ(requests[0].min_score(), 10);
  EXPECT_EQ(requests[0].page_size(), 2);
  EXPECT_THAT(out_, HasSubstr("FACTOR"));
  EXPECT_THAT(out_, HasSubstr("MAIN REASON"));
  EXPECT_THAT(out_, HasSubstr("TSMC <- TSMC Hsinchu: cross-strait 0.6"));
  EXPECT_THAT(out_, HasSubstr("(2 of 3 entities; graph sequence 7)"));
  // One ExplainScore a row for its main reason, one path each.
  const auto explains = scorer_.explain_requests();
  ASSERT_EQ(explains.size(), 2u);
  EXPECT_EQ(explains[0].max_paths(), 1);
  EXPECT_EQ(explains[0].factor(), v1::FACTOR_CROSS_STRAIT);
}

TEST_F(CommandsTest, TopWithoutReasonsAsksNoExplanation) {
  options_.reasons = false;
  EXPECT_EQ(Run(TopCommand, {}), kExitOk);
  EXPECT_THAT(out_, Not(HasSubstr("MAIN REASON")));
  EXPECT_THAT(out_, HasSubstr("SCORE"));
  EXPECT_EQ(scorer_.top_requests()[0].page_size(), 15);  // The default.
  EXPECT_TRUE(scorer_.explain_requests().empty());
}

TEST_F(CommandsTest, TopRefusesBadOptionsBeforeAnyCall) {
  options_.factor = "weather";
  EXPECT_EQ(Run(TopCommand, {}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--factor: \"weather\""));
  options_.factor = "";
  options_.kind = "person";
  EXPECT_EQ(Run(TopCommand, {}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--kind"));
  options_.kind = "";
  EXPECT_EQ(Run(TopCommand, {"extra"}), kExitUsage);
  EXPECT_TRUE(scorer_.top_requests().empty());
}

TEST_F(CommandsTest, ExplainPrintsSharesAndPaths) {
  options_.factor = "tariffs";
  EXPECT_EQ(Run(ExplainCommand, {"company/tsmc"}), kExitOk);
  ASSERT_EQ(scorer_.explain_requests().size(), 1u);
  EXPECT_EQ(scorer_.explain_requests()[0].factor(), v1::FACTOR_TARIFFS);
  EXPECT_EQ(scorer_.explain_requests()[0].max_paths(), 5);
  EXPECT_THAT(out_, HasSubstr("TSMC (company/tsmc), TW"));
  EXPECT_THAT(out_, HasSubstr("composite 72.5 (high)"));
  EXPECT_THAT(out_, HasSubstr("75%"));
  EXPECT_THAT(out_, HasSubstr("TSMC Hsinchu"));
  EXPECT_THAT(out_, HasSubstr("signal/301"));
  // A signal with its provenance is named by it.
  EXPECT_THAT(
      out_, HasSubstr("Entity List via csl-el, fetched 2026-12-06 14:00 UTC"));
  EXPECT_THAT(out_, HasSubstr("[OPERATES, weight 0.50, score 0.60]"));
  EXPECT_THAT(out_, HasSubstr("signal/cross-strait-tension"));
  // The entity's and the path edge's provenance.
  EXPECT_THAT(out_, HasSubstr("TSMC (company/tsmc), TW\nrecord: TSMC via bulk "
                              "load of graph.jsonl, started 2026-12-01 09:00 "
                              "UTC\n"));
  EXPECT_THAT(out_, HasSubstr("score 0.60]\n"
                              "       operator edge via georiskctl import of "
                              "fabs.csv, started 2026-12-06 13:00 UTC\n"));
}

TEST_F(CommandsTest, ExplainOfAnUnknownEntityFails) {
  EXPECT_EQ(Run(ExplainCommand, {"company/nobody"}), kExitFailed);
  EXPECT_THAT(err_, AllOf(HasSubstr("NOT_FOUND"),
                          HasSubstr("no entity company/nobody")));
  EXPECT_EQ(Run(ExplainCommand, {"a", "b"}), kExitUsage);
  EXPECT_EQ(Run(ExplainCommand, {}), kExitUsage);
}

TEST_F(CommandsTest, ScenarioSendsTheFileAndPrintsMovers) {
  const std::string path = Write("tension.yaml", R"(name: tension up
overrides:
  - upsertSignal:
      id: signal/cross-strait-tension
      source: what-if
      tension: {theatre: cross_strait, level: 0.9}
)");
  options_.limit = 3;
  EXPECT_EQ(Run(ScenarioCommand, {path}), kExitOk);
  const auto requests = scorer_.scenario_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].max_results(), 3);
  EXPECT_EQ(requests[0].scenario().name(), "tension up");
  EXPECT_DOUBLE_EQ(
      requests[0].scenario().overrides(0).upsert_signal().tension().level(),
      0.9);
  EXPECT_THAT(out_, HasSubstr("Scenario \"tension up\": 1 entities move"));
  EXPECT_THAT(out_, HasSubstr("+8.5"));
  EXPECT_THAT(out_, HasSubstr("20.5"));
  EXPECT_THAT(out_, HasSubstr("cross-strait tension"));
}

TEST_F(CommandsTest, ScenarioWithABadFileIsUsage) {
  EXPECT_EQ(Run(ScenarioCommand, {Write("typo.yaml", "nmae: x\n")}),
            kExitUsage);
  EXPECT_THAT(err_, HasSubstr("typo.yaml"));
  EXPECT_EQ(Run(ScenarioCommand, {}), kExitUsage);
  EXPECT_TRUE(scorer_.scenario_requests().empty());
}

TEST_F(CommandsTest, AlertsListFiltersByState) {
  options_.state = "Firing";
  options_.limit = 2;
  EXPECT_EQ(Run(AlertsCommand, {"list"}), kExitOk);
  const auto requests = alerts_.list_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].filter().state(), v1::Alert::FIRING);
  EXPECT_EQ(requests[0].page_size(), 2);
  EXPECT_THAT(out_, HasSubstr("#3 2027-01-15 08:00:00 FIRING   company/tsmc "
                              "(TSMC) band: 24.0 -> 64.0, composite - "
                              "cross-strait tension"));
  EXPECT_THAT(out_, HasSubstr("#5 "));
  EXPECT_THAT(out_, Not(HasSubstr("#4 ")));

  options_.state = "asleep";
  EXPECT_EQ(Run(AlertsCommand, {"list"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--state: firing or resolved"));
  EXPECT_EQ(Run(AlertsCommand, {"show"}), kExitUsage);
  EXPECT_EQ(alerts_.list_requests().size(), 1u);
}

TEST_F(CommandsTest, AlertsWatchResumesAfterTheStateFileAndStopsAtCount) {
  const std::string state_file = Write("watch.state", "4\n");
  options_.state_file = state_file;
  options_.count = 1;
  EXPECT_EQ(Run(AlertsCommand, {"watch"}), kExitOk);
  ASSERT_EQ(alerts_.watch_requests().size(), 1u);
  EXPECT_EQ(alerts_.watch_requests()[0].from_sequence(), 5);
  EXPECT_THAT(out_, HasSubstr("#5 "));
  EXPECT_THAT(out_, Not(HasSubstr("#6 ")));
  EXPECT_THAT(err_, HasSubstr("from #5"));
  std::ifstream in(state_file);
  int64_t saved = 0;
  in >> saved;
  EXPECT_EQ(saved, 5);

  // Again: resumes after #5, shows #6.
  EXPECT_EQ(Run(AlertsCommand, {"watch"}), kExitOk);
  EXPECT_EQ(alerts_.watch_requests()[1].from_sequence(), 6);
  EXPECT_THAT(out_, HasSubstr("#6 "));
}

TEST_F(CommandsTest, AlertsWatchFromSequenceWinsOverTheStateFile) {
  options_.state_file = Write("watch2.state", "4\n");
  options_.from_sequence = 3;
  options_.count = 2;
  options_.client.output = "json";
  EXPECT_EQ(Run(AlertsCommand, {"watch"}), kExitOk);
  EXPECT_EQ(alerts_.watch_requests()[0].from_sequence(), 3);
  EXPECT_THAT(out_, HasSubstr("\"sequence\": \"3\""));
  EXPECT_THAT(out_, HasSubstr("\"sequence\": \"4\""));
  EXPECT_EQ(err_, "");  // JSON output: no banner.
}

TEST_F(CommandsTest, AlertsWatchWhenTheScorerIsDownIsUnavailable) {
  options_.client.scorer = kNowhere;
  EXPECT_EQ(Run(AlertsCommand, {"watch"}), kExitUnavailable);
  EXPECT_THAT(err_, HasSubstr("not reachable"));
}

TEST_F(CommandsTest, LookupReadsEveryPageAndPrintsEachEntity) {
  EXPECT_EQ(Run(LookupCommand, {"lei", FakeGraphStore::kLei}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("ENTITY"));
  EXPECT_THAT(out_, HasSubstr("IDENTIFIERS"));
  for (const char* id :
       {"company/smic-0", "company/smic-1", "company/smic-2"}) {
    EXPECT_THAT(out_, HasSubstr(id));
  }
  EXPECT_THAT(out_, HasSubstr(absl::StrCat("csl_entity_number=101 lei=",
                                           FakeGraphStore::kLei)));
  EXPECT_THAT(out_, HasSubstr(absl::StrCat("(3 entities with lei ",
                                           FakeGraphStore::kLei,
                                           "; graph sequence 9)")));
  EXPECT_EQ(err_, "");
  std::vector<v1::LookupByIdentifierRequest> requests =
      graphstore_.lookup_requests();
  ASSERT_EQ(requests.size(), 2u);  // Two pages.
  EXPECT_EQ(requests[0].page_size(), 15);
  EXPECT_EQ(requests[0].page_token(), "");
  EXPECT_EQ(requests[1].page_token(), "2");
  EXPECT_EQ(requests[1].page_size(), 13);
  EXPECT_FALSE(requests[0].include_equivalent());
}

TEST_F(CommandsTest, LookupSendsItsOptionsAndStopsAtTheLimit) {
  options_.country = "gb";
  options_.equivalent = true;
  options_.limit = 1;
  EXPECT_EQ(Run(LookupCommand, {"lei", FakeGraphStore::kLei}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("company/smic-0"));
  EXPECT_THAT(out_, Not(HasSubstr("company/smic-1")));
  EXPECT_THAT(out_, HasSubstr("more: raise --limit"));
  std::vector<v1::LookupByIdentifierRequest> requests =
      graphstore_.lookup_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].scheme(), "lei");
  EXPECT_EQ(requests[0].country(), "gb");
  EXPECT_TRUE(requests[0].include_equivalent());
  EXPECT_EQ(requests[0].page_size(), 1);
}

TEST_F(CommandsTest, LookupAsJsonIsOneMergedResponse) {
  options_.client.output = "json";
  EXPECT_EQ(Run(LookupCommand, {"lei", FakeGraphStore::kLei}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("\"id\": \"company/smic-2\""));
  EXPECT_THAT(out_, HasSubstr("\"sequence\": \"9\""));
  EXPECT_THAT(out_, Not(HasSubstr("next_page_token")));
  EXPECT_THAT(out_, Not(HasSubstr("ENTITY")));
}

TEST_F(CommandsTest, LookupWithoutAMatchOrWithABadValueFails) {
  EXPECT_EQ(Run(LookupCommand, {"csl_entity_number", "18300"}), kExitFailed);
  EXPECT_THAT(out_, HasSubstr("(0 entities with csl_entity_number 18300"));
  EXPECT_THAT(err_, HasSubstr("no entity has csl_entity_number 18300"));
  EXPECT_EQ(Run(LookupCommand, {"lei", "bad"}), kExitFailed);
  EXPECT_THAT(err_, HasSubstr("value: lei \"bad\": an LEI has 20"));
  EXPECT_EQ(Run(LookupCommand, {"lei"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("georiskctl lookup: give a scheme and a value"));
  options_.client.graphstore = kNowhere;
  EXPECT_EQ(Run(LookupCommand, {"lei", FakeGraphStore::kLei}),
            kExitUnavailable);
  EXPECT_THAT(err_, HasSubstr("graphstore at 127.0.0.1:1"));
}

TEST_F(CommandsTest, StatusReportsEveryServiceAndTheLag) {
  EXPECT_EQ(Run(StatusCommand, {}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("3 entities, 2 edges, 1 signals, sequence 9"));
  EXPECT_THAT(out_, HasSubstr("model v-test, scored at 7, lag 2, graph "
                              "0123456789abcdef0123456789abcdef, rebuilds 1 "
                              "(last: graph_changed at 2026-12-07T00:00:00Z)"));
  EXPECT_THAT(out_, HasSubstr("ingest"));
  EXPECT_THAT(out_, Not(HasSubstr("DOWN")));

  options_.client.output = "json";
  EXPECT_EQ(Run(StatusCommand, {}), kExitOk);
  EXPECT_EQ(out_,
            "{\"healthy\": true, \"graph_sequence\": 9, \"scored_sequence\": "
            "7, \"model_version\": \"v-test\", \"graph_id\": "
            "\"0123456789abcdef0123456789abcdef\", \"scorer_graph_id\": "
            "\"0123456789abcdef0123456789abcdef\", \"scorer_rebuilds\": 1, "
            "\"scorer_last_rebuild\": {\"reason\": \"graph_changed\", "
            "\"time\": \"2026-12-07T00:00:00Z\"}, \"graph_writes_stopped\": "
            "\"\", \"graphstore_shards\": []}\n");

  EXPECT_EQ(Run(StatusCommand, {"extra"}), kExitUsage);
}

TEST_F(CommandsTest, StatusWithAServiceDownIsUnavailable) {
  options_.client.ingest = kNowhere;
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("DOWN"));
  EXPECT_THAT(out_, HasSubstr("not reachable"));
  EXPECT_THAT(out_, HasSubstr("sequence 9"));  // The others still report.
}

TEST_F(CommandsTest, StatusShowsAGraphStoreThatStoppedWritesAsDegraded) {
  graphstore_.SetWritesStopped(
      "writes are stopped: the disk under /data/graph is full (IO error: No "
      "space left on device)");
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("DEGRADED"));
  EXPECT_THAT(out_, HasSubstr("sequence 9; writes are stopped: the disk under "
                              "/data/graph is full"));
}

// Three shards: fakes serving shards 0 and 1 of a map of 3, and a third
// target where nothing listens.
class ShardedStatusTest : public CommandsTest {
 protected:
  void SetUp() override {
    CommandsTest::SetUp();
    graphstore_.SetShard(0, 3, "0-341");
    shard1_.SetShard(1, 3, "342-682");
    shard1_server_ = StartLoopbackServer({&shard1_}, &shard1_address_);
    ASSERT_NE(shard1_server_, nullptr);
  }
  void TearDown() override {
    shard1_server_->Shutdown();
    shard1_server_->Wait();
    CommandsTest::TearDown();
  }

  FakeGraphStore shard1_;
  std::unique_ptr<grpc::Server> shard1_server_;
  std::string shard1_address_;
};

TEST_F(ShardedStatusTest, ARowPerShardAndADownShardIsARowNotAFailure) {
  options_.client.graphstore_shards =
      absl::StrCat(address_, ",", shard1_address_, ",", kNowhere);
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("SHARD         TARGET"));
  EXPECT_THAT(out_, HasSubstr(absl::StrCat("graphstore-0  ", address_)));
  EXPECT_THAT(out_, AllOf(HasSubstr("SERVING      0-341"),
                          HasSubstr("SERVING      342-682")));
  EXPECT_THAT(out_, HasSubstr("graphstore-2  127.0.0.1:1"));
  EXPECT_THAT(out_, HasSubstr("UNAVAILABLE  -"));
  EXPECT_THAT(out_, HasSubstr("graphstore-2: UNAVAILABLE: "));
  // The endpoint's row adds up the shards that answered.
  EXPECT_THAT(out_, HasSubstr("6 entities, 4 edges, 2 signals over 3 shards, "
                              "2 of 3 answering; this endpoint is "
                              "graphstore-0"));
  // Sequences are per shard: no lag of the scorer against one of them.
  EXPECT_THAT(out_, Not(HasSubstr("lag")));
  // The services still report.
  EXPECT_THAT(out_, HasSubstr("model v-test"));

  options_.client.output = "json";
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("\"healthy\": false"));
  EXPECT_THAT(out_, HasSubstr(absl::StrCat(
                        "\"graphstore_shards\": [{\"name\": \"graphstore-0\", "
                        "\"target\": \"",
                        address_,
                        "\", \"health\": \"SERVING\", \"healthy\": true, "
                        "\"shard_index\": 0, \"shard_count\": 3, "
                        "\"partitions\": \"0-341\", \"entity_count\": 3, "
                        "\"edge_count\": 2, \"signal_count\": 1, "
                        "\"last_sequence\": 9, \"graph_id\": "
                        "\"0123456789abcdef0123456789abcdef\", \"problem\": "
                        "\"\", \"scorer_feed\": null}, {\"name\": "
                        "\"graphstore-1\"")));
  EXPECT_THAT(out_, HasSubstr("{\"name\": \"graphstore-2\", \"target\": "
                              "\"127.0.0.1:1\", \"health\": \"UNAVAILABLE\", "
                              "\"healthy\": false, \"shard_index\": null, "
                              "\"shard_count\": null, \"partitions\": null, "
                              "\"entity_count\": null, \"edge_count\": null, "
                              "\"signal_count\": null, \"last_sequence\": "
                              "null, \"graph_id\": null, \"problem\": "
                              "\"UNAVAILABLE: "));
}

// A scorer following every shard: each shard's row says what it applied of
// that shard and how stale it may be; a feed's error gets its own line.
TEST_F(ShardedStatusTest, EachShardRowShowsTheScorersFeedOfIt) {
  options_.client.graphstore_shards =
      absl::StrCat(address_, ",", shard1_address_, ",", kNowhere);
  std::vector<v1::ShardFeedStatus> feeds(3);
  for (int i = 0; i < 3; ++i) {
    feeds[i].set_shard(i);
    feeds[i].set_applied_sequence(10 * (i + 1));
    feeds[i].set_head_sequence(10 * (i + 1));
    feeds[i].set_connected(i != 2);
    feeds[i].set_lag_seconds(i == 2 ? 35.25 : 0.5);
  }
  feeds[2].set_last_error("UNAVAILABLE: failed to connect to all addresses");
  scorer_.SetFeedShards(feeds);
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("SEQUENCE  SCORER FEED"));
  EXPECT_THAT(out_,
              testing::ContainsRegex("\ngraphstore-0 .* 9 +10, lag 0\\.5s\n"));
  EXPECT_THAT(out_,
              testing::ContainsRegex("\ngraphstore-2 .*UNAVAILABLE .* - +30, "
                                     "disconnected, lag 35\\.2s\n"));
  EXPECT_THAT(out_, HasSubstr("graphstore-2: scorer feed: UNAVAILABLE: failed "
                              "to connect to all addresses\n"));

  options_.client.output = "json";
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("\"problem\": \"\", \"scorer_feed\": "
                              "{\"applied_sequence\": 10, \"head_sequence\": "
                              "10, \"connected\": true, \"lag_seconds\": "
                              "0.500, \"last_error\": \"\"}}"));
  EXPECT_THAT(out_, HasSubstr("\"connected\": false, \"lag_seconds\": "
                              "35.250, \"last_error\": \"UNAVAILABLE: "));
}

TEST_F(CommandsTest, StatusLeavesOutAServiceAtAddressNone) {
  options_.client.scorer = "none";
  EXPECT_EQ(Run(StatusCommand, {}), kExitOk);
  EXPECT_THAT(out_,
              testing::ContainsRegex("\nscorer +none +- +not deployed\n"));
  EXPECT_THAT(out_, Not(HasSubstr("model")));
}

TEST_F(ShardedStatusTest, EveryShardUpIsOk) {
  shard1_.SetShard(1, 2, "512-1023");
  graphstore_.SetShard(0, 2, "0-511");
  options_.client.graphstore_shards =
      absl::StrCat(address_, ",", shard1_address_);
  EXPECT_EQ(Run(StatusCommand, {}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("6 entities, 4 edges, 2 signals over 2 shards; "
                              "this endpoint is graphstore-0"));
  EXPECT_THAT(out_, Not(HasSubstr("UNAVAILABLE")));
}

TEST_F(ShardedStatusTest, AShardListedOutOfOrderOrUnderAnotherMapIsAProblem) {
  options_.client.graphstore_shards =
      absl::StrCat(shard1_address_, ",", address_);
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("graphstore-0: answers as graphstore-1, not as "
                              "graphstore-0: the shards must be listed in "
                              "order"));
  options_.client.graphstore_shards =
      absl::StrCat(address_, ",", shard1_address_);
  EXPECT_EQ(Run(StatusCommand, {}), kExitUnavailable);
  EXPECT_THAT(out_, HasSubstr("graphstore-0: runs under a map of 3 shards; 2 "
                              "are listed"));
}

TEST_F(ShardedStatusTest, OneShardWithoutTheListSaysItIsOneOfSeveral) {
  EXPECT_EQ(Run(StatusCommand, {}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("3 entities, 2 edges, 1 signals, sequence 9; "
                              "graphstore-0 of 3 shards alone: "
                              "--graphstore_shards lists every shard"));
  EXPECT_THAT(out_, Not(HasSubstr("SHARD")));
}

TEST_F(CommandsTest, EntityShowsEachAndFailsOnAMissingOne) {
  EXPECT_EQ(Run(EntityCommand, {"company/tsmc"}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("ENTITY        KIND     NAME  CTRY  SEQUENCE"));
  EXPECT_THAT(out_, HasSubstr("company/tsmc  company  TSMC  TW    4\n"));
  EXPECT_EQ(Run(EntityCommand, {"company/nope", "company/tsmc"}), kExitFailed);
  EXPECT_THAT(err_, HasSubstr("entity company/nope not found"));
  EXPECT_THAT(out_, HasSubstr("company/tsmc"));
  options_.client.output = "json";
  EXPECT_EQ(Run(EntityCommand, {"company/tsmc"}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("\"name\": \"TSMC\""));
  EXPECT_EQ(Run(EntityCommand, {}), kExitUsage);
  options_.client.graphstore = kNowhere;
  EXPECT_EQ(Run(EntityCommand, {"company/tsmc"}), kExitUnavailable);
}

TEST_F(CommandsTest, HealthOfOneServer) {
  options_.target = address_;
  EXPECT_EQ(Run(HealthCommand, {}), kExitOk);
  EXPECT_EQ(out_, address_ + " SERVING\n");
  options_.wait = absl::Seconds(5);
  EXPECT_EQ(Run(HealthCommand, {}), kExitOk);
  EXPECT_EQ(out_, address_ + " SERVING\n");

  options_.wait = absl::ZeroDuration();
  options_.target = kNowhere;
  EXPECT_EQ(Run(HealthCommand, {}), kExitUnavailable);
  options_.target = "";
  EXPECT_EQ(Run(HealthCommand, {}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--target is required"));
}

TEST(AddressTest, OptionThenEnvironmentThenEndpointsFileThenDefault) {
  ClientOptions options;
  options.endpoints_file =
      Write("endpoints.env",
            "GEORISK_INGEST=10.0.0.2:7002\nGEORISK_GRAPHSTORE=10.0.0.1:7001\n");
  options.scorer = "10.0.0.3:7003";
  EXPECT_EQ(Address(options, Service::kScorer), "10.0.0.3:7003");
  EXPECT_EQ(Address(options, Service::kIngest), "10.0.0.2:7002");
  ::setenv("GEORISK_INGEST", "10.0.0.9:7009", 1);
  EXPECT_EQ(Address(options, Service::kIngest), "10.0.0.9:7009");
  ::unsetenv("GEORISK_INGEST");
  options.endpoints_file = "";
  EXPECT_EQ(Address(options, Service::kIngest), "127.0.0.1:50052");
  EXPECT_EQ(Address(options, Service::kGraphstore), "127.0.0.1:50051");
}

TEST(AddressTest, GraphstoreShardsFromTheOptionTheEnvironmentOrTheFile) {
  ClientOptions options;
  options.endpoints_file = Write(
      "shards.env", "GEORISK_GRAPHSTORE_SHARDS=10.0.0.1:1, 10.0.0.2:2,\n");
  EXPECT_EQ(GraphstoreShards(options),
            (std::vector<std::string>{"10.0.0.1:1", "10.0.0.2:2"}));
  ::setenv("GEORISK_GRAPHSTORE_SHARDS", "10.0.0.9:9", 1);
  EXPECT_EQ(GraphstoreShards(options), std::vector<std::string>{"10.0.0.9:9"});
  ::unsetenv("GEORISK_GRAPHSTORE_SHARDS");
  options.graphstore_shards = "a:1,b:2,c:3";
  EXPECT_EQ(GraphstoreShards(options),
            (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  options.graphstore_shards = "";
  options.endpoints_file = "";
  EXPECT_TRUE(GraphstoreShards(options).empty());
}

TEST(CommandHelpTest, EveryCommandHasHelp) {
  for (const char* command : {"import", "score", "top", "explain", "scenario",
                              "alerts", "lookup", "entity", "status"}) {
    EXPECT_THAT(CommandHelp(command),
                HasSubstr(absl::StrCat("georiskctl ", command)))
        << command;
  }
  EXPECT_EQ(CommandHelp("nonsense"), "");
}

}  // namespace
}  // namespace georisk::cli
