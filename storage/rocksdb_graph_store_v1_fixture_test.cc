// The upgrade of a storage schema version 1 database written by the version-1
// code itself: storage/testdata/v1_demo_graphstore.tar.gz holds the RocksDB
// directory graphstore wrote at commit 9bdde6f on importing the demo and two
// dated ownership records, and records.txt, every record that commit's
// RocksDbGraphStore read back from it (storage/testdata/README.md says how
// both were made). Opened by today's code, the database must be version 2,
// read back every one of those records unchanged, go on with its sequence,
// and be left alone by a second open.
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/keys.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::SizeIs;

// What the version-1 import wrote (storage/testdata/README.md): the demo of
// commit 9bdde6f (141 entities, 385 edges, 37 signals, one commit) and then
// v1_extra_1.jsonl and v1_extra_2.jsonl (one commit each).
constexpr int64_t kEntities = 142;
constexpr int64_t kEdges = 386;
constexpr int64_t kSignals = 37;
constexpr int64_t kLastSequence = 3;
constexpr char kOwner[] = "person/v1-fixture-owner";

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return std::string(path);
  return absl::StrCat(srcdir, "/", workspace ? workspace : "georisk", "/",
                      path);
}

// records.txt: "<entity|edge|signal|link> <JSON>" lines, then one "stats
// name=value ..." line.
struct OldRecords {
  std::map<std::string, v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::map<std::string, v1::Signal> signals;
  std::map<std::string, std::string> stats;
};

template <typename M>
M FromJson(absl::string_view json) {
  M m;
  const auto s =
      google::protobuf::util::JsonStringToMessage(std::string(json), &m);
  EXPECT_TRUE(s.ok()) << s.ToString() << ": " << json;
  return m;
}

OldRecords ReadOldRecords(const std::string& path) {
  OldRecords out;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::string line;
  while (std::getline(in, line)) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (kv.first == "entity") {
      v1::Entity e = FromJson<v1::Entity>(kv.second);
      out.entities[e.id()] = e;
    } else if (kv.first == "edge") {
      out.edges.push_back(FromJson<v1::Edge>(kv.second));
    } else if (kv.first == "signal") {
      v1::Signal s = FromJson<v1::Signal>(kv.second);
      out.signals[s.id()] = s;
    } else if (kv.first == "stats") {
      for (absl::string_view field : absl::StrSplit(kv.second, ' ')) {
        out.stats.insert(absl::StrSplit(field, absl::MaxSplits('=', 1)));
      }
    } else {
      ADD_FAILURE() << "unexpected line in " << path << ": " << line;
    }
  }
  return out;
}

// Every key and value of every column family of a closed database, read
// with RocksDB itself.
std::map<std::string, std::map<std::string, std::string>> RawContents(
    const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
      rocksdb::DBOptions(), path, cfs, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::map<std::string, std::map<std::string, std::string>> out;
  if (!s.ok()) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  for (size_t i = 0; i < handles.size(); ++i) {
    std::map<std::string, std::string>& cf = out[names[i]];
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      cf[it->key().ToString()] = it->value().ToString();
    }
    EXPECT_TRUE(it->status().ok());
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  return out;
}

uint64_t SchemaVersion(const std::string& path) {
  const std::string value =
      RawContents(path)["meta"][std::string(internal::kMetaSchemaVersion)];
  absl::StatusOr<uint64_t> version = internal::DecodeFixed64BE(value);
  EXPECT_TRUE(version.ok()) << version.status();
  return version.value_or(0);
}

std::string EdgeName(const v1::Edge& e) {
  return absl::StrCat(e.from_id(), " ", v1::Edge::Kind_Name(e.kind()), " ",
                      e.to_id(), " ", e.product_code(), " ", e.record_id());
}

class VersionOneFixtureTest : public testing::GraphStoreFixture {
 protected:
  void SetUp() override {
    UseFreshDatabase("v1_fixture_");
    const std::string dir = path_.substr(0, path_.rfind('/'));
    const std::string command = absl::StrCat(
        "tar -xzf ", Runfile("storage/testdata/v1_demo_graphstore.tar.gz"),
        " -C ", dir);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    // The archive holds db/ and records.txt.
    old_ = ReadOldRecords(dir + "/records.txt");
    ASSERT_THAT(old_.entities, SizeIs(kEntities));
    ASSERT_THAT(old_.edges, SizeIs(kEdges));
    ASSERT_THAT(old_.signals, SizeIs(kSignals));
    options_.clock = [] { return absl::FromUnixSeconds(1800000000); };
  }

  std::vector<v1::Edge> ExportedEdges(std::map<std::string, v1::Entity>* ents,
                                      std::map<std::string, v1::Signal>* sigs) {
    std::vector<v1::Edge> edges;
    const absl::Status s = store_->ExportSnapshot(
        [&](SnapshotChunk& chunk) {
          for (v1::Entity& e : chunk.entities) (*ents)[e.id()] = e;
          edges.insert(edges.end(), chunk.edges.begin(), chunk.edges.end());
          for (v1::Signal& g : chunk.signals) (*sigs)[g.id()] = g;
          EXPECT_TRUE(chunk.links.empty());
          return absl::OkStatus();
        },
        100);
    EXPECT_TRUE(s.ok()) << s;
    return edges;
  }

  std::vector<v1::Edge> Edges(const std::string& id, Direction direction) {
    std::vector<v1::Edge> edges;
    EdgeQuery query;
    query.entity_id = id;
    query.direction = direction;
    query.page_size = 7;  // Several pages for the busiest entities.
    do {
      absl::StatusOr<EdgePage> page = store_->ListEdges(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      edges.insert(edges.end(), page->edges.begin(), page->edges.end());
      query.page_token = page->next_page_token;
    } while (!query.page_token.empty());
    return edges;
  }

  OldRecords old_;
};

TEST_F(VersionOneFixtureTest, TheArchiveIsAVersionOneDatabase) {
  EXPECT_EQ(SchemaVersion(path_), 1u);
  // Version 1 kept one record of the owner's pair: the last written.
  std::vector<std::string> owner_edges;
  for (const v1::Edge& e : old_.edges) {
    if (e.from_id() == kOwner) owner_edges.push_back(EdgeName(e));
  }
  EXPECT_THAT(owner_edges, ElementsAre("person/v1-fixture-owner OWNS "
                                       "company/foxconn  v1-fixture-2024"));
  EXPECT_EQ(old_.stats["last_sequence"], absl::StrCat(kLastSequence));
  EXPECT_EQ(old_.stats["oldest_retained"], "1");
}

TEST_F(VersionOneFixtureTest, EveryOldRecordReadsBackUnchanged) {
  Open();
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->entity_count, kEntities);
  EXPECT_EQ(stats->edge_count, kEdges);
  EXPECT_EQ(stats->signal_count, kSignals);
  EXPECT_EQ(stats->link_count, 0);
  EXPECT_EQ(stats->last_sequence, kLastSequence);
  EXPECT_EQ(store_->GraphId(), old_.stats["graph_id"]);

  // The whole snapshot, record by record.
  std::map<std::string, v1::Entity> entities;
  std::map<std::string, v1::Signal> signals;
  std::vector<v1::Edge> edges = ExportedEdges(&entities, &signals);
  ASSERT_THAT(entities, SizeIs(kEntities));
  for (const auto& [id, old] : old_.entities) {
    ASSERT_TRUE(entities.count(id) > 0) << id;
    EXPECT_TRUE(MessageDifferencer::Equals(entities[id], old))
        << entities[id].DebugString() << " vs " << old.DebugString();
    absl::StatusOr<v1::Entity> got = store_->GetEntity(id);
    ASSERT_TRUE(got.ok()) << id << ": " << got.status();
    EXPECT_TRUE(MessageDifferencer::Equals(*got, old)) << id;
  }
  ASSERT_THAT(signals, SizeIs(kSignals));
  for (const auto& [id, old] : old_.signals) {
    EXPECT_TRUE(MessageDifferencer::Equals(signals[id], old))
        << signals[id].DebugString() << " vs " << old.DebugString();
  }
  SignalQuery signal_query;
  signal_query.page_size = kMaxPageSize;
  absl::StatusOr<SignalPage> listed = store_->ListSignals(signal_query);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(listed->signals, SizeIs(kSignals));
  for (const v1::Signal& s : listed->signals) {
    EXPECT_TRUE(MessageDifferencer::Equals(s, old_.signals[s.id()])) << s.id();
  }

  // Edges: every old edge from the snapshot, and from ListEdges both ways.
  std::map<std::string, v1::Edge> old_edges;
  for (const v1::Edge& e : old_.edges) old_edges[EdgeName(e)] = e;
  ASSERT_THAT(old_edges, SizeIs(kEdges)) << "names are unique";
  std::map<std::string, v1::Edge> exported, out, in;
  for (const v1::Edge& e : edges) exported[EdgeName(e)] = e;
  for (const auto& [id, entity] : old_.entities) {
    for (const v1::Edge& e : Edges(id, Direction::kOutbound)) {
      EXPECT_EQ(e.from_id(), id);
      EXPECT_TRUE(out.emplace(EdgeName(e), e).second) << EdgeName(e);
    }
    for (const v1::Edge& e : Edges(id, Direction::kInbound)) {
      EXPECT_EQ(e.to_id(), id);
      EXPECT_TRUE(in.emplace(EdgeName(e), e).second) << EdgeName(e);
    }
  }
  for (const auto* now : {&exported, &out, &in}) {
    ASSERT_THAT(*now, SizeIs(kEdges));
    for (const auto& [name, old] : old_edges) {
      ASSERT_TRUE(now->count(name) > 0) << name;
      EXPECT_TRUE(MessageDifferencer::Equals(now->at(name), old))
          << now->at(name).DebugString() << " vs " << old.DebugString();
    }
  }

  // A few records as the demo and v1_extra_*.jsonl wrote them, so that the
  // comparison above cannot pass on an empty or garbled records.txt.
  absl::StatusOr<v1::Entity> foxconn = store_->GetEntity("company/foxconn");
  ASSERT_TRUE(foxconn.ok());
  EXPECT_EQ(foxconn->name(), "Hon Hai Precision Industry Co., Ltd.");
  EXPECT_EQ(foxconn->country(), "TW");
  EXPECT_EQ(foxconn->kind(), v1::Entity::COMPANY);
  EXPECT_THAT(foxconn->aliases(), ElementsAre("Foxconn", "Hon Hai"));
  EXPECT_EQ(foxconn->update_sequence(), 1);
  absl::StatusOr<v1::Entity> owner = store_->GetEntity(kOwner);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->kind(), v1::Entity::PERSON);
  EXPECT_EQ(owner->update_sequence(), 2);
  std::vector<v1::Edge> owned = Edges(kOwner, Direction::kOutbound);
  ASSERT_THAT(owned, SizeIs(1));
  EXPECT_EQ(owned[0].to_id(), "company/foxconn");
  EXPECT_EQ(owned[0].record_id(), "v1-fixture-2024");
  EXPECT_EQ(owned[0].weight(), 0.35);
  EXPECT_EQ(owned[0].update_sequence(), 3);
  std::vector<v1::Edge> sk_square =
      Edges("company/sk-square", Direction::kOutbound);
  ASSERT_FALSE(sk_square.empty());
  EXPECT_EQ(EdgeName(sk_square[0]),
            "company/sk-square OWNS company/sk-hynix  ");
  EXPECT_EQ(sk_square[0].weight(), 0.2);
  const v1::Signal& veu = signals["signal/bis-veu-revocation-2025"];
  EXPECT_EQ(veu.export_control().authority(), "US-BIS");
  EXPECT_THAT(veu.export_control().target_ids(),
              ElementsAre("facility/samsung-xian", "facility/skhynix-wuxi",
                          "facility/solidigm-dalian"));

  store_.reset();
  EXPECT_EQ(SchemaVersion(path_), 2u);
}

TEST_F(VersionOneFixtureTest, TheSequenceGoesOnAndRecordsOfThePairCoexist) {
  Open();
  // The version-1 log does not replay to the re-keyed graph: trimmed
  // (docs/storage.md, "Schema version").
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  v1::Mutation earlier;
  v1::Edge* e = earlier.mutable_upsert_edge();
  e->set_from_id(kOwner);
  e->set_kind(v1::Edge::OWNS);
  e->set_to_id("company/foxconn");
  e->set_weight(0.3);
  e->set_record_id("v1-fixture-2023");
  e->mutable_effective_from()->set_seconds(1672531200);   // 2023-01-01
  e->mutable_effective_until()->set_seconds(1704067200);  // 2024-01-01
  e->set_source("the record version 1 replaced, written again");
  ApplyResult applied = MustApply({earlier});
  EXPECT_EQ(applied.sequence, kLastSequence + 1);
  std::vector<std::string> records;
  for (const v1::Edge& r : Edges(kOwner, Direction::kOutbound)) {
    records.push_back(absl::StrCat(r.record_id(), "@", r.update_sequence()));
  }
  EXPECT_THAT(records, ElementsAre("v1-fixture-2023@4", "v1-fixture-2024@3"));
  absl::StatusOr<std::vector<v1::Change>> log =
      store_->ReadChanges(kLastSequence + 1, 0, 0);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_THAT(*log, SizeIs(1));
  EXPECT_EQ((*log)[0].sequence(), kLastSequence + 1);
  EXPECT_EQ(store_->GetStats()->edge_count, kEdges + 1);

  // The commit is durable across a reopen, and the next one follows it.
  Open();
  EXPECT_EQ(store_->LastSequence(), kLastSequence + 1);
  v1::Mutation del;
  del.set_delete_entity_id(kOwner);
  ApplyResult deleted = MustApply({del});
  EXPECT_EQ(deleted.sequence, kLastSequence + 2);
  EXPECT_EQ(deleted.cascaded_edge_deletes, 2);
  EXPECT_EQ(store_->GetStats()->edge_count, kEdges - 1);
  EXPECT_EQ(store_->GetStats()->entity_count, kEntities - 1);
}

TEST_F(VersionOneFixtureTest, ASecondOpenChangesNothing) {
  Open();
  store_.reset();
  const auto upgraded = RawContents(path_);
  ASSERT_FALSE(upgraded.empty());
  EXPECT_EQ(upgraded.at("out_edges").size(), static_cast<size_t>(kEdges));
  EXPECT_EQ(upgraded.at("in_edges").size(), static_cast<size_t>(kEdges));
  Open();
  EXPECT_EQ(store_->LastSequence(), kLastSequence);
  store_.reset();
  const auto reopened = RawContents(path_);
  ASSERT_EQ(reopened.size(), upgraded.size());
  for (const auto& [cf, contents] : upgraded) {
    EXPECT_TRUE(reopened.at(cf) == contents) << "column family " << cf;
  }
  EXPECT_EQ(SchemaVersion(path_), 2u);
}

}  // namespace
}  // namespace georisk::storage
