// ShardedFeedFollower against two in-process graphstores (each one shard's
// feed) over loopback gRPC.
#include "services/scorer/shard_feed_follower.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/graphstore/graphstore_service.h"
#include "services/graphstore/routed_store.h"
#include "services/graphstore/shard_reader.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::scorer {
namespace {

using ::testing::HasSubstr;

// Records what the follower feeds: the entity set, the merged position,
// the per-shard positions of the last load.
class RecordingConsumer : public GraphFeedConsumer {
 public:
  void Load(std::vector<v1::Entity>, std::vector<v1::Edge>,
            std::vector<v1::Signal>, std::vector<v1::Link>, int64_t) override {
    ADD_FAILURE() << "a sharded follower loads with LoadShards";
  }
  void Apply(const std::vector<v1::Change>&, int64_t) override {
    ADD_FAILURE() << "a sharded follower applies with ApplyShard";
  }
  void LoadShards(std::vector<v1::Entity> entities, std::vector<v1::Edge>,
                  std::vector<v1::Signal>, std::vector<v1::Link>,
                  std::vector<v1::GraphPosition> positions) override {
    absl::MutexLock lock(&mu_);
    ids_.clear();
    for (const auto& e : entities) ids_[e.id()] = true;
    sequence_ = 0;
    for (const auto& p : positions) sequence_ += p.sequence();
    positions_ = positions;
    ++loads_;
  }
  void ApplyShard(int shard, int64_t shard_sequence,
                  const std::vector<v1::Change>& changes, int64_t) override {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < changes.size(); ++i) {
      const v1::Change& c = changes[i];
      // Dense and increasing across the feeds.
      EXPECT_EQ(c.sequence(), sequence_ + 1);
      sequence_ = c.sequence();
      EXPECT_EQ(shard_sequence + static_cast<int64_t>(i),
                positions_[shard].sequence() + 1);
      positions_[shard].set_sequence(shard_sequence + i);
      for (const auto& m : c.mutations()) {
        if (m.has_upsert_entity()) ids_[m.upsert_entity().id()] = true;
        if (m.has_delete_entity_id()) ids_.erase(m.delete_entity_id());
      }
    }
  }
  bool WaitFor(int64_t sequence) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return sequence_ >= sequence;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(20));
  }
  bool WaitForLoads(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return loads_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(20));
  }
  std::vector<std::string> ids() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [id, unused] : ids_) out.push_back(id);
    return out;
  }
  int loads() {
    absl::MutexLock lock(&mu_);
    return loads_;
  }
  std::vector<int64_t> positions() {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    for (const auto& p : positions_) out.push_back(p.sequence());
    return out;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, bool> ids_ ABSL_GUARDED_BY(mu_);
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::GraphPosition> positions_ ABSL_GUARDED_BY(mu_);
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
};

// Counts the loads of a one-feed follower.
class RecordingOneFeed : public GraphFeedConsumer {
 public:
  void Load(std::vector<v1::Entity>, std::vector<v1::Edge>,
            std::vector<v1::Signal>, std::vector<v1::Link>, int64_t) override {
    absl::MutexLock lock(&mu_);
    ++loads_;
  }
  void Apply(const std::vector<v1::Change>&, int64_t) override {}
  int loads() {
    absl::MutexLock lock(&mu_);
    return loads_;
  }

 private:
  absl::Mutex mu_;
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
};

// One graphstore in the process: a shard's feed. With `route_to`, it is
// also a router (graphstore --route) over itself, shard 0, and that store,
// shard 1: its reads and exports are both shards', its feed its own.
struct Graphstore {
  void Start(const std::string& path, int port = 0,
             storage::GraphStore* route_to = nullptr) {
    storage::RocksDbGraphStoreOptions options;
    options.path = path;
    options.sync = false;
    store = std::move(*storage::RocksDbGraphStore::Open(options));
    graphstore::GraphStoreServiceOptions service_options;
    service_options.watch_heartbeat = absl::Milliseconds(100);
    storage::GraphStore* served = store.get();
    if (route_to != nullptr) {
      std::vector<std::unique_ptr<graphstore::ShardReader>> readers;
      readers.push_back(
          std::make_unique<graphstore::StoreShardReader>(store.get()));
      readers.push_back(
          std::make_unique<graphstore::StoreShardReader>(route_to));
      router = std::move(*graphstore::RoutedGraphStore::Create(
          store.get(), *storage::PartitionMap::Even(2), 0, std::move(readers),
          {}));
      served = router.get();
      service_options.shard_local_store = store.get();
    }
    service = std::make_unique<graphstore::GraphStoreService>(
        served, service_options, &registry);
    common::ServerOptions server_options;
    server_options.service_name = "graphstore";
    server_options.listen_address = absl::StrCat("127.0.0.1:", port);
    server_options.metrics_address = "";
    server = std::move(*common::GrpcServer::Start(
        server_options, {{service.get(), v1::GraphStore::service_full_name()}},
        &registry));
    server->AddShutdownHook([this] { service->Shutdown(); });
    this->port = server->port();
  }
  void Stop() {
    if (server) server->Shutdown();
    server.reset();
    service.reset();
    router.reset();
    store.reset();
  }
  void Commit(const std::string& id) {
    ASSERT_TRUE(
        store
            ->Apply({domain::testing::Upsert(domain::testing::Company(id))},
                    "t")
            .ok());
  }
  common::MetricsRegistry registry;
  std::unique_ptr<storage::RocksDbGraphStore> store;
  std::unique_ptr<graphstore::RoutedGraphStore> router;
  std::unique_ptr<graphstore::GraphStoreService> service;
  std::unique_ptr<common::GrpcServer> server;
  int port = 0;
};

class ShardedFeedFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      shards_[i].Start(absl::StrCat(dir_, "/graph-", i));
    }
  }
  void TearDown() override {
    for (auto& s : shards_) s.Stop();
  }

  std::vector<ShardedFeedFollower::Shard> Shards() {
    std::vector<ShardedFeedFollower::Shard> out;
    for (auto& s : shards_) {
      const std::string target = absl::StrCat("127.0.0.1:", s.port);
      out.push_back({v1::GraphStore::NewStub(grpc::CreateChannel(
                         target, grpc::InsecureChannelCredentials())),
                     target});
    }
    return out;
  }

  std::unique_ptr<storage::GraphMirror> OpenMirror() {
    storage::GraphMirrorOptions options;
    options.path = dir_ + "/mirror";
    options.shards = 2;
    return std::move(*storage::GraphMirror::Open(options));
  }

  FeedFollowerOptions Fast(common::MetricsRegistry* registry = nullptr) {
    FeedFollowerOptions o;
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(200);
    o.registry = registry;
    return o;
  }

  absl::Time Now() {
    absl::MutexLock lock(&clock_mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&clock_mu_);
    now_ += d;
  }

  std::string dir_ = base::testing::MakeTempDir("sff");
  Graphstore shards_[2];
  absl::Mutex clock_mu_;
  absl::Time now_ ABSL_GUARDED_BY(clock_mu_) = absl::FromUnixSeconds(1.8e9);
};

TEST_F(ShardedFeedFollowerTest, FollowsEveryShardAndResumesEveryCursor) {
  shards_[0].Commit("company/a");
  shards_[0].Commit("company/b");
  shards_[1].Commit("company/c");
  {
    auto mirror = OpenMirror();
    RecordingConsumer consumer;
    ShardedFeedFollower follower(Shards(), mirror.get(), &consumer, Fast());
    follower.Start();
    ASSERT_TRUE(consumer.WaitForLoads(1));
    EXPECT_EQ(follower.bootstraps(0), 1);
    EXPECT_EQ(follower.bootstraps(1), 1);
    EXPECT_EQ(consumer.positions(), (std::vector<int64_t>{2, 1}));
    // Live, on both feeds: merged positions 4..6.
    shards_[1].Commit("company/d");
    shards_[0].Commit("company/e");
    shards_[1].Commit("company/f");
    ASSERT_TRUE(consumer.WaitFor(6));
    EXPECT_EQ(consumer.positions(), (std::vector<int64_t>{3, 3}));
    // The follower records a position once the consumer has returned.
    for (int i = 0; i < 200 && follower.applied_sequence() < 6; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(follower.applied_sequence(), 6);
    v1::FeedStatus status = follower.Status();
    ASSERT_EQ(status.shards_size(), 2);
    EXPECT_EQ(status.applied_sequence(), 6);
    EXPECT_EQ(status.shards(1).applied_sequence(), 3);
    EXPECT_EQ(status.shards(1).graph_id(), shards_[1].store->GraphId());
    EXPECT_EQ(status.bootstraps(), 2);
    follower.Stop();
    EXPECT_EQ(mirror->applied_sequence(0), 3);
    EXPECT_EQ(mirror->applied_sequence(1), 3);
  }
  shards_[0].Commit("company/g");  // While the scorer is down.
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  ShardedFeedFollower follower(Shards(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitFor(7));
  EXPECT_EQ(follower.bootstraps(), 0) << "resumed every cursor";
  EXPECT_EQ(consumer.loads(), 1);
  EXPECT_EQ(consumer.ids(),
            (std::vector<std::string>{"company/a", "company/b", "company/c",
                                      "company/d", "company/e", "company/f",
                                      "company/g"}));
}

// Shard 0 is also the router (every pod in prod, graphstore-0 in the local
// launcher): its export through the router would be both shards', but its
// feed is its own, so the follower asks for its shard alone
// (georisk-shard-local). Before, each bootstrap of shard 0 read shard 1's
// part too, under shard 1's graph id, and rebuilt without end.
TEST_F(ShardedFeedFollowerTest, AShardThatRoutesIsReadAsItsOwnShard) {
  shards_[0].Commit("company/a");
  shards_[0].Commit("company/b");
  shards_[1].Commit("company/c");
  shards_[0].Stop();
  shards_[0].Start(absl::StrCat(dir_, "/graph-0"), 0, shards_[1].store.get());
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  ShardedFeedFollower follower(Shards(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitForLoads(1));
  EXPECT_EQ(consumer.positions(), (std::vector<int64_t>{2, 1}));
  shards_[0].Commit("company/d");
  shards_[1].Commit("company/e");
  ASSERT_TRUE(consumer.WaitFor(5));
  EXPECT_EQ(consumer.ids(),
            (std::vector<std::string>{"company/a", "company/b", "company/c",
                                      "company/d", "company/e"}));
  v1::FeedStatus status = follower.Status();
  EXPECT_EQ(follower.bootstraps(0), 1);
  EXPECT_EQ(follower.bootstraps(1), 1);
  EXPECT_EQ(status.rebuilds_total(), 0);
  EXPECT_EQ(status.shards(0).graph_id(), shards_[0].store->GraphId());
  EXPECT_TRUE(status.shards(0).last_error().empty());
  follower.Stop();
}

// One feed cannot follow a partitioned graph through a router: its export
// holds every shard, its feed one. The follower says so and loads nothing.
TEST_F(ShardedFeedFollowerTest, OneFeedRefusesARoutersExportOfEveryShard) {
  shards_[0].Commit("company/a");
  shards_[1].Commit("company/b");
  shards_[0].Stop();
  shards_[0].Start(absl::StrCat(dir_, "/graph-0"), 0, shards_[1].store.get());
  storage::GraphMirrorOptions options;
  options.path = dir_ + "/one-feed";
  auto mirror = std::move(*storage::GraphMirror::Open(options));
  RecordingOneFeed consumer;
  FeedFollower follower(v1::GraphStore::NewStub(grpc::CreateChannel(
                            absl::StrCat("127.0.0.1:", shards_[0].port),
                            grpc::InsecureChannelCredentials())),
                        mirror.get(), &consumer, Fast());
  follower.Start();
  for (int i = 0; i < 500 && follower.last_error().ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(follower.last_error().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(follower.last_error().message(),
              HasSubstr("the graphstore is partitioned (its snapshot holds "
                        "shard 0 then shard 1): follow every shard with "
                        "--graphstore_shards"));
  EXPECT_EQ(consumer.loads(), 0);
  follower.Stop();
}

TEST_F(ShardedFeedFollowerTest, RebuildsOnlyTheShardWhoseGraphChanged) {
  shards_[0].Commit("company/a");
  shards_[1].Commit("company/b");
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  ShardedFeedFollower follower(Shards(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitForLoads(1));
  // Shard 1 comes back on the same port over a new data directory: another
  // graph.
  const int port = shards_[1].port;
  shards_[1].Stop();
  shards_[1].Start(dir_ + "/graph-1-new", port);
  shards_[1].Commit("company/x");
  ASSERT_TRUE(consumer.WaitForLoads(2));
  for (int i = 0; i < 500 && follower.applied_sequence(1) != 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(follower.rebuilds(1, RebuildReason::kGraphChanged), 1);
  EXPECT_EQ(follower.rebuilds(0, RebuildReason::kGraphChanged), 0);
  EXPECT_EQ(follower.bootstraps(0), 1) << "shard 0 was not read again";
  EXPECT_EQ(follower.bootstraps(1), 2);
  EXPECT_EQ(mirror->graph_id(1), shards_[1].store->GraphId());
  // Shard 0's records kept, shard 1's replaced.
  EXPECT_EQ(consumer.ids(),
            (std::vector<std::string>{"company/a", "company/x"}));
  v1::FeedStatus status = follower.Status();
  EXPECT_EQ(status.rebuilds().at("graph_changed"), 1);
  EXPECT_EQ(status.shards(1).rebuilds().at("graph_changed"), 1);
  EXPECT_THAT(status.last_rebuild().detail(), HasSubstr("graphstore-1: "));
  shards_[0].Commit("company/y");
  ASSERT_TRUE(consumer.WaitFor(3));
}

TEST_F(ShardedFeedFollowerTest, AShardDownIsNamedAndItsLagGrows) {
  shards_[0].Commit("company/a");
  shards_[1].Commit("company/b");
  common::MetricsRegistry registry;
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  ShardedFeedFollower follower(Shards(), mirror.get(), &consumer,
                               Fast(&registry), [this] { return Now(); });
  follower.Start();
  ASSERT_TRUE(consumer.WaitForLoads(1));
  for (int i = 0; i < 500 && !(follower.Status().shards(0).connected() &&
                               follower.Status().shards(1).connected());
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(follower.Status().shards(1).connected());
  const int port = shards_[1].port;
  shards_[1].Stop();
  for (int i = 0; i < 500 && follower.Status().shards(1).connected(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  Advance(absl::Seconds(90));
  // Shard 0 goes on meanwhile.
  shards_[0].Commit("company/c");
  ASSERT_TRUE(consumer.WaitFor(3));
  // The follower marks shard 0 caught up once the consumer has returned.
  for (int i = 0; i < 500 && follower.Status().shards(0).lag_seconds() >= 90;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  v1::FeedStatus status = follower.Status();
  EXPECT_FALSE(status.shards(1).connected());
  EXPECT_GE(status.shards(1).lag_seconds(), 90);
  EXPECT_LT(status.shards(0).lag_seconds(), 90);
  EXPECT_TRUE(status.shards(0).last_error().empty());
  for (int i = 0; i < 500 && follower.Status().shards(1).last_error().empty();
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  status = follower.Status();
  EXPECT_FALSE(status.shards(1).last_error().empty());
  EXPECT_THAT(status.last_error(), HasSubstr("graphstore-1: "));
  // /metrics says it too (refreshed every second; 0 before the first).
  auto refreshed = [&] {
    const std::string m = registry.Render();
    return m.find("georisk_scorer_feed_lag_seconds{shard=\"1\"} 9") !=
               std::string::npos &&
           m.find("georisk_scorer_feed_connected{shard=\"0\"} 1") !=
               std::string::npos;
  };
  for (int i = 0; i < 300 && !refreshed(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const std::string metrics = registry.Render();
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_connected{shard=\"1\"} 0"));
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_connected{shard=\"0\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_lag_seconds{shard=\"1\"} 9"));

  // Back on the same port and data: it catches up, and its lag drops.
  shards_[1].Start(dir_ + "/graph-1", port);
  shards_[1].Commit("company/d");
  ASSERT_TRUE(consumer.WaitFor(4));
  for (int i = 0; i < 500 && follower.Status().shards(1).lag_seconds() > 1;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  status = follower.Status();
  EXPECT_LT(status.shards(1).lag_seconds(), 1);
  EXPECT_EQ(status.shards(1).applied_sequence(), 2);
  EXPECT_EQ(follower.bootstraps(), 2) << "no rebuild after the outage";
}

}  // namespace
}  // namespace georisk::scorer
