#include "storage/internal/shard_record.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/keys.h"
#include "storage/partition_map.h"

namespace georisk::storage::internal {
namespace {

using ::testing::HasSubstr;

PartitionMap Map(absl::string_view text) {
  absl::StatusOr<PartitionMap> map = PartitionMap::Parse(text);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? *map : PartitionMap::Single();
}

const PartitionMap kThree = Map("0=0-341;1=342-682;2=683-1023");

// A bare RocksDB whose default column family stands for `meta`.
class ShardRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(
                    options, base::testing::MakeTempDir("shard") + "/db", &db)
                    .ok());
    db_.reset(db);
  }

  rocksdb::ColumnFamilyHandle* meta() { return db_->DefaultColumnFamily(); }

  void Put(absl::string_view key, absl::string_view value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), meta(),
                         rocksdb::Slice(key.data(), key.size()),
                         rocksdb::Slice(value.data(), value.size()))
                    .ok());
  }

  absl::Status Record(const PartitionMap& map, int shard) {
    return RecordShard(db_.get(), meta(), "/data/graph", map, shard);
  }

  // The recorded map's encoding and index, "none" when nothing is recorded.
  std::string Recorded() {
    absl::StatusOr<std::optional<RecordedShard>> r =
        ReadRecordedShard(db_.get(), meta());
    if (!r.ok()) return r.status().ToString();
    if (!r->has_value()) return "none";
    return absl::StrCat((*r)->map.Encode(), " #", (*r)->shard_index);
  }

  std::unique_ptr<rocksdb::DB> db_;
};

TEST_F(ShardRecordTest, ANewDatabaseRecordsTheMapItIsOpenedUnder) {
  EXPECT_EQ(Recorded(), "none");
  ASSERT_TRUE(Record(kThree, 1).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-682;2=683-1023 #1");
  // The same map again: nothing changes.
  ASSERT_TRUE(Record(kThree, 1).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-682;2=683-1023 #1");
}

TEST_F(ShardRecordTest, AMapThatOrphansPartitionsIsRefusedAndNotRecorded) {
  ASSERT_TRUE(Record(kThree, 1).ok());
  // Shard 1 of four even shards owns 256-511: 512-682 would be orphaned.
  absl::StatusOr<PartitionMap> four = PartitionMap::Even(4);
  absl::Status s = Record(*four, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      s.message(),
      "the database at /data/graph was written as shard 1 (graphstore-1) of "
      "v1;1024;0=0-341;1=342-682;2=683-1023; opened as shard 1 "
      "(graphstore-1) of v1;1024;0=0-255;1=256-511;2=512-767;3=768-1023 it "
      "would orphan partitions 512-682, which it may hold data for: move "
      "those partitions to their new shard first (docs/scale-out.md, "
      "\"Adding shards\"), or open it with the recorded map and shard index");
  // Another shard's index under the same map.
  s = Record(kThree, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("orphan partitions 342-682"));
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-682;2=683-1023 #1");
}

TEST_F(ShardRecordTest, AMapThatOnlyAddsPartitionsIsRecorded) {
  ASSERT_TRUE(Record(kThree, 1).ok());
  const PartitionMap more = Map("0=0-341;1=342-1023;2=");
  ASSERT_TRUE(Record(more, 1).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-1023;2= #1");
  // What it owns now is what counts: going back would orphan 683-1023.
  absl::Status s = Record(kThree, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("orphan partitions 683-1023"));
  // Merged into one shard, under another index: it keeps everything.
  ASSERT_TRUE(Record(PartitionMap::Single(), 0).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-1023 #0");
}

TEST_F(ShardRecordTest, ADatabaseWrittenBeforeShardsIsTheOnlyShard) {
  Put(kMetaLastSequence, EncodeFixed64BE(12));
  absl::Status s = Record(kThree, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("written as shard 0 (graphstore-0) of "
                                     "v1;1024;0=0-1023; opened as shard 0"));
  EXPECT_THAT(s.message(), HasSubstr("orphan partitions 342-1023"));
  EXPECT_EQ(Recorded(), "none");
  ASSERT_TRUE(Record(PartitionMap::Single(), 0).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-1023 #0");
}

TEST_F(ShardRecordTest, ADatabaseWithNoCommitTakesAnyMap) {
  Put(kMetaLastSequence, EncodeFixed64BE(0));
  ASSERT_TRUE(Record(kThree, 2).ok());
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-682;2=683-1023 #2");
}

TEST_F(ShardRecordTest, AShardIndexOutsideTheMapIsInvalid) {
  for (int bad : {-1, 3}) {
    absl::Status s = Record(kThree, bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("shards 0 to 2"));
  }
  EXPECT_EQ(Recorded(), "none");
}

TEST_F(ShardRecordTest, ACorruptRecordIsDataLoss) {
  struct Case {
    const char* map;  // nullptr: absent
    std::string index;
    const char* error;
  };
  const Case cases[] = {
      {"v1;1024;0=0-1023", "", "meta holds partition_map without shard_index"},
      {nullptr, EncodeFixed64BE(0),
       "meta holds shard_index without partition_map"},
      {"v1;1024;0=0-511", EncodeFixed64BE(0),
       "meta key partition_map: not a partition map encoding"},
      {"v1;1024;0=0-1023", EncodeFixed64BE(1),
       "meta key shard_index: expected 8 bytes naming a shard of "
       "v1;1024;0=0-1023"},
      {"v1;1024;0=0-1023", "\x01", "meta key shard_index"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    SetUp();  // A fresh database.
    if (c.map != nullptr) Put(kMetaPartitionMap, c.map);
    if (!c.index.empty()) Put(kMetaShardIndex, c.index);
    absl::Status s = Record(PartitionMap::Single(), 0);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr(c.error));
  }
}

TEST_F(ShardRecordTest, PartitionsAMoveTookOutAreNotTakenBackByAMap) {
  ASSERT_TRUE(Record(Map("0=0-341;1=342-1023"), 1).ok());
  std::vector<bool> moved_out(kPartitions, false);
  for (int p = 683; p <= 1023; ++p) moved_out[p] = true;
  const std::string bits = EncodeMovedOut(moved_out);
  EXPECT_EQ(bits.size(), 128u);
  Put(kMetaMovedOut, bits);
  EXPECT_EQ(*ReadMovedOut(db_.get(), meta()), moved_out);
  Put(kMetaPartitionMap, kThree.Encode());  // As the move writes it.
  // A map giving shard 1 the moved partitions again orphans nothing, but
  // would serve 683-1023 empty: refused, naming them, and not recorded.
  absl::Status s = Record(Map("0=0-341;1=342-1023"), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("it would own partitions 683-1023 again"));
  EXPECT_EQ(Recorded(), "v1;1024;0=0-341;1=342-682;2=683-1023 #1");
  // Gaining partitions that were never moved out is still accepted.
  ASSERT_TRUE(Record(Map("0=0-300;1=301-682;2=683-1023"), 1).ok());
  Put(kMetaMovedOut, "short");
  EXPECT_EQ(ReadMovedOut(db_.get(), meta()).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace georisk::storage::internal
