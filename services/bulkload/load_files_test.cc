// LoadFiles: every good record of the files is loaded in file order, and
// every record that is not is reported with its file and line, whether its
// parser or the store's rules refused it.
#include "services/bulkload/load_files.h"

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "base/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::bulkload {
namespace {

class LoadFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    absl::StatusOr<std::unique_ptr<storage::RocksDbGraphStore>> store =
        storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_ = base::testing::MakeTempDir("load_files");
  std::unique_ptr<storage::RocksDbGraphStore> store_;
};

TEST_F(LoadFilesTest, LoadsTheGoodRecordsAndNamesTheLineOfEachBadOne) {
  const std::string entities = Write(
      "entities.jsonl",
      R"({"upsertEntity": {"id": "company/tsmc", "kind": "COMPANY", "name": "TSMC", "country": "TW", "source": "test"}}
{"upsertEntity": {"id": "company/apple", "kind": "COMPANY", "name": "Apple", "country": "US", "source": "test"}}
this is not json
)");
  const std::string edges = Write(
      "edges.jsonl",
      R"({"upsertEdge": {"fromId": "company/tsmc", "toId": "company/apple", "kind": "SUPPLIES", "weight": 0.4, "productCode": "8542", "source": "test"}}
{"upsertEdge": {"fromId": "company/tsmc", "toId": "company/ghost", "kind": "SUPPLIES", "weight": 0.4, "productCode": "8542", "source": "test"}}
)");
  LoadFilesOptions options;
  options.work_dir = dir_ + "/work";
  options.started = absl::FromUnixSeconds(1796565600);  // 2026-12-06 14:00
  absl::StatusOr<LoadReport> report =
      LoadFiles(store_.get(), {entities, edges}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->records, 5);
  EXPECT_EQ(report->mutations, 4);
  EXPECT_EQ(report->result.applied, 3);
  ASSERT_EQ(report->rejections.size(), 2u);
  EXPECT_EQ(report->rejections[0].file, entities);
  EXPECT_EQ(report->rejections[0].line, 3);
  EXPECT_EQ(report->rejections[1].file, edges);
  EXPECT_EQ(report->rejections[1].line, 2);
  EXPECT_EQ(report->rejections[1].field, "upsert_edge.to_id");
  EXPECT_EQ(report->rejections[1].reason,
            "entity company/ghost does not exist");
  // Every record names the load: its files and when it started.
  absl::StatusOr<v1::Entity> apple = store_->GetEntity("company/apple");
  ASSERT_TRUE(apple.ok()) << apple.status();
  EXPECT_EQ(apple->update_origin(),
            "bulkload:entities.jsonl and 1 more started 2026-12-06T14:00:00Z");
  storage::EdgeQuery query;
  query.entity_id = "company/tsmc";
  absl::StatusOr<storage::EdgePage> out = store_->ListEdges(query);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->edges.size(), 1u);
  EXPECT_EQ(out->edges[0].update_origin(), apple->update_origin());
  absl::StatusOr<storage::StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 2);
  EXPECT_EQ(stats->edge_count, 1);
  EXPECT_EQ(stats->last_sequence, 1);
}

TEST_F(LoadFilesTest, AMissingFileOrAnUnknownFormatLoadsNothing) {
  const std::string entities = Write(
      "entities.jsonl",
      R"({"upsertEntity": {"id": "company/tsmc", "kind": "COMPANY", "name": "TSMC", "country": "TW", "source": "test"}}
)");
  LoadFilesOptions options;
  options.work_dir = dir_ + "/work";
  EXPECT_EQ(
      LoadFiles(store_.get(), {entities, dir_ + "/missing.jsonl"}, options)
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  options.format = "yaml";
  EXPECT_EQ(LoadFiles(store_.get(), {entities}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LastSequence(), 0);
}

}  // namespace
}  // namespace georisk::bulkload
