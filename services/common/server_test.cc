// GrpcServer's contract: readiness in health, the port file, and a shutdown
// that lets in-flight calls finish within the grace period, cancels what
// outlives it, and is not held up by idle client connections.
#include "services/common/server.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/sync_stream.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
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
  grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                      const v1::GetEntityRequest* request,
                                      v1::Entity*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 absl::StrCat("entity ", request->id())));
    return reactor;
  }

 private:
  const absl::Duration delay_;
};

// Calls unary `method` with `bytes` as the request, unparsed.
grpc::Status CallRaw(const std::string& address, const std::string& method,
                     const std::string& bytes) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(),
      grpc::internal::RpcMethod(method.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, &response);
}

// Asks `address` for its service list over server reflection; the call's
// status (UNIMPLEMENTED where reflection is not served).
grpc::Status ListServicesByReflection(const std::string& address) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>::
                 Create(channel.get(),
                        grpc::internal::RpcMethod(
                            "/grpc.reflection.v1alpha.ServerReflection/"
                            "ServerReflectionInfo",
                            grpc::internal::RpcMethod::BIDI_STREAMING),
                        &context));
  // ServerReflectionRequest{list_services: "*"} (field 7, a string).
  grpc::Slice slice(std::string("\x3a\x01*", 3));
  grpc::ByteBuffer request(&slice, 1);
  stream->Write(request);
  stream->WritesDone();
  grpc::ByteBuffer response;
  while (stream->Read(&response)) {
  }
  return stream->Finish();
}

class GrpcServerTest : public ::testing::Test {
 protected:
  void Start(absl::Duration delay, absl::Duration grace) {
    service_ = std::make_unique<SlowService>(delay);
    ServerOptions options;
    options.service_name = "test";
    options.shutdown_grace = grace;
    options.port_file = dir_ + "/ports";
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

  const std::string dir_ = base::testing::MakeTempDir("server");
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

  std::ifstream in(dir_ + "/ports");
  std::stringstream ports;
  ports << in.rdbuf();
  EXPECT_NE(ports.str().find(absl::StrCat("grpc_port=", server_->port(), "\n")),
            std::string::npos);
  EXPECT_NE(ports.str().find(
                absl::StrCat("metrics_port=", server_->metrics_port(), "\n")),
            std::string::npos);
  EXPECT_GT(server_->metrics_port(), 0);
}

TEST_F(GrpcServerTest, AnExtraHealthNameIsReportedOnItsOwn) {
  Start(absl::ZeroDuration(), absl::Seconds(5));
  server_->SetServing(true);
  server_->SetHealth("georisk.v1.GraphStore.Apply", false);
  EXPECT_EQ(
      *CheckHealth(address_, "georisk.v1.GraphStore.Apply", absl::Seconds(5)),
      "NOT_SERVING");
  // The server and its services are still serving.
  EXPECT_EQ(*CheckHealth(address_, "", absl::Seconds(5)), "SERVING");
  EXPECT_EQ(*CheckHealth(address_, "georisk.v1.GraphStore", absl::Seconds(5)),
            "SERVING");
  server_->SetHealth("georisk.v1.GraphStore.Apply", true);
  EXPECT_EQ(
      *CheckHealth(address_, "georisk.v1.GraphStore.Apply", absl::Seconds(5)),
      "SERVING");
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
  // Nor is reflection, which the main port serves (with its credentials).
  EXPECT_EQ(ListServicesByReflection(health).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(
      ListServicesByReflection(absl::StrCat("127.0.0.1:", (*server)->port()))
          .ok());
  (*server)->Shutdown();
  EXPECT_FALSE(CheckHealth(health, "", absl::Seconds(1)).ok());
}

TEST_F(GrpcServerTest, UnparseableRequestsAreInvalidArgument) {
  Start(absl::ZeroDuration(), absl::Seconds(5));
  const std::string get_entity = "/georisk.v1.GraphStore/GetEntity";
  // A well-formed request reaches the service.
  grpc::Status s = CallRaw(address_, get_entity, std::string("\x0a\x01x", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(s.error_message(), "entity x");
  // id = "\xff": not UTF-8.
  s = CallRaw(address_, get_entity, std::string("\x0a\x01\xff", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "the request to /georisk.v1.GraphStore/GetEntity is not a valid "
            "message of its type (malformed protobuf, or a string field that "
            "is not UTF-8)");
  // Garbage: a length-delimited field longer than the message.
  s = CallRaw(address_, get_entity, std::string("\x0a\x7f\x01\x02", 4));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A method that does not exist is still UNIMPLEMENTED.
  s = CallRaw(address_, "/georisk.v1.GraphStore/NoSuchMethod", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // And so is one the service does not implement, with a request that parses.
  s = CallRaw(address_, "/georisk.v1.GraphStore/GetStats", "");
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = CallRaw(address_, "/georisk.v1.GraphStore/Traverse", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // The metrics count what was answered.
  EXPECT_NE(
      registry_.Render().find("grpc_method=\"GetEntity\",grpc_type=\"unary\","
                              "grpc_code=\"InvalidArgument\""),
      std::string::npos)
      << registry_.Render();
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
