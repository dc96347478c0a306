// georisk-bulkload, graphstore and the scorer as real processes: the demo
// dataset bulk loaded offline into the data directory of a graphstore that a
// scorer already follows (stopped for the load, restarted on the same port)
// is scored exactly as the same records applied through GraphStore.Apply to
// another graphstore with its own scorer. The first scorer, whose position
// (sequence 0) precedes the load, finds the change log starting after it,
// rebuilds from a snapshot (reason "trimmed") and says so.
#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "formats/parsers.h"
#include "formats/record_parser.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

const char* const kDemoFiles[] = {"data/demo/entities.jsonl",
                                  "data/demo/edges.jsonl",
                                  "data/demo/signals.jsonl"};

// The demo's mutations as the bulk loader reads them (the same parser).
std::vector<v1::Mutation> DemoMutations() {
  std::vector<v1::Mutation> out;
  for (const char* file : kDemoFiles) {
    std::ifstream in(Runfile(file), std::ios::binary);
    auto parser = formats::MakeParser(formats::Format::kJsonl, &in, {});
    EXPECT_TRUE(parser.ok()) << parser.status();
    if (!parser.ok()) return out;
    formats::ParsedRecord record;
    while ((*parser)->Next(&record)) {
      EXPECT_FALSE(record.rejected()) << file << ":" << record.line;
      for (v1::Mutation& m : record.mutations) out.push_back(std::move(m));
    }
  }
  return out;
}

class BulkLoadScoresTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServiceProcess> StartGraphstore(const std::string& data_dir,
                                                  int port) {
    auto p = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {"--data_dir=" + data_dir, "--sync=false", "--resolution=false",
          absl::StrCat("--listen=127.0.0.1:", port)},
         dir_});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<ServiceProcess> StartScorer(const std::string& name,
                                              const ServiceProcess& gs) {
    auto p = ServiceProcess::Start(
        {Runfile("services/scorer/scorer"),
         {"--data_dir=" + dir_ + "/" + name, "--graphstore=" + gs.address()},
         dir_});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    EXPECT_TRUE(
        common::WaitForServing((*p)->address(), "", absl::Seconds(60)).ok())
        << (*p)->Log();
    return std::move(*p);
  }

  static std::unique_ptr<v1::Scorer::Stub> ScorerStub(const ServiceProcess& p) {
    return v1::Scorer::NewStub(
        grpc::CreateChannel(p.address(), grpc::InsecureChannelCredentials()));
  }

  // Polls until `stub` scores `id` at `sequence` or later.
  static bool WaitForSequence(v1::Scorer::Stub& stub, const std::string& id,
                              int64_t sequence) {
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(id);
      v1::Score score;
      if (stub.GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    return false;
  }

  static std::map<std::string, v1::Score> Scores(
      v1::Scorer::Stub& stub, const std::vector<std::string>& ids) {
    std::map<std::string, v1::Score> out;
    for (const std::string& id : ids) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(id);
      v1::Score score;
      grpc::Status s = stub.GetScore(&context, request, &score);
      EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
      out[id] = score;
    }
    return out;
  }

  std::string dir_ = MakeTempDir("bulk_scores");
};

TEST_F(BulkLoadScoresTest, ABulkLoadedGraphScoresAsTheSameGraphApplied) {
  const std::vector<v1::Mutation> demo = DemoMutations();
  ASSERT_GT(demo.size(), 500u);
  std::vector<std::string> entity_ids;
  for (const v1::Mutation& m : demo) {
    if (m.has_upsert_entity()) entity_ids.push_back(m.upsert_entity().id());
  }

  // The reference: the demo through Apply, one batch per 100 records.
  std::unique_ptr<ServiceProcess> applied_gs =
      StartGraphstore(dir_ + "/applied", 0);
  ASSERT_NE(applied_gs, nullptr);
  int64_t applied_head = 0;
  {
    auto gs = v1::GraphStore::NewStub(grpc::CreateChannel(
        applied_gs->address(), grpc::InsecureChannelCredentials()));
    for (size_t first = 0; first < demo.size(); first += 100) {
      v1::ApplyRequest request;
      for (size_t i = first; i < std::min(demo.size(), first + 100); ++i) {
        *request.add_mutations() = demo[i];
      }
      grpc::ClientContext context;
      v1::ApplyResponse response;
      grpc::Status s = gs->Apply(&context, request, &response);
      ASSERT_TRUE(s.ok()) << s.error_message();
      applied_head = response.sequence();
    }
  }
  std::unique_ptr<ServiceProcess> applied_sc =
      StartScorer("applied-scorer", *applied_gs);
  ASSERT_NE(applied_sc, nullptr);

  // The bulk side: a scorer follows an empty graphstore first.
  const std::string bulk_dir = dir_ + "/bulk";
  std::unique_ptr<ServiceProcess> bulk_gs = StartGraphstore(bulk_dir, 0);
  ASSERT_NE(bulk_gs, nullptr);
  const int port = bulk_gs->grpc_port();
  std::string graph_id;
  {
    auto gs = v1::GraphStore::NewStub(grpc::CreateChannel(
        bulk_gs->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    ASSERT_TRUE(gs->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    EXPECT_EQ(stats.last_sequence(), 0);
    graph_id = stats.graph_id();
  }
  std::unique_ptr<ServiceProcess> bulk_sc =
      StartScorer("bulk-scorer", *bulk_gs);
  ASSERT_NE(bulk_sc, nullptr);

  // Offline: graphstore stopped, the files loaded into its directory.
  ASSERT_EQ(bulk_gs->Stop(SIGTERM, absl::Seconds(30)).value(), 0);
  std::vector<std::string> inputs;
  for (const char* file : kDemoFiles) inputs.push_back(Runfile(file));
  testing::CommandResult load = RunCommand(
      dir_, Runfile("services/bulkload/bulkload"),
      {"--data_dir=" + bulk_dir, "--input=" + absl::StrJoin(inputs, ",")});
  ASSERT_EQ(load.code, 0) << load.out << load.err;
  EXPECT_NE(load.out.find("at sequence 1"), std::string::npos) << load.out;
  EXPECT_NE(load.out.find("0 records rejected"), std::string::npos) << load.out;
  bulk_gs = StartGraphstore(bulk_dir, port);
  ASSERT_NE(bulk_gs, nullptr);
  {
    auto gs = v1::GraphStore::NewStub(grpc::CreateChannel(
        bulk_gs->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    ASSERT_TRUE(gs->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    EXPECT_EQ(stats.last_sequence(), 1);
    EXPECT_EQ(stats.graph_id(), graph_id);  // The same history, loaded.
    EXPECT_EQ(stats.entity_count(), static_cast<int64_t>(entity_ids.size()));
  }

  auto applied = ScorerStub(*applied_sc);
  auto bulk = ScorerStub(*bulk_sc);
  ASSERT_TRUE(WaitForSequence(*applied, entity_ids.back(), applied_head))
      << applied_sc->Log();
  ASSERT_TRUE(WaitForSequence(*bulk, entity_ids.back(), 1)) << bulk_sc->Log();

  // Every entity scored alike, factor by factor.
  const std::map<std::string, v1::Score> want = Scores(*applied, entity_ids);
  const std::map<std::string, v1::Score> got = Scores(*bulk, entity_ids);
  int nonzero = 0;
  for (const std::string& id : entity_ids) {
    const v1::Score& a = want.at(id);
    const v1::Score& b = got.at(id);
    EXPECT_NEAR(a.composite(), b.composite(), 1e-9) << id;
    EXPECT_EQ(a.band(), b.band()) << id;
    ASSERT_EQ(a.factors_size(), b.factors_size()) << id;
    for (int f = 0; f < a.factors_size(); ++f) {
      EXPECT_EQ(a.factors(f).DebugString(), b.factors(f).DebugString()) << id;
    }
    nonzero += a.composite() > 0;
  }
  EXPECT_GT(nonzero, 10);  // The demo's signals reach the graph.
  {
    // And the same ranking.
    auto top = [](v1::Scorer::Stub& stub) {
      grpc::ClientContext context;
      v1::ListTopRisksRequest request;
      request.set_page_size(20);
      v1::ListTopRisksResponse page;
      EXPECT_TRUE(stub.ListTopRisks(&context, request, &page).ok());
      std::vector<std::string> ids;
      for (const v1::Score& s : page.scores()) ids.push_back(s.entity_id());
      return ids;
    };
    EXPECT_EQ(top(*applied), top(*bulk));
  }

  // The follower saw the change log start after the load, and re-read.
  grpc::ClientContext context;
  v1::FeedStatus feed;
  ASSERT_TRUE(
      bulk->GetFeedStatus(&context, v1::GetFeedStatusRequest(), &feed).ok());
  EXPECT_EQ(feed.graph_id(), graph_id);
  EXPECT_EQ(feed.rebuilds().at("trimmed"), 1) << bulk_sc->Log();
  EXPECT_EQ(feed.rebuilds().at("graph_changed"), 0);
}

}  // namespace
}  // namespace georisk
