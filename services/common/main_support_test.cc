#include "services/common/main_support.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

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
