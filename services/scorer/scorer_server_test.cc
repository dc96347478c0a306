// ScorerServer end to end in one process: a real GraphStoreService over a
// real RocksDbGraphStore in TEST_TMPDIR, the scorer following it, both on
// loopback port 0.
#include "services/scorer/scorer_server.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/graphstore/graphstore_service.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::scorer {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::Window;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Gt;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);  // 2027-01-15.

constexpr char kTension[] = "signal/tension";
constexpr char kFab[] = "facility/tsmc-hsinchu";
constexpr char kTsmc[] = "company/tsmc";

class ScorerServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartGraphStore(); }

  void TearDown() override {
    scorer_.reset();
    if (graphstore_server_ != nullptr) graphstore_server_->Shutdown();
  }

  void StartGraphStore() {
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    graphstore_service_ = std::make_unique<graphstore::GraphStoreService>(
        store_.get(), graphstore::GraphStoreServiceOptions{},
        &graphstore_registry_);
    common::ServerOptions server_options;
    server_options.service_name = "graphstore";
    server_options.metrics_address = "";
    server_options.shutdown_grace = absl::Seconds(2);
    auto server = common::GrpcServer::Start(
        server_options,
        {{graphstore_service_.get(), v1::GraphStore::service_full_name()}},
        &graphstore_registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    graphstore_server_ = std::move(*server);
    graphstore_server_->AddShutdownHook(
        [this] { graphstore_service_->Shutdown(); });
  }

  void Apply(std::vector<v1::Mutation> mutations) {
    auto applied = store_->Apply(mutations, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  ScorerServerOptions Options() {
    ScorerServerOptions options;
    options.data_dir = dir_ + "/scorer";
    options.server.metrics_address = "";
    options.server.shutdown_grace = absl::Seconds(2);
    options.graphstore.target =
        absl::StrCat("127.0.0.1:", graphstore_server_->port());
    options.feed.retry_initial = absl::Milliseconds(20);
    options.feed.retry_max = absl::Milliseconds(200);
    options.clock = [] { return kNow; };
    return options;
  }

  void StartScorer(ScorerServerOptions options) {
    auto started = ScorerServer::Start(std::move(options));
    ASSERT_TRUE(started.ok()) << started.status();
    scorer_ = std::move(*started);
    stub_ = v1::Scorer::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", scorer_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  // Polls GetScore (a deadline, not a sleep: the machine may be slow) until
  // the score reflects `sequence`.
  v1::Score ScoreAt(const std::string& id, int64_t sequence) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    v1::Score score;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(id);
      if (stub_->GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        return score;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << id << " never scored at sequence " << sequence;
    return score;
  }

  // The alert log's records, newest first (one page: the tests' logs are
  // short).
  std::vector<v1::Alert> Alerts() {
    auto alerts = v1::Alerts::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", scorer_->port()),
                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::ListAlertsResponse response;
    grpc::Status listed = alerts->ListAlerts(&context, {}, &response);
    EXPECT_TRUE(listed.ok()) << listed.error_message();
    return {response.alerts().begin(), response.alerts().end()};
  }

  std::string dir_ = base::testing::MakeTempDir("scorer");
  common::MetricsRegistry graphstore_registry_;
  std::unique_ptr<storage::RocksDbGraphStore> store_;
  std::unique_ptr<graphstore::GraphStoreService> graphstore_service_;
  std::unique_ptr<common::GrpcServer> graphstore_server_;
  std::unique_ptr<ScorerServer> scorer_;
  std::unique_ptr<v1::Scorer::Stub> stub_;
};

TEST_F(ScorerServerTest, FollowsTheGraphAndServesScoresAndAlertRules) {
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Company(kTsmc, "TW")),
         Upsert(Operates(kTsmc, kFab, 1.0)), Upsert(Tension(kTension, 0.5))});
  StartScorer(Options());
  v1::Score first = ScoreAt(kFab, 1);
  EXPECT_EQ(first.graph_sequence(), 1);
  EXPECT_THAT(first.composite(), Gt(0.0));
  EXPECT_TRUE(scorer_->state().loaded());

  Apply({Upsert(Tension(kTension, 0.9))});
  v1::Score second = ScoreAt(kFab, 2);
  EXPECT_EQ(second.graph_sequence(), 2);
  EXPECT_GT(second.composite(), first.composite());
  // The follower hands a change to the engine before it records its
  // sequence: the score may be visible a moment earlier.
  for (int i = 0; i < 1000 && scorer_->follower().applied_sequence() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(scorer_->follower().applied_sequence(), 2);

  auto alerts = v1::Alerts::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", scorer_->port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::GetAlertRulesResponse rules;
  ASSERT_TRUE(alerts->GetAlertRules(&context, {}, &rules).ok());
  EXPECT_GT(rules.rules_size(), 0);
  EXPECT_FALSE(rules.model_version().empty());
}

// docs/scoring-model.md 7: an alert a link caused takes its reasons from the
// explanation, which names the link (method, score, evidence, reviewer).
TEST_F(ScorerServerTest, AnAlertALinkRaisedNamesTheLink) {
  constexpr char kAcme[] = "company/acme";
  constexpr char kListed[] = "company/csl-el-1";
  Apply({Upsert(NamedCompany(kAcme, "Acme Fab Tools", "CN")),
         Upsert(NamedCompany(kListed, "ACME FAB TOOLS CO. LTD.", "CN")),
         Upsert(Listing("signal/el-acme", "US-BIS", {kListed}, 0.9))});
  StartScorer(Options());
  EXPECT_EQ(ScoreAt(kAcme, store_->LastSequence()).composite(), 0);

  v1::Mutation m;
  v1::Link* link = m.mutable_upsert_link();
  link->set_entity_a(kAcme);
  link->set_entity_b(kListed);
  link->set_judgement(v1::Link::POSITIVE);
  link->set_method(v1::Link::NAME);
  link->set_score(0.93);
  (*link->mutable_features())["country"] = 1;
  link->add_evidence("'ACME FAB TOOLS CO. LTD.' ~ 'Acme Fab Tools'");
  link->set_decided_by("reviewer:alice");
  link->mutable_decided_at()->set_seconds(absl::ToUnixSeconds(kNow));
  link->set_source("test");
  Apply({m});
  EXPECT_THAT(ScoreAt(kAcme, store_->LastSequence()).composite(), Gt(80));

  const std::string names_link =
      "as 'ACME FAB TOOLS CO. LTD.' (company/csl-el-1), linked to Acme Fab "
      "Tools by name and country, score 0.93 ('ACME FAB TOOLS CO. LTD.' ~ "
      "'Acme Fab Tools'), confirmed by alice";
  // The alert log is written by a listener just after the score moves.
  std::vector<v1::Alert> acme;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (acme.empty() && absl::Now() < deadline) {
    for (const v1::Alert& a : Alerts()) {
      EXPECT_NE(a.entity_id(), kListed) << "its score did not move";
      if (a.entity_id() == kAcme) acme.push_back(a);
    }
    if (acme.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(acme.empty()) << "no alert for " << kAcme;
  for (const v1::Alert& a : acme) {
    EXPECT_THAT(a.reasons(), Contains(AllOf(HasSubstr("listed by US-BIS"),
                                            HasSubstr(names_link))))
        << a.DebugString();
  }
}

// Issue 20: a company already critical at the first full score (no alert:
// the full score is no change) must not fire when a later change moves its
// score inside the band; the company that change takes into the band does.
TEST_F(ScorerServerTest, OnlyEntriesIntoABandFireAfterTheFirstFullScore) {
  constexpr char kListed[] = "company/listed";
  constexpr char kNext[] = "company/next";
  Apply({Upsert(Company(kListed, "TW")), Upsert(Company(kNext, "TW")),
         Upsert(Listing("signal/el-1", "US-BIS", {kListed}, 0.9)),
         Upsert(Tension(kTension, 0.3))});
  StartScorer(Options());
  const v1::Score before = ScoreAt(kListed, store_->LastSequence());
  ASSERT_GE(before.composite(), 80) << before.ShortDebugString();

  // One change: the tension rises (the listed company moves inside the
  // critical band) and the other company is listed (it enters it).
  Apply({Upsert(Tension(kTension, 0.35)),
         Upsert(Listing("signal/el-2", "US-BIS", {kNext}, 0.9))});
  const int64_t sequence = store_->LastSequence();
  const v1::Score after = ScoreAt(kListed, sequence);
  ASSERT_NE(after.composite(), before.composite());
  ASSERT_GE(after.composite(), 80);
  ASSERT_GE(ScoreAt(kNext, sequence).composite(), 80);

  // One change's records are one write: once the entering company's are
  // listed, any of the other's would be too.
  std::vector<v1::Alert> listed;
  std::vector<std::string> next_rules;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (next_rules.empty() && absl::Now() < deadline) {
    listed.clear();
    for (const v1::Alert& a : Alerts()) {
      if (a.entity_id() == kListed) listed.push_back(a);
      if (a.entity_id() == kNext) next_rules.push_back(a.rule_name());
    }
    if (next_rules.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(next_rules, Contains("risk_band_critical"));
  EXPECT_THAT(next_rules, Contains("risk_band_high"));
  EXPECT_TRUE(listed.empty()) << listed[0].ShortDebugString();
}

TEST_F(ScorerServerTest, ScoresAtTheInjectedClock) {
  // The signal takes effect a year after the scorer's clock: no exposure.
  Apply({Upsert(Facility(kFab, "TW")),
         Upsert(Window(Tension(kTension, 0.9), kNow + absl::Hours(24 * 365),
                       absl::InfiniteFuture()))});
  StartScorer(Options());
  EXPECT_EQ(ScoreAt(kFab, 1).composite(), 0.0);
}

TEST_F(ScorerServerTest, ShutdownStopsEverythingAndWaitReturns) {
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Tension(kTension, 0.5))});
  StartScorer(Options());
  ScoreAt(kFab, 1);
  absl::Notification waited;
  std::thread waiter([&] {
    scorer_->Wait();
    waited.Notify();
  });
  EXPECT_FALSE(waited.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  scorer_->Shutdown();
  waiter.join();
  EXPECT_TRUE(waited.HasBeenNotified());
  scorer_->Shutdown();  // Idempotent.
  scorer_->Wait();      // Returns at once.

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  v1::GetScoreRequest request;
  request.set_entity_id(kFab);
  v1::Score score;
  EXPECT_EQ(stub_->GetScore(&context, request, &score).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ScorerServerTest, RestartResumesFromItsMirrorWithoutGraphStore) {
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Tension(kTension, 0.5))});
  StartScorer(Options());
  const double composite = ScoreAt(kFab, 1).composite();
  scorer_.reset();
  ScorerServerOptions options = Options();
  graphstore_server_->Shutdown();
  StartScorer(std::move(options));
  v1::Score again = ScoreAt(kFab, 1);
  EXPECT_EQ(again.composite(), composite);
}

// Polls GetScoreHistory until `id` has at least `count` points.
std::vector<v1::ScoreHistoryPoint> HistoryOf(v1::Scorer::Stub* stub,
                                             const std::string& id, int count) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  v1::GetScoreHistoryResponse response;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    v1::GetScoreHistoryRequest request;
    request.set_entity_id(id);
    response.Clear();
    if (stub->GetScoreHistory(&context, request, &response).ok() &&
        response.points_size() >= count) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GE(response.points_size(), count) << id;
  return {response.points().begin(), response.points().end()};
}

TEST_F(ScorerServerTest, HistoryKeepsMovesWithReasonsAcrossRestartAndLoss) {
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Tension(kTension, 0.5))});
  auto now = std::make_shared<std::atomic<int64_t>>(absl::ToUnixSeconds(kNow));
  ScorerServerOptions options = Options();
  options.clock = [now] { return absl::FromUnixSeconds(now->load()); };
  StartScorer(options);
  std::vector<v1::ScoreHistoryPoint> points = HistoryOf(stub_.get(), kFab, 1);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].rebuild());   // A new history: it starts here.
  EXPECT_EQ(points[0].reason(), "");  // A baseline: no move to explain.
  EXPECT_EQ(points[0].graph_sequence(), 1);
  const double first = points[0].composite();

  now->store(absl::ToUnixSeconds(kNow + absl::Hours(1)));
  Apply({Upsert(Tension(kTension, 0.9))});
  points = HistoryOf(stub_.get(), kFab, 2);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_FALSE(points[1].rebuild());
  EXPECT_EQ(points[1].graph_sequence(), 2);
  EXPECT_GT(points[1].composite(), first);
  EXPECT_EQ(points[1].time().seconds(),
            absl::ToUnixSeconds(kNow + absl::Hours(1)));
  EXPECT_THAT(points[1].reason(), HasSubstr("tension"));
  EXPECT_FALSE(points[1].model_version().empty());

  // As of a time between the two points: the first one, from the history.
  {
    grpc::ClientContext context;
    v1::GetScoreHistoryRequest request;
    request.set_entity_id(kFab);
    request.mutable_as_of()->set_seconds(
        absl::ToUnixSeconds(kNow + absl::Minutes(30)));
    v1::GetScoreHistoryResponse response;
    ASSERT_TRUE(stub_->GetScoreHistory(&context, request, &response).ok());
    ASSERT_EQ(response.points_size(), 1);
    EXPECT_EQ(response.points(0).composite(), first);
  }

  // A restart: the same points, and no new one (nothing moved).
  scorer_.reset();
  StartScorer(options);
  ScoreAt(kFab, 2);
  points = HistoryOf(stub_.get(), kFab, 2);
  EXPECT_EQ(points.size(), 2u);

  // The history lost: it restarts at the first full score, marked so.
  scorer_.reset();
  std::filesystem::remove_all(dir_ + "/scorer/history");
  StartScorer(options);
  points = HistoryOf(stub_.get(), kFab, 1);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].rebuild());
  EXPECT_EQ(points[0].graph_sequence(), 2);
}

TEST_F(ScorerServerTest, RestartRecordsWhatMovedWhileDownWithItsReason) {
  // A second tension signal takes effect an hour after the first start: the
  // scorer is down then, and the restart's full score (two hours later)
  // sees it.
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Tension(kTension, 0.2)),
         Upsert(Window(Tension("signal/tension-later", 0.9),
                       kNow + absl::Hours(1), absl::InfiniteFuture()))});
  auto now = std::make_shared<std::atomic<int64_t>>(absl::ToUnixSeconds(kNow));
  ScorerServerOptions options = Options();
  options.clock = [now] { return absl::FromUnixSeconds(now->load()); };
  StartScorer(options);
  std::vector<v1::ScoreHistoryPoint> points = HistoryOf(stub_.get(), kFab, 1);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].rebuild());
  EXPECT_EQ(points[0].reason(), "");  // A baseline explains no move.
  const double first = points[0].composite();

  scorer_.reset();
  now->store(absl::ToUnixSeconds(kNow + absl::Hours(2)));
  StartScorer(options);
  points = HistoryOf(stub_.get(), kFab, 2);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_TRUE(points[0].rebuild());
  EXPECT_FALSE(points[1].rebuild());
  EXPECT_GT(points[1].composite(), first);
  EXPECT_EQ(points[1].time().seconds(),
            absl::ToUnixSeconds(kNow + absl::Hours(2)));
  EXPECT_EQ(points[1].graph_sequence(), 1);
  EXPECT_THAT(points[1].reason(), HasSubstr("tension"));

  // Another restart with nothing moved: no new point. The restart's
  // points are written before any later change is applied, so once the
  // change's point is there the restart wrote all it would.
  scorer_.reset();
  StartScorer(options);
  Apply({Upsert(Window(Tension("signal/tension-later", 0.3),
                       kNow + absl::Hours(1), absl::InfiniteFuture()))});
  ScoreAt(kFab, 2);
  points = HistoryOf(stub_.get(), kFab, 3);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[1].graph_sequence(), 1);
  EXPECT_EQ(points[2].graph_sequence(), 2);
}

TEST_F(ScorerServerTest, HistoryAnswersTheDocumentedCodes) {
  Apply({Upsert(Facility(kFab, "TW")), Upsert(Tension(kTension, 0.5))});
  StartScorer(Options());
  HistoryOf(stub_.get(), kFab, 1);
  struct Case {
    std::string name;
    std::function<void(v1::GetScoreHistoryRequest*)> make;
    grpc::StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"empty id", [](auto* r) {}, grpc::StatusCode::INVALID_ARGUMENT,
       "entity_id"},
      {"malformed id", [](auto* r) { r->set_entity_id("nope"); },
       grpc::StatusCode::INVALID_ARGUMENT, "entity_id"},
      {"unknown", [](auto* r) { r->set_entity_id("company/unknown"); },
       grpc::StatusCode::NOT_FOUND, ""},
      {"to before from",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->mutable_from()->set_seconds(100);
         r->mutable_to()->set_seconds(50);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "to"},
      {"bad from",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->mutable_from()->set_seconds(-99999999999);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "from"},
      {"as_of with from",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->mutable_from()->set_seconds(1);
         r->mutable_as_of()->set_seconds(2);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "as_of"},
      {"as_of before history",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->mutable_as_of()->set_seconds(1);
       },
       grpc::StatusCode::NOT_FOUND, ""},
      {"factor",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->set_factor(static_cast<v1::Factor>(99));
       },
       grpc::StatusCode::INVALID_ARGUMENT, "factor"},
      {"page_size",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->set_page_size(-1);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "page_size"},
      {"page_token",
       [](auto* r) {
         r->set_entity_id(kFab);
         r->set_page_token("garbage");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
  };
  for (const Case& c : cases) {
    grpc::ClientContext context;
    v1::GetScoreHistoryRequest request;
    c.make(&request);
    v1::GetScoreHistoryResponse response;
    grpc::Status status = stub_->GetScoreHistory(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code)
        << c.name << ": " << status.error_message();
    if (!c.field.empty()) {
      EXPECT_THAT(status.error_message(), HasSubstr(c.field + ":")) << c.name;
    }
  }
}

TEST_F(ScorerServerTest, StartRefusesBadOptionsNamingThem) {
  struct Case {
    std::string option;
    std::function<void(ScorerServerOptions*)> spoil;
  };
  const std::vector<Case> cases = {
      {"data_dir", [](ScorerServerOptions* o) { o->data_dir.clear(); }},
      {"graphstore",
       [](ScorerServerOptions* o) { o->graphstore.target.clear(); }},
      {"model_config",
       [this](ScorerServerOptions* o) {
         o->model_config_path = dir_ + "/no-such-model.textproto";
       }},
      {"alertmanager_url",
       [](ScorerServerOptions* o) { o->alertmanager_urls = {"not a url"}; }},
      {"listen",
       [](ScorerServerOptions* o) { o->server.listen_address = "nowhere"; }},
  };
  for (const Case& c : cases) {
    ScorerServerOptions options = Options();
    c.spoil(&options);
    auto started = ScorerServer::Start(std::move(options));
    ASSERT_FALSE(started.ok()) << c.option;
    EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument)
        << c.option << ": " << started.status();
    if (c.option != "listen") {
      EXPECT_THAT(started.status().message(), HasSubstr(c.option));
    }
  }
}

}  // namespace
}  // namespace georisk::scorer
