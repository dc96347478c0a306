// AlertsService over a real AlertLog, through gRPC on loopback.
#include "services/scorer/alerts_service.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/scorer/alert_evaluator.h"

namespace georisk::scorer {
namespace {

v1::Alert Record(int i, v1::Alert::State state = v1::Alert::FIRING) {
  v1::Alert a;
  a.set_entity_id(absl::StrCat("company/e", i));
  a.set_rule_name("risk_band_high");
  a.set_alert_id(absl::StrCat("company/e", i, "|risk_band_high"));
  a.set_state(state);
  a.set_severity(v1::SEVERITY_WARNING);
  return a;
}

class AlertsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start() {
    log_ = std::move(*storage::AlertLog::Open({dir_ + "/alerts"}));
    service_ = std::make_unique<AlertsService>(
        log_.get(), AlertEvaluator::DefaultRules(), "v-test",
        AlertsServiceOptions{});
    common::ServerOptions options;
    options.service_name = "scorer";
    options.metrics_address = "";
    options.shutdown_grace = absl::Seconds(2);
    server_ = std::move(*common::GrpcServer::Start(
        options, {{service_.get(), v1::Alerts::service_full_name()}},
        &registry_));
    server_->AddShutdownHook([this] { service_->Shutdown(); });
    stub_ = v1::Alerts::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  void Stop() {
    if (server_) server_->Shutdown();
    server_.reset();
    service_.reset();
    log_.reset();
  }

  void Append(int first, int n) {
    std::vector<v1::Alert> records;
    for (int i = first; i < first + n; ++i) records.push_back(Record(i));
    ASSERT_TRUE(log_->Append(records).ok());
  }

  // Reads `n` alerts from a watch starting at `from`; returns their
  // sequences.
  std::vector<int64_t> Watch(int64_t from, int n,
                             const std::function<void()>& after_first = {}) {
    grpc::ClientContext context;
    v1::WatchAlertsRequest request;
    request.set_from_sequence(from);
    auto reader = stub_->WatchAlerts(&context, request);
    std::vector<int64_t> seen;
    v1::WatchAlertsResponse response;
    bool first = true;
    while (static_cast<int>(seen.size()) < n && reader->Read(&response)) {
      for (const auto& a : response.alerts()) seen.push_back(a.sequence());
      if (first && after_first) after_first();
      first = false;
    }
    context.TryCancel();
    reader->Finish();
    return seen;
  }

  std::string dir_ = base::testing::MakeTempDir("as");
  common::MetricsRegistry registry_;
  std::unique_ptr<storage::AlertLog> log_;
  std::unique_ptr<AlertsService> service_;
  std::unique_ptr<common::GrpcServer> server_;
  std::unique_ptr<v1::Alerts::Stub> stub_;
};

TEST_F(AlertsServiceTest, WatchResumedAcrossARestartLosesAndRepeatsNothing) {
  Append(0, 5);
  // First connection: replays 1..5, then sees 6 live, then breaks.
  std::vector<int64_t> first = Watch(1, 6, [this] { Append(5, 1); });
  ASSERT_EQ(first, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  // The scorer restarts; more alerts are written meanwhile.
  Stop();
  Start();
  Append(6, 3);
  std::vector<int64_t> second = Watch(first.back() + 1, 3);
  EXPECT_EQ(second, (std::vector<int64_t>{7, 8, 9}));
}

TEST_F(AlertsServiceTest, FromZeroMeansOnlyNewRecords) {
  Append(0, 3);
  grpc::ClientContext context;
  v1::WatchAlertsRequest request;  // from_sequence 0.
  auto reader = stub_->WatchAlerts(&context, request);
  std::thread writer([this] {
    absl::SleepFor(absl::Milliseconds(200));
    Append(3, 1);
  });
  v1::WatchAlertsResponse response;
  ASSERT_TRUE(reader->Read(&response));
  writer.join();
  ASSERT_EQ(response.alerts_size(), 1);
  EXPECT_EQ(response.alerts(0).sequence(), 4);
  EXPECT_EQ(response.head_sequence(), 4);
  context.TryCancel();
  reader->Finish();
}

TEST_F(AlertsServiceTest, ListFiltersAndPages) {
  Append(0, 7);
  ASSERT_TRUE(log_->Append({Record(0, v1::Alert::RESOLVED)}).ok());
  grpc::ClientContext context;
  v1::ListAlertsRequest request;
  request.mutable_filter()->set_state(v1::Alert::FIRING);
  request.set_page_size(5);
  v1::ListAlertsResponse page;
  ASSERT_TRUE(stub_->ListAlerts(&context, request, &page).ok());
  ASSERT_EQ(page.alerts_size(), 5);
  EXPECT_EQ(page.alerts(0).sequence(), 7);  // Newest first.
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  grpc::ClientContext context2;
  v1::ListAlertsResponse page2;
  ASSERT_TRUE(stub_->ListAlerts(&context2, request, &page2).ok());
  EXPECT_EQ(page2.alerts_size(), 2);
  EXPECT_EQ(page2.next_page_token(), "");

  grpc::ClientContext bad;
  request.mutable_filter()->set_min_severity(static_cast<v1::Severity>(42));
  grpc::Status s = stub_->ListAlerts(&bad, request, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "filter.min_severity: unknown value 42");
}

TEST_F(AlertsServiceTest, WatchRejectsNegativeSequences) {
  grpc::ClientContext context;
  v1::WatchAlertsRequest request;
  request.set_from_sequence(-3);
  auto reader = stub_->WatchAlerts(&context, request);
  v1::WatchAlertsResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AlertsServiceTest, GetAlertRulesShowsTheRulesInForce) {
  grpc::ClientContext context;
  v1::GetAlertRulesResponse rules;
  ASSERT_TRUE(
      stub_->GetAlertRules(&context, v1::GetAlertRulesRequest(), &rules).ok());
  EXPECT_EQ(rules.rules_size(), 3);
  EXPECT_EQ(rules.rules(0).name(), "risk_band_high");
  EXPECT_EQ(rules.model_version(), "v-test");
}

}  // namespace
}  // namespace georisk::scorer
