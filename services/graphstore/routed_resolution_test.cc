// RoutedResolution over three shards (each a RocksDbGraphStore behind a
// ShardStore, with its own ResolutionIndex and ResolutionService, asked in
// process as the router asks its own shard) against one unpartitioned store
// holding the same entities and links: the review queue page by page, the
// links of every entity, reviews of pairs across shards, and a shard down.
#include "services/graphstore/routed_resolution.h"

#include <algorithm>
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
#include "services/common/match_merge.h"
#include "services/common/shard_status.h"
#include "services/graphstore/resolution_service.h"
#include "services/graphstore/shard_store.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::NameLink;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;
using storage::PartitionMap;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kCompanies = 40;
constexpr absl::Time kNow = absl::FromUnixSeconds(1760000000);

// Ids that the hash spreads over the three shards (short numeric suffixes
// alone fall mostly on one: company/c0..c39 put 26 on shard 1).
std::string C(int i) { return absl::StrCat("company/co-", i * 7919); }

// One graphstore: its store and its Resolution service.
struct Node {
  std::unique_ptr<storage::RocksDbGraphStore> rocks;
  std::unique_ptr<ShardStore> shard;  // Null for the unpartitioned store.
  std::unique_ptr<ResolutionIndex> index;
  std::unique_ptr<ResolutionService> service;
  storage::GraphStore* store() {
    return shard != nullptr ? static_cast<storage::GraphStore*>(shard.get())
                            : rocks.get();
  }
};

// A shard that can be taken down: then it answers as an unreachable pod.
class Switchable final : public ResolutionShard {
 public:
  Switchable(std::unique_ptr<ResolutionShard> shard, int index)
      : shard_(std::move(shard)), index_(index) {}
  bool down = false;

  absl::StatusOr<v1::MatchEntitiesResponse> Match(
      const v1::MatchEntitiesRequest& r) override {
    if (down) return Down();
    return shard_->Match(r);
  }
  absl::StatusOr<v1::ListReviewQueueResponse> ReviewQueue(
      const v1::ListReviewQueueRequest& r) override {
    if (down) return Down();
    return shard_->ReviewQueue(r);
  }
  absl::StatusOr<v1::ListLinksResponse> Links(
      const v1::ListLinksRequest& r) override {
    if (down) return Down();
    return shard_->Links(r);
  }
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override {
    if (down) return Down();
    return shard_->GetEntity(id);
  }
  absl::StatusOr<int64_t> Apply(const std::vector<v1::Mutation>& m,
                                absl::string_view origin) override {
    if (down) return Down();
    ++applies;
    return shard_->Apply(m, origin);
  }
  int applies = 0;

 private:
  absl::Status Down() const {
    return ShardAnswer(absl::UnavailableError("connection refused"), index_);
  }
  std::unique_ptr<ResolutionShard> shard_;
  const int index_;
};

class RoutedResolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    map_ = *PartitionMap::Parse("0=0-341;1=342-682;2=683-1023");
    Open(&single_, PartitionMap::Single(), 0, /*partitioned=*/false);
    std::vector<std::unique_ptr<ResolutionShard>> shards;
    for (int i = 0; i < 3; ++i) {
      Open(&nodes_[i], map_, i, /*partitioned=*/true);
      auto s = std::make_unique<Switchable>(
          std::make_unique<LocalResolutionShard>(nodes_[i].service.get(),
                                                 nodes_[i].store(), i),
          i);
      switches_[i] = s.get();
      shards.push_back(std::move(s));
    }
    RoutedResolutionOptions options;
    options.clock = [] { return kNow; };
    auto router = RoutedResolution::Create(map_, std::move(shards), options);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
    Write();
  }

  void TearDown() override {
    router_.reset();
    for (Node* n : {&single_, &nodes_[0], &nodes_[1], &nodes_[2]}) {
      n->service.reset();
      n->index.reset();
      n->shard.reset();
      n->rocks.reset();
    }
  }

  // `reuse`: a new index and service over the node's store.
  void Open(Node* node, const PartitionMap& map, int shard, bool partitioned,
            bool reuse = false) {
    if (!reuse) {
      storage::RocksDbGraphStoreOptions options;
      options.path = base::testing::MakeTempDir("shard") + "/graph";
      options.sync = false;
      options.partition_map = map;
      options.shard_index = shard;
      auto rocks = storage::RocksDbGraphStore::Open(options);
      ASSERT_TRUE(rocks.ok()) << rocks.status();
      node->rocks = *std::move(rocks);
    }
    if (partitioned && !reuse) {
      auto s = ShardStore::Create(node->rocks.get(), {map, shard});
      ASSERT_TRUE(s.ok()) << s.status();
      node->shard = *std::move(s);
    }
    auto normalizer = resolve::NameNormalizer::Create();
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    ResolutionIndexOptions index_options;
    index_options.poll = absl::Milliseconds(20);
    node->index = std::make_unique<ResolutionIndex>(
        node->store(),
        std::shared_ptr<const resolve::NameNormalizer>(*std::move(normalizer)),
        index_options);
    ResolutionServiceOptions service_options;
    service_options.clock = [] { return kNow; };
    if (partitioned) {
      service_options.owns = [map, shard](absl::string_view id) {
        return map.ShardOf(id) == shard;
      };
    }
    node->service = std::make_unique<ResolutionService>(
        node->store(), node->index.get(), service_options);
  }

  // Applies `batch` to the one store and, split as ingest splits it, to the
  // shards: an entity on its shard, a link across shards as its two copies.
  void ApplyEverywhere(const std::vector<v1::Mutation>& batch) {
    ASSERT_TRUE(single_.store()->Apply(batch, "test").ok());
    std::vector<std::vector<v1::Mutation>> parts(3);
    for (const v1::Mutation& m : batch) {
      if (!m.has_upsert_link()) {
        parts[map_.ShardOf(m.upsert_entity().id())].push_back(m);
        continue;
      }
      const int a = map_.ShardOf(m.upsert_link().entity_a());
      const int b = map_.ShardOf(m.upsert_link().entity_b());
      if (a == b) {
        parts[a].push_back(m);
        continue;
      }
      v1::Mutation out = m, in = m;
      out.set_edge_copy(v1::EDGE_COPY_OUT);
      in.set_edge_copy(v1::EDGE_COPY_IN);
      parts[a].push_back(out);
      parts[b].push_back(in);
    }
    for (int i = 0; i < 3; ++i) {
      if (parts[i].empty()) continue;
      auto applied = nodes_[i].store()->Apply(parts[i], "test");
      ASSERT_TRUE(applied.ok()) << applied.status();
    }
  }

  // Entities c0..c39; UNSURE links between neighbours and between i and
  // i+7, their scores from a few values (many ties), from two sources; a few
  // POSITIVE ones.
  void Write() {
    std::vector<v1::Mutation> batch;
    for (int i = 0; i < kCompanies; ++i) {
      batch.push_back(
          Upsert(NamedCompany(C(i), absl::StrCat("Company ", i, " Holdings"),
                              i % 2 ? "TW" : "KR")));
    }
    const double scores[] = {0.9, 0.85, 0.8, 0.8, 0.75};
    for (int i = 0; i + 1 < kCompanies; ++i) {
      for (int step : {1, 7}) {
        if (i + step >= kCompanies) continue;
        const v1::Link::Judgement j =
            i % 9 == 4 ? v1::Link::POSITIVE : v1::Link::UNSURE;
        v1::Link l = NameLink(C(i), C(i + step), j, scores[(i + step) % 5]);
        batch.push_back(
            Upsert(WithSource(l, i % 3 ? "import:list-a" : "import:list-b")));
      }
    }
    ApplyEverywhere(batch);
  }

  // Every page of the queue for `request` from `calls` (the router) or from
  // the one store's service.
  std::vector<v1::ListReviewQueueResponse> Pages(
      v1::ListReviewQueueRequest request, bool routed) {
    std::vector<v1::ListReviewQueueResponse> pages;
    do {
      v1::ListReviewQueueResponse page;
      const absl::Status s = routed
                                 ? router_->ReviewQueue(request, &page)
                                 : single_.service->ReviewQueue(request, &page);
      EXPECT_TRUE(s.ok()) << s;
      if (!s.ok()) break;
      request.set_page_token(page.next_page_token());
      pages.push_back(std::move(page));
    } while (!request.page_token().empty() && pages.size() < 500);
    return pages;
  }

  static std::string Text(v1::Link l) {
    l.clear_update_sequence();
    l.clear_update_origin();
    return l.DebugString();
  }

  // Two cross-shard companies with an UNSURE link.
  std::pair<std::string, std::string> PairAcrossShards() {
    for (int i = 0; i + 1 < kCompanies; ++i) {
      if (i % 9 != 4 && map_.ShardOf(C(i)) != map_.ShardOf(C(i + 1))) {
        return {C(i), C(i + 1)};
      }
    }
    ADD_FAILURE() << "no pair across shards";
    return {};
  }

  absl::Status Review(const std::string& a, const std::string& b, bool accept,
                      v1::ReviewLinkResponse* response,
                      bool allow_manual = false) {
    v1::ReviewLinkRequest request;
    request.mutable_link()->set_entity_a(a);
    request.mutable_link()->set_entity_b(b);
    request.set_decision(accept ? v1::ReviewLinkRequest::ACCEPT
                                : v1::ReviewLinkRequest::REJECT);
    request.set_reason("same LEI in the filing");
    request.set_reviewer("ana");
    request.set_allow_manual(allow_manual);
    return router_->Review(request, "", response);
  }

  PartitionMap map_ = PartitionMap::Single();
  Node single_;
  Node nodes_[3];
  Switchable* switches_[3] = {};
  std::unique_ptr<RoutedResolution> router_;
};

TEST_F(RoutedResolutionTest, TheGraphHasLinksOnEveryShardAndAcross) {
  int across = 0;
  std::set<int> shards;
  for (int i = 0; i + 1 < kCompanies; ++i) {
    shards.insert(map_.ShardOf(C(i)));
    across += map_.ShardOf(C(i)) != map_.ShardOf(C(i + 1));
  }
  EXPECT_EQ(shards.size(), 3u);
  EXPECT_GE(across, 10);
}

TEST_F(RoutedResolutionTest, TheQueueIsTheOneStoresPageByPage) {
  for (int page_size : {1, 2, 3, 7, 100, 1000}) {
    for (const char* source : {"", "import:list-a"}) {
      for (double min_score : {0.0, 0.8}) {
        v1::ListReviewQueueRequest request;
        request.set_page_size(page_size);
        request.set_source(source);
        request.set_min_score(min_score);
        const auto want = Pages(request, /*routed=*/false);
        const auto got = Pages(request, /*routed=*/true);
        const std::string what = absl::StrCat(
            "page_size ", page_size, " source '", source, "' min ", min_score);
        ASSERT_EQ(got.size(), want.size()) << what;
        int links = 0;
        for (size_t p = 0; p < want.size(); ++p) {
          ASSERT_EQ(got[p].links_size(), want[p].links_size()) << what;
          for (int i = 0; i < want[p].links_size(); ++i) {
            EXPECT_EQ(Text(got[p].links(i)), Text(want[p].links(i)))
                << what << " page " << p << " link " << i;
          }
          EXPECT_EQ(got[p].total_size(), want[p].total_size()) << what;
          links += want[p].links_size();
        }
        EXPECT_EQ(links, want[0].total_size()) << what;
      }
    }
  }
}

TEST_F(RoutedResolutionTest, OrderKeysSortAsTheIndex) {
  v1::Link a = NameLink("company/a", "company/b", v1::Link::UNSURE, 0.9);
  v1::Link b = NameLink("company/a", "company/c", v1::Link::UNSURE, 0.9);
  v1::Link c = NameLink("company/0", "company/z", v1::Link::UNSURE, 0.85);
  v1::Link zero = NameLink("company/a", "company/b", v1::Link::UNSURE, 0);
  v1::Link one = NameLink("company/z", "company/zz", v1::Link::UNSURE, 1);
  EXPECT_LT(ReviewQueueOrder(one), ReviewQueueOrder(a));
  EXPECT_LT(ReviewQueueOrder(a), ReviewQueueOrder(b));  // Tie: by pair.
  EXPECT_LT(ReviewQueueOrder(b), ReviewQueueOrder(c));
  EXPECT_LT(ReviewQueueOrder(c), ReviewQueueOrder(zero));
  v1::Link negative_zero = zero;
  negative_zero.set_score(-0.0);
  EXPECT_EQ(ReviewQueueOrder(negative_zero), ReviewQueueOrder(zero));
}

TEST_F(RoutedResolutionTest, ABadOrTamperedTokenIsRefusedNamingIt) {
  v1::ListReviewQueueRequest request;
  request.set_page_size(3);
  v1::ListReviewQueueResponse first;
  ASSERT_TRUE(router_->ReviewQueue(request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  const std::string token = first.next_page_token();
  for (size_t i = 0; i + 1 < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    v1::ListReviewQueueRequest r = request;
    r.set_page_token(bad);
    v1::ListReviewQueueResponse page;
    const absl::Status s = router_->ReviewQueue(r, &page);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << i << " " << s;
    EXPECT_THAT(std::string(s.message()), StartsWith("page_token: ")) << i;
  }
  v1::ListReviewQueueRequest other = request;
  other.set_page_token(token);
  other.set_source("import:list-b");
  v1::ListReviewQueueResponse page;
  EXPECT_EQ(router_->ReviewQueue(other, &page).message(),
            "page_token: belongs to other filters");
  // A shard's own token is not the router's.
  v1::ListReviewQueueResponse local;
  ASSERT_TRUE(single_.service->ReviewQueue(request, &local).ok());
  v1::ListReviewQueueRequest shard_token = request;
  shard_token.set_page_token(local.next_page_token());
  EXPECT_EQ(router_->ReviewQueue(shard_token, &page).message(),
            "page_token: malformed");
  // The request's own rules come first, as on a shard.
  v1::ListReviewQueueRequest bad_score;
  bad_score.set_min_score(2);
  EXPECT_THAT(std::string(router_->ReviewQueue(bad_score, &page).message()),
              StartsWith("min_score: must be in [0, 1]"));
}

TEST_F(RoutedResolutionTest, LinksOfEveryEntityAsTheOneStore) {
  for (int i = 0; i < kCompanies; ++i) {
    v1::ListLinksRequest request;
    request.set_entity_id(C(i));
    v1::ListLinksResponse got, want;
    ASSERT_TRUE(router_->Links(request, &got).ok()) << C(i);
    ASSERT_TRUE(single_.service->Links(request, &want).ok());
    ASSERT_EQ(got.links_size(), want.links_size()) << C(i);
    for (int j = 0; j < want.links_size(); ++j) {
      EXPECT_EQ(Text(got.links(j)), Text(want.links(j))) << C(i);
    }
  }
  v1::ListLinksRequest none;
  v1::ListLinksResponse page;
  EXPECT_EQ(router_->Links(none, &page).message(), "entity_id: is required");
}

TEST_F(RoutedResolutionTest, AReviewAcrossShardsWritesBothCopiesOnce) {
  const auto [a, b] = PairAcrossShards();
  const int sa = map_.ShardOf(a), sb = map_.ShardOf(b);
  v1::ListReviewQueueRequest all;
  v1::ListReviewQueueResponse before;
  ASSERT_TRUE(router_->ReviewQueue(all, &before).ok());

  v1::ReviewLinkResponse response;
  // Given in either order: the pair is the pair.
  ASSERT_TRUE(Review(b, a, /*accept=*/true, &response).ok());
  EXPECT_FALSE(response.already_decided());
  EXPECT_EQ(response.link().judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(response.link().decided_by(), "reviewer:ana");
  EXPECT_EQ(response.link().decided_at().seconds(), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(response.link().entity_a(), a);
  EXPECT_EQ(response.sequence(), response.link().update_sequence());
  EXPECT_EQ(switches_[sa]->applies, 1);
  EXPECT_EQ(switches_[sb]->applies, 1);
  // Each end's shard holds the same decision.
  auto on_a = nodes_[sa].store()->GetLink(a, b);
  auto on_b = nodes_[sb].store()->GetLink(a, b);
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ(Text(*on_a), Text(*on_b));
  EXPECT_EQ(Text(*on_a), Text(response.link()));
  // Listed from either end, and out of the queue.
  for (const std::string& id : {a, b}) {
    v1::ListLinksRequest request;
    request.set_entity_id(id);
    v1::ListLinksResponse links;
    ASSERT_TRUE(router_->Links(request, &links).ok());
    bool found = false;
    for (const v1::Link& l : links.links()) {
      if (l.entity_a() == a && l.entity_b() == b) {
        found = true;
        EXPECT_EQ(l.judgement(), v1::Link::POSITIVE) << id;
      }
    }
    EXPECT_TRUE(found) << id;
  }
  v1::ListReviewQueueResponse after;
  ASSERT_TRUE(router_->ReviewQueue(all, &after).ok());
  EXPECT_EQ(after.total_size(), before.total_size() - 1);

  // The same decision again writes nothing.
  v1::ReviewLinkResponse again;
  ASSERT_TRUE(Review(a, b, /*accept=*/true, &again).ok());
  EXPECT_TRUE(again.already_decided());
  EXPECT_EQ(again.sequence(), response.sequence());
  EXPECT_EQ(switches_[sa]->applies, 1);
  EXPECT_EQ(switches_[sb]->applies, 1);
}

TEST_F(RoutedResolutionTest, AManualLinkAcrossShardsAndTheRequestsRules) {
  std::string a, b;
  for (int i = 0; i + 3 < kCompanies && a.empty(); ++i) {
    if (map_.ShardOf(C(i)) != map_.ShardOf(C(i + 3))) {
      a = C(i);
      b = C(i + 3);
    }
  }
  ASSERT_FALSE(a.empty());
  v1::ReviewLinkResponse response;
  absl::Status s = Review(a, b, /*accept=*/true, &response);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("set allow_manual"));
  ASSERT_TRUE(
      Review(a, b, /*accept=*/true, &response, /*allow_manual=*/true).ok());
  EXPECT_EQ(response.link().method(), v1::Link::MANUAL);
  EXPECT_TRUE(nodes_[map_.ShardOf(a)].store()->GetLink(a, b).ok());
  EXPECT_TRUE(nodes_[map_.ShardOf(b)].store()->GetLink(a, b).ok());

  s = Review(a, "company/nobody", true, &response, true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "link.entity_b: entity company/nobody does not exist");
  v1::ReviewLinkRequest no_reason;
  no_reason.mutable_link()->set_entity_a(a);
  no_reason.mutable_link()->set_entity_b(b);
  no_reason.set_decision(v1::ReviewLinkRequest::REJECT);
  no_reason.set_reviewer("ana");
  EXPECT_EQ(router_->Review(no_reason, "", &response).message(),
            "reason: is required to reject");
  v1::ReviewLinkRequest as_other = no_reason;
  as_other.set_decision(v1::ReviewLinkRequest::ACCEPT);
  EXPECT_EQ(router_->Review(as_other, "bob", &response).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RoutedResolutionTest, AShardDownFailsOnlyTheCallsThatNeedItNamingIt) {
  const auto [a, b] = PairAcrossShards();
  const int down = map_.ShardOf(b);
  switches_[down]->down = true;
  const std::string name = absl::StrCat("graphstore-", down);
  auto named = [&](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(std::string(s.message()), StartsWith(name + ": "));
    EXPECT_EQ(common::UnavailableShard(s), name);
  };
  v1::ListReviewQueueResponse queue;
  named(router_->ReviewQueue({}, &queue));
  v1::MatchEntitiesRequest match;
  match.mutable_query()->set_name("Company 3 Holdings");
  v1::MatchEntitiesResponse matches;
  named(router_->Match(match, &matches));
  v1::ReviewLinkResponse review;
  named(Review(a, b, /*accept=*/false, &review));
  EXPECT_EQ(switches_[map_.ShardOf(a)]->applies, 0);  // Nothing written.
  // Links of the other shards' entities are answered; its own are not.
  for (int i = 0; i < kCompanies; ++i) {
    v1::ListLinksRequest request;
    request.set_entity_id(C(i));
    v1::ListLinksResponse links;
    const absl::Status s = router_->Links(request, &links);
    if (map_.ShardOf(C(i)) == down) {
      named(s);
    } else {
      EXPECT_TRUE(s.ok()) << C(i) << " " << s;
    }
  }
}

TEST_F(RoutedResolutionTest, AMatchKnowsARefusalAcrossShardsAfterALoad) {
  // A pair across shards whose smaller id's shard holds the primary copy;
  // the candidate is the larger id, on the other shard.
  std::string lo, hi;
  for (int i = 0; i + 1 < kCompanies && lo.empty(); ++i) {
    const std::string x = std::min(C(i), C(i + 1));
    const std::string y = std::max(C(i), C(i + 1));
    if (i % 9 != 4 && map_.ShardOf(x) != map_.ShardOf(y)) {
      lo = x;
      hi = y;
    }
  }
  ASSERT_FALSE(lo.empty());
  v1::ReviewLinkResponse refused;
  ASSERT_TRUE(Review(lo, hi, /*accept=*/false, &refused).ok());
  // A fresh index of the candidate's shard, loaded from its export (as after
  // a restart): the export has the link on lo's shard only.
  Node& node = nodes_[map_.ShardOf(hi)];
  node.service.reset();
  node.index.reset();
  Open(&node, map_, map_.ShardOf(hi), /*partitioned=*/true, /*reuse=*/true);
  v1::MatchEntitiesRequest request;
  auto entity = node.store()->GetEntity(hi);
  ASSERT_TRUE(entity.ok()) << entity.status();
  request.mutable_query()->set_name(entity->name());
  request.mutable_query()->set_entity_id(lo);
  request.set_limit(50);
  v1::MatchEntitiesResponse matches;
  ASSERT_TRUE(node.service->Match(request, &matches).ok());
  bool found = false;
  for (const v1::MatchCandidate& c : matches.candidates()) {
    if (c.entity_id() != hi) continue;
    found = true;
    EXPECT_EQ(c.existing_judgement(), v1::Link::NEGATIVE);
  }
  EXPECT_TRUE(found);
}

TEST_F(RoutedResolutionTest, MatchesMergeEveryShardsCandidates) {
  v1::MatchEntitiesRequest request;
  request.mutable_query()->set_name("Company 12 Holdings");
  request.set_limit(50);
  v1::MatchEntitiesResponse got;
  ASSERT_TRUE(router_->Match(request, &got).ok());
  // What each shard answers alone, merged.
  std::vector<v1::MatchEntitiesResponse> each(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(nodes_[i].service->Match(request, &each[i]).ok());
  }
  const v1::MatchEntitiesResponse want = common::MergeMatches(each, 50);
  ASSERT_EQ(got.candidates_size(), want.candidates_size());
  ASSERT_GT(got.candidates_size(), 0);
  for (int i = 0; i < want.candidates_size(); ++i) {
    EXPECT_EQ(got.candidates(i).DebugString(),
              want.candidates(i).DebugString());
  }
  EXPECT_EQ(got.sequence(), want.sequence());
  v1::MatchEntitiesRequest bad;
  EXPECT_EQ(router_->Match(bad, &got).message(), "query: is required");
}

}  // namespace
}  // namespace georisk::graphstore
