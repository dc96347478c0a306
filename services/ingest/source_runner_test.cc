// One source's runs end to end in one process: a loopback HTTP publisher
// serving the real CSL sample (tests/data/real/csl), the fetch, the guard
// and the import through a real Ingest service over a real graphstore
// (RocksDB in a temp dir).
#include "services/ingest/source_runner.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/source_config.h"
#include "services/ingest/testing/graphstore_harness.h"
#include "services/ingest/testing/source_fixtures.h"
#include "services/ingest/testing/source_http_server.h"

namespace georisk::ingest {
namespace {

using ::testing::HasSubstr;

constexpr char kSsi[] = "trade.gov/csl:SSI";

using testing::DeltaIndex;
using testing::Join;
using testing::ReadTestFile;

class SourceRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gs = testing::GraphStoreHarness::Create(
        base::testing::MakeTempDir("graphstore"));
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    IngestServiceOptions options;
    options.resolve_on_import = false;
    service_ = std::make_unique<IngestService>(graphstore_->NewStub(), options,
                                               &registry_);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    SourceRunnerOptions runner;
    runner.ingest = server_->InProcessChannel(grpc::ChannelArguments());
    runner.work_dir = base::testing::MakeTempDir("work");
    runner.clock = [] { return absl::FromUnixSeconds(1796565600); };
    runner_ = std::make_unique<SourceRunner>(runner);

    const testing::CslSeries csl = testing::RealCslSeries();
    ASSERT_EQ(csl.v1.size(), 14u);  // The header and 13 listings.
    ASSERT_EQ(csl.v2.size(), 14u);  // SME BANK out, VTB BANK in.
    sample_ = csl.v1;
    v2_ = csl.v2;

    absl::StatusOr<std::vector<Source>> sources =
        ParseSourcesConfig(absl::StrCat(
            R"(sources { name: "csl-ssi" url: ")", http_.Url("/csl.csv"),
            R"(" format: "csl-csv" interval: "1h" )",
            R"(snapshot_source: "trade.gov/csl:SSI" })"));
    ASSERT_TRUE(sources.ok()) << sources.status();
    source_ = (*sources)[0];
  }

  void TearDown() override {
    service_->Shutdown();
    server_->Shutdown();
    server_->Wait();
    graphstore_->Shutdown();
  }

  // The SSI listings in effect (by title) and ended.
  std::set<std::string> Listings(bool in_effect) {
    storage::SignalQuery q;
    q.source = kSsi;
    absl::StatusOr<storage::SignalPage> page =
        graphstore_->store()->ListSignals(q);
    EXPECT_TRUE(page.ok()) << page.status();
    std::set<std::string> out;
    for (const v1::Signal& s : page->signals) {
      if (s.has_effective_until() == !in_effect) out.insert(s.title());
    }
    return out;
  }

  // Runs the source and keeps what the scheduler would store.
  RunOutcome Run() {
    RunOutcome o = runner_->Run(source_, state_);
    if (o.status.ok()) {
      state_.set_records(o.records);
      state_.set_snapshot_records(o.snapshot_records);
      state_.set_etag(o.etag);
      state_.set_last_modified(o.last_modified);
      state_.set_content_sha256(o.sha256);
    }
    return o;
  }

  common::MetricsRegistry registry_;
  std::unique_ptr<testing::GraphStoreHarness> graphstore_;
  std::unique_ptr<IngestService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<SourceRunner> runner_;
  testing::SourceHttpServer http_;
  std::vector<std::string> sample_, v2_;
  Source source_;
  v1::SourceStatus state_;
};

TEST_F(SourceRunnerTest, FollowsSnapshotsAndIgnoresFailures) {
  // v1: the sample's 13 listings, 3 of them SSI.
  http_.Serve(Join(sample_), "\"v1\"");
  RunOutcome o = Run();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_FALSE(o.unchanged);
  EXPECT_EQ(o.records, 26);          // A party and its listing per row.
  EXPECT_EQ(o.snapshot_records, 3);  // The SSI listings.
  EXPECT_EQ(o.changes, 26);
  EXPECT_EQ(o.etag, "\"v1\"");
  EXPECT_EQ(o.sha256.size(), 64u);
  EXPECT_EQ(Listings(true).size(), 3u);

  // v2: one SSI listing ended, one added; the rest unchanged.
  http_.Serve(Join(v2_), "\"v2\"");
  o = Run();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(http_.last_header("If-None-Match"), "\"v1\"");
  EXPECT_EQ(o.changes, 3);  // VTB's party and listing written, SME's ended.
  const std::set<std::string> live = Listings(true);
  EXPECT_EQ(live.size(), 3u);
  EXPECT_EQ(Listings(false).size(), 1u);
  EXPECT_THAT(*Listings(false).begin(), HasSubstr("SME BANK"));
  bool vtb = false;
  for (const std::string& t : live) vtb |= absl::StrContains(t, "VTB BANK");
  EXPECT_TRUE(vtb);

  // 304: nothing imported.
  const int64_t sequence = graphstore_->store()->LastSequence();
  o = Run();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_TRUE(o.unchanged);
  EXPECT_EQ(o.records, 26);
  EXPECT_EQ(graphstore_->store()->LastSequence(), sequence);

  // 500, then a truncated body: failures, nothing applied.
  http_.Fail(500);
  o = Run();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kUnavailable) << o.status;
  const std::string v3 = Join(sample_);
  http_.Truncate(v3, v3.size() / 2);
  o = Run();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kDataLoss) << o.status;
  EXPECT_EQ(graphstore_->store()->LastSequence(), sequence);
  EXPECT_EQ(Listings(true), live);
}

TEST_F(SourceRunnerTest, TheGuardRefusesASnapshotThatEndsTooMuch) {
  http_.Serve(Join(sample_), "\"v1\"");
  ASSERT_TRUE(Run().status.ok());
  // Two of the three SSI rows gone: 2 of the 3 SSI listings would end
  // (67%, above the default 0.5); the other lists' rows do not count.
  std::vector<std::string> fewer;
  for (const std::string& l : sample_) {
    if (!absl::StrContains(l, "\"SME BANK\"") &&
        !absl::StrContains(l, "\"ROSNEFT TRADE LIMITED\"")) {
      fewer.push_back(l);
    }
  }
  ASSERT_EQ(fewer.size(), sample_.size() - 2);
  http_.Serve(Join(fewer), "\"v2\"");
  EXPECT_EQ(source_.max_ended_fraction, 0.5);
  const int64_t sequence = graphstore_->store()->LastSequence();
  RunOutcome o = Run();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(o.status.message(),
              HasSubstr("suspicious change: the snapshot would end 2 of the 3 "
                        "signals and edges"));
  EXPECT_EQ(graphstore_->store()->LastSequence(), sequence);
  EXPECT_EQ(Listings(true).size(), 3u);
  // Allowed at 0.7.
  source_.max_ended_fraction = 0.7;
  o = Run();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(Listings(true).size(), 1u);
}

TEST_F(SourceRunnerTest, TheSameBytesWithoutAnETagAreUnchanged) {
  http_.Serve(Join(sample_), "");
  ASSERT_TRUE(Run().status.ok());
  const int64_t sequence = graphstore_->store()->LastSequence();
  RunOutcome o = Run();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_TRUE(o.unchanged);
  EXPECT_EQ(graphstore_->store()->LastSequence(), sequence);
}

TEST_F(SourceRunnerTest, AnEmptySnapshotIsNotApplied) {
  http_.Serve(Join(sample_), "\"v1\"");
  ASSERT_TRUE(Run().status.ok());
  http_.Serve(sample_[0] + "\n", "\"v2\"");  // The header only.
  RunOutcome o = Run();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kDataLoss) << o.status;
  EXPECT_EQ(Listings(true).size(), 3u);
}

// The real OpenSanctions delta versions (source_fixtures.h) on loopback.
class DeltaIndexTest : public SourceRunnerTest {
 protected:
  void SetUp() override {
    SourceRunnerTest::SetUp();
    testing::ServeDeltaVersions(&http_);
    absl::StatusOr<std::vector<Source>> sources = ParseSourcesConfig(
        absl::StrCat(R"(sources { name: "os" url: ")", http_.Url("/delta.json"),
                     R"(" interval: "6h" delta: true delta_index: true })"));
    ASSERT_TRUE(sources.ok()) << sources.status();
    source_ = (*sources)[0];
  }

  // An index of the first `n` versions.
  std::string Index(size_t n) { return DeltaIndex(http_, n); }

  int64_t Entities() {
    absl::StatusOr<storage::StoreStats> stats =
        graphstore_->store()->GetStats();
    EXPECT_TRUE(stats.ok());
    return stats->entity_count;
  }

  RunOutcome RunDelta() {
    RunOutcome o = Run();
    if (!o.delta_version.empty()) state_.set_delta_version(o.delta_version);
    return o;
  }
};

TEST_F(DeltaIndexTest, AppliesEachNewVersionOnceInOrder) {
  // Two versions: the empty one and two ADDs.
  http_.Serve(Index(2), "\"i2\"");
  RunOutcome o = RunDelta();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(o.delta_version, "20240527194702-wnk");
  const int64_t after_two = Entities();
  EXPECT_GE(after_two, 2);

  // The index grows to five; pfh answers 500: the run stops there and
  // keeps wnk as the last applied.
  http_.Serve(Index(5), "\"i5\"");
  const std::string pfh = "/v/20240528014702-pfh.json";
  http_.FailPath(pfh, 500);
  o = RunDelta();
  EXPECT_EQ(o.status.code(), absl::StatusCode::kUnavailable) << o.status;
  EXPECT_THAT(o.status.message(), HasSubstr("version 20240528014702-pfh"));
  EXPECT_EQ(o.delta_version, "20240527194702-wnk");
  EXPECT_EQ(state_.delta_version(), "20240527194702-wnk");
  EXPECT_EQ(Entities(), after_two);
  http_.ServePath(pfh, ReadTestFile("tests/data/real/ftm/delta/"
                                    "20240528014702-pfh/entities.delta.json"));

  // Then pfh (an ADD of NK-500Poltergeist and a MOD), npf (its DEL) and
  // 3iv (an ADD) apply, in that order: the ADD then DEL leave no
  // Poltergeist, and the MOD adds none.
  o = RunDelta();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_EQ(o.delta_version, "20240528134729-3iv");
  EXPECT_EQ(Entities(), after_two + 1);

  // Nothing new: a 304.
  o = RunDelta();
  ASSERT_TRUE(o.status.ok()) << o.status;
  EXPECT_TRUE(o.unchanged);
}

TEST(FetchOriginTest, NamesTheSourceTimeAndValidator) {
  const absl::Time t = absl::FromUnixSeconds(1796565600);
  EXPECT_EQ(FetchOrigin("csl", t, "\"v1\"", "abcdef"),
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  EXPECT_EQ(FetchOrigin("csl", t, "", "0123456789abcdef0123"),
            "source:csl fetched 2026-12-06T14:00:00Z sha256:0123456789abcdef");
  // An ETag that would take the origin past ingest's 128 bytes.
  EXPECT_EQ(FetchOrigin("csl", t, std::string(100, 'e'), "0123456789abcdef0"),
            "source:csl fetched 2026-12-06T14:00:00Z sha256:0123456789abcdef");
}

}  // namespace
}  // namespace georisk::ingest
