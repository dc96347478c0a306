#include "storage/internal/info_log.h"

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "storage/testing/full_disk_file_system.h"

namespace georisk::storage::internal {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

TEST(InfoLogTest, WritesLinesWithTimeAndLevel) {
  const std::string dir = base::testing::MakeTempDir("info_log");
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> log =
      OpenInfoLog(dir + "/db", rocksdb::InfoLogLevel::INFO_LEVEL);
  ASSERT_TRUE(log.ok()) << log.status();
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, *log, "hello %d", 42);
  rocksdb::Log(rocksdb::InfoLogLevel::DEBUG_LEVEL, *log, "not at this level");
  const std::string text = ReadAll(dir + "/db/LOG");
  EXPECT_THAT(text, HasSubstr("[WARN] hello 42\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("not at this level")));
  EXPECT_EQ(DroppedInfoLogLines(**log), 0);
}

// /dev/full answers every write with ENOSPC, as a full disk does. RocksDB's
// own file logger aborted the process on the second line after a failed
// write (Debian's librocksdb has assertions on); this one drops the lines.
TEST(InfoLogTest, AFullDiskDropsLinesAndDoesNotCrash) {
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> log =
      NewInfoLog("/dev/full", rocksdb::InfoLogLevel::INFO_LEVEL);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 100; ++i) {
    rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, *log, "line %d", i);
    (*log)->Flush();
  }
  EXPECT_EQ(DroppedInfoLogLines(**log), 100);
}

TEST(InfoLogTest, RotatesThePreviousLogAndKeepsTheNewestOldOnes) {
  const std::string dir = base::testing::MakeTempDir("info_log");
  for (int run = 0; run < kKeptOldInfoLogs + 3; ++run) {
    absl::StatusOr<std::shared_ptr<rocksdb::Logger>> log =
        OpenInfoLog(dir, rocksdb::InfoLogLevel::INFO_LEVEL);
    ASSERT_TRUE(log.ok()) << log.status();
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, *log, "run %d", run);
  }
  int old = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("LOG.old.", 0) == 0) ++old;
  }
  EXPECT_EQ(old, kKeptOldInfoLogs);
  EXPECT_THAT(ReadAll(dir + "/LOG"),
              HasSubstr(absl::StrCat("run ", kKeptOldInfoLogs + 2)));
}

// A database whose disk fills: RocksDB logs the failed writes and its
// recovery attempts through this log, and carries on once space is back.
TEST(InfoLogTest, ADatabaseOnAFullDiskLogsAndRecovers) {
  auto fs = std::make_shared<testing::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  const std::string path = base::testing::MakeTempDir("info_log") + "/db";
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> log =
      OpenInfoLog(path, rocksdb::InfoLogLevel::INFO_LEVEL);
  ASSERT_TRUE(log.ok()) << log.status();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  options.info_log = *log;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db->Put(sync, "a", "1").ok());
  fs->SetFull(true);
  rocksdb::Status s = db->Put(sync, "b", "2");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_GT(fs->refused_writes(), 0);
  fs->SetFull(false);
  rocksdb::Status resumed = db->Resume();
  // RocksDB's own recovery (its SstFileManager) may be the one resuming.
  for (int i = 0; i < 400 && resumed.IsBusy(); ++i) {
    env->SleepForMicroseconds(50'000);
    resumed = db->Resume();
  }
  ASSERT_TRUE(resumed.ok()) << resumed.ToString();
  EXPECT_TRUE(db->Put(sync, "c", "3").ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_THAT(ReadAll(path + "/LOG"), HasSubstr("No space left on device"));
}

}  // namespace
}  // namespace georisk::storage::internal
