// Several records of one edge (Edge.record_id: an owner's dated shares of one
// asset) in RocksDbGraphStore, and the upgrade of a storage schema version 1
// database, written here byte by byte as the version-1 code wrote it, to
// version 2 (docs/storage.md, "Schema version").
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
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
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Person;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::Window;
using ::georisk::domain::testing::WithKey;
using ::georisk::domain::testing::WithRecordId;
using ::georisk::domain::testing::WithSource;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr auto kApplied = MutationOutcome::kApplied;
constexpr auto kUnchanged = MutationOutcome::kUnchanged;

// The three real ownership records of
// tests/data/real/ftm/zala.entities.ftm.json (lines 73, 74, 79): one owner, one
// asset, 50% ended 2023-03-02, 48% ended 2023-12-21, 51% current, all from
// 2015-11-25.
constexpr char kOwner[] = "person/ftm-nk-au5ybkbrfjucf8ymwsjvdw.1a4fe0dd";
constexpr char kAsset[] = "company/ftm-nk-abdzbebkqyt29gyrebiurz.9e19a6f8";
constexpr char kRecord73[] = "ru-770bdf5f22537fa2a94176f53fa87fe28ecf94fa";
constexpr char kRecord74[] = "ru-7f202fd87a7ec03404a36667672156628713531c";
constexpr char kRecord79[] = "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7";

// Midnight UTC of `date` ("2015-11-25").
absl::Time Day(const std::string& date) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d", date, &t, &error)) << error;
  return t;
}

// One of the pair's ownership records as FtM states it: from 2015-11-25,
// until `until` when given, with the statement's URL as its source.
v1::Mutation OwnsRecord(const std::string& record_id, double share,
                        const std::string& until = "") {
  return Upsert(WithSource(
      WithRecordId(Window(Owns(kOwner, kAsset, share), Day("2015-11-25"),
                          until.empty() ? absl::InfiniteFuture() : Day(until)),
                   record_id),
      absl::StrCat("https://www.opensanctions.org/statements/",
                   record_id.empty() ? "none" : record_id, "/")));
}

std::vector<v1::Mutation> DatedRecords() {
  return {OwnsRecord(kRecord73, 0.50, "2023-03-02"),
          OwnsRecord(kRecord74, 0.48, "2023-12-21"),
          OwnsRecord(kRecord79, 0.51)};
}

v1::Mutation DeleteOwns(const std::string& record_id) {
  return DeleteEdge(WithRecordId(Owns(kOwner, kAsset, 1), record_id));
}

std::vector<std::string> Records(const std::vector<v1::Edge>& edges) {
  std::vector<std::string> out;
  for (const v1::Edge& e : edges) {
    out.push_back(absl::StrCat(e.record_id().empty() ? "-" : e.record_id(), "=",
                               e.weight()));
  }
  return out;
}

class EdgeRecordsTest : public testing::GraphStoreFixture {
 protected:
  void SetUp() override {
    UseFreshDatabase("edge_records_");
    options_.clock = [] { return absl::FromUnixSeconds(1765000000); };
  }

  std::vector<v1::Edge> Edges(const std::string& id, Direction direction,
                              int page_size = kMaxPageSize) {
    std::vector<v1::Edge> edges;
    EdgeQuery query;
    query.entity_id = id;
    query.direction = direction;
    query.page_size = page_size;
    do {
      absl::StatusOr<EdgePage> page = store_->ListEdges(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      edges.insert(edges.end(), page->edges.begin(), page->edges.end());
      query.page_token = page->next_page_token;
    } while (!query.page_token.empty());
    return edges;
  }

  std::vector<v1::Edge> ExportedEdges() {
    std::vector<v1::Edge> edges;
    EXPECT_TRUE(store_
                    ->ExportSnapshot(
                        [&](SnapshotChunk& chunk) {
                          edges.insert(edges.end(), chunk.edges.begin(),
                                       chunk.edges.end());
                          return absl::OkStatus();
                        },
                        1)
                    .ok());
    return edges;
  }

  void AddParties() {
    MustApply({Upsert(Person(kOwner, "RU")), Upsert(Company(kAsset, "RU"))});
  }
};

TEST_F(EdgeRecordsTest, DatedRecordsOfOnePairCoexistInEitherOrder) {
  for (bool reversed : {false, true}) {
    SCOPED_TRACE(reversed ? "reversed" : "file order");
    store_.reset();
    rocksdb::DestroyDB(path_, rocksdb::Options()).PermitUncheckedError();
    Open();
    AddParties();
    std::vector<v1::Mutation> records = DatedRecords();
    if (reversed) std::reverse(records.begin(), records.end());
    for (const v1::Mutation& m : records) MustApply({m});

    const auto expected = ElementsAre(absl::StrCat(kRecord73, "=0.5"),
                                      absl::StrCat(kRecord74, "=0.48"),
                                      absl::StrCat(kRecord79, "=0.51"));
    EXPECT_THAT(Records(Edges(kOwner, Direction::kOutbound)), expected);
    EXPECT_THAT(Records(Edges(kAsset, Direction::kInbound)), expected);
    // One record a page: the page tokens resume inside the pair.
    EXPECT_THAT(Records(Edges(kAsset, Direction::kInbound, 1)), expected);
    EXPECT_THAT(Records(ExportedEdges()), expected);

    TraverseQuery traverse;
    traverse.start_ids = {kOwner};
    traverse.max_depth = 1;
    traverse.include_edges = true;
    absl::StatusOr<TraverseResult> walked = store_->Traverse(traverse);
    ASSERT_TRUE(walked.ok()) << walked.status();
    EXPECT_EQ(walked->edges.size(), 3u);
    EXPECT_EQ(walked->entities.size(), 2u);

    // The record in effect at a date is still the caller's choice; the
    // store filters by window.
    EdgeQuery today;
    today.entity_id = kOwner;
    today.active_at = absl::FromUnixSeconds(1765000000);
    absl::StatusOr<EdgePage> page = store_->ListEdges(today);
    ASSERT_TRUE(page.ok());
    EXPECT_THAT(Records(page->edges),
                ElementsAre(absl::StrCat(kRecord79, "=0.51")));

    absl::StatusOr<StoreStats> stats = store_->GetStats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->edge_count, 3);
    EXPECT_EQ(stats->last_sequence, 4);
  }
}

TEST_F(EdgeRecordsTest, AReplayChangesNothing) {
  Open();
  AddParties();
  MustApply(DatedRecords());
  const int64_t sequence = store_->LastSequence();
  for (int round = 0; round < 2; ++round) {
    ApplyResult again = MustApply(DatedRecords());
    EXPECT_THAT(again.outcomes,
                ElementsAre(kUnchanged, kUnchanged, kUnchanged));
    std::vector<v1::Mutation> reversed = DatedRecords();
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_THAT(MustApply(reversed).outcomes,
                ElementsAre(kUnchanged, kUnchanged, kUnchanged));
  }
  EXPECT_EQ(store_->LastSequence(), sequence);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(sequence + 1, 0, 0);
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
  // A changed record is its own change, and only that record's.
  ApplyResult changed = MustApply({OwnsRecord(kRecord79, 0.52)});
  EXPECT_THAT(changed.outcomes, ElementsAre(kApplied));
  EXPECT_THAT(Records(Edges(kOwner, Direction::kOutbound)),
              ElementsAre(absl::StrCat(kRecord73, "=0.5"),
                          absl::StrCat(kRecord74, "=0.48"),
                          absl::StrCat(kRecord79, "=0.52")));
}

TEST_F(EdgeRecordsTest, ARecordWithoutIdIsThePairsOwnRecord) {
  Open();
  AddParties();
  MustApply(DatedRecords());
  MustApply({OwnsRecord("", 0.3)});
  EXPECT_THAT(Records(Edges(kOwner, Direction::kOutbound)),
              ElementsAre("-=0.3", absl::StrCat(kRecord73, "=0.5"),
                          absl::StrCat(kRecord74, "=0.48"),
                          absl::StrCat(kRecord79, "=0.51")));
  // Upserting it again replaces only it.
  MustApply({OwnsRecord("", 0.35)});
  EXPECT_EQ(store_->GetStats()->edge_count, 4);
  // A delete without record_id names that record only.
  EXPECT_THAT(MustApply({DeleteOwns("")}).outcomes, ElementsAre(kApplied));
  EXPECT_THAT(Records(Edges(kAsset, Direction::kInbound)),
              ElementsAre(absl::StrCat(kRecord73, "=0.5"),
                          absl::StrCat(kRecord74, "=0.48"),
                          absl::StrCat(kRecord79, "=0.51")));
}

TEST_F(EdgeRecordsTest, DeleteByRecordIdDeletesThatRecordOnly) {
  Open();
  AddParties();
  MustApply(DatedRecords());
  ApplyResult deleted = MustApply({DeleteOwns(kRecord74)});
  EXPECT_THAT(deleted.outcomes, ElementsAre(kApplied));
  EXPECT_THAT(MustApply({DeleteOwns(kRecord74)}).outcomes,
              ElementsAre(kUnchanged));
  EXPECT_THAT(Records(Edges(kOwner, Direction::kOutbound)),
              ElementsAre(absl::StrCat(kRecord73, "=0.5"),
                          absl::StrCat(kRecord79, "=0.51")));
  EXPECT_THAT(Records(Edges(kAsset, Direction::kInbound)),
              ElementsAre(absl::StrCat(kRecord73, "=0.5"),
                          absl::StrCat(kRecord79, "=0.51")));
  EXPECT_EQ(store_->GetStats()->edge_count, 2);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(deleted.sequence, 1, 0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  ASSERT_EQ((*changes)[0].mutations_size(), 1);
  EXPECT_EQ((*changes)[0].mutations(0).delete_edge().record_id(), kRecord74);
}

TEST_F(EdgeRecordsTest, DeletingAnEntityRemovesEveryRecordTouchingIt) {
  Open();
  AddParties();
  MustApply(DatedRecords());
  MustApply({OwnsRecord("", 0.3)});
  // Another record upserted in the same batch as the delete goes too.
  ApplyResult deleted =
      MustApply({OwnsRecord("ru-in-batch", 0.1), DeleteEntity(kAsset)});
  EXPECT_EQ(deleted.cascaded_edge_deletes, 5);
  EXPECT_TRUE(Edges(kOwner, Direction::kOutbound).empty());
  EXPECT_TRUE(ExportedEdges().empty());
  EXPECT_EQ(store_->GetStats()->edge_count, 0);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(deleted.sequence, 1, 0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  std::vector<std::string> cascaded;
  for (const v1::Mutation& m : (*changes)[0].mutations()) {
    if (m.has_delete_edge()) cascaded.push_back(m.delete_edge().record_id());
  }
  EXPECT_THAT(cascaded, UnorderedElementsAre("", kRecord73, kRecord74,
                                             kRecord79, "ru-in-batch"));
  // Reopened, nothing comes back.
  Open();
  EXPECT_TRUE(ExportedEdges().empty());
}

// ---------------------------------------------------------------------------
// A version-1 database, as the code before record_id keys wrote it.

// The version-1 edge key (docs/storage.md before schema version 2):
// partition(anchor) | anchor | 00 | kind | other | 00 | product_code.
std::string V1EdgeKey(const std::string& anchor, v1::Edge::Kind kind,
                      const std::string& other, const std::string& product) {
  const uint16_t p = internal::Partition(anchor);
  std::string key;
  key.push_back(static_cast<char>(p >> 8));
  key.push_back(static_cast<char>(p & 0xff));
  key += anchor;
  key.push_back('\0');
  key.push_back(static_cast<char>(kind));
  key += other;
  key.push_back('\0');
  key += product;
  return key;
}

// Opens the raw column families of a graph database.
class RawDb {
 public:
  explicit RawDb(const std::string& path, bool create) {
    rocksdb::DBOptions options;
    options.create_if_missing = create;
    options.create_missing_column_families = create;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "entities", "out_edges", "in_edges",
                             "signals", "changelog", "meta", "idempotency"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    // A version-1 database is written without the column families added
    // since (identifiers, links); once RocksDbGraphStore has opened it, it
    // has them, and they must be opened too (after the ones Cf numbers).
    std::vector<std::string> existing;
    if (!create &&
        rocksdb::DB::ListColumnFamilies(options, path, &existing).ok()) {
      for (const std::string& name : existing) {
        if (std::none_of(cfs.begin(), cfs.end(),
                         [&](const auto& cf) { return cf.name == name; })) {
          cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
        }
      }
    }
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s =
        rocksdb::DB::Open(options, path, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  enum Cf { kEntities = 1, kOut, kIn, kSignals, kChangeLog, kMeta, kIdem };

  void Put(Cf cf, const std::string& key, const std::string& value) {
    ASSERT_TRUE(
        db_->Put(rocksdb::WriteOptions(), handles_[cf], key, value).ok());
  }
  void PutMeta(absl::string_view name, uint64_t value) {
    Put(kMeta, std::string(name), internal::EncodeFixed64BE(value));
  }
  // The value under `key`, or "<absent>".
  std::string Get(Cf cf, const std::string& key) {
    std::string value;
    const rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), handles_[cf], key, &value);
    return s.IsNotFound() ? "<absent>" : value;
  }
  uint64_t GetMeta(absl::string_view name) {
    return *internal::DecodeFixed64BE(Get(kMeta, std::string(name)));
  }
  std::vector<std::string> Keys(Cf cf) {
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[cf]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      keys.push_back(it->key().ToString());
    }
    return keys;
  }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

class SchemaUpgradeTest : public EdgeRecordsTest {
 protected:
  // Writes what the version-1 store held after three commits:
  //   1: company/a, company/b, signal/l1 (idempotency key "k1")
  //   2: company/a OWNS company/b (0.6), company/a SUPPLIES company/b 8542
  //   3: company/b SUPPLIES company/a 8541, whose record carries
  //      `v1_record_id` when not empty (version 1 stored the field in the
  //      value and keyed the edge by its pair)
  void WriteVersionOne(const std::string& v1_record_id,
                       int64_t edge_count = 3) {
    RawDb raw(path_, /*create=*/true);
    v1::Change c1, c2, c3;
    c1.set_sequence(1);
    c2.set_sequence(2);
    c3.set_sequence(3);
    for (v1::Change* c : {&c1, &c2, &c3}) {
      c->mutable_commit_time()->set_seconds(1700000000 + c->sequence());
      c->set_origin("test");
    }
    for (const char* id : {"company/a", "company/b"}) {
      v1::Entity e = Company(id, "RU");
      e.set_update_sequence(1);
      e.mutable_update_time()->set_seconds(1700000001);
      raw.Put(RawDb::kEntities, internal::EncodeEntityKey(id),
              e.SerializeAsString());
      *c1.add_mutations()->mutable_upsert_entity() = e;
    }
    v1::Signal sig;
    sig.set_id("signal/l1");
    sig.mutable_export_control()->set_authority("US-BIS");
    sig.mutable_export_control()->set_kind(v1::ExportControl::ENTITY_LISTING);
    sig.mutable_export_control()->add_target_ids("company/a");
    sig.mutable_export_control()->set_severity(0.8);
    sig.set_source("test");
    sig.set_update_sequence(1);
    raw.Put(RawDb::kSignals, internal::EncodeSignalKey("signal/l1"),
            sig.SerializeAsString());
    v1::Mutation* sm = c1.add_mutations();
    *sm->mutable_upsert_signal() = sig;
    sm->set_idempotency_key("k1");
    raw.Put(RawDb::kIdem, "k1", internal::EncodeFixed64BE(1));

    auto edge = [&](const std::string& from, v1::Edge::Kind kind,
                    const std::string& to, const std::string& product,
                    double weight, int64_t sequence,
                    const std::string& record_id, v1::Change* change) {
      v1::Edge e;
      e.set_from_id(from);
      e.set_to_id(to);
      e.set_kind(kind);
      e.set_weight(weight);
      e.set_product_code(product);
      e.set_source("test");
      e.set_record_id(record_id);
      e.set_update_sequence(sequence);
      const std::string value = e.SerializeAsString();
      raw.Put(RawDb::kOut, V1EdgeKey(from, kind, to, product), value);
      raw.Put(RawDb::kIn, V1EdgeKey(to, kind, from, product), value);
      *change->add_mutations()->mutable_upsert_edge() = e;
    };
    edge("company/a", v1::Edge::OWNS, "company/b", "", 0.6, 2, "", &c2);
    edge("company/a", v1::Edge::SUPPLIES, "company/b", "8542", 0.4, 2, "", &c2);
    edge("company/b", v1::Edge::SUPPLIES, "company/a", "8541", 0.2, 3,
         v1_record_id, &c3);
    for (const v1::Change* c : {&c1, &c2, &c3}) {
      raw.Put(RawDb::kChangeLog, internal::EncodeChangeLogKey(c->sequence()),
              c->SerializeAsString());
    }
    raw.PutMeta(internal::kMetaSchemaVersion, 1);
    raw.PutMeta(internal::kMetaLastSequence, 3);
    raw.PutMeta(internal::kMetaEntityCount, 2);
    raw.PutMeta(internal::kMetaEdgeCount, edge_count);
    raw.PutMeta(internal::kMetaSignalCount, 1);
  }
};

TEST_F(SchemaUpgradeTest, EveryVersionOneRecordSurvivesAndNewRecordsWork) {
  WriteVersionOne("");
  Open();
  store_.reset();
  {
    RawDb raw(path_, /*create=*/false);
    EXPECT_EQ(raw.GetMeta(internal::kMetaSchemaVersion), 2u);
    // Nothing needed moving: the version-1 keys are version 2's.
    EXPECT_EQ(raw.Get(RawDb::kOut, V1EdgeKey("company/b", v1::Edge::SUPPLIES,
                                             "company/a", "8541"))
                  .substr(0, 2),
              "\x0a\x09");
  }
  Open();
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 2);
  EXPECT_EQ(stats->edge_count, 3);
  EXPECT_EQ(stats->signal_count, 1);
  EXPECT_EQ(stats->last_sequence, 3);
  EXPECT_EQ(stats->oldest_retained_sequence, 1);
  absl::StatusOr<v1::Entity> a = store_->GetEntity("company/a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->update_sequence(), 1);
  EXPECT_EQ(a->update_time().seconds(), 1700000001);

  std::vector<std::string> edges;
  for (const v1::Edge& e : ExportedEdges()) {
    edges.push_back(absl::StrCat(
        e.from_id(), " ", v1::Edge::Kind_Name(e.kind()), " ", e.to_id(), " ",
        e.product_code(), " ", e.weight(), " @", e.update_sequence()));
  }
  EXPECT_THAT(edges,
              UnorderedElementsAre("company/a OWNS company/b  0.6 @2",
                                   "company/a SUPPLIES company/b 8542 0.4 @2",
                                   "company/b SUPPLIES company/a 8541 0.2 @3"));
  EXPECT_EQ(Edges("company/b", Direction::kInbound).size(), 2u);
  absl::StatusOr<std::vector<v1::Change>> log = store_->ReadChanges(1, 0, 0);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->size(), 3u);
  SignalQuery signals;
  EXPECT_EQ(store_->ListSignals(signals)->signals.size(), 1u);

  // What version 1 stored reads as unchanged, keys included.
  v1::Mutation same_signal =
      WithKey(Upsert(store_->ListSignals(signals)->signals[0]), "k1");
  EXPECT_THAT(MustApply({same_signal}).outcomes,
              ElementsAre(MutationOutcome::kDuplicate));
  v1::Mutation same_edge = Upsert(Owns("company/a", "company/b", 0.6));
  EXPECT_THAT(MustApply({same_edge}).outcomes, ElementsAre(kUnchanged));
  EXPECT_EQ(store_->LastSequence(), 3);

  // New dated records of the old pair sit beside its version-1 record.
  v1::Mutation dated =
      Upsert(WithRecordId(Owns("company/a", "company/b", 0.7), "r-2024"));
  EXPECT_THAT(MustApply({dated}).outcomes, ElementsAre(kApplied));
  EXPECT_THAT(Records(Edges("company/a", Direction::kOutbound)),
              ElementsAre("-=0.6", "r-2024=0.7", "-=0.4"));
  EXPECT_EQ(store_->GetStats()->edge_count, 4);
  // Deleting an old entity cascades to old and new records alike.
  EXPECT_EQ(MustApply({DeleteEntity("company/b")}).cascaded_edge_deletes, 4);
  EXPECT_TRUE(ExportedEdges().empty());
  // Reopening a version-2 database upgrades nothing.
  Open();
  EXPECT_EQ(store_->GetStats()->last_sequence, 5);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 1);
}

TEST_F(SchemaUpgradeTest, AnEdgeThatCarriedARecordIdIsRekeyed) {
  WriteVersionOne("contract-7");
  Open();
  std::vector<v1::Edge> in = Edges("company/a", Direction::kInbound);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].record_id(), "contract-7");
  EXPECT_EQ(in[0].update_sequence(), 3);
  EXPECT_EQ(store_->GetStats()->edge_count, 3);
  // The log before the upgrade no longer replays to this graph: trimmed.
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 0);
  store_.reset();
  {
    RawDb raw(path_, /*create=*/false);
    EXPECT_EQ(raw.Get(RawDb::kOut, V1EdgeKey("company/b", v1::Edge::SUPPLIES,
                                             "company/a", "8541")),
              "<absent>");
    EXPECT_EQ(raw.Get(RawDb::kIn, V1EdgeKey("company/a", v1::Edge::SUPPLIES,
                                            "company/b", "8541")),
              "<absent>");
    EXPECT_NE(raw.Get(RawDb::kOut, internal::EncodeOutEdgeKey(
                                       "company/b", v1::Edge::SUPPLIES,
                                       "company/a", "8541", "contract-7")),
              "<absent>");
    EXPECT_NE(raw.Get(RawDb::kIn, internal::EncodeInEdgeKey(
                                      "company/b", v1::Edge::SUPPLIES,
                                      "company/a", "8541", "contract-7")),
              "<absent>");
    EXPECT_EQ(raw.Keys(RawDb::kOut).size(), 3u);
    EXPECT_EQ(raw.Keys(RawDb::kIn).size(), 3u);
    EXPECT_TRUE(raw.Keys(RawDb::kChangeLog).empty());
    EXPECT_EQ(raw.GetMeta(internal::kMetaChangeLogStart), 4u);
  }
  Open();
  // The next commit continues the sequence; the record is deleted by its id.
  ApplyResult deleted = MustApply({DeleteEdge(WithRecordId(
      Supplies("company/b", "company/a", 0.2, "8541"), "contract-7"))});
  EXPECT_THAT(deleted.outcomes, ElementsAre(kApplied));
  EXPECT_EQ(deleted.sequence, 4);
  EXPECT_TRUE(Edges("company/a", Direction::kInbound).empty());
}

TEST_F(SchemaUpgradeTest, AVersionOneDatabaseThatDoesNotAddUpIsDataLoss) {
  WriteVersionOne("", /*edge_count=*/5);
  absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
      RocksDbGraphStore::Open(options_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(),
              HasSubstr("out_edges holds 3 keys but meta counts 5 edges"));
  RawDb raw(path_, /*create=*/false);
  EXPECT_EQ(raw.GetMeta(internal::kMetaSchemaVersion), 1u)
      << "a failed upgrade leaves version 1";
}

TEST_F(SchemaUpgradeTest, AnEdgeUnderAnotherPairsKeyIsDataLoss) {
  WriteVersionOne("");
  {
    RawDb raw(path_, /*create=*/false);
    // The OWNS record copied under a SUPPLIES key.
    raw.Put(RawDb::kOut,
            V1EdgeKey("company/a", v1::Edge::SUPPLIES, "company/b", "8542"),
            raw.Get(RawDb::kOut,
                    V1EdgeKey("company/a", v1::Edge::OWNS, "company/b", "")));
  }
  EXPECT_EQ(RocksDbGraphStore::Open(options_).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace georisk::storage
