// ScorerServer end to end in one process: a real GraphStoreService over a
// real RocksDbGraphStore in TEST_TMPDIR, the scorer following it, both on
// loopback port 0.
#include "services/scorer/scorer_server.h"

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
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::Window;
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
