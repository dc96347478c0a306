#include "services/ingest/sharded_resolution_client.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/shard_status.h"
#include "services/common/testing/match_testing.h"

namespace georisk::ingest {
namespace {

using ::georisk::common::match_testing::Answer;
using ::georisk::common::match_testing::Candidate;
using ::georisk::common::match_testing::Ids;
using ::testing::ElementsAre;

// A shard's Resolution: answers what it was given, records the request.
class FakeShard final : public ResolutionClient {
 public:
  explicit FakeShard(absl::StatusOr<v1::MatchEntitiesResponse> answer)
      : answer_(std::move(answer)) {}

  absl::StatusOr<v1::MatchEntitiesResponse> MatchEntities(
      const v1::MatchEntitiesRequest& request, absl::Time deadline,
      Cancellation* cancel) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      deadline_ = deadline;
    }
    if (block_) {
      // Waits to be cancelled, as a call in flight would.
      absl::Notification cancelled;
      if (!cancel->SetHook([&cancelled] { cancelled.Notify(); })) {
        return absl::CancelledError("cancelled before the call");
      }
      started_.Notify();
      cancelled.WaitForNotification();
      cancel->ClearHook();
      return absl::CancelledError("call cancelled");
    }
    return answer_;
  }

  void Block() { block_ = true; }
  absl::Notification& started() { return started_; }
  std::vector<v1::MatchEntitiesRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  absl::Time deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }

 private:
  const absl::StatusOr<v1::MatchEntitiesResponse> answer_;
  bool block_ = false;
  absl::Notification started_;
  absl::Mutex mu_;
  std::vector<v1::MatchEntitiesRequest> requests_ ABSL_GUARDED_BY(mu_);
  absl::Time deadline_ ABSL_GUARDED_BY(mu_);
};

struct Shards {
  std::vector<FakeShard*> fakes;
  std::unique_ptr<ShardedResolutionClient> client;
};

Shards Make(std::vector<absl::StatusOr<v1::MatchEntitiesResponse>> answers) {
  Shards out;
  std::vector<std::unique_ptr<ResolutionClient>> clients;
  for (auto& a : answers) {
    auto fake = std::make_unique<FakeShard>(std::move(a));
    out.fakes.push_back(fake.get());
    clients.push_back(std::move(fake));
  }
  auto client = ShardedResolutionClient::Create(std::move(clients));
  EXPECT_TRUE(client.ok()) << client.status();
  out.client = *std::move(client);
  return out;
}

TEST(ShardedResolutionClientTest, AsksEveryShardTheSameQuestion) {
  Shards s =
      Make({Answer({Candidate("company/x", 0.8)}, 1),
            Answer({Candidate("company/y", 0.95, true)}, 2), Answer({}, 3)});
  v1::MatchEntitiesRequest request;
  request.mutable_query()->set_name("Acme Semiconductor");
  request.mutable_query()->set_entity_id("company/q");
  request.set_limit(3);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  Cancellation cancel;
  auto r = s.client->MatchEntities(request, deadline, &cancel);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(*r), ElementsAre("company/y", "company/x"));
  EXPECT_EQ(r->sequence(), 6);
  for (FakeShard* f : s.fakes) {
    ASSERT_EQ(f->requests().size(), 1u);
    EXPECT_EQ(f->requests()[0].SerializeAsString(),
              request.SerializeAsString());
    EXPECT_EQ(f->deadline(), deadline);
  }
}

TEST(ShardedResolutionClientTest, OneShardDownFailsTheWholeMatchNamingIt) {
  Shards s =
      Make({Answer({Candidate("company/x", 0.8)}, 1),
            absl::UnavailableError("connection refused"), Answer({}, 3)});
  v1::MatchEntitiesRequest request;
  request.mutable_query()->set_name("Acme");
  auto r =
      s.client->MatchEntities(request, absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "graphstore-1: connection refused");
  EXPECT_EQ(common::UnavailableShard(r.status()), "graphstore-1");
}

TEST(ShardedResolutionClientTest, AnAnswerAboutTheRequestWinsOverTransport) {
  Shards s = Make({absl::UnavailableError("connection refused"),
                   absl::InvalidArgumentError("query.country: 'XX' unknown"),
                   absl::InvalidArgumentError("query.country: 'XX' unknown")});
  v1::MatchEntitiesRequest request;
  auto r =
      s.client->MatchEntities(request, absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "graphstore-1: query.country: 'XX' unknown");
}

TEST(ShardedResolutionClientTest, CancellingTheCallerCancelsEveryShard) {
  Shards s = Make({Answer({}, 1), Answer({}, 1)});
  s.fakes[0]->Block();
  s.fakes[1]->Block();
  Cancellation cancel;
  absl::StatusOr<v1::MatchEntitiesResponse> r;
  std::thread caller([&] {
    r = s.client->MatchEntities(v1::MatchEntitiesRequest(),
                                absl::Now() + absl::Hours(1), &cancel);
  });
  s.fakes[0]->started().WaitForNotification();
  s.fakes[1]->started().WaitForNotification();
  cancel.Cancel();
  caller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST(ShardedResolutionClientTest, AlreadyCancelledAsksNoShard) {
  Shards s = Make({Answer({}, 1), Answer({}, 1)});
  Cancellation cancel;
  cancel.Cancel();
  auto r = s.client->MatchEntities(v1::MatchEntitiesRequest(),
                                   absl::Now() + absl::Seconds(5), &cancel);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(s.fakes[0]->requests().empty());
  EXPECT_TRUE(s.fakes[1]->requests().empty());
}

TEST(ShardedResolutionClientTest, RefusesAMissingShard) {
  std::vector<std::unique_ptr<ResolutionClient>> clients;
  clients.push_back(std::make_unique<FakeShard>(Answer({}, 0)));
  clients.push_back(nullptr);
  auto c = ShardedResolutionClient::Create(std::move(clients));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "no resolution client for shard graphstore-1");
  EXPECT_FALSE(ShardedResolutionClient::Create({}).ok());
}

}  // namespace
}  // namespace georisk::ingest
