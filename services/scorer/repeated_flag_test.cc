#include "services/scorer/repeated_flag.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Merge(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::string merged;
  std::vector<char*> out = MergeRepeatedFlag(
      static_cast<int>(argv.size()), argv.data(), "alertmanager_url", &merged);
  return std::vector<std::string>(out.begin(), out.end());
}

TEST(MergeRepeatedFlagTest, NoOccurrenceKeepsArgs) {
  EXPECT_THAT(Merge({"scorer", "--data_dir=/d", "--alertmanager_urlx=1"}),
              ElementsAre("scorer", "--data_dir=/d", "--alertmanager_urlx=1"));
}

TEST(MergeRepeatedFlagTest, OneOccurrenceMovesToTheEnd) {
  EXPECT_THAT(
      Merge({"scorer", "--alertmanager_url=http://a:9093", "--data_dir=/d"}),
      ElementsAre("scorer", "--data_dir=/d",
                  "--alertmanager_url=http://a:9093"));
}

TEST(MergeRepeatedFlagTest, RepeatsAndListsJoinInOrder) {
  EXPECT_THAT(
      Merge({"scorer", "--alertmanager_url=http://a:9093", "--data_dir=/d",
             "--alertmanager_url=http://b:9093,http://c:9093"}),
      ElementsAre("scorer", "--data_dir=/d",
                  "--alertmanager_url=http://a:9093,http://b:9093,"
                  "http://c:9093"));
}

TEST(MergeRepeatedFlagTest, EmptyValueIsKeptAsAnOccurrence) {
  EXPECT_THAT(Merge({"scorer", "--alertmanager_url="}),
              ElementsAre("scorer", "--alertmanager_url="));
}

}  // namespace
}  // namespace georisk::scorer
