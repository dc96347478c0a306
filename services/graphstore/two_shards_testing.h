// File: services/graphstore/two_shards_testing.h
//
// Test support: two shards of one map, each a RocksDbGraphStore opened under
// the map (as graphstore opens it) behind its ShardStore, with two
// companies each, for tests of edges and links across shards and of the
// outbox.
//
//   class MyTest : public testing::TwoShardsTest {};
//   TEST_F(MyTest, X) {
//     shards_[0]->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)),
//                             v1::EDGE_COPY_OUT)}, "test");
//     EXPECT_THAT(Edges(0, a_[0], storage::Direction::kOutbound), ...);
//   }
#ifndef GEORISK_SERVICES_GRAPHSTORE_TWO_SHARDS_TESTING_H_
#define GEORISK_SERVICES_GRAPHSTORE_TWO_SHARDS_TESTING_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gtest/gtest.h"
#include "services/graphstore/shard_store.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore::testing {

// Shard 0 owns partitions 0-511, shard 1 512-1023.
inline storage::PartitionMap Halves() {
  return *storage::PartitionMap::Parse("0=0-511;1=512-1023");
}

// The n-th id "<prefix><i>" (counting from 0) that `shard` owns under `map`.
inline std::string IdOn(const storage::PartitionMap& map, int shard,
                        const std::string& prefix, int n = 0) {
  for (int i = 0;; ++i) {
    std::string id = absl::StrCat(prefix, i);
    if (map.ShardOf(id) == shard && n-- == 0) return id;
  }
}

// `m` writing only `copy`.
inline v1::Mutation Copy(v1::Mutation m, v1::EdgeCopy copy) {
  m.set_edge_copy(copy);
  return m;
}

class TwoShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = base::testing::MakeTempDir("two_shards");
    for (int i = 0; i < 2; ++i) Open(i);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(
          shards_[i]
              ->Apply(
                  {domain::testing::Upsert(domain::testing::Company(a_[i])),
                   domain::testing::Upsert(domain::testing::Company(b_[i]))},
                  "test")
              .ok());
    }
  }

  // (Re)opens shard i's store from its directory, as after a restart;
  // `after_write`, when given, is its after_write_for_testing.
  void Open(int i, std::function<void()> after_write = nullptr) {
    shards_[i].reset();
    stores_[i].reset();
    storage::RocksDbGraphStoreOptions options;
    options.path = absl::StrCat(dir_, "/graph-", i);
    options.sync = false;
    options.partition_map = Halves();
    options.shard_index = i;
    options.after_write_for_testing = std::move(after_write);
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    stores_[i] = *std::move(store);
    auto shard = ShardStore::Create(stores_[i].get(), {Halves(), i});
    ASSERT_TRUE(shard.ok()) << shard.status();
    shards_[i] = *std::move(shard);
  }

  // "from->to" of each edge `id` has in `direction` on `shard`.
  std::vector<std::string> Edges(int shard, const std::string& id,
                                 storage::Direction direction) {
    storage::EdgeQuery query;
    query.entity_id = id;
    query.direction = direction;
    absl::StatusOr<storage::EdgePage> page = shards_[shard]->ListEdges(query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const v1::Edge& e : page->edges) {
      out.push_back(absl::StrCat(e.from_id(), "->", e.to_id()));
    }
    return out;
  }

  int64_t EdgeCount(int shard) {
    absl::StatusOr<storage::StoreStats> stats = stores_[shard]->GetStats();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? stats->edge_count : -1;
  }

  std::string dir_;
  // a_[i], b_[i]: entities of shard i.
  const std::string a_[2] = {IdOn(Halves(), 0, "company/c", 0),
                             IdOn(Halves(), 1, "company/c", 0)};
  const std::string b_[2] = {IdOn(Halves(), 0, "company/c", 1),
                             IdOn(Halves(), 1, "company/c", 1)};
  std::unique_ptr<storage::RocksDbGraphStore> stores_[2];
  std::unique_ptr<ShardStore> shards_[2];
};

}  // namespace georisk::graphstore::testing

#endif  // GEORISK_SERVICES_GRAPHSTORE_TWO_SHARDS_TESTING_H_
