// Entity resolution end to end (issue #16), as a user runs it: graphstore
// (with its Resolution service), ingest (--resolve_on_import, its default)
// and the scorer as processes on loopback (tests/testing/service_stack),
// driven through `georiskctl` and the public API only.
//   1. `georiskctl import` a supply graph: SMIC (with its LEI), Acme Fab
//      Tools and Beta Wafer Materials supply a customer. Nobody is listed.
//   2. `georiskctl import` the lists, whose parties carry their own ids: an
//      OpenSanctions (FtM) file lists SMIC's full name with the same LEI on
//      the Entity List; a CSL file lists Acme and Beta under other names and
//      a party the graph does not have. The summary: 1 linked automatically,
//      2 waiting for review, 1 new party. The LEI link joins SMIC and its
//      FtM record: SMIC's score is the listing's, the customer's moves, and
//      the explanation and SMIC's alert name the link (identifier, LEI).
//   3. The name matches wait in `georiskctl review list`: nothing moves.
//   4. `georiskctl review accept` Acme: its listing arrives, "confirmed by"
//      the reviewer, in its explanation and its alert. A second accept is a
//      no-op ("already"): no commit.
//   5. `georiskctl review reject` Beta: it stays apart, and after the CSL
//      file is imported again no candidate is written (kept refused) and no
//      score moves.
//   6. The scorer restarted from its own copy of the graph keeps the links.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "georisk/v1/alerts.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/resolution.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::SummaryValue;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kSmic[] = "company/smic";
constexpr char kAcme[] = "company/acme-fab-tools";
constexpr char kBeta[] = "company/beta-wafer";
constexpr char kCustomer[] = "company/customer";
// The lists' own ids: an FtM Company `company/ftm-<id>`; a CSL row with
// `_id` and no entity number `company/csl-<list>-id-<_id>`
// (docs/formats.md).
constexpr char kFtmSmic[] = "company/ftm-georisk-test-smic";
constexpr char kCslAcme[] = "company/csl-el-id-bbbb0002";
constexpr char kCslBeta[] = "company/csl-el-id-cccc0003";
constexpr char kCslZeta[] = "company/csl-el-id-dddd0004";
// A valid LEI (ISO 17442 check digits 47), carried by both SMIC records.
constexpr char kLei[] = "549300TESTSMIC000147";
constexpr double kEps = 1e-9;

std::string SupplyGraph() {
  return absl::StrReplaceAll(
      R"({"upsert_entity": {"id": "company/smic", "kind": "COMPANY", "name": "SMIC", "country": "CN", "identifiers": {"lei": "LEI"}, "source": "team"}}
{"upsert_entity": {"id": "company/acme-fab-tools", "kind": "COMPANY", "name": "Acme Fab Tools", "country": "CN", "source": "team"}}
{"upsert_entity": {"id": "company/beta-wafer", "kind": "COMPANY", "name": "Beta Wafer Materials", "country": "CN", "source": "team"}}
{"upsert_entity": {"id": "company/customer", "kind": "COMPANY", "name": "Customer", "country": "US", "source": "team"}}
{"upsert_edge": {"from_id": "company/smic", "to_id": "company/customer", "kind": "SUPPLIES", "weight": 0.5, "product_code": "8542", "source": "team"}}
{"upsert_edge": {"from_id": "company/acme-fab-tools", "to_id": "company/customer", "kind": "SUPPLIES", "weight": 0.4, "product_code": "8542", "source": "team"}}
{"upsert_edge": {"from_id": "company/beta-wafer", "to_id": "company/customer", "kind": "SUPPLIES", "weight": 0.2, "product_code": "3818", "source": "team"}}
)",
      {{"LEI", kLei}});
}

// An OpenSanctions file: SMIC under its full name with the same LEI, and its
// Entity List sanction (no severity: the export-control default applies).
std::string FtmFile() {
  return absl::StrReplaceAll(
      R"({"id": "georisk-test-smic", "caption": "Semiconductor Manufacturing International Corporation", "schema": "Company", "properties": {"name": ["Semiconductor Manufacturing International Corporation"], "country": ["cn"], "leiCode": ["LEI"]}, "datasets": ["us_trade_csl"]}
{"id": "georisk-test-smic-el", "schema": "Sanction", "properties": {"entity": ["georisk-test-smic"], "authority": ["Bureau of Industry and Security"], "programId": ["US-BIS-EL"], "program": ["EL"], "startDate": ["2020-12-22"]}, "datasets": ["us_trade_csl"]}
)",
      {{"LEI", kLei}});
}

// A CSL CSV file (docs/formats.md) of Entity List rows (severity 0.8):
// {_id, name, addresses}, every field quoted.
std::string CslFile(const std::vector<std::vector<std::string>>& rows) {
  const std::vector<std::string> columns = {"_id",
                                            "source",
                                            "entity_number",
                                            "type",
                                            "programs",
                                            "name",
                                            "title",
                                            "addresses",
                                            "federal_register_notice",
                                            "start_date",
                                            "end_date",
                                            "standard_order",
                                            "license_requirement",
                                            "license_policy",
                                            "call_sign",
                                            "vessel_type",
                                            "gross_tonnage",
                                            "gross_registered_tonnage",
                                            "vessel_flag",
                                            "vessel_owner",
                                            "remarks",
                                            "source_list_url",
                                            "alt_names",
                                            "citizenships",
                                            "dates_of_birth",
                                            "nationalities",
                                            "places_of_birth",
                                            "source_information_url",
                                            "ids"};
  std::string out = absl::StrJoin(columns, ",") + "\n";
  for (const std::vector<std::string>& row : rows) {
    std::vector<std::string> fields(columns.size());
    fields[0] = row[0];
    fields[1] = "Entity List (EL) - Bureau of Industry and Security";
    fields[5] = row[1];
    fields[7] = row[2];
    fields[8] = "85 FR 83420";
    fields[9] = "2020-12-22";
    for (std::string& f : fields) f = absl::StrCat("\"", f, "\"");
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\n");
  }
  return out;
}

class LinksScoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("links_scores");
    testing::StackOptions options;
    options.dir = dir_;
    options.scorer = true;
    auto stack = testing::ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        stack_->graphstore()->address(), grpc::InsecureChannelCredentials()));
    ConnectScorer();
    WriteFile("supply.jsonl", SupplyGraph());
    WriteFile("opensanctions.ftm.json", FtmFile());
    WriteFile("csl.csv", CslFile({{"bbbb0002", "ACME FAB TOOLS CO. LTD.",
                                   "1 Industrial Road, Shenzhen, China"},
                                  {"cccc0003", "BETA WAFER MATERIALS CO., LTD.",
                                   "9 Wafer Street, Wuxi, China"},
                                  {"dddd0004", "ZETA PRECISION OPTICS LLC",
                                   "3 Optical Lane, Moscow, Russia"}}));
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  void ConnectScorer() {
    scorer_stub_ = v1::Scorer::NewStub(grpc::CreateChannel(
        stack_->scorer()->address(), grpc::InsecureChannelCredentials()));
  }

  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ + "/" + name);
    out << text;
    ASSERT_TRUE(out.good());
  }

  CommandResult Georiskctl(std::vector<std::string> args) {
    args.push_back(
        absl::StrCat("--graphstore=", stack_->graphstore()->address()));
    args.push_back(absl::StrCat("--ingest=", stack_->ingest()->address()));
    args.push_back(absl::StrCat("--scorer=", stack_->scorer()->address()));
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"),
                      std::move(args));
  }

  // `georiskctl import` of the files (the format from each name); its
  // output, after checking it exited 0.
  std::string Import(const std::vector<std::string>& names) {
    std::vector<std::string> args = {"import"};
    for (const std::string& n : names) args.push_back(dir_ + "/" + n);
    args.push_back("--progress=none");
    CommandResult c = Georiskctl(std::move(args));
    EXPECT_EQ(c.code, 0) << c.out << c.err;
    return c.out;
  }

  CommandResult Review(const std::string& decision, const std::string& a,
                       const std::string& b) {
    std::vector<std::string> args = {"review", decision, a, b,
                                     "--reviewer=alice"};
    if (decision == "reject") {
      args.push_back("--reason=a different company: other address");
    }
    return Georiskctl(std::move(args));
  }

  int64_t LastSequence() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats.last_sequence();
  }

  v1::Score Score(const std::string& id) {
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    v1::Score score;
    grpc::Status s = scorer_stub_->GetScore(&context, request, &score);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return score;
  }

  double ExportControls(const std::string& id) {
    const v1::Score score = Score(id);
    for (const v1::FactorScore& f : score.factors()) {
      if (f.factor() == v1::FACTOR_EXPORT_CONTROLS) return f.propagated();
    }
    ADD_FAILURE() << "no export-control factor in " << id;
    return -1;
  }

  // Polls until the scorer has applied every commit made so far.
  void WaitForScorer() {
    const int64_t sequence = LastSequence();
    v1::Score score;
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      v1::GetScoreRequest request;
      request.set_entity_id(kCustomer);
      if (scorer_stub_->GetScore(&context, request, &score).ok() &&
          score.graph_sequence() >= sequence) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    FAIL() << "the scorer never reached sequence " << sequence << "\n"
           << stack_->scorer()->Log();
  }

  std::vector<std::string> Descriptions(const std::string& id) {
    grpc::ClientContext context;
    v1::ExplainScoreRequest request;
    request.set_entity_id(id);
    request.set_factor(v1::FACTOR_EXPORT_CONTROLS);
    v1::Explanation explanation;
    grpc::Status s =
        scorer_stub_->ExplainScore(&context, request, &explanation);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    std::vector<std::string> out;
    for (const v1::Contribution& c : explanation.contributions()) {
      out.push_back(c.description());
    }
    return out;
  }

  // What `georiskctl ARGS --output=json` printed, as a `Response`.
  template <typename Response>
  Response GeoriskctlJson(std::vector<std::string> args) {
    args.push_back("--output=json");
    CommandResult c = Georiskctl(std::move(args));
    EXPECT_EQ(c.code, 0) << c.err;
    Response response;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(c.out, &response).ok())
        << c.out;
    return response;
  }

  // The reasons of `entity`'s alerts, read with `georiskctl alerts list`;
  // polls until there is one (the alert log is written just after the score
  // moves).
  std::vector<std::string> AlertReasons(const std::string& entity) {
    std::vector<std::string> reasons;
    for (int i = 0; i < 400 && reasons.empty(); ++i) {
      if (i > 0) absl::SleepFor(absl::Milliseconds(25));
      const v1::ListAlertsResponse alerts =
          GeoriskctlJson<v1::ListAlertsResponse>({"alerts", "list"});
      for (const v1::Alert& a : alerts.alerts()) {
        if (a.entity_id() != entity) continue;
        reasons.insert(reasons.end(), a.reasons().begin(), a.reasons().end());
      }
    }
    EXPECT_FALSE(reasons.empty()) << "no alert for " << entity;
    return reasons;
  }

  v1::ListReviewQueueResponse ReviewQueue() {
    return GeoriskctlJson<v1::ListReviewQueueResponse>({"review", "list"});
  }

  std::string dir_;
  std::unique_ptr<testing::ServiceStack> stack_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  std::unique_ptr<v1::Scorer::Stub> scorer_stub_;
};

TEST_F(LinksScoresTest, ImportLinksReviewsDecideAndRefusalsLast) {
  // 1. The supply graph: four new parties, nobody listed.
  const std::string supply = Import({"supply.jsonl"});
  EXPECT_EQ(SummaryValue(supply, "new_parties"), 4) << supply;
  EXPECT_EQ(SummaryValue(supply, "links_written"), 0) << supply;
  WaitForScorer();
  EXPECT_EQ(ExportControls(kSmic), 0);
  EXPECT_EQ(ExportControls(kCustomer), 0);

  // 2. The lists: the FtM record of SMIC links by its LEI, the CSL rows of
  //    Acme and Beta wait for review, Zeta is a new party.
  const std::string lists = Import({"opensanctions.ftm.json", "csl.csv"});
  EXPECT_EQ(SummaryValue(lists, "linked_automatically"), 1) << lists;
  EXPECT_EQ(SummaryValue(lists, "waiting_for_review"), 2) << lists;
  EXPECT_EQ(SummaryValue(lists, "new_parties"), 1) << lists;
  EXPECT_EQ(SummaryValue(lists, "kept_refused"), 0) << lists;
  EXPECT_EQ(SummaryValue(lists, "not_resolved"), 0) << lists;
  EXPECT_EQ(SummaryValue(lists, "links_written"), 3) << lists;
  WaitForScorer();
  // The FtM record is listed (the export-control default severity); SMIC is
  // the same party, so its score is the record's, and the customer depends
  // on it for 0.5: 0.85 x 0.5 x listing.
  const double listing = ExportControls(kFtmSmic);
  EXPECT_GT(listing, 0);
  EXPECT_NEAR(ExportControls(kSmic), listing, kEps);
  const double after_smic = 0.85 * 0.5 * listing;
  EXPECT_NEAR(ExportControls(kCustomer), after_smic, kEps);
  // The party's primary is its smallest id (the FtM record): SMIC's score is
  // explained by the link, its method and its identifier.
  const auto names_lei_link = AllOf(
      HasSubstr("(company/ftm-georisk-test-smic), linked to "),
      HasSubstr(absl::StrCat("by identifier (identifier lei ", kLei, " equal")),
      HasSubstr("automatically (rule:identifier)"));
  EXPECT_THAT(Descriptions(kSmic), Contains(names_lei_link));
  // SMIC's alert (0 -> its listing) names the link.
  EXPECT_THAT(AlertReasons(kSmic), Contains(names_lei_link));

  // 3. The name matches wait; nothing moved for them.
  v1::ListReviewQueueResponse queue = ReviewQueue();
  ASSERT_EQ(queue.links_size(), 2) << queue.DebugString();
  for (const v1::Link& l : queue.links()) {
    EXPECT_EQ(l.judgement(), v1::Link::UNSURE);
    EXPECT_EQ(l.method(), v1::Link::NAME);
    EXPECT_EQ(l.decided_by(), "rule:name");
  }
  EXPECT_EQ(queue.links(0).entity_a(), kAcme) << queue.DebugString();
  EXPECT_EQ(queue.links(0).entity_b(), kCslAcme) << queue.DebugString();
  EXPECT_EQ(queue.links(1).entity_a(), kBeta) << queue.DebugString();
  EXPECT_EQ(queue.links(1).entity_b(), kCslBeta) << queue.DebugString();
  EXPECT_NEAR(ExportControls(kCslAcme), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCslZeta), 0.8, kEps);
  EXPECT_EQ(ExportControls(kAcme), 0);
  EXPECT_EQ(ExportControls(kBeta), 0);

  // 4. Accepted: Acme's listing arrives, confirmed by the reviewer; the
  //    customer: 1 - (1 - after_smic)(1 - 0.85 x 0.4 x 0.8).
  CommandResult accept = Review("accept", kCslAcme, kAcme);
  ASSERT_EQ(accept.code, 0) << accept.out << accept.err;
  EXPECT_THAT(accept.out, HasSubstr("accepted: "));
  WaitForScorer();
  EXPECT_NEAR(ExportControls(kAcme), 0.8, kEps);
  const double after_acme = 1 - (1 - after_smic) * (1 - 0.85 * 0.4 * 0.8);
  EXPECT_NEAR(ExportControls(kCustomer), after_acme, kEps);
  // Acme's party: acme-fab-tools < csl-el-..., so Acme is the primary and its
  // listing names the CSL record and the reviewer.
  const auto names_name_link =
      AllOf(HasSubstr("as 'ACME FAB TOOLS CO. LTD.' "
                      "(company/csl-el-id-bbbb0002), linked to Acme Fab "
                      "Tools by name and country, score "),
            HasSubstr("confirmed by alice"));
  EXPECT_THAT(Descriptions(kAcme), Contains(names_name_link));
  EXPECT_THAT(AlertReasons(kAcme), Contains(names_name_link));
  // Accepting again is a no-op: OK, said so, no commit, nothing moves.
  const int64_t accepted_at = LastSequence();
  CommandResult twice = Review("accept", kAcme, kCslAcme);
  ASSERT_EQ(twice.code, 0) << twice.out << twice.err;
  EXPECT_THAT(twice.out,
              AllOf(HasSubstr("already linked: "), HasSubstr("reviewer:alice"),
                    HasSubstr("nothing written")));
  EXPECT_EQ(LastSequence(), accepted_at);

  // 5. Refused: Beta stays apart, and after a re-import of the list too: no
  //    candidate is written again, nothing moves.
  CommandResult reject = Review("reject", kBeta, kCslBeta);
  ASSERT_EQ(reject.code, 0) << reject.out << reject.err;
  EXPECT_THAT(reject.out, HasSubstr("rejected: "));
  WaitForScorer();
  EXPECT_EQ(ExportControls(kBeta), 0);
  EXPECT_NEAR(ExportControls(kCustomer), after_acme, kEps);
  EXPECT_EQ(ReviewQueue().links_size(), 0);
  const std::string again = Import({"csl.csv"});
  EXPECT_EQ(SummaryValue(again, "already_linked"), 1) << again;
  EXPECT_EQ(SummaryValue(again, "kept_refused"), 1) << again;
  EXPECT_EQ(SummaryValue(again, "new_parties"), 1) << again;
  EXPECT_EQ(SummaryValue(again, "waiting_for_review"), 0) << again;
  EXPECT_EQ(SummaryValue(again, "links_written"), 0) << again;
  WaitForScorer();
  EXPECT_EQ(ReviewQueue().links_size(), 0);
  EXPECT_EQ(ExportControls(kBeta), 0);
  EXPECT_NEAR(ExportControls(kCslBeta), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kAcme), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCustomer), after_acme, kEps);
  CommandResult links = Georiskctl({"links", kBeta});
  ASSERT_EQ(links.code, 0) << links.err;
  EXPECT_THAT(links.out, AllOf(HasSubstr(kCslBeta), HasSubstr("negative"),
                               HasSubstr("reviewer:alice"),
                               HasSubstr("a different company")));

  // 6. The scorer restarted from its own copy of the graph keeps the links.
  absl::StatusOr<int> code = stack_->scorer()->Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << stack_->scorer()->Log();
  absl::Status restarted = stack_->StartScorer();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ConnectScorer();
  WaitForScorer();
  EXPECT_NEAR(ExportControls(kSmic), listing, kEps);
  EXPECT_NEAR(ExportControls(kAcme), 0.8, kEps);
  EXPECT_EQ(ExportControls(kBeta), 0);
  EXPECT_NEAR(ExportControls(kCustomer), after_acme, kEps);
}

}  // namespace
}  // namespace georisk
