// MovePartitions (storage/partition_move.h) on real RocksDbGraphStore shards:
// a graph of three shards (shard 2 added owning nothing) written as
// graphstore writes it (whole records, copies across shards, outboxes
// delivered), partitions 256-511 moved from shard 0 to shard 2, then every
// record read through ShardStore under the new map from its new owner.
// Here rather than in storage/ because the reads go through ShardStore.
#include "storage/partition_move.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/graphstore/shard_store.h"
#include "services/graphstore/two_shards_testing.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::IdentifierLink;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithIdentifiers;
using ::georisk::graphstore::testing::IdOn;
using ::georisk::storage::MovePartitions;
using ::georisk::storage::PartitionMap;
using ::georisk::storage::PartitionMoveOptions;
using ::georisk::storage::PartitionMoveResult;
using ::georisk::storage::RocksDbGraphStore;
using ::testing::HasSubstr;

constexpr char kLei[] = "506700GE1G29325QX363";

PartitionMap Map(absl::string_view text) { return *PartitionMap::Parse(text); }

class PartitionMoveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = base::testing::MakeTempDir("partition_move");
    // Shard 2 exists, owning nothing, as after "Adding shards" step 1.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Open(i, old_map_).ok());
    WriteGraph();
    Close();
  }

  std::string Path(int i) const { return absl::StrCat(dir_, "/graph-", i); }

  absl::Status Open(int i, const PartitionMap& map) {
    shards_[i].reset();
    stores_[i].reset();
    storage::RocksDbGraphStoreOptions options;
    options.path = Path(i);
    options.sync = false;
    options.partition_map = map;
    options.shard_index = i;
    absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
        RocksDbGraphStore::Open(options);
    if (!store.ok()) return store.status();
    stores_[i] = *std::move(store);
    absl::StatusOr<std::unique_ptr<ShardStore>> shard =
        ShardStore::Create(stores_[i].get(), {map, i});
    if (!shard.ok()) return shard.status();
    shards_[i] = *std::move(shard);
    return absl::OkStatus();
  }
  void OpenAll(const PartitionMap& map) {
    for (int i = 0; i < 3; ++i) {
      absl::Status opened = Open(i, map);
      ASSERT_TRUE(opened.ok()) << opened;
    }
  }
  void Close() {
    for (int i = 0; i < 3; ++i) {
      shards_[i].reset();
      stores_[i].reset();
    }
  }

  // Applies `m` as ingest does: on the shard of its ends (both, or the first
  // end's with EDGE_COPY_OUT: its outbox brings the other copy).
  void Write(const std::string& a, const std::string& b, v1::Mutation m) {
    const int sa = old_map_.ShardOf(a);
    if (sa != old_map_.ShardOf(b)) m.set_edge_copy(v1::EDGE_COPY_OUT);
    absl::StatusOr<storage::ApplyResult> applied =
        shards_[sa]->Apply({m}, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  void Write(const std::string& id, v1::Mutation m) {
    absl::StatusOr<storage::ApplyResult> applied =
        shards_[old_map_.ShardOf(id)]->Apply({m}, "test");
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  // What the outbox forwarder does: every entry applied on its peer, then
  // acknowledged, until every outbox is empty (a delivered copy may queue
  // its own entry).
  void DeliverOutboxes() {
    for (int round = 0; round < 10; ++round) {
      int delivered = 0;
      for (int i = 0; i < 3; ++i) {
        for (int peer = 0; peer < 3; ++peer) {
          absl::StatusOr<std::vector<storage::OutboxEntry>> entries =
              stores_[i]->ReadOutbox(peer, 1000);
          ASSERT_TRUE(entries.ok()) << entries.status();
          std::vector<std::string> keys;
          for (const storage::OutboxEntry& e : *entries) {
            absl::StatusOr<storage::ApplyResult> applied =
                shards_[peer]->Apply({e.mutation}, "outbox");
            ASSERT_TRUE(applied.ok()) << applied.status();
            keys.push_back(e.key);
          }
          ASSERT_TRUE(stores_[i]->AcknowledgeOutbox(keys).ok());
          delivered += static_cast<int>(keys.size());
        }
      }
      if (delivered == 0) return;
    }
    FAIL() << "the outboxes did not drain";
  }

  void WriteGraph() {
    for (const std::string& id : entities_) {
      v1::Entity e = Company(id);
      if (id == m_[0] || id == s_[0]) e = WithIdentifiers(e, {{"lei", kLei}});
      Write(id, Upsert(e));
    }
    // Within the range (whole before and after); whole on shard 0, across
    // shards 2 and 0 after; across shards 0 and 1 before, 2 and 1 after;
    // staying whole on shard 0.
    edges_ = {Supplies(m_[0], m_[1], 0.5), Supplies(m_[0], s_[0], 0.25),
              Owns(s_[1], m_[1], 0.6),     Supplies(m_[1], t_, 0.75),
              Owns(t_, m_[0], 0.3),        Supplies(s_[0], s_[1], 0.1)};
    for (const v1::Edge& e : edges_) {
      Write(e.from_id(), e.to_id(), Upsert(e));
    }
    links_ = {{m_[0], s_[0]}, {m_[1], t_}, {m_[0], m_[1]}};
    for (auto& [a, b] : links_) {
      if (b < a) std::swap(a, b);  // entity_a < entity_b
    }
    for (const auto& [a, b] : links_) {
      Write(a, b, Upsert(IdentifierLink(a, b, v1::Link::POSITIVE)));
    }
    signals_ = {IdOn(new_map_, 2, "signal/moved"),
                IdOn(new_map_, 0, "signal/kept")};
    for (const std::string& id : signals_) {
      Write(id, Upsert(Listing(id, "BIS", {m_[0]}, 0.8)));
    }
    DeliverOutboxes();
    // What every shard answers before the move, by id.
    for (const std::string& id : entities_) {
      before_[id] = Read(old_map_, id);
    }
    for (int i = 0; i < 3; ++i) graph_ids_[i] = stores_[i]->GraphId();
  }

  // Everything the store's API says of entity `id`, read from its owner
  // under `map`: the entity, its edges both ways, its links, the entities
  // carrying the LEI on that shard.
  std::string Read(const PartitionMap& map, const std::string& id) {
    ShardStore* shard = shards_[map.ShardOf(id)].get();
    std::string out;
    absl::StatusOr<v1::Entity> entity = shard->GetEntity(id);
    EXPECT_TRUE(entity.ok()) << id << ": " << entity.status();
    if (entity.ok()) absl::StrAppend(&out, entity->ShortDebugString(), "\n");
    for (storage::Direction d :
         {storage::Direction::kOutbound, storage::Direction::kInbound}) {
      storage::EdgeQuery query;
      query.entity_id = id;
      query.direction = d;
      absl::StatusOr<storage::EdgePage> page = shard->ListEdges(query);
      EXPECT_TRUE(page.ok()) << id << ": " << page.status();
      if (!page.ok()) continue;
      for (const v1::Edge& e : page->edges) {
        absl::StrAppend(&out, "edge ", e.ShortDebugString(), "\n");
      }
    }
    storage::LinkQuery links;
    links.entity_id = id;
    absl::StatusOr<storage::LinkPage> page = shard->ListLinks(links);
    EXPECT_TRUE(page.ok()) << id << ": " << page.status();
    if (page.ok()) {
      for (const v1::Link& l : page->links) {
        absl::StrAppend(&out, "link ", l.ShortDebugString(), "\n");
      }
    }
    return out;
  }

  // The ids a shard's LookupByIdentifier finds for kLei.
  std::vector<std::string> LeiHolders(int shard) {
    storage::IdentifierQuery query;
    query.scheme = "lei";
    query.value = kLei;
    absl::StatusOr<storage::IdentifierPage> page =
        shards_[shard]->LookupByIdentifier(query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const v1::Entity& e : page->entities) ids.push_back(e.id());
    }
    return ids;
  }

  PartitionMoveOptions MoveOptions() const {
    PartitionMoveOptions options;
    options.from_path = Path(0);
    options.to_path = Path(2);
    options.partitions = {256, 511};
    options.old_map = old_map_;
    options.new_map = new_map_;
    return options;
  }

  // Every check of a finished move.
  void ExpectMoved() {
    OpenAll(new_map_);
    for (const std::string& id : entities_) {
      EXPECT_EQ(Read(new_map_, id), before_[id]) << id;
    }
    // Both copies of every edge where the new map wants them (the out-copy
    // under from's owner, the in-copy under to's) and nowhere else, read past
    // ShardStore (a shard without the entity answers NOT_FOUND).
    for (const v1::Edge& e : edges_) {
      for (storage::Direction d :
           {storage::Direction::kOutbound, storage::Direction::kInbound}) {
        const std::string& end =
            d == storage::Direction::kOutbound ? e.from_id() : e.to_id();
        for (int i = 0; i < 3; ++i) {
          storage::EdgeQuery query;
          query.entity_id = end;
          query.direction = d;
          absl::StatusOr<storage::EdgePage> page = stores_[i]->ListEdges(query);
          int found = 0;
          if (page.ok()) {
            for (const v1::Edge& got : page->edges) {
              found += got.from_id() == e.from_id() && got.to_id() == e.to_id();
            }
          } else {
            EXPECT_EQ(page.status().code(), absl::StatusCode::kNotFound);
          }
          EXPECT_EQ(found, new_map_.ShardOf(end) == i ? 1 : 0)
              << e.from_id() << "->" << e.to_id() << " on shard " << i;
        }
      }
    }
    for (const std::string& id : {m_[0], m_[1]}) {
      EXPECT_EQ(stores_[0]->GetEntity(id).status().code(),
                absl::StatusCode::kNotFound);
    }
    EXPECT_THAT(LeiHolders(0), ::testing::ElementsAre(s_[0]));
    EXPECT_THAT(LeiHolders(2), ::testing::ElementsAre(m_[0]));
    // Signals listed by their new owner.
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> want;
      for (const std::string& id : signals_) {
        if (new_map_.ShardOf(id) == i) want.push_back(id);
      }
      std::vector<std::string> got;
      absl::StatusOr<storage::SignalPage> page =
          shards_[i]->ListSignals(storage::SignalQuery());
      ASSERT_TRUE(page.ok()) << page.status();
      for (const v1::Signal& s : page->signals) got.push_back(s.id());
      EXPECT_THAT(got, ::testing::UnorderedElementsAreArray(want)) << i;
    }
    // The counts, exactly, from what the new map says each shard holds.
    for (int i = 0; i < 3; ++i) {
      int64_t entities = 0, edges = 0, signals = 0, links = 0;
      for (const std::string& id : entities_) {
        entities += new_map_.ShardOf(id) == i;
      }
      for (const v1::Edge& e : edges_)
        edges += new_map_.ShardOf(e.from_id()) == i;
      for (const std::string& id : signals_)
        signals += new_map_.ShardOf(id) == i;
      for (const auto& [a, b] : links_) {
        links += new_map_.ShardOf(std::min(a, b)) == i;
      }
      absl::StatusOr<storage::StoreStats> stats = stores_[i]->GetStats();
      ASSERT_TRUE(stats.ok());
      EXPECT_EQ(stats->entity_count, entities) << "shard " << i;
      EXPECT_EQ(stats->edge_count, edges) << "shard " << i;
      EXPECT_EQ(stats->signal_count, signals) << "shard " << i;
      EXPECT_EQ(stats->link_count, links) << "shard " << i;
    }
    // New graph ids on both ends of the move only.
    EXPECT_NE(stores_[0]->GraphId(), graph_ids_[0]);
    EXPECT_NE(stores_[2]->GraphId(), graph_ids_[2]);
    EXPECT_NE(stores_[0]->GraphId(), stores_[2]->GraphId());
    EXPECT_EQ(stores_[1]->GraphId(), graph_ids_[1]);
    Close();
    // Neither end opens under the old map any more.
    for (int i : {0, 2}) {
      EXPECT_EQ(Open(i, old_map_).code(), absl::StatusCode::kFailedPrecondition)
          << i;
    }
    Close();
  }

  // Shard 0 and 2 still as before: opened under the old map, same graph ids.
  void ExpectUntouched() {
    OpenAll(old_map_);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(stores_[i]->GraphId(), graph_ids_[i]);
    for (const std::string& id : entities_) {
      EXPECT_EQ(Read(old_map_, id), before_[id]) << id;
    }
    Close();
  }

  std::string dir_;
  const PartitionMap old_map_ = Map("0=0-511;1=512-1023;2=");
  const PartitionMap new_map_ = Map("0=0-255;1=512-1023;2=256-511");
  // m_: in the moved range; s_: staying on shard 0; t_: on shard 1.
  const std::string m_[2] = {IdOn(new_map_, 2, "company/m", 0),
                             IdOn(new_map_, 2, "company/m", 1)};
  const std::string s_[2] = {IdOn(new_map_, 0, "company/s", 0),
                             IdOn(new_map_, 0, "company/s", 1)};
  const std::string t_ = IdOn(new_map_, 1, "company/t", 0);
  const std::vector<std::string> entities_ = {m_[0], m_[1], s_[0], s_[1], t_};
  std::vector<v1::Edge> edges_;
  std::vector<std::pair<std::string, std::string>> links_;
  std::vector<std::string> signals_;
  std::map<std::string, std::string> before_;
  std::string graph_ids_[3];
  std::unique_ptr<RocksDbGraphStore> stores_[3];
  std::unique_ptr<ShardStore> shards_[3];
};

TEST_F(PartitionMoveTest, MovesTheRangeAndEveryRecordIsReadFromItsNewOwner) {
  PartitionMoveOptions options = MoveOptions();
  // The table files go to a subdirectory of work_dir; the rest is left alone.
  options.work_dir = dir_ + "/work";
  std::filesystem::create_directories(options.work_dir);
  std::ofstream(options.work_dir + "/keep") << "mine";
  absl::StatusOr<PartitionMoveResult> moved = MovePartitions(options);
  EXPECT_TRUE(std::filesystem::exists(options.work_dir + "/keep"));
  EXPECT_FALSE(
      std::filesystem::exists(options.work_dir + "/partition-move.tmp"));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->outcome, PartitionMoveResult::Outcome::kMoved);
  EXPECT_EQ(moved->from_shard, 0);
  EXPECT_EQ(moved->to_shard, 2);
  EXPECT_EQ(moved->entities, 2);
  // m0->m1, m0->s0, m1->t (out-copies under m0, m1).
  EXPECT_EQ(moved->edges, 3);
  EXPECT_EQ(moved->signals, 1);
  ASSERT_EQ(moved->families.size(), 6u);
  EXPECT_EQ(moved->families[0].name, "entities");
  EXPECT_EQ(moved->families[0].keys, 2);
  EXPECT_EQ(moved->families[5].name, "identifiers");
  EXPECT_EQ(moved->families[5].keys, 1);
  ExpectMoved();
}

TEST_F(PartitionMoveTest, TheLastPartitionsMoveToo) {
  // 768-1023 from shard 1 to shard 2: the range has no end key.
  const PartitionMap map = Map("0=0-511;1=512-767;2=768-1023");
  const std::string z = IdOn(map, 2, "company/z");
  OpenAll(old_map_);
  Write(z, Upsert(Company(z)));
  Write(z, m_[0], Upsert(Supplies(z, m_[0], 0.4)));
  DeliverOutboxes();
  before_[z] = Read(old_map_, z);
  before_[m_[0]] = Read(old_map_, m_[0]);
  Close();
  PartitionMoveOptions options = MoveOptions();
  options.from_path = Path(1);
  options.partitions = {768, 1023};
  options.new_map = map;
  absl::StatusOr<PartitionMoveResult> moved = MovePartitions(options);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->from_shard, 1);
  EXPECT_GE(moved->entities, 1);
  OpenAll(map);
  for (const auto& [id, read] : before_) EXPECT_EQ(Read(map, id), read) << id;
  int64_t entities = 0;
  for (int i = 0; i < 3; ++i) entities += stores_[i]->GetStats()->entity_count;
  EXPECT_EQ(entities, static_cast<int64_t>(entities_.size()) + 1);
  Close();
}

TEST_F(PartitionMoveTest, ADryRunReportsAndWritesNothing) {
  PartitionMoveOptions options = MoveOptions();
  options.dry_run = true;
  absl::StatusOr<PartitionMoveResult> moved = MovePartitions(options);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->outcome, PartitionMoveResult::Outcome::kDryRun);
  EXPECT_EQ(moved->entities, 2);
  EXPECT_GT(moved->families[1].bytes, 0);
  ExpectUntouched();
}

TEST_F(PartitionMoveTest, AnInterruptedMoveIsCompletedByARerun) {
  PartitionMoveOptions options = MoveOptions();
  options.after_ingest_for_testing = [] {
    return absl::AbortedError("killed after the ingest");
  };
  EXPECT_EQ(MovePartitions(options).status().code(),
            absl::StatusCode::kAborted);
  // In between, the records are on both; neither shard opens under the
  // other's map, so nothing serves until the move is completed.
  EXPECT_EQ(Open(2, old_map_).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Open(0, new_map_).code(), absl::StatusCode::kFailedPrecondition);
  Close();
  absl::StatusOr<PartitionMoveResult> rerun = MovePartitions(MoveOptions());
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_EQ(rerun->outcome, PartitionMoveResult::Outcome::kCompleted);
  EXPECT_EQ(rerun->entities, 2);
  ExpectMoved();
  absl::StatusOr<PartitionMoveResult> again = MovePartitions(MoveOptions());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->outcome, PartitionMoveResult::Outcome::kAlreadyMoved);
}

TEST_F(PartitionMoveTest, MapsThatDoNotDescribeOneMoveAreRefused) {
  struct Case {
    std::string old_map, new_map;
    storage::PartitionRange range;
    std::string reason;
  };
  const Case cases[] = {
      {"0=0-511;1=512-1023;2=",
       "0=0-255;1=512-1023;2=256-511",
       {256, 1024},
       "not a range within 0-1023"},
      {"0=0-511;1=512-1023;2=",
       "0=0-511;1=512-1023;2=",
       {256, 511},
       "nothing to move"},
      {"0=0-511;1=512-1023;2=",
       "0=0-255;1=512-1023;2=256-511",
       {200, 511},
       "not one shard's in the new map"},
      {"0=0-511;1=512-1023;2=",
       "0=0-255;1=512-1023;2=256-511",
       {256, 600},
       "not one shard's in the old map"},
      {"0=0-511;1=512-1023;2=",
       "0=0-255;1=520-1023;2=256-519",
       {256, 511},
       "differs from the old one outside"},
      {"0=0-511;1=512-1023",
       "0=0-255;1=512-1023;2=256-511",
       {256, 511},
       "add the target shard"},
  };
  for (const Case& c : cases) {
    PartitionMoveOptions options = MoveOptions();
    options.old_map = Map(c.old_map);
    options.new_map = Map(c.new_map);
    options.partitions = c.range;
    absl::Status status = MovePartitions(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.reason;
    EXPECT_THAT(status.message(), HasSubstr(c.reason));
  }
  PartitionMoveOptions same = MoveOptions();
  same.to_path = same.from_path;
  EXPECT_EQ(MovePartitions(same).status().code(),
            absl::StatusCode::kInvalidArgument);
  PartitionMoveOptions missing = MoveOptions();
  missing.to_path = dir_ + "/none";
  EXPECT_EQ(MovePartitions(missing).status().code(),
            absl::StatusCode::kNotFound);
  ExpectUntouched();
}

TEST_F(PartitionMoveTest, ADatabaseOfAnotherMapOrShardIsRefused) {
  PartitionMoveOptions options = MoveOptions();
  options.to_path = Path(1);  // Recorded as shard 1, not 2.
  absl::Status status = MovePartitions(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("records shard 1 (graphstore-1)"));
  ExpectUntouched();
}

TEST_F(PartitionMoveTest, ARunningShardIsRefused) {
  ASSERT_TRUE(Open(0, old_map_).ok());
  absl::Status status = MovePartitions(MoveOptions()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr("locked"));
  Close();
  ExpectUntouched();
}

TEST_F(PartitionMoveTest, AnOutboxThatIsNotEmptyIsRefusedNamingTheCount) {
  OpenAll(old_map_);
  // An edge copy across shards 0 and 1 whose other copy is still queued.
  Write(s_[0], t_, Upsert(Supplies(s_[0], t_, 0.2)));
  Close();
  absl::Status status = MovePartitions(MoveOptions()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("graphstore-0's outbox holds 1 entries (1 for "
                        "graphstore-1)"));
  OpenAll(old_map_);
  EXPECT_EQ(stores_[0]->GraphId(), graph_ids_[0]);
  EXPECT_EQ(stores_[2]->GraphId(), graph_ids_[2]);
  Close();
}

TEST_F(PartitionMoveTest, ATargetHoldingKeysInTheRangeIsRefused) {
  // Written past ShardStore, which would refuse it: shard 2 owns nothing.
  ASSERT_TRUE(Open(2, old_map_).ok());
  ASSERT_TRUE(stores_[2]->Apply({Upsert(Company(m_[0]))}, "test").ok());
  graph_ids_[2] = stores_[2]->GraphId();
  Close();
  absl::Status status = MovePartitions(MoveOptions()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("already holds 1 keys of entities"));
  OpenAll(old_map_);
  EXPECT_EQ(stores_[0]->GraphId(), graph_ids_[0]);
  EXPECT_EQ(stores_[2]->GraphId(), graph_ids_[2]);
  Close();
}

}  // namespace
}  // namespace georisk::graphstore
