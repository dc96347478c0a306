#include "services/scorer/score_change_log.h"

#include <thread>

#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

std::vector<v1::ScoreChange> Changes(int n, int first_id) {
  std::vector<v1::ScoreChange> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].mutable_after()->set_entity_id("company/" +
                                          std::to_string(first_id + i));
  }
  return out;
}

TEST(ScoreChangeLogTest, ReadsInOrderFromAnyRetainedSequence) {
  ScoreChangeLog log(10);
  EXPECT_EQ(log.Append(Changes(3, 1)), 3);
  std::vector<v1::ScoreChange> out;
  absl::StatusOr<int64_t> next = log.Read(2, 100, &out);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 4);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].after().entity_id(), "company/2");
  out.clear();
  EXPECT_EQ(*log.Read(4, 100, &out), 4);  // Nothing new.
  EXPECT_TRUE(out.empty());
}

TEST(ScoreChangeLogTest, DropsTheOldestAndSaysSo) {
  ScoreChangeLog log(5);
  log.Append(Changes(8, 1));
  std::vector<v1::ScoreChange> out;
  EXPECT_EQ(log.Read(3, 100, &out).status().code(),
            absl::StatusCode::kOutOfRange);
  absl::StatusOr<int64_t> next = log.Read(4, 2, &out);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 6);
  EXPECT_EQ(out[0].after().entity_id(), "company/4");
}

TEST(ScoreChangeLogTest, WaitWakesOnAppendAndTimesOut) {
  ScoreChangeLog log(5);
  EXPECT_EQ(log.WaitForSequence(1, absl::Now() + absl::Milliseconds(50)), 0);
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(50));
    log.Append(Changes(1, 1));
  });
  EXPECT_EQ(log.WaitForSequence(1, absl::Now() + absl::Seconds(10)), 1);
  t.join();
}

}  // namespace
}  // namespace georisk::scorer
