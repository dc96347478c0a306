#include "storage/rocksdb_graph_store.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/keys.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tariff;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::domain::testing::WithSource;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kApplied = MutationOutcome::kApplied;
constexpr auto kDuplicate = MutationOutcome::kDuplicate;
constexpr auto kUnchanged = MutationOutcome::kUnchanged;

using testing::EdgeNames;
using testing::Ids;
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

TEST_F(RocksDbGraphStoreTest, PaginationReturnsEachEdgeOnceInOrder) {
  Open();
  std::vector<v1::Mutation> batch = {Upsert(Company("company/hub"))};
  for (int i = 0; i < 2500; ++i) {
    batch.push_back(Upsert(Company(absl::StrCat("company/n", i))));
    batch.push_back(
        Upsert(Supplies("company/hub", absl::StrCat("company/n", i), 0.5, "")));
  }
  MustApply(batch);
  EXPECT_EQ(store_->GetStats()->edge_count, 2500);

  EdgeQuery query;
  query.entity_id = "company/hub";
  query.page_size = 1000;
  std::vector<std::string> keys;
  std::vector<size_t> page_sizes;
  do {
    absl::StatusOr<EdgePage> page = store_->ListEdges(query);
    ASSERT_TRUE(page.ok()) << page.status();
    page_sizes.push_back(page->edges.size());
    for (const v1::Edge& e : page->edges) {
      keys.push_back(internal::EncodeOutEdgeKey(e.from_id(), e.kind(),
                                                e.to_id(), e.product_code()));
    }
    query.page_token = page->next_page_token;
  } while (!query.page_token.empty());
  EXPECT_THAT(page_sizes, ElementsAre(1000, 1000, 500));
  EXPECT_EQ(keys.size(), 2500u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 2500u);

  // A page size above the maximum is lowered to it; 0 means 100.
  query.page_token.clear();
  query.page_size = 5000;
  EXPECT_EQ(store_->ListEdges(query)->edges.size(), 1000u);
  query.page_size = 0;
  EXPECT_EQ(store_->ListEdges(query)->edges.size(), 100u);
  query.page_size = -1;
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, LastFullPageHasEmptyToken) {
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")), Upsert(Company("company/d")),
             Upsert(Owns("company/a", "company/b", 0.5)),
             Upsert(Owns("company/a", "company/c", 0.5)),
             Upsert(Supplies("company/d", "company/a", 0.5, ""))});
  EdgeQuery query;
  query.entity_id = "company/a";
  query.direction = Direction::kBoth;
  query.page_size = 2;
  absl::StatusOr<EdgePage> first = store_->ListEdges(query);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(EdgeNames(first->edges),
              ElementsAre("company/a>company/b", "company/a>company/c"));
  ASSERT_FALSE(first->next_page_token.empty());
  query.page_token = first->next_page_token;
  absl::StatusOr<EdgePage> second = store_->ListEdges(query);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(EdgeNames(second->edges), ElementsAre("company/d>company/a"));
  EXPECT_TRUE(second->next_page_token.empty());

  query.page_token.clear();
  query.direction = Direction::kOutbound;
  EXPECT_TRUE(store_->ListEdges(query)->next_page_token.empty());
}

TEST_F(RocksDbGraphStoreTest, CorruptPageTokenIsInvalidArgument) {
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")),
             Upsert(Owns("company/a", "company/b", 0.5)),
             Upsert(Owns("company/a", "company/c", 0.5)),
             Upsert(Owns("company/b", "company/c", 0.5)),
             Upsert(Owns("company/b", "company/a", 0.5))});
  EdgeQuery query;
  query.entity_id = "company/a";
  query.page_size = 1;
  absl::StatusOr<EdgePage> page = store_->ListEdges(query);
  ASSERT_TRUE(page.ok());
  const std::string token = page->next_page_token;
  ASSERT_FALSE(token.empty());

  std::vector<std::string> bad = {"garbage!", "AAAA", token.substr(1),
                                  token + "x"};
  std::string flipped = token;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  bad.push_back(flipped);
  for (const std::string& t : bad) {
    query.page_token = t;
    EXPECT_EQ(store_->ListEdges(query).status().code(),
              absl::StatusCode::kInvalidArgument)
        << t;
  }
  // A valid token of another entity or direction does not fit this query.
  query.page_token = token;
  query.entity_id = "company/b";
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.entity_id = "company/a";
  query.direction = Direction::kInbound;
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  SignalQuery signals;
  signals.page_token = token;
  EXPECT_EQ(store_->ListSignals(signals).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, ListEdgesFiltersByDirectionKindAndTime) {
  Open();
  v1::Mutation ended = Upsert(Supplies("company/a", "company/c", 0.5, "8542"));
  ended.mutable_upsert_edge()->mutable_effective_until()->set_seconds(1000);
  v1::Mutation future = Upsert(Supplies("company/a", "company/c", 0.5, "8541"));
  future.mutable_upsert_edge()->mutable_effective_from()->set_seconds(5000);
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")), Upsert(Facility("facility/f", "US")),
             Upsert(Owns("company/a", "company/b", 0.5)), ended, future,
             Upsert(Operates("company/a", "facility/f", 0.5)),
             Upsert(Owns("company/c", "company/a", 0.5)),
             Upsert(Owns("company/a", "company/a", 0.5))});

  EXPECT_THAT(EdgeNames(AllEdges("company/a", Direction::kOutbound)),
              ElementsAre("company/a>company/a", "company/a>company/b",
                          "company/a>facility/f", "company/a>company/c",
                          "company/a>company/c"));
  EXPECT_THAT(EdgeNames(AllEdges("company/a", Direction::kInbound)),
              ElementsAre("company/a>company/a", "company/c>company/a"));
  // BOTH lists the self-loop once.
  EXPECT_EQ(AllEdges("company/a", Direction::kBoth).size(), 6u);
  EXPECT_EQ(EdgeQuery().direction, Direction::kOutbound);
  EdgeQuery unknown;
  unknown.entity_id = "company/a";
  unknown.direction = static_cast<Direction>(7);
  EXPECT_EQ(store_->ListEdges(unknown).status().code(),
            absl::StatusCode::kInvalidArgument);

  EdgeQuery query;
  query.entity_id = "company/a";
  query.kinds = {v1::Edge::SUPPLIES, v1::Edge::OPERATES};
  absl::StatusOr<EdgePage> page = store_->ListEdges(query);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(EdgeNames(page->edges),
              ElementsAre("company/a>facility/f", "company/a>company/c",
                          "company/a>company/c"));
  query.active_at = absl::FromUnixSeconds(2000);
  page = store_->ListEdges(query);
  EXPECT_THAT(EdgeNames(page->edges), ElementsAre("company/a>facility/f"));
  query.active_at = absl::FromUnixSeconds(5000);
  page = store_->ListEdges(query);
  ASSERT_EQ(page->edges.size(), 2u);
  EXPECT_EQ(page->edges[1].product_code(), "8541");

  query.kinds = {static_cast<v1::Edge::Kind>(9)};
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.kinds.clear();
  query.entity_id = "company/nobody";
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kNotFound);
  query.entity_id = "nobody";
  EXPECT_EQ(store_->ListEdges(query).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, GetEntityErrors) {
  Open();
  EXPECT_EQ(store_->GetEntity("company/a").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetEntity("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetEntity("Company/A").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, ReadsDoNotSeeCommitsAfterTheirSnapshot) {
  bool fired = false;
  options_.after_snapshot_for_testing = [this, &fired] {
    if (fired) return;
    fired = true;
    MustApply({Upsert(Company("company/late")),
               Upsert(Owns("company/a", "company/late", 0.5))});
  };
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Owns("company/a", "company/b", 0.5))});

  EdgeQuery query;
  query.entity_id = "company/a";
  absl::StatusOr<EdgePage> page = store_->ListEdges(query);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(fired);
  EXPECT_THAT(EdgeNames(page->edges), ElementsAre("company/a>company/b"));
  EXPECT_EQ(store_->LastSequence(), 2);
  EXPECT_EQ(AllEdges("company/a", Direction::kOutbound).size(), 2u);
}

TEST_F(RocksDbGraphStoreTest, TraverseReportsItsSnapshotSequence) {
  bool fired = false;
  int late = 0;
  options_.after_snapshot_for_testing = [this, &fired, &late] {
    if (fired) return;
    fired = true;
    const std::string slug = absl::StrCat("late", late++);
    MustApply({Upsert(Company("company/" + slug)),
               Upsert(Owns("company/b", "company/" + slug, 0.5))});
  };
  Open();
  fired = true;
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Owns("company/a", "company/b", 0.5))});
  fired = false;
  TraverseQuery query;
  query.start_ids = {"company/a"};
  query.max_depth = 3;
  absl::StatusOr<TraverseResult> result = store_->Traverse(query);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(fired);
  EXPECT_EQ(result->sequence, 1);
  EXPECT_THAT(Ids(result->entities), ElementsAre("company/a@0", "company/b@1"));
  EXPECT_EQ(store_->LastSequence(), 2);

  // ExportSnapshot, too, reads one snapshot.
  fired = false;
  int64_t exported_sequence = -1;
  size_t exported_entities = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        exported_sequence = chunk.sequence;
                        exported_entities += chunk.entities.size();
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_EQ(exported_sequence, 2);
  EXPECT_EQ(exported_entities, 3u);
  EXPECT_EQ(store_->LastSequence(), 3);
}

TEST_F(RocksDbGraphStoreTest, ChangeLogReplayReproducesTheGraph) {
  Open();
  std::vector<std::vector<v1::Mutation>> batches = {
      {Upsert(Company("company/a")), Upsert(Company("company/b")),
       Upsert(Company("company/c")),
       Upsert(Owns("company/a", "company/b", 0.5))},
      {Upsert(Supplies("company/b", "company/c", 0.5, "8542")),
       Upsert(WithSource(Listing("signal/l1", "US-BIS", {"company/b"}, 0.5),
                         "source-US-BIS"))},
      {Upsert(NamedCompany("company/a", "A renamed", "TW")),
       Upsert(Owns("company/c", "company/a", 0.5))},
      {DeleteEntity("company/b")},
      {DeleteEdge(Owns("company/c", "company/a", 0.5)),
       Upsert(WithSource(
           Tariff("signal/t1", "Section 301", "US", "CN", "", 0.25), "USTR"))},
  };
  for (const auto& batch : batches) {
    now_ += absl::Minutes(1);
    MustApply(batch);
  }
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(1, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), batches.size());

  std::map<std::string, std::string> entities, edges, signals;
  for (size_t i = 0; i < changes->size(); ++i) {
    const v1::Change& change = (*changes)[i];
    EXPECT_EQ(change.sequence(), static_cast<int64_t>(i + 1));
    EXPECT_EQ(change.origin(), "test");
    EXPECT_EQ(change.commit_time().seconds(), 1750000000 + 60 * (i + 1));
    for (const v1::Mutation& m : change.mutations()) {
      switch (m.kind_case()) {
        case v1::Mutation::kUpsertEntity:
          EXPECT_EQ(m.upsert_entity().update_sequence(), change.sequence());
          entities[m.upsert_entity().id()] = m.upsert_entity().name();
          break;
        case v1::Mutation::kUpsertEdge: {
          const v1::Edge& e = m.upsert_edge();
          edges[absl::StrCat(e.from_id(), ">", e.to_id())] = e.product_code();
          break;
        }
        case v1::Mutation::kUpsertSignal:
          signals[m.upsert_signal().id()] = m.upsert_signal().source();
          break;
        case v1::Mutation::kDeleteEntityId:
          entities.erase(m.delete_entity_id());
          break;
        case v1::Mutation::kDeleteEdge:
          edges.erase(absl::StrCat(m.delete_edge().from_id(), ">",
                                   m.delete_edge().to_id()));
          break;
        case v1::Mutation::kDeleteSignalId:
          signals.erase(m.delete_signal_id());
          break;
        default:
          ADD_FAILURE() << "empty mutation";
      }
    }
  }
  // The cascade of batch 4 is explicit: its two edges are gone.
  EXPECT_EQ((*changes)[3].mutations_size(), 3);

  std::map<std::string, std::string> s_entities, s_edges, s_signals;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        for (const auto& e : chunk.entities)
                          s_entities[e.id()] = e.name();
                        for (const auto& e : chunk.edges)
                          s_edges[absl::StrCat(e.from_id(), ">", e.to_id())] =
                              e.product_code();
                        for (const auto& s : chunk.signals)
                          s_signals[s.id()] = s.source();
                        return absl::OkStatus();
                      },
                      2)
                  .ok());
  EXPECT_EQ(entities, s_entities);
  EXPECT_EQ(edges, s_edges);
  EXPECT_EQ(signals, s_signals);
  EXPECT_EQ(entities.at("company/a"), "A renamed");

  // Limits and the future.
  EXPECT_EQ(store_->ReadChanges(2, 2, 0)->size(), 2u);
  EXPECT_EQ(store_->ReadChanges(2, 0, 1)->size(), 1u);  // At least one.
  EXPECT_TRUE(store_->ReadChanges(6, 0, 0)->empty());
  EXPECT_TRUE(store_->ReadChanges(100, 0, 0)->empty());
  EXPECT_EQ(store_->ReadChanges(-1, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

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
    for (const char* name :
         {"default", "entities", "out_edges", "in_edges", "signals",
          "changelog", "meta", "idempotency", "identifiers", "links"}) {
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
        "meta", "idempotency", "identifiers", "links"}) {
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

TEST_F(RocksDbGraphStoreTest, RetentionByCount) {
  options_.changelog_retention_count = 3;
  Open();
  for (int i = 0; i < 10; ++i)
    MustApply({Upsert(Company(absl::StrCat("company/c", i)))});
  absl::StatusOr<int64_t> trimmed = store_->TrimChangeLog(now_);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_EQ(*trimmed, 7);
  EXPECT_EQ(*store_->TrimChangeLog(now_), 0);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 8);
  EXPECT_EQ(store_->ReadChanges(7, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::vector<v1::Change>> oldest = store_->ReadChanges(0, 0, 0);
  ASSERT_TRUE(oldest.ok());
  ASSERT_EQ(oldest->size(), 3u);
  EXPECT_EQ(oldest->front().sequence(), 8);
  EXPECT_EQ(store_->ReadChanges(9, 0, 0)->size(), 2u);
  // The data itself is untouched.
  EXPECT_EQ(store_->GetStats()->entity_count, 10);

  store_.reset();
  Open();
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 8);
  EXPECT_EQ(store_->ReadChanges(7, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(RocksDbGraphStoreTest, RetentionByAge) {
  options_.changelog_retention_age = absl::Minutes(90);
  Open();
  const absl::Time t0 = now_;
  for (int i = 0; i < 3; ++i) {
    now_ = t0 + absl::Hours(i);
    MustApply({Upsert(Company(absl::StrCat("company/c", i)))});
  }
  EXPECT_EQ(*store_->TrimChangeLog(t0 + absl::Hours(2)), 1);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 2);
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ReadChanges(2, 0, 0)->size(), 2u);

  // Everything expires: the log is empty, the sequence goes on.
  EXPECT_EQ(*store_->TrimChangeLog(t0 + absl::Hours(5)), 2);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->oldest_retained_sequence, 0);
  EXPECT_EQ(stats->last_sequence, 3);
  EXPECT_EQ(store_->ReadChanges(3, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(store_->ReadChanges(0, 0, 0)->empty());
  EXPECT_TRUE(store_->ReadChanges(4, 0, 0)->empty());

  store_.reset();
  Open();
  EXPECT_EQ(store_->LastSequence(), 3);
  EXPECT_EQ(MustApply({Upsert(Company("company/d"))}).sequence, 4);
  EXPECT_EQ(store_->ReadChanges(0, 0, 0)->front().sequence(), 4);
}

TEST_F(RocksDbGraphStoreTest, BackgroundThreadTrims) {
  options_.changelog_retention_count = 1;
  options_.changelog_trim_interval = absl::Milliseconds(5);
  Open();
  MustApply({Upsert(Company("company/a"))});
  MustApply({Upsert(Company("company/b"))});
  MustApply({Upsert(Company("company/c"))});
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (store_->GetStats()->oldest_retained_sequence != 3 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 3);
}

TEST_F(RocksDbGraphStoreTest, WaitForSequenceWakesOnCommit) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  absl::Notification waiting;
  int64_t seen = -1;
  std::thread waiter([&] {
    waiting.Notify();
    seen = store_->WaitForSequence(2, absl::Now() + absl::Seconds(60));
  });
  waiting.WaitForNotification();
  MustApply({Upsert(Company("company/b"))});
  waiter.join();
  EXPECT_EQ(seen, 2);
  // Already there: returns at once.
  EXPECT_EQ(store_->WaitForSequence(1, absl::InfinitePast()), 2);
}

TEST_F(RocksDbGraphStoreTest, WaitForSequenceTimesOut) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  const absl::Time start = absl::Now();
  EXPECT_EQ(store_->WaitForSequence(2, start + absl::Milliseconds(20)), 1);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

TEST_F(RocksDbGraphStoreTest, TraverseDepthLimitsAndCycles) {
  Open();
  MustApply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")), Upsert(Company("company/d")),
             Upsert(Company("company/x")), Upsert(Company("company/y")),
             Upsert(Company("company/z")),
             Upsert(Owns("company/a", "company/b", 0.5)),
             Upsert(Owns("company/b", "company/c", 0.5)),
             Upsert(Owns("company/c", "company/d", 0.5)),
             Upsert(Owns("company/a", "company/a", 0.5)),
             Upsert(Owns("company/x", "company/y", 0.5)),
             Upsert(Owns("company/y", "company/z", 0.5)),
             Upsert(Owns("company/z", "company/x", 0.5)),
             Upsert(Supplies("company/b", "company/x", 0.5, ""))});
  TraverseQuery query;
  query.start_ids = {"company/a"};
  query.kinds = {v1::Edge::OWNS};
  query.max_depth = 1;
  absl::StatusOr<TraverseResult> r = store_->Traverse(query);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(r->entities), ElementsAre("company/a@0", "company/b@1"));
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->sequence, 1);

  query.max_depth = 8;
  r = store_->Traverse(query);
  EXPECT_THAT(Ids(r->entities), ElementsAre("company/a@0", "company/b@1",
                                            "company/c@2", "company/d@3"));

  // The 3-cycle terminates, each entity once at its smallest depth.
  query.start_ids = {"company/x"};
  query.include_edges = true;
  r = store_->Traverse(query);
  EXPECT_THAT(Ids(r->entities),
              ElementsAre("company/x@0", "company/y@1", "company/z@2"));
  EXPECT_THAT(EdgeNames(r->edges),
              ElementsAre("company/x>company/y", "company/y>company/z",
                          "company/z>company/x"));

  // Both directions, every kind, from two starts; edges once each.
  query.start_ids = {"company/c", "company/x", "company/c"};
  query.kinds.clear();
  query.direction = Direction::kBoth;
  query.max_depth = 1;
  r = store_->Traverse(query);
  EXPECT_THAT(Ids(r->entities),
              ElementsAre("company/c@0", "company/x@0", "company/d@1",
                          "company/b@1", "company/y@1", "company/z@1"));
  EXPECT_EQ(r->edges.size(), 5u);

  // Inbound from d reaches a; the self-loop changes nothing.
  query.start_ids = {"company/d"};
  query.direction = Direction::kInbound;
  query.include_edges = false;
  query.max_depth = 8;
  r = store_->Traverse(query);
  EXPECT_THAT(Ids(r->entities), ElementsAre("company/d@0", "company/c@1",
                                            "company/b@2", "company/a@3"));

  // Limits.
  query.max_entities = 2;
  r = store_->Traverse(query);
  EXPECT_THAT(Ids(r->entities), ElementsAre("company/d@0", "company/c@1"));
  EXPECT_TRUE(r->truncated);
  query.max_entities = 4;
  r = store_->Traverse(query);
  EXPECT_EQ(r->entities.size(), 4u);
  EXPECT_FALSE(r->truncated);
}

TEST_F(RocksDbGraphStoreTest, TraverseErrors) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  TraverseQuery query;
  query.max_depth = 1;
  EXPECT_EQ(store_->Traverse(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.start_ids = {"company/a", "company/missing"};
  EXPECT_EQ(store_->Traverse(query).status().code(),
            absl::StatusCode::kNotFound);
  query.start_ids = {"company/a"};
  query.max_depth = 0;
  EXPECT_EQ(store_->Traverse(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.max_depth = 9;
  EXPECT_EQ(store_->Traverse(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  query.max_depth = 2;
  query.max_entities = -1;
  EXPECT_EQ(store_->Traverse(query).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, ListSignalsFiltersAndPages) {
  Open();
  v1::Mutation old = Upsert(WithSource(
      Listing("signal/old", "US-BIS", {"company/a"}, 0.5), "source-US-BIS"));
  old.mutable_upsert_signal()->mutable_effective_until()->set_seconds(100);
  MustApply(
      {Upsert(WithSource(Listing("signal/l1", "US-BIS", {"company/a"}, 0.5),
                         "source-US-BIS")),
       Upsert(WithSource(Listing("signal/l2", "EU", {"company/b"}, 0.5),
                         "source-EU")),
       Upsert(WithSource(Listing("signal/l3", "EU", {"company/a"}, 0.5),
                         "source-EU")),
       old,
       Upsert(WithSource(
           Tariff("signal/t1", "Section 301", "US", "CN", "", 0.25), "USTR")),
       Upsert(WithSource(
           Tariff("signal/t2", "Section 301", "US", "CN", "", 0.25), "USTR"))});
  EXPECT_EQ(store_->GetStats()->signal_count, 6);

  auto ids = [&](SignalQuery q) {
    std::vector<std::string> out;
    do {
      absl::StatusOr<SignalPage> page = store_->ListSignals(q);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Signal& s : page->signals) out.push_back(s.id());
      q.page_token = page->next_page_token;
    } while (!q.page_token.empty());
    std::sort(out.begin(), out.end());
    return out;
  };
  SignalQuery q;
  q.page_size = 1;
  EXPECT_EQ(ids(q).size(), 6u);
  q.kinds = {v1::SIGNAL_KIND_TARIFF};
  EXPECT_THAT(ids(q), ElementsAre("signal/t1", "signal/t2"));
  q.kinds = {v1::SIGNAL_KIND_EXPORT_CONTROL};
  q.target_id = "company/a";
  EXPECT_THAT(ids(q), ElementsAre("signal/l1", "signal/l3", "signal/old"));
  q.active_at = absl::FromUnixSeconds(1000);
  EXPECT_THAT(ids(q), ElementsAre("signal/l1", "signal/l3"));
  q.authority = "EU";
  EXPECT_THAT(ids(q), ElementsAre("signal/l3"));
  q = SignalQuery();
  q.source = "source-EU";
  EXPECT_THAT(ids(q), ElementsAre("signal/l2", "signal/l3"));

  q = SignalQuery();
  q.kinds = {v1::SIGNAL_KIND_UNSPECIFIED};
  EXPECT_EQ(store_->ListSignals(q).status().code(),
            absl::StatusCode::kInvalidArgument);
  q = SignalQuery();
  q.target_id = "bad";
  EXPECT_EQ(store_->ListSignals(q).status().code(),
            absl::StatusCode::kInvalidArgument);
  q = SignalQuery();
  q.page_token = "%%%";
  EXPECT_EQ(store_->ListSignals(q).status().code(),
            absl::StatusCode::kInvalidArgument);

  MustApply([] {
    v1::Mutation m;
    m.set_delete_signal_id("signal/t1");
    return std::vector<v1::Mutation>{m};
  }());
  EXPECT_EQ(store_->GetStats()->signal_count, 5);
}

TEST_F(RocksDbGraphStoreTest, ExportSnapshotChunksEveryRecordOnce) {
  Open();
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  for (int i = 1; i < 10; ++i) {
    batch.push_back(
        Upsert(Owns("company/c0", absl::StrCat("company/c", i), 0.5)));
  }
  batch.push_back(Upsert(Owns("company/c0", "company/c0", 0.5)));
  batch.push_back(Upsert(WithSource(
      Tariff("signal/t", "Section 301", "US", "CN", "", 0.25), "USTR")));
  MustApply(batch);
  std::vector<size_t> sizes;
  size_t entities = 0, edges = 0, signals = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        EXPECT_EQ(chunk.sequence, 1);
                        sizes.push_back(chunk.entities.size() +
                                        chunk.edges.size() +
                                        chunk.signals.size());
                        entities += chunk.entities.size();
                        edges += chunk.edges.size();
                        signals += chunk.signals.size();
                        return absl::OkStatus();
                      },
                      7)
                  .ok());
  EXPECT_THAT(sizes, ElementsAre(7, 7, 7));
  EXPECT_EQ(entities, 10u);
  EXPECT_EQ(edges, 10u);
  EXPECT_EQ(signals, 1u);

  // The callback's error stops the export.
  int calls = 0;
  absl::Status s = store_->ExportSnapshot(
      [&](SnapshotChunk&) {
        ++calls;
        return absl::CancelledError("client went away");
      },
      5);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(RocksDbGraphStoreTest, EmptyStoreExportsOneEmptyChunk) {
  Open();
  int calls = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        ++calls;
                        EXPECT_EQ(chunk.sequence, 0);
                        EXPECT_TRUE(chunk.entities.empty());
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_EQ(calls, 1);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->last_sequence, 0);
  EXPECT_EQ(stats->oldest_retained_sequence, 0);
  EXPECT_TRUE(store_->ReadChanges(0, 0, 0)->empty());
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

// Edges live in the memtable and in table files at once; every whole-column-
// family scan (ExportSnapshot, total order) and every per-entity scan (prefix
// seeks) sees each edge once, in key order, from both.
TEST_F(RocksDbGraphStoreTest, ScansMergeMemtableAndTablesInKeyOrder) {
  Open();
  constexpr int kEntities = 60;
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < kEntities; ++i) {
    batch.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  }
  MustApply(batch);
  // Round 0 goes to table files (a clean close flushes), round 1 stays in
  // the memtable.
  std::map<std::string, int> out_degree;
  std::set<std::string> keys;  // Out-edge keys.
  for (int round = 0; round < 2; ++round) {
    batch.clear();
    for (int i = 0; i < 900; ++i) {
      const std::string from = absl::StrCat("c", (i * 7 + round) % kEntities);
      const std::string to = absl::StrCat("c", (i * 13 + 5) % kEntities);
      if (from == to) continue;  // SUPPLIES needs two entities.
      const std::string product = absl::StrCat(10000 * (round + 1) + i);
      batch.push_back(
          Upsert(Supplies("company/" + from, "company/" + to, 0.5, product)));
      ++out_degree["company/" + from];
      keys.insert(internal::EncodeOutEdgeKey(
          "company/" + from, v1::Edge::SUPPLIES, "company/" + to, product));
    }
    MustApply(batch);
    if (round == 0) {
      store_.reset();
      Open();
    }
  }
  std::vector<std::string> exported;
  ASSERT_TRUE(
      store_
          ->ExportSnapshot(
              [&](SnapshotChunk& chunk) {
                for (const v1::Edge& e : chunk.edges) {
                  exported.push_back(internal::EncodeOutEdgeKey(
                      e.from_id(), e.kind(), e.to_id(), e.product_code()));
                }
                return absl::OkStatus();
              },
              100)
          .ok());
  EXPECT_EQ(exported, std::vector<std::string>(keys.begin(), keys.end()));
  for (const auto& [id, degree] : out_degree) {
    std::vector<v1::Edge> edges = AllEdges(id, Direction::kOutbound);
    ASSERT_EQ(edges.size(), static_cast<size_t>(degree)) << id;
    std::vector<std::string> listed;
    for (const v1::Edge& e : edges) {
      listed.push_back(internal::EncodeOutEdgeKey(e.from_id(), e.kind(),
                                                  e.to_id(), e.product_code()));
    }
    EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end())) << id;
  }
  // Pages of 7 across both sources.
  EdgeQuery query;
  query.entity_id = "company/c0";
  query.direction = Direction::kBoth;
  query.page_size = 7;
  size_t total = 0;
  do {
    absl::StatusOr<EdgePage> page = store_->ListEdges(query);
    ASSERT_TRUE(page.ok()) << page.status();
    total += page->edges.size();
    query.page_token = page->next_page_token;
  } while (!query.page_token.empty());
  EXPECT_EQ(total, AllEdges("company/c0", Direction::kBoth).size());
  // A cascade finds the edges of both sources.
  const size_t touching = AllEdges("company/c3", Direction::kBoth).size();
  ASSERT_GT(touching, 0u);
  EXPECT_EQ(MustApply({DeleteEntity("company/c3")}).cascaded_edge_deletes,
            static_cast<int>(touching));
  EXPECT_EQ(store_->GetStats()->edge_count,
            static_cast<int64_t>(keys.size() - touching));
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
