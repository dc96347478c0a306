#include "services/common/rpc_edge.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "georisk/v1/graphstore.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/shard_status.h"

namespace georisk::common {
namespace {

// Answers GetStats and WatchChanges with the status it is told to, through
// the edge helpers under test.
class EdgeService final : public v1::GraphStore::CallbackService {
 public:
  absl::Status answer = absl::OkStatus();

  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override {
    response->set_last_sequence(7);
    return FinishUnary(context, answer);
  }

  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext* context,
      const v1::WatchChangesRequest* request) override {
    return RefuseStream<v1::WatchChangesResponse>(context, answer);
  }
};

class RpcEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::GraphStore::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  static std::vector<std::string> Pushback(const grpc::ClientContext& c) {
    return Trailer(c, kRetryPushbackKey);
  }

  static std::vector<std::string> Trailer(const grpc::ClientContext& c,
                                          const char* key) {
    std::vector<std::string> out;
    auto range = c.GetServerTrailingMetadata().equal_range(key);
    for (auto it = range.first; it != range.second; ++it) {
      out.emplace_back(it->second.data(), it->second.size());
    }
    return out;
  }

  EdgeService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::GraphStore::Stub> stub_;
};

TEST_F(RpcEdgeTest, UnaryOkHasNoHint) {
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  grpc::Status s = stub_->GetStats(&context, {}, &response);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(response.last_sequence(), 7);
  EXPECT_THAT(Pushback(context), ::testing::IsEmpty());
}

TEST_F(RpcEdgeTest, UnaryUnavailableCarriesTheHint) {
  service_.answer = absl::UnavailableError("store closing");
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  grpc::Status s = stub_->GetStats(&context, {}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "store closing");
  EXPECT_THAT(Pushback(context), ::testing::ElementsAre("2000"));
}

TEST_F(RpcEdgeTest, UnavailableFromAShardNamesTheShard) {
  service_.answer =
      FromShard(absl::UnavailableError("connection refused"), "graphstore-2");
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  grpc::Status s = stub_->GetStats(&context, {}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "graphstore-2: connection refused");
  EXPECT_THAT(Pushback(context), ::testing::ElementsAre("2000"));
  EXPECT_THAT(Trailer(context, kUnavailableShardKey),
              ::testing::ElementsAre("graphstore-2"));
  // An UNAVAILABLE of no shard names none.
  service_.answer = absl::UnavailableError("store closing");
  grpc::ClientContext plain;
  stub_->GetStats(&plain, {}, &response);
  EXPECT_THAT(Trailer(plain, kUnavailableShardKey), ::testing::IsEmpty());
}

TEST_F(RpcEdgeTest, UnaryOtherErrorsHaveNoHint) {
  service_.answer = absl::InvalidArgumentError("id: required");
  grpc::ClientContext context;
  v1::GetStatsResponse response;
  grpc::Status s = stub_->GetStats(&context, {}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "id: required");
  EXPECT_THAT(Pushback(context), ::testing::IsEmpty());
}

TEST_F(RpcEdgeTest, RefusedStreamFinishesWithTheStatusAndHint) {
  for (const absl::Status& answer :
       {absl::UnavailableError("shutting down"),
        absl::ResourceExhaustedError("more than 2 streams")}) {
    service_.answer = answer;
    grpc::ClientContext context;
    auto reader = stub_->WatchChanges(&context, {});
    v1::WatchChangesResponse response;
    EXPECT_FALSE(reader->Read(&response));
    grpc::Status s = reader->Finish();
    EXPECT_EQ(static_cast<int>(s.error_code()),
              static_cast<int>(answer.code()));
    EXPECT_EQ(s.error_message(), answer.message());
    if (answer.code() == absl::StatusCode::kUnavailable) {
      EXPECT_THAT(Pushback(context), ::testing::ElementsAre("2000"));
    } else {
      EXPECT_THAT(Pushback(context), ::testing::IsEmpty());
    }
  }
}

TEST(ConcurrencyLimitTest, RefusesPastTheLimitAndReleasesOnDestruction) {
  ConcurrencyLimit limit(2, "WatchChanges streams");
  absl::StatusOr<ConcurrencyLimit::Slot> a = limit.TryAcquire();
  absl::StatusOr<ConcurrencyLimit::Slot> b = limit.TryAcquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(limit.in_use(), 2);
  absl::StatusOr<ConcurrencyLimit::Slot> c = limit.TryAcquire();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c.status().message(),
            "more than 2 WatchChanges streams at once; retry later");
  EXPECT_EQ(limit.in_use(), 2);
  {
    ConcurrencyLimit::Slot moved = *std::move(a);
    EXPECT_EQ(limit.in_use(), 2);
  }
  EXPECT_EQ(limit.in_use(), 1);
  EXPECT_TRUE(limit.TryAcquire().ok());  // Acquired and released at once.
  EXPECT_EQ(limit.in_use(), 1);
}

TEST(ConcurrencyLimitTest, MoveAssignmentReleasesTheOverwrittenSlot) {
  ConcurrencyLimit one(1, "a");
  ConcurrencyLimit other(1, "b");
  absl::StatusOr<ConcurrencyLimit::Slot> x = one.TryAcquire();
  absl::StatusOr<ConcurrencyLimit::Slot> y = other.TryAcquire();
  ASSERT_TRUE(x.ok() && y.ok());
  *x = *std::move(y);
  EXPECT_EQ(one.in_use(), 0);
  EXPECT_EQ(other.in_use(), 1);
}

}  // namespace
}  // namespace georisk::common
