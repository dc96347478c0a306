#include "base/testing/temp_dir.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace georisk::base::testing {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

TEST(MakeTempDirTest, CreatesANewDirectoryUnderTestTmpdirNamedAfterPrefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  ASSERT_NE(base, nullptr);
  const std::string dir = MakeTempDir("store");
  EXPECT_TRUE(absl::StartsWith(dir, std::string(base) + "/store."));
  EXPECT_TRUE(IsDirectory(dir));
  std::ofstream(dir + "/file") << "x";
  EXPECT_TRUE(std::ifstream(dir + "/file").good());
}

TEST(MakeTempDirTest, EveryCallGivesAnotherDirectory) {
  const std::string a = MakeTempDir("same");
  const std::string b = MakeTempDir("same");
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsDirectory(a));
  EXPECT_TRUE(IsDirectory(b));
}

TEST(MakeTempDirDeathTest, AbortsWhenTheDirectoryCannotBeCreated) {
  EXPECT_DEATH(MakeTempDir("no/such/parent"), "MakeTempDir: cannot create");
}

}  // namespace
}  // namespace georisk::base::testing
