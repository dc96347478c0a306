// FeedFollower against an in-process graphstore over loopback gRPC.
#include "services/scorer/feed_follower.h"

#include <cstdlib>
#include <filesystem>
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
#include "storage/rocksdb_graph_store.h"

namespace georisk::scorer {
namespace {

// Records what the follower feeds; the entity set it implies.
class RecordingConsumer : public GraphFeedConsumer {
 public:
  void Load(std::vector<v1::Entity> entities, std::vector<v1::Edge>,
            std::vector<v1::Signal>, std::vector<v1::Link> links,
            int64_t sequence) override {
    absl::MutexLock lock(&mu_);
    ids_.clear();
    for (const auto& e : entities) ids_[e.id()] = true;
    links_ = links.size();
    sequence_ = sequence;
    ++loads_;
  }
  void Apply(const std::vector<v1::Change>& changes, int64_t) override {
    absl::MutexLock lock(&mu_);
    for (const auto& c : changes) {
      EXPECT_EQ(c.sequence(), sequence_ + 1);
      sequence_ = c.sequence();
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
  size_t size() {
    absl::MutexLock lock(&mu_);
    return ids_.size();
  }
  std::vector<std::string> ids() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [id, unused] : ids_) out.push_back(id);
    return out;
  }
  // Waits until a Load() has happened `n` times in all.
  bool WaitForLoads(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return loads_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(20));
  }
  int loads() {
    absl::MutexLock lock(&mu_);
    return loads_;
  }
  // Links in the last Load().
  size_t links() {
    absl::MutexLock lock(&mu_);
    return links_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, bool> ids_ ABSL_GUARDED_BY(mu_);
  int64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
  size_t links_ ABSL_GUARDED_BY(mu_) = 0;
};

class FeedFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartGraphstore(); }
  void TearDown() override { StopGraphstore(); }

  void StartGraphstore(int64_t retention = 0, int port = 0) {
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    options.changelog_retention_count = retention;
    options.changelog_trim_interval = absl::ZeroDuration();
    store_ = std::move(*storage::RocksDbGraphStore::Open(options));
    service_ = std::make_unique<graphstore::GraphStoreService>(
        store_.get(), graphstore::GraphStoreServiceOptions{}, &registry_);
    common::ServerOptions server_options;
    server_options.service_name = "graphstore";
    server_options.listen_address = absl::StrCat("127.0.0.1:", port);
    server_options.metrics_address = "";
    server_ = std::move(*common::GrpcServer::Start(
        server_options, {{service_.get(), v1::GraphStore::service_full_name()}},
        &registry_));
    server_->AddShutdownHook([this] { service_->Shutdown(); });
    port_ = server_->port();
  }

  void StopGraphstore() {
    if (server_) server_->Shutdown();
    server_.reset();
    service_.reset();
    store_.reset();
  }

  std::shared_ptr<v1::GraphStore::StubInterface> Stub() {
    return v1::GraphStore::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<storage::GraphMirror> OpenMirror() {
    return std::move(*storage::GraphMirror::Open({dir_ + "/mirror"}));
  }

  void Commit(const std::string& slug) {
    const v1::Mutation company =
        domain::testing::Upsert(domain::testing::Company("company/" + slug));
    ASSERT_TRUE(store_->Apply({company}, "t").ok());
  }

  FeedFollowerOptions Fast() {
    FeedFollowerOptions o;
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(200);
    return o;
  }

  std::string dir_ = base::testing::MakeTempDir("ff");
  common::MetricsRegistry registry_;
  std::unique_ptr<storage::RocksDbGraphStore> store_;
  std::unique_ptr<graphstore::GraphStoreService> service_;
  std::unique_ptr<common::GrpcServer> server_;
  int port_ = 0;
};

TEST_F(FeedFollowerTest, BootstrapsThenFollowsThenResumesFromItsOwnCopy) {
  Commit("a");
  Commit("b");
  {
    auto mirror = OpenMirror();
    RecordingConsumer consumer;
    FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
    follower.Start();
    ASSERT_TRUE(consumer.WaitFor(2));
    EXPECT_EQ(follower.bootstraps(), 1);
    Commit("c");  // Live.
    ASSERT_TRUE(consumer.WaitFor(3));
    EXPECT_EQ(consumer.size(), 3u);
    // The follower records a sequence once the consumer has returned.
    for (int i = 0; i < 200 && follower.applied_sequence() < 3; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(follower.applied_sequence(), 3);
    follower.Stop();
    EXPECT_EQ(mirror->applied_sequence(), 3);
  }
  Commit("d");  // While the follower is down.
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitFor(4));
  EXPECT_EQ(follower.bootstraps(), 0);  // Resumed; did not re-read the graph.
  EXPECT_EQ(consumer.loads(), 1);
  EXPECT_EQ(consumer.size(), 4u);
}

TEST_F(FeedFollowerTest, HandsOverLinksFromTheSnapshotAndFromItsOwnCopy) {
  Commit("a");
  Commit("b");
  v1::Mutation link;
  v1::Link* l = link.mutable_upsert_link();
  l->set_entity_a("company/a");
  l->set_entity_b("company/b");
  l->set_judgement(v1::Link::POSITIVE);
  l->set_method(v1::Link::IDENTIFIER);
  l->set_score(1);
  l->add_evidence("lei 5493001KJTIIGC8Y1R12");
  l->set_decided_by("rule:identifier");
  l->mutable_decided_at()->set_seconds(1700000000);
  l->set_source("test");
  ASSERT_TRUE(store_->Apply({link}, "t").ok());
  {
    auto mirror = OpenMirror();
    RecordingConsumer consumer;
    FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
    follower.Start();
    ASSERT_TRUE(consumer.WaitForLoads(1));
    EXPECT_EQ(follower.bootstraps(), 1);
    EXPECT_EQ(consumer.links(), 1u);
    follower.Stop();
  }
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitForLoads(1));
  EXPECT_EQ(follower.bootstraps(), 0);
  EXPECT_EQ(consumer.links(), 1u);
}

TEST_F(FeedFollowerTest, BootstrapsAgainWhenItsChangesWereTrimmed) {
  Commit("a");
  {
    auto mirror = OpenMirror();
    RecordingConsumer consumer;
    FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
    follower.Start();
    ASSERT_TRUE(consumer.WaitFor(1));
    follower.Stop();
  }
  StopGraphstore();
  StartGraphstore(/*retention=*/1);
  Commit("b");
  Commit("c");
  ASSERT_TRUE(store_->TrimChangeLog(absl::Now()).ok());  // Keeps only 3.

  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitFor(3));
  EXPECT_EQ(follower.bootstraps(), 1);
  EXPECT_EQ(consumer.size(), 3u);
  EXPECT_EQ(mirror->applied_sequence(), 3);
}

TEST_F(FeedFollowerTest, SurvivesAGraphstoreRestart) {
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
  follower.Start();
  Commit("a");
  ASSERT_TRUE(consumer.WaitFor(1));
  int port = port_;
  StopGraphstore();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(follower.last_error().ok());
  StartGraphstore(0, port);  // Same address: the channel reconnects.
  Commit("b");
  ASSERT_TRUE(consumer.WaitFor(2));
  EXPECT_EQ(consumer.size(), 2u);
  EXPECT_EQ(follower.bootstraps(), 1);
}

TEST_F(FeedFollowerTest, ReplacedGraphIsRebuiltNotMixedIn) {
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollowerOptions options = Fast();
  // Its own registry: registry_ also holds the graphstore services' gauges,
  // and the first service is gone once the graph is replaced.
  common::MetricsRegistry follower_registry;
  options.registry = &follower_registry;
  FeedFollower follower(Stub(), mirror.get(), &consumer, options);
  follower.Start();
  Commit("a");
  Commit("b");
  Commit("c");
  ASSERT_TRUE(consumer.WaitFor(3));
  const std::string old_id = store_->GraphId();
  EXPECT_EQ(follower.graph_id(), old_id);

  // A new data directory on the same address, with a longer history: from
  // sequence 4 its change 4 would follow ours without a complaint.
  int port = port_;
  StopGraphstore();
  std::filesystem::remove_all(dir_ + "/graph");
  StartGraphstore(0, port);
  for (const char* slug : {"w", "x", "y", "z"}) Commit(slug);
  ASSERT_NE(store_->GraphId(), old_id);

  ASSERT_TRUE(consumer.WaitForLoads(2));
  ASSERT_TRUE(consumer.WaitFor(4));
  EXPECT_THAT(consumer.ids(), ::testing::ElementsAre("company/w", "company/x",
                                                     "company/y", "company/z"));
  EXPECT_EQ(follower.rebuilds(RebuildReason::kGraphChanged), 1);
  ASSERT_TRUE(follower.last_rebuild().has_value());
  EXPECT_EQ(follower.last_rebuild()->reason, RebuildReason::kGraphChanged);
  EXPECT_EQ(follower.graph_id(), store_->GraphId());
  EXPECT_EQ(mirror->graph_id(), store_->GraphId());
  EXPECT_EQ(mirror->applied_sequence(), 4);
  EXPECT_THAT(follower_registry.Render(),
              ::testing::HasSubstr("georisk_scorer_feed_rebuilds_total{"
                                   "reason=\"graph_changed\"} 1"));
  // GetFeedStatus's answer says the same.
  const v1::FeedStatus status = follower.Status();
  EXPECT_EQ(status.graph_id(), store_->GraphId());
  EXPECT_TRUE(status.loaded());
  EXPECT_EQ(status.rebuilds_total(), 1);
  EXPECT_EQ(status.rebuilds().at("graph_changed"), 1);
  EXPECT_EQ(status.rebuilds().at("ahead_of_head"), 0);
  EXPECT_EQ(status.rebuilds().at("trimmed"), 0);
  EXPECT_EQ(status.last_rebuild().reason(), "graph_changed");
  EXPECT_GT(status.last_rebuild().time().seconds(), 0);
  EXPECT_EQ(status.last_rebuild().detail(), follower.last_rebuild()->detail);

  // Its changes keep coming.
  Commit("v");
  ASSERT_TRUE(consumer.WaitFor(5));
  EXPECT_EQ(consumer.size(), 5u);
}

TEST_F(FeedFollowerTest, PositionPastARestoredHeadIsRebuilt) {
  Commit("a");
  int port = port_;
  StopGraphstore();
  // A backup at sequence 1 (the same graph id).
  std::filesystem::copy(dir_ + "/graph", dir_ + "/backup",
                        std::filesystem::copy_options::recursive);
  StartGraphstore(0, port);
  Commit("b");
  Commit("c");
  auto mirror = OpenMirror();
  RecordingConsumer consumer;
  FeedFollower follower(Stub(), mirror.get(), &consumer, Fast());
  follower.Start();
  ASSERT_TRUE(consumer.WaitFor(3));

  StopGraphstore();
  std::filesystem::remove_all(dir_ + "/graph");
  std::filesystem::rename(dir_ + "/backup", dir_ + "/graph");
  StartGraphstore(0, port);
  ASSERT_EQ(store_->LastSequence(), 1);

  ASSERT_TRUE(consumer.WaitForLoads(2));
  EXPECT_THAT(consumer.ids(), ::testing::ElementsAre("company/a"));
  EXPECT_EQ(follower.rebuilds(RebuildReason::kAheadOfHead), 1);
  EXPECT_EQ(follower.rebuilds(RebuildReason::kGraphChanged), 0);
  EXPECT_EQ(mirror->applied_sequence(), 1);
  Commit("d");
  ASSERT_TRUE(consumer.WaitFor(2));
  EXPECT_THAT(consumer.ids(), ::testing::ElementsAre("company/a", "company/d"));
}

}  // namespace
}  // namespace georisk::scorer
