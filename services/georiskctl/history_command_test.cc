// georiskctl history against a fake Scorer on loopback port 0 that pages
// its answer two points at a time.
#include "services/georiskctl/history_command.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/georiskctl/command_capture.h"
#include "services/georiskctl/exit_codes.h"
#include "services/georiskctl/loopback_server.h"

namespace georisk::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FakeScorer final : public v1::Scorer::Service {
 public:
  grpc::Status GetScoreHistory(grpc::ServerContext*,
                               const v1::GetScoreHistoryRequest* request,
                               v1::GetScoreHistoryResponse* response) override {
    requests_.Add(*request);
    if (request->entity_id() != "company/tsmc") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "no score history for " + request->entity_id());
    }
    const double composites[] = {10, 55, 90};
    int start = request->page_token().empty() ? 0 : 2;
    for (int i = start; i < std::min(start + 2, 3); ++i) {
      v1::ScoreHistoryPoint* p = response->add_points();
      p->mutable_time()->set_seconds(1800000000 + 3600 * i);
      p->set_graph_sequence(i + 1);
      p->set_model_version("1.1.0");
      p->set_composite(composites[i]);
      p->set_rebuild(i == 0);
      p->set_reason(absl::StrCat("reason ", i));
    }
    if (start == 0) response->set_next_page_token("page2");
    return grpc::Status::OK;
  }
  std::vector<v1::GetScoreHistoryRequest> requests() const {
    return requests_.all();
  }

 private:
  RequestLog<v1::GetScoreHistoryRequest> requests_;
};

class HistoryCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartLoopbackServer({&scorer_}, &options_.client.scorer);
    ASSERT_NE(server_, nullptr);
    options_.client.endpoints_file = "";
    options_.client.timeout = absl::Seconds(10);
  }
  void TearDown() override {
    server_->Shutdown();
    server_->Wait();
  }
  int Run(const std::vector<std::string>& args) {
    return RunCaptured(HistoryCommand, options_, args, &out_, &err_);
  }

  FakeScorer scorer_;
  std::unique_ptr<grpc::Server> server_;
  CommandOptions options_;
  std::string out_, err_;
};

TEST_F(HistoryCommandTest, PrintsEveryPageAsATableUnderASparkline) {
  ASSERT_EQ(Run({"company/tsmc"}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("▂▅▇"));
  EXPECT_THAT(out_, HasSubstr("(3 points)"));
  EXPECT_THAT(out_, HasSubstr("2027-01-15T08:00:00Z"));
  EXPECT_THAT(out_, HasSubstr("[history starts here] reason 0"));
  EXPECT_THAT(out_, HasSubstr("reason 2"));
  EXPECT_THAT(out_, HasSubstr("90.0"));
  ASSERT_EQ(scorer_.requests().size(), 2u);
  EXPECT_EQ(scorer_.requests()[1].page_token(), "page2");
}

TEST_F(HistoryCommandTest, SendsTheRangeAndFactorAndPrintsJson) {
  options_.from = absl::FromUnixSeconds(1800000000);
  options_.to = absl::FromUnixSeconds(1900000000);
  options_.factor = "tariffs";
  options_.client.output = "json";
  ASSERT_EQ(Run({"company/tsmc"}), kExitOk) << err_;
  const v1::GetScoreHistoryRequest r = scorer_.requests()[0];
  EXPECT_EQ(r.from().seconds(), 1800000000);
  EXPECT_EQ(r.to().seconds(), 1900000000);
  EXPECT_EQ(r.factor(), v1::FACTOR_TARIFFS);
  EXPECT_FALSE(r.has_as_of());
  EXPECT_THAT(out_, HasSubstr("\"points\""));
  EXPECT_THAT(out_, HasSubstr("\"reason\": \"reason 2\""));
  EXPECT_THAT(out_, Not(HasSubstr("SEQ")));
}

TEST_F(HistoryCommandTest, UsageAndNotFound) {
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("give one entity id"));
  options_.factor = "nonsense";
  EXPECT_EQ(Run({"company/tsmc"}), kExitUsage);
  options_.factor = "";
  EXPECT_NE(Run({"company/nobody"}), kExitOk);
  EXPECT_THAT(err_, HasSubstr("no score history for company/nobody"));
}

TEST(SparklineTest, ScalesZeroToHundredAndClamps) {
  // 50 -> 3.5 + 0.5 -> block 4 ("▅"); below 0 as 0, above 100 as 100.
  EXPECT_EQ(Sparkline({0, 50, 100, -5, 250}), "▁▅█▁█");
  EXPECT_EQ(Sparkline({}), "");
}

}  // namespace
}  // namespace georisk::cli
