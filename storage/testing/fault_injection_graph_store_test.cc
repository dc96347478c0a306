#include "storage/testing/fault_injection_graph_store.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage::testing {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::testing::ElementsAre;

class FaultInjectionGraphStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksDbGraphStoreOptions options;
    options.path = base::testing::MakeTempDir("faults") + "/db";
    options.sync = false;
    auto store = RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    base_ = std::move(*store);
    faults_ = std::make_unique<FaultInjectionGraphStore>(base_.get());
  }

  absl::Status Apply(std::vector<v1::Mutation> batch) {
    return faults_->Apply(batch, "test").status();
  }

  std::unique_ptr<RocksDbGraphStore> base_;
  std::unique_ptr<FaultInjectionGraphStore> faults_;
};

TEST_F(FaultInjectionGraphStoreTest, ForwardsWhenNoFaultIsSet) {
  ASSERT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
  EXPECT_EQ(faults_->LastSequence(), 1);
  EXPECT_TRUE(faults_->GetEntity("company/a").ok());
  EXPECT_EQ(faults_->GetStats()->entity_count, 1);
  EXPECT_EQ(faults_->GraphId(), base_->GraphId());
  EXPECT_EQ(faults_->ReadChanges(1, 0, 0)->size(), 1u);
}

TEST_F(FaultInjectionGraphStoreTest, FailsTheNextNAppliesWritingNothing) {
  faults_->FailNextApplies(2, absl::UnavailableError("restarting"));
  EXPECT_EQ(Apply({Upsert(Company("company/a"))}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Apply({Upsert(Company("company/a"))}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(base_->LastSequence(), 0);
  EXPECT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
  EXPECT_EQ(base_->LastSequence(), 1);
  EXPECT_EQ(faults_->apply_calls(), 3);
}

TEST_F(FaultInjectionGraphStoreTest, FailsEveryApplyUntilTurnedOff) {
  faults_->FailAllApplies(absl::InternalError("disk on fire"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Apply({Upsert(Company("company/a"))}).code(),
              absl::StatusCode::kInternal);
  }
  faults_->FailAllApplies(absl::OkStatus());
  EXPECT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
}

TEST_F(FaultInjectionGraphStoreTest, FailsExportsUntilTurnedOff) {
  ASSERT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
  int chunks = 0;
  const auto count = [&](SnapshotChunk&) {
    ++chunks;
    return absl::OkStatus();
  };
  faults_->FailExports(absl::UnavailableError("closing"));
  EXPECT_EQ(faults_->ExportSnapshot(count, 10).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(chunks, 0);
  faults_->FailExports(absl::OkStatus());
  EXPECT_TRUE(faults_->ExportSnapshot(count, 10).ok());
  EXPECT_GT(chunks, 0);
}

TEST_F(FaultInjectionGraphStoreTest, RefusesBatchesOverTheMaximum) {
  faults_->SetMaxBatch(1);
  absl::Status s =
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b"))});
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "more than 1 mutations");
  EXPECT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
  EXPECT_THAT(faults_->batch_sizes(), ElementsAre(2, 1));
}

TEST_F(FaultInjectionGraphStoreTest, HookSeesEachBatch) {
  std::vector<int> seen;
  faults_->OnApply([&](absl::Span<const v1::Mutation* const> mutations) {
    seen.push_back(static_cast<int>(mutations.size()));
  });
  ASSERT_TRUE(
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b"))}).ok());
  EXPECT_THAT(seen, ElementsAre(2));
}

TEST_F(FaultInjectionGraphStoreTest, DelaysAndReleasesWithoutWriting) {
  faults_->SetApplyDelay(absl::Milliseconds(20));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Apply({Upsert(Company("company/a"))}).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));

  faults_->SetApplyDelay(absl::Hours(1));
  absl::Status released;
  std::thread waiter([&] { released = Apply({Upsert(Company("company/b"))}); });
  while (faults_->apply_calls() < 2) absl::SleepFor(absl::Milliseconds(1));
  faults_->ReleaseDelays();
  waiter.join();
  EXPECT_EQ(released.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(base_->GetEntity("company/b").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace georisk::storage::testing
