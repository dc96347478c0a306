// RocksDbGraphStore's write path: Apply's sequences and output fields,
// validation and reject mode, edge endpoint checks (with and without the
// entity id cache), size limits, cascading deletes, idempotency keys,
// concurrent commits, the WAL's bound and a clean close. The reads, opening
// and the change log are tested in the rocksdb_graph_store_*_test files
// beside this one.
#include "storage/rocksdb_graph_store.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kApplied = MutationOutcome::kApplied;
constexpr auto kDuplicate = MutationOutcome::kDuplicate;
constexpr auto kUnchanged = MutationOutcome::kUnchanged;

using testing::EdgeNames;
using testing::RocksDbGraphStoreTest;

TEST_F(RocksDbGraphStoreTest, ApplyAssignsSequencesAndOutputFields) {
  Open();
  EXPECT_EQ(store_->LastSequence(), 0);
  ApplyResult first =
      MustApply({Upsert(Company("company/a")), Upsert(Company("company/b"))});
  EXPECT_EQ(first.sequence, 1);
  EXPECT_EQ(first.commit_time, now_);
  EXPECT_THAT(first.outcomes, ElementsAre(kApplied, kApplied));
  now_ += absl::Seconds(5);
  ApplyResult second = MustApply({Upsert(Owns("company/a", "company/b", 0.5))});
  EXPECT_EQ(second.sequence, 2);
  EXPECT_EQ(store_->LastSequence(), 2);

  absl::StatusOr<v1::Entity> a = store_->GetEntity("company/a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name(), "a");
  EXPECT_EQ(a->update_sequence(), 1);
  EXPECT_EQ(a->update_time().seconds(), 1750000000);
  std::vector<v1::Edge> edges = AllEdges("company/a", Direction::kOutbound);
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].update_sequence(), 2);

  // The store sets output-only fields whatever the client sends.
  v1::Mutation c = Upsert(Company("company/c"));
  c.mutable_upsert_entity()->set_update_sequence(999);
  EXPECT_EQ(MustApply({c}).sequence, 3);
  EXPECT_EQ(store_->GetEntity("company/c")->update_sequence(), 3);
}

// Provenance (docs/scheduled-sources.md): a signal keeps the origin of the
// commit that last wrote it, in its reads, the change log and snapshots; an
// upsert that changes nothing keeps the earlier origin.
TEST_F(RocksDbGraphStoreTest, SignalsRecordTheOriginOfTheirLastWrite) {
  Open();
  auto origin_of = [&](const std::string& id) {
    SignalQuery query;
    SignalPage page = *store_->ListSignals(query);
    for (const v1::Signal& s : page.signals) {
      if (s.id() == id) return s.update_origin();
    }
    return std::string("(missing)");
  };
  v1::Signal listing = Listing("signal/l", "US-BIS", {"company/a"}, 0.9);
  v1::Signal other = Listing("signal/m", "US-BIS", {"company/a"}, 0.5);
  ASSERT_TRUE(store_
                  ->Apply({Upsert(Company("company/a")), Upsert(listing),
                           Upsert(other)},
                          "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"")
                  .ok());
  EXPECT_EQ(origin_of("signal/l"),
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");

  // The next fetch: l unchanged keeps v1's origin, m changed takes v2's.
  // What a client sends in update_origin is ignored.
  v1::Mutation same = Upsert(listing);
  same.mutable_upsert_signal()->set_update_origin("forged");
  other.mutable_export_control()->set_severity(0.6);
  absl::StatusOr<ApplyResult> second =
      store_->Apply({same, Upsert(other)},
                    "source:csl fetched 2026-12-06T15:00:00Z etag:\"v2\"");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(second->outcomes, ElementsAre(kUnchanged, kApplied));
  EXPECT_EQ(origin_of("signal/l"),
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  EXPECT_EQ(origin_of("signal/m"),
            "source:csl fetched 2026-12-06T15:00:00Z etag:\"v2\"");

  // The change log's upsert and the snapshot carry it too.
  absl::StatusOr<std::vector<v1::Change>> log =
      store_->ReadChanges(second->sequence, 0, 0);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 1u);
  ASSERT_EQ((*log)[0].mutations_size(), 1);
  EXPECT_EQ((*log)[0].mutations(0).upsert_signal().update_origin(),
            "source:csl fetched 2026-12-06T15:00:00Z etag:\"v2\"");
  std::map<std::string, std::string> exported;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        for (const v1::Signal& s : chunk.signals) {
                          exported[s.id()] = s.update_origin();
                        }
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_EQ(exported["signal/l"],
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  EXPECT_EQ(exported["signal/m"],
            "source:csl fetched 2026-12-06T15:00:00Z etag:\"v2\"");

  // A commit without an origin leaves none; reopening keeps what is stored.
  other.mutable_export_control()->set_severity(0.7);
  ASSERT_TRUE(store_->Apply({Upsert(other)}, "").ok());
  EXPECT_EQ(origin_of("signal/m"), "");
  Open();
  EXPECT_EQ(origin_of("signal/l"),
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
}

// Provenance of entities, edges and links (graph.proto, update_origin): the
// origin of the commit that last changed the record, in every read, the
// change log and snapshots, after a reopen. An upsert by another origin that
// changes the record replaces it; one that changes nothing (UNCHANGED) keeps
// the earlier origin, as for signals.
TEST_F(RocksDbGraphStoreTest,
       EntitiesEdgesAndLinksRecordTheOriginOfTheirLastWrite) {
  Open();
  const std::string v1 = "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"";
  const std::string v2 = "import:suppliers.csv started 2026-12-06T15:00:00Z";
  v1::Entity a = domain::testing::WithIdentifiers(
      Company("company/a"), {{"lei", "549300KVFW0NF7O3BK51"}});
  v1::Entity b = Company("company/b");
  v1::Edge supplies = Supplies("company/a", "company/b", 0.4);
  v1::Edge owns = Owns("company/a", "company/b", 0.3);
  v1::Link link = domain::testing::IdentifierLink("company/a", "company/b",
                                                  v1::Link::UNSURE);
  ASSERT_TRUE(store_
                  ->Apply({Upsert(a), Upsert(b), Upsert(supplies), Upsert(owns),
                           Upsert(link)},
                          v1)
                  .ok());

  auto edge_origins = [&](const std::string& id, Direction direction) {
    std::map<std::string, std::string> out;
    for (const v1::Edge& e : AllEdges(id, direction)) {
      out[v1::Edge::Kind_Name(e.kind())] = e.update_origin();
    }
    return out;
  };
  auto check_first_write = [&] {
    EXPECT_EQ(store_->GetEntity("company/a")->update_origin(), v1);
    EXPECT_EQ(store_->GetEntity("company/b")->update_origin(), v1);
    EXPECT_THAT(
        edge_origins("company/a", Direction::kOutbound),
        ElementsAre(std::pair<const std::string, std::string>("OWNS", v1),
                    std::pair<const std::string, std::string>("SUPPLIES", v1)));
    // The in-edge copy carries it too.
    EXPECT_THAT(
        edge_origins("company/b", Direction::kInbound),
        ElementsAre(std::pair<const std::string, std::string>("OWNS", v1),
                    std::pair<const std::string, std::string>("SUPPLIES", v1)));
    EXPECT_EQ(store_->GetLink("company/a", "company/b")->update_origin(), v1);
    TraverseQuery traverse;
    traverse.start_ids = {"company/a"};
    traverse.include_edges = true;
    absl::StatusOr<TraverseResult> t = store_->Traverse(traverse);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(t->entities.size(), 2u);
    for (const TraversedEntity& e : t->entities) {
      EXPECT_EQ(e.entity.update_origin(), v1) << e.entity.id();
    }
    ASSERT_EQ(t->edges.size(), 2u);
    for (const v1::Edge& e : t->edges) EXPECT_EQ(e.update_origin(), v1);
    IdentifierQuery lookup;
    lookup.scheme = "lei";
    lookup.value = "549300KVFW0NF7O3BK51";
    absl::StatusOr<IdentifierPage> found = store_->LookupByIdentifier(lookup);
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_EQ(found->entities.size(), 1u);
    EXPECT_EQ(found->entities[0].update_origin(), v1);
  };
  check_first_write();
  Open();  // Reopened: kept in the records.
  check_first_write();

  // The next write: a changed, an unchanged sent with a forged origin, a
  // changed edge, an unchanged edge, an unchanged link.
  b.set_name("B, renamed");
  v1::Entity forged = a;
  forged.set_update_origin("forged");
  supplies.set_weight(0.5);
  v1::Edge same_owns = owns;
  same_owns.set_update_origin("forged");
  absl::StatusOr<ApplyResult> second =
      store_->Apply({Upsert(forged), Upsert(b), Upsert(supplies),
                     Upsert(same_owns), Upsert(link)},
                    v2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(second->outcomes, ElementsAre(kUnchanged, kApplied, kApplied,
                                            kUnchanged, kUnchanged));
  EXPECT_EQ(store_->GetEntity("company/a")->update_origin(), v1);
  EXPECT_EQ(store_->GetEntity("company/b")->update_origin(), v2);
  EXPECT_EQ(store_->GetEntity("company/b")->update_sequence(),
            second->sequence);
  EXPECT_THAT(
      edge_origins("company/a", Direction::kOutbound),
      ElementsAre(std::pair<const std::string, std::string>("OWNS", v1),
                  std::pair<const std::string, std::string>("SUPPLIES", v2)));
  EXPECT_EQ(store_->GetLink("company/a", "company/b")->update_origin(), v1);

  // The change log's upserts carry the new origin, and so does a snapshot.
  absl::StatusOr<std::vector<v1::Change>> log =
      store_->ReadChanges(second->sequence, 0, 0);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 1u);
  ASSERT_EQ((*log)[0].mutations_size(), 2);
  EXPECT_EQ((*log)[0].mutations(0).upsert_entity().update_origin(), v2);
  EXPECT_EQ((*log)[0].mutations(1).upsert_edge().update_origin(), v2);
  std::map<std::string, std::string> exported;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        for (const v1::Entity& e : chunk.entities) {
                          exported[e.id()] = e.update_origin();
                        }
                        for (const v1::Edge& e : chunk.edges) {
                          exported[v1::Edge::Kind_Name(e.kind())] =
                              e.update_origin();
                        }
                        for (const v1::Link& l : chunk.links) {
                          exported["link"] = l.update_origin();
                        }
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_THAT(
      exported,
      ElementsAre(std::pair<const std::string, std::string>("OWNS", v1),
                  std::pair<const std::string, std::string>("SUPPLIES", v2),
                  std::pair<const std::string, std::string>("company/a", v1),
                  std::pair<const std::string, std::string>("company/b", v2),
                  std::pair<const std::string, std::string>("link", v1)));

  // A changing commit without an origin leaves none.
  b.set_name("B again");
  ASSERT_TRUE(store_->Apply({Upsert(b)}, "").ok());
  EXPECT_EQ(store_->GetEntity("company/b")->update_origin(), "");
  EXPECT_EQ(store_->GetEntity("company/b")->update_time().seconds(),
            absl::ToUnixSeconds(now_));
}

TEST_F(RocksDbGraphStoreTest, AnOriginLongerThanTheLimitIsRefused) {
  Open();
  absl::StatusOr<ApplyResult> result = store_->Apply(
      {Upsert(Company("company/a"))}, std::string(kMaxOriginBytes + 1, 'o'));
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "origin: must be at most 256 bytes, got 257");
  EXPECT_EQ(store_->LastSequence(), 0);
  EXPECT_TRUE(store_
                  ->Apply({Upsert(Company("company/a"))},
                          std::string(kMaxOriginBytes, 'o'))
                  .ok());
}

TEST_F(RocksDbGraphStoreTest, CommitTimesNeverGoBackwards) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  now_ -= absl::Hours(1);
  ApplyResult later = MustApply({Upsert(Company("company/b"))});
  EXPECT_EQ(later.commit_time, now_ + absl::Hours(1));
}

TEST_F(RocksDbGraphStoreTest, BatchWithOneBadMutationWritesNothing) {
  Open();
  MustApply({Upsert(Company("company/x"))});
  std::vector<v1::Mutation> batch = {
      Upsert(Company("company/a")), Upsert(Company("company/b")),
      Upsert(Owns("company/a", "company/b", 0.5)),
      Upsert(Owns("company/a", "company/b", 0.5))};
  batch[3].mutable_upsert_edge()->set_weight(1.5);
  absl::StatusOr<ApplyResult> result = store_->Apply(batch, "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "mutations[3].upsert_edge.weight: must be in [0, 1], got 1.5");
  EXPECT_EQ(store_->LastSequence(), 1);
  EXPECT_EQ(store_->GetEntity("company/a").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 1);
  EXPECT_EQ(stats->edge_count, 0);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(0, 0, 0);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->size(), 1u);
}

TEST_F(RocksDbGraphStoreTest, EdgeToMissingEntityIsRejected) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  absl::StatusOr<ApplyResult> result =
      store_->Apply({Upsert(Company("company/c")),
                     Upsert(Owns("company/a", "company/b", 0.5))},
                    "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "mutations[1].upsert_edge.to_id: entity company/b does not exist");
  EXPECT_EQ(store_->GetEntity("company/c").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LastSequence(), 1);
}

TEST_F(RocksDbGraphStoreTest, EdgeToEntityUpsertedEarlierInBatchIsAccepted) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  ApplyResult r = MustApply({Upsert(Company("company/b")),
                             Upsert(Owns("company/a", "company/b", 0.5))});
  EXPECT_THAT(r.outcomes, ElementsAre(kApplied, kApplied));
  EXPECT_EQ(AllEdges("company/b", Direction::kInbound).size(), 1u);
}

TEST_F(RocksDbGraphStoreTest, EdgeToEntityDeletedEarlierInBatchIsRejected) {
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b"))});
  absl::StatusOr<ApplyResult> result =
      store_->Apply({Upsert(Company("company/c")), DeleteEntity("company/c"),
                     Upsert(Owns("company/a", "company/c", 0.5))},
                    "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("mutations[2].upsert_edge.to_id: entity company/c"));
}

TEST_F(RocksDbGraphStoreTest, RejectModeSkipsBadMutationsAndCommitsTheRest) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  std::vector<v1::Mutation> batch = {
      Upsert(Company("company/b")),
      Upsert(Owns("company/a", "company/missing", 0.5)),  // endpoint missing
      WithKey(Upsert(Owns("company/a", "company/b", 0.5)),
              "bad-weight"),  // fails validation
      WithKey(Upsert(Owns("company/b", "company/a", 0.5)), "good"),
      Upsert(Company("company/c")),
      DeleteEntity("company/c"),
      Upsert(Owns("company/a", "company/c",
                  0.5)),  // endpoint deleted earlier in the batch
  };
  batch[2].mutable_upsert_edge()->set_weight(1.5);
  absl::StatusOr<ApplyResult> r =
      store_->Apply(batch, "test", InvalidMutations::kReject);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sequence, 2) << "the valid mutations in one commit";
  EXPECT_THAT(r->outcomes,
              ElementsAre(kApplied, MutationOutcome::kRejected,
                          MutationOutcome::kRejected, kApplied, kApplied,
                          kApplied, MutationOutcome::kRejected));
  ASSERT_EQ(r->rejections.size(), 3u);
  EXPECT_EQ(r->rejections[0].index, 1);
  EXPECT_EQ(r->rejections[0].field, "upsert_edge.to_id");
  EXPECT_EQ(r->rejections[0].reason, "entity company/missing does not exist");
  EXPECT_EQ(r->rejections[1].index, 2);
  EXPECT_EQ(r->rejections[1].field, "upsert_edge.weight");
  EXPECT_EQ(r->rejections[1].reason, "must be in [0, 1], got 1.5");
  EXPECT_EQ(r->rejections[2].index, 6);
  EXPECT_EQ(r->rejections[2].field, "upsert_edge.to_id");
  EXPECT_EQ(AllEdges("company/b", Direction::kOutbound).size(), 1u);
  EXPECT_EQ(AllEdges("company/a", Direction::kOutbound).size(), 0u);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 2);
  EXPECT_EQ(stats->edge_count, 1);
  // The valid mutation's key was recorded, the rejected one's was not.
  v1::Mutation fixed =
      WithKey(Upsert(Owns("company/a", "company/b", 0.5)), "bad-weight");
  r = store_->Apply(
      {WithKey(Upsert(Owns("company/b", "company/a", 0.5)), "good"), fixed},
      "test", InvalidMutations::kReject);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->outcomes, ElementsAre(kDuplicate, kApplied));
  EXPECT_TRUE(r->rejections.empty());
}

TEST_F(RocksDbGraphStoreTest, RejectModeWithNothingValidCommitsNothing) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  absl::StatusOr<ApplyResult> r =
      store_->Apply({Upsert(Owns("company/a", "company/x", 0.5)),
                     Upsert(Owns("company/y", "company/a", 0.5))},
                    "test", InvalidMutations::kReject);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sequence, 1);
  EXPECT_EQ(r->rejections.size(), 2u);
  EXPECT_EQ(store_->LastSequence(), 1);
  // Request-level errors are still errors.
  EXPECT_EQ(store_
                ->Apply(std::vector<v1::Mutation>{}, "test",
                        InvalidMutations::kReject)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// The same answers whether Apply finds endpoints in the entity id cache
// (default), reads them all (cache off), or has a cache too small for any id
// (1 byte: below one arena).
class EndpointCheckTest : public RocksDbGraphStoreTest,
                          public ::testing::WithParamInterface<size_t> {
 protected:
  double CachedIds() { return store_->GetEngineStats().entity_id_cache_ids; }
};

TEST_P(EndpointCheckTest, EdgesNeedExistingEndpointsAcrossCommitsAndReopen) {
  options_.entity_id_cache_bytes = GetParam();
  const bool cache = GetParam() > 1;
  auto rejected = [&](std::vector<v1::Mutation> batch,
                      const std::string& message) {
    absl::StatusOr<ApplyResult> r = store_->Apply(batch, "test");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(message));
  };
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c"))});
  EXPECT_EQ(CachedIds(), cache ? 3 : 0);
  MustApply({DeleteEntity("company/b")});  // Leaves the cache.
  rejected({Upsert(Owns("company/a", "company/b", 0.5))},
           "to_id: entity company/b does not exist");
  rejected({Upsert(Owns("company/x", "company/a", 0.5))},
           "from_id: entity company/x does not exist");
  EXPECT_THAT(MustApply({Upsert(Company("company/d")),
                         Upsert(Owns("company/a", "company/d", 0.5)),
                         Upsert(Owns("company/a", "company/c", 0.5))})
                  .outcomes,
              ElementsAre(kApplied, kApplied, kApplied));
  EXPECT_EQ(CachedIds(), cache ? 3 : 0);  // a, c, d.
  if (cache) {
    EXPECT_GT(store_->GetEngineStats().entity_id_cache_bytes, 0);
  }

  store_.reset();
  Open();
  EXPECT_EQ(CachedIds(), 0);  // Starts empty: endpoints are read, then kept.
  rejected({Upsert(Owns("company/c", "company/b", 0.5))},
           "to_id: entity company/b does not exist");
  MustApply({Upsert(Owns("company/c", "company/a", 0.5)),
             Upsert(Owns("company/d", "company/d", 0.5))});
  EXPECT_EQ(CachedIds(), cache ? 3 : 0);
  MustApply({DeleteEntity("company/a")});
  rejected({Upsert(Owns("company/c", "company/a", 0.5))},
           "to_id: entity company/a does not exist");
  rejected({Upsert(Owns("company/a", "company/c", 0.5))},
           "from_id: entity company/a does not exist");
  MustApply({Upsert(Company("company/b"))});
  EXPECT_THAT(MustApply({Upsert(Owns("company/c", "company/b", 0.5))}).outcomes,
              ElementsAre(kApplied));
  // A batch that creates and deletes an entity leaves it out of the cache.
  MustApply({Upsert(Company("company/e")),
             Upsert(Owns("company/e", "company/c", 0.5)),
             DeleteEntity("company/e")});
  rejected({Upsert(Owns("company/c", "company/e", 0.5))},
           "to_id: entity company/e does not exist");
  EXPECT_EQ(store_->GetStats()->entity_count, 3);  // b, c, d.
  EXPECT_EQ(store_->GetStats()->edge_count, 2);    // d>d, c>b.
}

INSTANTIATE_TEST_SUITE_P(EntityIdCache, EndpointCheckTest,
                         ::testing::Values(size_t{256} << 20, 0, 1));

// A failed batch leaves the cache as it was: the entity it would have
// created stays unknown.
TEST_F(RocksDbGraphStoreTest, RejectedBatchDoesNotFillTheEntityIdCache) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  absl::StatusOr<ApplyResult> r =
      store_->Apply({Upsert(Company("company/n")),
                     Upsert(Owns("company/a", "company/missing", 0.5))},
                    "test");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = store_->Apply({Upsert(Owns("company/a", "company/n", 0.5))}, "test");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetEngineStats().entity_id_cache_ids, 1);
}

TEST_F(RocksDbGraphStoreTest, TooManyMutationsIsResourceExhausted) {
  options_.max_mutations_per_batch = 2;
  Open();
  absl::StatusOr<ApplyResult> result =
      store_->Apply({Upsert(Company("company/a")), Upsert(Company("company/b")),
                     Upsert(Company("company/c"))},
                    "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->Apply(std::vector<v1::Mutation>(), "test").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, OversizedRecordIsRejectedAndNothingWritten) {
  Open();
  v1::Mutation big = Upsert(Company("company/big"));
  // 4,000 aliases of 500 bytes: about 2 MB encoded, over the 1 MiB cap.
  for (int i = 0; i < 4000; ++i) {
    big.mutable_upsert_entity()->add_aliases(std::string(500, 'a'));
  }
  absl::StatusOr<ApplyResult> result =
      store_->Apply({Upsert(Company("company/small")), big}, "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("mutations[1]: record is "));
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("more than 1048576"));
  EXPECT_EQ(store_->LastSequence(), 0);
  EXPECT_EQ(store_->GetEntity("company/small").status().code(),
            absl::StatusCode::kNotFound);
  // Field errors keep their path under mutations[i].
  v1::Mutation bad = Upsert(Company("company/x"));
  bad.mutable_upsert_entity()->set_country("ZZZ");
  result = store_->Apply({Upsert(Company("company/y")), bad}, "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              StartsWith("mutations[1].upsert_entity.country: "));
  // The cap is an option.
  options_.record_limits.max_record_bytes = 4 << 20;
  Open();
  EXPECT_TRUE(store_->Apply({big}, "test").ok());
}

TEST_F(RocksDbGraphStoreTest, CascadeDeleteRemovesBothCopiesAndIsLogged) {
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")),
             Upsert(Owns("company/a", "company/b", 0.5)),
             Upsert(Supplies("company/b", "company/c", 0.5, "8542")),
             Upsert(Supplies("company/b", "company/c", 0.5, "8541")),
             Upsert(Owns("company/b", "company/b", 0.5)),
             Upsert(Owns("company/c", "company/a", 0.5))});
  ApplyResult r = MustApply({DeleteEntity("company/b")});
  EXPECT_EQ(r.sequence, 2);
  EXPECT_EQ(r.cascaded_edge_deletes, 4);
  EXPECT_THAT(r.outcomes, ElementsAre(kApplied));

  EXPECT_TRUE(AllEdges("company/a", Direction::kOutbound).empty());
  EXPECT_TRUE(AllEdges("company/c", Direction::kInbound).empty());
  EXPECT_THAT(EdgeNames(AllEdges("company/a", Direction::kBoth)),
              ElementsAre("company/c>company/a"));
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->entity_count, 2);
  EXPECT_EQ(stats->edge_count, 1);

  // No stale copy under either endpoint in the raw column families.
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(2, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  const v1::Change& change = (*changes)[0];
  ASSERT_EQ(change.mutations_size(), 5);
  EXPECT_EQ(change.mutations(0).delete_entity_id(), "company/b");
  std::set<std::string> cascaded;
  for (int i = 1; i < 5; ++i) {
    const v1::EdgeKey& k = change.mutations(i).delete_edge();
    cascaded.insert(absl::StrCat(k.from_id(), ">", k.to_id(), ":",
                                 v1::Edge::Kind_Name(k.kind()), ":",
                                 k.product_code()));
  }
  EXPECT_THAT(cascaded, ElementsAre("company/a>company/b:OWNS:",
                                    "company/b>company/b:OWNS:",
                                    "company/b>company/c:SUPPLIES:8541",
                                    "company/b>company/c:SUPPLIES:8542"));

  // Re-creating b finds no edge left over.
  MustApply({Upsert(Company("company/b"))});
  EXPECT_TRUE(AllEdges("company/b", Direction::kBoth).empty());
}

TEST_F(RocksDbGraphStoreTest, CascadeCoversEdgesUpsertedEarlierInBatch) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  ApplyResult r = MustApply({Upsert(Company("company/b")),
                             Upsert(Owns("company/a", "company/b", 0.5)),
                             Upsert(Owns("company/b", "company/a", 0.5)),
                             DeleteEntity("company/b")});
  EXPECT_EQ(r.cascaded_edge_deletes, 2);
  EXPECT_TRUE(AllEdges("company/a", Direction::kBoth).empty());
  EXPECT_EQ(store_->GetStats()->edge_count, 0);
  EXPECT_EQ(store_->GetStats()->entity_count, 1);
}

TEST_F(RocksDbGraphStoreTest, IdempotencyKeysAndUnchangedMutations) {
  Open();
  ApplyResult first = MustApply({WithKey(Upsert(Company("company/a")), "k1"),
                                 WithKey(Upsert(Company("company/b")), "k2")});
  EXPECT_EQ(first.sequence, 1);

  // A replay changes nothing: no sequence, no change record.
  ApplyResult replay = MustApply(
      {WithKey(Upsert(NamedCompany("company/a", "other", "TW")), "k1"),
       WithKey(Upsert(Company("company/b")), "k2")});
  EXPECT_THAT(replay.outcomes, ElementsAre(kDuplicate, kDuplicate));
  EXPECT_EQ(replay.sequence, 1);
  EXPECT_EQ(store_->GetEntity("company/a")->name(), "a");

  // Identical records and deletes of absent ones are UNCHANGED.
  v1::Mutation same = Upsert(Company("company/a"));
  same.mutable_upsert_entity()->set_update_sequence(77);
  same.mutable_upsert_entity()->mutable_update_time()->set_seconds(5);
  ApplyResult unchanged =
      MustApply({same, DeleteEntity("company/zz"),
                 DeleteEdge(Owns("company/a", "company/b", 0.5))});
  EXPECT_THAT(unchanged.outcomes,
              ElementsAre(kUnchanged, kUnchanged, kUnchanged));
  EXPECT_EQ(unchanged.sequence, 1);
  EXPECT_EQ(store_->LastSequence(), 1);
  EXPECT_EQ(store_->ReadChanges(0, 0, 0)->size(), 1u);

  // Mixed: only the applied mutation is logged; a key repeated inside one
  // batch is a duplicate the second time.
  ApplyResult mixed = MustApply({Upsert(Company("company/a")),
                                 WithKey(Upsert(Company("company/c")), "k3"),
                                 WithKey(Upsert(Company("company/d")), "k3"),
                                 WithKey(Upsert(Company("company/b")), "k1")});
  EXPECT_THAT(mixed.outcomes,
              ElementsAre(kUnchanged, kApplied, kDuplicate, kDuplicate));
  EXPECT_EQ(mixed.sequence, 2);
  absl::StatusOr<std::vector<v1::Change>> log = store_->ReadChanges(2, 0, 0);
  ASSERT_EQ(log->size(), 1u);
  ASSERT_EQ((*log)[0].mutations_size(), 1);
  EXPECT_EQ((*log)[0].mutations(0).upsert_entity().id(), "company/c");
  EXPECT_EQ((*log)[0].mutations(0).idempotency_key(), "k3");
  EXPECT_EQ(store_->GetEntity("company/d").status().code(),
            absl::StatusCode::kNotFound);

  // A key of an UNCHANGED mutation is recorded too: replaying it after a
  // later change does not undo that change.
  MustApply({WithKey(Upsert(Company("company/a")),
                     "k4")});  // Unchanged, key recorded.
  MustApply({Upsert(NamedCompany("company/a", "renamed", "TW"))});
  EXPECT_THAT(MustApply({WithKey(Upsert(Company("company/a")), "k4")}).outcomes,
              ElementsAre(kDuplicate));
  EXPECT_EQ(store_->GetEntity("company/a")->name(), "renamed");

  // Keys survive a restart.
  store_.reset();
  Open();
  EXPECT_THAT(MustApply({WithKey(Upsert(Company("company/x")), "k3")}).outcomes,
              ElementsAre(kDuplicate));
}

TEST_F(RocksDbGraphStoreTest, ConcurrentCommitsGetContiguousSequences) {
  Open();
  MustApply({Upsert(Company("company/root"))});
  constexpr int kThreads = 4;
  constexpr int kBatches = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int b = 0; b < kBatches; ++b) {
        const std::string slug = absl::StrCat("t", t, "-", b);
        MustApply({Upsert(Company("company/" + slug)),
                   Upsert(Owns("company/root", "company/" + slug, 0.5))});
        EdgeQuery query;
        query.entity_id = "company/root";
        EXPECT_TRUE(store_->ListEdges(query).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store_->LastSequence(), 1 + kThreads * kBatches);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(1, 1000, 0);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u + kThreads * kBatches);
  for (size_t i = 0; i < changes->size(); ++i) {
    EXPECT_EQ((*changes)[i].sequence(), static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(store_->GetStats()->edge_count, kThreads * kBatches);
}

// Bytes of the write-ahead-log files (*.log) in `dir`.
int64_t WalFileBytes(const std::string& dir) {
  int64_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") {
      bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  return bytes;
}

TEST_F(RocksDbGraphStoreTest, WalStaysBoundedAndCloseLeavesNothingToReplay) {
  constexpr int64_t kCap = int64_t{1} << 20;
  options_.max_total_wal_bytes = kCap;
  // 64 MiB memtables never fill here: without the cap, every WAL file
  // written would stay live.
  options_.write_buffer_bytes = size_t{64} << 20;
  Open();
  constexpr int kEntities = 200;
  constexpr int kBatches = 120;
  constexpr int kEdgesPerBatch = 500;
  std::vector<v1::Mutation> entities;
  for (int i = 0; i < kEntities; ++i) {
    entities.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  }
  MustApply(entities);
  int64_t max_live = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<v1::Mutation> batch;
    for (int i = 0; i < kEdgesPerBatch; ++i) {
      const int n = b * kEdgesPerBatch + i;
      const int from = n % kEntities;
      const int to = (from + 1 + n / kEntities % (kEntities - 1)) % kEntities;
      batch.push_back(Upsert(Supplies(absl::StrCat("company/c", from),
                                      absl::StrCat("company/c", to), 0.5,
                                      absl::StrCat(100000 + n))));
    }
    ASSERT_EQ(MustApply(batch).sequence, b + 2);
    absl::StatusOr<int64_t> live = store_->LiveWalBytes();
    ASSERT_TRUE(live.ok()) << live.status();
    max_live = std::max(max_live, *live);
  }
  const double written = store_->GetEngineStats().wal_bytes;
  ASSERT_GT(written, 12.0 * kCap);  // The cap mattered.
  // The flushes that free old WAL files run in the background, so the WAL
  // overshoots the cap by what was written while they ran (about 1-5 MiB
  // here, depending on the machine's load), but it does not keep growing.
  EXPECT_LT(max_live, written / 2);
  // RocksDB switches to a new WAL file (and flushes) when a write finds the
  // WAL over the cap: small writes bring it under the cap once the flushes
  // are done.
  int64_t live = 0;
  for (int i = 0; i < 300; ++i) {
    MustApply(
        {Upsert(NamedCompany("company/c0", absl::StrCat("name ", i), "TW"))});
    live = *store_->LiveWalBytes();
    if (live <= kCap) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_LE(live, kCap);
  std::cout << "WAL: " << written << " bytes written, at most " << max_live
            << " live after a commit, " << live << " live at the end\n";

  // A clean close flushes: nothing is left to replay.
  store_.reset();
  EXPECT_LT(WalFileBytes(path_), 4096);

  Open();
  constexpr int kEdges = kBatches * kEdgesPerBatch;
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, kEntities);
  EXPECT_EQ(stats->edge_count, kEdges);
  const int64_t last = stats->last_sequence;
  EXPECT_GT(last, kBatches + 1);
  EXPECT_EQ(AllEdges("company/c7", Direction::kOutbound).size(),
            static_cast<size_t>(kEdges / kEntities));
  EXPECT_EQ(AllEdges("company/c7", Direction::kInbound).size(),
            static_cast<size_t>(kEdges / kEntities));
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(1, 1000, int64_t{1} << 30);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), static_cast<size_t>(last));
  EXPECT_EQ(changes->at(kBatches).mutations_size(), kEdgesPerBatch);
  EXPECT_EQ(MustApply({Upsert(Company("company/new"))}).sequence, last + 1);
}

TEST_F(RocksDbGraphStoreTest, SyncWritesWork) {
  options_.sync = true;
  Open();
  EXPECT_EQ(MustApply({Upsert(Company("company/a"))}).sequence, 1);
  store_.reset();
  Open();
  EXPECT_EQ(store_->GetEntity("company/a")->name(), "a");
}

}  // namespace
}  // namespace georisk::storage
