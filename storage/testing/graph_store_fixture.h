// File: storage/testing/graph_store_fixture.h
//
// The fixture the RocksDbGraphStore tests share: a fresh database directory
// for the running test, options without sync or change-log trimming, Open()
// (re-opens the same directory) and MustApply(); RocksDbGraphStoreTest, the
// fixture of rocksdb_graph_store_test, with its helpers Ids() and
// EdgeNames().
//
//   class LinksTest : public storage::testing::GraphStoreFixture {
//    protected:
//     void SetUp() override {
//       UseFreshDatabase("links_");
//       options_.clock = [] { return absl::FromUnixSeconds(1750000000); };
//       Open();
//     }
//   };
#ifndef GEORISK_STORAGE_TESTING_GRAPH_STORE_FIXTURE_H_
#define GEORISK_STORAGE_TESTING_GRAPH_STORE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "georisk/v1/graph.pb.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage::testing {

class GraphStoreFixture : public ::testing::Test {
 protected:
  // A new directory named after `prefix` and the running test (a
  // parameterised test's "/" becomes "_"), and options for a database in it.
  void UseFreshDatabase(absl::string_view prefix) {
    path_ = absl::StrCat(
        base::testing::MakeTempDir(absl::StrCat(
            prefix,
            absl::StrReplaceAll(
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                {{"/", "_"}}))),
        "/db");
    options_.path = path_;
    options_.sync = false;  // Durability is a property of RocksDB's WAL.
    options_.changelog_trim_interval = absl::ZeroDuration();
  }

  void TearDown() override {
    store_.reset();
    rocksdb::DestroyDB(path_, rocksdb::Options()).PermitUncheckedError();
  }

  // Closes the store if open and opens path_ with options_.
  void Open() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
        RocksDbGraphStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  ApplyResult MustApply(const std::vector<v1::Mutation>& batch) {
    absl::StatusOr<ApplyResult> result = store_->Apply(batch, "test");
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ApplyResult();
  }

  std::string path_;
  RocksDbGraphStoreOptions options_;
  std::unique_ptr<RocksDbGraphStore> store_;
};

// "<id>@<depth>" of each traversed entity, in order.
inline std::vector<std::string> Ids(
    const std::vector<TraversedEntity>& entities) {
  std::vector<std::string> ids;
  for (const TraversedEntity& t : entities) {
    ids.push_back(absl::StrCat(t.entity.id(), "@", t.depth));
  }
  return ids;
}

// "<from>><to>" of each edge, in order.
inline std::vector<std::string> EdgeNames(const std::vector<v1::Edge>& edges) {
  std::vector<std::string> names;
  for (const v1::Edge& e : edges) {
    names.push_back(absl::StrCat(e.from_id(), ">", e.to_id()));
  }
  return names;
}

// The fixture of rocksdb_graph_store_test and its siblings: a fresh database
// (graph_store_<test>), commit times from now_, which a test may move, and
// AllEdges(). Open() is left to the test.
class RocksDbGraphStoreTest : public GraphStoreFixture {
 protected:
  void SetUp() override {
    UseFreshDatabase("graph_store_");
    options_.clock = [this] { return now_; };
  }

  std::vector<v1::Edge> AllEdges(const std::string& id, Direction direction) {
    EdgeQuery query;
    query.entity_id = id;
    query.direction = direction;
    query.page_size = kMaxPageSize;
    absl::StatusOr<EdgePage> page = store_->ListEdges(query);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->edges : std::vector<v1::Edge>();
  }

  absl::Time now_ = absl::FromUnixSeconds(1750000000);
};

}  // namespace georisk::storage::testing

#endif  // GEORISK_STORAGE_TESTING_GRAPH_STORE_FIXTURE_H_
