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
#include "services/common/log.h"
#include "base/proto_time.h"
#include "services/common/score_names.h"

namespace georisk::scorer {
namespace {

constexpr char kApiPath[] = "/api/v2/alerts";

absl::Status InvalidOption(absl::string_view option, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("AlertmanagerNotifierOptions.", option, ": ", why));
}

bool IsLabelName(absl::string_view name) {
  if (name.empty() ||
      absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// "http://am:9093" or "http://am:9093/prefix/" -> ".../api/v2/alerts"; a URL
// that already ends in it is kept.
std::string Endpoint(absl::string_view url) {
  if (absl::EndsWith(url, kApiPath)) return std::string(url);
  absl::ConsumeSuffix(&url, "/");
  return absl::StrCat(url, kApiPath);
}

// An absolute http(s) URL without query or fragment, for generatorURL.
absl::Status CheckGeneratorBase(absl::string_view base) {
  for (char c : base) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidOption("generator_url_base",
                           "whitespace, control or non-ASCII characters");
    }
  }
  absl::string_view rest = base;
  if (!absl::ConsumePrefix(&rest, "http://") &&
      !absl::ConsumePrefix(&rest, "https://") &&
      !absl::ConsumePrefix(&rest, "HTTP://") &&
      !absl::ConsumePrefix(&rest, "HTTPS://")) {
    return InvalidOption(
        "generator_url_base",
        absl::StrCat("\"", base, "\" is not an absolute http(s) URL"));
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') {
    return InvalidOption("generator_url_base",
                         absl::StrCat("\"", base, "\" has no host"));
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return InvalidOption(
        "generator_url_base",
        absl::StrCat("\"", base, "\" must not have a query or fragment"));
  }
  return absl::OkStatus();
}

absl::Status Validate(const AlertmanagerNotifierOptions& o) {
  if (o.urls.empty()) return InvalidOption("urls", "at least one is required");
  for (size_t i = 0; i < o.urls.size(); ++i) {
    const std::string name = absl::StrCat("urls[", i, "]");
    absl::StatusOr<HttpUrl> url = ParseHttpUrl(o.urls[i]);
    if (!url.ok()) return InvalidOption(name, url.status().message());
    if (o.urls[i].find_first_of("?#") != std::string::npos) {
      return InvalidOption(name, absl::StrCat("\"", o.urls[i],
                                              "\" must not have a query or "
                                              "fragment"));
    }
  }
  const std::pair<const char*, absl::Duration> positive[] = {
      {"resend_interval", o.resend_interval},
      {"request_timeout", o.request_timeout},
      {"retry_initial_backoff", o.retry_initial_backoff},
      {"retry_max_backoff", o.retry_max_backoff},
      {"idle_wakeup", o.idle_wakeup},
  };
  for (const auto& [name, d] : positive) {
    if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
      return InvalidOption(name,
                           absl::StrCat("must be positive and finite, not ",
                                        absl::FormatDuration(d)));
    }
  }
  if (o.retry_max_backoff < o.retry_initial_backoff) {
    return InvalidOption("retry_max_backoff",
                         "must not be below retry_initial_backoff");
  }
  if (o.stop_timeout < absl::ZeroDuration() ||
      o.stop_timeout == absl::InfiniteDuration()) {
    return InvalidOption("stop_timeout", "must be >= 0 and finite");
  }
  if (!o.generator_url_base.empty()) {
    if (absl::Status s = CheckGeneratorBase(o.generator_url_base); !s.ok()) {
      return s;
    }
  }
  for (const auto& [name, value] : o.external_labels) {
    if (!IsLabelName(name) || absl::StartsWith(name, "__")) {
      return InvalidOption(
          "external_labels",
          absl::StrCat("\"", name,
                       "\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not "
                       "starting with __)"));
    }
  }
  if (o.max_alerts_per_request < 1) {
    return InvalidOption("max_alerts_per_request", "must be at least 1");
  }
  HttpClientOptions http;
  http.tls = o.tls;
  http.auth = o.auth;
  if (absl::Status s = ValidateHttpClientOptions(http); !s.ok()) {
    return InvalidOption("tls/auth", s.message());
  }
  return absl::OkStatus();
}

const char* KindName(v1::Entity::Kind kind) {
  switch (kind) {
    case v1::Entity::COMPANY:
      return "company";
    case v1::Entity::FACILITY:
      return "facility";
    default:
      return "";
  }
}

const char* SeverityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_INFO:
      return "info";
    case v1::SEVERITY_WARNING:
      return "warning";
    case v1::SEVERITY_CRITICAL:
      return "critical";
    default:
      return "";
  }
}

std::string Quoted(absl::string_view s) {
  return absl::StrCat("\"", common::log::JsonEscape(s), "\"");
}

// The labels of `alert` as a JSON object, in a fixed order.
std::string LabelsJson(const v1::Alert& alert,
                       const std::map<std::string, std::string>& external) {
  const std::pair<absl::string_view, absl::string_view> own[] = {
      {"alertname", alert.rule_name()},
      {"entity_id", alert.entity_id()},
      {"entity_kind", KindName(alert.entity_kind())},
      {"country", alert.country()},
      {"factor", common::FactorName(alert.factor())},
      {"severity", SeverityName(alert.severity())},
  };
  std::vector<std::string> fields;
  for (const auto& [name, value] : own) {
    if (!value.empty())
      fields.push_back(absl::StrCat(Quoted(name), ":", Quoted(value)));
  }
  for (const auto& [name, value] : external) {
    bool taken = false;
    for (const auto& o : own)
      taken = taken || (o.first == name && !o.second.empty());
    if (!taken && !value.empty()) {
      fields.push_back(absl::StrCat(Quoted(name), ":", Quoted(value)));
    }
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

std::string Score(double score) { return absl::StrFormat("%.1f", score); }

// "Samsung Xi'an (facility/samsung-xian): score 41.2 → 67.9 (high)".
std::string Summary(const v1::Alert& a) {
  std::string who =
      a.entity_name().empty()
          ? a.entity_id()
          : absl::StrCat(a.entity_name(), " (", a.entity_id(), ")");
  const std::string band(common::BandName(a.band_after()));
  return absl::StrCat(who, ": score ", Score(a.score_before()), " \u2192 ",
                      Score(a.score_after()),
                      band.empty() ? "" : absl::StrCat(" (", band, ")"));
}

std::string Description(const v1::Alert& a) {
  std::vector<std::string> lines;
  std::string line = absl::StrCat("Score ", Score(a.score_before()), " \u2192 ",
                                  Score(a.score_after()));
  const std::string before(common::BandName(a.band_before()));
  const std::string after(common::BandName(a.band_after()));
  if (!before.empty() || !after.empty()) {
    absl::StrAppend(&line, "; band ", before.empty() ? "none" : before,
                    " \u2192 ", after.empty() ? "none" : after);
  }
  lines.push_back(absl::StrCat(line, "."));
  lines.push_back(
      absl::StrCat("Factor that moved most: ", common::FactorName(a.factor()), "."));
  if (a.reasons_size() > 0) {
    lines.push_back("Reasons:");
    for (const std::string& reason : a.reasons()) {
      lines.push_back(absl::StrCat("- ", reason));
    }
  }
  std::string provenance = absl::StrCat("Rule ", a.rule_name());
  if (a.graph_sequence() != 0) {
    absl::StrAppend(&provenance, ", graph sequence ", a.graph_sequence());
  }
  if (!a.model_version().empty()) {
    absl::StrAppend(&provenance, ", model ", a.model_version());
  }
  lines.push_back(absl::StrCat(provenance, "."));
  return absl::StrJoin(lines, "\n");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", u);
    }
  }
  return out;
}

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
  if (absl::Status s = Validate(options); !s.ok()) return s;
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
    std::unique_ptr<common::MetricsRegistry> owned_metrics, common::MetricsRegistry* metrics)
    : options_(std::move(options)),
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
    *record->mutable_start_time() =
        record->has_update_time() ? record->update_time() : base::ToProtoTime(now);
  }
  const bool resolved = record->state() == v1::Alert::RESOLVED;
  if (resolved && !record->has_end_time()) {
    *record->mutable_end_time() = base::ToProtoTime(now);
  }
  std::shared_ptr<const std::string> labels =
      std::make_shared<const std::string>(
          LabelsJson(*record, options_.external_labels));
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

std::string AlertmanagerNotifier::AlertJson(const Outgoing& alert,
                                            absl::Time now) const {
  const v1::Alert& a = *alert.record;
  const absl::Time starts = base::FromProtoTime(a.start_time());
  const absl::Time ends =
      std::max(starts, a.state() == v1::Alert::RESOLVED
                           ? base::FromProtoTime(a.end_time())
                           : now + 4 * options_.resend_interval);
  std::string json =
      absl::StrCat("{\"labels\":", *alert.labels_json,
                   ",\"annotations\":{\"summary\":", Quoted(Summary(a)),
                   ",\"description\":", Quoted(Description(a)),
                   "},\"startsAt\":", Quoted(Rfc3339(starts)),
                   ",\"endsAt\":", Quoted(Rfc3339(ends)));
  if (!options_.generator_url_base.empty()) {
    absl::StrAppend(
        &json, ",\"generatorURL\":",
        Quoted(absl::StrCat(options_.generator_url_base,
                            "/alerts?alert_id=", PercentEncode(a.alert_id()))));
  }
  json.push_back('}');
  return json;
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
      absl::StrAppend(&body, AlertJson(batch.alerts[k], now));
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
      common::log::Info("alertmanager: delivering again", {{"url", target.url}});
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
