// Starts graphstore, ingest and scorer as real processes on free loopback
// ports and checks what every georisk server promises: grpc.health.v1
// SERVING, reflection listing the georisk.v1 services, a Prometheus /metrics
// endpoint counting RPCs, clean flag errors, and exit code 0 on SIGTERM.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "services/common/reflection_client.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::HttpGet;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ProcessOptions;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

const absl::Duration kReady = absl::Seconds(30);

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("services");
    auto gs = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {absl::StrCat("--data_dir=", dir_, "/graphstore")},
         dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    auto in = ServiceProcess::Start(
        {Runfile("services/ingest/ingest"),
         {absl::StrCat("--graphstore=", graphstore_->address())},
         dir_});
    ASSERT_TRUE(in.ok()) << in.status();
    ingest_ = std::move(*in);
    auto sc = ServiceProcess::Start(
        {Runfile("services/scorer/scorer"),
         {absl::StrCat("--graphstore=", graphstore_->address()),
          absl::StrCat("--data_dir=", dir_, "/scorer")},
         dir_});
    ASSERT_TRUE(sc.ok()) << sc.status();
    scorer_ = std::move(*sc);
  }

  std::string dir_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<ServiceProcess> scorer_;
};

TEST_F(ServicesTest, EveryServiceIsServingWithReflectionAndMetrics) {
  struct Expect {
    ServiceProcess* process;
    std::vector<std::string> services;
  };
  const std::vector<Expect> expects = {
      {graphstore_.get(), {"georisk.v1.GraphStore"}},
      {ingest_.get(), {"georisk.v1.Ingest"}},
      {scorer_.get(), {"georisk.v1.Alerts", "georisk.v1.Scorer"}},
  };
  for (const Expect& e : expects) {
    SCOPED_TRACE(e.services.front());
    // Health, for the server as a whole and for each named service.
    ASSERT_TRUE(common::WaitForServing(e.process->address(), "", kReady).ok())
        << e.process->Log();
    for (const std::string& name : e.services) {
      absl::StatusOr<common::HealthState> state =
          common::CheckHealth(e.process->address(), name, absl::Seconds(5));
      ASSERT_TRUE(state.ok()) << state.status();
      EXPECT_EQ(*state, "SERVING");
    }
    EXPECT_EQ(common::CheckHealth(e.process->address(), "no.such.Service",
                                  absl::Seconds(5))
                  .status()
                  .code(),
              absl::StatusCode::kNotFound);

    // Reflection lists the georisk services and the standard ones.
    absl::StatusOr<std::vector<std::string>> names =
        common::ListServices(e.process->address(), absl::Seconds(5));
    ASSERT_TRUE(names.ok()) << names.status();
    EXPECT_THAT(*names, IsSupersetOf(e.services));
    EXPECT_THAT(*names, Contains("grpc.health.v1.Health"));
    EXPECT_THAT(*names, Contains("grpc.reflection.v1alpha.ServerReflection"));

    // /metrics counts the health checks made above, per method and code.
    absl::StatusOr<testing::HttpResult> scrape =
        HttpGet(e.process->metrics_port(), "/metrics");
    ASSERT_TRUE(scrape.ok()) << scrape.status();
    EXPECT_EQ(scrape->status, 200);
    EXPECT_THAT(scrape->headers,
                HasSubstr("Content-Type: text/plain; version=0.0.4"));
    EXPECT_THAT(scrape->body,
                HasSubstr("# TYPE grpc_server_handled_total counter"));
    EXPECT_THAT(scrape->body,
                HasSubstr("grpc_server_handled_total{grpc_service=\"grpc."
                          "health.v1.Health\",grpc_method=\"Check\",grpc_type="
                          "\"unary\",grpc_code=\"OK\"}"));
    EXPECT_THAT(scrape->body,
                HasSubstr("grpc_method=\"Check\",grpc_type=\"unary\","
                          "grpc_code=\"NotFound\"} 1"));
    EXPECT_THAT(scrape->body,
                HasSubstr("# TYPE grpc_server_handling_seconds histogram"));
    EXPECT_EQ(HttpGet(e.process->metrics_port(), "/nope")->status, 404);
  }
}

TEST_F(ServicesTest, SigtermDrainsAndExitsZero) {
  // Stop in reverse dependency order, as an operator would.
  for (ServiceProcess* p : {scorer_.get(), ingest_.get(), graphstore_.get()}) {
    ASSERT_TRUE(common::WaitForServing(p->address(), "", kReady).ok())
        << p->Log();
    absl::StatusOr<int> code = p->Stop(SIGTERM, absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << code.status() << "\n" << p->Log();
    EXPECT_EQ(*code, 0) << p->Log();
    EXPECT_THAT(p->Log(), HasSubstr("\"msg\":\"stopped\""));
  }
}

TEST(ServiceFlagsTest, BadFlagsExitTwoWithAClearMessage) {
  std::string dir = MakeTempDir("flags");
  struct Case {
    std::string binary;
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"services/graphstore/graphstore", {"--listen=nowhere"}, "--listen"},
      {"services/graphstore/graphstore",
       {"--listen=127.0.0.1:0"},
       "--data_dir: required"},
      {"services/scorer/scorer",
       {"--listen=127.0.0.1:0", "--log_level=loud",
        absl::StrCat("--data_dir=", dir, "/s")},
       "--log_level"},
      {"services/ingest/ingest",
       {"--metrics_listen=1.2.3.4"},
       "--metrics_listen"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.binary);
    ProcessOptions options{Runfile(c.binary), c.args, dir};
    options.add_port_flags = false;
    auto p = ServiceProcess::Start(options);
    ASSERT_TRUE(p.ok()) << p.status();
    absl::StatusOr<int> code = (*p)->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 2);
    EXPECT_THAT((*p)->Log(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace georisk
