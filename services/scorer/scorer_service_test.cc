// ScorerService over a ScoreState fed directly (no graphstore), called
// through a real gRPC channel on a loopback port.
#include "services/scorer/scorer_service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"

namespace georisk::scorer {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Supplies;
using ::testing::ElementsAre;
using ::testing::Gt;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);  // 2027-01-15.

// The cross-strait tension signal at `level`.
v1::Signal Tension(double level) {
  return domain::testing::Tension("signal/tension", level);
}

// A Taiwanese fab operated by TSMC, which supplies half of Apple's needs;
// Acme (DE) has no exposure. Tension 0.6 across the strait.
constexpr char kFab[] = "facility/tsmc-hsinchu";
constexpr char kTsmc[] = "company/tsmc";
constexpr char kApple[] = "company/apple";
constexpr char kAcme[] = "company/acme";

class ScorerServiceTest : public ::testing::Test {
 protected:
  ScorerServiceTest() {
    service_options_.watch_heartbeat = absl::Milliseconds(100);
  }

  void SetUp() override {
    const v1::ModelConfig config = DefaultModelConfig();
    model_version_ = config.version();
    auto engine = Engine::Create(config);
    ASSERT_TRUE(engine.ok()) << engine.status();
    state_ = std::make_unique<ScoreState>(
        std::move(*engine), [] { return kNow; }, 1000, &registry_);
    service_ = std::make_unique<ScorerService>(state_.get(), service_options_,
                                               &registry_);
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
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  void LoadDemo() {
    state_->Load({Facility(kFab, "TW"),
                  NamedCompany(kTsmc, "Taiwan Semiconductor", "TW"),
                  Company(kApple, "US"), Company(kAcme, "DE")},
                 {Operates(kTsmc, kFab, 1.0), Supplies(kTsmc, kApple, 0.5)},
                 {Tension(0.6)}, {}, 7);
    ASSERT_TRUE(state_->loaded());
  }

  grpc::Status GetScore(const std::string& id, v1::Score* score) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    return stub_->GetScore(&context, request, score);
  }

  grpc::Status ListTopRisks(const v1::ListTopRisksRequest& request,
                            v1::ListTopRisksResponse* response) {
    grpc::ClientContext context;
    return stub_->ListTopRisks(&context, request, response);
  }

  std::vector<std::string> Ids(const v1::ListTopRisksResponse& page) {
    std::vector<std::string> ids;
    for (const v1::Score& s : page.scores()) ids.push_back(s.entity_id());
    return ids;
  }

  ScorerServiceOptions service_options_;
  common::MetricsRegistry registry_;
  std::string model_version_;
  std::unique_ptr<ScoreState> state_;
  std::unique_ptr<ScorerService> service_;
  std::unique_ptr<common::GrpcServer> server_;
  std::unique_ptr<v1::Scorer::Stub> stub_;
};

TEST_F(ScorerServiceTest, UnavailableUntilLoadedExceptTheModel) {
  v1::Score score;
  grpc::ClientContext context;
  v1::GetScoreRequest request;
  request.set_entity_id(kFab);
  grpc::Status s = stub_->GetScore(&context, request, &score);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("not computed yet"));
  auto pushback =
      context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
  ASSERT_NE(pushback, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(pushback->second.data(), pushback->second.size()),
            "2000");

  v1::ListTopRisksResponse page;
  EXPECT_EQ(ListTopRisks({}, &page).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::ClientContext explain_context;
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(kFab);
  v1::Explanation explanation;
  EXPECT_EQ(
      stub_->ExplainScore(&explain_context, explain, &explanation).error_code(),
      grpc::StatusCode::UNAVAILABLE);

  grpc::ClientContext model_context;
  v1::ModelConfig model;
  ASSERT_TRUE(stub_->GetModel(&model_context, {}, &model).ok());
  EXPECT_EQ(model.version(), model_version_);
  EXPECT_FALSE(model.version().empty());
}

TEST_F(ScorerServiceTest, GetScore) {
  LoadDemo();
  v1::Score fab;
  ASSERT_TRUE(GetScore(kFab, &fab).ok());
  EXPECT_EQ(fab.entity_id(), kFab);
  EXPECT_EQ(fab.entity_kind(), v1::Entity::FACILITY);
  EXPECT_EQ(fab.country(), "TW");
  EXPECT_EQ(fab.model_version(), model_version_);
  EXPECT_EQ(fab.graph_sequence(), 7);
  EXPECT_THAT(fab.composite(), Gt(0.0));

  v1::Score apple, acme;
  ASSERT_TRUE(GetScore(kApple, &apple).ok());
  ASSERT_TRUE(GetScore(kAcme, &acme).ok());
  // Apple is exposed through its supplier, less than the fab itself.
  EXPECT_THAT(apple.composite(), Gt(0.0));
  EXPECT_LT(apple.composite(), fab.composite());
  EXPECT_EQ(acme.composite(), 0.0);
}

TEST_F(ScorerServiceTest, GetScoreErrors) {
  LoadDemo();
  v1::Score score;
  grpc::Status missing = GetScore("company/nobody", &score);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status empty = GetScore("", &score);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(empty.error_message(), HasSubstr("entity_id"));
  grpc::Status long_id = GetScore(std::string(257, 'x'), &score);
  EXPECT_EQ(long_id.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(long_id.error_message(), HasSubstr("must be \"company/<slug>\""));
}

TEST_F(ScorerServiceTest, BatchGetScores) {
  LoadDemo();
  v1::BatchGetScoresRequest request;
  request.add_entity_ids(kApple);
  request.add_entity_ids("company/nobody");
  request.add_entity_ids(kFab);
  {
    grpc::ClientContext context;
    v1::BatchGetScoresResponse response;
    grpc::Status s = stub_->BatchGetScores(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_ids[1]"));
  }
  request.set_allow_missing(true);
  {
    grpc::ClientContext context;
    v1::BatchGetScoresResponse response;
    ASSERT_TRUE(stub_->BatchGetScores(&context, request, &response).ok());
    ASSERT_EQ(response.scores_size(), 2);
    EXPECT_EQ(response.scores(0).entity_id(), kApple);
    EXPECT_EQ(response.scores(1).entity_id(), kFab);
    EXPECT_THAT(response.missing_ids(), ElementsAre("company/nobody"));
  }
  {
    grpc::ClientContext context;
    v1::BatchGetScoresResponse response;
    grpc::Status s = stub_->BatchGetScores(&context, {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_ids"));
  }
  {
    v1::BatchGetScoresRequest bad;
    bad.add_entity_ids(kApple);
    bad.add_entity_ids("");
    grpc::ClientContext context;
    v1::BatchGetScoresResponse response;
    grpc::Status s = stub_->BatchGetScores(&context, bad, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("entity_ids[1]"));
  }
  {
    v1::BatchGetScoresRequest big;
    for (int i = 0; i < 1001; ++i) big.add_entity_ids(kApple);
    grpc::ClientContext context;
    v1::BatchGetScoresResponse response;
    grpc::Status s = stub_->BatchGetScores(&context, big, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("at most 1000"));
  }
}

TEST_F(ScorerServiceTest, ListTopRisksRanksAndFilters) {
  LoadDemo();
  v1::ListTopRisksResponse all;
  ASSERT_TRUE(ListTopRisks({}, &all).ok());
  EXPECT_EQ(all.total_size(), 4);
  ASSERT_EQ(all.scores_size(), 4);
  for (int i = 1; i < all.scores_size(); ++i) {
    EXPECT_GE(all.scores(i - 1).composite(), all.scores(i).composite());
  }
  EXPECT_EQ(all.scores(3).entity_id(), kAcme);
  EXPECT_THAT(all.next_page_token(), IsEmpty());

  v1::ListTopRisksRequest us;
  us.set_country("US");
  v1::ListTopRisksResponse us_page;
  ASSERT_TRUE(ListTopRisks(us, &us_page).ok());
  EXPECT_THAT(Ids(us_page), ElementsAre(kApple));

  v1::ListTopRisksRequest facilities;
  facilities.set_entity_kind(v1::Entity::FACILITY);
  v1::ListTopRisksResponse facility_page;
  ASSERT_TRUE(ListTopRisks(facilities, &facility_page).ok());
  EXPECT_THAT(Ids(facility_page), ElementsAre(kFab));

  v1::ListTopRisksRequest exposed;
  exposed.set_min_score(0.001);
  v1::ListTopRisksResponse exposed_page;
  ASSERT_TRUE(ListTopRisks(exposed, &exposed_page).ok());
  EXPECT_THAT(Ids(exposed_page), UnorderedElementsAre(kFab, kTsmc, kApple));

  v1::ListTopRisksRequest tariffs;
  tariffs.set_factor(v1::FACTOR_TARIFFS);
  tariffs.set_min_score(0.001);
  v1::ListTopRisksResponse tariff_page;
  ASSERT_TRUE(ListTopRisks(tariffs, &tariff_page).ok());
  EXPECT_THAT(Ids(tariff_page), IsEmpty());
}

TEST_F(ScorerServiceTest, ListTopRisksPages) {
  LoadDemo();
  v1::ListTopRisksResponse all;
  ASSERT_TRUE(ListTopRisks({}, &all).ok());
  std::vector<std::string> paged;
  v1::ListTopRisksRequest request;
  request.set_page_size(1);
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListTopRisksResponse page;
    ASSERT_TRUE(ListTopRisks(request, &page).ok());
    ASSERT_LE(page.scores_size(), 1);
    for (const v1::Score& s : page.scores()) paged.push_back(s.entity_id());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(paged, Ids(all));
}

TEST_F(ScorerServiceTest, ListTopRisksErrorsNameTheField) {
  LoadDemo();
  struct Case {
    std::string field;
    v1::ListTopRisksRequest request;
  };
  std::vector<Case> cases(6);
  cases[0].field = "page_size";
  cases[0].request.set_page_size(-1);
  cases[1].field = "min_score";
  cases[1].request.set_min_score(101);
  cases[2].field = "country";
  cases[2].request.set_country("USA");
  cases[3].field = "factor";
  cases[3].request.set_factor(static_cast<v1::Factor>(99));
  cases[4].field = "entity_kind";
  cases[4].request.set_entity_kind(static_cast<v1::Entity::Kind>(99));
  cases[5].field = "page_token";
  cases[5].request.set_page_token("not a token");
  for (const Case& c : cases) {
    v1::ListTopRisksResponse page;
    grpc::Status s = ListTopRisks(c.request, &page);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
}

TEST_F(ScorerServiceTest, ListTopRisksWithReasons) {
  LoadDemo();
  v1::ListTopRisksRequest request;
  v1::ListTopRisksResponse plain;
  ASSERT_TRUE(ListTopRisks(request, &plain).ok());
  EXPECT_THAT(plain.main_reasons(), IsEmpty());
  request.set_include_reasons(true);
  v1::ListTopRisksResponse page;
  ASSERT_TRUE(ListTopRisks(request, &page).ok());
  ASSERT_EQ(page.main_reasons_size(), page.scores_size());
  ASSERT_GT(page.scores_size(), 0);
  // Each is the first contribution of the entity's ExplainScore; Acme has
  // none, so an empty Contribution.
  for (int i = 0; i < page.scores_size(); ++i) {
    grpc::ClientContext context;
    v1::ExplainScoreRequest explain;
    explain.set_entity_id(page.scores(i).entity_id());
    v1::Explanation e;
    ASSERT_TRUE(stub_->ExplainScore(&context, explain, &e).ok());
    if (e.contributions().empty()) {
      EXPECT_EQ(page.scores(i).entity_id(), kAcme);
      EXPECT_EQ(page.main_reasons(i).ByteSizeLong(), 0u);
    } else {
      EXPECT_EQ(page.main_reasons(i).SerializeAsString(),
                e.contributions(0).SerializeAsString())
          << page.scores(i).entity_id();
    }
  }
}

TEST_F(ScorerServiceTest, ListNeighbours) {
  LoadDemo();
  grpc::ClientContext context;
  v1::ListNeighboursRequest request;
  request.set_entity_id(kTsmc);
  request.set_direction(v1::DIRECTION_BOTH);
  v1::ListNeighboursResponse page;
  grpc::Status s = stub_->ListNeighbours(&context, request, &page);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(page.neighbours_size(), 2);
  // TSMC operates the fab (outbound, OPERATES before SUPPLIES) and
  // supplies Apple, its customer.
  EXPECT_EQ(page.neighbours(0).entity_id(), kFab);
  EXPECT_EQ(page.neighbours(0).direction(), v1::DIRECTION_OUTBOUND);
  EXPECT_EQ(page.neighbours(0).edge().kind(), v1::Edge::OPERATES);
  EXPECT_TRUE(page.neighbours(0).propagates());
  EXPECT_EQ(page.neighbours(1).entity_id(), kApple);
  EXPECT_EQ(page.neighbours(1).edge().from_id(), kTsmc);
  EXPECT_EQ(page.neighbours(1).edge().to_id(), kApple);
  v1::Score apple;
  ASSERT_TRUE(GetScore(kApple, &apple).ok());
  EXPECT_EQ(page.neighbours(1).composite(), apple.composite());
  EXPECT_EQ(page.total_size(), 2);
}

TEST_F(ScorerServiceTest, ListNeighboursErrorsNameTheField) {
  v1::ListNeighboursRequest request;
  request.set_entity_id(kTsmc);
  {
    grpc::ClientContext context;
    v1::ListNeighboursResponse page;
    EXPECT_EQ(stub_->ListNeighbours(&context, request, &page).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  LoadDemo();
  auto call = [&](const v1::ListNeighboursRequest& r) {
    grpc::ClientContext context;
    v1::ListNeighboursResponse page;
    return stub_->ListNeighbours(&context, r, &page);
  };
  v1::ListNeighboursRequest bad = request;
  bad.set_entity_id("");
  EXPECT_EQ(call(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(call(bad).error_message(), HasSubstr("entity_id"));
  bad.set_entity_id("not an id");
  EXPECT_EQ(call(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_entity_id("company/nobody");
  EXPECT_EQ(call(bad).error_code(), grpc::StatusCode::NOT_FOUND);
  bad = request;
  bad.set_page_size(-1);
  EXPECT_EQ(call(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(call(bad).error_message(), HasSubstr("page_size"));
  bad = request;
  bad.set_direction(static_cast<v1::Direction>(17));
  EXPECT_THAT(call(bad).error_message(), HasSubstr("direction"));
  bad = request;
  bad.add_kinds(static_cast<v1::Edge::Kind>(99));
  EXPECT_EQ(call(bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(call(bad).error_message(), HasSubstr("kinds[0]"));
  bad = request;
  bad.set_page_token("garbage");
  EXPECT_THAT(call(bad).error_message(), HasSubstr("page_token"));
}

TEST_F(ScorerServiceTest, ExplainScore) {
  LoadDemo();
  v1::ExplainScoreRequest request;
  request.set_entity_id(kApple);
  {
    grpc::ClientContext context;
    v1::Explanation explanation;
    ASSERT_TRUE(stub_->ExplainScore(&context, request, &explanation).ok());
    EXPECT_EQ(explanation.score().entity_id(), kApple);
    ASSERT_GT(explanation.contributions_size(), 0);
    EXPECT_TRUE(explanation.contributions(0).has_upstream());
    ASSERT_GT(explanation.paths_size(), 0);
    EXPECT_THAT(explanation.paths(0).summary(),
                HasSubstr("Taiwan Semiconductor"));
  }
  request.set_max_paths(21);
  {
    grpc::ClientContext context;
    v1::Explanation explanation;
    grpc::Status s = stub_->ExplainScore(&context, request, &explanation);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("max_paths"));
  }
  request.set_max_paths(0);
  request.set_max_depth(-1);
  {
    grpc::ClientContext context;
    v1::Explanation explanation;
    grpc::Status s = stub_->ExplainScore(&context, request, &explanation);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("max_depth"));
  }
  {
    v1::ExplainScoreRequest unknown;
    unknown.set_entity_id("company/nobody");
    grpc::ClientContext context;
    v1::Explanation explanation;
    EXPECT_EQ(stub_->ExplainScore(&context, unknown, &explanation).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(ScorerServiceTest, RunScenarioLeavesLiveScoresAlone) {
  LoadDemo();
  v1::Score before;
  ASSERT_TRUE(GetScore(kFab, &before).ok());
  v1::RunScenarioRequest request;
  request.mutable_scenario()->set_name("escalation");
  *request.mutable_scenario()->add_overrides()->mutable_upsert_signal() =
      Tension(0.9);
  {
    grpc::ClientContext context;
    v1::RunScenarioResponse response;
    ASSERT_TRUE(stub_->RunScenario(&context, request, &response).ok());
    EXPECT_EQ(response.name(), "escalation");
    EXPECT_EQ(response.graph_sequence(), 7);
    EXPECT_EQ(response.model_version(), model_version_);
    std::vector<std::string> moved;
    for (const v1::ScoreDelta& d : response.deltas()) {
      moved.push_back(d.entity_id());
      EXPECT_THAT(d.delta(), Gt(0.0)) << d.entity_id();
      EXPECT_DOUBLE_EQ(d.delta(),
                       d.after().composite() - d.before().composite());
    }
    EXPECT_THAT(moved, UnorderedElementsAre(kFab, kTsmc, kApple));
  }
  v1::Score after;
  ASSERT_TRUE(GetScore(kFab, &after).ok());
  EXPECT_EQ(after.composite(), before.composite());
}

TEST_F(ScorerServiceTest, RunScenarioErrors) {
  LoadDemo();
  {
    grpc::ClientContext context;
    v1::RunScenarioResponse response;
    grpc::Status s = stub_->RunScenario(&context, {}, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("scenario"));
  }
  {
    v1::RunScenarioRequest request;
    request.mutable_scenario();
    request.set_min_delta(-1);
    grpc::ClientContext context;
    v1::RunScenarioResponse response;
    grpc::Status s = stub_->RunScenario(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("min_delta"));
  }
  {
    v1::RunScenarioRequest request;
    request.mutable_scenario();
    request.set_max_results(1001);
    grpc::ClientContext context;
    v1::RunScenarioResponse response;
    grpc::Status s = stub_->RunScenario(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("max_results"));
  }
  {
    // A malformed override: a signal without an id.
    v1::RunScenarioRequest request;
    v1::Signal* bad =
        request.mutable_scenario()->add_overrides()->mutable_upsert_signal();
    *bad = Tension(0.9);
    bad->clear_id();
    grpc::ClientContext context;
    v1::RunScenarioResponse response;
    grpc::Status s = stub_->RunScenario(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("overrides[0]"));
  }
}

TEST_F(ScorerServiceTest, RunScenarioOverrideLimit) {
  service_options_.max_scenario_overrides = 1;
  TearDown();
  SetUp();
  LoadDemo();
  v1::RunScenarioRequest request;
  for (int i = 0; i < 2; ++i) {
    *request.mutable_scenario()->add_overrides()->mutable_upsert_signal() =
        Tension(0.9);
  }
  grpc::ClientContext context;
  v1::RunScenarioResponse response;
  grpc::Status s = stub_->RunScenario(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("scenario.overrides"));
}

TEST_F(ScorerServiceTest, WatchScoreChangesStreamsLiveChanges) {
  LoadDemo();
  v1::Score before;
  ASSERT_TRUE(GetScore(kFab, &before).ok());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::WatchScoreChangesRequest request;
  request.add_entity_ids(kFab);
  auto reader = stub_->WatchScoreChanges(&context, request);
  // The stream starts at the log's head when the call arrives: wait until
  // the server holds it (initial metadata comes at the latest with the
  // first heartbeat).
  reader->WaitForInitialMetadata();

  v1::Change change;
  change.set_sequence(8);
  *change.add_mutations()->mutable_upsert_signal() = Tension(0.9);
  state_->Apply({change}, 8);

  v1::WatchScoreChangesResponse response;
  bool got = false;
  while (!got && reader->Read(&response)) {
    for (const v1::ScoreChange& c : response.changes()) {
      EXPECT_EQ(c.after().entity_id(), kFab);
      EXPECT_EQ(c.graph_sequence(), 8);
      EXPECT_EQ(c.before().composite(), before.composite());
      EXPECT_GT(c.after().composite(), before.composite());
      got = true;
    }
  }
  EXPECT_TRUE(got);
  context.TryCancel();
  reader->Finish();
}

TEST_F(ScorerServiceTest, WatchScoreChangesRefusesBadFilters) {
  LoadDemo();
  v1::WatchScoreChangesRequest request;
  request.set_min_delta(-1);
  grpc::ClientContext context;
  auto reader = stub_->WatchScoreChanges(&context, request);
  v1::WatchScoreChangesResponse response;
  EXPECT_FALSE(reader->Read(&response));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("min_delta"));

  v1::WatchScoreChangesRequest bad_country;
  bad_country.set_country("usa");
  grpc::ClientContext country_context;
  auto country_reader = stub_->WatchScoreChanges(&country_context, bad_country);
  EXPECT_FALSE(country_reader->Read(&response));
  grpc::Status cs = country_reader->Finish();
  EXPECT_EQ(cs.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(cs.error_message(), HasSubstr("country"));
}

TEST_F(ScorerServiceTest, ShutdownEndsWatchersWithUnavailable) {
  LoadDemo();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  auto reader = stub_->WatchScoreChanges(&context, {});
  reader->WaitForInitialMetadata();
  service_->Shutdown();
  v1::WatchScoreChangesResponse response;
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace georisk::scorer
