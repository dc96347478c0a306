// File: services/scorer/alertmanager/payload.h
//
// One scorer alert (a v1::Alert record) as Alertmanager's API v2 takes it: the
// JSON object of `POST /api/v2/alerts` with labels, annotations (summary,
// description), startsAt, endsAt and generatorURL. notifier.h describes each
// field; this file only builds the JSON.
//
//   const std::string labels = AlertLabelsJson(alert, {{"cluster", "eu"}});
//   AlertPayloadOptions options;
//   options.generator_url_base = "https://georisk.example.com";
//   const std::string json = AlertJson(alert, labels, absl::Now(), options);
//   // {"labels":{"alertname":...},"annotations":{...},"startsAt":...}

#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_PAYLOAD_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_PAYLOAD_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/alert.pb.h"

namespace georisk::scorer {

struct AlertPayloadOptions {
  // A FIRING alert's endsAt is now + 4 × resend_interval (so that
  // Alertmanager resolves it by itself if the scorer goes silent).
  absl::Duration resend_interval = absl::Minutes(1);
  // generatorURL is "<base>/alerts?alert_id=<percent-encoded id>"; empty: no
  // generatorURL.
  std::string generator_url_base;
};

// The labels of `alert` as a JSON object, in a fixed order: alertname,
// entity_id, entity_kind, country, factor, severity, then the `external`
// labels the alert does not set itself. Empty values are left out. Pure;
// thread-safe.
std::string AlertLabelsJson(const v1::Alert& alert,
                            const std::map<std::string, std::string>& external);

// The whole alert object, with `labels_json` (from AlertLabelsJson(), pinned
// by the caller) as its labels. `alert` must have start_time set, and
// end_time if it is RESOLVED; endsAt is never before startsAt. Pure;
// thread-safe.
std::string AlertJson(const v1::Alert& alert, absl::string_view labels_json,
                      absl::Time now, const AlertPayloadOptions& options);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_PAYLOAD_H_
