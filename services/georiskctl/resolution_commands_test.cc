// georiskctl match, review and links against an in-process fake Resolution
// service on 127.0.0.1:0: what each command asks for given its options, what
// it prints, and its exit code.
#include "services/georiskctl/resolution_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/georiskctl/command_capture.h"
#include "services/georiskctl/exit_codes.h"
#include "services/georiskctl/loopback_server.h"

namespace georisk::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNowhere[] = "127.0.0.1:1";

v1::Link MakeLink(const std::string& a, const std::string& b,
                  v1::Link::Judgement judgement, double score) {
  v1::Link l;
  l.set_entity_a(a);
  l.set_entity_b(b);
  l.set_judgement(judgement);
  l.set_method(v1::Link::NAME);
  l.set_score(score);
  l.add_evidence("name 'SMIC' ~ 'SMIC LTD' 0.93");
  l.set_decided_by("rule:name");
  l.mutable_decided_at()->set_seconds(1760000000);
  l.set_source("csl/2025");
  return l;
}

class FakeResolution final : public v1::Resolution::Service {
 public:
  grpc::Status MatchEntities(grpc::ServerContext*,
                             const v1::MatchEntitiesRequest* request,
                             v1::MatchEntitiesResponse* response) override {
    match_requests_.Add(*request);
    v1::MatchCandidate* c = response->add_candidates();
    c->set_entity_id("company/smic");
    c->set_name("Semiconductor Manufacturing International Corporation");
    c->set_country("CN");
    c->set_score(0.987);
    c->set_method(v1::Link::IDENTIFIER);
    c->set_decision(v1::MATCH_DECISION_AUTO_LINK);
    c->set_existing_judgement(v1::Link::NEGATIVE);
    c->add_evidence("identifier lei 5493 equal (strong)");
    response->set_sequence(42);
    return grpc::Status::OK;
  }

  grpc::Status ListReviewQueue(grpc::ServerContext*,
                               const v1::ListReviewQueueRequest* request,
                               v1::ListReviewQueueResponse* response) override {
    queue_requests_.Add(*request);
    *response->add_links() =
        MakeLink("company/csl-el-2", "company/smic", v1::Link::UNSURE, 0.93);
    response->set_total_size(7);
    response->set_next_page_token("tok2");
    return grpc::Status::OK;
  }

  grpc::Status ReviewLink(grpc::ServerContext*,
                          const v1::ReviewLinkRequest* request,
                          v1::ReviewLinkResponse* response) override {
    review_requests_.Add(*request);
    if (request->link().entity_b() == "company/nobody") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "link: no link between company/smic and "
                          "company/nobody; set allow_manual");
    }
    *response->mutable_link() =
        MakeLink(request->link().entity_a(), request->link().entity_b(),
                 request->decision() == v1::ReviewLinkRequest::ACCEPT
                     ? v1::Link::POSITIVE
                     : v1::Link::NEGATIVE,
                 0.93);
    response->mutable_link()->set_decided_by("reviewer:ana");
    response->set_sequence(43);
    if (request->link().entity_b() == "company/decided") {
      // Decided so before: the stored decision, nothing written.
      response->mutable_link()->set_reason("same LEI");
      response->set_sequence(17);
      response->set_already_decided(true);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListLinks(grpc::ServerContext*,
                         const v1::ListLinksRequest* request,
                         v1::ListLinksResponse* response) override {
    links_requests_.Add(*request);
    v1::Link l =
        MakeLink("company/ftm-3", "company/smic", v1::Link::NEGATIVE, 0.81);
    l.set_decided_by("reviewer:ana");
    l.set_reason("a different SMIC");
    *response->add_links() = l;
    return grpc::Status::OK;
  }

  std::vector<v1::MatchEntitiesRequest> match_requests() const {
    return match_requests_.all();
  }
  std::vector<v1::ListReviewQueueRequest> queue_requests() const {
    return queue_requests_.all();
  }
  std::vector<v1::ReviewLinkRequest> review_requests() const {
    return review_requests_.all();
  }
  std::vector<v1::ListLinksRequest> links_requests() const {
    return links_requests_.all();
  }

 private:
  RequestLog<v1::MatchEntitiesRequest> match_requests_;
  RequestLog<v1::ListReviewQueueRequest> queue_requests_;
  RequestLog<v1::ReviewLinkRequest> review_requests_;
  RequestLog<v1::ListLinksRequest> links_requests_;
};

class ResolutionCommandsTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = StartLoopbackServer({&fake_}, &options_.client.graphstore);
    ASSERT_NE(server_, nullptr);
    options_.client.endpoints_file = "";
    options_.client.timeout = absl::Seconds(10);
  }

  void TearDown() override {
    server_->Shutdown();
    server_->Wait();
  }

  template <typename Command>
  int Run(Command command, const std::vector<std::string>& args) {
    return RunCaptured(command, options_, args, &out_, &err_);
  }

  FakeResolution fake_;
  std::unique_ptr<grpc::Server> server_;
  ResolutionOptions options_;
  std::string out_, err_;
};

TEST_F(ResolutionCommandsTest, MatchSendsTheRecordAndPrintsCandidates) {
  options_.country = "cn";
  options_.kind = "company";
  options_.identifiers = {"LEI:549300ABC", "isin=US0000000000"};
  options_.entity = "company/csl-el-1";
  options_.limit = 3;
  EXPECT_EQ(Run(MatchCommand, {"SMIC", "中芯国际"}), kExitOk) << err_;
  const auto requests = fake_.match_requests();
  ASSERT_EQ(requests.size(), 1u);
  const v1::MatchQuery& q = requests[0].query();
  EXPECT_EQ(q.name(), "SMIC");
  ASSERT_EQ(q.aliases_size(), 1);
  EXPECT_EQ(q.aliases(0), "中芯国际");
  EXPECT_EQ(q.country(), "CN");
  EXPECT_EQ(q.kind(), v1::Entity::COMPANY);
  EXPECT_EQ(q.identifiers().at("lei"), "549300ABC");
  EXPECT_EQ(q.identifiers().at("isin"), "US0000000000");
  EXPECT_EQ(q.entity_id(), "company/csl-el-1");
  EXPECT_EQ(requests[0].limit(), 3);
  EXPECT_THAT(out_, HasSubstr("DECISION"));
  EXPECT_THAT(out_, HasSubstr("company/smic"));
  EXPECT_THAT(out_, HasSubstr("0.99"));
  EXPECT_THAT(out_, HasSubstr("auto link"));
  EXPECT_THAT(out_, HasSubstr("identifier"));
  EXPECT_THAT(out_, HasSubstr("negative"));
  EXPECT_THAT(out_, HasSubstr("#1 identifier lei 5493 equal (strong)"));
  EXPECT_THAT(out_, HasSubstr("(1 candidates; index at graph sequence 42)"));
}

TEST_F(ResolutionCommandsTest, MatchAsJson) {
  options_.client.output = "json";
  EXPECT_EQ(Run(MatchCommand, {"SMIC"}), kExitOk);
  EXPECT_THAT(out_, HasSubstr("\"entity_id\": \"company/smic\""));
  EXPECT_THAT(out_, HasSubstr("\"decision\": \"MATCH_DECISION_AUTO_LINK\""));
}

TEST_F(ResolutionCommandsTest, MatchRefusesBadOptionsBeforeAnyCall) {
  EXPECT_EQ(Run(MatchCommand, {}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("give a name"));
  options_.identifiers = {"lei"};
  EXPECT_EQ(Run(MatchCommand, {"SMIC"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--identifier: \"lei\" is not scheme:value"));
  options_.identifiers.clear();
  options_.kind = "planet";
  EXPECT_EQ(Run(MatchCommand, {"SMIC"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--kind"));
  options_.kind = "";
  options_.limit = 51;
  EXPECT_EQ(Run(MatchCommand, {"SMIC"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--limit: must be in [1, 50]"));
  EXPECT_TRUE(fake_.match_requests().empty());
}

TEST_F(ResolutionCommandsTest, MatchWhenGraphstoreIsDownIsUnavailable) {
  options_.client.graphstore = kNowhere;
  options_.client.timeout = absl::Seconds(2);
  EXPECT_EQ(Run(MatchCommand, {"SMIC"}), kExitUnavailable);
  EXPECT_THAT(err_, HasSubstr("graphstore at 127.0.0.1:1"));
}

TEST_F(ResolutionCommandsTest, ReviewListSendsFiltersAndPrintsTheQueue) {
  options_.source = "csl";
  options_.kind = "company";
  options_.min_score = 0.8;
  options_.max_score = 0.95;
  options_.limit = 1;
  options_.page_token = "tok1";
  EXPECT_EQ(Run(ReviewCommand, {"list"}), kExitOk) << err_;
  const auto requests = fake_.queue_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].source(), "csl");
  EXPECT_EQ(requests[0].kind(), v1::Entity::COMPANY);
  EXPECT_DOUBLE_EQ(requests[0].min_score(), 0.8);
  EXPECT_DOUBLE_EQ(requests[0].max_score(), 0.95);
  EXPECT_EQ(requests[0].page_size(), 1);
  EXPECT_EQ(requests[0].page_token(), "tok1");
  EXPECT_THAT(out_, HasSubstr("company/csl-el-2"));
  EXPECT_THAT(out_, HasSubstr("0.93"));
  EXPECT_THAT(out_, HasSubstr("csl/2025"));
  EXPECT_THAT(out_, HasSubstr("#1 name 'SMIC' ~ 'SMIC LTD' 0.93"));
  EXPECT_THAT(out_, HasSubstr("(1 of 7 waiting for review)"));
  EXPECT_THAT(out_, HasSubstr("next page: --page_token=tok2"));
}

TEST_F(ResolutionCommandsTest, ReviewAcceptAndRejectSendTheDecision) {
  options_.reason = "same LEI";
  options_.reviewer = "ana";
  EXPECT_EQ(Run(ReviewCommand, {"accept", "company/smic", "company/csl-el-2"}),
            kExitOk)
      << err_;
  EXPECT_THAT(out_, HasSubstr("accepted: company/smic = company/csl-el-2 is "
                              "positive (name, reviewer:ana), graph sequence "
                              "43"));
  options_.manual = true;
  options_.reason = "a different SMIC";
  EXPECT_EQ(Run(ReviewCommand, {"reject", "company/smic", "company/ftm-3"}),
            kExitOk);
  EXPECT_THAT(out_, HasSubstr("rejected: company/smic = company/ftm-3 is "
                              "negative"));
  const auto requests = fake_.review_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].decision(), v1::ReviewLinkRequest::ACCEPT);
  EXPECT_EQ(requests[0].reason(), "same LEI");
  EXPECT_EQ(requests[0].reviewer(), "ana");
  EXPECT_FALSE(requests[0].allow_manual());
  EXPECT_EQ(requests[1].decision(), v1::ReviewLinkRequest::REJECT);
  EXPECT_TRUE(requests[1].allow_manual());
}

TEST_F(ResolutionCommandsTest, ReviewOfAnAlreadyDecidedPairSaysNothingWritten) {
  options_.reviewer = "ana";
  EXPECT_EQ(Run(ReviewCommand, {"accept", "company/smic", "company/decided"}),
            kExitOk)
      << err_;
  EXPECT_THAT(out_, HasSubstr("already linked: company/smic = company/decided "
                              "is positive (name, reviewer:ana at 2025-10-09 "
                              "08:53: same LEI), graph sequence 17; nothing "
                              "written"));
  options_.reason = "two SMICs";
  EXPECT_EQ(Run(ReviewCommand, {"reject", "company/smic", "company/decided"}),
            kExitOk);
  EXPECT_THAT(out_, HasSubstr("already kept apart: company/smic = "
                              "company/decided is negative"));
}

TEST_F(ResolutionCommandsTest, ReviewErrors) {
  EXPECT_EQ(Run(ReviewCommand, {}), kExitUsage);
  EXPECT_EQ(Run(ReviewCommand, {"approve", "a", "b"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("unknown subcommand \"approve\""));
  EXPECT_EQ(Run(ReviewCommand, {"accept", "company/smic"}), kExitUsage);
  EXPECT_EQ(Run(ReviewCommand, {"reject", "company/smic", "company/x"}),
            kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--reason: required to reject"));
  EXPECT_EQ(Run(ReviewCommand, {"list", "extra"}), kExitUsage);
  EXPECT_TRUE(fake_.review_requests().empty());
  // The server's NOT_FOUND is a failed call, with its message.
  EXPECT_EQ(Run(ReviewCommand, {"accept", "company/smic", "company/nobody"}),
            kExitFailed);
  EXPECT_THAT(err_, HasSubstr("set allow_manual"));
}

TEST_F(ResolutionCommandsTest, LinksPrintsTheOtherEndAndWhoDecided) {
  options_.judgement = "Negative";
  options_.limit = 5;
  EXPECT_EQ(Run(LinksCommand, {"company/smic"}), kExitOk) << err_;
  const auto requests = fake_.links_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].entity_id(), "company/smic");
  EXPECT_EQ(requests[0].judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(requests[0].page_size(), 5);
  EXPECT_THAT(out_, HasSubstr("LINKED TO"));
  EXPECT_THAT(out_, HasSubstr("company/ftm-3"));
  EXPECT_THAT(out_, HasSubstr("reviewer:ana"));
  EXPECT_THAT(out_, HasSubstr("2025-10-09 08:53"));
  EXPECT_THAT(out_, HasSubstr("a different SMIC"));
  EXPECT_THAT(out_, HasSubstr("(1 links of company/smic)"));
  EXPECT_THAT(out_, Not(HasSubstr("next page")));
  options_.judgement = "maybe";
  EXPECT_EQ(Run(LinksCommand, {"company/smic"}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--judgement: \"maybe\""));
  EXPECT_EQ(Run(LinksCommand, {}), kExitUsage);
}

TEST(ResolutionCommandHelpTest, EveryCommandHasHelp) {
  for (const char* c : {"match", "review", "links"}) {
    EXPECT_THAT(ResolutionCommandHelp(c), HasSubstr("georiskctl ")) << c;
  }
  EXPECT_EQ(ResolutionCommandHelp("top"), "");
}

}  // namespace
}  // namespace georisk::cli
