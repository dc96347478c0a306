// `georiskctl sources` against a real Ingest service whose scheduler runs a
// scripted runner (the fetch and import are source_runner_test's).
#include "services/georiskctl/sources_command.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/georiskctl/command_capture.h"
#include "services/georiskctl/exit_codes.h"
#include "services/georiskctl/loopback_server.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/source_config.h"
#include "services/ingest/source_scheduler.h"
#include "services/ingest/source_state_store.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::cli {
namespace {

using ::testing::HasSubstr;

class SourcesCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gs = ingest::testing::GraphStoreHarness::Create(
        base::testing::MakeTempDir("graphstore"));
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    auto store =
        ingest::SourceStateStore::Open(base::testing::MakeTempDir("state"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto sources = ingest::ParseSourcesConfig(R"pb(
      sources {
        name: "csl-el"
        url: "https://data.trade.gov/el.csv"
        interval: "1h"
        snapshot_source: "trade.gov/csl:EL"
      }
    )pb");
    ASSERT_TRUE(sources.ok()) << sources.status();
    ingest::SourceSchedulerOptions options;
    options.clock = [] { return absl::FromUnixSeconds(1796565600); };
    scheduler_ = std::make_unique<ingest::SourceScheduler>(
        *sources, store_.get(),
        [this](const ingest::Source&, const v1::SourceStatus&) {
          ingest::RunOutcome o;
          if (fail_) {
            o.status = absl::UnavailableError(
                "https://data.trade.gov/el.csv: "
                "HTTP 500");
          } else {
            o.records = 26;
            o.changes = 3;
          }
          return o;
        },
        options);
    ASSERT_TRUE(scheduler_->Load().ok());
    service_ = std::make_unique<ingest::IngestService>(
        graphstore_->NewStub(), ingest::IngestServiceOptions(), &registry_);
    service_->SetSources(scheduler_.get());
    server_ = StartLoopbackServer({service_.get()}, &address_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    service_->Shutdown();
    scheduler_->Shutdown();
    server_->Shutdown();
    server_->Wait();
    graphstore_->Shutdown();
  }

  int Run(std::vector<std::string> args, bool json = false) {
    ClientOptions o;
    o.ingest = address_;
    o.output = json ? "json" : "table";
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    o.out = out;
    o.err = err;
    const int code = SourcesCommand(o, args);
    out_ = ReadCaptured(out);
    err_ = ReadCaptured(err);
    std::fclose(out);
    std::fclose(err);
    return code;
  }

  common::MetricsRegistry registry_;
  std::unique_ptr<ingest::testing::GraphStoreHarness> graphstore_;
  std::unique_ptr<ingest::SourceStateStore> store_;
  std::unique_ptr<ingest::SourceScheduler> scheduler_;
  std::unique_ptr<ingest::IngestService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  bool fail_ = false;
  std::string out_, err_;
};

TEST_F(SourcesCommandTest, ListsRunsAndShowsTheError) {
  ASSERT_EQ(Run({}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("csl-el"));
  EXPECT_THAT(out_, HasSubstr("snapshot trade.gov/csl:EL"));
  EXPECT_THAT(out_, HasSubstr("never"));  // Not run yet.

  ASSERT_EQ(Run({"run", "csl-el"}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("2026-12-06 14:00:00 UTC"));
  EXPECT_THAT(out_, HasSubstr("26"));
  EXPECT_THAT(out_, HasSubstr("2026-12-06 15:00:00 UTC"));  // Next run.

  fail_ = true;
  EXPECT_EQ(Run({"run", "csl-el"}), kExitFailed);
  EXPECT_THAT(out_, HasSubstr("UNAVAILABLE: https://data.trade.gov/el.csv: "
                              "HTTP 500"));

  ASSERT_EQ(Run({}, /*json=*/true), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("\"name\": \"csl-el\""));
  EXPECT_THAT(out_, HasSubstr("\"failing\": true"));
  EXPECT_THAT(out_, HasSubstr("\"records\": \"26\""));
}

TEST_F(SourcesCommandTest, ValidatesTheName) {
  EXPECT_EQ(Run({"run", "nope"}), kExitFailed);
  EXPECT_THAT(err_, HasSubstr("no source named \"nope\""));
  EXPECT_EQ(Run({"run"}), kExitUsage);
  EXPECT_EQ(Run({"list", "x"}), kExitUsage);
  EXPECT_EQ(Run({"run", ""}), kExitFailed);
  EXPECT_THAT(err_, HasSubstr("name: required"));
}

}  // namespace
}  // namespace georisk::cli
