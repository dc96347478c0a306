// The scorer honours links (issue #16): graphstore (with its Resolution
// service), ingest and scorer as processes on loopback.
//   1. `georiskctl import` a supply graph: SMIC and Acme supply a customer.
//   2. `georiskctl import` a CSL file listing both on the Entity List under
//      the CSL's own ids (company/csl-el-id-...): nothing connects them, the
//      customer's export-control factor stays 0.
//   3. An identifier link (written through GraphStore.Apply as the
//      automatic rule would: import does not resolve yet) joins SMIC and its
//      CSL record: SMIC's score is the listing's, the customer's moves, and
//      the explanations name the link.
//   4. A name candidate (UNSURE) waits: nothing moves. Accepted through
//      Resolution.ReviewLink, Acme takes its listing, "confirmed by" the
//      reviewer.
//   5. Refused through ReviewLink: Acme is apart again, and stays apart
//      after the CSL file is imported again.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::testing::HasSubstr;

constexpr char kSmic[] = "company/smic";
constexpr char kAcme[] = "company/acme-fab-tools";
constexpr char kCustomer[] = "company/customer";
// The CSL rows' ids: `_id` given (formats/csl_parser, CslRowId).
constexpr char kCslSmic[] = "company/csl-el-id-aaaa0001";
constexpr char kCslAcme[] = "company/csl-el-id-bbbb0002";
constexpr double kEps = 1e-9;

constexpr char kSupplyGraph[] =
    R"({"upsert_entity": {"id": "company/smic", "kind": "COMPANY", "name": "SMIC", "country": "CN", "source": "test"}}
{"upsert_entity": {"id": "company/acme-fab-tools", "kind": "COMPANY", "name": "Acme Fab Tools", "country": "CN", "source": "test"}}
{"upsert_entity": {"id": "company/customer", "kind": "COMPANY", "name": "Customer", "country": "US", "source": "test"}}
{"upsert_edge": {"from_id": "company/smic", "to_id": "company/customer", "kind": "SUPPLIES", "weight": 0.5, "product_code": "8542", "source": "test"}}
{"upsert_edge": {"from_id": "company/acme-fab-tools", "to_id": "company/customer", "kind": "SUPPLIES", "weight": 0.4, "product_code": "8542", "source": "test"}}
)";

// A CSL CSV file (docs/formats.md) of Entity List rows: {_id, name,
// addresses, alt_names}.
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
    fields[7] = absl::StrCat("\"", row[2], "\"");
    fields[8] = "85 FR 83420";
    fields[9] = "2020-12-22";
    fields[22] = row[3];
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\n");
  }
  return out;
}

class LinksScoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("links_scores");
    auto gs = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {absl::StrCat("--data_dir=", dir_, "/graphstore"), "--sync=false",
          "--resolution=true"},
         dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    auto in = ServiceProcess::Start(
        {Runfile("services/ingest/ingest"),
         {absl::StrCat("--graphstore=", graphstore_->address())},
         dir_});
    ASSERT_TRUE(in.ok()) << in.status();
    ingest_ = std::move(*in);
    ASSERT_NO_FATAL_FAILURE(StartScorer());
    for (ServiceProcess* p : {graphstore_.get(), ingest_.get()}) {
      ASSERT_TRUE(
          common::WaitForServing(p->address(), "", absl::Seconds(60)).ok())
          << p->Log();
    }
    auto channel = grpc::CreateChannel(graphstore_->address(),
                                       grpc::InsecureChannelCredentials());
    graph_ = v1::GraphStore::NewStub(channel);
    resolution_ = v1::Resolution::NewStub(channel);
    WriteFile("supply.jsonl", kSupplyGraph);
    WriteFile("csl.csv",
              CslFile({{"aaaa0001",
                        "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORPORATION",
                        "18 Zhangjiang Road, Shanghai, China", "SMIC"},
                       {"bbbb0002", "ACME FAB TOOLS CO. LTD.",
                        "1 Industrial Road, Shenzhen, China", ""}}));
  }

  void TearDown() override {
    for (ServiceProcess* p :
         {scorer_.get(), ingest_.get(), graphstore_.get()}) {
      if (p == nullptr || !p->running()) continue;
      absl::StatusOr<int> code = p->Stop(SIGTERM, absl::Seconds(30));
      EXPECT_TRUE(code.ok()) << code.status();
      if (code.ok()) {
        EXPECT_EQ(*code, 0) << p->Log();
      }
    }
  }

  // The scorer, on its data directory (a restart resumes from its mirror).
  void StartScorer() {
    auto sc = ServiceProcess::Start(
        {Runfile("services/scorer/scorer"),
         {absl::StrCat("--graphstore=", graphstore_->address()),
          absl::StrCat("--data_dir=", dir_, "/scorer")},
         dir_});
    ASSERT_TRUE(sc.ok()) << sc.status();
    scorer_ = std::move(*sc);
    ASSERT_TRUE(
        common::WaitForServing(scorer_->address(), "", absl::Seconds(60)).ok())
        << scorer_->Log();
    scorer_stub_ = v1::Scorer::NewStub(grpc::CreateChannel(
        scorer_->address(), grpc::InsecureChannelCredentials()));
  }

  void WriteFile(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ + "/" + name);
    out << text;
    ASSERT_TRUE(out.good());
  }

  void Import(const std::string& name, const std::string& format) {
    CommandResult c = RunCommand(
        dir_, Runfile("services/georiskctl/georiskctl"),
        {"import", dir_ + "/" + name, absl::StrCat("--format=", format),
         absl::StrCat("--ingest=", ingest_->address()), "--progress=none"});
    ASSERT_EQ(c.code, 0) << c.out << c.err;
  }

  int64_t LastSequence() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats.last_sequence();
  }

  // An automatic link, as the identifier rule writes it.
  int64_t ApplyLink(const std::string& a, const std::string& b,
                    v1::Link::Judgement judgement, v1::Link::Method method,
                    double score, const std::string& evidence) {
    grpc::ClientContext context;
    v1::ApplyRequest request;
    request.set_origin("links_scores_test");
    v1::Link* l = request.add_mutations()->mutable_upsert_link();
    l->set_entity_a(a);
    l->set_entity_b(b);
    l->set_judgement(judgement);
    l->set_method(method);
    l->set_score(score);
    if (method == v1::Link::NAME) (*l->mutable_features())["country"] = 1;
    l->add_evidence(evidence);
    l->set_decided_by(method == v1::Link::IDENTIFIER ? "rule:identifier"
                                                     : "rule:name");
    l->mutable_decided_at()->set_seconds(1765000000);
    l->set_source("links_scores_test");
    v1::ApplyResponse response;
    grpc::Status s = graph_->Apply(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
  }

  int64_t Review(const std::string& a, const std::string& b,
                 v1::ReviewLinkRequest::Decision decision) {
    grpc::ClientContext context;
    v1::ReviewLinkRequest request;
    request.mutable_link()->set_entity_a(a);
    request.mutable_link()->set_entity_b(b);
    request.set_decision(decision);
    request.set_reviewer("alice");
    if (decision == v1::ReviewLinkRequest::REJECT) {
      request.set_reason("a different Acme: other address");
    }
    v1::ReviewLinkResponse response;
    grpc::Status s = resolution_->ReviewLink(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
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

  void WaitForScorer(int64_t sequence) {
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
           << scorer_->Log();
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

  std::string dir_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<ServiceProcess> scorer_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  std::unique_ptr<v1::Resolution::Stub> resolution_;
  std::unique_ptr<v1::Scorer::Stub> scorer_stub_;
};

TEST_F(LinksScoresTest, LinksMoveScoresReviewsDecideAndRefusalsLast) {
  Import("supply.jsonl", "jsonl");
  Import("csl.csv", "csl-csv");
  WaitForScorer(LastSequence());
  // The CSL records are listed (Entity List, US-BIS, 0.8); the supply
  // graph's parties are not.
  EXPECT_NEAR(ExportControls(kCslSmic), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCslAcme), 0.8, kEps);
  EXPECT_EQ(ExportControls(kSmic), 0);
  EXPECT_EQ(ExportControls(kCustomer), 0);

  // 3. The identifier link: SMIC is the listed party; the customer's
  //    dependency on it carries 0.85 x 0.5 x 0.8.
  WaitForScorer(
      ApplyLink(kCslSmic, kSmic, v1::Link::POSITIVE, v1::Link::IDENTIFIER, 1,
                "csl_entity_number 12345 = lei 549300ZZLZ1PVR5XDO63"));
  EXPECT_NEAR(ExportControls(kSmic), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCustomer), 0.34, kEps);
  // The party's primary is its smallest id (the CSL record): SMIC's score
  // is explained by the link.
  EXPECT_THAT(Descriptions(kSmic),
              ::testing::Contains(HasSubstr(
                  "the same party as SEMICONDUCTOR MANUFACTURING "
                  "INTERNATIONAL CORPORATION (company/csl-el-id-aaaa0001), "
                  "linked to SEMICONDUCTOR MANUFACTURING INTERNATIONAL "
                  "CORPORATION by identifier (csl_entity_number 12345 = lei "
                  "549300ZZLZ1PVR5XDO63), automatically (rule:identifier)")));

  // 4. A name candidate waits for review: nothing moves.
  WaitForScorer(ApplyLink(kCslAcme, kAcme, v1::Link::UNSURE, v1::Link::NAME,
                          0.88,
                          "'ACME FAB TOOLS CO. LTD.' ~ 'Acme Fab Tools'"));
  EXPECT_EQ(ExportControls(kAcme), 0);
  EXPECT_NEAR(ExportControls(kCustomer), 0.34, kEps);
  // Accepted: Acme's listing arrives, confirmed by the reviewer; the
  // customer: 1 - (1 - 0.34)(1 - 0.85 x 0.4 x 0.8) = 0.51952.
  WaitForScorer(Review(kAcme, kCslAcme, v1::ReviewLinkRequest::ACCEPT));
  EXPECT_NEAR(ExportControls(kAcme), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCustomer), 1 - 0.66 * (1 - 0.272), kEps);
  // Acme's party: acme-fab-tools < csl-el-..., so Acme is the primary and
  // its listing names the CSL record.
  EXPECT_THAT(Descriptions(kAcme),
              ::testing::Contains(HasSubstr(
                  "as 'ACME FAB TOOLS CO. LTD.' (company/csl-el-id-bbbb0002), "
                  "linked to Acme Fab Tools by name and country, score 0.88 "
                  "('ACME FAB TOOLS CO. LTD.' ~ 'Acme Fab Tools'), confirmed "
                  "by alice")));

  // 5. Refused: apart again, and after a re-import of the list too.
  WaitForScorer(Review(kAcme, kCslAcme, v1::ReviewLinkRequest::REJECT));
  EXPECT_EQ(ExportControls(kAcme), 0);
  EXPECT_NEAR(ExportControls(kCustomer), 0.34, kEps);
  Import("csl.csv", "csl-csv");
  WaitForScorer(LastSequence());
  EXPECT_EQ(ExportControls(kAcme), 0);
  EXPECT_NEAR(ExportControls(kCslAcme), 0.8, kEps);
  EXPECT_NEAR(ExportControls(kCustomer), 0.34, kEps);
  EXPECT_NEAR(ExportControls(kSmic), 0.8, kEps);

  // The scorer restarted from its own copy of the graph keeps the links.
  absl::StatusOr<int> code = scorer_->Stop(SIGTERM, absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << scorer_->Log();
  ASSERT_NO_FATAL_FAILURE(StartScorer());
  WaitForScorer(LastSequence());
  EXPECT_NEAR(ExportControls(kSmic), 0.8, kEps);
  EXPECT_EQ(ExportControls(kAcme), 0);
  EXPECT_NEAR(ExportControls(kCustomer), 0.34, kEps);
}

}  // namespace
}  // namespace georisk
