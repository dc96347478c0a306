#include "storage/internal/batch_builder.h"

#include <memory>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/column_families.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;

const absl::Time kCommitTime = absl::FromUnixSeconds(1'767'225'600);

class BatchBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* name : kCfNames) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options,
                                  base::testing::MakeTempDir("batch") + "/db",
                                  descriptors, &cfs_, &db)
                    .ok());
    db_.reset(db);
  }

  void TearDown() override {
    for (rocksdb::ColumnFamilyHandle* h : cfs_) {
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
  }

  int Count(Cf which) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), cfs_[which]));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
};

TEST_F(BatchBuilderTest, WritesBothEdgeCopiesTheChangeAndTheCounters) {
  const std::vector<v1::Mutation> batch = {
      Upsert(Company("company/a")), Upsert(Company("company/b")),
      Upsert(Supplies("company/a", "company/b", 0.5))};
  std::vector<const v1::Mutation*> mutations;
  for (const v1::Mutation& m : batch) mutations.push_back(&m);
  BatchBuilder builder(db_.get(), cfs_, /*sequence=*/1, kCommitTime, nullptr);
  ASSERT_TRUE(builder.Load(mutations).ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<MutationOutcome> o = builder.Add(i, batch[i]);
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(*o, MutationOutcome::kApplied);
  }
  EXPECT_EQ(builder.applied_count(), 3);
  int64_t entities = 0, edges = 0, signals = 0, links = 0;
  builder.Finish(/*commit=*/true, 1, "test", &entities, &edges, &signals,
                 &links);
  EXPECT_EQ(entities, 2);
  EXPECT_EQ(edges, 1);
  EXPECT_EQ(signals, 0);
  ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), builder.batch()).ok());

  EXPECT_EQ(Count(kEntitiesCf), 2);
  EXPECT_EQ(Count(kOutEdgesCf), 1);
  EXPECT_EQ(Count(kInEdgesCf), 1);
  EXPECT_EQ(Count(kChangeLogCf), 1);
  std::string value;
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), cfs_[kChangeLogCf],
                       EncodeChangeLogKey(1), &value)
                  .ok());
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), cfs_[kMetaCf],
                       std::string(kMetaLastSequence), &value)
                  .ok());
  EXPECT_EQ(value, EncodeFixed64BE(1));
}

TEST_F(BatchBuilderTest, RefusesAnEdgeToAnEntityThatDoesNotExist) {
  const v1::Mutation edge = Upsert(Supplies("company/a", "company/b", 0.5));
  const v1::Mutation a = Upsert(Company("company/a"));
  const std::vector<const v1::Mutation*> mutations = {&a, &edge};
  BatchBuilder builder(db_.get(), cfs_, 1, kCommitTime, nullptr);
  ASSERT_TRUE(builder.Load(mutations).ok());
  ASSERT_TRUE(builder.Add(0, a).ok());
  absl::StatusOr<MutationOutcome> o = builder.Add(1, edge);
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message(),
            "mutations[1].upsert_edge.to_id: entity company/b does not exist");
}

TEST_F(BatchBuilderTest, SameKeyTwiceIsADuplicateAndNoKindIsRefused) {
  const v1::Mutation first = WithKey(Upsert(Company("company/a")), "k");
  const v1::Mutation again = WithKey(Upsert(Company("company/b")), "k");
  const v1::Mutation empty;
  const std::vector<const v1::Mutation*> mutations = {&first, &again, &empty};
  BatchBuilder builder(db_.get(), cfs_, 1, kCommitTime, nullptr);
  ASSERT_TRUE(builder.Load(mutations).ok());
  EXPECT_EQ(*builder.Add(0, first), MutationOutcome::kApplied);
  EXPECT_EQ(*builder.Add(1, again), MutationOutcome::kDuplicate);
  EXPECT_EQ(builder.Add(2, empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::storage::internal
