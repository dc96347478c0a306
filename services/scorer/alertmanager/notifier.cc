#include "services/scorer/alertmanager/notifier.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/proto_time.h"
#include "services/common/log.h"
#include "services/common/score_names.h"

namespace georisk::scorer {
namespace {

constexpr char kApiPath[] = "/api/v2/alerts";

// "http://am:9093" or "http://am:9093/prefix/" -> ".../api/v2/alerts"; a URL
// that already ends in it is kept.
std::string Endpoint(absl::string_view url) {
  if (absl::EndsWith(url, kApiPath)) return std::string(url);
  absl::ConsumeSuffix(&url, "/");
  return absl::StrCat(url, kApiPath);
}

// An absolute http(s) URL without query or fragment, for generatorURL.
HttpClientOptions ClientOptions(const AlertmanagerNotifierOptions& o) {
  HttpClientOptions options;
  options.max_body_bytes = 1024 * 1024;  // Alertmanager answers briefly.
  options.user_agent = "georisk-scorer";
  options.tls = o.tls;
  options.auth = o.auth;
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertmanagerNotifier>>
AlertmanagerNotifier::Create(AlertmanagerNotifierOptions options,
                             common::MetricsRegistry* metrics) {
  if (absl::Status s = ValidateAlertmanagerNotifierOptions(options); !s.ok()) {
    return s;
  }
  if (!options.clock) options.clock = [] { return absl::Now(); };
  while (absl::EndsWith(options.generator_url_base, "/")) {
    options.generator_url_base.pop_back();
  }
  std::unique_ptr<common::MetricsRegistry> owned;
  if (metrics == nullptr) {
    owned = std::make_unique<common::MetricsRegistry>();
    metrics = owned.get();
  }
  common::Family<common::Counter>& requests = metrics->AddCounter(
      "georisk_alertmanager_requests_total",
      "Requests to Alertmanager's POST /api/v2/alerts, by URL and outcome "
      "(ok, http_error: a non-2xx answer, network_error: no answer).",
      {"url", "outcome"});
  std::vector<Target> targets;
  for (const std::string& url : options.urls) {
    targets.push_back({url, Endpoint(url), &requests.WithLabels({url, "ok"}),
                       &requests.WithLabels({url, "http_error"}),
                       &requests.WithLabels({url, "network_error"})});
  }
  return std::unique_ptr<AlertmanagerNotifier>(new AlertmanagerNotifier(
      std::move(options), std::move(targets), std::move(owned), metrics));
}

AlertmanagerNotifier::AlertmanagerNotifier(
    AlertmanagerNotifierOptions options, std::vector<Target> targets,
    std::unique_ptr<common::MetricsRegistry> owned_metrics,
    common::MetricsRegistry* metrics)
    : options_(std::move(options)),
      payload_options_{options_.resend_interval, options_.generator_url_base},
      targets_(std::move(targets)),
      owned_metrics_(std::move(owned_metrics)),
      firing_gauge_(metrics
                        ->AddGauge("georisk_alertmanager_alerts_firing",
                                   "Alerts currently firing, as told to "
                                   "Alertmanager.")
                        .WithLabels({})),
      queue_gauge_(metrics
                       ->AddGauge("georisk_alertmanager_queue_length",
                                  "Alert versions not yet delivered to "
                                  "Alertmanager, summed over its URLs.")
                       .WithLabels({})),
      client_(ClientOptions(options_)),
      states_(targets_.size()) {}

AlertmanagerNotifier::~AlertmanagerNotifier() { Stop(); }

void AlertmanagerNotifier::Start() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  for (size_t i = 0; i < targets_.size(); ++i) {
    threads_.emplace_back([this, i] { Run(i); });
  }
}

void AlertmanagerNotifier::Stop() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      flush_deadline_ = absl::Now() + options_.stop_timeout;
      wake_.SignalAll();
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void AlertmanagerNotifier::Update(const v1::Alert& alert) {
  if (alert.alert_id().empty() || (alert.state() != v1::Alert::FIRING &&
                                   alert.state() != v1::Alert::RESOLVED)) {
    common::log::Warning(
        "alertmanager: ignoring an alert record without alert_id "
        "or state",
        {{"alert_id", alert.alert_id()},
         {"sequence", static_cast<int64_t>(alert.sequence())}});
    return;
  }
  // Copy and stamp outside the lock.
  const absl::Time now = options_.clock();
  auto record = std::make_shared<v1::Alert>(alert);
  if (!record->has_start_time()) {
    *record->mutable_start_time() = record->has_update_time()
                                        ? record->update_time()
                                        : base::ToProtoTime(now);
  }
  const bool resolved = record->state() == v1::Alert::RESOLVED;
  if (resolved && !record->has_end_time()) {
    *record->mutable_end_time() = base::ToProtoTime(now);
  }
  std::shared_ptr<const std::string> labels =
      std::make_shared<const std::string>(
          AlertLabelsJson(*record, options_.external_labels));
  const std::string& id = record->alert_id();

  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  auto firing = firing_.find(id);
  if (firing != firing_.end()) labels = firing->second.labels_json;  // Pinned.
  Outgoing outgoing{labels, std::move(record)};
  if (resolved) {
    if (firing != firing_.end()) firing_.erase(firing);
    for (TargetState& state : states_) {
      state.changed.erase(id);
      state.resolutions[*labels] = outgoing;
    }
  } else {
    firing_[id] = outgoing;
    for (TargetState& state : states_) state.changed.insert(id);
  }
  UpdateGauges();
  wake_.SignalAll();
}

size_t AlertmanagerNotifier::firing_count() const {
  absl::MutexLock lock(&mu_);
  return firing_.size();
}

size_t AlertmanagerNotifier::queue_length() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const TargetState& s : states_) {
    n += s.changed.size() + s.resolutions.size();
  }
  return n;
}

void AlertmanagerNotifier::UpdateGauges() {
  size_t queued = 0;
  for (const TargetState& s : states_) {
    queued += s.changed.size() + s.resolutions.size();
  }
  firing_gauge_.Set(static_cast<double>(firing_.size()));
  queue_gauge_.Set(static_cast<double>(queued));
}

absl::Time AlertmanagerNotifier::DueAt(const TargetState& state, bool resend,
                                       bool ignore_backoff) const {
  absl::Time due = absl::InfiniteFuture();
  if (!state.changed.empty() || !state.resolutions.empty()) {
    due = absl::InfinitePast();
  } else if (resend && !firing_.empty()) {
    due = state.next_resend;
  }
  if (!ignore_backoff && due != absl::InfiniteFuture()) {
    due = std::max(due, state.retry_at);
  }
  return due;
}

AlertmanagerNotifier::Batch AlertmanagerNotifier::Collect(
    const TargetState& state, absl::Time now, bool resend) const {
  Batch batch;
  batch.collected_at = now;
  for (const auto& [labels, outgoing] : state.resolutions) {
    batch.alerts.push_back(outgoing);
  }
  batch.num_resolutions = batch.alerts.size();
  batch.full_resend = resend && !firing_.empty() && now >= state.next_resend;
  if (batch.full_resend) {
    for (const auto& [id, outgoing] : firing_) batch.alerts.push_back(outgoing);
  } else {
    for (const std::string& id : state.changed) {
      auto it = firing_.find(id);
      if (it != firing_.end()) batch.alerts.push_back(it->second);
    }
  }
  return batch;
}

size_t AlertmanagerNotifier::Deliver(const Target& target, const Batch& batch,
                                     absl::Duration timeout,
                                     bool* all_delivered) const {
  const absl::Time now = options_.clock();
  const size_t per_request =
      static_cast<size_t>(options_.max_alerts_per_request);
  size_t done = 0;
  *all_delivered = false;
  while (done < batch.alerts.size()) {
    const size_t n = std::min(per_request, batch.alerts.size() - done);
    std::string body = "[";
    for (size_t k = done; k < done + n; ++k) {
      if (k > done) body.push_back(',');
      absl::StrAppend(&body, AlertJson(*batch.alerts[k].record,
                                       *batch.alerts[k].labels_json, now,
                                       payload_options_));
    }
    body.push_back(']');
    absl::StatusOr<HttpClientResponse> response =
        client_.Post(target.endpoint, "application/json", body, timeout);
    if (!response.ok()) {
      target.network_error->Increment();
      common::log::Warning(
          "alertmanager: delivery failed; will retry",
          {{"url", target.url}, {"error", response.status().ToString()}});
      return done;
    }
    if (response->status / 100 == 2) {
      target.ok->Increment();
      done += n;
      continue;
    }
    target.http_error->Increment();
    const std::string answer = response->body.substr(0, 512);
    if (response->status == 400 || response->status == 422) {
      // Alertmanager refused (part of) the payload: a retry would not help.
      // Valid alerts of the request were still taken.
      common::log::Error("alertmanager: alerts rejected; not retrying",
                         {{"url", target.url},
                          {"status", response->status},
                          {"answer", answer}});
      done += n;
      continue;
    }
    common::log::Warning("alertmanager: delivery failed; will retry",
                         {{"url", target.url},
                          {"status", response->status},
                          {"answer", answer}});
    return done;
  }
  *all_delivered = true;
  return done;
}

void AlertmanagerNotifier::Settle(TargetState& state, const Batch& batch,
                                  size_t delivered, bool all_delivered,
                                  absl::Time now) {
  for (size_t k = 0; k < delivered; ++k) {
    const Outgoing& sent = batch.alerts[k];
    if (k < batch.num_resolutions) {
      auto it = state.resolutions.find(*sent.labels_json);
      if (it != state.resolutions.end() && it->second.record == sent.record) {
        state.resolutions.erase(it);
      }
    } else {
      const std::string& id = sent.record->alert_id();
      auto it = firing_.find(id);
      if (it != firing_.end() && it->second.record == sent.record) {
        state.changed.erase(id);
      }
    }
  }
  if (all_delivered) {
    if (batch.full_resend) {
      state.next_resend = batch.collected_at + options_.resend_interval;
    }
    state.backoff = absl::ZeroDuration();
    state.retry_at = absl::InfinitePast();
  } else {
    state.backoff =
        state.backoff == absl::ZeroDuration()
            ? options_.retry_initial_backoff
            : std::min(2 * state.backoff, options_.retry_max_backoff);
    state.retry_at = now + state.backoff;
  }
  UpdateGauges();
}

void AlertmanagerNotifier::Run(size_t i) {
  const Target& target = targets_[i];
  absl::MutexLock lock(&mu_);
  TargetState& state = states_[i];  // states_ never changes size.
  while (!stopping_) {
    const absl::Time now = options_.clock();
    const absl::Time due = DueAt(state, /*resend=*/true,
                                 /*ignore_backoff=*/false);
    if (now < due) {
      // Re-read the clock at least every idle_wakeup (it may be a fake).
      wake_.WaitWithTimeout(
          &mu_, std::max(absl::Milliseconds(1),
                         std::min(options_.idle_wakeup, due - now)));
      continue;
    }
    const Batch batch = Collect(state, now, /*resend=*/true);
    const bool was_failing = state.backoff > absl::ZeroDuration();
    bool all_delivered = false;
    mu_.Unlock();
    const size_t delivered =
        Deliver(target, batch, options_.request_timeout, &all_delivered);
    mu_.Lock();
    Settle(state, batch, delivered, all_delivered, options_.clock());
    if (was_failing && all_delivered) {
      common::log::Info("alertmanager: delivering again",
                        {{"url", target.url}});
    }
  }
  // Stopping: deliver what is pending, within the flush deadline.
  while (true) {
    const absl::Duration left = flush_deadline_ - absl::Now();
    if (left <= absl::ZeroDuration() ||
        DueAt(state, /*resend=*/false, /*ignore_backoff=*/true) ==
            absl::InfiniteFuture()) {
      break;
    }
    const Batch batch = Collect(state, options_.clock(), /*resend=*/false);
    bool all_delivered = false;
    mu_.Unlock();
    const size_t delivered =
        Deliver(target, batch, std::min(options_.request_timeout, left),
                &all_delivered);
    mu_.Lock();
    Settle(state, batch, delivered, all_delivered, options_.clock());
    if (!all_delivered) {
      const absl::Duration pause = std::min(options_.retry_initial_backoff,
                                            flush_deadline_ - absl::Now());
      if (pause > absl::ZeroDuration()) wake_.WaitWithTimeout(&mu_, pause);
    }
  }
  if (DueAt(state, false, true) != absl::InfiniteFuture()) {
    common::log::Warning(
        "alertmanager: stopped with undelivered alerts",
        {{"url", target.url},
         {"pending", static_cast<uint64_t>(state.changed.size() +
                                           state.resolutions.size())}});
  }
}

}  // namespace georisk::scorer
