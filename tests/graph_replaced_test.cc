// graphstore and scorer as real processes: graphstore's history is replaced
// under a running scorer (graphstore stopped, its data directory swapped for
// a fresh one holding another graph, restarted on the same port). The scorer
// must notice that its position belongs to another graph, rebuild from a
// snapshot, serve exactly the new graph (the old ids NOT_FOUND, the new ones
// scored), and say so in its log, its metrics, its GetFeedStatus and
// `georiskctl status`.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::HttpGet;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

class GraphReplacedTest : public ::testing::Test {
 protected:
  // Starts graphstore on `port` (0: any) over `data_dir`.
  void StartGraphstore(const std::string& data_dir, int port) {
    auto p = ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                                    {"--data_dir=" + data_dir, "--sync=false",
                                     absl::StrCat("--listen=127.0.0.1:", port)},
                                    dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    graphstore_ = std::move(*p);
    gs_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
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

  std::string GraphId() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(gs_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats.graph_id();
  }

  grpc::StatusCode ScoreCode(const std::string& id, v1::Score* score) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    return sc_->GetScore(&context, request, score).error_code();
  }

  // Polls until `id`'s score answers `code` (and, for OK, is at `sequence`
  // or later).
  bool WaitForScore(const std::string& id, grpc::StatusCode code,
                    int64_t sequence = 0) {
    for (int i = 0; i < 1200; ++i) {
      v1::Score score;
      grpc::StatusCode got = ScoreCode(id, &score);
      if (got == code && (code != grpc::StatusCode::OK ||
                          score.graph_sequence() >= sequence)) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    return false;
  }

  std::string dir_ = MakeTempDir("replaced");
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
  std::unique_ptr<v1::Scorer::Stub> sc_;
};

TEST_F(GraphReplacedTest, ScorerRebuildsAndServesExactlyTheNewGraph) {
  StartGraphstore(dir_ + "/gs", 0);
  const int port = graphstore_->grpc_port();
  // The old history: three commits.
  Apply({Upsert(Company("company/old-a", "TW"))});
  Apply({Upsert(Company("company/old-b", "TW"))});
  Apply({Upsert(Company("company/kept", "TW"))});
  const std::string old_id = GraphId();

  auto p = ServiceProcess::Start({Runfile("services/scorer/scorer"),
                                  {"--data_dir=" + dir_ + "/scorer",
                                   "--graphstore=" + graphstore_->address()},
                                  dir_});
  ASSERT_TRUE(p.ok()) << p.status();
  scorer_ = std::move(*p);
  sc_ = v1::Scorer::NewStub(grpc::CreateChannel(
      scorer_->address(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(
      common::WaitForServing(scorer_->address(), "", absl::Seconds(60)).ok())
      << scorer_->Log();
  ASSERT_TRUE(WaitForScore("company/old-b", grpc::StatusCode::OK, 3))
      << scorer_->Log();

  {
    // Before: the old graph followed, no rebuild.
    grpc::ClientContext context;
    v1::FeedStatus feed;
    ASSERT_TRUE(
        sc_->GetFeedStatus(&context, v1::GetFeedStatusRequest(), &feed).ok());
    EXPECT_EQ(feed.graph_id(), old_id);
    EXPECT_EQ(feed.rebuilds_total(), 0);
    EXPECT_FALSE(feed.has_last_rebuild());
  }
  const absl::Time before_replace = absl::Now();

  // Replace graphstore's history: a fresh data directory, another graph
  // whose sequences run past the old head (so a position-only follower
  // would take change 4 of the new graph as the next of the old one).
  ASSERT_EQ(graphstore_->Stop(SIGTERM, absl::Seconds(30)).value(), 0);
  StartGraphstore(dir_ + "/gs-new", port);
  Apply({Upsert(Company("company/new-a", "CN"))});
  Apply({Upsert(Company("company/new-b", "CN"))});
  Apply({Upsert(Company("company/kept", "CN"))});
  const int64_t head = Apply({Upsert(Company("company/new-c", "CN"))});
  ASSERT_EQ(head, 4);
  ASSERT_NE(GraphId(), old_id);

  // Exactly the new graph: every new id scored at the new head, the old
  // ones gone, the shared id with the new graph's record.
  EXPECT_TRUE(WaitForScore("company/new-c", grpc::StatusCode::OK, head))
      << scorer_->Log();
  for (const char* id : {"company/new-a", "company/new-b", "company/kept"}) {
    v1::Score score;
    EXPECT_EQ(ScoreCode(id, &score), grpc::StatusCode::OK) << id;
    EXPECT_GE(score.graph_sequence(), head) << id;
  }
  for (const char* id : {"company/old-a", "company/old-b"}) {
    v1::Score score;
    EXPECT_EQ(ScoreCode(id, &score), grpc::StatusCode::NOT_FOUND) << id;
  }
  {
    grpc::ClientContext context;
    v1::ListTopRisksRequest request;
    request.set_page_size(100);
    v1::ListTopRisksResponse page;
    ASSERT_TRUE(sc_->ListTopRisks(&context, request, &page).ok());
    EXPECT_EQ(page.scores_size(), 4);
  }

  // It said so: in its log and in its metrics.
  const std::string log = scorer_->Log();
  EXPECT_TRUE(absl::StrContains(log, "rebuilding from a snapshot")) << log;
  EXPECT_TRUE(absl::StrContains(log, "graph_changed")) << log;
  absl::StatusOr<testing::HttpResult> metrics =
      HttpGet(scorer_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(absl::StrContains(
      metrics->body,
      "georisk_scorer_feed_rebuilds_total{reason=\"graph_changed\"} 1"))
      << metrics->body;

  // And in its status: the new graph followed, one rebuild, when and why.
  {
    grpc::ClientContext context;
    v1::FeedStatus feed;
    ASSERT_TRUE(
        sc_->GetFeedStatus(&context, v1::GetFeedStatusRequest(), &feed).ok());
    EXPECT_EQ(feed.graph_id(), GraphId());
    EXPECT_EQ(feed.rebuilds_total(), 1);
    EXPECT_EQ(feed.rebuilds().at("graph_changed"), 1);
    EXPECT_EQ(feed.rebuilds().at("ahead_of_head"), 0);
    ASSERT_TRUE(feed.has_last_rebuild());
    EXPECT_EQ(feed.last_rebuild().reason(), "graph_changed");
    const absl::Time when =
        absl::FromUnixSeconds(feed.last_rebuild().time().seconds());
    EXPECT_GE(when, absl::FromUnixSeconds(absl::ToUnixSeconds(before_replace)));
    EXPECT_LE(when, absl::Now());
    EXPECT_FALSE(feed.last_rebuild().detail().empty());
  }
  testing::CommandResult status = testing::RunCommand(
      dir_, Runfile("services/georiskctl/georiskctl"),
      {"status", "--graphstore=" + graphstore_->address(),
       "--scorer=" + scorer_->address(), "--ingest=127.0.0.1:1"});
  EXPECT_TRUE(absl::StrContains(status.out, absl::StrCat("graph ", GraphId(),
                                                         ", rebuilds 1 (last: "
                                                         "graph_changed at ")))
      << status.out << status.err;

  // And it follows the new graph from there.
  const int64_t next = Apply({Upsert(Company("company/new-d", "CN"))});
  EXPECT_TRUE(WaitForScore("company/new-d", grpc::StatusCode::OK, next));
}

}  // namespace
}  // namespace georisk
