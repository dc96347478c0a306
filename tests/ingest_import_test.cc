// `georiskctl import` end to end: real graphstore and ingest processes on
// loopback, the CLI as a process of its own. Good records land and read back
// from graphstore; a replayed import changes nothing; a snapshot import ends
// what disappeared; the malformed-input corpus (tests/corpus) is rejected
// record by record with the expected reasons while the good records around
// it land; a 100 MB line and binary garbage leave every process's memory
// bounded; a stopped ingest gets its own exit code; real published records
// are found by their identifiers (georiskctl lookup, LookupByIdentifier);
// an import resolves what it imports: a list naming the supply graph's
// parties under its own ids links one by its LEI, leaves one waiting for
// review, and a refusal holds across a re-import.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ReadFile;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::ServiceStack;
using ::georisk::testing::StackOptions;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

// What a process may use at most, in KiB.
constexpr int64_t kMemoryBoundKb = 200 * 1024;

// VmHWM (peak resident memory) of a running process, in KiB.
int64_t PeakRssKb(pid_t pid) {
  std::string status =
      ReadFile(absl::StrCat("/proc/", pid, "/status")).value_or("");
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, "VmHWM:")) {
      int64_t kb = 0;
      absl::SimpleAtoi(
          absl::StripAsciiWhitespace(absl::StripSuffix(line, "kB")), &kb);
      return kb;
    }
  }
  return -1;
}

std::string WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

std::string Basename(absl::string_view path) {
  return std::string(path.substr(path.rfind('/') + 1));
}

class IngestImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("ingest_import");
    StackOptions options;
    options.dir = dir_;
    options.ingest_batch_size = 100;
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    graphstore_ = stack_->graphstore();
    ingest_ = stack_->ingest();
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    const absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  CommandResult Import(std::vector<std::string> args) {
    args.insert(args.begin(), "import");
    args.push_back(absl::StrCat("--ingest=", ingest_->address()));
    args.push_back("--progress=lines");
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
  }

  CommandResult Lookup(std::vector<std::string> args) {
    args.insert(args.begin(), "lookup");
    args.push_back(absl::StrCat("--graphstore=", graphstore_->address()));
    args.push_back("--endpoints_file=");
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
  }

  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  absl::StatusOr<v1::Entity> GetEntity(const std::string& id) {
    grpc::ClientContext context;
    v1::GetEntityRequest request;
    request.set_id(id);
    v1::Entity entity;
    grpc::Status s = graph_->GetEntity(&context, request, &entity);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    return entity;
  }

  std::vector<v1::Edge> Edges(const std::string& id) {
    grpc::ClientContext context;
    v1::ListEdgesRequest request;
    request.set_entity_id(id);
    request.set_direction(v1::DIRECTION_BOTH);
    v1::ListEdgesResponse response;
    EXPECT_TRUE(graph_->ListEdges(&context, request, &response).ok()) << id;
    return {response.edges().begin(), response.edges().end()};
  }

  std::vector<v1::Signal> Signals(const std::string& source,
                                  bool active_now = false) {
    grpc::ClientContext context;
    v1::ListSignalsRequest request;
    request.set_source(source);
    request.set_page_size(1000);
    if (active_now) {
      // A second ahead: ends take effect at ingest's "now".
      request.mutable_active_at()->set_seconds(
          absl::ToUnixSeconds(absl::Now()) + 1);
    }
    v1::ListSignalsResponse response;
    EXPECT_TRUE(graph_->ListSignals(&context, request, &response).ok());
    return {response.signals().begin(), response.signals().end()};
  }

  int64_t LastSequence() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats.last_sequence();
  }

  // graphstore's Resolution service (on its port).
  std::unique_ptr<v1::Resolution::Stub> Resolution() {
    return v1::Resolution::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  std::vector<v1::Link> Links(const std::string& id) {
    grpc::ClientContext context;
    v1::ListLinksRequest request;
    request.set_entity_id(id);
    v1::ListLinksResponse response;
    const grpc::Status s =
        Resolution()->ListLinks(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.links().begin(), response.links().end()};
  }

  std::string dir_;
  std::unique_ptr<ServiceStack> stack_;
  ServiceProcess* graphstore_ = nullptr;
  ServiceProcess* ingest_ = nullptr;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
};

// A small clean dataset in every format.
void WriteCleanDataset(const std::string& dir) {
  WriteFile(
      dir + "/graph.jsonl",
      R"({"upsert_entity": {"id": "company/tsmc", "kind": "COMPANY", "name": "TSMC", "country": "TW", "source": "https://www.tsmc.com"}})"
      "\n"
      R"({"upsertEntity": {"id": "facility/tsmc-nanjing", "kind": "FACILITY", "name": "TSMC Nanjing", "country": "cn", "region": "cn-js", "facilityType": "FAB", "productCodes": ["8542.31"], "source": "FACTS.md"}, "idempotencyKey": "tsmc-nanjing-v1"})"
      "\n"
      R"({"upsert_edge": {"from_id": "company/tsmc", "to_id": "facility/tsmc-nanjing", "kind": "OPERATES", "weight": 0.05, "source": "estimate"}})"
      "\n"
      R"({"upsert_signal": {"id": "signal/veu-revocation-2025", "export_control": {"authority": "US-BIS", "kind": "FACILITY_AUTHORIZATION_REVOKED", "target_ids": ["facility/tsmc-nanjing"], "severity": 0.7}, "effective_from": "2025-12-31T00:00:00Z", "source": "90 FR 42321", "title": "VEU revoked"}})"
      "\n"
      R"({"upsert_signal": {"id": "signal/s301-chips", "tariff": {"programme": "Section 301", "importer_country": "US", "origin_country": "CN", "hs_prefix": "8541", "rate": 0.5}, "source": "USTR"}})"
      "\n");
  WriteFile(dir + "/companies.csv",
            "id,name,country,aliases,source\n"
            "company/apple,Apple,us,Apple Inc.,https://apple.com\n"
            "company/foxconn,Foxconn,TW,Hon Hai;Hon Hai Precision,x\n");
  WriteFile(dir + "/supplies.csv",
            "from_id,to_id,kind,weight,product_code,source\n"
            "company/tsmc,company/apple,SUPPLIES,0.9,8542.31,10-K\n"
            "company/foxconn,company/apple,SUPPLIES,0.6,8471,10-K\n");
  WriteFile(
      dir + "/owners.ftm.json",
      R"({"id": "own-1", "schema": "Ownership", "properties": {"owner": ["holdco"], "asset": ["opco"], "percentage": ["60%"], "startDate": ["2020"]}})"
      "\n"
      R"({"id": "holdco", "schema": "Company", "properties": {"name": ["HoldCo"], "jurisdiction": ["ru"]}})"
      "\n"
      R"({"id": "opco", "schema": "Company", "properties": {"name": ["OpCo"], "jurisdiction": ["kz"]}})"
      "\n"
      R"({"id": "sanction-holdco", "schema": "Sanction", "properties": {"entity": ["holdco"], "authority": ["Office of Foreign Assets Control"], "program": ["RUSSIA-EO14024"]}})"
      "\n");
  WriteFile(
      dir + "/csl.json",
      R"({"total": 1, "results": [{"id": "x1", "source": "Entity List (EL) - Bureau of Industry and Security", "entity_number": null, "name": "Harbin Institute of Technology", "addresses": [{"city": "Harbin", "country": "CN"}], "start_date": "2020-06-05"}]})");
}

TEST_F(IngestImportTest, GoodRecordsLandAndAReplayChangesNothing) {
  WriteCleanDataset(dir_);
  const std::vector<std::string> files = {
      Path("graph.jsonl"), Path("companies.csv"), Path("supplies.csv"),
      Path("owners.ftm.json"), Path("csl.json")};
  CommandResult first = Import(files);
  ASSERT_EQ(first.code, 0) << first.out << first.err << ingest_->Log();
  EXPECT_EQ(SummaryValue(first.out, "sent"), 15);
  EXPECT_EQ(SummaryValue(first.out, "accepted"), 15);
  EXPECT_EQ(SummaryValue(first.out, "rejected"), 0);

  // Read back, normalised.
  absl::StatusOr<v1::Entity> nanjing = GetEntity("facility/tsmc-nanjing");
  ASSERT_TRUE(nanjing.ok()) << nanjing.status();
  EXPECT_EQ(nanjing->country(), "CN");
  EXPECT_EQ(nanjing->region(), "CN-JS");
  EXPECT_EQ(nanjing->product_codes(0), "854231");
  EXPECT_EQ(GetEntity("company/apple")->aliases(0), "Apple Inc.");
  EXPECT_EQ(GetEntity("company/ftm-opco")->country(), "KZ");
  EXPECT_EQ(GetEntity("company/csl-el-id-x1")->name(),
            "Harbin Institute of Technology");
  std::vector<v1::Edge> apple = Edges("company/apple");
  EXPECT_EQ(apple.size(), 2u);
  std::vector<v1::Edge> opco = Edges("company/ftm-opco");
  ASSERT_EQ(opco.size(), 1u);
  EXPECT_EQ(opco[0].from_id(), "company/ftm-holdco");
  EXPECT_DOUBLE_EQ(opco[0].weight(), 0.6);
  ASSERT_EQ(Signals("trade.gov/csl:EL").size(), 1u);
  EXPECT_EQ(Signals("trade.gov/csl:EL")[0].export_control().authority(),
            "US-BIS");
  EXPECT_EQ(Signals("USTR").size(), 1u);

  // The same files again: all duplicates, nothing written.
  const int64_t sequence = LastSequence();
  CommandResult again = Import(files);
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_EQ(SummaryValue(again.out, "accepted"), 0);
  EXPECT_EQ(SummaryValue(again.out, "duplicates"), 15);
  EXPECT_EQ(SummaryValue(again.out, "last_sequence"), sequence);
  EXPECT_EQ(LastSequence(), sequence);
}

// Real published files (tests/data/real): the CSL's entity numbers and the
// Russian taxpayer numbers of OpenSanctions' FtM records find their entities
// through the public API, normalised as written anywhere.
TEST_F(IngestImportTest, RealRecordsAreFoundByTheirIdentifiers) {
  CommandResult imported =
      Import({Runfile("tests/data/real/csl/csl_2025-06_sample.csv"),
              Runfile("tests/data/real/ftm/zala.entities.ftm.json")});
  // Some real records are rejected (tests/data/real/GAPS.md): exit 0 or 1.
  ASSERT_LE(imported.code, 1) << imported.out << imported.err;
  ASSERT_GT(SummaryValue(imported.out, "accepted"), 0) << imported.out;

  // ROSNEFT TRADE LIMITED, CSL entity number 18300 (SSI), written with a
  // leading zero.
  CommandResult csl = Lookup({"csl_entity_number", "018300"});
  ASSERT_EQ(csl.code, 0) << csl.out << csl.err;
  EXPECT_THAT(csl.out, HasSubstr("ROSNEFT TRADE LIMITED"));
  EXPECT_THAT(csl.out, HasSubstr("csl_entity_number=18300"));
  EXPECT_THAT(csl.out, HasSubstr("(1 entity with csl_entity_number 18300;"));

  // Joint-Stock Company "TransKomplektHolding" by its INN, as JSON.
  CommandResult inn = Lookup({"inn", " 7704 484400 ", "--output=json"});
  ASSERT_EQ(inn.code, 0) << inn.out << inn.err;
  v1::LookupByIdentifierResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(inn.out, &response).ok())
      << inn.out;
  EXPECT_EQ(response.scheme(), "inn");
  EXPECT_EQ(response.value(), "7704484400");
  EXPECT_EQ(response.sequence(), LastSequence());
  ASSERT_EQ(response.entities_size(), 1);
  const v1::Entity& holding = response.entities(0);
  EXPECT_EQ(holding.country(), "RU");
  EXPECT_EQ(holding.identifiers().at("inn"), "7704484400");
  EXPECT_EQ(holding.identifiers().at("opensanctions"),
            "NK-DSxJ9ZzHxBBMyEMnnTBhai");
  EXPECT_EQ(GetEntity(holding.id())->name(), holding.name());

  // The same through the RPC, by its OpenSanctions id; and what is not
  // there, or not an identifier, says so.
  grpc::ClientContext context;
  v1::LookupByIdentifierRequest request;
  request.set_scheme("opensanctions");
  request.set_value("NK-DSxJ9ZzHxBBMyEMnnTBhai");
  v1::LookupByIdentifierResponse by_id;
  ASSERT_TRUE(graph_->LookupByIdentifier(&context, request, &by_id).ok());
  ASSERT_EQ(by_id.entities_size(), 1);
  EXPECT_EQ(by_id.entities(0).id(), holding.id());
  CommandResult none = Lookup({"csl_entity_number", "99999999"});
  EXPECT_EQ(none.code, 1) << none.out << none.err;
  EXPECT_THAT(none.err, HasSubstr("no entity has csl_entity_number 99999999"));
  CommandResult bad = Lookup({"inn", "7704484401"});  // Check digit off by one.
  EXPECT_EQ(bad.code, 1) << bad.out << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("value: inn \"7704484401\""));
}

TEST_F(IngestImportTest, SnapshotImportEndsWhatDisappeared) {
  const std::string header = "source,entity_number,name,addresses\n";
  const std::string sdn = "SDN,7,Other List Co,\"x, IR\"\n";
  WriteFile(Path("csl-monday.csv"), header + "EL,1,One,\"x, CN\"\n" +
                                        "EL,2,Two,\"x, CN\"\n" +
                                        "EL,3,Three,\"x, RU\"\n" + sdn);
  WriteFile(Path("csl-tuesday.csv"),
            header + "EL,1,One,\"x, CN\"\n" + "EL,3,Three,\"x, RU\"\n" + sdn);
  const std::string snapshot = "--snapshot_source=trade.gov/csl:EL";
  CommandResult monday = Import({Path("csl-monday.csv"), snapshot});
  ASSERT_EQ(monday.code, 0) << monday.out << monday.err;
  EXPECT_EQ(SummaryValue(monday.out, "ended"), 0);
  EXPECT_EQ(Signals("trade.gov/csl:EL", /*active_now=*/true).size(), 3u);

  CommandResult tuesday = Import({Path("csl-tuesday.csv"), snapshot});
  ASSERT_EQ(tuesday.code, 0) << tuesday.out << tuesday.err;
  EXPECT_EQ(SummaryValue(tuesday.out, "ended"), 1);
  std::vector<std::string> active;
  for (const v1::Signal& s : Signals("trade.gov/csl:EL", true)) {
    active.push_back(s.id());
  }
  EXPECT_THAT(active, ::testing::UnorderedElementsAre("signal/csl-el-1",
                                                      "signal/csl-el-3"));
  for (const v1::Signal& s : Signals("trade.gov/csl:EL")) {
    EXPECT_EQ(s.has_effective_until(), s.id() == "signal/csl-el-2") << s.id();
  }
  EXPECT_EQ(Signals("trade.gov/csl:SDN", true).size(), 1u)
      << "another list's records are not touched";

  // Importing Tuesday's list again ends nothing more and writes nothing.
  const int64_t sequence = LastSequence();
  CommandResult again = Import({Path("csl-tuesday.csv"), snapshot});
  EXPECT_EQ(SummaryValue(again.out, "ended"), 0);
  EXPECT_EQ(LastSequence(), sequence);
}

// A repeated --snapshot_source would keep only its last value and end every
// listing of the other source: georiskctl refuses it (usage, exit 2) and
// sends nothing.
TEST_F(IngestImportTest, RepeatedSnapshotSourceIsRefused) {
  WriteFile(Path("csl.csv"),
            "source,entity_number,name,addresses\n"
            "EL,1,One,\"x, CN\"\n"
            "SDN,7,Other List Co,\"x, IR\"\n");
  const int64_t sequence = LastSequence();
  CommandResult twice =
      Import({Path("csl.csv"), "--snapshot_source=trade.gov/csl:EL",
              "--snapshot_source", "trade.gov/csl:SDN"});
  EXPECT_EQ(twice.code, 2) << twice.out << twice.err;
  EXPECT_THAT(twice.err,
              HasSubstr("--snapshot_source is given more than once"));
  EXPECT_EQ(LastSequence(), sequence);
  CommandResult once =
      Import({Path("csl.csv"), "--snapshot_source=trade.gov/csl:EL"});
  EXPECT_EQ(once.code, 0) << once.out << once.err;
  EXPECT_EQ(SummaryValue(once.out, "accepted"), 4);  // 2 parties, 2 listings.
}

// One expected rejection of the corpus.
struct Expected {
  std::string file;
  int64_t line;
  std::string field;
  std::string reason;
};

TEST_F(IngestImportTest, MalformedCorpusIsRejectedRecordByRecord) {
  const std::vector<std::string> files = {"bad_entities.csv", "bad_edges.csv",
                                          "bad.jsonl",        "bad.ftm.json",
                                          "bad_csl.csv",      "bad_csl.json"};
  std::vector<std::string> args;
  for (const std::string& f : files) {
    args.push_back(Runfile("tests/corpus/" + f));
  }
  args.push_back("--rejections=" + Path("rejections.jsonl"));
  CommandResult run = Import(args);
  ASSERT_EQ(run.code, 1) << run.out << run.err << ingest_->Log();

  std::vector<Expected> expected;
  absl::StatusOr<std::string> tsv =
      ReadFile(Runfile("tests/corpus/EXPECTED.tsv"));
  ASSERT_TRUE(tsv.ok());
  for (absl::string_view line : absl::StrSplit(*tsv, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    ASSERT_EQ(cells.size(), 4u) << line;
    Expected e{cells[0], 0, cells[2], cells[3]};
    ASSERT_TRUE(absl::SimpleAtoi(cells[1], &e.line));
    expected.push_back(e);
  }
  ASSERT_GE(expected.size(), 200u);

  // Every rejection, by file and line.
  std::map<std::pair<std::string, int64_t>,
           std::vector<std::pair<std::string, std::string>>>
      rejections;
  absl::StatusOr<std::string> jsonl = ReadFile(Path("rejections.jsonl"));
  ASSERT_TRUE(jsonl.ok());
  int64_t total = 0;
  for (absl::string_view line : absl::StrSplit(*jsonl, '\n')) {
    if (line.empty()) continue;
    google::protobuf::Struct r;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(std::string(line), &r).ok())
        << line;
    const auto& f = r.fields();
    rejections[{Basename(f.at("file").string_value()),
                static_cast<int64_t>(f.at("line").number_value())}]
        .push_back(
            {f.at("field").string_value(), f.at("reason").string_value()});
    ++total;
  }
  for (const Expected& e : expected) {
    SCOPED_TRACE(absl::StrCat(e.file, ":", e.line));
    auto it = rejections.find({e.file, e.line});
    ASSERT_NE(it, rejections.end()) << "not rejected";
    bool found = false;
    for (const auto& [field, reason] : it->second) {
      EXPECT_FALSE(reason.empty());
      if (field == e.field && absl::StrContains(reason, e.reason)) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << "expected field \"" << e.field << "\", reason \""
                       << e.reason << "\"; got \"" << it->second[0].first
                       << "\", \"" << it->second[0].second << "\"";
  }
  EXPECT_EQ(total, static_cast<int64_t>(expected.size()))
      << "a good record was rejected";
  EXPECT_EQ(SummaryValue(run.out, "rejected"),
            static_cast<int64_t>(expected.size()));

  // The good records around them all landed.
  int64_t good = 0;
  absl::StatusOr<std::string> good_tsv =
      ReadFile(Runfile("tests/corpus/GOOD.tsv"));
  ASSERT_TRUE(good_tsv.ok());
  for (absl::string_view line : absl::StrSplit(*good_tsv, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    int64_t n;
    ASSERT_TRUE(absl::SimpleAtoi(cells[1], &n));
    good += n;
  }
  EXPECT_EQ(
      SummaryValue(run.out, "accepted") + SummaryValue(run.out, "duplicates"),
      good)
      << run.out;
  EXPECT_TRUE(GetEntity("company/ce-last").ok());
  EXPECT_TRUE(GetEntity("company/ftm-ftm-c").ok());
  EXPECT_TRUE(GetEntity("company/csl-sdn-9001").ok());
  EXPECT_TRUE(GetEntity("company/csl-sdn-5001").ok());
  std::vector<v1::Edge> owned = Edges("company/ftm-ftm-b");
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_DOUBLE_EQ(owned[0].weight(), 0.51);
  // Nothing crashed.
  EXPECT_TRUE(
      common::WaitForServing(ingest_->address(), "", absl::Seconds(5)).ok());
  EXPECT_TRUE(ingest_->running());
}

TEST_F(IngestImportTest, HugeLineAndGarbageKeepMemoryBounded) {
  // A good record, a 100 MB line, a good record.
  const std::string head = "{\"upsert_entity\": {\"name\": \"";
  const std::string tail = "\"}}";
  const int64_t huge_line = head.size() + (100 << 20) + tail.size();
  {
    std::ofstream out(Path("huge.jsonl"), std::ios::binary);
    out << R"({"upsert_entity": {"id": "company/before", "kind": "COMPANY", "name": "B", "country": "TW", "source": "s"}})"
        << "\n"
        << head;
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) out << chunk;
    out << tail << "\n"
        << R"({"upsert_entity": {"id": "company/after", "kind": "COMPANY", "name": "A", "country": "TW", "source": "s"}})"
        << "\n";
  }
  CommandResult huge =
      Import({Path("huge.jsonl"), "--rejections=" + Path("r.jsonl")});
  EXPECT_EQ(huge.code, 1) << huge.out << huge.err;
  EXPECT_EQ(SummaryValue(huge.out, "accepted"), 2);
  EXPECT_THAT(*ReadFile(Path("r.jsonl")),
              HasSubstr(absl::StrCat("\"line\":2,\"field\":\"\",\"reason\":"
                                     "\"line longer than 1048576 bytes (",
                                     huge_line, " bytes)\"")));
  EXPECT_TRUE(GetEntity("company/after").ok());
  EXPECT_LT(huge.max_rss_kb, kMemoryBoundKb)
      << "georiskctl held the 100 MB line";

  // Random bytes, read as each format: all rejected, nothing crashes.
  std::mt19937 rng(2026);
  std::string garbage(4 << 20, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteFile(Path("garbage.bin"), garbage);
  for (const char* format :
       {"jsonl", "csv-entities", "csv-edges", "ftm", "csl-csv", "csl-json"}) {
    CommandResult run =
        Import({Path("garbage.bin"), absl::StrCat("--format=", format)});
    EXPECT_EQ(run.code, 1) << format << run.out << run.err;
    EXPECT_EQ(SummaryValue(run.out, "sent"), 0) << format;
    EXPECT_LT(run.max_rss_kb, kMemoryBoundKb) << format;
  }

  // ingest never saw the 100 MB line: the CLI skipped it unread.
  const int64_t ingest_after_files = PeakRssKb(ingest_->pid());
  EXPECT_GT(ingest_after_files, 0);
  EXPECT_LT(ingest_after_files, kMemoryBoundKb);

  // A single gRPC message above ingest's limit (64 MiB) is refused whole.
  auto ingest = v1::Ingest::NewStub(grpc::CreateChannel(
      ingest_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::IngestResponse response;
  auto writer = ingest->Ingest(&context, &response);
  v1::IngestRequest request;
  request.add_records()->mutable_upsert_entity()->set_name(
      std::string(80 << 20, 'n'));
  writer->Write(request);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();

  EXPECT_TRUE(
      common::WaitForServing(ingest_->address(), "", absl::Seconds(5)).ok());
  const int64_t ingest_peak = PeakRssKb(ingest_->pid());
  EXPECT_GT(ingest_peak, 0);
  EXPECT_LT(ingest_peak, kMemoryBoundKb) << "ingest VmHWM " << ingest_peak;
  std::printf(
      "peak memory: georiskctl %lld KiB on the 100 MB line; ingest %lld KiB "
      "after the files, %lld KiB after refusing an 80 MiB message\n",
      static_cast<long long>(huge.max_rss_kb),
      static_cast<long long>(ingest_after_files),
      static_cast<long long>(ingest_peak));
}

TEST_F(IngestImportTest, IngestDownHasItsOwnExitCode) {
  WriteFile(Path("one.csv"), "id,name,country,source\ncompany/a,A,TW,s\n");
  ASSERT_EQ(*ingest_->Stop(SIGTERM, absl::Seconds(20)), 0);
  CommandResult run = Import({Path("one.csv")});
  EXPECT_EQ(run.code, 3) << run.out << run.err;
  EXPECT_THAT(run.err, HasSubstr("is not reachable"));
}

// Issue 16: an import resolves what it imports. The team's supply graph,
// then a screening list naming two of its parties under the list's own ids:
// Huawei by its LEI (linked automatically, with the identifier as evidence)
// and TSMC by a name variant only (waiting for review). A reviewer refuses
// the name match; importing the list again keeps the pair apart.
TEST_F(IngestImportTest, ImportLinksByIdentifierAndNameMatchesWaitForReview) {
  WriteFile(
      Path("team.jsonl"),
      R"({"upsert_entity": {"id": "company/huawei", "kind": "COMPANY", "name": "Huawei Technologies Co., Ltd.", "country": "CN", "identifiers": {"lei": "506700GE1G29325QX363"}, "source": "team"}})"
      "\n"
      R"({"upsert_entity": {"id": "company/tsmc", "kind": "COMPANY", "name": "Taiwan Semiconductor Manufacturing Co., Ltd.", "country": "TW", "source": "team"}})"
      "\n"
      R"({"upsert_entity": {"id": "company/apple", "kind": "COMPANY", "name": "Apple Inc.", "country": "US", "source": "team"}})"
      "\n"
      R"({"upsert_edge": {"from_id": "company/tsmc", "to_id": "company/apple", "kind": "SUPPLIES", "weight": 0.9, "source": "team"}})"
      "\n");
  WriteFile(
      Path("list.jsonl"),
      R"({"upsert_entity": {"id": "company/csl-el-1", "kind": "COMPANY", "name": "HUAWEI TECHNOLOGIES CO LTD", "country": "CN", "identifiers": {"lei": "506700GE1G29325QX363"}, "source": "trade.gov/csl:EL"}})"
      "\n"
      R"({"upsert_entity": {"id": "company/csl-el-2", "kind": "COMPANY", "name": "Taiwan Semiconductor Manufacturing Company Limited", "country": "TW", "source": "trade.gov/csl:EL"}})"
      "\n");

  CommandResult team = Import({Path("team.jsonl")});
  ASSERT_EQ(team.code, 0) << team.out << team.err << ingest_->Log();
  EXPECT_EQ(SummaryValue(team.out, "new_parties"), 3) << team.out;
  EXPECT_EQ(SummaryValue(team.out, "links_written"), 0);

  CommandResult list = Import({Path("list.jsonl")});
  ASSERT_EQ(list.code, 0) << list.out << list.err << ingest_->Log();
  EXPECT_EQ(SummaryValue(list.out, "accepted"), 2);
  EXPECT_EQ(SummaryValue(list.out, "linked_automatically"), 1) << list.out;
  EXPECT_EQ(SummaryValue(list.out, "waiting_for_review"), 1) << list.out;
  EXPECT_EQ(SummaryValue(list.out, "new_parties"), 0);
  EXPECT_EQ(SummaryValue(list.out, "not_resolved"), 0) << list.out;
  EXPECT_EQ(SummaryValue(list.out, "links_written"), 2);

  std::vector<v1::Link> huawei = Links("company/huawei");
  ASSERT_EQ(huawei.size(), 1u);
  EXPECT_EQ(huawei[0].judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(huawei[0].method(), v1::Link::IDENTIFIER);
  EXPECT_EQ(huawei[0].decided_by(), "rule:identifier");
  EXPECT_EQ(huawei[0].source(), "trade.gov/csl:EL");
  ASSERT_GE(huawei[0].evidence_size(), 1);
  EXPECT_THAT(huawei[0].evidence(0),
              HasSubstr("identifier lei 506700GE1G29325QX363 equal"));
  EXPECT_DOUBLE_EQ(huawei[0].features().at("identifier"), 1.0);
  std::vector<v1::Link> tsmc = Links("company/tsmc");
  ASSERT_EQ(tsmc.size(), 1u);
  EXPECT_EQ(tsmc[0].judgement(), v1::Link::UNSURE);
  EXPECT_EQ(tsmc[0].method(), v1::Link::NAME);

  // The reviewer refuses the name match.
  {
    grpc::ClientContext context;
    v1::ReviewLinkRequest review;
    review.mutable_link()->set_entity_a("company/tsmc");
    review.mutable_link()->set_entity_b("company/csl-el-2");
    review.set_decision(v1::ReviewLinkRequest::REJECT);
    review.set_reason("the listed party is another company");
    review.set_reviewer("ana");
    v1::ReviewLinkResponse reviewed;
    const grpc::Status s =
        Resolution()->ReviewLink(&context, review, &reviewed);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The list again: the refusal holds, the identifier link stays.
  CommandResult again = Import({Path("list.jsonl")});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_EQ(SummaryValue(again.out, "kept_refused"), 1) << again.out;
  EXPECT_EQ(SummaryValue(again.out, "waiting_for_review"), 0);
  EXPECT_EQ(SummaryValue(again.out, "linked_automatically"), 1);
  EXPECT_EQ(SummaryValue(again.out, "links_written"), 0);
  tsmc = Links("company/tsmc");
  ASSERT_EQ(tsmc.size(), 1u);
  EXPECT_EQ(tsmc[0].judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(tsmc[0].decided_by(), "reviewer:ana");
  ASSERT_EQ(Links("company/huawei").size(), 1u);
  EXPECT_EQ(Links("company/huawei")[0].judgement(), v1::Link::POSITIVE);
}

}  // namespace
}  // namespace georisk
