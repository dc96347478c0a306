// ResolutionService and ResolutionIndex over a real RocksDbGraphStore: the
// RPCs called in process, and through a gRPC channel with tokens for the
// roles and the reviewer's identity.
#include "services/graphstore/resolution_service.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/channel.h"
#include "services/common/metrics.h"
#include "services/common/rpc_edge.h"
#include "services/common/server.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::NameLink;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Huawei's LEI (ISO 17442 check digits valid), from docs/resolution.md.
constexpr char kHuaweiLei[] = "506700GE1G29325QX363";

// "company/<slug>", with an LEI when `lei` is given.
v1::Mutation Company(const std::string& slug, const std::string& name,
                     const std::string& country, const std::string& lei = "") {
  return Upsert(NamedCompany("company/" + slug, name, country, lei));
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

class ResolutionServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = base::testing::MakeTempDir("resolution");
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    options.changelog_trim_interval = absl::ZeroDuration();
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    Apply(
        {Company("huawei", "Huawei Technologies Co., Ltd.", "CN", kHuaweiLei),
         Company("smic",
                 "Semiconductor Manufacturing International Corporation", "CN"),
         Company("csl-el-1", "HUAWEI TECHNOLOGIES CO., LTD.", "CN", kHuaweiLei),
         Company("csl-el-2", "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORP",
                 "CN"),
         Company("ftm-3", "Semiconductor Manufacturing Intl Corp", "CN"),
         Company("tsmc", "Taiwan Semiconductor Manufacturing Company", "TW")});
    auto normalizer = resolve::NameNormalizer::Create();
    ASSERT_TRUE(normalizer.ok()) << normalizer.status();
    ResolutionIndexOptions index_options;
    index_options.matcher.max_candidates = kMaxMatchLimit;
    index_options.poll = absl::Milliseconds(20);
    index_ = std::make_unique<ResolutionIndex>(
        store_.get(),
        std::shared_ptr<const resolve::NameNormalizer>(*std::move(normalizer)),
        index_options);
    ResolutionServiceOptions service_options;
    service_options.clock = [] { return absl::FromUnixSeconds(1760000000); };
    service_ = std::make_unique<ResolutionService>(store_.get(), index_.get(),
                                                   service_options);
  }

  void TearDown() override {
    server_.reset();
    service_.reset();
    index_.reset();
    store_.reset();
  }

  int64_t Apply(const std::vector<v1::Mutation>& batch) {
    absl::StatusOr<storage::ApplyResult> r = store_->Apply(batch, "test");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->sequence : 0;
  }

  v1::MatchEntitiesResponse Match(const v1::MatchQuery& query, int limit = 0) {
    v1::MatchEntitiesRequest request;
    *request.mutable_query() = query;
    request.set_limit(limit);
    v1::MatchEntitiesResponse response;
    absl::Status s = service_->Match(request, &response);
    EXPECT_TRUE(s.ok()) << s;
    return response;
  }

  absl::Status Review(const std::string& a, const std::string& b, bool accept,
                      const std::string& reason = "", bool allow_manual = false,
                      v1::ReviewLinkResponse* response = nullptr) {
    v1::ReviewLinkRequest request;
    request.mutable_link()->set_entity_a(a);
    request.mutable_link()->set_entity_b(b);
    request.set_decision(accept ? v1::ReviewLinkRequest::ACCEPT
                                : v1::ReviewLinkRequest::REJECT);
    request.set_reason(reason);
    request.set_reviewer("ana");
    request.set_allow_manual(allow_manual);
    v1::ReviewLinkResponse ignored;
    return service_->Review(request, "", response ? response : &ignored);
  }

  std::vector<std::string> Queue(v1::ListReviewQueueRequest request = {}) {
    v1::ListReviewQueueResponse response;
    absl::Status s = service_->ReviewQueue(request, &response);
    EXPECT_TRUE(s.ok()) << s;
    std::vector<std::string> out;
    for (const v1::Link& l : response.links()) {
      out.push_back(absl::StrCat(l.entity_a(), "=", l.entity_b()));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<storage::RocksDbGraphStore> store_;
  std::unique_ptr<ResolutionIndex> index_;
  std::unique_ptr<ResolutionService> service_;
  common::MetricsRegistry registry_;
  std::unique_ptr<common::GrpcServer> server_;
};

TEST_F(ResolutionServiceTest, IdentifierMatchRanksFirstAndWouldLink) {
  v1::MatchQuery query;
  query.set_name("Huawei Technologies Co Ltd");
  query.set_country("CN");
  (*query.mutable_identifiers())["lei"] = kHuaweiLei;
  v1::MatchEntitiesResponse r = Match(query);
  ASSERT_GE(r.candidates_size(), 2);
  EXPECT_EQ(r.sequence(), store_->LastSequence());
  for (int i = 0; i < 2; ++i) {
    const v1::MatchCandidate& c = r.candidates(i);
    EXPECT_THAT(c.entity_id(),
                testing::AnyOf("company/huawei", "company/csl-el-1"));
    EXPECT_EQ(c.decision(), v1::MATCH_DECISION_AUTO_LINK);
    EXPECT_EQ(c.method(), v1::Link::IDENTIFIER);
    EXPECT_DOUBLE_EQ(c.features().at("identifier"), 1.0);
    EXPECT_DOUBLE_EQ(c.features().at("country"), 1.0);
    EXPECT_GE(c.score(), 0.9);
    EXPECT_THAT(c.evidence(0), HasSubstr("identifier lei"));
    EXPECT_EQ(c.kind(), v1::Entity::COMPANY);
    EXPECT_EQ(c.country(), "CN");
  }
  EXPECT_EQ(r.candidates(0).name().empty(), false);
}

TEST_F(ResolutionServiceTest, NameMatchWaitsForReviewAndNamesItsFeatures) {
  v1::MatchQuery query;
  query.set_name("Semiconductor Manufacturing International Corp.");
  query.set_country("CN");
  v1::MatchEntitiesResponse r = Match(query);
  ASSERT_GE(r.candidates_size(), 1);
  std::vector<std::string> ids;
  for (const v1::MatchCandidate& c : r.candidates()) {
    ids.push_back(c.entity_id());
    EXPECT_EQ(c.decision(), v1::MATCH_DECISION_REVIEW) << c.entity_id();
    EXPECT_EQ(c.method(), v1::Link::NAME);
    EXPECT_DOUBLE_EQ(c.features().at("identifier"), 0.0);
    EXPECT_GT(c.features().at("name_similarity"), 0.7);
  }
  EXPECT_THAT(ids, testing::Contains("company/smic"));
  EXPECT_THAT(ids, testing::Not(testing::Contains("company/tsmc")));
  // limit and min_score cut the list.
  EXPECT_EQ(Match(query, /*limit=*/1).candidates_size(), 1);
  v1::MatchEntitiesRequest strict;
  *strict.mutable_query() = query;
  strict.set_min_score(1.0);
  v1::MatchEntitiesResponse none;
  ASSERT_TRUE(service_->Match(strict, &none).ok());
  for (const v1::MatchCandidate& c : none.candidates()) {
    EXPECT_DOUBLE_EQ(c.score(), 1.0);
  }
}

TEST_F(ResolutionServiceTest, IndexFollowsEveryCommit) {
  v1::MatchQuery query;
  query.set_name("Hua Hong Semiconductor Limited");
  EXPECT_EQ(Match(query).candidates_size(), 0);
  Apply({Company("hua-hong", "Hua Hong Semiconductor Ltd", "CN")});
  v1::MatchEntitiesResponse r = Match(query);
  ASSERT_EQ(r.candidates_size(), 1);
  EXPECT_EQ(r.candidates(0).entity_id(), "company/hua-hong");
  v1::Mutation del;
  del.set_delete_entity_id("company/hua-hong");
  Apply({del});
  EXPECT_EQ(Match(query).candidates_size(), 0);
}

TEST_F(ResolutionServiceTest,
       QueryEntityIdIsNeverItsOwnCandidateAndGetsJudgements) {
  Apply({Upsert(WithSource(
      NameLink("company/smic", "company/csl-el-2", v1::Link::UNSURE, 0.93),
      "csl"))});
  ASSERT_TRUE(
      Review("company/smic", "company/csl-el-2", false, "a different party")
          .ok());
  v1::MatchQuery query;
  query.set_entity_id("company/smic");
  query.set_name("Semiconductor Manufacturing International Corporation");
  query.set_country("CN");
  v1::MatchEntitiesResponse r = Match(query);
  bool saw_refusal = false;
  for (const v1::MatchCandidate& c : r.candidates()) {
    EXPECT_NE(c.entity_id(), "company/smic");
    if (c.entity_id() == "company/csl-el-2") {
      EXPECT_EQ(c.existing_judgement(), v1::Link::NEGATIVE);
      saw_refusal = true;
    } else {
      EXPECT_EQ(c.existing_judgement(), v1::Link::JUDGEMENT_UNSPECIFIED);
    }
  }
  EXPECT_TRUE(saw_refusal);
}

TEST_F(ResolutionServiceTest, MatchValidatesEveryField) {
  struct Case {
    std::function<void(v1::MatchEntitiesRequest&)> change;
    std::string prefix;
  };
  const Case cases[] = {
      {[](v1::MatchEntitiesRequest& r) { r.clear_query(); },
       "query: is required"},
      {[](v1::MatchEntitiesRequest& r) { r.mutable_query()->clear_name(); },
       "query.name: is required unless aliases or identifiers are given"},
      {[](v1::MatchEntitiesRequest& r) {
         r.mutable_query()->set_kind(static_cast<v1::Entity::Kind>(42));
       },
       "query.kind: unknown entity kind 42"},
      {[](v1::MatchEntitiesRequest& r) {
         r.mutable_query()->set_name(std::string(513, 'x'));
       },
       "query.name: must be at most 512 bytes"},
      {[](v1::MatchEntitiesRequest& r) {
         r.mutable_query()->add_aliases(std::string(513, 'x'));
       },
       "query.aliases[0]: must be at most 512 bytes"},
      {[](v1::MatchEntitiesRequest& r) {
         r.mutable_query()->set_country("XX");
       },
       "query.country: must be an ISO 3166-1 alpha-2 code"},
      {[](v1::MatchEntitiesRequest& r) {
         (*r.mutable_query()->mutable_identifiers())["LEI"] = "x";
       },
       "query.identifiers[\"LEI\"]: scheme must match"},
      {[](v1::MatchEntitiesRequest& r) {
         (*r.mutable_query()->mutable_identifiers())["lei"] = " ";
       },
       "query.identifiers[\"lei\"]: value is required"},
      {[](v1::MatchEntitiesRequest& r) {
         r.mutable_query()->set_entity_id("smic");
       },
       "query.entity_id:"},
      {[](v1::MatchEntitiesRequest& r) { r.set_limit(51); },
       "limit: must be in [0, 50], got 51"},
      {[](v1::MatchEntitiesRequest& r) { r.set_limit(-1); },
       "limit: must be in [0, 50], got -1"},
      {[](v1::MatchEntitiesRequest& r) { r.set_min_score(1.5); },
       "min_score: must be in [0, 1], got 1.5"},
  };
  for (const Case& c : cases) {
    v1::MatchEntitiesRequest request;
    request.mutable_query()->set_name("SMIC");
    c.change(request);
    v1::MatchEntitiesResponse response;
    absl::Status s = service_->Match(request, &response);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.prefix;
    EXPECT_THAT(Message(s), StartsWith(c.prefix));
  }
  // Only an identifier that fails its check, and no name.
  v1::MatchEntitiesRequest request;
  (*request.mutable_query()->mutable_identifiers())["lei"] =
      "506700GE1G29325QX364";
  v1::MatchEntitiesResponse response;
  EXPECT_THAT(Message(service_->Match(request, &response)),
              StartsWith("query.identifiers: no identifier passes"));
}

TEST_F(ResolutionServiceTest, ReviewQueueFiltersPagesAndCounts) {
  Apply({Upsert(WithSource(NameLink("company/smic", "company/csl-el-2",
                                    v1::Link::UNSURE, 0.93),
                           "csl/2025")),
         Upsert(WithSource(
             NameLink("company/smic", "company/ftm-3", v1::Link::UNSURE, 0.81),
             "ftm/sanctions")),
         Upsert(WithSource(NameLink("company/csl-el-2", "company/ftm-3",
                                    v1::Link::UNSURE, 0.88),
                           "ftm/sanctions"))});
  EXPECT_THAT(Queue(), ElementsAre("company/csl-el-2=company/smic",
                                   "company/csl-el-2=company/ftm-3",
                                   "company/ftm-3=company/smic"));
  v1::ListReviewQueueRequest by_source;
  by_source.set_source("ftm/");
  EXPECT_THAT(Queue(by_source), ElementsAre("company/csl-el-2=company/ftm-3",
                                            "company/ftm-3=company/smic"));
  v1::ListReviewQueueRequest by_score;
  by_score.set_min_score(0.85);
  by_score.set_max_score(0.9);
  EXPECT_THAT(Queue(by_score), ElementsAre("company/csl-el-2=company/ftm-3"));
  v1::ListReviewQueueRequest by_kind;
  by_kind.set_kind(v1::Entity::FACILITY);
  EXPECT_TRUE(Queue(by_kind).empty());
  by_kind.set_kind(v1::Entity::COMPANY);
  EXPECT_EQ(Queue(by_kind).size(), 3u);

  // Pages of 2: the token resumes after the last link, and counts stay.
  v1::ListReviewQueueRequest paged;
  paged.set_page_size(2);
  v1::ListReviewQueueResponse first;
  ASSERT_TRUE(service_->ReviewQueue(paged, &first).ok());
  EXPECT_EQ(first.links_size(), 2);
  EXPECT_EQ(first.total_size(), 3);
  ASSERT_FALSE(first.next_page_token().empty());
  paged.set_page_token(first.next_page_token());
  v1::ListReviewQueueResponse second;
  ASSERT_TRUE(service_->ReviewQueue(paged, &second).ok());
  ASSERT_EQ(second.links_size(), 1);
  EXPECT_EQ(second.links(0).entity_b(), "company/smic");
  EXPECT_TRUE(second.next_page_token().empty());
  // A token used with other filters, or garbage, is refused.
  paged.set_source("csl");
  v1::ListReviewQueueResponse refused;
  EXPECT_EQ(Message(service_->ReviewQueue(paged, &refused)),
            "page_token: belongs to other filters");
  paged.set_page_token("!!");
  EXPECT_EQ(Message(service_->ReviewQueue(paged, &refused)),
            "page_token: malformed");

  // Accepting one takes it out of the queue at once.
  ASSERT_TRUE(Review("company/smic", "company/csl-el-2", true).ok());
  EXPECT_EQ(Queue().size(), 2u);

  v1::ListReviewQueueRequest bad;
  bad.set_min_score(0.9);
  bad.set_max_score(0.8);
  EXPECT_THAT(Message(service_->ReviewQueue(bad, &refused)),
              StartsWith("min_score: must be <= max_score"));
  bad = {};
  bad.set_max_score(-0.1);
  EXPECT_THAT(Message(service_->ReviewQueue(bad, &refused)),
              StartsWith("max_score: must be in [0, 1]"));
  bad = {};
  bad.set_page_size(-1);
  EXPECT_THAT(Message(service_->ReviewQueue(bad, &refused)),
              StartsWith("page_size: must be >= 0"));
  bad = {};
  bad.set_kind(static_cast<v1::Entity::Kind>(42));
  EXPECT_EQ(Message(service_->ReviewQueue(bad, &refused)),
            "kind: unknown entity kind 42");
}

TEST_F(ResolutionServiceTest,
       ReviewWritesTheJudgementWithTheCandidatesEvidence) {
  Apply({Upsert(WithSource(
      NameLink("company/smic", "company/csl-el-2", v1::Link::UNSURE, 0.93),
      "csl/2025"))});
  v1::ReviewLinkResponse accepted;
  ASSERT_TRUE(Review("company/csl-el-2", "company/smic", true, "same LEI",
                     false, &accepted)
                  .ok());
  EXPECT_EQ(accepted.link().judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(accepted.link().decided_by(), "reviewer:ana");
  EXPECT_EQ(accepted.link().decided_at().seconds(), 1760000000);
  EXPECT_EQ(accepted.link().reason(), "same LEI");
  EXPECT_EQ(accepted.link().method(), v1::Link::NAME);  // The candidate's.
  EXPECT_DOUBLE_EQ(accepted.link().score(), 0.93);
  EXPECT_EQ(accepted.link().source(), "csl/2025");
  EXPECT_EQ(accepted.sequence(), store_->LastSequence());
  EXPECT_EQ(accepted.link().update_sequence(), accepted.sequence());

  // A refusal needs a reason; then an automatic re-link leaves it alone.
  EXPECT_EQ(Message(Review("company/smic", "company/csl-el-2", false)),
            "reason: is required to reject");
  ASSERT_TRUE(
      Review("company/smic", "company/csl-el-2", false, "two SMICs").ok());
  Apply({Company("csl-el-2", "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORP",
                 "CN"),
         Upsert(WithSource(NameLink("company/smic", "company/csl-el-2",
                                    v1::Link::UNSURE, 0.95),
                           "csl/2026"))});
  v1::ListLinksRequest list;
  list.set_entity_id("company/smic");
  v1::ListLinksResponse links;
  ASSERT_TRUE(service_->Links(list, &links).ok());
  ASSERT_EQ(links.links_size(), 1);
  EXPECT_EQ(links.links(0).judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(links.links(0).reason(), "two SMICs");
  EXPECT_TRUE(Queue().empty());
}

TEST_F(ResolutionServiceTest, DecidingAgainWhatAReviewerDecidedWritesNothing) {
  Apply({Upsert(WithSource(
      NameLink("company/smic", "company/csl-el-2", v1::Link::UNSURE, 0.93),
      "csl/2025"))});
  v1::ReviewLinkResponse first;
  ASSERT_TRUE(Review("company/smic", "company/csl-el-2", true, "same address",
                     false, &first)
                  .ok());
  EXPECT_FALSE(first.already_decided());
  const int64_t after_first = store_->LastSequence();

  // The same decision again, in the other order and with another reason: OK,
  // said so, the first decision returned, no commit.
  v1::ReviewLinkResponse again;
  ASSERT_TRUE(Review("company/csl-el-2", "company/smic", true, "still same",
                     false, &again)
                  .ok());
  EXPECT_TRUE(again.already_decided());
  EXPECT_EQ(store_->LastSequence(), after_first);
  EXPECT_EQ(again.sequence(), first.sequence());
  EXPECT_EQ(again.link().SerializeAsString(), first.link().SerializeAsString());

  // The other decision is a change: written.
  v1::ReviewLinkResponse refused;
  ASSERT_TRUE(Review("company/smic", "company/csl-el-2", false, "two SMICs",
                     false, &refused)
                  .ok());
  EXPECT_FALSE(refused.already_decided());
  EXPECT_EQ(refused.link().judgement(), v1::Link::NEGATIVE);
  EXPECT_GT(refused.sequence(), after_first);
  const int64_t after_refusal = store_->LastSequence();
  v1::ReviewLinkResponse refused_again;
  ASSERT_TRUE(Review("company/smic", "company/csl-el-2", false, "other reason",
                     false, &refused_again)
                  .ok());
  EXPECT_TRUE(refused_again.already_decided());
  EXPECT_EQ(refused_again.link().reason(), "two SMICs");
  EXPECT_EQ(store_->LastSequence(), after_refusal);

  // A manual decision repeated is a no-op too.
  v1::ReviewLinkResponse manual;
  ASSERT_TRUE(Review("company/tsmc", "company/huawei", false, "not the same",
                     /*allow_manual=*/true, &manual)
                  .ok());
  const int64_t after_manual = store_->LastSequence();
  ASSERT_TRUE(Review("company/tsmc", "company/huawei", false, "not the same",
                     /*allow_manual=*/true, &manual)
                  .ok());
  EXPECT_TRUE(manual.already_decided());
  EXPECT_EQ(store_->LastSequence(), after_manual);
}

TEST_F(ResolutionServiceTest, ConfirmingAnAutomaticLinkRecordsTheReviewer) {
  v1::Mutation m = Upsert(WithSource(
      NameLink("company/huawei", "company/csl-el-1", v1::Link::UNSURE, 1),
      "csl/2025"));
  m.mutable_upsert_link()->set_judgement(v1::Link::POSITIVE);
  m.mutable_upsert_link()->set_method(v1::Link::IDENTIFIER);
  m.mutable_upsert_link()->set_decided_by("rule:identifier");
  const int64_t automatic = Apply({m});
  v1::ReviewLinkResponse confirmed;
  ASSERT_TRUE(
      Review("company/huawei", "company/csl-el-1", true, "", false, &confirmed)
          .ok());
  EXPECT_FALSE(confirmed.already_decided());
  EXPECT_GT(confirmed.sequence(), automatic);
  EXPECT_EQ(confirmed.link().judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(confirmed.link().method(), v1::Link::IDENTIFIER);
  EXPECT_EQ(confirmed.link().decided_by(), "reviewer:ana");
}

TEST_F(ResolutionServiceTest, ReviewWithoutACandidateNeedsAllowManual) {
  absl::Status s = Review("company/tsmc", "company/huawei", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(s), StartsWith("link: no link between company/tsmc and "
                                     "company/huawei; set allow_manual"));
  v1::ReviewLinkResponse manual;
  ASSERT_TRUE(Review("company/tsmc", "company/huawei", false, "not the same",
                     /*allow_manual=*/true, &manual)
                  .ok());
  EXPECT_EQ(manual.link().method(), v1::Link::MANUAL);
  EXPECT_EQ(manual.link().judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(manual.link().entity_a(), "company/huawei");
  EXPECT_EQ(manual.link().source(), "review by ana");
  s = Review("company/tsmc", "company/nobody", true, "", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(s), "link.entity_b: entity company/nobody does not exist");
}

TEST_F(ResolutionServiceTest, ReviewValidatesAndNamesTheReviewer) {
  v1::ReviewLinkResponse response;
  v1::ReviewLinkRequest request;
  EXPECT_EQ(Message(service_->Review(request, "", &response)),
            "link: is required");
  request.mutable_link()->set_entity_a("company/smic");
  request.mutable_link()->set_entity_b("facility/smic-fab");
  EXPECT_THAT(Message(service_->Review(request, "", &response)),
              StartsWith("link.entity_b: must be of entity_a's kind"));
  request.mutable_link()->set_entity_b("company/csl-el-2");
  EXPECT_EQ(Message(service_->Review(request, "", &response)),
            "decision: is required (ACCEPT or REJECT)");
  request.set_decision(static_cast<v1::ReviewLinkRequest::Decision>(7));
  EXPECT_EQ(Message(service_->Review(request, "", &response)),
            "decision: unknown decision 7");
  request.set_decision(v1::ReviewLinkRequest::ACCEPT);
  EXPECT_EQ(Message(service_->Review(request, "", &response)),
            "reviewer: is required when the server has no authentication");
  request.set_reviewer("ana smith");
  EXPECT_EQ(Message(service_->Review(request, "", &response)),
            "reviewer: must match [A-Za-z0-9._@-]{1,128}");
  request.set_reason(std::string(1025, 'r'));
  EXPECT_THAT(Message(service_->Review(request, "ana", &response)),
              StartsWith("reason: must be at most 1024 bytes"));
  request.clear_reason();
  // With authentication the token's name counts; another is refused.
  request.set_reviewer("bo");
  absl::Status s = service_->Review(request, "ana", &response);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(s), HasSubstr("it may not review as bo"));
}

TEST_F(ResolutionServiceTest, ListLinksValidatesAndPages) {
  Apply({Upsert(WithSource(NameLink("company/smic", "company/csl-el-2",
                                    v1::Link::UNSURE, 0.93),
                           "csl")),
         Upsert(WithSource(
             NameLink("company/smic", "company/ftm-3", v1::Link::UNSURE, 0.81),
             "ftm"))});
  ASSERT_TRUE(Review("company/smic", "company/ftm-3", true).ok());
  v1::ListLinksRequest request;
  request.set_entity_id("company/smic");
  request.set_judgement(v1::Link::POSITIVE);
  v1::ListLinksResponse response;
  ASSERT_TRUE(service_->Links(request, &response).ok());
  ASSERT_EQ(response.links_size(), 1);
  EXPECT_EQ(response.links(0).entity_a(), "company/ftm-3");
  request.clear_judgement();
  request.set_page_size(1);
  response.Clear();
  ASSERT_TRUE(service_->Links(request, &response).ok());
  EXPECT_EQ(response.links_size(), 1);
  EXPECT_FALSE(response.next_page_token().empty());
  v1::ListLinksRequest bad;
  EXPECT_EQ(Message(service_->Links(bad, &response)), "entity_id: is required");
  bad.set_entity_id("smic");
  EXPECT_THAT(Message(service_->Links(bad, &response)),
              StartsWith("entity_id:"));
  bad.set_entity_id("company/smic");
  bad.set_judgement(static_cast<v1::Link::Judgement>(9));
  EXPECT_EQ(Message(service_->Links(bad, &response)),
            "judgement: unknown judgement 9");
  bad.clear_judgement();
  bad.set_page_token("garbage");
  EXPECT_THAT(Message(service_->Links(bad, &response)),
              StartsWith("page_token:"));
}

TEST_F(ResolutionServiceTest,
       OverGrpcReadersMatchAndWritersReviewAsThemselves) {
  const std::string tokens = dir_ + "/tokens";
  std::ofstream(tokens) << "reader-token-0123456789 reader rita\n"
                           "writer-token-0123456789 writer ana\n";
  std::ofstream(dir_ + "/reader.token") << "reader-token-0123456789\n";
  std::ofstream(dir_ + "/writer.token") << "writer-token-0123456789\n";
  common::ServerOptions options;
  options.service_name = "graphstore";
  options.metrics_address = "";
  options.token_file = tokens;
  options.shutdown_grace = absl::Milliseconds(100);
  auto server = common::GrpcServer::Start(
      options, {{service_.get(), v1::Resolution::service_full_name()}},
      &registry_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  auto stub = [&](const std::string& who) {
    common::ChannelOptions channel;
    channel.target = absl::StrCat("127.0.0.1:", server_->port());
    channel.token_file = dir_ + "/" + who + ".token";
    auto made = common::MakeChannel(channel);
    EXPECT_TRUE(made.ok()) << made.status();
    return v1::Resolution::NewStub(*made);
  };
  Apply({Upsert(WithSource(
      NameLink("company/smic", "company/csl-el-2", v1::Link::UNSURE, 0.93),
      "csl"))});

  auto reader = stub("reader");
  grpc::ClientContext match_context;
  v1::MatchEntitiesRequest match;
  match.mutable_query()->set_name("SMIC");
  v1::MatchEntitiesResponse matched;
  EXPECT_TRUE(reader->MatchEntities(&match_context, match, &matched).ok());
  v1::ReviewLinkRequest review;
  review.mutable_link()->set_entity_a("company/smic");
  review.mutable_link()->set_entity_b("company/csl-el-2");
  review.set_decision(v1::ReviewLinkRequest::ACCEPT);
  grpc::ClientContext denied_context;
  v1::ReviewLinkResponse reviewed;
  EXPECT_EQ(reader->ReviewLink(&denied_context, review, &reviewed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto writer = stub("writer");
  grpc::ClientContext review_context;
  grpc::Status s = writer->ReviewLink(&review_context, review, &reviewed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reviewed.link().decided_by(), "reviewer:ana");
}

// The answers of a router, recognisable by their markers.
class FakeRouter final : public ResolutionCalls {
 public:
  absl::Status Match(const v1::MatchEntitiesRequest&,
                     v1::MatchEntitiesResponse* response) override {
    response->set_sequence(4242);
    return absl::OkStatus();
  }
  absl::Status ReviewQueue(const v1::ListReviewQueueRequest&,
                           v1::ListReviewQueueResponse* response) override {
    response->set_total_size(777);
    return absl::OkStatus();
  }
  absl::Status Review(const v1::ReviewLinkRequest&, absl::string_view,
                      v1::ReviewLinkResponse* response) override {
    response->set_sequence(99);
    return absl::OkStatus();
  }
  absl::Status Links(const v1::ListLinksRequest&,
                     v1::ListLinksResponse*) override {
    return absl::UnavailableError("graphstore-2: down");
  }
};

TEST_F(ResolutionServiceTest, OverGrpcARoutingPodAnswersThroughItsRouter) {
  FakeRouter router;
  service_->RouteThrough(&router);
  common::ServerOptions options;
  options.service_name = "graphstore";
  options.metrics_address = "";
  options.shutdown_grace = absl::Milliseconds(100);
  auto server = common::GrpcServer::Start(
      options, {{service_.get(), v1::Resolution::service_full_name()}},
      &registry_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  common::ChannelOptions channel;
  channel.target = absl::StrCat("127.0.0.1:", server_->port());
  auto made = common::MakeChannel(channel);
  ASSERT_TRUE(made.ok()) << made.status();
  auto stub = v1::Resolution::NewStub(*made);
  Apply({Upsert(WithSource(
      NameLink("company/smic", "company/csl-el-2", v1::Link::UNSURE, 0.93),
      "csl"))});
  // Without georisk-shard-local: the router's answers.
  {
    grpc::ClientContext context;
    v1::MatchEntitiesRequest match;
    match.mutable_query()->set_name("SMIC");
    v1::MatchEntitiesResponse matched;
    ASSERT_TRUE(stub->MatchEntities(&context, match, &matched).ok());
    EXPECT_EQ(matched.sequence(), 4242);
  }
  {
    grpc::ClientContext context;
    v1::ListReviewQueueResponse queue;
    ASSERT_TRUE(stub->ListReviewQueue(&context, {}, &queue).ok());
    EXPECT_EQ(queue.total_size(), 777);
  }
  {
    grpc::ClientContext context;
    v1::ReviewLinkResponse reviewed;
    ASSERT_TRUE(stub->ReviewLink(&context, {}, &reviewed).ok());
    EXPECT_EQ(reviewed.sequence(), 99);
  }
  {
    // The router's UNAVAILABLE carries the retry hint.
    grpc::ClientContext context;
    v1::ListLinksRequest request;
    request.set_entity_id("company/smic");
    v1::ListLinksResponse links;
    EXPECT_EQ(stub->ListLinks(&context, request, &links).error_code(),
              grpc::StatusCode::UNAVAILABLE);
    EXPECT_NE(
        context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms"),
        context.GetServerTrailingMetadata().end());
  }
  // With it: this shard's own answers (one store here: every link).
  {
    grpc::ClientContext context;
    context.AddMetadata(common::kShardLocalMetadata, "1");
    v1::ListReviewQueueResponse queue;
    ASSERT_TRUE(stub->ListReviewQueue(&context, {}, &queue).ok());
    EXPECT_EQ(queue.total_size(), 1);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata(common::kShardLocalMetadata, "1");
    v1::ListLinksRequest request;
    request.set_entity_id("company/smic");
    v1::ListLinksResponse links;
    ASSERT_TRUE(stub->ListLinks(&context, request, &links).ok());
    EXPECT_EQ(links.links_size(), 1);
  }
}

TEST_F(ResolutionServiceTest, AShardsPartOfTheQueueIsTheLinksItsEntityAOwns) {
  ResolutionServiceOptions options;
  options.owns = [](absl::string_view id) { return id < "company/m"; };
  ResolutionService shard(store_.get(), index_.get(), options);
  Apply({Upsert(NameLink("company/csl-el-2", "company/smic", v1::Link::UNSURE,
                         0.93)),
         Upsert(
             NameLink("company/smic", "company/tsmc", v1::Link::UNSURE, 0.8))});
  v1::ListReviewQueueResponse whole, part;
  ASSERT_TRUE(shard.ReviewQueue({}, &whole).ok());
  ASSERT_TRUE(shard.ReviewQueue({}, &part, /*shard_local=*/true).ok());
  EXPECT_EQ(whole.total_size(), 2);
  ASSERT_EQ(part.total_size(), 1);
  EXPECT_EQ(part.links(0).entity_a(), "company/csl-el-2");
}

}  // namespace
}  // namespace georisk::graphstore
