#include "services/scorer/feed_merge.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1765000000);
const absl::Duration kHold = absl::Seconds(5);

absl::Time At(int millis) { return kT0 + absl::Milliseconds(millis); }

v1::Change Commit(int64_t sequence, int millis) {
  v1::Change c;
  c.set_sequence(sequence);
  *c.mutable_commit_time() = base::ToProtoTime(At(millis));
  return c;
}

// Everything Next() gives now, as "shard:sequence".
std::vector<std::string> Drain(FeedMerge& merge, absl::Time now) {
  std::vector<std::string> out;
  while (std::optional<FeedMerge::Run> run = merge.Next(now)) {
    EXPECT_FALSE(run->changes.empty());
    for (const v1::Change& c : run->changes) {
      out.push_back(absl::StrCat(run->shard, ":", c.sequence()));
    }
  }
  return out;
}

FeedMerge Connected(int shards) {
  FeedMerge merge(shards, kHold, kT0);
  for (int s = 0; s < shards; ++s) merge.Connected(s, true, kT0);
  return merge;
}

TEST(FeedMergeTest, AChangeWaitsUntilEveryOtherShardHasPassedItsTime) {
  FeedMerge merge = Connected(3);
  const absl::Time now = At(1000);
  merge.Deliver(0, {Commit(1, 100)}, 1, At(150), now);
  // Shards 1 and 2 have promised nothing: shard 0's change waits.
  EXPECT_TRUE(Drain(merge, now).empty());
  merge.Deliver(1, {}, 0, At(200), now);  // A heartbeat past 100 ms.
  EXPECT_TRUE(Drain(merge, now).empty());
  // Shard 2's watermark is exactly the change's time: a later commit of
  // shard 2 at that time would come after shard 0's (shard order).
  merge.Deliver(2, {}, 0, At(100), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("0:1"));
  EXPECT_EQ(merge.forced(), 0);
}

TEST(FeedMergeTest, ATieOnTimeGoesToTheLowerShard) {
  FeedMerge merge = Connected(2);
  const absl::Time now = At(1000);
  merge.Deliver(1, {Commit(1, 100)}, 1, At(100), now);
  // Shard 0 promises 100 ms: it may still commit at 100 ms, before shard
  // 1's change of the same time.
  merge.Deliver(0, {}, 0, At(100), now);
  EXPECT_TRUE(Drain(merge, now).empty());
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("0:1"));
  // Shard 0 could commit at 100 ms once more; past it, shard 1's goes.
  merge.Deliver(0, {}, 1, At(101), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("1:1"));
}

TEST(FeedMergeTest, AWatermarkBeforeTheHeadIsNoPromiseYet) {
  FeedMerge merge = Connected(2);
  const absl::Time now = At(1000);
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), now);
  // Shard 1's message holds change 1 of its head 3: changes 2 and 3 are on
  // their way and may be earlier than its watermark.
  merge.Deliver(1, {Commit(1, 50)}, 3, At(900), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("1:1"));
  merge.Deliver(1, {Commit(2, 80), Commit(3, 120)}, 3, At(900), now);
  // Shard 0 promised 100 ms only: shard 1's change at 120 ms waits for it.
  EXPECT_THAT(Drain(merge, now), ElementsAre("1:2", "0:1"));
  merge.Deliver(0, {}, 1, At(200), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("1:3"));
}

TEST(FeedMergeTest, TheLastDeliveredChangesTimeIsAFloor) {
  FeedMerge merge = Connected(2);
  const absl::Time now = At(1000);
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), now);
  // No watermark at all (an older graphstore), but a change at 300 ms: its
  // later changes cannot be earlier.
  merge.Deliver(1, {Commit(7, 300)}, 7, absl::InfinitePast(), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("0:1"));
  EXPECT_EQ(merge.floor(1), At(300));
}

// Two replicas given the same feeds in different arrival orders and
// message boundaries apply the same sequence.
TEST(FeedMergeTest, ArrivalOrderDoesNotChangeTheOrderApplied) {
  constexpr int kShards = 3;
  constexpr int kPerShard = 40;
  std::mt19937 random(7);
  // Each shard's commits at increasing times, some equal across shards.
  std::vector<std::vector<v1::Change>> feeds(kShards);
  for (int s = 0; s < kShards; ++s) {
    int millis = 0;
    for (int i = 1; i <= kPerShard; ++i) {
      millis += static_cast<int>(random() % 4);  // 0: the same time again.
      feeds[s].push_back(Commit(i, millis));
    }
  }
  auto replay = [&](unsigned seed) {
    std::mt19937 order(seed);
    FeedMerge merge = Connected(kShards);
    std::vector<size_t> next(kShards, 0);
    std::vector<std::string> applied;
    const absl::Time now = At(0);
    while (true) {
      std::vector<int> open;
      for (int s = 0; s < kShards; ++s) {
        if (next[s] < feeds[s].size()) open.push_back(s);
      }
      if (open.empty()) break;
      const int s = open[order() % open.size()];
      const size_t n =
          std::min(feeds[s].size() - next[s], size_t{1} + order() % 5);
      std::vector<v1::Change> batch(feeds[s].begin() + next[s],
                                    feeds[s].begin() + next[s] + n);
      next[s] += n;
      const int64_t head = static_cast<int64_t>(next[s]);
      // The watermark: the next commit's time, or later when none is left.
      const absl::Time watermark =
          next[s] < feeds[s].size()
              ? base::FromProtoTime(feeds[s][next[s]].commit_time())
              : At(1'000'000);
      merge.Deliver(s, std::move(batch), head, watermark, now);
      for (std::string& a : Drain(merge, now)) applied.push_back(a);
    }
    for (int s = 0; s < kShards; ++s)
      merge.Deliver(s, {}, kPerShard, At(1'000'000), now);
    for (std::string& a : Drain(merge, now)) applied.push_back(a);
    EXPECT_EQ(merge.forced(), 0);
    return applied;
  };
  const std::vector<std::string> first = replay(1);
  ASSERT_EQ(first.size(), size_t{kShards * kPerShard});
  for (unsigned seed = 2; seed < 30; ++seed) {
    EXPECT_EQ(replay(seed), first) << "arrival order " << seed;
  }
  // And it is the (time, shard, sequence) order.
  std::vector<std::tuple<absl::Time, int, int64_t, std::string>> expected;
  for (int s = 0; s < kShards; ++s) {
    for (const v1::Change& c : feeds[s]) {
      expected.emplace_back(base::FromProtoTime(c.commit_time()), s,
                            c.sequence(), absl::StrCat(s, ":", c.sequence()));
    }
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> names;
  for (const auto& e : expected) names.push_back(std::get<3>(e));
  EXPECT_EQ(first, names);
}

TEST(FeedMergeTest, AChangeWaitsAtMostTheHoldThenIsForced) {
  FeedMerge merge = Connected(2);
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), At(1000));
  // Shard 1 is connected but silent (stalled, or its clock far behind).
  EXPECT_TRUE(Drain(merge, At(1000) + kHold - absl::Milliseconds(1)).empty());
  EXPECT_THAT(Drain(merge, At(1000) + kHold), ElementsAre("0:1"));
  EXPECT_EQ(merge.forced(), 1);
}

TEST(FeedMergeTest, AShardDisconnectedForTheHoldIsNotWaitedFor) {
  FeedMerge merge = Connected(2);
  merge.Connected(1, false, At(0));
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), At(100));
  EXPECT_TRUE(Drain(merge, At(100)).empty());
  // Five seconds after shard 1 went away, its changes are not waited for.
  EXPECT_THAT(Drain(merge, At(0) + kHold), ElementsAre("0:1"));
  merge.Deliver(0, {Commit(2, 200)}, 2, At(200), At(0) + kHold);
  EXPECT_THAT(Drain(merge, At(0) + kHold), ElementsAre("0:2"));
  EXPECT_EQ(merge.forced(), 2);
  // Back: it is waited for again.
  merge.Connected(1, true, At(6000));
  merge.Deliver(0, {Commit(3, 6000)}, 3, At(6000), At(6000));
  EXPECT_TRUE(Drain(merge, At(6000)).empty());
}

TEST(FeedMergeTest, AShardNeverConnectedIsWaitedForTheHoldFromTheStart) {
  FeedMerge merge(2, kHold, At(0));
  merge.Connected(0, true, At(0));
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), At(100));
  EXPECT_TRUE(Drain(merge, At(4000)).empty());
  EXPECT_THAT(Drain(merge, At(5000)), ElementsAre("0:1"));
}

// The feeds start after the first load, which can take longer than the
// hold: each shard still gets the whole hold to connect from then.
TEST(FeedMergeTest, AShardIsWaitedForTheHoldFromWhenTheFeedsStart) {
  FeedMerge merge(2, kHold, At(0));
  merge.StartWaiting(At(60'000));  // The load took a minute.
  merge.Connected(0, true, At(60'000));
  merge.Deliver(0, {Commit(1, 60'000)}, 1, At(60'000), At(60'100));
  EXPECT_TRUE(Drain(merge, At(60'100)).empty());
  merge.Connected(1, true, At(60'200));
  merge.Deliver(1, {}, 0, At(60'300), At(60'300));
  EXPECT_THAT(Drain(merge, At(60'300)), ElementsAre("0:1"));
  EXPECT_EQ(merge.forced(), 0);
}

TEST(FeedMergeTest, ResetForgetsTheQueueAndTheFloor) {
  FeedMerge merge = Connected(2);
  const absl::Time now = At(1000);
  merge.Deliver(1, {Commit(1, 900), Commit(2, 950)}, 2, At(990), now);
  merge.Reset(1, 0);
  EXPECT_EQ(merge.queued(1), 0);
  EXPECT_EQ(merge.floor(1), absl::InfinitePast());
  merge.Deliver(0, {Commit(1, 100)}, 1, At(100), now);
  EXPECT_TRUE(Drain(merge, now).empty());  // Shard 1 must promise again.
  // A heartbeat at the cursor the reset gave (nothing delivered since):
  // its watermark counts.
  merge.Deliver(1, {}, 0, At(500), now);
  EXPECT_THAT(Drain(merge, now), ElementsAre("0:1"));
}

TEST(FeedMergeTest, ARunIsOneShardsConsecutiveChangesAtMostKMaxRun) {
  FeedMerge merge(1, kHold, kT0);
  merge.Connected(0, true, kT0);
  std::vector<v1::Change> many;
  for (int i = 1; i <= FeedMerge::kMaxRun + 5; ++i) {
    many.push_back(Commit(i, i));
  }
  merge.Deliver(0, std::move(many), FeedMerge::kMaxRun + 5, At(1), At(0));
  std::optional<FeedMerge::Run> run = merge.Next(At(0));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->changes.size(), size_t{FeedMerge::kMaxRun});
  EXPECT_EQ(run->changes.front().sequence(), 1);
  run = merge.Next(At(0));
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->changes.size(), 5u);
  EXPECT_FALSE(merge.Next(At(0)).has_value());
}

}  // namespace
}  // namespace georisk::scorer
