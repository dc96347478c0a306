// RocksDbGraphStore's graph reads: ListEdges and its page tokens, GetEntity,
// Traverse, ListSignals, and reads at their snapshot while commits go on.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/keys.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tariff;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;

using ::testing::ElementsAre;

using testing::EdgeNames;
using testing::Ids;
using testing::RocksDbGraphStoreTest;

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

}  // namespace
}  // namespace georisk::storage
