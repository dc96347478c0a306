#include "services/scorer/alert_pipeline.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Explanation WithContributions(
    const std::vector<std::pair<std::string, double>>& contributions) {
  v1::Explanation e;
  for (const auto& [description, fraction] : contributions) {
    v1::Contribution* c = e.add_contributions();
    c->set_description(description);
    c->set_fraction(fraction);
  }
  return e;
}

TEST(AlertReasonsTest, EmptyExplanationHasNoReasons) {
  EXPECT_THAT(AlertReasons(v1::Explanation()), IsEmpty());
}

TEST(AlertReasonsTest, ContributionsWithRoundedPercent) {
  EXPECT_THAT(AlertReasons(WithContributions(
                  {{"listed by US-BIS", 0.625}, {"tariff CN->US", 0.004}})),
              ElementsAre("listed by US-BIS (63%)", "tariff CN->US (0%)"));
}

TEST(AlertReasonsTest, AtMostThreeContributionsThenTheFirstPath) {
  v1::Explanation e =
      WithContributions({{"a", 0.4}, {"b", 0.3}, {"c", 0.2}, {"d", 0.1}});
  e.add_paths()->set_summary("X <- Y: cross-strait 0.6");
  e.add_paths()->set_summary("X <- Z: tariffs 0.1");
  EXPECT_THAT(AlertReasons(e), ElementsAre("a (40%)", "b (30%)", "c (20%)",
                                           "X <- Y: cross-strait 0.6"));
}

TEST(AlertReasonsTest, PathWithoutContributions) {
  v1::Explanation e;
  e.add_paths()->set_summary("only a path");
  EXPECT_THAT(AlertReasons(e), ElementsAre("only a path"));
}

}  // namespace
}  // namespace georisk::scorer
