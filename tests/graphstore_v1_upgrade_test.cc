// Today's graphstore and scorer as real processes over the storage schema
// version 1 database that graphstore of commit 9bdde6f wrote
// (storage/testdata/README.md): graphstore upgrades it at start and serves
// every old record, new commits continue its sequence and survive a
// restart, and the scorer, following it, scores the old graph.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::testing::ElementsAre;

constexpr char kOwner[] = "person/v1-fixture-owner";

class GraphstoreV1UpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The archive's db/ becomes graphstore's --data_dir/graph.
    const std::string command = absl::StrCat(
        "tar -xzf ", Runfile("storage/testdata/v1_demo_graphstore.tar.gz"),
        " -C ", dir_);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::filesystem::create_directories(dir_ + "/gs");
    std::filesystem::rename(dir_ + "/db", dir_ + "/gs/graph");
  }

  void StartGraphstore() {
    auto p = ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                                    {"--data_dir=" + dir_ + "/gs"},
                                    dir_});
    ASSERT_TRUE(p.ok()) << p.status();
    graphstore_ = std::move(*p);
    gs_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    const grpc::Status s =
        gs_->GetStats(&context, v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats;
  }

  std::vector<std::string> OwnerRecords() {
    grpc::ClientContext context;
    v1::ListEdgesRequest request;
    request.set_entity_id(kOwner);
    request.set_direction(v1::DIRECTION_OUTBOUND);
    v1::ListEdgesResponse response;
    const grpc::Status s = gs_->ListEdges(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const v1::Edge& e : response.edges()) {
      out.push_back(absl::StrCat(e.to_id(), " ", e.record_id(), " ", e.weight(),
                                 " @", e.update_sequence()));
    }
    return out;
  }

  std::string dir_ = MakeTempDir("v1_upgrade");
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> gs_;
};

TEST_F(GraphstoreV1UpgradeTest, ServesTheOldGraphAndGoesOn) {
  StartGraphstore();
  v1::GetStatsResponse stats = Stats();
  // What graphstore of 9bdde6f reported before its stop (README.md).
  EXPECT_EQ(stats.entity_count(), 142);
  EXPECT_EQ(stats.edge_count(), 386);
  EXPECT_EQ(stats.signal_count(), 37);
  EXPECT_EQ(stats.last_sequence(), 3);
  EXPECT_EQ(stats.graph_id(), "7f2565489b0e8385e9d19a554589def8");
  {
    grpc::ClientContext context;
    v1::GetEntityRequest request;
    request.set_id(kOwner);
    v1::Entity owner;
    ASSERT_TRUE(gs_->GetEntity(&context, request, &owner).ok());
    EXPECT_EQ(owner.kind(), v1::Entity::PERSON);
    EXPECT_EQ(owner.name(), "V1 Fixture Owner");
    EXPECT_EQ(owner.update_sequence(), 2);
  }
  EXPECT_THAT(OwnerRecords(),
              ElementsAre("company/foxconn v1-fixture-2024 0.35 @3"));

  // The record version 1 replaced, written again, sits beside the other.
  {
    v1::ApplyRequest request;
    v1::Edge* e = request.add_mutations()->mutable_upsert_edge();
    e->set_from_id(kOwner);
    e->set_kind(v1::Edge::OWNS);
    e->set_to_id("company/foxconn");
    e->set_weight(0.3);
    e->set_record_id("v1-fixture-2023");
    e->mutable_effective_from()->set_seconds(1672531200);   // 2023-01-01
    e->mutable_effective_until()->set_seconds(1704067200);  // 2024-01-01
    e->set_source("the 2023 record, written again");
    grpc::ClientContext context;
    v1::ApplyResponse response;
    const grpc::Status s = gs_->Apply(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.sequence(), 4);
  }
  EXPECT_THAT(OwnerRecords(),
              ElementsAre("company/foxconn v1-fixture-2023 0.3 @4",
                          "company/foxconn v1-fixture-2024 0.35 @3"));

  // A restart opens the upgraded database as it is.
  ASSERT_EQ(graphstore_->Stop(SIGTERM, absl::Seconds(30)).value(), 0)
      << graphstore_->Log();
  StartGraphstore();
  stats = Stats();
  EXPECT_EQ(stats.last_sequence(), 4);
  EXPECT_EQ(stats.edge_count(), 387);
  EXPECT_EQ(stats.graph_id(), "7f2565489b0e8385e9d19a554589def8");

  // The scorer follows the upgraded graph from its snapshot (the version-1
  // log was trimmed by the upgrade) and scores the old entities.
  auto p = ServiceProcess::Start({Runfile("services/scorer/scorer"),
                                  {"--data_dir=" + dir_ + "/scorer",
                                   "--graphstore=" + graphstore_->address()},
                                  dir_});
  ASSERT_TRUE(p.ok()) << p.status();
  scorer_ = std::move(*p);
  ASSERT_TRUE(
      common::WaitForServing(scorer_->address(), "", absl::Seconds(60)).ok())
      << scorer_->Log();
  auto sc = v1::Scorer::NewStub(grpc::CreateChannel(
      scorer_->address(), grpc::InsecureChannelCredentials()));
  v1::Score score;
  grpc::Status got;
  for (int i = 0; i < 1200; ++i) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id("company/foxconn");
    got = sc->GetScore(&context, request, &score);
    if (got.ok() && score.graph_sequence() >= 4) break;
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_TRUE(got.ok()) << got.error_message() << scorer_->Log();
  EXPECT_EQ(score.graph_sequence(), 4);
  EXPECT_EQ(score.entity_id(), "company/foxconn");

  EXPECT_EQ(scorer_->Stop(SIGTERM, absl::Seconds(30)).value(), 0)
      << scorer_->Log();
  EXPECT_EQ(graphstore_->Stop(SIGTERM, absl::Seconds(30)).value(), 0)
      << graphstore_->Log();
}

}  // namespace
}  // namespace georisk
