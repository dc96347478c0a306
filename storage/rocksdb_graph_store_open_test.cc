// Opening a RocksDbGraphStore: recovery of the sequence, counts and data, the
// schema version check, the graph id, and a missing database.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/keys.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::RocksDbGraphStoreTest;

TEST_F(RocksDbGraphStoreTest, ReopenRecoversSequenceCountsAndData) {
  Open();
  MustApply(
      {Upsert(Company("company/a")), Upsert(Company("company/b")),
       Upsert(Owns("company/a", "company/b", 0.5)),
       Upsert(WithSource(Listing("signal/l", "US-BIS", {"company/a"}, 0.5),
                         "source-US-BIS"))});
  MustApply({Upsert(Company("company/c")),
             Upsert(Supplies("company/c", "company/a", 0.5, ""))});
  store_.reset();
  Open();
  EXPECT_EQ(store_->LastSequence(), 2);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 3);
  EXPECT_EQ(stats->edge_count, 2);
  EXPECT_EQ(stats->signal_count, 1);
  EXPECT_EQ(stats->last_sequence, 2);
  EXPECT_EQ(stats->oldest_retained_sequence, 1);
  EXPECT_GT(stats->disk_bytes, 0);
  EXPECT_EQ(store_->GetEntity("company/c")->name(), "c");
  EXPECT_EQ(AllEdges("company/a", Direction::kBoth).size(), 2u);
  EXPECT_EQ(MustApply({Upsert(Company("company/d"))}).sequence, 3);
}

TEST_F(RocksDbGraphStoreTest, OpenRefusesUnknownSchemaVersion) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  store_.reset();
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "entities", "out_edges", "in_edges",
                             "signals", "changelog", "meta", "idempotency",
                             "identifiers", "links", "outbox"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), path_, cfs, &handles, &raw)
            .ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[6],
                         std::string(internal::kMetaSchemaVersion),
                         internal::EncodeFixed64BE(99))
                    .ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
      RocksDbGraphStore::Open(options_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr("schema version 99"));
}

// Opens the closed database at `path` with plain RocksDB and calls
// edit(db, meta column family).
void EditMeta(const std::string& path,
              const std::function<void(rocksdb::DB*,
                                       rocksdb::ColumnFamilyHandle*)>& edit) {
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name :
       {"default", "entities", "out_edges", "in_edges", "signals", "changelog",
        "meta", "idempotency", "identifiers", "links", "outbox"}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ASSERT_TRUE(
      rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok());
  edit(raw, handles[6]);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

TEST_F(RocksDbGraphStoreTest, GraphIdIsMintedOnceAndKeptAcrossReopens) {
  Open();
  const std::string id = store_->GraphId();
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{32}"));
  MustApply({Upsert(Company("company/a"))});
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->graph_id, id);
  std::vector<std::string> chunk_ids;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        chunk_ids.push_back(chunk.graph_id);
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_THAT(chunk_ids, ElementsAre(id));
  Open();
  EXPECT_EQ(store_->GraphId(), id);
  EXPECT_EQ(store_->GetStats()->graph_id, id);
}

TEST_F(RocksDbGraphStoreTest, EachNewDatabaseHasAnotherGraphId) {
  Open();
  const std::string first = store_->GraphId();
  MustApply({Upsert(Company("company/a"))});
  store_.reset();
  rocksdb::DestroyDB(path_, rocksdb::Options()).PermitUncheckedError();
  Open();  // The same path, a new database: a new history.
  EXPECT_THAT(store_->GraphId(), ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(store_->GraphId(), first);
}

TEST_F(RocksDbGraphStoreTest, DatabaseWithoutGraphIdGetsOneAtOpen) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  store_.reset();
  EditMeta(path_, [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), meta,
                           std::string(internal::kMetaGraphId))
                    .ok());
  });
  Open();  // As a database written before graph ids existed.
  const std::string id = store_->GraphId();
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(store_->LastSequence(), 1);
  Open();
  EXPECT_EQ(store_->GraphId(), id);
}

TEST_F(RocksDbGraphStoreTest, MalformedGraphIdIsDataLoss) {
  Open();
  store_.reset();
  EditMeta(path_, [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta,
                        std::string(internal::kMetaGraphId), "not-hex")
                    .ok());
  });
  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
      RocksDbGraphStore::Open(options_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("graph_id"));
}

TEST_F(RocksDbGraphStoreTest, OpenRefusesMissingDatabaseWithoutCreate) {
  options_.create_if_missing = false;
  EXPECT_EQ(RocksDbGraphStore::Open(options_).status().code(),
            absl::StatusCode::kNotFound);
  options_.path.clear();
  EXPECT_EQ(RocksDbGraphStore::Open(options_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::storage
