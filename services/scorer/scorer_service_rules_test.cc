// ScorerService's request rules (issue #15), through a real gRPC channel on
// 127.0.0.1:0 over a ScoreState fed directly: every entity id field follows
// GraphStore.GetEntity's rule (a malformed id is INVALID_ARGUMENT naming the
// field, a well-formed unknown one NOT_FOUND), GetModel shows the alert rules
// in force, and GetScore, BatchGetScores and ExplainScore answer as of a
// date.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/scorer_service.h"

namespace georisk::scorer {
namespace {

using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Window;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);  // 2027-01-15.
constexpr char kFab[] = "facility/fab";

// A revocation of the fab in force [from, until).
v1::Signal Revocation(const std::string& id, double severity, absl::Time from,
                      absl::Time until) {
  return Window(Revoked(id, "US-BIS", {kFab}, severity), from, until);
}

class ScorerServiceRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Create(DefaultModelConfig());
    ASSERT_TRUE(engine.ok()) << engine.status();
    state_ = std::make_unique<ScoreState>(
        std::move(*engine), [] { return kNow; }, 1000);
    service_ = std::make_unique<ScorerService>(
        state_.get(), ScorerServiceOptions{}, &registry_);
    common::ServerOptions options;
    options.service_name = "scorer";
    options.metrics_address = "";
    options.shutdown_grace = absl::Seconds(2);
    auto server = common::GrpcServer::Start(
        options, {{service_.get(), v1::Scorer::service_full_name()}},
        &registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->AddShutdownHook([this] { service_->Shutdown(); });
    stub_ = v1::Scorer::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
    // A revocation that starts in the future (0.5 from 2028) and one that
    // ended (0.4 in 2026): now (2027-01-15) neither counts.
    state_->Load(
        {Facility(kFab, "DE")}, {},
        {Revocation(
             "signal/future", 0.5,
             absl::FromCivil(absl::CivilDay(2028, 1, 1), absl::UTCTimeZone()),
             absl::InfiniteFuture()),
         Revocation(
             "signal/ended", 0.4,
             absl::FromCivil(absl::CivilDay(2026, 1, 1), absl::UTCTimeZone()),
             absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone()))},
        {}, 7);
    ASSERT_TRUE(state_->loaded());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  static google::protobuf::Timestamp Day(int year, int month, int day) {
    return base::ToProtoTime(
        absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone()));
  }

  grpc::Status GetScore(const v1::GetScoreRequest& request, v1::Score* score) {
    grpc::ClientContext context;
    return stub_->GetScore(&context, request, score);
  }

  common::MetricsRegistry registry_;
  std::unique_ptr<ScoreState> state_;
  std::unique_ptr<ScorerService> service_;
  std::unique_ptr<common::GrpcServer> server_;
  std::unique_ptr<v1::Scorer::Stub> stub_;
};

TEST_F(ScorerServiceRulesTest, MalformedIdsAreInvalidArgumentEverywhere) {
  // Each malformed: no kind, an unknown kind, upper case, too long.
  for (const std::string& bad :
       {std::string("fab"), std::string("signal/fab"),
        std::string("facility/Fab"), "facility/" + std::string(200, 'a')}) {
    SCOPED_TRACE(bad);
    v1::GetScoreRequest get;
    get.set_entity_id(bad);
    v1::Score score;
    grpc::Status s = GetScore(get, &score);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_id: must be"));

    grpc::ClientContext batch_context;
    v1::BatchGetScoresRequest batch;
    batch.add_entity_ids(kFab);
    batch.add_entity_ids(bad);
    batch.set_allow_missing(true);  // Malformed is not missing.
    v1::BatchGetScoresResponse batch_response;
    s = stub_->BatchGetScores(&batch_context, batch, &batch_response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_ids[1]: must be"));

    grpc::ClientContext explain_context;
    v1::ExplainScoreRequest explain;
    explain.set_entity_id(bad);
    v1::Explanation explanation;
    s = stub_->ExplainScore(&explain_context, explain, &explanation);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_id: must be"));

    grpc::ClientContext watch_context;
    v1::WatchScoreChangesRequest watch;
    watch.add_entity_ids(kFab);
    watch.add_entity_ids(bad);
    auto reader = stub_->WatchScoreChanges(&watch_context, watch);
    v1::WatchScoreChangesResponse response;
    EXPECT_FALSE(reader->Read(&response));
    s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_ids[1]: must be"));
  }
  // Well-formed but unknown: NOT_FOUND, and missing with allow_missing.
  v1::GetScoreRequest get;
  get.set_entity_id("facility/nobody");
  v1::Score score;
  EXPECT_EQ(GetScore(get, &score).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext context;
  v1::BatchGetScoresRequest batch;
  batch.add_entity_ids("company/nobody");
  batch.set_allow_missing(true);
  v1::BatchGetScoresResponse response;
  ASSERT_TRUE(stub_->BatchGetScores(&context, batch, &response).ok());
  ASSERT_EQ(response.missing_ids_size(), 1);
}

TEST_F(ScorerServiceRulesTest, GetModelShowsTheBuiltInAlertRulesInForce) {
  grpc::ClientContext context;
  v1::ModelConfig config;
  ASSERT_TRUE(stub_->GetModel(&context, v1::GetModelRequest(), &config).ok());
  ASSERT_EQ(config.alert_rules_size(), 3);
  EXPECT_EQ(config.alert_rules(0).name(), "risk_band_high");
  EXPECT_EQ(config.alert_rules(1).name(), "risk_band_critical");
  EXPECT_EQ(config.alert_rules(2).name(), "risk_jump");
  EXPECT_EQ(config.alert_rules(2).jump().min_points(), 10);
}

TEST_F(ScorerServiceRulesTest, ScoresAndExplanationsAsOfADate) {
  v1::GetScoreRequest get;
  get.set_entity_id(kFab);
  v1::Score score;
  ASSERT_TRUE(GetScore(get, &score).ok());
  EXPECT_EQ(score.composite(), 0);  // Now: neither revocation.

  *get.mutable_as_of() = Day(2028, 6, 1);  // The future one counts.
  ASSERT_TRUE(GetScore(get, &score).ok());
  EXPECT_NEAR(score.composite(), 50, 1e-9);
  EXPECT_EQ(score.as_of().seconds(), Day(2028, 6, 1).seconds());

  grpc::ClientContext batch_context;
  v1::BatchGetScoresRequest batch;
  batch.add_entity_ids(kFab);
  *batch.mutable_as_of() = Day(2026, 6, 1);  // The ended one counted then.
  v1::BatchGetScoresResponse batch_response;
  ASSERT_TRUE(
      stub_->BatchGetScores(&batch_context, batch, &batch_response).ok());
  ASSERT_EQ(batch_response.scores_size(), 1);
  EXPECT_NEAR(batch_response.scores(0).composite(), 40, 1e-9);

  grpc::ClientContext explain_context;
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(kFab);
  *explain.mutable_as_of() = Day(2026, 6, 1);
  v1::Explanation explanation;
  ASSERT_TRUE(
      stub_->ExplainScore(&explain_context, explain, &explanation).ok());
  ASSERT_GT(explanation.contributions_size(), 0);
  EXPECT_EQ(explanation.contributions(0).direct().signal_id(), "signal/ended");

  // Live scores did not move.
  get.clear_as_of();
  ASSERT_TRUE(GetScore(get, &score).ok());
  EXPECT_EQ(score.composite(), 0);

  // A date outside Timestamp's range is named.
  get.mutable_as_of()->set_seconds(-62135596801);  // Year 0.
  grpc::Status s = GetScore(get, &score);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("as_of"));
}

}  // namespace
}  // namespace georisk::scorer
