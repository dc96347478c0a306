#include "services/common/main_support.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::common {
namespace {

TEST(IsOwnFlagFileTest, ListsTheProgramsPackageAndSharedFlags) {
  EXPECT_TRUE(IsOwnFlagFile("graphstore", "services/graphstore/main.cc"));
  EXPECT_TRUE(IsOwnFlagFile("scorer", "services/scorer/main.cc"));
  EXPECT_TRUE(IsOwnFlagFile("scorer", "/build/src/services/scorer/server.cc"));
  EXPECT_TRUE(IsOwnFlagFile("georiskctl", "services/georiskctl/main.cc"));
  EXPECT_TRUE(IsOwnFlagFile("rpc_bench", "bench/rpc_bench.cc"));
  EXPECT_TRUE(IsOwnFlagFile("tool", "x/tool_main.cc"));
  EXPECT_TRUE(IsOwnFlagFile("ingest", "services/common/server_flags.cc"));
  EXPECT_TRUE(IsOwnFlagFile("ingest", "services/common/client_flags.cc"));
}

TEST(IsOwnFlagFileTest, LeavesOutOtherFiles) {
  EXPECT_FALSE(IsOwnFlagFile("graphstore", "services/scorer/main.cc"));
  EXPECT_FALSE(IsOwnFlagFile("graphstore", "absl/flags/parse.cc"));
  EXPECT_FALSE(IsOwnFlagFile("graphstore", "absl/log/flags.cc"));
  EXPECT_FALSE(IsOwnFlagFile("graphstore", "services/common/log.cc"));
  EXPECT_FALSE(IsOwnFlagFile("rpc_bench", "bench/rpc_bench_util.cc"));
  EXPECT_FALSE(IsOwnFlagFile("", "main.cc"));
}

std::vector<std::string> Repeated(std::vector<std::string> args) {
  args.insert(args.begin(), "georiskctl");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return RepeatedFlags(static_cast<int>(argv.size()), argv.data(),
                       {"snapshot_source", "source"});
}

TEST(RepeatedFlagsTest, NamesEachFlagGivenTwiceInAnyForm) {
  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  EXPECT_THAT(Repeated({"import", "a.csv", "--snapshot_source=trade.gov/csl:EL",
                        "--snapshot_source=trade.gov/csl:SDN"}),
              ElementsAre("snapshot_source"));
  EXPECT_THAT(Repeated({"import", "-snapshot_source", "x", "--snapshot_source",
                        "y", "--source=s", "-source=t", "--source=u"}),
              ElementsAre("snapshot_source", "source"));
  // Once each, other flags repeated, or after "--": not repeated.
  EXPECT_THAT(Repeated({"import", "--snapshot_source=x", "--source=y",
                        "--timeout=1s", "--timeout=2s"}),
              IsEmpty());
  EXPECT_THAT(
      Repeated({"import", "--snapshot_source=x", "--", "--snapshot_source=y"}),
      IsEmpty());
  // "--source --snapshot_source": the second is --source's value.
  EXPECT_THAT(Repeated({"import", "--source", "--snapshot_source",
                        "--snapshot_source=z"}),
              IsEmpty());
  // A longer name is another flag.
  EXPECT_THAT(
      Repeated({"--sources=a", "--sources=b", "--source_x=1", "--source_x=2"}),
      IsEmpty());
}

TEST(EnsureDirectoryTest, CreatesParentsAndRejectsFiles) {
  const std::string base = ::testing::TempDir();
  EXPECT_TRUE(EnsureDirectory(base + "/a/b/c").ok());
  struct stat st;
  EXPECT_EQ(::stat((base + "/a/b/c").c_str(), &st), 0);
  EXPECT_EQ(EnsureDirectory("").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(std::system(("touch " + base + "/file").c_str()), 0);
  EXPECT_EQ(EnsureDirectory(base + "/file").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::common
