// The scorer follows every shard (issue #17), through the real processes:
// three graphstore shards written by ingest (--graphstore_shards) and one
// scorer following them (--graphstore_shards), against one unpartitioned
// graphstore written by its own ingest and its scorer (ServiceStack), the
// demo dataset imported into both while the scorers run. Every entity's
// Score (composite, band, factors) and ExplainScore's contributions are
// byte-for-byte equal between the two scorers once the positions (which
// count each store's own commits) and the as-of time (each process's clock)
// are cleared, and the contributions' signal provenance (each import's own
// origin and time): after a restart (a load from the scorer's copy) exactly,
// and while following incrementally within a bound. Then shard 1 is killed with
// -9: the scorer still answers with its last scores and its status and /metrics
// name the stale shard; the shard restarts and the scorer catches up; the
// scorer restarts and resumes every cursor without reading a snapshot.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/partition_map.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"
#include "tests/testing/sharded_graph.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::HttpGet;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::ServiceStack;
using ::georisk::testing::ShardedGraph;
using ::georisk::testing::ShardedGraphOptions;
using ::georisk::testing::StackOptions;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return context;
}

// What two scorers of the same graph must agree on: the score without the
// fields that count each store's commits or read each process's clock.
std::string Comparable(v1::Score score) {
  score.clear_graph_sequence();
  score.clear_graph_positions();
  score.clear_as_of();
  return score.SerializeAsString();
}

std::vector<std::string> Contributions(const v1::Explanation& e) {
  std::vector<std::string> out;
  for (v1::Contribution c : e.contributions()) {
    // Which import wrote the signal or the edge, and when: each store's own
    // (the same text only when both imports started in the same second).
    if (c.has_direct()) c.mutable_direct()->clear_provenance();
    if (c.has_upstream()) c.mutable_upstream()->clear_edge_provenance();
    out.push_back(c.SerializeAsString());
  }
  return out;
}

class ScorerShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("scorer_shards");
    StackOptions options;
    options.dir = dir_ + "/single";
    // As the sharded ingest: resolution across shards is not done.
    options.ingest_args = {"--resolve_on_import=false"};
    options.scorer = true;
    ASSERT_EQ(system(("mkdir -p " + options.dir).c_str()), 0);
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    single_ = *std::move(stack);

    ShardedGraphOptions sharded;
    sharded.dir = dir_;
    sharded.map = kMap;
    sharded.shards = kShards;
    auto graph = ShardedGraph::Start(sharded);
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = *std::move(graph);
    StartShardedScorer();

    // Imported while both scorers run: they follow it change by change.
    for (const std::string& ingest :
         {single_->ingest()->address(), graph_->ingest()->address()}) {
      CommandResult r = RunCommand(
          dir_, Runfile("services/georiskctl/georiskctl"),
          {"import", Runfile("data/demo/entities.jsonl"),
           Runfile("data/demo/edges.jsonl"), Runfile("data/demo/signals.jsonl"),
           "--ingest=" + ingest, "--progress=none"});
      ASSERT_EQ(r.code, 0) << r.out << r.err;
      EXPECT_EQ(SummaryValue(r.out, "accepted"), 568) << r.out;
    }
  }

  void TearDown() override {
    if (scorer_ != nullptr && scorer_->running()) {
      EXPECT_TRUE(scorer_->Stop(SIGTERM, absl::Seconds(30)).ok());
    }
    graph_.reset();
    if (single_ != nullptr) {
      EXPECT_TRUE(single_->Stop().ok());
    }
  }

  void StartShardedScorer() {
    auto sc =
        ServiceProcess::Start({Runfile("services/scorer/scorer"),
                               {"--data_dir=" + dir_ + "/scorer",
                                "--graphstore_shards=" + graph_->targets()},
                               dir_});
    ASSERT_TRUE(sc.ok()) << sc.status();
    scorer_ = *std::move(sc);
    ASSERT_TRUE(
        common::WaitForServing(scorer_->address(), "", absl::Seconds(60)).ok())
        << scorer_->Log();
    sharded_ = v1::Scorer::NewStub(grpc::CreateChannel(
        scorer_->address(), grpc::InsecureChannelCredentials()));
  }

  void RestartSingleScorer() {
    ASSERT_TRUE(single_->scorer()->Stop(SIGTERM, absl::Seconds(30)).ok());
    ASSERT_TRUE(single_->StartScorer().ok());
    one_.reset();
  }

  v1::Scorer::Stub* One() {
    if (one_ == nullptr) {
      one_ = v1::Scorer::NewStub(grpc::CreateChannel(
          single_->scorer()->address(), grpc::InsecureChannelCredentials()));
    }
    return one_.get();
  }

  int64_t LastSequence(const std::string& graphstore) {
    auto stub = v1::GraphStore::NewStub(
        grpc::CreateChannel(graphstore, grpc::InsecureChannelCredentials()));
    v1::GetStatsResponse stats;
    grpc::Status s =
        stub->GetStats(Context().get(), v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats.last_sequence();
  }

  v1::FeedStatus Status(v1::Scorer::Stub* scorer) {
    v1::FeedStatus status;
    grpc::Status s = scorer->GetFeedStatus(Context().get(),
                                           v1::GetFeedStatusRequest(), &status);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return status;
  }

  // Waits until both scorers have applied every commit of their stores.
  void WaitCaughtUp() {
    const int64_t single_head = LastSequence(single_->graphstore()->address());
    int64_t shard_heads[kShards];
    for (int i = 0; i < kShards; ++i)
      shard_heads[i] = LastSequence(graph_->listen(i));
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (absl::Now() < deadline) {
      bool done = Status(One()).applied_sequence() >= single_head;
      v1::FeedStatus sharded = Status(sharded_.get());
      done = done && sharded.shards_size() == kShards;
      for (int i = 0; i < sharded.shards_size() && done; ++i) {
        done = sharded.shards(i).applied_sequence() >= shard_heads[i];
      }
      if (done) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "not caught up: " << Status(One()).ShortDebugString()
                  << " / " << Status(sharded_.get()).ShortDebugString();
  }

  std::vector<std::string> EntityIds() {
    auto stub = v1::GraphStore::NewStub(grpc::CreateChannel(
        single_->graphstore()->address(), grpc::InsecureChannelCredentials()));
    std::vector<std::string> ids;
    auto context = Context();
    auto reader =
        stub->ExportSnapshot(context.get(), v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse m;
    while (reader->Read(&m)) {
      for (const v1::Entity& e : m.entities()) ids.push_back(e.id());
    }
    EXPECT_TRUE(reader->Finish().ok());
    return ids;
  }

  absl::StatusOr<v1::Score> Score(v1::Scorer::Stub* scorer,
                                  const std::string& id) {
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    v1::Score score;
    grpc::Status s = scorer->GetScore(Context().get(), request, &score);
    if (!s.ok()) return absl::UnknownError(s.error_message());
    return score;
  }

  // Compares every entity's score and explanation; returns how many
  // differ, and the largest difference of a composite or factor value.
  int Compare(const std::vector<std::string>& ids, double* max_delta) {
    int differ = 0;
    *max_delta = 0;
    for (const std::string& id : ids) {
      absl::StatusOr<v1::Score> a = Score(One(), id);
      absl::StatusOr<v1::Score> b = Score(sharded_.get(), id);
      EXPECT_TRUE(a.ok() && b.ok()) << id;
      if (!a.ok() || !b.ok()) {
        ++differ;
        continue;
      }
      // The positions: one per shard, summing to graph_sequence.
      EXPECT_TRUE(a->graph_positions().empty());
      EXPECT_EQ(b->graph_positions_size(), kShards);
      int64_t sum = 0;
      for (const v1::GraphPosition& p : b->graph_positions()) {
        sum += p.sequence();
      }
      EXPECT_EQ(sum, b->graph_sequence());
      v1::ExplainScoreRequest request;
      request.set_entity_id(id);
      v1::Explanation ea, eb;
      EXPECT_TRUE(One()->ExplainScore(Context().get(), request, &ea).ok());
      EXPECT_TRUE(sharded_->ExplainScore(Context().get(), request, &eb).ok());
      if (Comparable(*a) == Comparable(*b) &&
          Contributions(ea) == Contributions(eb)) {
        continue;
      }
      ++differ;
      *max_delta =
          std::max(*max_delta, std::abs(a->composite() - b->composite()) / 100);
      if (ea.contributions_size() != eb.contributions_size()) {
        *max_delta = std::max(*max_delta, 1.0);  // Not a rounding.
      }
      for (int c = 0;
           c < ea.contributions_size() && c < eb.contributions_size(); ++c) {
        *max_delta = std::max({*max_delta,
                               std::abs(ea.contributions(c).log_odds() -
                                        eb.contributions(c).log_odds()),
                               std::abs(ea.contributions(c).fraction() -
                                        eb.contributions(c).fraction())});
      }
      for (int f = 0; f < a->factors_size() && f < b->factors_size(); ++f) {
        *max_delta =
            std::max({*max_delta,
                      std::abs(a->factors(f).direct() - b->factors(f).direct()),
                      std::abs(a->factors(f).propagated() -
                               b->factors(f).propagated())});
      }
    }
    return differ;
  }

  std::string dir_;
  std::unique_ptr<ServiceStack> single_;
  std::unique_ptr<ShardedGraph> graph_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::Scorer::Stub> sharded_;
  std::unique_ptr<v1::Scorer::Stub> one_;
  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
};

TEST_F(ScorerShardsTest, ThreeShardsScoreAsOneGraphstore) {
  const std::vector<std::string> ids = EntityIds();
  ASSERT_GT(ids.size(), 100u);
  WaitCaughtUp();

  // Following change by change: the two scorers applied the same records in
  // different orders and groupings (one store's commits against three
  // interleaved feeds).
  double delta = 0;
  const int incremental = Compare(ids, &delta);
  std::cout << "incremental: " << incremental << " of " << ids.size()
            << " entities differ; largest difference " << delta << "\n";
  EXPECT_LE(delta, 1e-12);

  // After a restart each loads its copy of the graph: the same records, in
  // the same (key) order, scored from scratch.
  RestartSingleScorer();
  ASSERT_TRUE(scorer_->Stop(SIGTERM, absl::Seconds(30)).ok());
  StartShardedScorer();
  EXPECT_EQ(Compare(ids, &delta), 0) << "largest difference " << delta;
  const v1::FeedStatus status = Status(sharded_.get());
  EXPECT_EQ(status.bootstraps(), 0) << status.ShortDebugString();
}

TEST_F(ScorerShardsTest, AShardKilledLeavesTheScoresAndIsNamedUntilItReturns) {
  const std::vector<std::string> ids = EntityIds();
  WaitCaughtUp();
  std::map<std::string, std::string> before;
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Score> s = Score(sharded_.get(), id);
    ASSERT_TRUE(s.ok()) << id;
    before[id] = s->SerializeAsString();
  }

  ASSERT_TRUE(graph_->shard(1)->Stop(SIGKILL, absl::Seconds(10)).ok());
  v1::FeedStatus status;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    status = Status(sharded_.get());
    if (status.shards_size() == kShards && !status.shards(1).connected() &&
        !status.shards(1).last_error().empty()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  ASSERT_EQ(status.shards_size(), kShards);
  EXPECT_FALSE(status.shards(1).connected()) << status.ShortDebugString();
  EXPECT_THAT(status.last_error(), HasSubstr("graphstore-1: "));
  EXPECT_TRUE(status.shards(0).last_error().empty());
  EXPECT_EQ(status.shards(1).target(), graph_->listen(1));
  // Its last scores are served, unchanged.
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Score> s = Score(sharded_.get(), id);
    ASSERT_TRUE(s.ok()) << id;
    EXPECT_EQ(s->SerializeAsString(), before[id]) << id;
  }
  // /metrics names the shard (refreshed every second).
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    auto got = HttpGet(scorer_->metrics_port(), "/metrics");
    ASSERT_TRUE(got.ok()) << got.status();
    metrics = got->body;
    if (metrics.find("georisk_scorer_feed_connected{shard=\"1\"} 0") !=
        std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_connected{shard=\"1\"} 0"));
  // Shard 0's stream reads connected from its first message on; one opened
  // on an idle shard waits for its first heartbeat (10 s).
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_lag_changes{shard=\"0\"} 0"));
  EXPECT_THAT(metrics,
              HasSubstr("georisk_scorer_feed_lag_seconds{shard=\"1\"}"));

  // Back (same address and data), then a new entity of shard 1: the scorer
  // catches up on that shard's feed.
  ASSERT_TRUE(graph_->StartShard(1).ok());
  std::string id;
  for (int i = 0; id.empty(); ++i) {
    std::string candidate = absl::StrCat("company/shard-one-", i);
    if (map_.ShardOf(candidate) == 1) id = candidate;
  }
  auto gs = v1::GraphStore::NewStub(grpc::CreateChannel(
      graph_->listen(1), grpc::InsecureChannelCredentials()));
  v1::ApplyRequest request;
  v1::Entity* e = request.add_mutations()->mutable_upsert_entity();
  e->set_id(id);
  e->set_kind(v1::Entity::COMPANY);
  e->set_name("Shard One Co");
  e->set_country("KR");
  e->set_source("scorer_shards_test");
  v1::ApplyResponse applied;
  grpc::Status s = gs->Apply(Context().get(), request, &applied);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const absl::Time until = absl::Now() + absl::Seconds(60);
  while (!Score(sharded_.get(), id).ok() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(Score(sharded_.get(), id).ok()) << scorer_->Log();
  do {
    status = Status(sharded_.get());
    if (status.shards(1).connected()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < until);
  EXPECT_TRUE(status.shards(1).connected());
  EXPECT_EQ(status.shards(1).applied_sequence(), applied.sequence());
  EXPECT_EQ(status.bootstraps(), kShards) << "no rebuild after the outage";
  int64_t cursors[kShards];
  for (int i = 0; i < kShards; ++i) {
    cursors[i] = status.shards(i).applied_sequence();
  }

  // The scorer restarts: every cursor resumed, no snapshot read.
  ASSERT_TRUE(scorer_->Stop(SIGTERM, absl::Seconds(30)).ok());
  StartShardedScorer();
  status = Status(sharded_.get());
  EXPECT_EQ(status.bootstraps(), 0) << status.ShortDebugString();
  for (int i = 0; i < kShards; ++i) {
    EXPECT_EQ(status.shards(i).applied_sequence(), cursors[i]) << i;
  }
  absl::StatusOr<v1::Score> score = Score(sharded_.get(), id);
  ASSERT_TRUE(score.ok());
  ASSERT_EQ(score->graph_positions_size(), kShards);
  EXPECT_EQ(score->graph_positions(1).sequence(), cursors[1]);
  EXPECT_EQ(score->graph_positions(1).shard(), 1);
  EXPECT_FALSE(score->graph_positions(1).graph_id().empty());
}

}  // namespace
}  // namespace georisk
