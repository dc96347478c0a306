#include "services/common/metrics.h"

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::common {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(MetricsRegistryTest, CallbackCounterRendersAsACounter) {
  MetricsRegistry registry;
  double stalls = 1.5;
  registry.AddCallbackCounter("x_stall_seconds_total", "Stalls.",
                              [&stalls] { return stalls; });
  registry.AddCallbackCounter("x_bad", "", [] { return 0.0; });  // No help.
  EXPECT_EQ(registry.Render(),
            "# HELP x_stall_seconds_total Stalls.\n"
            "# TYPE x_stall_seconds_total counter\n"
            "x_stall_seconds_total 1.5\n");
  EXPECT_EQ(registry.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrometheusContentTypeTest, IsTextFormat004) {
  EXPECT_EQ(PrometheusContentType(),
            "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsRegistryTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.Render(), "");
  EXPECT_TRUE(registry.Validate().ok());
}

TEST(MetricsRegistryTest, CounterWithoutLabels) {
  MetricsRegistry registry;
  Counter& counter =
      registry.AddCounter("georisk_requests_total", "Requests received.")
          .WithLabels({});
  EXPECT_EQ(registry.Render(),
            "# HELP georisk_requests_total Requests received.\n"
            "# TYPE georisk_requests_total counter\n"
            "georisk_requests_total 0\n");
  counter.Increment();
  counter.Increment(2);
  EXPECT_EQ(counter.Value(), 3);
  EXPECT_EQ(registry.Render(),
            "# HELP georisk_requests_total Requests received.\n"
            "# TYPE georisk_requests_total counter\n"
            "georisk_requests_total 3\n");
}

TEST(MetricsRegistryTest, CounterIgnoresNegativeAndNaNIncrements) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("x_total", "X.").WithLabels({});
  counter.Increment(1.5);
  counter.Increment(-1);
  counter.Increment(kNaN);
  EXPECT_EQ(counter.Value(), 1.5);
}

TEST(MetricsRegistryTest, CounterWithLabelsRendersSeriesSortedByValues) {
  MetricsRegistry registry;
  Family<Counter>& rpcs =
      registry.AddCounter("rpc_requests_total", "RPCs.", {"method", "code"});
  rpcs.WithLabels({"Get", "OK"}).Increment(2);
  rpcs.WithLabels({"Get", "NOT_FOUND"}).Increment();
  rpcs.WithLabels({"Apply", "OK"}).Increment(0.5);
  EXPECT_EQ(registry.Render(),
            "# HELP rpc_requests_total RPCs.\n"
            "# TYPE rpc_requests_total counter\n"
            "rpc_requests_total{method=\"Apply\",code=\"OK\"} 0.5\n"
            "rpc_requests_total{method=\"Get\",code=\"NOT_FOUND\"} 1\n"
            "rpc_requests_total{method=\"Get\",code=\"OK\"} 2\n");
}

TEST(MetricsRegistryTest, WithLabelsReturnsTheSameSeriesEachTime) {
  MetricsRegistry registry;
  Family<Counter>& family = registry.AddCounter("x_total", "X.", {"a"});
  Counter& first = family.WithLabels({"1"});
  family.WithLabels({"2"});
  family.WithLabels({"0"});
  EXPECT_EQ(&family.WithLabels({"1"}), &first);
}

TEST(MetricsRegistryTest, LabeledFamilyWithoutSeriesIsNotRendered) {
  MetricsRegistry registry;
  registry.AddCounter("x_total", "X.", {"a"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsRegistryTest, GaugeSetAndAdd) {
  MetricsRegistry registry;
  Gauge& gauge = registry.AddGauge("queue_length", "Items queued.", {"queue"})
                     .WithLabels({"ingest"});
  gauge.Set(5);
  gauge.Add(-2.5);
  EXPECT_EQ(gauge.Value(), 2.5);
  EXPECT_EQ(registry.Render(),
            "# HELP queue_length Items queued.\n"
            "# TYPE queue_length gauge\n"
            "queue_length{queue=\"ingest\"} 2.5\n");
}

TEST(MetricsRegistryTest, HistogramWithLabelsHasCumulativeBuckets) {
  MetricsRegistry registry;
  Family<Histogram>& latency = registry.AddHistogram(
      "rpc_latency_seconds", "RPC latency.", {"method"}, {0.25, 1, 4});
  Histogram& get = latency.WithLabels({"Get"});
  for (double v : {0.125, 0.25, 0.5, 8.0}) get.Observe(v);
  latency.WithLabels({"Apply"}).Observe(2);
  EXPECT_EQ(get.Count(), 4);
  EXPECT_EQ(get.Sum(), 8.875);
  EXPECT_EQ(registry.Render(),
            "# HELP rpc_latency_seconds RPC latency.\n"
            "# TYPE rpc_latency_seconds histogram\n"
            "rpc_latency_seconds_bucket{method=\"Apply\",le=\"0.25\"} 0\n"
            "rpc_latency_seconds_bucket{method=\"Apply\",le=\"1\"} 0\n"
            "rpc_latency_seconds_bucket{method=\"Apply\",le=\"4\"} 1\n"
            "rpc_latency_seconds_bucket{method=\"Apply\",le=\"+Inf\"} 1\n"
            "rpc_latency_seconds_sum{method=\"Apply\"} 2\n"
            "rpc_latency_seconds_count{method=\"Apply\"} 1\n"
            "rpc_latency_seconds_bucket{method=\"Get\",le=\"0.25\"} 2\n"
            "rpc_latency_seconds_bucket{method=\"Get\",le=\"1\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"Get\",le=\"4\"} 3\n"
            "rpc_latency_seconds_bucket{method=\"Get\",le=\"+Inf\"} 4\n"
            "rpc_latency_seconds_sum{method=\"Get\"} 8.875\n"
            "rpc_latency_seconds_count{method=\"Get\"} 4\n");
}

TEST(MetricsRegistryTest, HistogramWithoutLabels) {
  MetricsRegistry registry;
  // An infinite last bound is accepted and not rendered twice.
  Histogram& histogram =
      registry.AddHistogram("job_duration_seconds", "Job time.", {}, {1, kInf})
          .WithLabels({});
  histogram.Observe(2);
  histogram.Observe(kNaN);  // Ignored.
  EXPECT_EQ(registry.Render(),
            "# HELP job_duration_seconds Job time.\n"
            "# TYPE job_duration_seconds histogram\n"
            "job_duration_seconds_bucket{le=\"1\"} 0\n"
            "job_duration_seconds_bucket{le=\"+Inf\"} 1\n"
            "job_duration_seconds_sum 2\n"
            "job_duration_seconds_count 1\n");
  EXPECT_TRUE(registry.Validate().ok());
}

TEST(MetricsRegistryTest, HistogramWithoutBoundsHasOnlyInfBucket) {
  MetricsRegistry registry;
  registry.AddHistogram("job_duration_seconds", "Job time.", {}, {})
      .WithLabels({})
      .Observe(0.5);
  EXPECT_EQ(registry.Render(),
            "# HELP job_duration_seconds Job time.\n"
            "# TYPE job_duration_seconds histogram\n"
            "job_duration_seconds_bucket{le=\"+Inf\"} 1\n"
            "job_duration_seconds_sum 0.5\n"
            "job_duration_seconds_count 1\n");
}

TEST(MetricsRegistryTest, DefaultLatencyBuckets) {
  const std::vector<double> bounds = MetricsRegistry::DefaultLatencyBuckets();
  ASSERT_FALSE(bounds.empty());
  EXPECT_EQ(bounds.front(), 0.0005);
  EXPECT_EQ(bounds.back(), 10);
  for (size_t i = 1; i < bounds.size(); ++i)
    EXPECT_LT(bounds[i - 1], bounds[i]);

  MetricsRegistry registry;
  registry.AddHistogram("rpc_latency_seconds", "RPC latency.", {}, bounds);
  EXPECT_TRUE(registry.Validate().ok());
  EXPECT_THAT(registry.Render(),
              HasSubstr("rpc_latency_seconds_bucket{le=\"0.0005\"} 0\n"));
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry
      .AddGauge("escaped_value", "Line one\nback\\slash \"quoted\"", {"path"})
      .WithLabels({"a\\b\"c\nd"})
      .Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP escaped_value Line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE escaped_value gauge\n"
            "escaped_value{path=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistryTest, ReplacesInvalidUtf8InLabelValues) {
  MetricsRegistry registry;
  Family<Gauge>& family = registry.AddGauge("utf8_value", "U.", {"v"});
  family.WithLabels({"caf\xC3\xA9"}).Set(1);            // Valid: kept.
  family.WithLabels({"bad\xFF"}).Set(2);                // Invalid byte.
  family.WithLabels({"cut\xE2\x82"}).Set(3);            // Truncated sequence.
  family.WithLabels({"surrogate\xED\xA0\x80"}).Set(4);  // Not a scalar value.
  const std::string render = registry.Render();
  EXPECT_THAT(render, HasSubstr("utf8_value{v=\"caf\xC3\xA9\"} 1\n"));
  EXPECT_THAT(render, HasSubstr("utf8_value{v=\"bad\xEF\xBF\xBD\"} 2\n"));
  EXPECT_THAT(render,
              HasSubstr("utf8_value{v=\"cut\xEF\xBF\xBD\xEF\xBF\xBD\"} 3\n"));
  EXPECT_THAT(render, HasSubstr("utf8_value{v=\"surrogate\xEF\xBF\xBD\xEF\xBF"
                                "\xBD\xEF\xBF\xBD\"} 4\n"));
}

TEST(MetricsRegistryTest, FormatsValuesAsPrometheusDoes) {
  const struct {
    double value;
    const char* text;
  } kCases[] = {
      {1, "1"},
      {-2, "-2"},
      {0.5, "0.5"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.5e-7, "1.5e-07"},
      {123456789012, "123456789012"},
      {1e20, "1e+20"},
      {-0.0, "0"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {kNaN, "NaN"},
  };
  for (const auto& c : kCases) {
    MetricsRegistry registry;
    registry.AddGauge("v", "V.").WithLabels({}).Set(c.value);
    EXPECT_EQ(registry.Render(),
              std::string("# HELP v V.\n# TYPE v gauge\nv ") + c.text + "\n")
        << c.text;
  }
}

TEST(MetricsRegistryTest, FamiliesAreSortedByName) {
  MetricsRegistry registry;
  registry.AddGauge("zeta", "Z.");
  registry.AddCounter("alpha_total", "A.");
  registry.AddCallbackGauge("mid", "M.", [] { return 7.0; });
  EXPECT_EQ(registry.Render(),
            "# HELP alpha_total A.\n# TYPE alpha_total counter\nalpha_total 0\n"
            "# HELP mid M.\n# TYPE mid gauge\nmid 7\n"
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta 0\n");
}

TEST(MetricsRegistryTest, CallbackGaugeIsSampledAtRenderTime) {
  MetricsRegistry registry;
  double size = 1;
  registry.AddCallbackGauge("db_size_bytes", "Database size.",
                            [&size] { return size; });
  EXPECT_EQ(registry.Render(),
            "# HELP db_size_bytes Database size.\n"
            "# TYPE db_size_bytes gauge\n"
            "db_size_bytes 1\n");
  size = 4096;
  EXPECT_THAT(registry.Render(), HasSubstr("db_size_bytes 4096\n"));
}

TEST(MetricsRegistryTest, CallbackGaugeMayUseTheRegistry) {
  MetricsRegistry registry;
  Counter& counter =
      registry.AddCounter("events_total", "Events.").WithLabels({});
  counter.Increment(3);
  registry.AddCallbackGauge("events_seen", "Events seen.", [&registry] {
    return registry.AddCounter("events_total", "Events.")
        .WithLabels({})
        .Value();
  });
  EXPECT_THAT(registry.Render(), HasSubstr("events_seen 3\n"));
}

TEST(MetricsRegistryTest, SameDefinitionSharesTheFamily) {
  MetricsRegistry registry;
  Family<Counter>& a = registry.AddCounter("x_total", "X.", {"k"});
  Family<Counter>& b = registry.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  Family<Histogram>& h1 = registry.AddHistogram("h_seconds", "H.", {}, {1, 2});
  Family<Histogram>& h2 =
      registry.AddHistogram("h_seconds", "H.", {}, {1, 2, kInf});
  EXPECT_EQ(&h1, &h2);
  EXPECT_TRUE(registry.Validate().ok());
}

TEST(MetricsRegistryTest, ConflictingDefinitionsAreReportedAndNotRendered) {
  const struct {
    const char* what;
    void (*add)(MetricsRegistry&);
    const char* message;
  } kCases[] = {
      {"other type",
       [](MetricsRegistry& r) {
         r.AddHistogram("queue_length", "Q.", {"shard"}, {1})
             .WithLabels({"0"})
             .Observe(1);
       },
       "already registered as a gauge"},
      {"other labels",
       [](MetricsRegistry& r) {
         r.AddGauge("queue_length", "Q.", {"queue"}).WithLabels({"0"}).Set(1);
       },
       "already registered with labels [shard]"},
      {"other help",
       [](MetricsRegistry& r) {
         r.AddGauge("queue_length", "Other.", {"shard"})
             .WithLabels({"0"})
             .Set(1);
       },
       "already registered with help \"Q.\""},
      {"callback",
       [](MetricsRegistry& r) {
         r.AddCallbackGauge("queue_length", "Q.", [] { return 1.0; });
       },
       "callback metrics cannot be shared"},
  };
  for (const auto& c : kCases) {
    MetricsRegistry registry;
    registry.AddGauge("queue_length", "Q.", {"shard"});
    c.add(registry);
    const absl::Status status = registry.Validate();
    EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << c.what;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.what;
    EXPECT_EQ(registry.Render(), "") << c.what;
  }
}

TEST(MetricsRegistryTest, HistogramsWithOtherBoundsConflict) {
  MetricsRegistry registry;
  Family<Histogram>& first =
      registry.AddHistogram("h_seconds", "H.", {}, {1, 2});
  Family<Histogram>& second =
      registry.AddHistogram("h_seconds", "H.", {}, {1, 3});
  EXPECT_NE(&first, &second);
  second.WithLabels({}).Observe(2.5);  // Works, but is not rendered.
  EXPECT_EQ(second.WithLabels({}).Count(), 1);
  const absl::Status status = registry.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(status.message()), HasSubstr("bucket bounds"));
  EXPECT_THAT(registry.Render(), HasSubstr("h_seconds_count 0\n"));
}

enum class Kind { kCounter, kGauge, kHistogram, kCallbackGauge };

struct Definition {
  Kind kind;
  std::string name;
  std::vector<std::string> labels;
  std::string help = "Help.";
};

void Add(MetricsRegistry& registry, const Definition& d) {
  switch (d.kind) {
    case Kind::kCounter:
      registry.AddCounter(d.name, d.help, d.labels);
      break;
    case Kind::kGauge:
      registry.AddGauge(d.name, d.help, d.labels);
      break;
    case Kind::kHistogram:
      registry.AddHistogram(d.name, d.help, d.labels, {1});
      break;
    case Kind::kCallbackGauge:
      registry.AddCallbackGauge(d.name, d.help, [] { return 1.0; });
      break;
  }
}

TEST(MetricsRegistryTest, AcceptsValidNames) {
  const Definition kValid[] = {
      {Kind::kCounter, "georisk_rpc_requests_total", {"method", "code"}},
      {Kind::kCounter, "_private_total", {"_x"}},
      {Kind::kGauge, "process_start_time_seconds", {}},
      {Kind::kGauge, "georisk_db_size_bytes", {"column_family"}},
      {Kind::kHistogram, "georisk_rpc_latency_seconds", {"method"}},
      {Kind::kCallbackGauge, "georisk_ingest_lag_seconds", {}},
      // Naming conventions are promtool's, not the registry's.
      {Kind::kGauge, "latency_ms", {}},
      {Kind::kCounter, "requests", {"shardId"}},
      {Kind::kCounter, "job:requests_total", {}},
  };
  for (const Definition& d : kValid) {
    MetricsRegistry registry;
    Add(registry, d);
    EXPECT_TRUE(registry.Validate().ok())
        << d.name << ": " << registry.Validate();
  }
}

TEST(MetricsRegistryTest, RejectsInvalidNames) {
  const Definition kInvalid[] = {
      {Kind::kCounter, "", {}},
      {Kind::kCounter, "1requests_total", {}},
      {Kind::kCounter, "rpc-requests_total", {}},
      {Kind::kCounter, "rpc requests_total", {}},
      {Kind::kGauge, "queue_length", {}, /*help=*/""},
      {Kind::kGauge, "queue_length", {"1shard"}},
      {Kind::kGauge, "queue_length", {"shard-id"}},
      {Kind::kGauge, "queue_length", {"__shard"}},
      {Kind::kGauge, "queue_length", {""}},
      {Kind::kHistogram, "latency_seconds", {"le"}},
      {Kind::kGauge, "queue_length", {"quantile"}},
      {Kind::kGauge, "queue_length", {"shard", "shard"}},
      {Kind::kCallbackGauge, "lag-seconds", {}},
  };
  for (const Definition& d : kInvalid) {
    MetricsRegistry registry;
    Add(registry, d);
    const absl::Status status = registry.Validate();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << d.name;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("metric " + d.name + ":"));
    EXPECT_EQ(registry.Render(), "") << d.name;
  }
}

TEST(MetricsRegistryTest, RejectsInvalidBucketsButTheHistogramStillWorks) {
  const std::vector<double> kInvalid[] = {
      {1, 0.5}, {1, 1}, {kNaN}, {-kInf, 1}, {1, kInf, 2}};
  for (const std::vector<double>& bounds : kInvalid) {
    MetricsRegistry registry;
    Histogram& histogram =
        registry.AddHistogram("h_seconds", "H.", {}, bounds).WithLabels({});
    histogram.Observe(0.7);
    EXPECT_EQ(histogram.Count(), 1);
    const absl::Status status = registry.Validate();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("strictly increasing"));
    EXPECT_EQ(registry.Render(), "");
  }
}

TEST(MetricsRegistryTest, WrongLabelCountReturnsUnrenderedSeries) {
  MetricsRegistry registry;
  Family<Counter>& family = registry.AddCounter("x_total", "X.", {"method"});
  Counter& none = family.WithLabels({});
  Counter& two = family.WithLabels({"a", "b"});
  EXPECT_EQ(&none, &two);
  two.Increment();
  EXPECT_EQ(family.label_errors(), 2);
  EXPECT_EQ(registry.Render(), "");

  Family<Gauge>& unlabeled = registry.AddGauge("y", "Y.");
  EXPECT_NE(&unlabeled.WithLabels({"a"}), &unlabeled.WithLabels({}));

  const absl::Status status = registry.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("metric x_total: 2 WithLabels() call(s)"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("metric y: 1 WithLabels() call(s)"));
}

TEST(MetricsRegistryTest, ConcurrentUpdatesSumExactly) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 100000;
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry] {
      // Registration and lookup race too.
      Counter& counter =
          registry.AddCounter("x_total", "X.", {"k"}).WithLabels({"v"});
      Gauge& gauge = registry.AddGauge("y", "Y.").WithLabels({});
      Histogram& histogram =
          registry.AddHistogram("z_seconds", "Z.", {}, {0.5, 2}).WithLabels({});
      for (int i = 0; i < kIncrements; ++i) {
        counter.Increment();
        gauge.Add(1);
        histogram.Observe(1);
      }
    });
  }
  threads.emplace_back([&registry] {
    for (int i = 0; i < 100; ++i) registry.Render();
  });
  for (std::thread& thread : threads) thread.join();

  constexpr double kTotal = kThreads * kIncrements;
  EXPECT_EQ(
      registry.AddCounter("x_total", "X.", {"k"}).WithLabels({"v"}).Value(),
      kTotal);
  EXPECT_EQ(registry.AddGauge("y", "Y.").WithLabels({}).Value(), kTotal);
  Histogram& histogram =
      registry.AddHistogram("z_seconds", "Z.", {}, {0.5, 2}).WithLabels({});
  EXPECT_EQ(histogram.Count(), kTotal);
  EXPECT_EQ(histogram.Sum(), kTotal);
  EXPECT_THAT(registry.Render(),
              HasSubstr("z_seconds_bucket{le=\"2\"} 400000\n"));
  EXPECT_TRUE(registry.Validate().ok());
}

}  // namespace
}  // namespace georisk::common
