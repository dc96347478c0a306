// File: services/common/metrics.h
//
// A small, thread-safe Prometheus metrics registry. It holds counters, gauges,
// histograms and callback gauges, and renders them in the Prometheus text
// exposition format 0.0.4, the body of a `/metrics` scrape.
//
// Example:
//
//   georisk::common::MetricsRegistry registry;
//   georisk::common::Family<georisk::common::Counter>& requests =
//   registry.AddCounter(
//       "georisk_rpc_requests_total", "RPCs received.", {"method", "code"});
//   georisk::common::Family<georisk::common::Histogram>& latency =
//   registry.AddHistogram(
//       "georisk_rpc_latency_seconds", "RPC latency.", {"method"},
//       georisk::common::MetricsRegistry::DefaultLatencyBuckets());
//   registry.AddCallbackGauge("georisk_db_size_bytes", "Database size.",
//                             [&db] { return db.SizeBytes(); });
//
//   // Look a series up once and keep the reference; updates are lock-free.
//   georisk::common::Counter& ok = requests.WithLabels({"GetRisk", "OK"});
//   ok.Increment();
//   latency.WithLabels({"GetRisk"}).Observe(0.012);
//
//   // Serve as the body of a response of type PrometheusContentType().
//   std::string body = registry.Render();
//
// Rendering rules (what `promtool check metrics` expects): one `# HELP` and
// one `# TYPE` line per family; families sorted by name and series by label
// values; label values escaped (`\\`, `\"`, `\n`) and invalid UTF-8 replaced by
// U+FFFD; histograms as cumulative `_bucket{le="..."}` series ending in
// `le="+Inf"`, then `_sum` and `_count`; integral values printed without a
// fraction and infinities and NaN as `+Inf`, `-Inf` and `NaN`. A family with
// labels but no series yet is not rendered.
//
// Programming errors never crash and never cause undefined behaviour; they are
// recorded and reported by MetricsRegistry::Validate(), which services should
// call once their metrics are wired (a unit test is a good place). Validate()
// checks structure only; naming conventions are promtool's (see AddCounter()):
//  - An invalid definition (bad name, see AddCounter(); bad label names; bad
//    histogram bounds) or a definition that conflicts with an existing family
//    of the same name gets a working family that is never rendered.
//  - Family::WithLabels() with the wrong number of values returns a shared
//    series that is never rendered, and counts the call.

#ifndef GEORISK_SERVICES_COMMON_METRICS_H_
#define GEORISK_SERVICES_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace georisk::common {

// Returns the Content-Type of MetricsRegistry::Render() output:
// "text/plain; version=0.0.4; charset=utf-8".
std::string PrometheusContentType();

template <typename T>
class Family;

// A value that only goes up, such as a number of requests.
// Thread-safe; Increment() is lock-free.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `v`. Counters never go down: a negative or NaN `v` is ignored.
  void Increment(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down, such as a queue length.
// Thread-safe; all methods are lock-free.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  // Adds `v`, which may be negative.
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into buckets with fixed upper bounds, set when its family
// is created. Thread-safe; Observe() is lock-free (a binary search and two
// atomic updates).
//
// A scrape that races with Observe() may see `_sum` without the latest value
// yet, but `_count` always equals the `le="+Inf"` bucket and buckets are
// always cumulative.
class Histogram {
 public:
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records `v` in the first bucket whose upper bound is >= `v`, or in the
  // +Inf bucket. A NaN `v` is ignored.
  void Observe(double v);
  // Number of observations so far.
  uint64_t Count() const;
  // Sum of the observations so far.
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  friend class Family<Histogram>;

  // `bounds` (sorted, finite) must outlive the histogram.
  explicit Histogram(const std::vector<double>* bounds);

  const std::vector<double>* const bounds_;
  // Non-cumulative counts; index bounds_->size() is the +Inf bucket.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

namespace internal {

enum class MetricType {
  kCounter,
  kGauge,
  kHistogram,
  kCallbackGauge,
  kCallbackCounter
};

// What every family has in common; the registry renders through it.
// Thread-safe.
class FamilyBase {
 public:
  FamilyBase(MetricType type, std::string name, std::string help,
             std::vector<std::string> label_names, std::vector<double> bounds);
  virtual ~FamilyBase();
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  MetricType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Histogram upper bounds, sorted and finite; empty for other types.
  const std::vector<double>& bounds() const { return bounds_; }

  // Number of WithLabels() calls given the wrong number of label values.
  int64_t label_errors() const {
    return label_errors_.load(std::memory_order_relaxed);
  }

  // Appends `# HELP`, `# TYPE` and every series to `*out`; appends nothing if
  // the family has no series.
  virtual void AppendTo(std::string* out) const = 0;

 protected:
  // Appends the `# HELP` and `# TYPE` lines.
  void AppendHeader(std::string* out) const;

  std::atomic<int64_t> label_errors_{0};

 private:
  const MetricType type_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
};

}  // namespace internal

// All series of one metric: one per distinct list of label values.
// T is Counter, Gauge or Histogram. Created only by MetricsRegistry, which
// owns it. Thread-safe.
template <typename T>
class Family final : public internal::FamilyBase {
 public:
  // Returns the series for `label_values` (one value per label name, in the
  // order the names were given), creating it at zero on first use. The
  // reference stays valid, and keeps pointing at the same series, for the
  // lifetime of the registry: look it up once and keep it on hot paths.
  // A family without labels has exactly one series, `WithLabels({})`.
  //
  // Keep label values bounded (method names, status codes), never ids.
  //
  // Given the wrong number of values (a programming error), returns a series
  // shared by all such calls that is never rendered, and counts the call in
  // label_errors(); MetricsRegistry::Validate() then reports it.
  T& WithLabels(const std::vector<std::string>& label_values);

  void AppendTo(std::string* out) const override;

 private:
  friend class MetricsRegistry;

  Family(internal::MetricType type, std::string name, std::string help,
         std::vector<std::string> names, std::vector<double> bounds);

  std::unique_ptr<T> NewSeries() const;

  mutable absl::Mutex mu_;
  // Series never move or die: callers hold references to them.
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_
      ABSL_GUARDED_BY(mu_);
  // Returned by WithLabels() on a label count mismatch; never rendered.
  const std::unique_ptr<T> invalid_series_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Owns every metric family of a process (or of a test) and renders them.
// Thread-safe: families may be added, updated and rendered concurrently.
// Families live as long as the registry; references to families and series
// must not outlive it.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Adds a counter family, or returns the existing one if a family with the
  // same name, type, help and label names exists (so call sites can share).
  //
  // `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and `help` must not be empty.
  // Label names must match [a-zA-Z_][a-zA-Z0-9_]*, be unique, not start with
  // `__`, and not be `le` or `quantile`. The Prometheus naming conventions
  // (`_total` on counters only, base units, snake_case, no `:` outside
  // recording rules) are not checked here: metrics_promtool_test runs the
  // real `promtool check metrics` over the services' families.
  //
  // If the definition is invalid or conflicts with an existing family, the
  // returned family works but is never rendered, and Validate() reports
  // InvalidArgument or AlreadyExists respectively.
  Family<Counter>& AddCounter(absl::string_view name, absl::string_view help,
                              std::vector<std::string> label_names = {});

  // As AddCounter(), for a value that may go down.
  Family<Gauge>& AddGauge(absl::string_view name, absl::string_view help,
                          std::vector<std::string> label_names = {});

  // As AddGauge(), with the buckets' upper bounds. `bounds` must be strictly
  // increasing and not NaN; an infinite last bound is dropped (the +Inf bucket
  // is always there), so `{}` gives a histogram with only the +Inf bucket.
  // Two registrations share a family only if their bounds are equal too.
  Family<Histogram>& AddHistogram(absl::string_view name,
                                  absl::string_view help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // Adds a gauge without labels whose value is `sample()`, called on every
  // Render() with no registry lock held. `sample` must be thread-safe (two
  // scrapes may call it at once), quick, and valid for the registry's
  // lifetime. Name rules are AddGauge()'s. A callback gauge is never shared:
  // a second registration of the name is a conflict (AlreadyExists in
  // Validate()) and its `sample` is never called.
  void AddCallbackGauge(absl::string_view name, absl::string_view help,
                        std::function<double()> sample);

  // As AddCallbackGauge(), for a cumulative value another component keeps
  // (e.g. RocksDB's statistics tickers): rendered as a counter, so
  // `sample()` must never decrease (and, by convention, the name ends in
  // `_total`).
  void AddCallbackCounter(absl::string_view name, absl::string_view help,
                          std::function<double()> sample);

  // Returns every family in the text exposition format 0.0.4.
  std::string Render() const;

  // Returns OK if every registration so far was valid and every
  // WithLabels() call had the right number of values. Otherwise returns the
  // code of the first problem (InvalidArgument for a bad definition or label
  // count, AlreadyExists for a conflicting registration) with a message
  // listing all of them.
  absl::Status Validate() const;

  // Upper bounds in seconds for RPC latency histograms, 0.5 ms to 10 s.
  static std::vector<double> DefaultLatencyBuckets();

 private:
  // Shared by AddCallbackGauge() and AddCallbackCounter().
  void AddCallback(internal::MetricType type, absl::string_view name,
                   absl::string_view help, std::function<double()> sample);

  // Shared by AddCounter(), AddGauge() and AddHistogram().
  template <typename T>
  Family<T>& Register(internal::MetricType type, absl::string_view name,
                      absl::string_view help,
                      std::vector<std::string> label_names,
                      std::vector<double> bounds);

  mutable absl::Mutex mu_;
  // Rendered families, by name.
  std::map<std::string, std::unique_ptr<internal::FamilyBase>, std::less<>>
      families_ ABSL_GUARDED_BY(mu_);
  // Families given out for rejected registrations; never rendered.
  std::vector<std::unique_ptr<internal::FamilyBase>> rejected_
      ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_METRICS_H_
