// The routing of a batch across graphstore shards: SplitByShard alone, then
// ShardedClient over three real graphstore shards (RocksDB behind ShardStore,
// in process), compared with one unpartitioned graphstore.
#include "services/ingest/shard_router.h"

#include <sys/stat.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::ingest {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::ingest::testing::GraphStoreHarness;
using ::georisk::ingest::testing::HarnessOptions;
using storage::PartitionMap;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

PartitionMap Three() { return *PartitionMap::Even(3); }

// The n-th id "<prefix><i>" that `shard` owns under Three().
std::string IdOn(int shard, const std::string& prefix, int n = 0) {
  for (int i = 0;; ++i) {
    std::string id = absl::StrCat(prefix, i);
    if (Three().ShardOf(id) == shard && n-- == 0) return id;
  }
}

// "<shard> <copy> <index> <key>" for each routed mutation.
std::vector<std::string> Describe(
    const std::vector<std::vector<RoutedMutation>>& parts) {
  std::vector<std::string> out;
  for (size_t s = 0; s < parts.size(); ++s) {
    for (const RoutedMutation& r : parts[s]) {
      out.push_back(absl::StrCat(s, " ", v1::EdgeCopy_Name(r.copy), " ",
                                 r.index, " ", r.mutation.idempotency_key()));
    }
  }
  return out;
}

TEST(SplitByShardTest, RecordsGoToTheShardOfTheirId) {
  const std::string a0 = IdOn(0, "company/a"), a2 = IdOn(2, "company/a");
  const std::string s1 = IdOn(1, "signal/s");
  const std::vector<v1::Mutation> batch = {
      WithKey(Upsert(Company(a2)), "k0"), Upsert(Company(a0)),
      Upsert(Tension(s1, 0.3)), DeleteEntity(a2),
      v1::Mutation()};  // No kind: to shard 0, which refuses it.
  EXPECT_THAT(Describe(SplitByShard(Three(), batch)),
              ElementsAre("0 EDGE_COPY_BOTH 1 ", "0 EDGE_COPY_BOTH 4 ",
                          "1 EDGE_COPY_BOTH 2 ", "2 EDGE_COPY_BOTH 0 k0",
                          "2 EDGE_COPY_BOTH 3 "));
}

TEST(SplitByShardTest, AnEdgeAcrossShardsIsSplitIntoItsTwoCopies) {
  const std::string a0 = IdOn(0, "company/a"), b0 = IdOn(0, "company/a", 1);
  const std::string a1 = IdOn(1, "company/a");
  const std::vector<v1::Mutation> batch = {
      WithKey(Upsert(Supplies(a0, b0, 0.5)), "same"),
      WithKey(Upsert(Supplies(a1, a0, 0.5)), "across"),
      DeleteEdge(Supplies(a0, a1, 0.5)),
  };
  std::vector<std::vector<RoutedMutation>> parts = SplitByShard(Three(), batch);
  EXPECT_THAT(Describe(parts),
              ElementsAre("0 EDGE_COPY_BOTH 0 same",
                          "0 EDGE_COPY_IN 1 across/in", "0 EDGE_COPY_OUT 2 ",
                          "1 EDGE_COPY_OUT 1 across/out", "1 EDGE_COPY_IN 2 "));
  // Each copy carries the record and says which copy it is.
  EXPECT_EQ(parts[0][1].mutation.edge_copy(), v1::EDGE_COPY_IN);
  EXPECT_EQ(parts[0][1].mutation.upsert_edge().from_id(), a1);
  EXPECT_EQ(parts[1][0].mutation.edge_copy(), v1::EDGE_COPY_OUT);
  EXPECT_EQ(parts[0][0].mutation.edge_copy(), v1::EDGE_COPY_BOTH);
}

TEST(SplitByShardTest, OneShardTakesEverythingWhole) {
  const std::vector<v1::Mutation> batch = {
      Upsert(Company("company/a")),
      Upsert(Supplies("company/a", "company/b", 0.5))};
  EXPECT_THAT(Describe(SplitByShard(PartitionMap::Single(), batch)),
              ElementsAre("0 EDGE_COPY_BOTH 0 ", "0 EDGE_COPY_BOTH 1 "));
}

TEST(MergeCopyOutcomesTest, Table) {
  const auto A = v1::MUTATION_OUTCOME_APPLIED,
             D = v1::MUTATION_OUTCOME_DUPLICATE,
             U = v1::MUTATION_OUTCOME_UNCHANGED,
             R = v1::MUTATION_OUTCOME_REJECTED,
             X = v1::MUTATION_OUTCOME_UNSPECIFIED;
  EXPECT_EQ(MergeCopyOutcomes(A, A), A);
  EXPECT_EQ(MergeCopyOutcomes(D, A), A);  // A retry that completed the pair.
  EXPECT_EQ(MergeCopyOutcomes(U, A), A);
  EXPECT_EQ(MergeCopyOutcomes(D, D), D);
  EXPECT_EQ(MergeCopyOutcomes(D, U), U);
  EXPECT_EQ(MergeCopyOutcomes(U, U), U);
  EXPECT_EQ(MergeCopyOutcomes(A, R), R);
  EXPECT_EQ(MergeCopyOutcomes(R, D), R);
  EXPECT_EQ(MergeCopyOutcomes(R, R), R);
  EXPECT_EQ(MergeCopyOutcomes(A, X), X);
}

class ShardedClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = base::testing::MakeTempDir("router");
    std::vector<std::unique_ptr<GraphStoreClient>> clients;
    for (int i = 0; i < 3; ++i) {
      HarnessOptions options;
      options.partition_map = Three();
      options.shard_index = i;
      const std::string shard_dir = absl::StrCat(dir, "/shard-", i);
      ASSERT_EQ(mkdir(shard_dir.c_str(), 0700), 0);
      auto shard = GraphStoreHarness::Create(shard_dir, options);
      ASSERT_TRUE(shard.ok()) << shard.status();
      shards_.push_back(*std::move(shard));
      clients.push_back(shards_.back()->NewClient());
    }
    auto client = ShardedClient::Create(Three(), std::move(clients));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    auto single = GraphStoreHarness::Create(dir);
    ASSERT_TRUE(single.ok()) << single.status();
    single_ = *std::move(single);
    single_client_ = single_->NewClient();
    options_.initial_backoff = absl::Milliseconds(1);
    options_.max_backoff = absl::Milliseconds(4);
    options_.retry_deadline = absl::Seconds(5);
  }

  void TearDown() override {
    for (auto& shard : shards_) shard->Shutdown();
    single_->Shutdown();
  }

  BatchResult Apply(GraphStoreClient* client,
                    std::vector<v1::Mutation> mutations) {
    std::vector<PendingRecord> records;
    for (size_t i = 0; i < mutations.size(); ++i) {
      records.push_back({static_cast<int64_t>(i), std::move(mutations[i])});
    }
    BatchApplier applier(client, options_, &metrics_);
    return applier.Apply(&records, nullptr);
  }
  BatchResult Apply(std::vector<v1::Mutation> mutations) {
    return Apply(client_.get(), std::move(mutations));
  }

  static std::vector<std::string> Outcomes(const BatchResult& r) {
    std::vector<std::string> out;
    for (const RecordOutcome& o : r.outcomes) {
      out.push_back(o.rejected()
                        ? absl::StrCat(o.index, ":", o.field, ":", o.reason)
                        : absl::StrCat(o.index, ":",
                                       v1::MutationOutcome_Name(o.outcome)));
    }
    return out;
  }

  // "from->to" of the edges `id` has in `direction` on `store` (read from
  // the store itself, past any shard check).
  static std::set<std::string> Edges(storage::GraphStore* store,
                                     const std::string& id,
                                     storage::Direction direction) {
    storage::EdgeQuery query;
    query.entity_id = id;
    query.direction = direction;
    query.page_size = 1000;
    absl::StatusOr<storage::EdgePage> page = store->ListEdges(query);
    EXPECT_TRUE(page.ok()) << page.status();
    std::set<std::string> out;
    if (!page.ok()) return out;
    for (const v1::Edge& e : page->edges) {
      out.insert(absl::StrCat(e.from_id(), "->", e.to_id()));
    }
    return out;
  }
  // What a reader of `id`'s shard sees.
  std::set<std::string> ShardEdges(const std::string& id,
                                   storage::Direction direction) {
    return Edges(shards_[Three().ShardOf(id)]->store(), id, direction);
  }

  std::vector<std::unique_ptr<GraphStoreHarness>> shards_;
  std::unique_ptr<ShardedClient> client_;
  std::unique_ptr<GraphStoreHarness> single_;
  std::unique_ptr<GraphStoreClient> single_client_;
  ApplierOptions options_;
  common::MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  const std::string a_[3] = {IdOn(0, "company/a"), IdOn(1, "company/a"),
                             IdOn(2, "company/a")};
  const std::string b_[3] = {IdOn(0, "company/a", 1), IdOn(1, "company/a", 1),
                             IdOn(2, "company/a", 1)};
};

TEST(ShardedClientCreateTest, OneClientPerShard) {
  std::vector<std::unique_ptr<GraphStoreClient>> none;
  absl::StatusOr<std::unique_ptr<ShardedClient>> client =
      ShardedClient::Create(Three(), std::move(none));
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(),
              HasSubstr("the partition map has 3 shards but 0 graphstore"));
}

TEST_F(ShardedClientTest, ThreeShardsShowWhatOneStoreShows) {
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(WithKey(Upsert(Company(a_[i])), absl::StrCat("a", i)));
    batch.push_back(WithKey(Upsert(Company(b_[i])), absl::StrCat("b", i)));
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      batch.push_back(WithKey(Upsert(Supplies(a_[i], b_[j], 0.5)),
                              absl::StrCat("e", i, j)));
    }
  }
  const BatchResult sharded = Apply(batch);
  ASSERT_TRUE(sharded.status.ok()) << sharded.status;
  const BatchResult single = Apply(single_client_.get(), batch);
  ASSERT_TRUE(single.status.ok()) << single.status;
  EXPECT_EQ(Outcomes(sharded), Outcomes(single));
  EXPECT_THAT(Outcomes(sharded), ::testing::Each(HasSubstr("APPLIED")));
  for (int i = 0; i < 3; ++i) {
    for (const std::string& id : {a_[i], b_[i]}) {
      for (auto dir :
           {storage::Direction::kOutbound, storage::Direction::kInbound}) {
        EXPECT_EQ(ShardEdges(id, dir), Edges(single_->store(), id, dir)) << id;
      }
    }
  }
  // 9 edges, 6 of them across shards: counted once each, by the out-copy.
  int64_t edges = 0;
  for (auto& shard : shards_) edges += shard->store()->GetStats()->edge_count;
  EXPECT_EQ(edges, 9);
  // The sequence is the sum of the shards' (one commit each).
  EXPECT_EQ(sharded.last_sequence, 3);

  // Sent again: every record, and every copy, is a duplicate.
  const BatchResult again = Apply(batch);
  ASSERT_TRUE(again.status.ok()) << again.status;
  EXPECT_THAT(Outcomes(again), ::testing::Each(HasSubstr("DUPLICATE")));

  // Each edge is exported once, by the shard of its out-copy.
  int exported = 0;
  ASSERT_TRUE(client_
                  ->ExportSnapshot(
                      [&](v1::ExportSnapshotResponse& chunk) {
                        exported += chunk.edges_size();
                      },
                      absl::Now() + absl::Seconds(10), nullptr)
                  .ok());
  EXPECT_EQ(exported, 9);
}

TEST_F(ShardedClientTest, ARejectedCopyUndoesTheOtherAndARetryWritesBoth) {
  const std::string missing = IdOn(2, "company/later");
  const std::vector<v1::Mutation> batch = {
      WithKey(Upsert(Company(a_[0])), "a0"),
      WithKey(Upsert(Supplies(a_[0], missing, 0.5)), "edge"),
  };
  const BatchResult first = Apply(batch);
  ASSERT_TRUE(first.status.ok()) << first.status;
  EXPECT_THAT(Outcomes(first),
              ElementsAre("0:MUTATION_OUTCOME_APPLIED",
                          absl::StrCat("1:upsert_edge.to_id:entity ", missing,
                                       " does not exist")));
  // The out-copy shard 0 had written is gone again.
  EXPECT_THAT(ShardEdges(a_[0], storage::Direction::kOutbound), ElementsAre());

  // Once the entity exists, the same batch writes both copies.
  ASSERT_TRUE(Apply({Upsert(Company(missing))}).status.ok());
  const BatchResult retried = Apply(batch);
  ASSERT_TRUE(retried.status.ok()) << retried.status;
  EXPECT_THAT(Outcomes(retried), ElementsAre("0:MUTATION_OUTCOME_DUPLICATE",
                                             "1:MUTATION_OUTCOME_APPLIED"));
  const std::string name = absl::StrCat(a_[0], "->", missing);
  EXPECT_THAT(ShardEdges(a_[0], storage::Direction::kOutbound),
              ElementsAre(name));
  EXPECT_THAT(ShardEdges(missing, storage::Direction::kInbound),
              ElementsAre(name));
}

TEST_F(ShardedClientTest, AShardThatFailsIsRetriedUntilThePairIsComplete) {
  ASSERT_TRUE(
      Apply({Upsert(Company(a_[0])), Upsert(Company(a_[1]))}).status.ok());
  // Shard 1 (the in-copy's) fails once: shard 0 commits the out-copy, the
  // applier sends the batch again, shard 0 answers DUPLICATE.
  shards_[1]->FailNextApplies(1, absl::UnavailableError("down"));
  const BatchResult r =
      Apply({WithKey(Upsert(Supplies(a_[0], a_[1], 0.5)), "e")});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Outcomes(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED"));
  EXPECT_EQ(shards_[0]->apply_calls(), 3);  // Entities, then twice the edge.
  const std::string name = absl::StrCat(a_[0], "->", a_[1]);
  EXPECT_THAT(ShardEdges(a_[0], storage::Direction::kOutbound),
              ElementsAre(name));
  EXPECT_THAT(ShardEdges(a_[1], storage::Direction::kInbound),
              ElementsAre(name));

  // Without retries the error names the shard.
  shards_[2]->FailNextApplies(1, absl::UnavailableError("down"));
  v1::ApplyRequest request;
  *request.add_mutations() = Upsert(Company(a_[2]));
  absl::StatusOr<v1::ApplyResponse> failed =
      client_->Apply(request, absl::Now() + absl::Seconds(5), nullptr);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("graphstore-2: down"));
}

TEST_F(ShardedClientTest, DeletingAnEntityDeletesTheCopiesOtherShardsHold) {
  ASSERT_TRUE(
      Apply({Upsert(Company(a_[0])), Upsert(Company(a_[1])),
             Upsert(Company(a_[2])), Upsert(Supplies(a_[1], a_[0], 0.5)),
             Upsert(Supplies(a_[0], a_[2], 0.5)),
             Upsert(Supplies(a_[1], a_[2], 0.5))})
          .status.ok());
  // The delete of a_[0] cascades before the batch goes on: the edge written
  // after it is new, as on one store.
  const BatchResult r = Apply({DeleteEntity(a_[0]), Upsert(Company(a_[0])),
                               Upsert(Supplies(a_[0], a_[2], 0.7))});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(ShardEdges(a_[1], storage::Direction::kOutbound),
              ElementsAre(absl::StrCat(a_[1], "->", a_[2])));
  EXPECT_THAT(
      ShardEdges(a_[2], storage::Direction::kInbound),
      ::testing::UnorderedElementsAre(absl::StrCat(a_[0], "->", a_[2]),
                                      absl::StrCat(a_[1], "->", a_[2])));
  EXPECT_THAT(ShardEdges(a_[0], storage::Direction::kInbound), ElementsAre());
  EXPECT_EQ(client_->pending_remote_deletes(), 0);
}

TEST_F(ShardedClientTest, RemoteDeletesThatFailAreKeptAndRetried) {
  ASSERT_TRUE(Apply({Upsert(Company(a_[0])), Upsert(Company(a_[1])),
                     Upsert(Supplies(a_[1], a_[0], 0.5))})
                  .status.ok());
  // Shard 1 holds the out-copy; it fails the cascade's delete once.
  v1::ApplyRequest request;
  *request.add_mutations() = DeleteEntity(a_[0]);
  shards_[1]->FailNextApplies(1, absl::UnavailableError("down"));
  absl::StatusOr<v1::ApplyResponse> failed =
      client_->Apply(request, absl::Now() + absl::Seconds(5), nullptr);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("deleting the copies"));
  EXPECT_EQ(client_->pending_remote_deletes(), 1);
  EXPECT_THAT(ShardEdges(a_[1], storage::Direction::kOutbound),
              ElementsAre(absl::StrCat(a_[1], "->", a_[0])));
  // The next call deletes it first.
  v1::ApplyRequest next;
  *next.add_mutations() = Upsert(Company(b_[2]));
  absl::StatusOr<v1::ApplyResponse> ok =
      client_->Apply(next, absl::Now() + absl::Seconds(5), nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(client_->pending_remote_deletes(), 0);
  EXPECT_THAT(ShardEdges(a_[1], storage::Direction::kOutbound), ElementsAre());
}

TEST_F(ShardedClientTest, WithoutRejectInvalidTheErrorNamesTheBatchIndex) {
  v1::ApplyRequest request;
  *request.add_mutations() = Upsert(Company(a_[0]));
  *request.add_mutations() = Upsert(Company(a_[1]));
  *request.add_mutations() = Upsert(Supplies(a_[1], b_[1], 1.5));
  absl::StatusOr<v1::ApplyResponse> failed =
      client_->Apply(request, absl::Now() + absl::Seconds(5), nullptr);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  // Index 1 of shard 1's part, index 2 of the batch.
  EXPECT_THAT(failed.status().message(),
              HasSubstr("graphstore-1: mutations[2].upsert_edge.weight: "));
}

TEST_F(ShardedClientTest, ListSignalsPagesThroughEveryShard) {
  std::vector<v1::Mutation> batch;
  std::set<std::string> ids;
  for (int s = 0; s < 3; ++s) {
    for (int n = 0; n < 2; ++n) {
      const std::string id = IdOn(s, "signal/t", n);
      ids.insert(id);
      batch.push_back(Upsert(Tension(id, 0.3)));
    }
  }
  ASSERT_TRUE(Apply(batch).status.ok());
  v1::ListSignalsRequest request;
  request.set_page_size(1);
  std::set<std::string> listed;
  int pages = 0;
  do {
    absl::StatusOr<v1::ListSignalsResponse> page =
        client_->ListSignals(request, absl::Now() + absl::Seconds(5), nullptr);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::Signal& s : page->signals()) listed.insert(s.id());
    request.set_page_token(page->next_page_token());
    ASSERT_LT(++pages, 20);
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, ids);

  for (const char* bad : {"garbage", "7:", "-1:x"}) {
    request.set_page_token(bad);
    absl::StatusOr<v1::ListSignalsResponse> page =
        client_->ListSignals(request, absl::Now() + absl::Seconds(5), nullptr);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(page.status().message(), HasSubstr("page_token")) << bad;
  }
}

}  // namespace
}  // namespace georisk::ingest
