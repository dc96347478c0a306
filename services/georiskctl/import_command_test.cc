// `georiskctl import` against an in-process Ingest service in front of a
// fake GraphStore: every format, rejections mapped back to file and line,
// replays, dry runs, exit codes.
#include "services/georiskctl/import_command.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/testing/free_port.h"
#include "base/testing/temp_dir.h"
#include "domain/provenance.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/georiskctl/command_capture.h"
#include "services/georiskctl/loopback_server.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::cli {
namespace {

using ::georisk::ingest::testing::GraphStoreHarness;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class ImportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = base::testing::MakeTempDir("import");
    Serve(/*resolution=*/false);
  }

  // Starts graphstore (serving Resolution when `resolution`) and ingest in
  // front of it (resolving through graphstore's Resolution when
  // `ingest_resolves`, as --resolve_on_import does).
  void Serve(bool resolution, bool ingest_resolves = false) {
    auto fake =
        GraphStoreHarness::Create(base::testing::MakeTempDir("graphstore"),
                                  ingest::testing::HarnessOptions{resolution});
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    ingest::IngestServiceOptions options;
    options.session.batch_size = 50;
    std::shared_ptr<v1::Resolution::StubInterface> resolution_stub;
    if (ingest_resolves) resolution_stub = fake_->NewResolutionStub();
    service_ = std::make_unique<ingest::IngestService>(
        fake_->NewStub(), options, &registry_, resolution_stub);
    server_ = StartLoopbackServer({service_.get()}, &address_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override { Stop(); }

  void Stop() {
    service_->Shutdown();
    server_->Shutdown();
    server_->Wait();
    service_.reset();
    if (fake_) fake_->Shutdown();
    fake_.reset();
  }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // Runs an import; the output and errors land in out_ and err_.
  int Import(std::vector<std::string> files, ImportOptions options = {}) {
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    options.files = std::move(files);
    if (options.ingest_address == ImportOptions().ingest_address) {
      options.ingest_address = address_;
    }
    options.progress = options.progress == ProgressMode::kAuto
                           ? ProgressMode::kNone
                           : options.progress;
    options.connect_timeout = absl::Seconds(2);
    options.out = out;
    options.err = err;
    const int code = RunImport(options);
    out_ = ReadCaptured(out);
    err_ = ReadCaptured(err);
    std::fclose(out);
    std::fclose(err);
    return code;
  }

  std::string dir_;
  common::MetricsRegistry registry_;
  std::unique_ptr<GraphStoreHarness> fake_;
  std::unique_ptr<ingest::IngestService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string out_, err_;
};

constexpr char kEntities[] =
    "id,name,country,source\n"
    "company/tsmc,TSMC,tw,https://tsmc.com\n"
    "company/apple,Apple,US,https://apple.com\n"
    "company/bad,Bad,Taiwan,x\n";  // Line 4: rejected while parsing.

constexpr char kEdges[] =
    "from_id,to_id,kind,weight,product_code,source\n"
    "company/tsmc,company/apple,SUPPLIES,0.6,8542.31,s\n"
    "company/tsmc,company/nobody,SUPPLIES,0.2,8542,s\n";  // Line 3: by ingest.

TEST_F(ImportCommandTest, ImportsFilesAndMapsEveryRejectionToItsLine) {
  const std::string entities = Write("entities.csv", kEntities);
  const std::string edges = Write("edges.csv", kEdges);
  // Ownership first: the FTM file is read twice, companies first.
  const std::string ftm = Write(
      "owners.ftm.json",
      R"({"id": "o1", "schema": "Ownership", "properties": {"owner": ["p"], "asset": ["c"], "percentage": ["60"]}})"
      "\n"
      R"({"id": "p", "schema": "Company", "properties": {"name": ["P"], "jurisdiction": ["kr"]}})"
      "\n"
      R"({"id": "c", "schema": "Company", "properties": {"name": ["C"], "jurisdiction": ["kr"]}})"
      "\n"
      R"({"id": "x", "schema": "Person", "properties": {}})"  // No name.
      "\n");
  ImportOptions options;
  options.rejections_path = dir_ + "/rejections.jsonl";
  EXPECT_EQ(Import({entities, edges, ftm}, options), kExitRejected) << err_;
  EXPECT_THAT(out_, HasSubstr("files: 3\n"));
  EXPECT_THAT(out_, HasSubstr("accepted: 6\n"));
  EXPECT_THAT(out_, HasSubstr("rejected: 3 (2 while parsing, 1 by ingest)"));
  const std::vector<std::string> rejections = Lines(options.rejections_path);
  ASSERT_EQ(rejections.size(), 3u);
  EXPECT_THAT(rejections,
              Contains(AllOf(HasSubstr("entities.csv\",\"line\":4,"),
                             HasSubstr("\"field\":\"country\""))));
  EXPECT_THAT(rejections,
              Contains(AllOf(HasSubstr("owners.ftm.json\",\"line\":4,"),
                             HasSubstr("\"field\":\"properties.name\""),
                             HasSubstr("is required"))));
  EXPECT_THAT(rejections,
              Contains(AllOf(HasSubstr("edges.csv\",\"line\":3,"),
                             HasSubstr("\"record_index\":3,"),
                             HasSubstr("\"field\":\"upsert_edge.to_id\""),
                             HasSubstr("company/nobody"))));
  EXPECT_THAT(err_, HasSubstr("rejected: "));
  EXPECT_TRUE(fake_->store()->GetEntity("company/ftm-p").ok());
  EXPECT_EQ(fake_->store()->GetStats()->edge_count, 2);
}

TEST_F(ImportCommandTest, ReplayIsAllDuplicatesAndDryRunWritesNothing) {
  const std::string entities = Write(
      "e.csv", "id,name,country,source\ncompany/a,A,TW,s\ncompany/b,B,KR,s\n");
  ASSERT_EQ(Import({entities}), kExitOk) << err_;
  const int64_t sequence = fake_->store()->LastSequence();
  ASSERT_EQ(Import({entities}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("accepted: 0\nduplicates: 2\n"));
  EXPECT_EQ(fake_->store()->LastSequence(), sequence);

  const std::string more =
      Write("more.csv", "id,name,country,source\ncompany/c,C,TW,s\n");
  ImportOptions dry;
  dry.dry_run = true;
  ASSERT_EQ(Import({more}, dry), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("accepted: 1\n"));
  EXPECT_THAT(out_, HasSubstr("dry_run: nothing written"));
  EXPECT_EQ(fake_->store()->LastSequence(), sequence);
}

TEST_F(ImportCommandTest, SnapshotImportReportsEnded) {
  const std::string header = "source,entity_number,name,addresses\n";
  ImportOptions snapshot;
  snapshot.snapshot_sources = {"trade.gov/csl:EL"};
  ASSERT_EQ(Import({Write("csl1.csv", header + "EL,1,A,\"x, CN\"\n"
                                               "EL,2,B,\"x, CN\"\n")},
                   snapshot),
            kExitOk)
      << err_;
  ASSERT_EQ(
      Import({Write("csl2.csv", header + "EL,1,A,\"x, CN\"\n")}, snapshot),
      kExitOk)
      << err_;
  EXPECT_THAT(out_, HasSubstr("ended: 1\n"));
}

// The CSL is one file of every list: one import can be the snapshot of
// several of them, ending the delistings of each and nothing of the others.
TEST_F(ImportCommandTest, SnapshotOfSeveralListsEndsEachAndNoOther) {
  const std::string header = "source,entity_number,name,addresses\n";
  const std::string rows =
      "EL,1,A,\"x, CN\"\nEL,2,B,\"x, CN\"\n"
      "SDN,3,C,\"x, RU\"\nSDN,4,D,\"x, RU\"\n"
      "DPL,5,E,\"x, CN\"\n";
  ASSERT_EQ(Import({Write("csl1.csv", header + rows)}), kExitOk) << err_;
  ImportOptions snapshot;
  snapshot.snapshot_sources = {"trade.gov/csl:EL", "trade.gov/csl:SDN"};
  // B, D and E are gone from the file; E's list is not of the snapshot.
  ASSERT_EQ(Import({Write("csl2.csv", header + "EL,1,A,\"x, CN\"\n"
                                               "SDN,3,C,\"x, RU\"\n")},
                   snapshot),
            kExitOk)
      << err_;
  EXPECT_THAT(out_, HasSubstr("ended: 2\n"));
  storage::SignalQuery query;
  query.source = "trade.gov/csl:DPL";
  absl::StatusOr<storage::SignalPage> dpl = fake_->store()->ListSignals(query);
  ASSERT_TRUE(dpl.ok()) << dpl.status();
  ASSERT_EQ(dpl->signals.size(), 1u);
  EXPECT_FALSE(dpl->signals[0].has_effective_until());
}

TEST_F(ImportCommandTest, FtmSnapshotOfSeveralSourcesNeedsItsSource) {
  ImportOptions options;
  options.format = "ftm";
  options.snapshot_sources = {"a", "b"};
  EXPECT_EQ(Import({Write("x.ftm.json", "{}\n")}, options), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("with several snapshot sources, say which with "
                              "--source"));
}

// A manual import's commits, and the signals they write, name the file and
// when the import started (domain/provenance.h), as a scheduled source's
// name its fetch.
TEST_F(ImportCommandTest, TheOriginNamesTheFileAndWhenTheImportStarted) {
  const std::string header = "source,entity_number,name,addresses\n";
  const absl::Time before =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  ASSERT_EQ(Import({Write("el.csv", header + "EL,1,A,\"x, CN\"\n")}), kExitOk)
      << err_;
  const absl::Time after = absl::Now();
  absl::StatusOr<std::vector<v1::Change>> log =
      fake_->store()->ReadChanges(1, 0, 0);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_FALSE(log->empty());
  bool signal_seen = false;
  for (const v1::Change& c : *log) {
    const domain::Origin o = domain::ParseOrigin(c.origin());
    EXPECT_EQ(o.kind, domain::Origin::Kind::kImport) << c.origin();
    EXPECT_EQ(o.name, "el.csv");
    EXPECT_GE(o.time, before);
    EXPECT_LE(o.time, after);
    for (const v1::Mutation& m : c.mutations()) {
      if (!m.has_upsert_signal()) continue;
      signal_seen = true;
      EXPECT_EQ(m.upsert_signal().update_origin(), c.origin());
    }
  }
  EXPECT_TRUE(signal_seen);
}

TEST_F(ImportCommandTest, ServiceDownIsItsOwnExitCode) {
  // A port nobody listens on.
  const int port = base::testing::PickFreePort();
  ASSERT_NE(port, 0);
  ImportOptions options;
  options.ingest_address = absl::StrCat("127.0.0.1:", port);
  EXPECT_EQ(Import({Write("a.csv", kEntities)}, options), kExitUnavailable);
  EXPECT_THAT(err_, HasSubstr("is not reachable"));
}

TEST_F(ImportCommandTest, GraphStoreFailureBehindIngestFailsTheImport) {
  fake_->FailAllApplies(absl::InternalError("disk on fire"));
  EXPECT_EQ(Import({Write("a.csv", kEntities)}), kExitFailed);
  EXPECT_THAT(err_, HasSubstr("the import failed"));
  EXPECT_THAT(err_, HasSubstr("disk on fire"));
}

TEST_F(ImportCommandTest, AStoppedImportResumesWhereItStopped) {
  std::string csv = "id,name,country,source\n";
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&csv, "company/c", i, ",C", i, ",TW,s\n");
  }
  const std::string file = Write("many.csv", csv);
  int calls = 0;
  fake_->OnApply([&](absl::Span<const v1::Mutation* const>) {
    // The third batch lands; every later one fails.
    if (++calls == 3) fake_->FailAllApplies(absl::InternalError("disk full"));
  });
  ASSERT_EQ(Import({file}), kExitFailed) << err_;
  EXPECT_THAT(err_, HasSubstr("disk full"));
  const std::string marker = "resume with --resume_from=";
  const size_t at = err_.find(marker);
  ASSERT_NE(at, std::string::npos) << err_;
  const int64_t resume = std::stoll(err_.substr(at + marker.size()));
  EXPECT_GT(resume, 0);
  EXPECT_LT(resume, 200);
  EXPECT_EQ(fake_->store()->GetStats()->entity_count, resume)
      << "every record before the index is applied, none after";

  fake_->OnApply(nullptr);
  fake_->FailAllApplies(absl::OkStatus());
  ImportOptions resumed;
  resumed.resume_from = resume;
  ASSERT_EQ(Import({file}, resumed), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr(absl::StrCat("sent: ", 200 - resume, "\n")));
  EXPECT_THAT(out_, HasSubstr(absl::StrCat("accepted: ", 200 - resume, "\n")));
  EXPECT_EQ(fake_->store()->GetStats()->entity_count, 200);
}

TEST_F(ImportCommandTest, ResumedRejectionsKeepTheirFileAndLine) {
  ImportOptions resumed;
  resumed.resume_from = 1;  // Skip company/tsmc's record.
  ASSERT_EQ(
      Import({Write("e.csv", kEntities), Write("d.csv", kEdges)}, resumed),
      kExitRejected)
      << err_;
  EXPECT_THAT(out_, HasSubstr("skipped: 1 (--resume_from)"));
  // company/nobody's edge is record 3 of the files, line 3 of d.csv (and the
  // tsmc edge, whose endpoint was skipped, still refers to nothing sent).
  EXPECT_THAT(err_, HasSubstr("d.csv:3:"));
}

TEST_F(ImportCommandTest, UsageErrors) {
  EXPECT_EQ(Import({dir_ + "/missing.csv"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("cannot read"));
  ImportOptions xml;
  xml.format = "xml";
  EXPECT_EQ(Import({Write("a.csv", kEntities)}, xml), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("unknown format \"xml\""));
  EXPECT_EQ(Import({Write("a.txt", "hello\n")}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("name it with --format"));
}

TEST_F(ImportCommandTest, ProgressLinesWhenNotATerminal) {
  ImportOptions options;
  options.progress = ProgressMode::kLines;
  options.progress_interval = absl::ZeroDuration();
  ASSERT_EQ(
      Import({Write("a.csv", "id,name,country,source\ncompany/a,A,TW,s\n")},
             options),
      kExitOk);
  EXPECT_THAT(out_, HasSubstr("import: 100% ("));
  EXPECT_THAT(out_, Not(HasSubstr("\r")));
  options.progress = ProgressMode::kBar;
  ASSERT_EQ(
      Import({Write("b.csv", "id,name,country,source\ncompany/b,B,TW,s\n")},
             options),
      kExitOk);
  EXPECT_THAT(out_, HasSubstr("\r[==============================] 100%"));
}

// ImportCommand: georiskctl's client options decide where the import goes,
// with which credentials, and where it prints.
TEST_F(ImportCommandTest, ImportCommandUsesTheClientOptions) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  ClientOptions client;
  client.ingest = address_;
  client.endpoints_file = "";
  client.out = out;
  client.err = err;
  ImportOptions options;
  options.files = {Write("c.csv", kEntities)};
  options.ingest_address = "ignored:1";  // The client's address wins.
  options.progress = ProgressMode::kNone;
  EXPECT_EQ(ImportCommand(client, options), kExitRejected);
  const std::string printed = ReadCaptured(out);
  EXPECT_THAT(printed, HasSubstr("accepted: 2\n"));
  EXPECT_THAT(ReadCaptured(err), HasSubstr("c.csv:4:"));
  std::fclose(out);
  std::fclose(err);
}

TEST_F(ImportCommandTest, ImportCommandWithAnUnreadableCredentialIsUsage) {
  std::FILE* err = std::tmpfile();
  ClientOptions client;
  client.ingest = address_;
  client.tls_ca = dir_ + "/no-such-ca.pem";
  client.err = err;
  ImportOptions options;
  options.files = {Write("d.csv", kEntities)};
  EXPECT_EQ(ImportCommand(client, options), kExitUsage);
  EXPECT_THAT(ReadCaptured(err), HasSubstr("georiskctl import: "));
  std::fclose(err);
}

TEST(ParseProgressModeTest, EveryModeAndABadOne) {
  EXPECT_EQ(*ParseProgressMode("auto"), ProgressMode::kAuto);
  EXPECT_EQ(*ParseProgressMode("bar"), ProgressMode::kBar);
  EXPECT_EQ(*ParseProgressMode("lines"), ProgressMode::kLines);
  EXPECT_EQ(*ParseProgressMode("none"), ProgressMode::kNone);
  const auto bad = ParseProgressMode("fancy");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"fancy\""));
}

TEST(SourceMapTest, RunLengthEncodedLookup) {
  SourceMap map;
  for (int line = 2; line <= 1001; ++line) map.Add(0, line, 1);
  map.Add(0, 1003, 1);  // A gap (line 1002 was rejected).
  for (int line = 2; line <= 5; ++line) map.Add(1, line, 2);  // CSL rows.
  EXPECT_EQ(map.size(), 1000 + 1 + 8);
  EXPECT_EQ(map.Find(0).line, 2);
  EXPECT_EQ(map.Find(999).line, 1001);
  EXPECT_EQ(map.Find(1000).line, 1003);
  EXPECT_EQ(map.Find(1001).file, 1);
  EXPECT_EQ(map.Find(1001).line, 2);
  EXPECT_EQ(map.Find(1002).line, 2);
  EXPECT_EQ(map.Find(1003).line, 3);
  EXPECT_EQ(map.Find(1008).line, 5);
  EXPECT_EQ(map.Find(1009).file, -1);
  EXPECT_EQ(map.Find(-1).file, -1);
}

TEST(FormatProgressTest, BarAndLine) {
  EXPECT_EQ(FormatProgress(true, 50, 100, 12345, absl::Seconds(2), "f.csv"),
            "[===============>              ]  50%  12,345 records  6,172 "
            "records/s  f.csv");
  EXPECT_EQ(FormatProgress(false, 5'600'000, 12'300'000, 12345,
                           absl::Seconds(2), "f.csv"),
            "import: 45% (5.6 MB of 12.3 MB), 12,345 records, 6,172 "
            "records/s");
  EXPECT_THAT(FormatProgress(true, 0, 0, 0, absl::ZeroDuration(), ""),
              HasSubstr("[>"));
}

// Huawei's LEI (ISO 17442 check digits valid), from docs/resolution.md.
constexpr char kTeam[] =
    R"({"upsert_entity": {"id": "company/huawei", "kind": "COMPANY", "name": "Huawei Technologies Co., Ltd.", "country": "CN", "identifiers": {"lei": "506700GE1G29325QX363"}, "source": "team"}})"
    "\n"
    R"({"upsert_entity": {"id": "company/tsmc", "kind": "COMPANY", "name": "Taiwan Semiconductor Manufacturing Co., Ltd.", "country": "TW", "source": "team"}})"
    "\n";
constexpr char kList[] =
    R"({"upsert_entity": {"id": "company/csl-1", "kind": "COMPANY", "name": "HUAWEI TECHNOLOGIES CO LTD", "country": "CN", "identifiers": {"lei": "506700GE1G29325QX363"}, "source": "trade.gov/csl"}})"
    "\n"
    R"({"upsert_entity": {"id": "company/csl-2", "kind": "COMPANY", "name": "Taiwan Semiconductor Manufacturing Company Limited", "country": "TW", "source": "trade.gov/csl"}})"
    "\n"
    R"({"upsert_entity": {"id": "company/csl-3", "kind": "COMPANY", "name": "Zorblat Quixotic Widgetry GmbH", "country": "DE", "source": "trade.gov/csl"}})"
    "\n";

TEST_F(ImportCommandTest, SummarySaysWhatResolutionLinked) {
  Stop();
  Serve(/*resolution=*/true, /*ingest_resolves=*/true);
  ASSERT_EQ(Import({Write("team.jsonl", kTeam)}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("new_parties: 2\n"));
  ASSERT_EQ(Import({Write("list.jsonl", kList)}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("linked_automatically: 1\n"));
  EXPECT_THAT(out_, HasSubstr("already_linked: 0\n"));
  EXPECT_THAT(out_, HasSubstr("waiting_for_review: 1\n"));
  EXPECT_THAT(out_, HasSubstr("kept_refused: 0\n"));
  EXPECT_THAT(out_, HasSubstr("new_parties: 1\n"));
  EXPECT_THAT(out_, HasSubstr("not_resolved: 0\n"));
  EXPECT_THAT(out_, HasSubstr("links_written: 2\n"));

  // --output json: the same counts under summary.resolution.
  ImportOptions json;
  json.json = true;
  ASSERT_EQ(Import({Write("list.jsonl", kList)}, json), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr(R"("files":1,"records":3,"sent":3)"));
  EXPECT_THAT(out_, HasSubstr(R"("linked_automatically":"1")"));
  EXPECT_THAT(out_, HasSubstr(R"("waiting_for_review":"1")"));
  EXPECT_THAT(out_, HasSubstr(R"("new_parties":"1")"));
  EXPECT_THAT(out_, HasSubstr(R"("links_written":"0")"));  // Already there.
  EXPECT_THAT(out_, Not(HasSubstr("linked_automatically:")));
  EXPECT_EQ(std::count(out_.begin(), out_.end(), '\n'), 1) << out_;
}

TEST_F(ImportCommandTest, SummarySaysWhyNothingWasResolved) {
  // Ingest resolves, graphstore does not serve Resolution.
  Stop();
  Serve(/*resolution=*/false, /*ingest_resolves=*/true);
  ASSERT_EQ(Import({Write("team.jsonl", kTeam)}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("not_resolved: 2 (Resolution.MatchEntities: "
                              "UNIMPLEMENTED"));
  EXPECT_THAT(out_, HasSubstr("accepted: 2\n"));
}

}  // namespace
}  // namespace georisk::cli
