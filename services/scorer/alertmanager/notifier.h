// File: services/scorer/alertmanager/notifier.h
//
// AlertmanagerNotifier keeps one or more Prometheus Alertmanager replicas
// told about the scorer's alerts, through Alertmanager's API v2
// (`POST /api/v2/alerts`, a JSON array of alerts).
//
//   AlertmanagerNotifierOptions options;
//   options.urls = {"http://alertmanager-0:9093", "http://am-1:9093"};
//   options.generator_url_base = "https://georisk.example.com";
//   auto notifier = AlertmanagerNotifier::Create(options, &registry);
//   if (!notifier.ok()) return notifier.status();
//   (*notifier)->Start();
//   ...
//   (*notifier)->Update(alert_record);  // For every FIRING/RESOLVED record.
//   ...
//   (*notifier)->Stop();                // Flushes pending resolutions.
//
// What Alertmanager receives, per alert (v1::Alert record):
//   labels       alertname (= rule_name), entity_id, entity_kind (company,
//                facility), country, factor (export_controls, tariffs,
//                cross_strait, composite), severity (info, warning,
//                critical), then the options' external labels where the alert
//                has no label of that name. Empty values are left out
//                (Alertmanager drops them anyway). The labels identify the
//                alert in Alertmanager, so they are fixed when an alert id
//                first fires: later FIRING records of the same id (whose
//                "factor that moved most" may differ) and its RESOLVED
//                record are sent with the same labels.
//   annotations  summary: "<entity name> (<entity id>): score 41.2 → 67.9
//                (high)"; description: the scores and bands before and
//                after, the factor that moved most, the reasons one per line,
//                the rule, graph sequence and model version.
//   startsAt     the record's start_time (RFC 3339, UTC, milliseconds).
//   endsAt       firing: the time of sending + 4 × resend_interval, so that
//                Alertmanager resolves the alert by itself if georisk goes
//                away; resolved: the record's end_time (the time of Update()
//                if it has none), never before startsAt.
//   generatorURL <generator_url_base>/alerts?alert_id=<percent-encoded id>;
//                left out when generator_url_base is empty.
//
// Delivery. Each URL has its own background thread and its own view of what
// it still has to receive, so a slow or dead replica never delays the
// others. A FIRING record is sent to every replica soon after Update(), and
// every firing alert is sent again every resend_interval while it fires. A
// RESOLVED record is sent once to every replica and the alert is forgotten.
// A request that fails (network error, timeout, or an HTTP status other than
// 2xx, 400 and 422) is retried with exponential backoff (retry_initial_backoff
// doubling up to retry_max_backoff) and nothing is lost meanwhile; 400 and
// 422 mean Alertmanager rejected the payload, which a retry would not fix:
// they are counted and logged, not retried. Requests carry at most
// max_alerts_per_request alerts; resolutions go before firing alerts.
//
// The backlog is coalesced by alert id, never truncated: what a replica still
// has to receive is kept per alert id, so a newer record of an alert replaces
// an older one not yet sent, and a resolution is never dropped. A replica's
// backlog is thus bounded by the alerts themselves (per alert id, its latest
// firing version and one resolution per label set), not by the number of
// records or how long the replica is down. Update() only takes a mutex held
// for map updates, never during network I/O: it never blocks on the network.
//
// Metrics (in the MetricsRegistry given to Create()):
//   georisk_alertmanager_requests_total{url,outcome}  counter; outcome is ok,
//       http_error (a non-2xx answer) or network_error (no answer).
//   georisk_alertmanager_alerts_firing  gauge: alerts currently firing.
//   georisk_alertmanager_queue_length  gauge: alert versions not yet
//       delivered, summed over the URLs (firing changes and resolutions).
//
// Time: `clock` stamps alerts and drives resend and retry schedules; tests
// inject a fake one. Background threads re-read it at least every
// `idle_wakeup`, so a fake clock's jumps take effect within that much real
// time. Stop()'s flush deadline is real time.

#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/alert.pb.h"
#include "services/common/metrics.h"
#include "services/scorer/alertmanager/http_client.h"
#include "services/scorer/alertmanager/notifier_options.h"
#include "services/scorer/alertmanager/payload.h"

namespace georisk::scorer {

// Thread-safe: Update(), Start() and Stop() may be called from any thread.
class AlertmanagerNotifier {
 public:
  // Validates `options` and registers the metrics in `metrics` (which must
  // outlive the notifier; nullptr: a private registry). Sends nothing until
  // Start(). Returns InvalidArgument, naming the option, for: no URL, a URL
  // ParseHttpUrl() refuses, tls/auth ValidateHttpClientOptions() refuses,
  // a non-positive duration, a
  // retry_max_backoff below retry_initial_backoff, a generator_url_base
  // that is not an absolute http(s) URL without query or fragment, an
  // invalid external label name, or max_alerts_per_request < 1.
  static absl::StatusOr<std::unique_ptr<AlertmanagerNotifier>> Create(
      AlertmanagerNotifierOptions options, common::MetricsRegistry* metrics);

  // Stop()s.
  ~AlertmanagerNotifier();
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  // Starts one delivery thread per URL. Records given to Update() before
  // Start() are delivered then. Idempotent; does nothing after Stop().
  void Start();

  // Takes one record of the alert log (copied; the caller keeps `alert`).
  // FIRING: the alert joins (or replaces its earlier version in) the set of
  // firing alerts and is sent soon. RESOLVED: the alert leaves that set and
  // its resolution is sent once. Records without an alert_id, or in state
  // STATE_UNSPECIFIED, are logged and ignored; so is every record after
  // Stop(). Never blocks on the network.
  void Update(const v1::Alert& alert);

  // Stops delivery: stops resending, then for up to stop_timeout tries to
  // deliver what is still pending (resolutions and not yet delivered firing
  // changes), then joins the threads. Returns within about
  // max(stop_timeout, request_timeout): a request in flight when Stop() is
  // called runs to its own deadline. If Start() was never called, nothing is
  // sent. Idempotent.
  void Stop();

  // The number of alerts currently firing.
  size_t firing_count() const;
  // Alert versions not yet delivered, summed over the URLs.
  size_t queue_length() const;

 private:
  // An alert as it is sent: its pinned labels and its latest record.
  struct Outgoing {
    std::shared_ptr<const std::string> labels_json;
    std::shared_ptr<const v1::Alert> record;
  };
  // What one URL still has to receive, and its schedule.
  struct TargetState {
    // Ids of firing alerts whose latest version it has not received.
    std::set<std::string> changed;
    // Resolutions it has not received, by labels (the Alertmanager
    // identity), so a second resolution of the same alert replaces the first.
    std::map<std::string, Outgoing> resolutions;
    // When the whole firing set is due again.
    absl::Time next_resend = absl::InfinitePast();
    // No request before this (backoff after a failure).
    absl::Time retry_at = absl::InfinitePast();
    absl::Duration backoff = absl::ZeroDuration();
  };
  // Immutable per-URL configuration.
  struct Target {
    std::string url;       // As configured: the metric label.
    std::string endpoint;  // The .../api/v2/alerts URL.
    common::Counter* ok;
    common::Counter* http_error;
    common::Counter* network_error;
  };
  // One round of sending for a target: resolutions first.
  struct Batch {
    std::vector<Outgoing> alerts;
    size_t num_resolutions = 0;
    bool full_resend = false;
    absl::Time collected_at;
  };

  AlertmanagerNotifier(AlertmanagerNotifierOptions options,
                       std::vector<Target> targets,
                       std::unique_ptr<common::MetricsRegistry> owned_metrics,
                       common::MetricsRegistry* metrics);

  // The delivery thread of targets_[target].
  void Run(size_t target);
  // When `state`'s next request is due: now or earlier if it has pending
  // changes or resolutions (and is not backing off, unless `ignore_backoff`),
  // the next resend if `resend` and alerts are firing, else InfiniteFuture.
  absl::Time DueAt(const TargetState& state, bool resend,
                   bool ignore_backoff) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Batch Collect(const TargetState& state, absl::Time now, bool resend) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // POSTs `batch` in chunks; returns how many alerts (a prefix of
  // batch.alerts) were delivered or rejected, and whether all were.
  size_t Deliver(const Target& target, const Batch& batch,
                 absl::Duration timeout, bool* all_delivered) const;
  // Records a delivery: drops what was delivered from `state`, and moves
  // the resend and retry schedules.
  void Settle(TargetState& state, const Batch& batch, size_t delivered,
              bool all_delivered, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AlertmanagerNotifierOptions options_;
  const AlertPayloadOptions payload_options_;
  const std::vector<Target> targets_;
  const std::unique_ptr<common::MetricsRegistry> owned_metrics_;
  common::Gauge& firing_gauge_;
  common::Gauge& queue_gauge_;
  const HttpClient client_;

  mutable absl::Mutex mu_;
  absl::CondVar wake_;  // Signalled on Update() and Stop().
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Real-time end of Stop()'s flush.
  absl::Time flush_deadline_ ABSL_GUARDED_BY(mu_);
  // Firing alerts by alert id.
  std::map<std::string, Outgoing> firing_ ABSL_GUARDED_BY(mu_);
  // One per target, same order.
  std::vector<TargetState> states_ ABSL_GUARDED_BY(mu_);
  // Serialises Start() and Stop().
  absl::Mutex lifecycle_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(lifecycle_mu_);
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_NOTIFIER_H_
