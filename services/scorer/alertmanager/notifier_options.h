// File: services/scorer/alertmanager/notifier_options.h
//
// AlertmanagerNotifierOptions, the configuration of AlertmanagerNotifier
// (notifier.h), and its validation.
//
//   AlertmanagerNotifierOptions options;
//   options.urls = {"https://alertmanager-0:9093"};
//   options.tls.ca_file = "/etc/georisk/alertmanager-ca.pem";
//   if (absl::Status s = ValidateAlertmanagerNotifierOptions(options);
//       !s.ok()) {
//     return s;  // InvalidArgument naming the option.
//   }

#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_OPTIONS_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_OPTIONS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/scorer/alertmanager/http_client.h"

namespace georisk::scorer {

struct AlertmanagerNotifierOptions {
  // One URL per Alertmanager replica; every alert goes to every one. Either
  // the base URL ("http://alertmanager-0.alertmanager:9093", or with the
  // path prefix of --web.route-prefix) to which "/api/v2/alerts" is
  // appended, or the full URL ending in "/api/v2/alerts". http:// or
  // https:// (see tls).
  // Required: at least one.
  std::vector<std::string> urls;
  // How often a firing alert is sent again. Alerts are sent with
  // endsAt = now + 4 × resend_interval. Default 1 minute.
  absl::Duration resend_interval = absl::Minutes(1);
  // Deadline of one POST, connect to last byte. Default 10 s.
  absl::Duration request_timeout = absl::Seconds(10);
  // Wait before the first retry after a failed request; doubles after each
  // further failure up to retry_max_backoff. Defaults 1 s and 1 minute.
  absl::Duration retry_initial_backoff = absl::Seconds(1);
  absl::Duration retry_max_backoff = absl::Minutes(1);
  // Absolute base URL of georisk's own UI or API, e.g.
  // "https://georisk.example.com"; each alert links to
  // "<base>/alerts?alert_id=<id>". Empty (the default): no generatorURL.
  std::string generator_url_base;
  // Labels added to every alert that has no label of the same name, e.g.
  // {"cluster", "prod-eu"}. Names must match [a-zA-Z_][a-zA-Z0-9_]*.
  std::map<std::string, std::string> external_labels;
  // Most alerts in one request. Default 64 (as Prometheus).
  int max_alerts_per_request = 64;
  // How long Stop() keeps trying to deliver pending resolutions and firing
  // changes (real time). Default 5 s.
  absl::Duration stop_timeout = absl::Seconds(5);
  // The longest a background thread sleeps without re-reading `clock`.
  // Default 1 s; tests with a fake clock use a few milliseconds.
  absl::Duration idle_wakeup = absl::Seconds(1);
  // TLS for `https://` URLs and credentials sent to every URL, as
  // Prometheus' own Alertmanager `http_config` has them (tls_config,
  // authorization, basic_auth). Defaults: the system's CA store, no client
  // certificate, no credentials.
  HttpTlsOptions tls;
  HttpAuthOptions auth;
  // The current time. Default (empty): absl::Now.
  std::function<absl::Time()> clock;
};

// Returns OK or InvalidArgument, naming the option
// ("AlertmanagerNotifierOptions.<option>: ..."), for: no URL, a URL
// ParseHttpUrl() refuses or with a query or fragment, tls/auth that
// ValidateHttpClientOptions() refuses, a non-positive or infinite duration, a
// retry_max_backoff below retry_initial_backoff, a negative stop_timeout, a
// generator_url_base that is not an absolute http(s) URL without query or
// fragment, an invalid external label name, or max_alerts_per_request < 1.
// Pure function; thread-safe.
absl::Status ValidateAlertmanagerNotifierOptions(
    const AlertmanagerNotifierOptions& options);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_OPTIONS_H_
