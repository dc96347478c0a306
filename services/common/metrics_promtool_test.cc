// File: services/common/metrics_promtool_test.cc
//
// The registry's output checked by the real `promtool check metrics`
// (Debian's prometheus package), which owns the Prometheus naming
// conventions the registry no longer re-implements: a registry with every
// kind of family the services register (and the RPC metrics every service
// has) must pass clean, and names that break the conventions must be flagged.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/common/rpc_metrics.h"

namespace georisk::common {
namespace {

using ::testing::HasSubstr;

constexpr char kPromtool[] = "/usr/bin/promtool";

struct Check {
  int exit_code = -1;
  std::string output;
};

// Runs `promtool check metrics` on `exposition`.
Check PromtoolCheckMetrics(const std::string& exposition) {
  const std::string path = base::testing::MakeTempDir("promtool") + "/m.prom";
  std::ofstream(path) << exposition;
  Check check;
  const std::string command =
      absl::StrCat(kPromtool, " check metrics < '", path, "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return check;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    check.output.append(buffer, n);
  }
  const int status = pclose(pipe);
  check.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return check;
}

class MetricsPromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream probe(kPromtool);
    ASSERT_TRUE(probe.good())
        << kPromtool << " is missing: install Debian's prometheus "
        << "(deploy/install-deps.sh)";
  }
};

TEST_F(MetricsPromtoolTest, EveryKindOfFamilyPassesClean) {
  MetricsRegistry registry;
  // What a service's gRPC layer registers, as the server wires it.
  MakeRpcMetricsInterceptors(&registry);
  // One of each kind, with label values that need escaping.
  registry
      .AddCounter("georisk_alertmanager_requests_total", "Requests.",
                  {"url", "outcome"})
      .WithLabels({"http://am:9093/\"x\"\\", "ok"})
      .Increment();
  registry.AddGauge("georisk_alertmanager_queue_length", "Queue.")
      .WithLabels({})
      .Set(3);
  registry
      .AddHistogram("georisk_rpc_latency_seconds", "Latency.", {"method"},
                    MetricsRegistry::DefaultLatencyBuckets())
      .WithLabels({"GetRisk"})
      .Observe(0.012);
  registry.AddCallbackGauge("georisk_db_size_bytes", "Size.",
                            [] { return 1e9; });
  registry.AddCallbackCounter("georisk_db_stall_seconds_total", "Stalls.",
                              [] { return 1.5; });
  ASSERT_TRUE(registry.Validate().ok()) << registry.Validate();
  const std::string exposition = registry.Render();
  const Check check = PromtoolCheckMetrics(exposition);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << exposition;
  EXPECT_EQ(check.output, "") << exposition;
}

TEST_F(MetricsPromtoolTest, FlagsNamesAgainstTheConventions) {
  const struct {
    const char* name;
    bool counter;
    const char* complaint;
  } kCases[] = {
      {"georisk_latency_ms", false, "abbreviated units"},
      {"georisk_requests", true, "_total"},
      {"georisk_latency_milliseconds", false, "base unit"},
      {"georisk_queue_gauge", false, "type"},
      {"georiskRequests_total", true, "snake_case"},
  };
  for (const auto& c : kCases) {
    MetricsRegistry registry;
    if (c.counter) {
      registry.AddCounter(c.name, "X.").WithLabels({}).Increment();
    } else {
      registry.AddGauge(c.name, "X.").WithLabels({}).Set(1);
    }
    ASSERT_TRUE(registry.Validate().ok()) << c.name;  // Not the registry's job.
    const Check check = PromtoolCheckMetrics(registry.Render());
    EXPECT_NE(check.exit_code, 0) << c.name;
    EXPECT_THAT(check.output, HasSubstr(c.name));
    EXPECT_THAT(check.output, HasSubstr(c.complaint)) << c.name;
  }
}

}  // namespace
}  // namespace georisk::common
