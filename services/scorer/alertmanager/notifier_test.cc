#include "services/scorer/alertmanager/notifier.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/scorer/alertmanager/fake_http_server.h"

namespace georisk::scorer {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Labels = std::map<std::string, std::string>;

// Generous real-time bound for anything the test waits for.
constexpr absl::Duration kWait = absl::Seconds(30);
const absl::Time kStart = absl::FromUnixSeconds(1795000000);  // 2026-11-17.

// A clock the test moves. Counts reads, so the test can tell that the
// notifier's threads have looked at the time since some point.
class FakeClock {
 public:
  absl::Time Now() {
    calls_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // The time, without counting a read.
  absl::Time Peek() {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  int64_t calls() const { return calls_.load(); }
  // Waits until Now() was called at least `n` times in total.
  bool WaitForCalls(int64_t n) const {
    const absl::Time deadline = absl::Now() + kWait;
    while (calls_.load() < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = kStart;
  std::atomic<int64_t> calls_{0};
};

// A fake Alertmanager: records POSTs, answers with a settable status, and can
// hang until released.
class Endpoint {
 public:
  explicit Endpoint(FakeClock* clock) : clock_(clock) {
    auto server = FakeHttpServer::Start([this](const FakeHttpRequest&) {
      if (hang_.load()) release_.WaitForNotification();
      {
        absl::MutexLock lock(&mu_);
        clock_calls_at_answer_.push_back(clock_->calls());
      }
      const int status = status_.load();
      return FakeHttpServer::Response(status, status == 200 ? "" : "\"no\"");
    });
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  ~Endpoint() {
    Release();
    server_->Stop();
  }

  std::string url() const { return server_->Url(); }
  void set_status(int status) { status_.store(status); }
  void Hang() { hang_.store(true); }
  void Release() {
    hang_.store(false);
    if (!release_.HasBeenNotified()) release_.Notify();
  }

  std::vector<FakeHttpRequest> requests() const { return server_->requests(); }
  size_t count() const { return requests().size(); }
  bool Wait(size_t n) const { return server_->WaitForRequests(n, kWait); }

  // Waits for the n-th request and, with one URL and no concurrent Update(),
  // until its sender has recorded the outcome and re-read the clock: after
  // that, moving the clock cannot race with the sender's bookkeeping.
  void AwaitSettled(size_t n) const {
    ASSERT_TRUE(server_->WaitForRequests(n, kWait)) << "request " << n;
    ASSERT_EQ(count(), n) << "more requests than expected";
    int64_t mark = 0;
    {
      absl::MutexLock lock(&mu_);
      auto answered = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return clock_calls_at_answer_.size() >= n;
      };
      ASSERT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&answered), kWait));
      mark = clock_calls_at_answer_[n - 1];
    }
    // Settle() reads the clock once, the loop once more.
    ASSERT_TRUE(clock_->WaitForCalls(mark + 2));
  }

 private:
  FakeClock* const clock_;
  std::unique_ptr<FakeHttpServer> server_;
  std::atomic<int> status_{200};
  std::atomic<bool> hang_{false};
  absl::Notification release_;
  mutable absl::Mutex mu_;
  // Per request: the clock's read count when its answer was made.
  std::vector<int64_t> clock_calls_at_answer_ ABSL_GUARDED_BY(mu_);
};

// The alerts of one request, parsed back.
std::vector<Struct> Alerts(const FakeHttpRequest& request) {
  Value value;
  auto status =
      google::protobuf::util::JsonStringToMessage(request.body, &value);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << request.body;
  EXPECT_TRUE(value.has_list_value()) << request.body;
  std::vector<Struct> alerts;
  for (const Value& v : value.list_value().values()) {
    EXPECT_TRUE(v.has_struct_value()) << request.body;
    alerts.push_back(v.struct_value());
  }
  return alerts;
}

std::string Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? "<missing>" : it->second.string_value();
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

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

v1::Alert Firing(const std::string& entity, const std::string& rule) {
  v1::Alert a;
  a.set_sequence(7);
  a.set_alert_id(absl::StrCat(entity, "|", rule));
  a.set_entity_id(entity);
  a.set_entity_name("Samsung \"Xi'an\" 三星");
  a.set_entity_kind(v1::Entity::FACILITY);
  a.set_country("CN");
  a.set_rule_name(rule);
  a.set_state(v1::Alert::FIRING);
  a.set_severity(v1::SEVERITY_WARNING);
  a.set_factor(v1::FACTOR_EXPORT_CONTROLS);
  a.set_score_before(41.23);
  a.set_score_after(67.94);
  a.set_band_before(v1::BAND_MEDIUM);
  a.set_band_after(v1::BAND_HIGH);
  a.add_reasons("Export controls on tool imports (weight 0.4)");
  a.add_reasons("Supplier \\ line\nbreak\ttab");
  a.set_graph_sequence(1234);
  a.set_model_version("v3");
  *a.mutable_start_time() = base::ToProtoTime(kStart - absl::Minutes(5));
  *a.mutable_update_time() = base::ToProtoTime(kStart - absl::Minutes(5));
  return a;
}

v1::Alert Resolved(v1::Alert a) {
  a.set_state(v1::Alert::RESOLVED);
  return a;
}

class NotifierTest : public ::testing::Test {
 protected:
  AlertmanagerNotifierOptions Options(std::vector<std::string> urls) {
    AlertmanagerNotifierOptions o;
    o.urls = std::move(urls);
    o.resend_interval = absl::Minutes(1);
    o.request_timeout = absl::Seconds(20);
    o.retry_initial_backoff = absl::Seconds(10);
    o.retry_max_backoff = absl::Seconds(40);
    o.generator_url_base = "http://georisk.test/ui/";
    o.external_labels = {{"cluster", "test"}, {"country", "ignored"}};
    o.idle_wakeup = absl::Milliseconds(2);
    o.clock = [this] { return clock_.Now(); };
    return o;
  }

  std::unique_ptr<AlertmanagerNotifier> Make(AlertmanagerNotifierOptions o) {
    auto n = AlertmanagerNotifier::Create(std::move(o), &metrics_);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? std::move(*n) : nullptr;
  }

  double Requests(const std::string& url, const std::string& outcome) {
    return metrics_
        .AddCounter("georisk_alertmanager_requests_total",
                    "Requests to Alertmanager's POST /api/v2/alerts, by URL "
                    "and outcome (ok, http_error: a non-2xx answer, "
                    "network_error: no answer).",
                    {"url", "outcome"})
        .WithLabels({url, outcome})
        .Value();
  }

  // Lets the sender look at the clock a few times: afterwards, a request it
  // would have sent by now has been sent.
  void LetSenderLook() { ASSERT_TRUE(clock_.WaitForCalls(clock_.calls() + 3)); }

  // Moves the clock by `step` until `done()`, for waits whose exact fake
  // time does not matter.
  bool AdvanceUntil(const std::function<bool()>& done, absl::Duration step) {
    const absl::Time deadline = absl::Now() + kWait;
    while (!done()) {
      if (absl::Now() > deadline) return false;
      clock_.Advance(step);
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  // Waits in real time, without moving the fake clock, until `done()`.
  static bool WaitUntil(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + kWait;
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  FakeClock clock_;
  common::MetricsRegistry metrics_;
};

TEST_F(NotifierTest, PostsTheAlertmanagerV2Payload) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/samsung-xian", "risk_band_high"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));

  const FakeHttpRequest request = am.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/v2/alerts");
  EXPECT_THAT(request.head, HasSubstr("\r\nContent-Type: application/json"));
  std::vector<Struct> alerts = Alerts(request);
  ASSERT_EQ(alerts.size(), 1u);
  const Struct& a = alerts[0];
  EXPECT_EQ(StringMap(a, "labels"),
            (Labels{{"alertname", "risk_band_high"},
                    {"entity_id", "facility/samsung-xian"},
                    {"entity_kind", "facility"},
                    {"country", "CN"},
                    {"factor", "export_controls"},
                    {"severity", "warning"},
                    {"cluster", "test"}}));
  Labels annotations = StringMap(a, "annotations");
  EXPECT_EQ(annotations.size(), 2u);
  EXPECT_EQ(annotations["summary"],
            "Samsung \"Xi'an\" 三星 (facility/samsung-xian): score 41.2 → 67.9 "
            "(high)");
  EXPECT_EQ(annotations["description"],
            "Score 41.2 → 67.9; band medium → high.\n"
            "Factor that moved most: export_controls.\n"
            "Reasons:\n"
            "- Export controls on tool imports (weight 0.4)\n"
            "- Supplier \\ line\nbreak\ttab\n"
            "Rule risk_band_high, graph sequence 1234, model v3.");
  EXPECT_EQ(Field(a, "startsAt"), Rfc3339(kStart - absl::Minutes(5)));
  EXPECT_EQ(Field(a, "endsAt"), Rfc3339(kStart + absl::Minutes(4)));
  EXPECT_EQ(Field(a, "generatorURL"),
            "http://georisk.test/ui/alerts?alert_id="
            "facility%2Fsamsung-xian%7Crisk_band_high");
  EXPECT_EQ(a.fields().size(), 5u);

  EXPECT_EQ(notifier->firing_count(), 1u);
  EXPECT_EQ(notifier->queue_length(), 0u);
  EXPECT_EQ(Requests(am.url(), "ok"), 1);
  EXPECT_TRUE(metrics_.Validate().ok()) << metrics_.Validate();
  const std::string scrape = metrics_.Render();
  EXPECT_THAT(scrape, HasSubstr("georisk_alertmanager_alerts_firing 1\n"));
  EXPECT_THAT(scrape, HasSubstr("georisk_alertmanager_queue_length 0\n"));
  EXPECT_THAT(scrape, HasSubstr(absl::StrCat(
                          "georisk_alertmanager_requests_total{url=\"",
                          am.url(), "\",outcome=\"ok\"} 1\n")));
}

TEST_F(NotifierTest, MinimalRecordAndNoGeneratorBase) {
  Endpoint am(&clock_);
  AlertmanagerNotifierOptions o = Options({am.url() + "/"});
  o.generator_url_base.clear();
  o.external_labels.clear();
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  v1::Alert a;
  a.set_alert_id("company/x|jump");
  a.set_entity_id("company/x");
  a.set_rule_name("jump");
  a.set_state(v1::Alert::FIRING);
  notifier->Update(a);
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));
  EXPECT_EQ(am.requests()[0].target, "/api/v2/alerts");
  std::vector<Struct> alerts = Alerts(am.requests()[0]);
  ASSERT_EQ(alerts.size(), 1u);
  // Empty values are left out; an unset factor is the composite.
  EXPECT_EQ(StringMap(alerts[0], "labels"), (Labels{{"alertname", "jump"},
                                                    {"entity_id", "company/x"},
                                                    {"factor", "composite"}}));
  EXPECT_EQ(StringMap(alerts[0], "annotations")["summary"],
            "company/x: score 0.0 → 0.0");
  // No start time in the record: the time of Update().
  EXPECT_EQ(Field(alerts[0], "startsAt"), Rfc3339(kStart));
  EXPECT_EQ(alerts[0].fields().count("generatorURL"), 0u);
}

TEST_F(NotifierTest, ResendsWhileFiring) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));

  clock_.Advance(absl::Seconds(59));
  ASSERT_NO_FATAL_FAILURE(LetSenderLook());
  EXPECT_EQ(am.count(), 1u);

  clock_.Advance(absl::Seconds(1));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(2));
  std::vector<Struct> alerts = Alerts(am.requests()[1]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Field(alerts[0], "endsAt"),
            Rfc3339(kStart + absl::Minutes(1) + absl::Minutes(4)));

  // A second alert is sent alone at once; the next resend carries both.
  clock_.Advance(absl::Seconds(30));
  notifier->Update(Firing("facility/b", "r"));
  ASSERT_TRUE(am.Wait(3));
  EXPECT_EQ(Alerts(am.requests()[2]).size(), 1u);
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(am.Wait(4));
  EXPECT_EQ(Alerts(am.requests()[3]).size(), 2u);
}

TEST_F(NotifierTest, ResolutionIsSentOnceWithEndsAtNow) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));

  clock_.Advance(absl::Seconds(10));
  notifier->Update(Resolved(Firing("facility/a", "r")));  // No end_time.
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(2));
  std::vector<Struct> alerts = Alerts(am.requests()[1]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Field(alerts[0], "startsAt"), Rfc3339(kStart - absl::Minutes(5)));
  EXPECT_EQ(Field(alerts[0], "endsAt"), Rfc3339(kStart + absl::Seconds(10)));
  EXPECT_EQ(StringMap(alerts[0], "labels")["alertname"], "r");
  EXPECT_EQ(notifier->firing_count(), 0u);
  EXPECT_EQ(notifier->queue_length(), 0u);

  // Sent once: not again, however long the clock runs.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Minutes(1));
    ASSERT_NO_FATAL_FAILURE(LetSenderLook());
  }
  EXPECT_EQ(am.count(), 2u);
}

TEST_F(NotifierTest, LabelsArePinnedAtFirstFireAndEndTimeIsKept) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));

  v1::Alert update = Firing("facility/a", "r");
  update.set_factor(v1::FACTOR_TARIFFS);  // Another factor moved most.
  update.set_score_after(81);
  notifier->Update(update);
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(2));
  std::vector<Struct> alerts = Alerts(am.requests()[1]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(StringMap(alerts[0], "labels")["factor"], "export_controls");
  EXPECT_THAT(StringMap(alerts[0], "annotations")["summary"],
              HasSubstr("41.2 → 81.0"));
  EXPECT_THAT(StringMap(alerts[0], "annotations")["description"],
              HasSubstr("Factor that moved most: tariffs."));

  v1::Alert resolved = Resolved(update);
  *resolved.mutable_end_time() = base::ToProtoTime(kStart - absl::Seconds(3));
  notifier->Update(resolved);
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(3));
  alerts = Alerts(am.requests()[2]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(StringMap(alerts[0], "labels")["factor"], "export_controls");
  EXPECT_EQ(Field(alerts[0], "endsAt"), Rfc3339(kStart - absl::Seconds(3)));
}

TEST_F(NotifierTest, RetriesWithExponentialBackoffUntilTheEndpointComesBack) {
  Endpoint am(&clock_);
  am.set_status(503);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));
  EXPECT_EQ(Requests(am.url(), "http_error"), 1);

  // Backoff 10 s, then 20 s, then 40 s (the maximum), then 40 s again.
  int requests = 1;
  for (absl::Duration backoff : {absl::Seconds(10), absl::Seconds(20),
                                 absl::Seconds(40), absl::Seconds(40)}) {
    clock_.Advance(backoff - absl::Seconds(1));
    ASSERT_NO_FATAL_FAILURE(LetSenderLook());
    EXPECT_EQ(am.count(), static_cast<size_t>(requests)) << backoff;
    clock_.Advance(absl::Seconds(1));
    ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(++requests));
  }
  EXPECT_EQ(Requests(am.url(), "http_error"), 5);

  // A resolution waits too, and the queue holds both versions of the alert:
  // the firing one is replaced, not queued twice.
  notifier->Update(Firing("facility/b", "r"));
  notifier->Update(Resolved(Firing("facility/b", "r")));
  EXPECT_EQ(notifier->queue_length(), 2u);  // facility/a firing, b resolved.

  am.set_status(200);
  clock_.Advance(absl::Seconds(40));
  ASSERT_TRUE(am.Wait(6));
  std::vector<Struct> alerts = Alerts(am.requests()[5]);
  ASSERT_EQ(alerts.size(), 2u);
  // Resolutions first.
  EXPECT_EQ(StringMap(alerts[0], "labels")["entity_id"], "facility/b");
  EXPECT_EQ(Field(alerts[0], "endsAt"),
            Rfc3339(clock_.Peek() - absl::Seconds(40)));
  EXPECT_EQ(StringMap(alerts[1], "labels")["entity_id"], "facility/a");
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(6));
  EXPECT_EQ(notifier->queue_length(), 0u);
  EXPECT_EQ(Requests(am.url(), "ok"), 1);

  // Healthy again: the next failure starts over at the initial backoff.
  am.set_status(500);
  notifier->Update(Firing("facility/c", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(7));
  am.set_status(200);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(am.Wait(8));
}

TEST_F(NotifierTest, NetworkErrorsAreCountedAndRetried) {
  // A URL where nothing listens (a stopped server's port).
  std::string dead;
  {
    auto server = FakeHttpServer::Start([](const FakeHttpRequest&) {
      return FakeHttpServer::Response(200, "");
    });
    ASSERT_TRUE(server.ok());
    dead = (*server)->Url();
  }
  AlertmanagerNotifierOptions o = Options({dead});
  o.stop_timeout = absl::Milliseconds(50);
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_TRUE(AdvanceUntil([&] { return Requests(dead, "network_error") >= 1; },
                           absl::ZeroDuration()));
  ASSERT_TRUE(AdvanceUntil([&] { return Requests(dead, "network_error") >= 2; },
                           absl::Seconds(10)));
  EXPECT_EQ(notifier->queue_length(), 1u);
}

TEST_F(NotifierTest, RejectedPayloadsAreNotRetried) {
  Endpoint am(&clock_);
  am.set_status(400);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));
  EXPECT_EQ(notifier->queue_length(), 0u);
  clock_.Advance(absl::Seconds(30));
  ASSERT_NO_FATAL_FAILURE(LetSenderLook());
  EXPECT_EQ(am.count(), 1u);
  EXPECT_EQ(Requests(am.url(), "http_error"), 1);
  // Still firing: resent on schedule.
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(am.Wait(2));
}

TEST_F(NotifierTest, EveryUrlReceivesEverything) {
  Endpoint a(&clock_), b(&clock_), c(&clock_);
  c.set_status(503);
  AlertmanagerNotifierOptions o = Options({a.url(), b.url(), c.url()});
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/x", "r"));
  ASSERT_TRUE(a.Wait(1));
  ASSERT_TRUE(b.Wait(1));
  ASSERT_TRUE(c.Wait(1));
  notifier->Update(Resolved(Firing("facility/x", "r")));
  ASSERT_TRUE(a.Wait(2));
  ASSERT_TRUE(b.Wait(2));
  for (const Endpoint* e : {&a, &b}) {
    std::vector<Struct> alerts = Alerts(e->requests()[1]);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(Field(alerts[0], "endsAt"), Rfc3339(kStart));
  }
  // c failed; once it answers it gets the resolution too (and only that:
  // the alert no longer fires). The fake server counts a request before its
  // handler reads the status, so wait (in real time; the fake clock stays, so
  // nothing is retried) until the sender has recorded c's 503 before c
  // starts answering 200.
  ASSERT_TRUE(WaitUntil([&] { return Requests(c.url(), "http_error") >= 1; }));
  c.set_status(200);
  ASSERT_TRUE(AdvanceUntil([&] { return c.count() >= 2; }, absl::Seconds(10)));
  std::vector<Struct> alerts = Alerts(c.requests().back());
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Field(alerts[0], "endsAt"), Rfc3339(kStart));
  EXPECT_EQ(Requests(a.url(), "ok"), 2);
  EXPECT_EQ(Requests(c.url(), "http_error"), 1);
}

TEST_F(NotifierTest, UpdateDoesNotBlockWhileTheEndpointHangs) {
  Endpoint am(&clock_);
  am.Hang();
  AlertmanagerNotifierOptions o = Options({am.url()});
  o.request_timeout = absl::Minutes(5);
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/first", "r"));
  ASSERT_TRUE(am.Wait(1));  // The sender is now stuck in that request.

  const absl::Time start = absl::Now();
  for (int i = 0; i < 2000; ++i) {
    v1::Alert a = Firing(absl::StrCat("facility/", i % 100), "r");
    notifier->Update(i % 3 == 2 ? Resolved(a) : a);
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(5));  // Microseconds each, really.
  // Coalesced by alert id: per alert at most its latest firing version and
  // one resolution (100 alerts, plus facility/first).
  EXPECT_LE(notifier->queue_length(), 201u);

  am.Release();
  const absl::Time deadline = absl::Now() + kWait;
  while (notifier->queue_length() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(notifier->queue_length(), 0u);
}

TEST_F(NotifierTest, StopFlushesPendingResolutions) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(am.AwaitSettled(1));
  notifier->Update(Resolved(Firing("facility/a", "r")));
  notifier->Stop();
  ASSERT_EQ(am.count(), 2u);
  std::vector<Struct> alerts = Alerts(am.requests()[1]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Field(alerts[0], "endsAt"), Rfc3339(kStart));
  EXPECT_EQ(notifier->queue_length(), 0u);
  // After Stop(), records are ignored.
  notifier->Update(Firing("facility/b", "r"));
  EXPECT_EQ(notifier->queue_length(), 0u);
}

TEST_F(NotifierTest, StopFlushesDespiteBackoff) {
  Endpoint am(&clock_);
  am.set_status(503);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Firing("facility/a", "r"));
  ASSERT_NO_FATAL_FAILURE(
      am.AwaitSettled(1));  // Now backing off for 10 s of fake time.
  am.set_status(200);
  notifier->Update(Resolved(Firing("facility/a", "r")));
  notifier->Stop();
  ASSERT_EQ(am.count(), 2u);
  EXPECT_EQ(Alerts(am.requests()[1]).size(), 1u);
}

TEST_F(NotifierTest, StopIsBoundedWhenTheEndpointHangs) {
  Endpoint am(&clock_);
  am.Hang();
  AlertmanagerNotifierOptions o = Options({am.url()});
  o.request_timeout = absl::Milliseconds(500);
  o.stop_timeout = absl::Milliseconds(300);
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  notifier->Start();
  notifier->Update(Resolved(Firing("facility/a", "r")));
  ASSERT_TRUE(am.Wait(1));
  const absl::Time start = absl::Now();
  notifier->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(notifier->queue_length(), 1u);  // Undelivered, and said so.
  EXPECT_GE(Requests(am.url(), "network_error"), 1);
}

TEST_F(NotifierTest, SplitsLargeBatchesAndSendsWhatCameBeforeStart) {
  Endpoint am(&clock_);
  AlertmanagerNotifierOptions o = Options({am.url()});
  o.max_alerts_per_request = 2;
  auto notifier = Make(o);
  ASSERT_NE(notifier, nullptr);
  for (int i = 0; i < 5; ++i) {
    notifier->Update(Firing(absl::StrCat("facility/", i), "r"));
  }
  EXPECT_EQ(notifier->queue_length(), 5u);
  notifier->Start();
  ASSERT_TRUE(am.Wait(3));
  std::vector<size_t> sizes;
  for (const FakeHttpRequest& r : am.requests()) {
    sizes.push_back(Alerts(r).size());
  }
  EXPECT_THAT(sizes, ElementsAre(2, 2, 1));
}

TEST_F(NotifierTest, IgnoresRecordsWithoutIdOrState) {
  Endpoint am(&clock_);
  auto notifier = Make(Options({am.url()}));
  ASSERT_NE(notifier, nullptr);
  v1::Alert no_id = Firing("facility/a", "r");
  no_id.clear_alert_id();
  v1::Alert no_state = Firing("facility/a", "r");
  no_state.set_state(v1::Alert::STATE_UNSPECIFIED);
  notifier->Update(no_id);
  notifier->Update(no_state);
  EXPECT_EQ(notifier->firing_count(), 0u);
  EXPECT_EQ(notifier->queue_length(), 0u);
}

TEST(NotifierCreateTest, RejectsInvalidOptions) {
  auto valid = [] {
    AlertmanagerNotifierOptions o;
    o.urls = {"http://127.0.0.1:9093"};
    return o;
  };
  std::vector<std::pair<std::string, AlertmanagerNotifierOptions>> cases;
  auto add = [&](const std::string& why,
                 std::function<void(AlertmanagerNotifierOptions&)> change) {
    AlertmanagerNotifierOptions o = valid();
    change(o);
    cases.emplace_back(why, o);
  };
  add("urls: at least one", [](auto& o) { o.urls.clear(); });
  add("urls[1]: invalid URL \"ftp://am:9093\"",
      [](auto& o) { o.urls.push_back("ftp://am:9093"); });
  add("tls/auth: auth: a bearer token and basic auth are mutually exclusive",
      [](auto& o) {
        o.auth.bearer_token = "t";
        o.auth.basic_auth_username = "u";
      });
  add("urls[0]: invalid URL \"am:9093\"",
      [](auto& o) { o.urls = {"am:9093"}; });
  add("urls[0]: \"http://am?x=1\" must not have a query",
      [](auto& o) { o.urls = {"http://am?x=1"}; });
  add("resend_interval",
      [](auto& o) { o.resend_interval = absl::ZeroDuration(); });
  add("request_timeout",
      [](auto& o) { o.request_timeout = -absl::Seconds(1); });
  add("retry_initial_backoff",
      [](auto& o) { o.retry_initial_backoff = absl::ZeroDuration(); });
  add("retry_max_backoff: must not be below",
      [](auto& o) { o.retry_max_backoff = absl::Milliseconds(10); });
  add("idle_wakeup", [](auto& o) { o.idle_wakeup = absl::InfiniteDuration(); });
  add("stop_timeout", [](auto& o) { o.stop_timeout = -absl::Seconds(1); });
  add("generator_url_base: \"georisk.test\" is not an absolute",
      [](auto& o) { o.generator_url_base = "georisk.test"; });
  add("generator_url_base: \"http:///x\" has no host",
      [](auto& o) { o.generator_url_base = "http:///x"; });
  add("generator_url_base: \"http://g/?a=b\" must not have a query",
      [](auto& o) { o.generator_url_base = "http://g/?a=b"; });
  add("external_labels: \"bad-name\"", [](auto& o) {
    o.external_labels = {{"bad-name", "x"}};
  });
  add("external_labels: \"__reserved\"", [](auto& o) {
    o.external_labels = {{"__reserved", "x"}};
  });
  add("max_alerts_per_request", [](auto& o) { o.max_alerts_per_request = 0; });
  for (auto& [why, options] : cases) {
    auto notifier = AlertmanagerNotifier::Create(options, nullptr);
    ASSERT_FALSE(notifier.ok()) << why;
    EXPECT_EQ(notifier.status().code(), absl::StatusCode::kInvalidArgument)
        << why;
    EXPECT_THAT(notifier.status().message(),
                HasSubstr("AlertmanagerNotifierOptions." + why));
  }
  AlertmanagerNotifierOptions ok = valid();
  ok.urls.push_back("http://am-1.am:9093/prefix/api/v2/alerts");
  ok.generator_url_base = "https://georisk.example.com";
  ok.external_labels = {{"cluster", "eu"}};
  EXPECT_TRUE(AlertmanagerNotifier::Create(ok, nullptr).ok());
}

}  // namespace
}  // namespace georisk::scorer
