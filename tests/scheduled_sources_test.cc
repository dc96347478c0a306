// Scheduled sources end to end (issue #18): graphstore, ingest (with
// --sources_config) and the scorer as processes; a loopback HTTP server
// started by the test publishes the real CSL sample
// (tests/data/real/csl/csl_2025-06_sample.csv), then a changed version (the
// SSI listing of SME BANK removed, VTB BANK's from the 2023-11 excerpt
// added), then answers 304, then 500, then a truncated body. The graph
// follows the snapshots and ignores the failures, the scores move with
// them, and `georiskctl sources` shows each run. The same ingest follows an
// OpenSanctions delta index over the five real versions of
// tests/data/real/ftm/delta; its state survives an ingest restart. The
// explanations a compliance officer reads name the source and the fetch
// that wrote each listing and each listed entity, also after a scorer
// restart and a resync.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/ingest/testing/source_fixtures.h"
#include "services/ingest/testing/source_http_server.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::HttpGet;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceStack;
using ::georisk::testing::StackOptions;
using ::testing::HasSubstr;

constexpr char kSsi[] = "trade.gov/csl:SSI";

using ::georisk::ingest::testing::DeltaIndex;
using ::georisk::ingest::testing::Join;

class ScheduledSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    start_.set_seconds(absl::ToUnixSeconds(absl::Now()));
    dir_ = MakeTempDir("scheduled_sources");
    const ingest::testing::CslSeries csl = ingest::testing::RealCslSeries();
    ASSERT_EQ(csl.v1.size(), 14u);
    sample_ = csl.v1;
    v2_ = csl.v2;
    ingest::testing::ServeDeltaVersions(&http_);
    http_.Serve(Join(sample_), "\"v1\"");
    http_.ServePath("/delta.json", Index(2));

    const std::string config = dir_ + "/sources.textproto";
    std::ofstream(config) << absl::StrCat(
        "sources { name: \"csl-ssi\" url: \"", http_.Url("/csl.csv"),
        "\" format: \"csl-csv\" interval: \"1h\" retry_initial: \"1h\" "
        "snapshot_source: \"",
        kSsi,
        "\" }\n"
        "sources { name: \"os\" url: \"",
        http_.Url("/delta.json"),
        "\" interval: \"1h\" retry_initial: \"1h\" delta: true "
        "delta_index: true }\n");
    StackOptions options;
    options.dir = dir_;
    options.scorer = true;
    options.ingest_args = {
        absl::StrCat("--sources_config=", config),
        absl::StrCat("--sources_state_dir=", dir_, "/sources")};
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        stack_->graphstore()->address(), grpc::InsecureChannelCredentials()));
    scorer_ = v1::Scorer::NewStub(grpc::CreateChannel(
        stack_->scorer()->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    const absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  std::string Index(size_t n) { return DeltaIndex(http_, n); }

  std::vector<v1::SourceStatus> List() {
    auto stub = v1::Ingest::NewStub(grpc::CreateChannel(
        stack_->ingest()->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::ListSourcesResponse response;
    const grpc::Status s =
        stub->ListSources(&context, v1::ListSourcesRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.sources().begin(), response.sources().end()};
  }

  v1::SourceStatus Source(const std::string& name) {
    for (const v1::SourceStatus& s : List()) {
      if (s.name() == name) return s;
    }
    ADD_FAILURE() << "no source " << name;
    return {};
  }

  // Waits for the runs ingest makes at start (every source is due then).
  void WaitForFirstRuns() {
    for (int i = 0; i < 1200; ++i) {
      bool done = true;
      for (const v1::SourceStatus& s : List()) {
        done &= s.last_attempt().seconds() > 0 && !s.in_progress();
      }
      if (done) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "the first runs never ended\n" << stack_->ingest()->Log();
  }

  CommandResult Sources(std::vector<std::string> args) {
    args.insert(args.begin(), "sources");
    args.push_back(absl::StrCat("--ingest=", stack_->ingest()->address()));
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats;
  }

  // SSI listings: title -> target entity, in effect or ended.
  std::map<std::string, std::string> Listings(bool in_effect) {
    grpc::ClientContext context;
    v1::ListSignalsRequest request;
    request.set_source(kSsi);
    request.set_page_size(1000);
    v1::ListSignalsResponse response;
    EXPECT_TRUE(graph_->ListSignals(&context, request, &response).ok());
    std::map<std::string, std::string> out;
    for (const v1::Signal& s : response.signals()) {
      if (s.has_effective_until() == in_effect) continue;
      out[s.title()] = s.export_control().target_ids(0);
    }
    return out;
  }

  std::string Target(const std::map<std::string, std::string>& listings,
                     const std::string& name) {
    for (const auto& [title, target] : listings) {
      if (absl::StrContains(title, name)) return target;
    }
    ADD_FAILURE() << "no listing of " << name;
    return "";
  }

  // The change-log origins of commits (from, to].
  std::vector<std::string> Origins(int64_t from, int64_t to) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::WatchChangesRequest request;
    request.set_from_sequence(from + 1);
    auto stream = graph_->WatchChanges(&context, request);
    std::vector<std::string> out;
    v1::WatchChangesResponse response;
    while (stream->Read(&response)) {
      for (const v1::Change& c : response.changes()) {
        if (c.sequence() > to) break;
        out.push_back(c.origin());
        if (c.sequence() == to) {
          context.TryCancel();
          return out;
        }
      }
    }
    ADD_FAILURE() << "the change log never reached " << to;
    return out;
  }

  // The rules of the alerts about `id` caused by commits after `after`,
  // waiting up to 10 s for one.
  std::vector<std::string> AlertsOf(const std::string& id, int64_t after) {
    auto stub = v1::Alerts::NewStub(grpc::CreateChannel(
        stack_->scorer()->address(), grpc::InsecureChannelCredentials()));
    std::vector<std::string> rules;
    for (int i = 0; i < 400 && rules.empty(); ++i) {
      grpc::ClientContext context;
      v1::ListAlertsRequest request;
      request.set_page_size(1000);
      v1::ListAlertsResponse response;
      EXPECT_TRUE(stub->ListAlerts(&context, request, &response).ok());
      for (const v1::Alert& a : response.alerts()) {
        if (a.entity_id() == id && a.graph_sequence() > after) {
          rules.push_back(a.rule_name());
        }
      }
      if (rules.empty()) absl::SleepFor(absl::Milliseconds(25));
    }
    return rules;
  }

  // The export-control score of `id` once the scorer saw `sequence`.
  double ExportControls(const std::string& id, int64_t sequence) {
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(id);
      v1::Score score;
      if (scorer_->GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        for (const v1::FactorScore& f : score.factors()) {
          if (f.factor() == v1::FACTOR_EXPORT_CONTROLS) return f.propagated();
        }
        return 0;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << "the scorer never reached " << sequence;
    return -1;
  }

  // The export-control explanation of `id`, once the scorer saw
  // `sequence`.
  v1::Explanation ExplanationOf(const std::string& id, int64_t sequence) {
    ExportControls(id, sequence);  // Waits for the scorer.
    grpc::ClientContext context;
    v1::ExplainScoreRequest request;
    request.set_entity_id(id);
    request.set_factor(v1::FACTOR_EXPORT_CONTROLS);
    v1::Explanation explanation;
    const grpc::Status s =
        scorer_->ExplainScore(&context, request, &explanation);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return explanation;
  }

  // The update_origin of entity `id` as graphstore's GetEntity returns it.
  std::string EntityOrigin(const std::string& id) {
    grpc::ClientContext context;
    v1::GetEntityRequest request;
    request.set_id(id);
    v1::Entity entity;
    const grpc::Status s = graph_->GetEntity(&context, request, &entity);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return entity.update_origin();
  }

  // The provenance of `id`'s direct export-control contribution, once the
  // scorer saw `sequence`; the first one when there are several.
  v1::SignalProvenance ProvenanceOf(const std::string& id, int64_t sequence) {
    const v1::Explanation explanation = ExplanationOf(id, sequence);
    for (const v1::Contribution& c : explanation.contributions()) {
      if (c.has_direct()) return c.direct().provenance();
    }
    ADD_FAILURE() << id << " has no direct contribution";
    return {};
  }

  std::string dir_;
  ingest::testing::SourceHttpServer http_;
  std::vector<std::string> sample_, v2_;
  std::unique_ptr<ServiceStack> stack_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  std::unique_ptr<v1::Scorer::Stub> scorer_;
  google::protobuf::Timestamp start_;  // When the test started.
};

TEST_F(ScheduledSourcesTest, FollowsSnapshotsAndDeltasAndIgnoresFailures) {
  WaitForFirstRuns();

  // Start: v1 applied. Its 3 SSI listings are in effect and score.
  v1::SourceStatus csl = Source("csl-ssi");
  ASSERT_FALSE(csl.failing()) << csl.error();
  EXPECT_EQ(csl.records(), 26);
  EXPECT_EQ(csl.changes(), 26);
  EXPECT_EQ(csl.etag(), "\"v1\"");
  EXPECT_EQ(csl.mode(), "snapshot trade.gov/csl:SSI");
  std::map<std::string, std::string> live = Listings(true);
  ASSERT_EQ(live.size(), 3u);
  const std::string sme = Target(live, "SME BANK");
  int64_t sequence = Stats().last_sequence();
  const double sme_before = ExportControls(sme, sequence);
  EXPECT_GT(sme_before, 0);
  // The explanation names the source and the fetch: "<title> via csl-ssi,
  // fetched <time> UTC", the time being when the run fetched.
  v1::SignalProvenance p = ProvenanceOf(sme, sequence);
  EXPECT_EQ(p.kind(), v1::SignalProvenance::SCHEDULED_SOURCE);
  EXPECT_EQ(p.name(), "csl-ssi");
  EXPECT_EQ(p.version(), "etag:\"v1\"");
  EXPECT_GE(p.time().seconds(), start_.seconds() - 1);
  EXPECT_LE(p.time().seconds(), csl.last_success().seconds());
  EXPECT_THAT(p.summary(),
              ::testing::MatchesRegex(
                  ".*SME BANK.* via csl-ssi, fetched "
                  "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC"));

  // v2: SME BANK's listing ends, VTB BANK's starts; the scores follow.
  http_.Serve(Join(v2_), "\"v2\"");
  CommandResult run = Sources({"run", "csl-ssi"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("csl-ssi"));
  csl = Source("csl-ssi");
  EXPECT_EQ(csl.changes(), 3);
  EXPECT_EQ(csl.etag(), "\"v2\"");
  live = Listings(true);
  ASSERT_EQ(live.size(), 3u);
  ASSERT_EQ(Listings(false).size(), 1u);
  EXPECT_THAT(Listings(false).begin()->first, HasSubstr("SME BANK"));
  const std::string vtb = Target(live, "VTB BANK");
  const int64_t v1_sequence = sequence;
  sequence = Stats().last_sequence();
  // Provenance: every commit of the run names the source and the fetch.
  for (const std::string& origin : Origins(v1_sequence, sequence)) {
    EXPECT_THAT(origin,
                ::testing::MatchesRegex(
                    "source:csl-ssi fetched "
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z etag:\"v2\""));
  }
  EXPECT_LT(ExportControls(sme, sequence), sme_before);
  EXPECT_GT(ExportControls(vtb, sequence), 0);
  // VTB BANK's listing was written by the v2 fetch, and says so; a listing
  // v2 left as it was still names the fetch that wrote it, v1's.
  p = ProvenanceOf(vtb, sequence);
  EXPECT_EQ(p.version(), "etag:\"v2\"");
  EXPECT_THAT(p.summary(), HasSubstr(" via csl-ssi, fetched "));
  for (const auto& [title, target] : live) {
    if (target == vtb) continue;
    EXPECT_EQ(ProvenanceOf(target, sequence).version(), "etag:\"v1\"") << title;
  }
  // And the alerts: SME BANK's composite falls by its listing's 50 points,
  // a risk_jump (docs/alerts.md; a new entity such as VTB BANK has no score
  // to jump from, and 50 is below the high band).
  EXPECT_THAT(AlertsOf(sme, v1_sequence), ::testing::Contains("risk_jump"));

  // 304: a success that writes nothing.
  const v1::GetStatsResponse before = Stats();
  run = Sources({"run", "csl-ssi"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_EQ(http_.last_header("If-None-Match"), "\"v2\"");
  EXPECT_GT(Source("csl-ssi").last_success().seconds(), 0);
  EXPECT_FALSE(Source("csl-ssi").failing());

  // 500, then a truncated body: failures the table shows, nothing applied.
  http_.Fail(500);
  run = Sources({"run", "csl-ssi"});
  EXPECT_EQ(run.code, 1) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("HTTP 500"));
  const std::string v1_body = Join(sample_);
  http_.Truncate(v1_body, v1_body.size() / 2);
  run = Sources({"run", "csl-ssi"});
  EXPECT_EQ(run.code, 1) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("truncated"));
  csl = Source("csl-ssi");
  EXPECT_TRUE(csl.failing());
  EXPECT_EQ(csl.consecutive_failures(), 2);
  EXPECT_EQ(csl.etag(), "\"v2\"");  // What is applied.
  EXPECT_EQ(Stats().last_sequence(), before.last_sequence());
  EXPECT_EQ(Listings(true), live);
  EXPECT_LT(ExportControls(sme, before.last_sequence()), sme_before);

  CommandResult table = Sources({});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("DATA_LOSS: truncated"));
  EXPECT_THAT(table.out, HasSubstr("snapshot trade.gov/csl:SSI"));

  // The delta index: the start applied zbn and wnk; now pfh, npf, 3iv.
  v1::SourceStatus os = Source("os");
  ASSERT_FALSE(os.failing()) << os.error();
  EXPECT_EQ(os.delta_version(), "20240527194702-wnk");
  const int64_t entities = Stats().entity_count();
  http_.ServePath("/delta.json", Index(5));
  run = Sources({"run", "os"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  os = Source("os");
  EXPECT_EQ(os.delta_version(), "20240528134729-3iv");
  EXPECT_EQ(Stats().entity_count(), entities + 1);  // Poltergeist came, went.

  // Metrics per source.
  absl::StatusOr<testing::HttpResult> metrics =
      HttpGet(stack_->ingest()->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body,
              HasSubstr("georisk_source_failures_total{source=\"csl-ssi\"} 2"));
  EXPECT_THAT(metrics->body,
              HasSubstr("georisk_source_records{source=\"csl-ssi\"} 26"));
  EXPECT_THAT(
      metrics->body,
      HasSubstr(
          "georisk_source_last_success_timestamp_seconds{source=\"os\"}"));

  // A restart keeps every source's state, and runs nothing not due.
  const v1::SourceStatus csl_before = Source("csl-ssi");
  const int requests = http_.requests();
  ASSERT_TRUE(stack_->RestartIngest().ok());
  const v1::SourceStatus csl_after = Source("csl-ssi");
  EXPECT_EQ(csl_after.etag(), "\"v2\"");
  EXPECT_EQ(csl_after.records(), 26);
  EXPECT_EQ(csl_after.consecutive_failures(), 2);
  EXPECT_EQ(csl_after.last_attempt().seconds(),
            csl_before.last_attempt().seconds());
  EXPECT_EQ(Source("os").delta_version(), "20240528134729-3iv");
  absl::SleepFor(absl::Seconds(2));  // The scheduler's loop ran since.
  EXPECT_EQ(http_.requests(), requests);

  // After the restart, v2 again: a 304 clears the failure.
  const int64_t last = Stats().last_sequence();
  http_.Serve(Join(v2_), "\"v2\"");
  run = Sources({"run", "csl-ssi"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_FALSE(Source("csl-ssi").failing());
  EXPECT_EQ(Stats().last_sequence(), last);
}

// ingest killed (SIGKILL) during a run that RunSource started: the run was
// stored in progress, so the restarted ingest redoes it at once, although
// the source is not due for an hour, and the graph ends up at v2.
TEST_F(ScheduledSourcesTest, AKilledRunIsRedoneAtTheNextStart) {
  WaitForFirstRuns();
  ASSERT_EQ(Source("csl-ssi").etag(), "\"v1\"");
  http_.Serve(Join(v2_), "\"v2\"");
  http_.Delay(absl::Seconds(3));
  const int requests = http_.requests();
  std::thread run([address = stack_->ingest()->address()] {
    auto stub = v1::Ingest::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::RunSourceRequest request;
    request.set_name("csl-ssi");
    v1::RunSourceResponse response;
    // Ends with UNAVAILABLE when ingest is killed.
    (void)stub->RunSource(&context, request, &response);
  });
  for (int i = 0; i < 200 && http_.requests() == requests; ++i) {
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_GT(http_.requests(), requests);
  ASSERT_TRUE(Source("csl-ssi").in_progress());
  ASSERT_TRUE(stack_->RestartIngest(SIGKILL).ok());
  run.join();
  http_.Delay(absl::ZeroDuration());
  WaitForFirstRuns();
  const v1::SourceStatus csl = Source("csl-ssi");
  EXPECT_FALSE(csl.failing()) << csl.error();
  EXPECT_EQ(csl.etag(), "\"v2\"");
  EXPECT_EQ(csl.changes(), 3);
  EXPECT_EQ(Listings(false).size(), 1u);  // SME BANK's, ended once.
  EXPECT_EQ(Listings(true).size(), 3u);
}

// The provenance lives with the records, in graphstore and in the scorer's
// copy: a restarted scorer (its copy on disk) and a scorer that rebuilds its
// copy from graphstore's snapshot (a resync) both still name the v2 fetch,
// for VTB BANK's listing and for VTB BANK itself (an entity the v2 fetch
// wrote: GetEntity and the explanation's entity_provenance), while an
// entity the v2 fetch left as it was still names v1's.
TEST_F(ScheduledSourcesTest, ExplanationsKeepTheFetchAcrossScorerRestarts) {
  WaitForFirstRuns();
  const std::map<std::string, std::string> v1_live = Listings(true);
  http_.Serve(Join(v2_), "\"v2\"");
  CommandResult run = Sources({"run", "csl-ssi"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  const std::map<std::string, std::string> live = Listings(true);
  const std::string vtb = Target(live, "VTB BANK");
  std::string kept;  // An entity listed by v1 and left as it was by v2.
  for (const auto& [title, target] : live) {
    if (target != vtb && v1_live.count(title) > 0) kept = target;
  }
  ASSERT_FALSE(kept.empty());
  const int64_t sequence = Stats().last_sequence();
  const v1::SignalProvenance before = ProvenanceOf(vtb, sequence);
  ASSERT_EQ(before.version(), "etag:\"v2\"");

  // The entity VTB BANK names the v2 fetch, in graphstore and in the
  // explanation; the entity v2 left alone names v1's.
  const std::string vtb_origin = EntityOrigin(vtb);
  EXPECT_THAT(vtb_origin,
              ::testing::MatchesRegex("source:csl-ssi fetched "
                                      "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z "
                                      "etag:\"v2\""));
  const std::string kept_origin = EntityOrigin(kept);
  EXPECT_THAT(kept_origin, ::testing::EndsWith(" etag:\"v1\""));
  const v1::SignalProvenance entity_before =
      ExplanationOf(vtb, sequence).entity_provenance();
  EXPECT_EQ(entity_before.kind(), v1::SignalProvenance::SCHEDULED_SOURCE);
  EXPECT_EQ(entity_before.name(), "csl-ssi");
  EXPECT_EQ(entity_before.version(), "etag:\"v2\"");
  EXPECT_EQ(entity_before.origin(), vtb_origin);
  EXPECT_THAT(entity_before.summary(),
              ::testing::MatchesRegex(
                  ".*VTB BANK.* via csl-ssi, fetched "
                  "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC"));
  EXPECT_EQ(ExplanationOf(kept, sequence).entity_provenance().origin(),
            kept_origin);
  auto expect_entities_unchanged = [&](const char* when) {
    EXPECT_EQ(ExplanationOf(vtb, sequence).entity_provenance().summary(),
              entity_before.summary())
        << when;
    EXPECT_EQ(ExplanationOf(kept, sequence).entity_provenance().origin(),
              kept_origin)
        << when;
  };

  auto restart_scorer = [&](bool wipe) {
    const absl::StatusOr<int> stopped =
        stack_->scorer()->Stop(SIGTERM, absl::Seconds(30));
    ASSERT_TRUE(stopped.ok()) << stopped.status();
    ASSERT_EQ(*stopped, 0);
    if (wipe) std::filesystem::remove_all(dir_ + "/scorer");
    ASSERT_TRUE(stack_->StartScorer().ok());
    scorer_ = v1::Scorer::NewStub(grpc::CreateChannel(
        stack_->scorer()->address(), grpc::InsecureChannelCredentials()));
  };
  restart_scorer(/*wipe=*/false);
  EXPECT_EQ(ProvenanceOf(vtb, sequence).summary(), before.summary());
  expect_entities_unchanged("after a restart");
  restart_scorer(/*wipe=*/true);
  const v1::SignalProvenance resynced = ProvenanceOf(vtb, sequence);
  EXPECT_EQ(resynced.summary(), before.summary());
  EXPECT_EQ(resynced.origin(), before.origin());
  EXPECT_EQ(resynced.time().seconds(), before.time().seconds());
  expect_entities_unchanged("after a resync");
}

}  // namespace
}  // namespace georisk
