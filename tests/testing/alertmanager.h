// File: tests/testing/alertmanager.h
//
// A real Prometheus Alertmanager (Debian's prometheus-alertmanager 0.25) for
// multi-process tests: started on a free loopback port with its own data
// directory, a config that notifies nobody, and gossip off; and a reader of
// its API v2 alert list.
//
//   auto am = StartAlertmanager("alertmanager-0");
//   ASSERT_TRUE(am.ok()) << am.status();
//   auto alerts = ListAlerts(am->url, "?active=true");
//   const Struct* a = FindAlert(*alerts, "facility/x");
//   Labels labels = StringMap(*a, "labels");
#ifndef GEORISK_TESTS_TESTING_ALERTMANAGER_H_
#define GEORISK_TESTS_TESTING_ALERTMANAGER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "tests/testing/process.h"

namespace georisk {
namespace testing {

inline constexpr char kAlertmanagerBinary[] =
    "/usr/bin/prometheus-alertmanager";

struct Alertmanager {
  std::unique_ptr<ServiceProcess> process;
  std::string url;  // http://127.0.0.1:<port>
};

using Labels = std::map<std::string, std::string>;

// Starts an Alertmanager on a free port and waits (up to `ready`) until its
// API answers. A start that loses its port to someone else is retried.
absl::StatusOr<Alertmanager> StartAlertmanager(
    const std::string& name, absl::Duration ready = absl::Seconds(60));

// GET <url>/api/v2/alerts<query>, each alert as a JSON object.
absl::StatusOr<std::vector<google::protobuf::Struct>> ListAlerts(
    const std::string& url, const std::string& query);

// The string map `name` ("labels", "annotations") of an alert.
Labels StringMap(const google::protobuf::Struct& alert,
                 const std::string& name);
// A string field of an alert ("startsAt"), or "<missing>".
std::string Field(const google::protobuf::Struct& s, const std::string& name);
// The alert whose entity_id label is `entity_id` (and, if not empty, whose
// alertname is `alertname`), or nullptr.
const google::protobuf::Struct* FindAlert(
    const std::vector<google::protobuf::Struct>& alerts,
    const std::string& entity_id, const std::string& alertname = "");

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_ALERTMANAGER_H_
