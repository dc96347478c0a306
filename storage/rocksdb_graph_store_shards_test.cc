// RocksDbGraphStore records the partition map it is opened under and refuses a
// map that would orphan its data (docs/scale-out.md).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::testing::HasSubstr;

PartitionMap Map(absl::string_view text) {
  absl::StatusOr<PartitionMap> map = PartitionMap::Parse(text);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? *map : PartitionMap::Single();
}

class ShardsTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> Open(
      const PartitionMap& map, int shard) {
    RocksDbGraphStoreOptions options;
    options.path = path_;
    options.sync = false;
    options.partition_map = map;
    options.shard_index = shard;
    return RocksDbGraphStore::Open(options);
  }

  // Opens under `map` as `shard`, writes one entity, closes.
  void WriteUnder(const PartitionMap& map, int shard, const std::string& id) {
    auto store = Open(map, shard);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Apply({Upsert(Company(id))}, "test").ok());
  }

  const std::string path_ = base::testing::MakeTempDir("shards") + "/graph";
};

TEST_F(ShardsTest, TheDefaultIsOneShardAndReopensAsBefore) {
  WriteUnder(PartitionMap::Single(), 0, "company/a");
  auto store = Open(PartitionMap::Single(), 0);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->GetEntity("company/a").ok());
}

TEST_F(ShardsTest, TheSameMapReopens) {
  const PartitionMap three = *PartitionMap::Even(3);
  WriteUnder(three, 1, "company/a");
  auto store = Open(three, 1);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LastSequence(), 1);
}

TEST_F(ShardsTest, AMapThatMovesOwnedPartitionsAwayIsRefused) {
  WriteUnder(*PartitionMap::Even(3), 1, "company/a");  // owns 342-682
  struct Case {
    PartitionMap map;
    int shard;
    std::string orphaned;
  };
  const Case cases[] = {
      {*PartitionMap::Even(4), 1, "512-682"},
      {*PartitionMap::Even(3), 0, "342-682"},
      {*PartitionMap::Even(3), 2, "342-682"},
      {Map("0=0-400;1=401-1023"), 1, "342-400"},
      {Map("0=0-341,500-600;1=342-499,601-1023"), 1, "500-600"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.map.Encode());
    auto store = Open(c.map, c.shard);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(store.status().message(),
                HasSubstr(absl::StrCat(
                    "the database at ", path_,
                    " was written as shard 1 (graphstore-1) of "
                    "v1;1024;0=0-341;1=342-682;2=683-1023; opened as shard ",
                    c.shard, " (graphstore-", c.shard, ") of ", c.map.Encode(),
                    " it would orphan partitions ", c.orphaned)));
  }
  // Nothing was recorded by the refusals: the first map still opens.
  auto store = Open(*PartitionMap::Even(3), 1);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->GetEntity("company/a").ok());
}

TEST_F(ShardsTest, AMapThatOnlyGivesThisShardMorePartitionsIsAccepted) {
  WriteUnder(*PartitionMap::Even(3), 1, "company/a");  // owns 342-682
  WriteUnder(Map("0=0-341;1=342-1023;2="), 1, "company/b");
  WriteUnder(PartitionMap::Single(), 0, "company/c");  // owns everything
  // Each accepted map was recorded: the three-shard map orphans now.
  auto refused = Open(*PartitionMap::Even(3), 1);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("was written as shard 0 (graphstore-0) of "
                        "v1;1024;0=0-1023;"));
  auto store = Open(PartitionMap::Single(), 0);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->GetStats()->entity_count, 3);
}

TEST_F(ShardsTest, ADatabaseWrittenBeforeShardsIsTheOnlyShard) {
  WriteUnder(PartitionMap::Single(), 0, "company/a");
  {
    // Remove the record: the database as a binary without shards left it.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &names)
            .ok());
    for (const std::string& name : names) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), path_, cfs, &handles, &raw)
            .ok());
    const int meta = static_cast<int>(
        std::find(names.begin(), names.end(), "meta") - names.begin());
    ASSERT_LT(meta, static_cast<int>(names.size()));
    for (const char* key : {"partition_map", "shard_index"}) {
      std::string value;
      ASSERT_TRUE(
          raw->Get(rocksdb::ReadOptions(), handles[meta], key, &value).ok())
          << key << " was recorded";
      ASSERT_TRUE(
          raw->Delete(rocksdb::WriteOptions(), handles[meta], key).ok());
    }
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  auto refused = Open(*PartitionMap::Even(3), 0);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("would orphan partitions 342-1023"));
  auto store = Open(PartitionMap::Single(), 0);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->GetEntity("company/a").ok());
}

TEST_F(ShardsTest, AShardIndexOutsideTheMapIsRefused) {
  auto store = Open(*PartitionMap::Even(3), 3);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("shard_index: 3"));
}

}  // namespace
}  // namespace georisk::storage
