// The scorer's Alertmanager notifier against real Alertmanagers (Debian's
// prometheus-alertmanager 0.25): two replicas on free loopback ports, each
// with its own data directory and gossip off. A FIRING record must appear in
// both replicas' `GET /api/v2/alerts` with exactly our labels and
// annotations and an endsAt in the future; the RESOLVED record must make it
// leave the active alerts. Alertmanager 0.25 lists no alert whose endsAt has
// passed (whatever the filters), so "resolved" means "no longer listed".
#include "tests/testing/alertmanager.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "georisk/v1/alert.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/scorer/alertmanager/http_client.h"
#include "services/scorer/alertmanager/notifier.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::Alertmanager;
using ::georisk::testing::Field;
using ::georisk::testing::kAlertmanagerBinary;
using ::georisk::testing::Labels;
using ::georisk::testing::ListAlerts;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::PickFreePort;
using ::georisk::testing::ProcessOptions;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::StartAlertmanager;
using ::georisk::testing::StringMap;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

constexpr absl::Duration kDelivered = absl::Seconds(60);

absl::Time ParseRfc3339(const std::string& s) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, s, &t, &error))
      << s << ": " << error;
  return t;
}

TEST(AlertmanagerTest, FiringAlertAppearsThenResolves) {
  ASSERT_EQ(access(kAlertmanagerBinary, X_OK), 0)
      << kAlertmanagerBinary
      << " is missing: install Debian's prometheus-alertmanager "
         "(deploy/install-deps.sh does)";
  auto am0 = StartAlertmanager("alertmanager-0");
  ASSERT_TRUE(am0.ok()) << am0.status();
  auto am1 = StartAlertmanager("alertmanager-1");
  ASSERT_TRUE(am1.ok()) << am1.status();
  const std::vector<Alertmanager*> replicas = {&*am0, &*am1};

  common::MetricsRegistry metrics;
  scorer::AlertmanagerNotifierOptions options;
  options.urls = {am0->url, am1->url + "/api/v2/alerts"};
  options.generator_url_base = "http://georisk.test";
  options.request_timeout = absl::Seconds(10);
  options.retry_initial_backoff = absl::Milliseconds(200);
  options.retry_max_backoff = absl::Seconds(2);
  auto notifier = scorer::AlertmanagerNotifier::Create(options, &metrics);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Start();

  const absl::Time started = absl::Now() - absl::Minutes(2);
  v1::Alert alert;
  alert.set_sequence(1);
  alert.set_alert_id("facility/tsmc-fab18|risk_band_high");
  alert.set_entity_id("facility/tsmc-fab18");
  alert.set_entity_name("TSMC Fab 18 (台積電)");
  alert.set_entity_kind(v1::Entity::FACILITY);
  alert.set_country("TW");
  alert.set_rule_name("risk_band_high");
  alert.set_state(v1::Alert::FIRING);
  alert.set_severity(v1::SEVERITY_CRITICAL);
  alert.set_factor(v1::FACTOR_CROSS_STRAIT);
  alert.set_score_before(58.04);
  alert.set_score_after(81.25);
  alert.set_band_before(v1::BAND_MEDIUM);
  alert.set_band_after(v1::BAND_CRITICAL);
  alert.add_reasons("Blockade drill near \"Kaohsiung\"");
  alert.add_reasons("Sole supplier of N3 wafers");
  alert.set_graph_sequence(99);
  alert.set_model_version("v1");
  *alert.mutable_start_time() = base::ToProtoTime(started);
  *alert.mutable_update_time() = base::ToProtoTime(started);
  (*notifier)->Update(alert);

  const Labels want_labels = {
      {"alertname", "risk_band_high"}, {"entity_id", "facility/tsmc-fab18"},
      {"entity_kind", "facility"},     {"country", "TW"},
      {"factor", "cross_strait"},      {"severity", "critical"}};
  const Labels want_annotations = {
      {"summary",
       "TSMC Fab 18 (台積電) (facility/tsmc-fab18): score 58.0 → 81.2 "
       "(critical)"},
      {"description",
       "Score 58.0 → 81.2; band medium → critical.\n"
       "Factor that moved most: cross_strait.\n"
       "Reasons:\n"
       "- Blockade drill near \"Kaohsiung\"\n"
       "- Sole supplier of N3 wafers\n"
       "Rule risk_band_high, graph sequence 99, model v1."}};

  for (Alertmanager* am : replicas) {
    SCOPED_TRACE(am->url);
    std::vector<Struct> alerts;
    const Struct* found = nullptr;
    const absl::Time deadline = absl::Now() + kDelivered;
    while (found == nullptr && absl::Now() < deadline) {
      auto listed = ListAlerts(am->url, "");
      ASSERT_TRUE(listed.ok()) << listed.status();
      alerts = *listed;
      found = testing::FindAlert(alerts, "facility/tsmc-fab18");
      if (found == nullptr) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_NE(found, nullptr) << am->process->Log();
    EXPECT_EQ(alerts.size(), 1u);
    EXPECT_EQ(StringMap(*found, "labels"), want_labels);
    EXPECT_EQ(StringMap(*found, "annotations"), want_annotations);
    EXPECT_EQ(ParseRfc3339(Field(*found, "startsAt")),
              absl::FromUnixMillis(absl::ToUnixMillis(started)));
    const absl::Time ends = ParseRfc3339(Field(*found, "endsAt"));
    EXPECT_GT(ends, absl::Now() + absl::Minutes(3));  // now + 4 × 1 min.
    EXPECT_LT(ends, absl::Now() + absl::Minutes(5));
    EXPECT_EQ(Field(*found, "generatorURL"),
              "http://georisk.test/alerts?alert_id="
              "facility%2Ftsmc-fab18%7Crisk_band_high");
    auto status = found->fields().find("status");
    ASSERT_NE(status, found->fields().end());
    EXPECT_EQ(Field(status->second.struct_value(), "state"), "active");
  }

  alert.set_state(v1::Alert::RESOLVED);
  alert.set_score_after(55);
  alert.set_band_after(v1::BAND_MEDIUM);
  *alert.mutable_end_time() = base::ToProtoTime(absl::Now());
  (*notifier)->Update(alert);

  for (Alertmanager* am : replicas) {
    SCOPED_TRACE(am->url);
    bool gone = false;
    const absl::Time deadline = absl::Now() + kDelivered;
    while (!gone && absl::Now() < deadline) {
      auto active = ListAlerts(am->url, "?active=true");
      ASSERT_TRUE(active.ok()) << active.status();
      gone = testing::FindAlert(*active, "facility/tsmc-fab18") == nullptr;
      if (!gone) absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_TRUE(gone) << am->process->Log();
    // Resolved alerts are in no listing at all, not even with every filter
    // off.
    for (const char* query :
         {"", "?active=false&silenced=true&inhibited=true&unprocessed=true"}) {
      auto listed = ListAlerts(am->url, query);
      ASSERT_TRUE(listed.ok()) << listed.status();
      EXPECT_EQ(testing::FindAlert(*listed, "facility/tsmc-fab18"), nullptr)
          << query;
    }
  }

  (*notifier)->Stop();
  EXPECT_EQ((*notifier)->queue_length(), 0u);
  const std::string scrape = metrics.Render();
  for (const std::string& url : options.urls) {
    for (const char* outcome : {"http_error", "network_error"}) {
      EXPECT_NE(scrape.find(absl::StrCat("url=\"", url, "\",outcome=\"",
                                         outcome, "\"} 0\n")),
                std::string::npos)
          << scrape;
    }
  }
  EXPECT_NE(scrape.find("georisk_alertmanager_alerts_firing 0\n"),
            std::string::npos)
      << scrape;

  for (Alertmanager* am : replicas) {
    absl::StatusOr<int> code = am->process->Stop(SIGTERM, absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << am->process->Log();
  }
}

}  // namespace
}  // namespace georisk
