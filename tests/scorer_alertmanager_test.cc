// The whole alert path with a real Alertmanager: a signal change committed
// to graphstore raises an alert in the scorer, which Alertmanager then lists
// with georisk's labels and annotations; a later change resolves it, and
// Alertmanager stops listing it.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/alertmanager.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;
using ::georisk::testing::Field;
using ::georisk::testing::FindAlert;
using ::georisk::testing::Labels;
using ::georisk::testing::ListAlerts;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::StartAlertmanager;
using ::georisk::testing::StringMap;

constexpr char kFab[] = "facility/skhynix-wuxi";

// BIS's revocation of the fab's VEU authorisation (90 FR 42321).
v1::ApplyRequest Revocation(double severity) {
  v1::ApplyRequest request;
  *request.add_mutations() = Upsert(WithSource(
      Revoked("signal/veu-wuxi", "US-BIS", {kFab}, severity), "90 FR 42321"));
  return request;
}

TEST(ScorerAlertmanagerTest, SignalChangeRaisesThenResolvesAnAlert) {
  if (access(testing::kAlertmanagerBinary, X_OK) != 0) {
    GTEST_FAIL() << testing::kAlertmanagerBinary
                 << " is missing: deploy/install-deps.sh installs it";
  }
  auto am = StartAlertmanager("alertmanager");
  ASSERT_TRUE(am.ok()) << am.status();
  const std::string dir = MakeTempDir("scorer-am");
  auto gs =
      ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                             {"--data_dir=" + dir + "/gs", "--sync=false"},
                             dir});
  ASSERT_TRUE(gs.ok()) << gs.status();
  auto scorer = ServiceProcess::Start(
      {Runfile("services/scorer/scorer"),
       {"--data_dir=" + dir + "/scorer", "--graphstore=" + (*gs)->address(),
        "--alertmanager_url=" + am->url, "--alertmanager_resend_interval=5s",
        "--external_url=http://georisk.example"},
       dir});
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  ASSERT_TRUE(
      common::WaitForServing((*scorer)->address(), "", absl::Seconds(30)).ok());

  auto stub = v1::GraphStore::NewStub(grpc::CreateChannel(
      (*gs)->address(), grpc::InsecureChannelCredentials()));
  {
    v1::ApplyRequest graph;
    v1::Entity fab = Facility(kFab, "CN");
    fab.set_name("SK hynix Wuxi");
    fab.set_region("CN-JS");
    *graph.add_mutations() = Upsert(fab);
    grpc::ClientContext context;
    v1::ApplyResponse response;
    ASSERT_TRUE(stub->Apply(&context, graph, &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::ApplyResponse response;
    ASSERT_TRUE(stub->Apply(&context, Revocation(0.9), &response).ok());
  }

  // Alertmanager lists the critical-band alert with our labels.
  const google::protobuf::Struct* found = nullptr;
  std::vector<google::protobuf::Struct> alerts;
  for (int i = 0; i < 600 && found == nullptr; ++i) {
    auto listed = ListAlerts(am->url, "");
    if (listed.ok()) {
      alerts = *listed;
      found = FindAlert(alerts, kFab, "risk_band_critical");
    }
    if (found == nullptr) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_NE(found, nullptr) << (*scorer)->Log();
  Labels labels = StringMap(*found, "labels");
  EXPECT_EQ(labels["alertname"], "risk_band_critical");
  EXPECT_EQ(labels["entity_id"], kFab);
  EXPECT_EQ(labels["entity_kind"], "facility");
  EXPECT_EQ(labels["country"], "CN");
  EXPECT_EQ(labels["factor"], "export_controls");
  EXPECT_EQ(labels["severity"], "critical");
  Labels annotations = StringMap(*found, "annotations");
  EXPECT_TRUE(absl::StrContains(annotations["summary"], "SK hynix Wuxi"))
      << annotations["summary"];
  EXPECT_TRUE(absl::StrContains(annotations["description"], "revoked"))
      << annotations["description"];
  EXPECT_TRUE(absl::StartsWith(Field(*found, "generatorURL"),
                               "http://georisk.example"));
  absl::Time ends;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, Field(*found, "endsAt"),
                              &ends, &error))
      << error;
  EXPECT_GT(ends, absl::Now());

  // The licence comes through (severity down): the alert resolves and
  // Alertmanager no longer lists it.
  {
    grpc::ClientContext context;
    v1::ApplyResponse response;
    ASSERT_TRUE(stub->Apply(&context, Revocation(0.1), &response).ok());
  }
  bool gone = false;
  for (int i = 0; i < 600 && !gone; ++i) {
    auto listed = ListAlerts(am->url, "?active=true");
    gone = listed.ok() &&
           FindAlert(*listed, kFab, "risk_band_critical") == nullptr;
    if (!gone) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(gone) << (*scorer)->Log();
  EXPECT_EQ(*(*scorer)->Stop(SIGTERM, absl::Seconds(20)), 0);
  EXPECT_EQ(*am->process->Stop(SIGTERM, absl::Seconds(20)), 0);
}

}  // namespace
}  // namespace georisk
