// GrpcServer's contract: readiness in health, the port file, and a shutdown
// that lets in-flight calls finish within the grace period, cancels what
// outlives it, and is not held up by idle client connections.
#include "services/common/server.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"

namespace georisk::common {
namespace {

// A service whose GetStats takes `delay` to answer.
class SlowService final : public v1::GraphStore::CallbackService {
 public:
  explicit SlowService(absl::Duration delay) : delay_(delay) {}
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest*,
                                     v1::GetStatsResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::Duration delay = delay_;
    std::thread([reactor, response, delay] {
      absl::SleepFor(delay);
      response->set_last_sequence(42);
      reactor->Finish(grpc::Status::OK);
    }).detach();
    return reactor;
  }

 private:
  const absl::Duration delay_;
};

std::string TempPath(absl::string_view name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return absl::StrCat(base ? base : "/tmp", "/", name);
}

class GrpcServerTest : public ::testing::Test {
 protected:
  void Start(absl::Duration delay, absl::Duration grace) {
    service_ = std::make_unique<SlowService>(delay);
    ServerOptions options;
    options.service_name = "test";
    options.shutdown_grace = grace;
    options.port_file = TempPath("ports");
    auto server = GrpcServer::Start(
        options, {{service_.get(), v1::GraphStore::service_full_name()}},
        &registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    stub_ = v1::GraphStore::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  grpc::Status CallGetStats(v1::GetStatsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    return stub_->GetStats(&context, v1::GetStatsRequest(), response);
  }

  MetricsRegistry registry_;
  std::unique_ptr<SlowService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::string address_;
  std::unique_ptr<v1::GraphStore::Stub> stub_;
};

TEST_F(GrpcServerTest, HealthFollowsReadinessAndPortFileNamesThePorts) {
  Start(absl::ZeroDuration(), absl::Seconds(5));
  EXPECT_EQ(*CheckHealth(address_, "", absl::Seconds(5)), "NOT_SERVING");
  EXPECT_EQ(*CheckHealth(address_, "georisk.v1.GraphStore", absl::Seconds(5)),
            "NOT_SERVING");
  server_->SetServing(true);
  EXPECT_EQ(*CheckHealth(address_, "", absl::Seconds(5)), "SERVING");
  EXPECT_EQ(*CheckHealth(address_, "georisk.v1.GraphStore", absl::Seconds(5)),
            "SERVING");

  std::ifstream in(TempPath("ports"));
  std::stringstream ports;
  ports << in.rdbuf();
  EXPECT_NE(ports.str().find(absl::StrCat("grpc_port=", server_->port(), "\n")),
            std::string::npos);
  EXPECT_NE(ports.str().find(
                absl::StrCat("metrics_port=", server_->metrics_port(), "\n")),
            std::string::npos);
  EXPECT_GT(server_->metrics_port(), 0);
}

TEST_F(GrpcServerTest, IdleClientConnectionDoesNotHoldShutdown) {
  Start(absl::ZeroDuration(), absl::Seconds(10));
  v1::GetStatsResponse response;
  ASSERT_TRUE(CallGetStats(&response).ok());  // The channel stays connected.
  absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(GrpcServerTest, InFlightCallFinishesWithinTheGracePeriod) {
  Start(absl::Milliseconds(800), absl::Seconds(10));
  grpc::Status status;
  v1::GetStatsResponse response;
  std::thread caller([&] { status = CallGetStats(&response); });
  absl::SleepFor(absl::Milliseconds(200));  // The call is in flight.
  absl::Time start = absl::Now();
  server_->Shutdown();
  absl::Duration took = absl::Now() - start;
  caller.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.last_sequence(), 42);
  EXPECT_GT(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(GrpcServerTest, CallOutlivingTheGracePeriodIsCancelled) {
  Start(absl::Seconds(3), absl::Milliseconds(300));
  grpc::Status status;
  absl::Time answered;
  v1::GetStatsResponse response;
  std::thread caller([&] {
    status = CallGetStats(&response);
    answered = absl::Now();
  });
  absl::SleepFor(absl::Milliseconds(200));
  absl::Time start = absl::Now();
  // Returns once the handler finished (the callback API cannot abandon a
  // reactor); the client is told at the end of the grace period.
  server_->Shutdown();
  caller.join();
  EXPECT_FALSE(status.ok());
  EXPECT_LT(answered - start, absl::Seconds(1));
}

TEST_F(GrpcServerTest, ShutdownIsIdempotentAndHooksRunOnce) {
  Start(absl::ZeroDuration(), absl::Seconds(1));
  int hooks = 0;
  server_->AddShutdownHook([&] { ++hooks; });
  server_->Shutdown();
  server_->Shutdown();
  EXPECT_EQ(hooks, 1);
  EXPECT_FALSE(CheckHealth(address_, "", absl::Seconds(1)).ok());
}

TEST(GrpcServerHealthPortTest, ServesHealthAndNothingElse) {
  SlowService service(absl::ZeroDuration());
  MetricsRegistry registry;
  ServerOptions options;
  options.service_name = "test";
  options.metrics_address = "";
  options.health_listen_address = "127.0.0.1:0";
  auto server = GrpcServer::Start(
      options, {{&service, v1::GraphStore::service_full_name()}}, &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string health =
      absl::StrCat("127.0.0.1:", (*server)->health_port());
  ASSERT_GT((*server)->health_port(), 0);
  EXPECT_EQ(*CheckHealth(health, "", absl::Seconds(5)), "NOT_SERVING");
  (*server)->SetServing(true);
  EXPECT_EQ(*CheckHealth(health, "", absl::Seconds(5)), "SERVING");
  EXPECT_EQ(*CheckHealth(health, "georisk.v1.GraphStore", absl::Seconds(5)),
            "SERVING");
  // The service itself is not reachable there.
  auto stub = v1::GraphStore::NewStub(
      grpc::CreateChannel(health, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  EXPECT_EQ(
      stub->GetStats(&context, v1::GetStatsRequest(), &response).error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
  (*server)->Shutdown();
  EXPECT_FALSE(CheckHealth(health, "", absl::Seconds(1)).ok());
}

TEST(GrpcServerStartTest, BusyPortIsUnavailable) {
  MetricsRegistry registry;
  ServerOptions options;
  options.service_name = "a";
  options.metrics_address = "";
  auto first = GrpcServer::Start(options, {}, &registry);
  ASSERT_TRUE(first.ok());
  options.listen_address = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = GrpcServer::Start(options, {}, &registry);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace georisk::common
