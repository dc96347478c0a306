// A full disk under RocksDbGraphStore (storage/testing/full_disk_file_system.h
// fails every file write with "No space left on device" while it is full):
// a write that cannot be made durable is never acknowledged, nothing of it
// is applied, reads keep working, the store says why it stopped writing and
// says again when it resumed, and after a reopen every acknowledged commit
// is there and no failed one.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/full_disk_file_system.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::storage::testing::FullDiskFileSystem;
using ::testing::HasSubstr;

// Batch `b`: ten companies "company/b<b>-<j>".
std::vector<v1::Mutation> Batch(int b) {
  std::vector<v1::Mutation> batch;
  for (int j = 0; j < 10; ++j) {
    batch.push_back(Upsert(Company(absl::StrCat("company/b", b, "-", j))));
  }
  return batch;
}

class FullDiskTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    options_.path = base::testing::MakeTempDir("full_disk") + "/graph";
    options_.sync = GetParam();
    options_.file_system_for_testing = fs_;
    options_.on_write_health_change = [this](const absl::Status& s) {
      absl::MutexLock lock(&mu_);
      changes_.push_back(s);
    };
  }

  std::vector<absl::Status> Changes() {
    absl::MutexLock lock(&mu_);
    return changes_;
  }

  std::shared_ptr<FullDiskFileSystem> fs_ =
      std::make_shared<FullDiskFileSystem>();
  RocksDbGraphStoreOptions options_;
  absl::Mutex mu_;
  std::vector<absl::Status> changes_ ABSL_GUARDED_BY(mu_);
};

TEST_P(FullDiskTest, NothingUnwrittenIsAcknowledgedAndWritesResume) {
  auto store = RocksDbGraphStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int b = 1; b <= 3; ++b) {
    absl::StatusOr<ApplyResult> r = (*store)->Apply(Batch(b), "test");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sequence, b);
  }
  EXPECT_TRUE((*store)->WriteHealth().ok());

  fs_->SetFull(true);
  absl::StatusOr<ApplyResult> failed = (*store)->Apply(Batch(100), "test");
  ASSERT_EQ(failed.status().code(), absl::StatusCode::kUnavailable)
      << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("disk under"));
  EXPECT_THAT(failed.status().message(), HasSubstr("is full"));
  EXPECT_THAT(failed.status().message(), HasSubstr("No space left on device"));
  // Stopped: answered at once, the same way, without writing.
  const int64_t refused = fs_->refused_writes();
  absl::StatusOr<ApplyResult> again = (*store)->Apply(Batch(101), "test");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fs_->refused_writes(), refused);
  EXPECT_EQ((*store)->WriteHealth().code(), absl::StatusCode::kUnavailable);
  ASSERT_FALSE(Changes().empty());
  EXPECT_EQ(Changes()[0].code(), absl::StatusCode::kUnavailable);

  // Reads work, and see no trace of the failed batches.
  EXPECT_EQ((*store)->LastSequence(), 3);
  absl::StatusOr<StoreStats> stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->entity_count, 30);
  EXPECT_THAT(stats->writes_stopped_reason, HasSubstr("is full"));
  EXPECT_TRUE((*store)->GetEntity("company/b3-9").ok());
  EXPECT_EQ((*store)->GetEntity("company/b100-0").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<v1::Change>> changes =
      (*store)->ReadChanges(1, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->size(), 3u);

  // Space is back: writes resume (RocksDB's recovery or Apply's Resume()),
  // with the next sequence.
  fs_->SetFull(false);
  absl::StatusOr<ApplyResult> resumed = (*store)->Apply(Batch(4), "test");
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
       !resumed.ok() && absl::Now() < deadline;) {
    ASSERT_EQ(resumed.status().code(), absl::StatusCode::kUnavailable);
    absl::SleepFor(absl::Milliseconds(100));
    resumed = (*store)->Apply(Batch(4), "test");
  }
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->sequence, 4);
  EXPECT_TRUE((*store)->WriteHealth().ok());
  EXPECT_TRUE((*store)->GetStats()->writes_stopped_reason.empty());
  ASSERT_GE(Changes().size(), 2u);
  EXPECT_TRUE(Changes().back().ok());

  // Reopened (without the failing file system): every acknowledged commit,
  // none of the failed ones, a change log without gaps.
  store->reset();
  options_.file_system_for_testing = nullptr;
  auto reopened = RocksDbGraphStore::Open(options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->LastSequence(), 4);
  for (int b = 1; b <= 4; ++b) {
    EXPECT_TRUE((*reopened)->GetEntity(absl::StrCat("company/b", b, "-0")).ok())
        << b;
  }
  for (int b : {100, 101}) {
    EXPECT_EQ((*reopened)
                  ->GetEntity(absl::StrCat("company/b", b, "-0"))
                  .status()
                  .code(),
              absl::StatusCode::kNotFound)
        << b;
  }
  changes = (*reopened)->ReadChanges(1, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*changes)[i].sequence(), i + 1);
}

// A database whose disk is full while it closes: the final flush fails,
// nothing acknowledged is lost (the WAL is replayed at the next open).
TEST_P(FullDiskTest, ClosingOnAFullDiskLosesNothing) {
  auto store = RocksDbGraphStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE((*store)->Apply(Batch(b), "t").ok());
  fs_->SetFull(true);
  EXPECT_FALSE((*store)->Apply(Batch(100), "test").ok());
  store->reset();
  fs_->SetFull(false);
  options_.file_system_for_testing = nullptr;
  auto reopened = RocksDbGraphStore::Open(options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->LastSequence(), 3);
  EXPECT_EQ((*reopened)->GetStats()->entity_count, 30);
  absl::StatusOr<ApplyResult> next = (*reopened)->Apply(Batch(4), "test");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequence, 4);
}

// The disk is full before the first write (a store just opened: its
// memtable is empty, so RocksDB's recovery has nothing to flush and clears
// its error at once, while its WAL file is the one whose write failed). A
// later write must not go into that file (an assertion in Debian's
// librocksdb aborts the process): it answers UNAVAILABLE, and once space is
// back writes resume.
TEST_P(FullDiskTest, AFullDiskBeforeTheFirstWriteDoesNotAbort) {
  options_.write_resume_interval = absl::ZeroDuration();
  auto store = RocksDbGraphStore::Open(options_);
  ASSERT_TRUE(store.ok()) << store.status();
  fs_->SetFull(true);
  EXPECT_FALSE((*store)->Apply(Batch(1), "test").ok());
  absl::SleepFor(absl::Milliseconds(200));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*store)->Apply(Batch(2), "test").status().code(),
              absl::StatusCode::kUnavailable);
  }
  fs_->SetFull(false);
  absl::StatusOr<ApplyResult> resumed = (*store)->Apply(Batch(3), "test");
  for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
       !resumed.ok() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(100));
    resumed = (*store)->Apply(Batch(3), "test");
  }
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->sequence, 1);
}

INSTANTIATE_TEST_SUITE_P(SyncAndNoSync, FullDiskTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Sync" : "NoSync";
                         });

}  // namespace
}  // namespace georisk::storage
