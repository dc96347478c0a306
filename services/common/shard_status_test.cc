#include "services/common/shard_status.h"

#include "gtest/gtest.h"

namespace georisk::common {
namespace {

TEST(ShardStatusTest, TheShardSurvivesRewording) {
  absl::Status s =
      FromShard(absl::UnavailableError("connection refused"), "graphstore-2");
  EXPECT_EQ(s.message(), "graphstore-2: connection refused");
  s = Reworded(s, "graphstore is unreachable (last error: ...)");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "graphstore is unreachable (last error: ...)");
  EXPECT_EQ(UnavailableShard(s), "graphstore-2");
  EXPECT_EQ(UnavailableShard(
                FromShard(absl::DeadlineExceededError("slow"), "graphstore-0")),
            "graphstore-0");
}

TEST(ShardStatusTest, OnlyRetryableCodesNameAnUnavailableShard) {
  EXPECT_EQ(UnavailableShard(FromShard(
                absl::FailedPreconditionError("not mine"), "graphstore-1")),
            std::nullopt);
  EXPECT_EQ(UnavailableShard(absl::UnavailableError("one graphstore")),
            std::nullopt);
  EXPECT_TRUE(FromShard(absl::OkStatus(), "graphstore-1").ok());
  EXPECT_TRUE(Reworded(absl::OkStatus(), "ignored").ok());
}

}  // namespace
}  // namespace georisk::common
