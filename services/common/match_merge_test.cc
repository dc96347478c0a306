#include "services/common/match_merge.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/match_testing.h"

namespace georisk::common {
namespace {

using ::georisk::common::match_testing::Answer;
using ::georisk::common::match_testing::Candidate;
using ::georisk::common::match_testing::Ids;
using ::testing::ElementsAre;

TEST(MergeMatchesTest, AutomaticLinksFirstThenScoreThenId) {
  v1::MatchEntitiesResponse merged = MergeMatches(
      {Answer({Candidate("company/b", 0.91), Candidate("company/d", 0.75)}, 4),
       Answer(
           {Candidate("company/a", 0.91), Candidate("company/e", 0.88, true)},
           7),
       Answer({}, 0)},
      0);
  EXPECT_THAT(Ids(merged),
              ElementsAre("company/e", "company/a", "company/b", "company/d"));
  EXPECT_EQ(merged.sequence(), 11);
}

TEST(MergeMatchesTest, KeepsTheLimitOverAllShards) {
  std::vector<v1::MatchEntitiesResponse> answers;
  for (int s = 0; s < 3; ++s) {
    std::vector<v1::MatchCandidate> cs;
    for (int i = 0; i < 5; ++i) {
      cs.push_back(
          Candidate("company/s" + std::to_string(s) + "-" + std::to_string(i),
                    0.99 - 0.01 * (3 * i + s)));
    }
    answers.push_back(Answer(std::move(cs), 1));
  }
  // 0 means 5: the five best of fifteen, interleaved across the shards.
  EXPECT_THAT(Ids(MergeMatches(answers, 0)),
              ElementsAre("company/s0-0", "company/s1-0", "company/s2-0",
                          "company/s0-1", "company/s1-1"));
  EXPECT_EQ(MergeMatches(answers, 2).candidates_size(), 2);
  EXPECT_EQ(MergeMatches(answers, 500).candidates_size(), 15);
}

TEST(MergeMatchesTest, AnIdAnsweredTwiceKeepsItsBetterCandidate) {
  v1::MatchEntitiesResponse merged =
      MergeMatches({Answer({Candidate("company/a", 0.8)}, 1),
                    Answer({Candidate("company/a", 0.9)}, 1)},
                   5);
  ASSERT_EQ(merged.candidates_size(), 1);
  EXPECT_DOUBLE_EQ(merged.candidates(0).score(), 0.9);
}

}  // namespace
}  // namespace georisk::common
