#include "tests/testing/alertmanager.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "services/scorer/alertmanager/http_client.h"

namespace georisk {
namespace testing {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// A minimal configuration: one receiver that notifies nobody.
constexpr char kConfig[] = R"(route:
  receiver: "null"
receivers:
  - name: "null"
)";

}  // namespace

absl::StatusOr<Alertmanager> StartAlertmanager(const std::string& name,
                                               absl::Duration ready) {
  const std::string dir = MakeTempDir(name);
  const std::string config = dir + "/alertmanager.yml";
  {
    std::ofstream out(config);
    out << kConfig;
  }
  scorer::HttpClient client;
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = PickFreePort();
    ProcessOptions options;
    options.binary = kAlertmanagerBinary;
    options.args = {"--config.file=" + config,
                    "--storage.path=" + dir + "/data",
                    absl::StrCat("--web.listen-address=127.0.0.1:", port),
                    "--cluster.listen-address=",  // No gossip.
                    "--log.level=info"};
    options.work_dir = dir;
    options.add_port_flags = false;
    auto process = ServiceProcess::Start(options);
    if (!process.ok()) return process.status();
    Alertmanager am{std::move(*process),
                    absl::StrCat("http://127.0.0.1:", port)};
    const absl::Time deadline = absl::Now() + ready;
    while (absl::Now() < deadline) {
      auto status = client.Get(am.url + "/api/v2/status", absl::Seconds(5));
      if (status.ok() && status->status == 200) return am;
      last =
          status.ok()
              ? absl::UnavailableError(absl::StrCat("status ", status->status))
              : status.status();
      if (am.process->Wait(absl::Milliseconds(50)).ok()) break;  // Exited.
    }
    last = absl::UnavailableError(absl::StrCat(name, " not ready on port ",
                                               port, ": ", last.ToString(),
                                               "\nlog:\n", am.process->Log()));
  }
  return last;
}

absl::StatusOr<std::vector<Struct>> ListAlerts(const std::string& url,
                                               const std::string& query) {
  auto response = scorer::HttpClient().Get(url + "/api/v2/alerts" + query,
                                           absl::Seconds(10));
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::InternalError(
        absl::StrCat("GET alerts: ", response->status, " ", response->body));
  }
  Value value;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(response->body, &value);
  if (!parsed.ok() || !value.has_list_value()) {
    return absl::DataLossError("not a JSON array: " + response->body);
  }
  std::vector<Struct> alerts;
  for (const Value& v : value.list_value().values()) {
    alerts.push_back(v.struct_value());
  }
  return alerts;
}

Labels StringMap(const Struct& alert, const std::string& name) {
  Labels out;
  auto it = alert.fields().find(name);
  if (it == alert.fields().end()) return out;
  for (const auto& [k, v] : it->second.struct_value().fields()) {
    out[k] = v.string_value();
  }
  return out;
}

std::string Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? "<missing>" : it->second.string_value();
}

const Struct* FindAlert(const std::vector<Struct>& alerts,
                        const std::string& entity_id,
                        const std::string& alertname) {
  for (const Struct& a : alerts) {
    Labels labels = StringMap(a, "labels");
    if (labels["entity_id"] == entity_id &&
        (alertname.empty() || labels["alertname"] == alertname)) {
      return &a;
    }
  }
  return nullptr;
}

}  // namespace testing
}  // namespace georisk
