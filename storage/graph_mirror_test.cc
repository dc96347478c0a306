#include "storage/graph_mirror.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/keys.h"
#include "storage/testing/full_disk_file_system.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::DeleteLink;
using ::georisk::domain::testing::IdentifierLink;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithRecordId;

v1::Change ChangeOf(int64_t sequence, std::vector<v1::Mutation> mutations) {
  v1::Change c;
  c.set_sequence(sequence);
  for (auto& m : mutations) *c.add_mutations() = m;
  return c;
}

TEST(GraphMirrorTest, ReplaceThenApplyThenReopen) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    EXPECT_EQ((*mirror)->applied_sequence(), 0);
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    std::vector<v1::Entity> entities = {Company("company/a", "KR"),
                                        Company("company/b", "KR")};
    std::vector<v1::Edge> edges = {Owns("company/a", "company/b", 0.6)};
    ASSERT_TRUE((*mirror)->AddChunk(entities, edges, {}).ok());
    EXPECT_EQ((*mirror)->applied_sequence(), 0);  // Not usable yet.
    ASSERT_TRUE((*mirror)->FinishReplace(7).ok());
    EXPECT_EQ((*mirror)->applied_sequence(), 7);

    v1::Mutation delete_edge = DeleteEdge(Owns("company/a", "company/b", 0.6));
    v1::Mutation delete_b = DeleteEntity("company/b");
    std::vector<v1::Change> changes = {
        ChangeOf(8, {Upsert(Company("company/c", "KR")),
                     Upsert(Owns("company/a", "company/c", 0.6))}),
        ChangeOf(9, {delete_b, delete_edge}),
    };
    ASSERT_TRUE((*mirror)->ApplyChanges(changes).ok());
    EXPECT_EQ((*mirror)->applied_sequence(), 9);
  }
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->applied_sequence(), 9);
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  ASSERT_TRUE((*mirror)->ReadAll(&entities, &edges, &signals).ok());
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(entities[0].id(), "company/a");
  EXPECT_EQ(entities[1].id(), "company/c");
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].to_id(), "company/c");
  EXPECT_TRUE(signals.empty());
}

TEST(GraphMirrorTest, GapsAndDisorderAreRefusedAndWriteNothing) {
  auto mirror = GraphMirror::Open({base::testing::MakeTempDir("mirror")});
  ASSERT_TRUE(mirror.ok());
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  ASSERT_TRUE((*mirror)->FinishReplace(3).ok());
  std::vector<v1::Change> gap = {
      ChangeOf(4, {Upsert(Company("company/x", "KR"))}),
      ChangeOf(6, {Upsert(Company("company/y", "KR"))})};
  absl::Status s = (*mirror)->ApplyChanges(gap);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*mirror)->applied_sequence(), 3);
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  ASSERT_TRUE((*mirror)->ReadAll(&entities, &edges, &signals).ok());
  EXPECT_TRUE(entities.empty());  // Not even change 4.
}

TEST(GraphMirrorTest, UnfinishedReplacementIsNoticedOnReopen) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    ASSERT_TRUE((*mirror)->FinishReplace(5).ok());
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    std::vector<v1::Entity> entities = {Company("company/a", "KR")};
    ASSERT_TRUE((*mirror)->AddChunk(entities, {}, {}).ok());
    // "Crash" before FinishReplace.
  }
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->applied_sequence(), 0);
  EXPECT_EQ((*mirror)->ApplyChanges({ChangeOf(6, {})}).code(),
            absl::StatusCode::kFailedPrecondition);
}

constexpr char kGraphA[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kGraphB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

TEST(GraphMirrorTest, GraphIdIsKeptWithThePositionAndReplacedWithIt) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE(mirror.ok());
    EXPECT_EQ((*mirror)->graph_id(), "");
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    ASSERT_TRUE((*mirror)->FinishReplace(4, kGraphA).ok());
    EXPECT_EQ((*mirror)->graph_id(), kGraphA);
  }
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->graph_id(), kGraphA);
  EXPECT_EQ((*mirror)->applied_sequence(), 4);
  // Another graph is not adopted: it needs a replacement.
  EXPECT_EQ((*mirror)->SetGraphId(kGraphB).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*mirror)->SetGraphId(kGraphA).ok());
  // A replacement under way has no graph id, even after a crash.
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  EXPECT_EQ((*mirror)->graph_id(), "");
  mirror->reset();
  mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->graph_id(), "");
  EXPECT_EQ((*mirror)->applied_sequence(), 0);
  ASSERT_TRUE((*mirror)->FinishReplace(2, kGraphB).ok());
  EXPECT_EQ((*mirror)->graph_id(), kGraphB);
  EXPECT_EQ((*mirror)->applied_sequence(), 2);
}

TEST(GraphMirrorTest, MirrorWithoutGraphIdAdoptsOne) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    ASSERT_TRUE((*mirror)->FinishReplace(3).ok());  // As before graph ids.
    EXPECT_EQ((*mirror)->graph_id(), "");
    ASSERT_TRUE((*mirror)->SetGraphId(kGraphA).ok());
  }
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->graph_id(), kGraphA);
  EXPECT_EQ((*mirror)->applied_sequence(), 3);
}

TEST(GraphMirrorTest, EdgeKeysSeparateIdsThatExtendEachOther) {
  v1::EdgeKey a, b;
  a.set_from_id("company/a");
  a.set_to_id("company/bc");
  a.set_kind(v1::Edge::SUPPLIES);
  b.set_from_id("company/ab");
  b.set_to_id("company/c");
  b.set_kind(v1::Edge::SUPPLIES);
  EXPECT_NE(GraphMirror::EdgeKey(a), GraphMirror::EdgeKey(b));
}

TEST(GraphMirrorTest, CarriesLinksFromSnapshotsAndChanges) {
  std::string dir = base::testing::MakeTempDir("mirror");
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  v1::Link ab = IdentifierLink("company/a", "company/b", v1::Link::UNSURE);
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  std::vector<v1::Entity> entities = {Company("company/a", "KR"),
                                      Company("company/b", "KR"),
                                      Company("company/c", "KR")};
  std::vector<v1::Link> links = {ab};
  ASSERT_TRUE((*mirror)->AddChunk(entities, {}, {}, links).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(3).ok());

  v1::Mutation accept =
      Upsert(IdentifierLink("company/a", "company/b", v1::Link::POSITIVE));
  v1::Mutation bc =
      Upsert(IdentifierLink("company/b", "company/c", v1::Link::UNSURE));
  // Either order names the pair.
  v1::Mutation unlink_bc = DeleteLink("company/c", "company/b");
  ASSERT_TRUE((*mirror)->ApplyChanges({ChangeOf(4, {accept, bc})}).ok());
  ASSERT_TRUE((*mirror)->ApplyChanges({ChangeOf(5, {unlink_bc})}).ok());

  std::vector<v1::Entity> e;
  std::vector<v1::Edge> x;
  std::vector<v1::Signal> sig;
  std::vector<v1::Link> l;
  ASSERT_TRUE((*mirror)->ReadAll(&e, &x, &sig, &l).ok());
  EXPECT_EQ(e.size(), 3u);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].entity_b(), "company/b");
  EXPECT_EQ(l[0].judgement(), v1::Link::POSITIVE);
  // A reader that does not ask for links (the scorer today) reads the rest.
  e.clear();
  ASSERT_TRUE((*mirror)->ReadAll(&e, &x, &sig).ok());
  EXPECT_EQ(e.size(), 3u);
  EXPECT_EQ(GraphMirror::LinkKey("company/b", "company/a"),
            GraphMirror::LinkKey("company/a", "company/b"));
}

// The disk fills under the mirror (issue #15): a change that cannot be
// written is not applied (applied_sequence() stays, so the scorer asks for
// it again), the mirror still reads, and once space is back (RocksDB's own
// recovery) it goes on; a reopen has exactly what was written.
TEST(GraphMirrorTest, AFullDiskWritesNothingAndTheMirrorGoesOnAfterwards) {
  const std::string dir = base::testing::MakeTempDir("mirror");
  auto fs = std::make_shared<testing::FullDiskFileSystem>();
  GraphMirrorOptions options;
  options.path = dir;
  options.file_system_for_testing = fs;
  {
    auto mirror = GraphMirror::Open(options);
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    ASSERT_TRUE((*mirror)->FinishReplace(1).ok());
    std::vector<v1::Change> two = {
        ChangeOf(2, {Upsert(Company("company/a", "KR"))})};
    ASSERT_TRUE((*mirror)->ApplyChanges(two).ok());

    fs->SetFull(true);
    std::vector<v1::Change> three = {
        ChangeOf(3, {Upsert(Company("company/b", "KR"))})};
    EXPECT_FALSE((*mirror)->ApplyChanges(three).ok());
    EXPECT_EQ((*mirror)->applied_sequence(), 2);
    std::vector<v1::Entity> entities;
    std::vector<v1::Edge> edges;
    std::vector<v1::Signal> signals;
    ASSERT_TRUE((*mirror)->ReadAll(&entities, &edges, &signals).ok());
    ASSERT_EQ(entities.size(), 1u);

    fs->SetFull(false);
    absl::Status applied = (*mirror)->ApplyChanges(three);
    for (const absl::Time deadline = absl::Now() + absl::Seconds(60);
         !applied.ok() && absl::Now() < deadline;) {
      absl::SleepFor(absl::Milliseconds(100));
      applied = (*mirror)->ApplyChanges(three);
    }
    ASSERT_TRUE(applied.ok()) << applied;
    EXPECT_EQ((*mirror)->applied_sequence(), 3);
  }
  options.file_system_for_testing = nullptr;
  auto mirror = GraphMirror::Open(options);
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  EXPECT_EQ((*mirror)->applied_sequence(), 3);
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  ASSERT_TRUE((*mirror)->ReadAll(&entities, &edges, &signals).ok());
  EXPECT_EQ(entities.size(), 2u);
}

TEST(GraphMirrorTest, RecordsOfOnePairAreKeptApartAndDeletedByRecordId) {
  auto mirror = GraphMirror::Open({base::testing::MakeTempDir("mirror")});
  ASSERT_TRUE(mirror.ok());
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  v1::Edge unkeyed = Owns("company/p", "company/c", 0.6);
  v1::Edge r1 = WithRecordId(Owns("company/p", "company/c", 0.5), "ru-1");
  std::vector<v1::Edge> edges = {unkeyed, r1};
  ASSERT_TRUE((*mirror)->AddChunk({}, edges, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(1).ok());
  v1::Edge r2 = WithRecordId(Owns("company/p", "company/c", 0.51), "ru-2");
  v1::Mutation del = DeleteEdge(r1);
  ASSERT_TRUE(
      (*mirror)
          ->ApplyChanges({ChangeOf(2, {Upsert(r2)}), ChangeOf(3, {del})})
          .ok());
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> read;
  std::vector<v1::Signal> signals;
  ASSERT_TRUE((*mirror)->ReadAll(&entities, &read, &signals).ok());
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].record_id(), "");
  EXPECT_EQ(read[1].record_id(), "ru-2");
  v1::EdgeKey k = del.delete_edge();
  k.set_record_id("");
  EXPECT_EQ(GraphMirror::EdgeKey(del.delete_edge()),
            GraphMirror::EdgeKey(k) + std::string("\0ru-1", 5));
}

TEST(GraphMirrorTest, AMirrorOfTheOlderLayoutIsReadAgain) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    std::vector<v1::Entity> entities = {Company("company/a", "KR")};
    ASSERT_TRUE((*mirror)->AddChunk(entities, {}, {}).ok());
    ASSERT_TRUE((*mirror)->FinishReplace(7).ok());
  }
  {
    auto mirror = GraphMirror::Open({dir});
    EXPECT_EQ((*mirror)->applied_sequence(), 7) << "the current layout";
  }
  {
    // Remove the layout marker, as a mirror written before it has none.
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"records", {}}, {"meta", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &raw).ok());
    ASSERT_TRUE(
        raw->Delete(rocksdb::WriteOptions(), handles[2], "layout").ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->applied_sequence(), 0);
  EXPECT_EQ((*mirror)->ApplyChanges({ChangeOf(8, {})}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  ASSERT_TRUE((*mirror)->FinishReplace(9).ok());
  mirror->reset();
  mirror = GraphMirror::Open({dir});
  EXPECT_EQ((*mirror)->applied_sequence(), 9);
}

// Shards (docs/scale-out.md, "The scorer follows every shard").

GraphMirrorOptions Sharded(const std::string& dir, int shards) {
  GraphMirrorOptions options;
  options.path = dir;
  options.shards = shards;
  return options;
}

std::vector<std::string> RecordIds(const GraphMirror& mirror) {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  EXPECT_TRUE(mirror.ReadAll(&entities, &edges, &signals).ok());
  std::vector<std::string> out;
  for (const auto& e : entities) out.push_back(e.id());
  for (const auto& e : edges) out.push_back(e.from_id() + ">" + e.to_id());
  return out;
}

std::vector<std::string> ColumnFamilies(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  return names;
}

TEST(GraphMirrorShardsTest, EachShardHasItsCursorResumedAfterReopen) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open(Sharded(dir, 3));
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    EXPECT_EQ((*mirror)->shards(), 3);
    const std::vector<v1::Entity> entities[3] = {{Company("company/a", "KR")},
                                                 {Company("company/b", "KR")},
                                                 {Company("company/c", "KR")}};
    const char* graphs[3] = {kGraphA, kGraphB, ""};
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ((*mirror)->applied_sequence(i), 0);
      ASSERT_TRUE((*mirror)->BeginReplace(i).ok());
      ASSERT_TRUE((*mirror)->AddChunk(i, entities[i], {}, {}).ok());
      ASSERT_TRUE((*mirror)->FinishReplace(i, 10 * (i + 1), graphs[i]).ok());
    }
    // Each shard's changes continue its own sequence, not the others'.
    ASSERT_TRUE((*mirror)
                    ->ApplyChanges(
                        1, {ChangeOf(21, {Upsert(Company("company/d", "KR"))}),
                            ChangeOf(22, {})})
                    .ok());
    EXPECT_EQ((*mirror)->ApplyChanges(2, {ChangeOf(22, {})}).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ((*mirror)->ApplyChanges(3, {ChangeOf(1, {})}).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((*mirror)->BeginReplace(-1).code(),
              absl::StatusCode::kInvalidArgument);
    ASSERT_TRUE((*mirror)->SetGraphId(2, kGraphA).ok());
  }
  auto mirror = GraphMirror::Open(Sharded(dir, 3));
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  EXPECT_EQ((*mirror)->applied_sequence(0), 10);
  EXPECT_EQ((*mirror)->applied_sequence(1), 22);
  EXPECT_EQ((*mirror)->applied_sequence(2), 30);
  EXPECT_EQ((*mirror)->graph_id(0), kGraphA);
  EXPECT_EQ((*mirror)->graph_id(1), kGraphB);
  EXPECT_EQ((*mirror)->graph_id(2), kGraphA);
  EXPECT_EQ(RecordIds(**mirror),
            (std::vector<std::string>{"company/a", "company/b", "company/c",
                                      "company/d"}));
  EXPECT_EQ(GraphMirror::MetaKey("applied_sequence", 0), "applied_sequence");
  EXPECT_EQ(GraphMirror::MetaKey("applied_sequence", 2), "applied_sequence/2");
}

TEST(GraphMirrorShardsTest, AOneShardMirrorOpensUnchangedAndHasNoOwners) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    // As written before shards: the default options.
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    std::vector<v1::Entity> entities = {Company("company/a", "KR")};
    ASSERT_TRUE((*mirror)->AddChunk(entities, {}, {}).ok());
    ASSERT_TRUE((*mirror)->FinishReplace(7, kGraphA).ok());
  }
  EXPECT_EQ(ColumnFamilies(dir),
            (std::vector<std::string>{"default", "records", "meta"}));
  auto mirror = GraphMirror::Open(Sharded(dir, 1));
  ASSERT_TRUE(mirror.ok());
  // Its keys are shard 0's.
  EXPECT_EQ((*mirror)->applied_sequence(0), 7);
  EXPECT_EQ((*mirror)->graph_id(0), kGraphA);
  EXPECT_EQ(RecordIds(**mirror), std::vector<std::string>{"company/a"});
  ASSERT_TRUE((*mirror)
                  ->ApplyChanges(0, {ChangeOf(8, {DeleteEntity("company/a")})})
                  .ok());
  EXPECT_EQ((*mirror)->applied_sequence(), 8);
  mirror->reset();
  EXPECT_EQ(ColumnFamilies(dir),
            (std::vector<std::string>{"default", "records", "meta"}));
}

TEST(GraphMirrorShardsTest, AnotherShardCountEmptiesTheMirror) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open({dir});
    ASSERT_TRUE((*mirror)->BeginReplace().ok());
    std::vector<v1::Entity> entities = {Company("company/a", "KR")};
    ASSERT_TRUE((*mirror)->AddChunk(entities, {}, {}).ok());
    ASSERT_TRUE((*mirror)->FinishReplace(7, kGraphA).ok());
  }
  {
    // One shard to three: its records cannot be told apart by shard.
    auto mirror = GraphMirror::Open(Sharded(dir, 3));
    ASSERT_TRUE(mirror.ok()) << mirror.status();
    for (int i = 0; i < 3; ++i) EXPECT_EQ((*mirror)->applied_sequence(i), 0);
    EXPECT_TRUE(RecordIds(**mirror).empty());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*mirror)->BeginReplace(i).ok());
      ASSERT_TRUE((*mirror)->FinishReplace(i, 5, kGraphB).ok());
    }
  }
  {
    auto mirror = GraphMirror::Open(Sharded(dir, 3));
    EXPECT_EQ((*mirror)->applied_sequence(2), 5) << "same count: kept";
  }
  // And back to one.
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  EXPECT_EQ((*mirror)->applied_sequence(), 0);
  EXPECT_EQ((*mirror)->graph_id(), "");
  EXPECT_EQ(GraphMirror::Open(Sharded(dir, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GraphMirrorShardsTest, ReplacingAShardKeepsTheEdgeCopiesOthersWrote) {
  std::string dir = base::testing::MakeTempDir("mirror");
  auto mirror = GraphMirror::Open(Sharded(dir, 2));
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  // a, c on shard 0; b on shard 1. a -> b crosses: its out-copy on 0 (in
  // 0's snapshot), its in-copy on 1 (written by 1's feed). a -> c is whole
  // on 0.
  const v1::Edge ab = Owns("company/a", "company/b", 0.6);
  const v1::Edge ac = Owns("company/a", "company/c", 0.6);
  ASSERT_TRUE((*mirror)->BeginReplace(0).ok());
  ASSERT_TRUE(
      (*mirror)
          ->AddChunk(0,
                     {Company("company/a", "KR"), Company("company/c", "KR")},
                     {ab, ac}, {})
          .ok());
  ASSERT_TRUE((*mirror)->FinishReplace(0, 3, kGraphA).ok());
  ASSERT_TRUE((*mirror)->BeginReplace(1).ok());
  ASSERT_TRUE(
      (*mirror)->AddChunk(1, {Company("company/b", "KR")}, {}, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(1, 1, kGraphB).ok());
  v1::Mutation in_copy = Upsert(ab);
  in_copy.set_edge_copy(v1::EDGE_COPY_IN);
  ASSERT_TRUE((*mirror)->ApplyChanges(1, {ChangeOf(2, {in_copy})}).ok());
  // The edge is one record, seen from either copy.
  EXPECT_EQ(
      RecordIds(**mirror),
      (std::vector<std::string>{"company/a", "company/b", "company/c",
                                "company/a>company/b", "company/a>company/c"}));

  // Shard 0 replaced by a snapshot without c (and so without a -> c) nor
  // a -> b: what only 0 wrote goes; a -> b stays, shard 1 wrote it too;
  // shard 1's entity stays.
  ASSERT_TRUE((*mirror)->BeginReplace(0).ok());
  EXPECT_EQ((*mirror)->applied_sequence(0), 0);
  EXPECT_EQ((*mirror)->applied_sequence(1), 2) << "the other feed goes on";
  ASSERT_TRUE(
      (*mirror)
          ->ApplyChanges(1, {ChangeOf(3, {Upsert(Company("company/d", "JP"))})})
          .ok());
  ASSERT_TRUE(
      (*mirror)->AddChunk(0, {Company("company/a", "KR")}, {}, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(0, 9, kGraphA).ok());
  EXPECT_EQ(RecordIds(**mirror),
            (std::vector<std::string>{"company/a", "company/b", "company/d",
                                      "company/a>company/b"}));

  // Shard 1 replaced: now nobody else claims a -> b, so it goes with it.
  mirror->reset();
  mirror = GraphMirror::Open(Sharded(dir, 2));
  ASSERT_TRUE(mirror.ok());
  ASSERT_TRUE((*mirror)->BeginReplace(1).ok());
  ASSERT_TRUE(
      (*mirror)->AddChunk(1, {Company("company/b", "KR")}, {}, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(1, 4, kGraphB).ok());
  EXPECT_EQ(RecordIds(**mirror),
            (std::vector<std::string>{"company/a", "company/b"}));
}

TEST(GraphMirrorShardsTest, TheFirstCopyDeletedDeletesTheEdgeForEveryShard) {
  std::string dir = base::testing::MakeTempDir("mirror");
  auto mirror = GraphMirror::Open(Sharded(dir, 2));
  ASSERT_TRUE(mirror.ok());
  const v1::Edge ab = Owns("company/a", "company/b", 0.6);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE((*mirror)->BeginReplace(i).ok());
    ASSERT_TRUE((*mirror)->FinishReplace(i, 0, kGraphA).ok());
  }
  ASSERT_TRUE(
      (*mirror)
          ->ApplyChanges(0, {ChangeOf(1, {Upsert(Company("company/a", "KR")),
                                          Upsert(ab)})})
          .ok());
  ASSERT_TRUE(
      (*mirror)
          ->ApplyChanges(1, {ChangeOf(1, {Upsert(Company("company/b", "KR")),
                                          Upsert(ab)})})
          .ok());
  ASSERT_TRUE((*mirror)->ApplyChanges(0, {ChangeOf(2, {DeleteEdge(ab)})}).ok());
  EXPECT_EQ(RecordIds(**mirror),
            (std::vector<std::string>{"company/a", "company/b"}));
  // Shard 0 replaced: shard 1's claim went with the delete, so nothing
  // brings the edge back.
  ASSERT_TRUE((*mirror)->BeginReplace(0).ok());
  ASSERT_TRUE(
      (*mirror)->AddChunk(0, {Company("company/a", "KR")}, {}, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(0, 2, kGraphA).ok());
  ASSERT_TRUE((*mirror)->ApplyChanges(1, {ChangeOf(2, {DeleteEdge(ab)})}).ok());
  EXPECT_EQ(RecordIds(**mirror),
            (std::vector<std::string>{"company/a", "company/b"}));
}

TEST(GraphMirrorShardsTest, AnUnfinishedShardReplacementIsThatShardsAlone) {
  std::string dir = base::testing::MakeTempDir("mirror");
  {
    auto mirror = GraphMirror::Open(Sharded(dir, 2));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE((*mirror)->BeginReplace(i).ok());
      ASSERT_TRUE((*mirror)->FinishReplace(i, 4 + i, kGraphA).ok());
    }
    ASSERT_TRUE((*mirror)->BeginReplace(1).ok());
    // "Crash" before FinishReplace.
  }
  auto mirror = GraphMirror::Open(Sharded(dir, 2));
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ((*mirror)->applied_sequence(0), 4);
  EXPECT_EQ((*mirror)->graph_id(0), kGraphA);
  EXPECT_EQ((*mirror)->applied_sequence(1), 0);
  EXPECT_EQ((*mirror)->graph_id(1), "");
  EXPECT_EQ((*mirror)->ApplyChanges(1, {ChangeOf(6, {})}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*mirror)->ApplyChanges(0, {ChangeOf(5, {})}).ok());
}

// Point reads: the records as carried, their origins with them, from a
// snapshot and from the change feed; NOT_FOUND for what the mirror has not.
TEST(GraphMirrorTest, GetsOneRecordWithItsOrigin) {
  std::string dir = base::testing::MakeTempDir("mirror");
  auto mirror = GraphMirror::Open({dir});
  ASSERT_TRUE(mirror.ok()) << mirror.status();
  ASSERT_TRUE((*mirror)->BeginReplace().ok());
  v1::Entity a = Company("company/a", "KR");
  a.set_update_origin("source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  v1::Edge owns = WithRecordId(Owns("company/a", "company/b", 0.6), "r1");
  owns.set_update_origin("import:owners.csv started 2026-12-06T14:00:00Z");
  ASSERT_TRUE(
      (*mirror)->AddChunk({a, Company("company/b", "KR")}, {owns}, {}).ok());
  ASSERT_TRUE((*mirror)->FinishReplace(3).ok());

  absl::StatusOr<v1::Entity> got = (*mirror)->GetEntity("company/a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->update_origin(), a.update_origin());
  v1::EdgeKey key = DeleteEdge(owns).delete_edge();
  absl::StatusOr<v1::Edge> edge = (*mirror)->GetEdge(key);
  ASSERT_TRUE(edge.ok()) << edge.status();
  EXPECT_EQ(edge->update_origin(), owns.update_origin());
  EXPECT_EQ(edge->weight(), 0.6);

  v1::Entity b = Company("company/b", "KR");
  b.set_update_origin("bulkload:g.jsonl started 2026-12-06T15:00:00Z");
  ASSERT_TRUE((*mirror)->ApplyChanges({ChangeOf(4, {Upsert(b)})}).ok());
  EXPECT_EQ((*mirror)->GetEntity("company/b")->update_origin(),
            b.update_origin());

  EXPECT_EQ((*mirror)->GetEntity("company/ghost").status().code(),
            absl::StatusCode::kNotFound);
  key.set_record_id("r2");
  EXPECT_EQ((*mirror)->GetEdge(key).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace georisk::storage
