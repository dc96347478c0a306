#include "services/ingest/import_resolver.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/resolution_client.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::ingest {
namespace {

using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Upsert;
using ::georisk::ingest::testing::GraphStoreHarness;
using ::georisk::ingest::testing::HarnessOptions;
using ::testing::HasSubstr;

// Huawei's LEI (ISO 17442 check digits valid), from docs/resolution.md.
constexpr char kHuaweiLei[] = "506700GE1G29325QX363";
const absl::Time kNow = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01

v1::Mutation Company(const std::string& slug, const std::string& name,
                     const std::string& country, const std::string& lei = "",
                     const std::string& source = "test") {
  return Upsert(NamedCompany("company/" + slug, name, country, lei, source));
}

// The team's graph, then a list naming two of its parties under its own
// ids: one by a shared LEI, one by a name variant only, and a party the
// graph does not have.
std::vector<PendingRecord> ListBatch() {
  std::vector<PendingRecord> batch;
  int64_t index = 0;
  for (v1::Mutation m :
       {Company("csl-1", "HUAWEI TECHNOLOGIES CO LTD", "CN", kHuaweiLei,
                "trade.gov/csl"),
        Company("csl-2", "Taiwan Semiconductor Manufacturing Company Limited",
                "TW", "", "trade.gov/csl"),
        Company("csl-3", "Zorblat Quixotic Widgetry GmbH", "DE", "",
                "trade.gov/csl")}) {
    batch.push_back({index++, std::move(m)});
  }
  return batch;
}

// A Resolution that always fails, counting its calls.
class FailingResolution final : public ResolutionClient {
 public:
  explicit FailingResolution(absl::Status status)
      : status_(std::move(status)) {}
  absl::StatusOr<v1::MatchEntitiesResponse> MatchEntities(
      const v1::MatchEntitiesRequest&, absl::Time, Cancellation*) override {
    ++calls;
    return status_;
  }
  std::atomic<int> calls{0};

 private:
  const absl::Status status_;
};

class ImportResolverTest : public ::testing::Test {
 protected:
  void Start(bool resolution) {
    auto fake = GraphStoreHarness::Create(
        base::testing::MakeTempDir("resolver"), HarnessOptions{resolution});
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    client_ = fake_->NewClient();
    applier_ = std::make_unique<BatchApplier>(client_.get(), ApplierOptions(),
                                              &metrics_);
    std::vector<PendingRecord> graph = {
        {0, Company("huawei", "Huawei Technologies Co., Ltd.", "CN", kHuaweiLei,
                    "team")},
        {1, Company("tsmc", "Taiwan Semiconductor Manufacturing Co., Ltd.",
                    "TW", "", "team")}};
    BatchResult r = applier_->Apply(&graph, nullptr);
    ASSERT_TRUE(r.status.ok()) << r.status;
  }

  // Applies `batch` as ingest does, then resolves it.
  ResolveResult ApplyAndResolve(std::vector<PendingRecord> batch,
                                ResolutionClient* resolution) {
    const BatchResult applied = applier_->Apply(&batch, nullptr);
    EXPECT_TRUE(applied.status.ok()) << applied.status;
    ResolverOptions options;
    options.clock = [] { return kNow; };
    ImportResolver resolver(resolution, options);
    return resolver.Resolve(batch, applied, "ingest", applier_.get(), nullptr);
  }

  absl::Status Review(const std::string& a, const std::string& b, bool accept) {
    v1::ReviewLinkRequest request;
    request.mutable_link()->set_entity_a(a);
    request.mutable_link()->set_entity_b(b);
    request.set_decision(accept ? v1::ReviewLinkRequest::ACCEPT
                                : v1::ReviewLinkRequest::REJECT);
    request.set_reason("checked the register");
    request.set_reviewer("ana");
    v1::ReviewLinkResponse response;
    return fake_->resolution()->Review(request, "", &response);
  }

  common::MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  std::unique_ptr<GraphStoreHarness> fake_;
  std::unique_ptr<GraphStoreClient> client_;
  std::unique_ptr<BatchApplier> applier_;
};

TEST_F(ImportResolverTest, IdentifierLinksNameWaitsNewPartyIsNew) {
  Start(/*resolution=*/true);
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  const ResolveResult r = ApplyAndResolve(ListBatch(), resolution.get());
  EXPECT_EQ(r.tally.linked_automatically(), 1);
  EXPECT_EQ(r.tally.waiting_for_review(), 1);
  EXPECT_EQ(r.tally.new_parties(), 1);
  EXPECT_EQ(r.tally.not_resolved(), 0) << r.tally.not_resolved_reason();
  EXPECT_EQ(r.tally.kept_refused(), 0);
  EXPECT_EQ(r.tally.links_written(), 2);
  EXPECT_EQ(r.last_sequence, fake_->store()->LastSequence());

  absl::StatusOr<v1::Link> positive =
      fake_->store()->GetLink("company/huawei", "company/csl-1");
  ASSERT_TRUE(positive.ok()) << positive.status();
  EXPECT_EQ(positive->judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(positive->method(), v1::Link::IDENTIFIER);
  EXPECT_EQ(positive->decided_by(), "rule:identifier");
  EXPECT_EQ(positive->source(), "trade.gov/csl");
  EXPECT_EQ(positive->decided_at().seconds(), absl::ToUnixSeconds(kNow));
  EXPECT_DOUBLE_EQ(positive->features().at("identifier"), 1.0);
  ASSERT_GE(positive->evidence_size(), 1);
  EXPECT_THAT(positive->evidence(0), HasSubstr(kHuaweiLei));

  absl::StatusOr<v1::Link> unsure =
      fake_->store()->GetLink("company/tsmc", "company/csl-2");
  ASSERT_TRUE(unsure.ok()) << unsure.status();
  EXPECT_EQ(unsure->judgement(), v1::Link::UNSURE);
  EXPECT_EQ(unsure->method(), v1::Link::NAME);
  EXPECT_EQ(unsure->decided_by(), "rule:name");
  EXPECT_GE(unsure->score(), 0.7);

  // The new party has no link at all.
  storage::LinkQuery query;
  query.entity_id = "company/csl-3";
  absl::StatusOr<storage::LinkPage> none = fake_->store()->ListLinks(query);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->links.empty());
}

TEST_F(ImportResolverTest, ReimportKeepsARefusalAndWritesNothingTwice) {
  Start(/*resolution=*/true);
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  ApplyAndResolve(ListBatch(), resolution.get());
  ASSERT_TRUE(Review("company/tsmc", "company/csl-2", /*accept=*/false).ok());
  const int64_t before = fake_->store()->LastSequence();

  const ResolveResult again = ApplyAndResolve(ListBatch(), resolution.get());
  EXPECT_EQ(again.tally.linked_automatically(), 1);  // Still linked.
  EXPECT_EQ(again.tally.kept_refused(), 1);
  EXPECT_EQ(again.tally.waiting_for_review(), 0);
  EXPECT_EQ(again.tally.new_parties(), 1);
  EXPECT_EQ(again.tally.links_written(), 0);
  EXPECT_EQ(again.last_sequence, 0);
  // The records came back unchanged and no link was written: no commit.
  EXPECT_EQ(fake_->store()->LastSequence(), before);
  absl::StatusOr<v1::Link> refused =
      fake_->store()->GetLink("company/csl-2", "company/tsmc");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->judgement(), v1::Link::NEGATIVE);
  EXPECT_EQ(refused->decided_by(), "reviewer:ana");
}

TEST_F(ImportResolverTest, AReviewersAcceptanceCountsAsAlreadyLinked) {
  Start(/*resolution=*/true);
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  ApplyAndResolve(ListBatch(), resolution.get());
  ASSERT_TRUE(Review("company/tsmc", "company/csl-2", /*accept=*/true).ok());
  const ResolveResult again = ApplyAndResolve(ListBatch(), resolution.get());
  EXPECT_EQ(again.tally.already_linked(), 1);
  EXPECT_EQ(again.tally.waiting_for_review(), 0);
  EXPECT_EQ(again.tally.links_written(), 0);
  absl::StatusOr<v1::Link> accepted =
      fake_->store()->GetLink("company/csl-2", "company/tsmc");
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(accepted->decided_by(), "reviewer:ana");
}

TEST_F(ImportResolverTest, WithoutResolutionNothingIsResolvedAndRecordsStay) {
  Start(/*resolution=*/false);  // graphstore --noresolution: UNIMPLEMENTED.
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  const ResolveResult r = ApplyAndResolve(ListBatch(), resolution.get());
  EXPECT_EQ(r.tally.not_resolved(), 3);
  EXPECT_THAT(r.tally.not_resolved_reason(), HasSubstr("UNIMPLEMENTED"));
  EXPECT_THAT(r.tally.not_resolved_reason(), HasSubstr("--resolution"));
  EXPECT_EQ(r.tally.linked_automatically() + r.tally.waiting_for_review() +
                r.tally.new_parties(),
            0);
  EXPECT_TRUE(fake_->store()->GetEntity("company/csl-1").ok());
}

TEST_F(ImportResolverTest, AnUnavailableIndexStopsTheBatchAfterOneCall) {
  Start(/*resolution=*/false);
  FailingResolution down(
      absl::UnavailableError("the resolution index is loading"));
  const ResolveResult r = ApplyAndResolve(ListBatch(), &down);
  EXPECT_EQ(down.calls.load(), 1);
  EXPECT_EQ(r.tally.not_resolved(), 3);
  EXPECT_EQ(r.tally.not_resolved_reason(),
            "Resolution.MatchEntities: UNAVAILABLE: the resolution index is "
            "loading");
}

TEST_F(ImportResolverTest, AMatchRefusingOneRecordResolvesTheOthers) {
  Start(/*resolution=*/true);
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  std::vector<PendingRecord> batch = ListBatch();
  // More aliases than a match query takes (64): the entity is valid, the
  // query is not.
  v1::Entity* big = batch[2].mutation.mutable_upsert_entity();
  for (int i = 0; i < 65; ++i) big->add_aliases("Alias " + std::to_string(i));
  const ResolveResult r = ApplyAndResolve(std::move(batch), resolution.get());
  ASSERT_TRUE(fake_->store()->GetEntity("company/csl-3").ok());
  EXPECT_EQ(r.tally.not_resolved(), 1);
  EXPECT_THAT(r.tally.not_resolved_reason(),
              HasSubstr("INVALID_ARGUMENT: query.aliases"));
  EXPECT_EQ(r.tally.linked_automatically(), 1);
  EXPECT_EQ(r.tally.waiting_for_review(), 1);
}

TEST_F(ImportResolverTest, RejectedAndUnacknowledgedRecordsAreNotResolved) {
  Start(/*resolution=*/true);
  std::unique_ptr<ResolutionClient> resolution = fake_->NewResolutionClient();
  std::vector<PendingRecord> batch = ListBatch();
  BatchResult result;
  result.outcomes.resize(3);
  result.outcomes[0].outcome = v1::MUTATION_OUTCOME_APPLIED;
  result.outcomes[1].reason = "rejected by graphstore";  // Rejected.
  // outcomes[2]: not attempted.
  applier_->Apply(&batch, nullptr);  // So that csl-1 exists.
  ImportResolver resolver(resolution.get(), {});
  const ResolveResult r =
      resolver.Resolve(batch, result, "ingest", applier_.get(), nullptr);
  EXPECT_EQ(r.tally.linked_automatically(), 1);
  EXPECT_EQ(r.tally.waiting_for_review() + r.tally.new_parties() +
                r.tally.not_resolved(),
            0);
}

TEST(AddResolutionTest, AddsCountsAndKeepsTheFirstReason) {
  v1::ImportResolution total;
  v1::ImportResolution a;
  a.set_linked_automatically(1);
  a.set_not_resolved(2);
  a.set_not_resolved_reason("first");
  a.set_links_written(3);
  v1::ImportResolution b;
  b.set_waiting_for_review(4);
  b.set_kept_refused(5);
  b.set_new_parties(6);
  b.set_already_linked(7);
  b.set_not_resolved(1);
  b.set_not_resolved_reason("second");
  AddResolution(a, &total);
  AddResolution(b, &total);
  EXPECT_EQ(total.linked_automatically(), 1);
  EXPECT_EQ(total.waiting_for_review(), 4);
  EXPECT_EQ(total.kept_refused(), 5);
  EXPECT_EQ(total.new_parties(), 6);
  EXPECT_EQ(total.already_linked(), 7);
  EXPECT_EQ(total.not_resolved(), 3);
  EXPECT_EQ(total.not_resolved_reason(), "first");
  EXPECT_EQ(total.links_written(), 3);
}

}  // namespace
}  // namespace georisk::ingest
