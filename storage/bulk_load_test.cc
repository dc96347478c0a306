// BulkLoader (storage/bulk_load.h): a load gives the store exactly what one
// Apply of the same mutations under InvalidMutations::kReject gives it (the
// same records, counts, index entries, idempotency keys and rejections), it
// is visible at once and after a reopen, it is all or nothing, and it goes
// only into a store that never committed.
#include "storage/bulk_load.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graph.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::IdentifierLink;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NameLink;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithIdentifiers;
using ::georisk::domain::testing::WithKey;
using ::georisk::domain::testing::WithRecordId;
using ::google::protobuf::util::MessageDifferencer;

const absl::Time kNow = absl::FromUnixSeconds(1765000000);

// Everything ExportSnapshot returns, in order.
struct Snapshot {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<v1::Link> links;
  int64_t sequence = 0;
};

Snapshot Export(RocksDbGraphStore& store) {
  Snapshot s;
  absl::Status status = store.ExportSnapshot(
      [&](SnapshotChunk& chunk) {
        for (auto& e : chunk.entities) s.entities.push_back(e);
        for (auto& e : chunk.edges) s.edges.push_back(e);
        for (auto& e : chunk.signals) s.signals.push_back(e);
        for (auto& e : chunk.links) s.links.push_back(e);
        s.sequence = chunk.sequence;
        return absl::OkStatus();
      },
      100);
  EXPECT_TRUE(status.ok()) << status;
  return s;
}

template <typename T>
void ExpectSameRecords(const std::vector<T>& a, const std::vector<T>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(a[i], b[i]))
        << i << ":\n"
        << a[i].DebugString() << "vs\n"
        << b[i].DebugString();
  }
}

class BulkLoadTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksDbGraphStore> OpenStore(const std::string& name) {
    RocksDbGraphStoreOptions options;
    options.path = absl::StrCat(dir_, "/", name);
    options.sync = false;
    options.changelog_trim_interval = absl::ZeroDuration();
    options.clock = [] { return kNow; };
    absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
        RocksDbGraphStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  absl::StatusOr<BulkLoadResult> Load(RocksDbGraphStore& store,
                                      const std::vector<v1::Mutation>& load,
                                      BulkLoadOptions options = {}) {
    if (options.work_dir.empty()) options.work_dir = dir_ + "/work";
    absl::StatusOr<std::unique_ptr<BulkLoader>> loader =
        BulkLoader::Start(&store, options);
    if (!loader.ok()) return loader.status();
    for (const v1::Mutation& m : load) {
      absl::Status s = (*loader)->Add(m);
      if (!s.ok()) return s;
    }
    return (*loader)->Finish();
  }

  // A load with a bit of everything Apply can say about a batch.
  static std::vector<v1::Mutation> MixedLoad() {
    return {
        Upsert(WithIdentifiers(Company("company/tsmc", "TW"),
                               {{"lei", "549300KVFW0NF7O3BK51"}})),
        Upsert(Company("company/apple", "US")),
        Upsert(Facility("facility/fab18", "TW")),
        // 3: an endpoint not created (yet): rejected as by Apply.
        Upsert(Supplies("company/tsmc", "company/nvidia", 0.5)),
        Upsert(Company("company/nvidia", "US")),
        Upsert(Supplies("company/tsmc", "company/nvidia", 0.5)),
        Upsert(Supplies("company/tsmc", "company/apple", 0.4)),
        Upsert(Operates("company/tsmc", "facility/fab18", 0.3)),
        // 8: a weight out of range: validation.h's rule.
        Upsert(Supplies("company/apple", "company/nvidia", 1.5)),
        // 9, 10: the same record twice: the second unchanged.
        Upsert(Owns("company/apple", "company/nvidia", 0.1)),
        Upsert(Owns("company/apple", "company/nvidia", 0.1)),
        // 11: the same key with another value: applied, replaces it.
        Upsert(Supplies("company/tsmc", "company/apple", 0.6)),
        Upsert(WithRecordId(Owns("company/tsmc", "company/apple", 0.2), "r1")),
        Upsert(WithRecordId(Owns("company/tsmc", "company/apple", 0.3), "r2")),
        // 14, 15: an idempotency key twice: the second a duplicate.
        WithKey(
            Upsert(Listing("signal/el-1", "US-BIS", {"company/nvidia"}, 0.9)),
            "import:1"),
        WithKey(
            Upsert(Listing("signal/el-1", "US-BIS", {"company/apple"}, 0.2)),
            "import:1"),
        // 16: an entity changed later in the load: its last record and its
        // identifiers win.
        Upsert(WithIdentifiers(Company("company/apple", "US"),
                               {{"lei", "HWUPKR0MPOU8FGXBT394"}})),
        // 17: deletes are not a bulk load's.
        DeleteEntity("company/apple"),
        // 18: a link; 19: an automatic one cannot overturn its refusal.
        Upsert(IdentifierLink("company/nvidia", "company/apple",
                              v1::Link::NEGATIVE, "reviewer:ana")),
        Upsert(NameLink("company/apple", "company/nvidia", v1::Link::POSITIVE,
                        0.9)),
        // 20: a link to an entity that does not exist.
        Upsert(NameLink("company/apple", "company/ghost", v1::Link::POSITIVE,
                        0.9)),
    };
  }

  std::string dir_ = base::testing::MakeTempDir("bulk_load");
};

TEST_F(BulkLoadTest, GivesTheStoreWhatOneApplyOfTheSameMutationsGives) {
  const std::vector<v1::Mutation> load = MixedLoad();
  // The reference: one Apply, rejecting the bad mutations, without the
  // delete (which the bulk load refuses) so that both keep the same records.
  std::vector<v1::Mutation> batch;
  for (size_t i = 0; i < load.size(); ++i) {
    if (i != 17) batch.push_back(load[i]);
  }
  std::unique_ptr<RocksDbGraphStore> applied = OpenStore("applied");
  absl::StatusOr<ApplyResult> reference =
      applied->Apply(batch, "test", InvalidMutations::kReject);
  ASSERT_TRUE(reference.ok()) << reference.status();

  std::unique_ptr<RocksDbGraphStore> bulk = OpenStore("bulk");
  BulkLoadOptions options;
  options.origin = "test";  // As the reference's Apply: every record keeps it.
  absl::StatusOr<BulkLoadResult> result = Load(*bulk, load, options);
  ASSERT_TRUE(result.ok()) << result.status();

  // The same rejections, with the same fields and reasons (indexes past
  // the delete shifted by one), plus the delete's own.
  std::vector<MutationRejection> expected = reference->rejections;
  for (MutationRejection& r : expected) {
    if (r.index >= 17) ++r.index;
  }
  expected.push_back({17, "delete_entity_id", ""});
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  ASSERT_EQ(result->rejections.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result->rejections[i].index, expected[i].index);
    EXPECT_EQ(result->rejections[i].field, expected[i].field);
    if (expected[i].index != 17) {
      EXPECT_EQ(result->rejections[i].reason, expected[i].reason);
    }
  }
  EXPECT_EQ(result->rejections[0].index, 3);
  EXPECT_EQ(result->rejections[0].field, "upsert_edge.to_id");
  EXPECT_EQ(result->rejections[0].reason,
            "entity company/nvidia does not exist");
  EXPECT_EQ(result->rejections[2].index, 17);
  EXPECT_NE(result->rejections[2].reason.find("upserts only"),
            std::string::npos);

  // The same outcomes, counted.
  int64_t want_applied = 0, want_unchanged = 0, want_duplicates = 0;
  for (MutationOutcome o : reference->outcomes) {
    want_applied += o == MutationOutcome::kApplied;
    want_unchanged += o == MutationOutcome::kUnchanged;
    want_duplicates += o == MutationOutcome::kDuplicate;
  }
  EXPECT_EQ(result->mutations, static_cast<int64_t>(load.size()));
  EXPECT_EQ(result->applied, want_applied);
  EXPECT_EQ(result->unchanged, want_unchanged);
  EXPECT_EQ(result->duplicates, want_duplicates);
  EXPECT_EQ(result->sequence, 1);
  EXPECT_EQ(result->commit_time, kNow);

  // The same records, byte for byte as parsed: update_sequence 1 and the
  // commit time as update_time.
  Snapshot a = Export(*applied);
  Snapshot b = Export(*bulk);
  EXPECT_EQ(a.sequence, 1);
  EXPECT_EQ(b.sequence, 1);
  ExpectSameRecords(a.entities, b.entities);
  ExpectSameRecords(a.edges, b.edges);
  ExpectSameRecords(a.signals, b.signals);
  ExpectSameRecords(a.links, b.links);
  EXPECT_EQ(b.entities.size(), 4u);
  EXPECT_EQ(b.edges.size(), 6u);
  // Every record names the load (the comparison above checks it is Apply's).
  for (const v1::Entity& e : b.entities) EXPECT_EQ(e.update_origin(), "test");
  for (const v1::Edge& e : b.edges) EXPECT_EQ(e.update_origin(), "test");
  for (const v1::Link& l : b.links) EXPECT_EQ(l.update_origin(), "test");

  // The same counts, and the same answers from the indexes.
  absl::StatusOr<StoreStats> sa = applied->GetStats();
  absl::StatusOr<StoreStats> sb = bulk->GetStats();
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(sb->entity_count, sa->entity_count);
  EXPECT_EQ(sb->edge_count, sa->edge_count);
  EXPECT_EQ(sb->signal_count, sa->signal_count);
  EXPECT_EQ(sb->link_count, sa->link_count);
  EXPECT_EQ(sb->last_sequence, 1);
  EXPECT_EQ(result->entities, sb->entity_count);
  EXPECT_EQ(result->edges, sb->edge_count);
  for (const char* lei : {"549300KVFW0NF7O3BK51", "HWUPKR0MPOU8FGXBT394"}) {
    IdentifierQuery q;
    q.scheme = "lei";
    q.value = lei;
    absl::StatusOr<IdentifierPage> pa = applied->LookupByIdentifier(q);
    absl::StatusOr<IdentifierPage> pb = bulk->LookupByIdentifier(q);
    ASSERT_TRUE(pa.ok() && pb.ok()) << pa.status() << pb.status();
    ASSERT_EQ(pb->entities.size(), 1u) << lei;
    EXPECT_EQ(pb->entities[0].id(), pa->entities[0].id());
  }
  EdgeQuery in;
  in.entity_id = "company/apple";
  in.direction = Direction::kInbound;
  absl::StatusOr<EdgePage> ea = applied->ListEdges(in);
  absl::StatusOr<EdgePage> eb = bulk->ListEdges(in);
  ASSERT_TRUE(ea.ok() && eb.ok());
  ExpectSameRecords(ea->edges, eb->edges);

  // The idempotency key is recorded: a replay through Apply is a duplicate.
  absl::StatusOr<ApplyResult> replay = bulk->Apply({load[14]}, "test");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->outcomes[0], MutationOutcome::kDuplicate);
}

TEST_F(BulkLoadTest, FollowersAreSentToTheSnapshotAndApplyContinues) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  ASSERT_TRUE(Load(*store, MixedLoad()).ok());
  // No change record holds the load: the log starts after it.
  absl::StatusOr<std::vector<v1::Change>> changes =
      store->ReadChanges(1, 10, 0);
  EXPECT_EQ(changes.status().code(), absl::StatusCode::kOutOfRange)
      << changes.status();
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->last_sequence, 1);
  EXPECT_EQ(stats->oldest_retained_sequence, 0);
  // A waiter for the first commit sees the load.
  EXPECT_EQ(store->WaitForSequence(1, absl::Now()), 1);

  // The next commit is 2, in the log, and follows from the snapshot's 1.
  absl::StatusOr<ApplyResult> next =
      store->Apply({Upsert(Company("company/intel", "US"))}, "test");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequence, 2);
  changes = store->ReadChanges(2, 10, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].sequence(), 2);
}

TEST_F(BulkLoadTest, SurvivesAReopen) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  absl::StatusOr<BulkLoadResult> result = Load(*store, MixedLoad());
  ASSERT_TRUE(result.ok()) << result.status();
  const Snapshot before = Export(*store);
  const std::string graph_id = store->GraphId();
  store.reset();
  store = OpenStore("store");
  ASSERT_NE(store, nullptr);
  const Snapshot after = Export(*store);
  ExpectSameRecords(before.entities, after.entities);
  ExpectSameRecords(before.edges, after.edges);
  ExpectSameRecords(before.signals, after.signals);
  ExpectSameRecords(before.links, after.links);
  EXPECT_EQ(store->GraphId(), graph_id);
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->last_sequence, 1);
  EXPECT_EQ(stats->entity_count, result->entities);
  EXPECT_EQ(stats->edge_count, result->edges);
  EXPECT_EQ(stats->link_count, result->links);
  EXPECT_EQ(store->ReadChanges(1, 10, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  // Edges need their endpoints, which the entity id cache has not seen.
  absl::StatusOr<ApplyResult> next = store->Apply(
      {Upsert(Supplies("company/nvidia", "company/tsmc", 0.1))}, "test");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->outcomes[0], MutationOutcome::kApplied);
  EXPECT_EQ(next->sequence, 2);
}

TEST_F(BulkLoadTest, GoesOnlyIntoAStoreThatNeverCommitted) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  ASSERT_TRUE(
      store->Apply({Upsert(Company("company/tsmc", "TW"))}, "test").ok());
  absl::StatusOr<BulkLoadResult> result = Load(*store, MixedLoad());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition)
      << result.status();
  // A second load into a loaded store is refused too.
  std::unique_ptr<RocksDbGraphStore> loaded = OpenStore("loaded");
  ASSERT_TRUE(Load(*loaded, MixedLoad()).ok());
  EXPECT_EQ(Load(*loaded, MixedLoad()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(BulkLoadTest, ACommitDuringTheLoadLeavesNothingOfIt) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  BulkLoadOptions options;
  options.work_dir = dir_ + "/work";
  absl::StatusOr<std::unique_ptr<BulkLoader>> loader =
      BulkLoader::Start(store.get(), options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  for (const v1::Mutation& m : MixedLoad()) ASSERT_TRUE((*loader)->Add(m).ok());
  ASSERT_TRUE(
      store->Apply({Upsert(Company("company/intel", "US"))}, "test").ok());
  absl::StatusOr<BulkLoadResult> result = (*loader)->Finish();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition)
      << result.status();
  EXPECT_EQ(store->GetEntity("company/tsmc").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 1);
  EXPECT_EQ(stats->edge_count, 0);
  // Its files are gone with the loader.
  loader->reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/work"));
}

TEST_F(BulkLoadTest, AFailedIngestionLeavesNothingOfAnyColumnFamily) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  BulkLoadOptions options;
  options.work_dir = dir_ + "/work";
  // Spoil one of the files once all are written: the in-edge copies.
  options.before_ingest_for_testing = [&] {
    const std::string file = options.work_dir + "/in_edges.sst";
    ASSERT_TRUE(std::filesystem::exists(file));
    std::filesystem::resize_file(file, 100);
  };
  absl::StatusOr<BulkLoadResult> result = Load(*store, MixedLoad(), options);
  EXPECT_FALSE(result.ok());
  // Neither the entities, the out-edges, the signals nor the counters of
  // the other files are there.
  EXPECT_EQ(store->GetEntity("company/tsmc").status().code(),
            absl::StatusCode::kNotFound);
  EdgeQuery out;
  out.entity_id = "company/tsmc";
  EXPECT_EQ(store->ListEdges(out).status().code(), absl::StatusCode::kNotFound);
  const Snapshot nothing = Export(*store);
  EXPECT_TRUE(nothing.entities.empty());
  EXPECT_TRUE(nothing.edges.empty());
  EXPECT_TRUE(nothing.signals.empty());
  EXPECT_TRUE(nothing.links.empty());
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 0);
  EXPECT_EQ(stats->last_sequence, 0);
  store.reset();
  store = OpenStore("store");
  EXPECT_EQ(store->GetEntity("company/tsmc").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->LastSequence(), 0);
  // And the store still takes a load.
  absl::StatusOr<BulkLoadResult> again = Load(*store, MixedLoad());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(store->GetEntity("company/tsmc").ok());
}

// AddBatch encodes on several threads and places in order: the same
// store and the same rejections as one Add() at a time on one thread.
TEST_F(BulkLoadTest, BatchesOnThreadsGiveWhatOneAtATimeGives) {
  std::vector<v1::Mutation> load;
  for (int i = 0; i < 6000; ++i) {
    load.push_back(Upsert(Company(absl::StrCat("company/c", i), "TW")));
    if (i % 3 == 0) {
      // An edge to the entity made next: rejected, the next one kept.
      load.push_back(Upsert(Supplies(absl::StrCat("company/c", i),
                                     absl::StrCat("company/c", i + 1), 0.5)));
    }
    if (i > 0) {
      load.push_back(Upsert(Supplies(absl::StrCat("company/c", i),
                                     absl::StrCat("company/c", i / 2), 0.5)));
    }
    if (i % 1000 == 7) load.push_back(DeleteEntity("company/c1"));
  }
  std::unique_ptr<RocksDbGraphStore> one = OpenStore("one");
  BulkLoadOptions options;
  options.work_dir = dir_ + "/one-work";
  options.threads = 1;
  absl::StatusOr<BulkLoadResult> a = Load(*one, load, options);
  ASSERT_TRUE(a.ok()) << a.status();

  std::unique_ptr<RocksDbGraphStore> many = OpenStore("many");
  options.work_dir = dir_ + "/many-work";
  options.threads = 3;
  absl::StatusOr<std::unique_ptr<BulkLoader>> loader =
      BulkLoader::Start(many.get(), options);
  ASSERT_TRUE(loader.ok()) << loader.status();
  std::vector<const v1::Mutation*> batch;
  for (const v1::Mutation& m : load) batch.push_back(&m);
  ASSERT_TRUE((*loader)->AddBatch(batch).ok());
  absl::StatusOr<BulkLoadResult> b = (*loader)->Finish();
  ASSERT_TRUE(b.ok()) << b.status();

  ASSERT_EQ(a->rejections.size(), b->rejections.size());
  EXPECT_EQ(a->rejections.size(), 2000u + 6u);
  for (size_t i = 0; i < a->rejections.size(); ++i) {
    EXPECT_EQ(a->rejections[i].index, b->rejections[i].index);
    EXPECT_EQ(a->rejections[i].field, b->rejections[i].field);
    EXPECT_EQ(a->rejections[i].reason, b->rejections[i].reason);
  }
  EXPECT_EQ(a->applied, b->applied);
  EXPECT_EQ(b->entities, 6000);
  EXPECT_EQ(b->edges, 5999);
  const Snapshot sa = Export(*one);
  const Snapshot sb = Export(*many);
  ExpectSameRecords(sa.entities, sb.entities);
  ExpectSameRecords(sa.edges, sb.edges);
}

TEST_F(BulkLoadTest, AnEmptyLoadAndBadOptions) {
  std::unique_ptr<RocksDbGraphStore> store = OpenStore("store");
  BulkLoadOptions options;
  EXPECT_EQ(BulkLoader::Start(store.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.work_dir = dir_ + "/w";
  options.threads = 0;
  EXPECT_EQ(BulkLoader::Start(store.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Only bad records: as an Apply that changes nothing, no commit.
  absl::StatusOr<BulkLoadResult> result =
      Load(*store, {Upsert(Supplies("company/a", "company/b", 0.5))});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rejections.size(), 1u);
  EXPECT_EQ(result->sequence, 0);
  EXPECT_EQ(result->entities, 0);
  EXPECT_EQ(store->LastSequence(), 0);
  // So the store still takes one.
  ASSERT_TRUE(Load(*store, MixedLoad()).ok());
  EXPECT_EQ(store->LastSequence(), 1);
}

}  // namespace
}  // namespace georisk::storage
