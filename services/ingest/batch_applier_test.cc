#include "services/ingest/batch_applier.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::ingest {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::ingest::testing::GraphStoreHarness;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Le;

class BatchApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake =
        GraphStoreHarness::Create(base::testing::MakeTempDir("applier"));
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    client_ = fake_->NewClient();
    options_.initial_backoff = absl::Milliseconds(1);
    options_.max_backoff = absl::Milliseconds(4);
    options_.retry_deadline = absl::Seconds(5);
  }

  BatchResult Apply(std::vector<v1::Mutation> mutations,
                    Cancellation* cancel = nullptr) {
    records_.clear();
    for (size_t i = 0; i < mutations.size(); ++i) {
      records_.push_back({static_cast<int64_t>(i), std::move(mutations[i])});
    }
    BatchApplier applier(client_.get(), options_, &metrics_);
    return applier.Apply(&records_, cancel);
  }

  static std::vector<std::string> Describe(const BatchResult& r) {
    std::vector<std::string> out;
    for (const RecordOutcome& o : r.outcomes) {
      out.push_back(o.rejected()
                        ? absl::StrCat(o.index, ":", o.field, ":", o.reason)
                        : absl::StrCat(o.index, ":",
                                       v1::MutationOutcome_Name(o.outcome)));
    }
    return out;
  }

  common::MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  std::unique_ptr<GraphStoreHarness> fake_;
  std::unique_ptr<GraphStoreClient> client_;
  ApplierOptions options_;
  std::vector<PendingRecord> records_;
};

TEST_F(BatchApplierTest, AppliesAndReportsOutcomes) {
  BatchResult r =
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b"))});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED",
                                       "1:MUTATION_OUTCOME_APPLIED"));
  EXPECT_EQ(r.last_sequence, 1);
  EXPECT_TRUE(records_[0].mutation.has_upsert_entity())
      << "records are given back";
  r = Apply({Upsert(Company("company/a")),
             WithKey(Upsert(Company("company/c")), "k")});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_UNCHANGED",
                                       "1:MUTATION_OUTCOME_APPLIED"));
  r = Apply({WithKey(Upsert(Company("company/c", "KR")), "k")});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_DUPLICATE"));
  EXPECT_EQ(r.last_sequence, 2) << "nothing changed: the last sequence";
}

TEST_F(BatchApplierTest, IsolatesWhatGraphStoreRejectsAndKeepsTheRest) {
  BatchResult r = Apply({
      Upsert(Company("company/a")),
      Upsert(Owns("company/a", "company/missing", 0.5)),
      Upsert(Company("company/b")),
      Upsert(Owns("company/b", "company/gone", 0.5)),
      Upsert(Owns("company/a", "company/b", 0.5)),
  });
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(
      Describe(r),
      ElementsAre("0:MUTATION_OUTCOME_APPLIED",
                  HasSubstr("1:upsert_edge.to_id:entity company/missing"),
                  "2:MUTATION_OUTCOME_APPLIED",
                  HasSubstr("3:upsert_edge.to_id:entity company/gone"),
                  "4:MUTATION_OUTCOME_APPLIED"));
  EXPECT_TRUE(fake_->store()->GetEntity("company/b").ok());
  EXPECT_EQ(fake_->apply_calls(), 1) << "one call, however many are bad";
  EXPECT_EQ(metrics_.batches_invalid->Value(), 1);
}

TEST_F(BatchApplierTest, ManyBadRecordsCostOneCall) {
  // Bisecting or applying around each bad record took one call per bad
  // record (1,000 bad edges: 1,000 calls, 4.4 s).
  std::vector<v1::Mutation> batch = {Upsert(Company("company/a"))};
  for (int i = 0; i < 1000; ++i) {
    batch.push_back(
        Upsert(Owns("company/a", absl::StrCat("company/missing-", i), 0.5)));
  }
  batch.push_back(Upsert(Company("company/b")));
  batch.push_back(
      WithKey(Upsert(Owns("company/a", "company/b", 0.5)), "edge-key"));
  BatchResult r = Apply(std::move(batch));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(fake_->apply_calls(), 1);
  ASSERT_EQ(r.outcomes.size(), 1003u);
  EXPECT_EQ(r.outcomes[0].outcome, v1::MUTATION_OUTCOME_APPLIED);
  for (int i = 1; i <= 1000; ++i) {
    EXPECT_EQ(r.outcomes[i].field, "upsert_edge.to_id") << i;
    EXPECT_EQ(r.outcomes[i].reason,
              absl::StrCat("entity company/missing-", i - 1, " does not exist"))
        << i;
  }
  EXPECT_EQ(r.outcomes[1001].outcome, v1::MUTATION_OUTCOME_APPLIED);
  EXPECT_EQ(r.outcomes[1002].outcome, v1::MUTATION_OUTCOME_APPLIED);
  EXPECT_EQ(r.last_sequence, 1) << "the good records in one commit";
  // The good edge's key was recorded; the rejected records' were not.
  r = Apply({WithKey(Upsert(Owns("company/a", "company/b", 0.5)), "edge-key")});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_DUPLICATE"));
}

TEST_F(BatchApplierTest, ARejectedRecordsKeyIsNotSpent) {
  BatchResult r =
      Apply({WithKey(Upsert(Owns("company/a", "company/b", 0.5)), "k")});
  EXPECT_THAT(Describe(r), ElementsAre(HasSubstr("0:upsert_edge.from_id:")));
  r = Apply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             WithKey(Upsert(Owns("company/a", "company/b", 0.5)), "k")});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED",
                                       "1:MUTATION_OUTCOME_APPLIED",
                                       "2:MUTATION_OUTCOME_APPLIED"));
}

TEST_F(BatchApplierTest, KeepsOrderAcrossTheSplit) {
  // The first edge comes before its endpoint; the second after it.
  BatchResult r = Apply({Upsert(Company("company/x")),
                         Upsert(Owns("company/x", "company/y", 0.5)),
                         Upsert(Company("company/y")),
                         Upsert(Owns("company/x", "company/y", 0.6))});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED",
                                       HasSubstr("1:upsert_edge.to_id:"),
                                       "2:MUTATION_OUTCOME_APPLIED",
                                       "3:MUTATION_OUTCOME_APPLIED"));
}

TEST_F(BatchApplierTest, AnInvalidBatchIsAnErrorNotABisection) {
  // With reject_invalid GraphStore answers INVALID_ARGUMENT only for the
  // request as a whole: nothing to isolate, one call.
  fake_->FailAllApplies(absl::InvalidArgumentError("mutations: bad request"));
  BatchResult r =
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")), Upsert(Company("company/d"))});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->apply_calls(), 1);
}

TEST_F(BatchApplierTest, SplitsBatchesTooLargeForTheServer) {
  fake_->SetMaxBatch(2);
  BatchResult r =
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b")),
             Upsert(Company("company/c")), Upsert(Company("company/d")),
             Upsert(Company("company/e"))});
  ASSERT_TRUE(r.status.ok());
  EXPECT_THAT(Describe(r), Each(HasSubstr("APPLIED")));
  EXPECT_THAT(fake_->batch_sizes(), ElementsAre(5, 2, 3, 1, 2));
}

TEST_F(BatchApplierTest, RetriesUnavailableAndDeadlineExceeded) {
  fake_->FailNextApplies(2, absl::UnavailableError("graphstore restarting"));
  BatchResult r = Apply({Upsert(Company("company/a"))});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED"));
  fake_->FailNextApplies(1, absl::DeadlineExceededError("slow"));
  r = Apply({Upsert(Company("company/b"))});
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_APPLIED"));
  EXPECT_EQ(metrics_.retries->Value(), 3);
  EXPECT_EQ(fake_->apply_calls(), 5);
}

TEST_F(BatchApplierTest, GivesUpAfterTheRetryDeadline) {
  options_.retry_deadline = absl::Milliseconds(100);
  fake_->FailAllApplies(absl::UnavailableError("connection refused"));
  const absl::Time start = absl::Now();
  BatchResult r =
      Apply({Upsert(Company("company/a")), Upsert(Company("company/b"))});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status.message(),
              HasSubstr("graphstore unavailable for 100ms (last error: "
                        "UNAVAILABLE: connection refused)"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_THAT(Describe(r), ElementsAre("0:MUTATION_OUTCOME_UNSPECIFIED",
                                       "1:MUTATION_OUTCOME_UNSPECIFIED"));
  EXPECT_GT(fake_->apply_calls(), 3);
}

TEST_F(BatchApplierTest, AProbeConfirmsUnreachableAndFailsFast) {
  options_.retry_deadline = absl::Seconds(60);
  options_.unreachable_probe = absl::Milliseconds(10);
  fake_->FailAllApplies(absl::UnavailableError("connection refused"));
  const absl::Time start = absl::Now();
  BatchResult r = Apply({Upsert(Company("company/a"))});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status.message(), HasSubstr("graphstore is unreachable"));
  EXPECT_EQ(fake_->apply_calls(), 2) << "the call and one probe";
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A graphstore back by the probe is used.
  fake_->FailAllApplies(absl::OkStatus());
  fake_->FailNextApplies(1, absl::UnavailableError("restarting"));
  r = Apply({Upsert(Company("company/b"))});
  EXPECT_TRUE(r.status.ok()) << r.status;
}

TEST_F(BatchApplierTest, EachCallHasADeadline) {
  options_.call_deadline = absl::Milliseconds(20);
  options_.retry_deadline = absl::Milliseconds(200);
  fake_->SetApplyDelay(absl::Seconds(10));
  const absl::Time start = absl::Now();
  BatchResult r = Apply({Upsert(Company("company/a"))});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status.message(), HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(BatchApplierTest, OtherErrorsStopAtOnce) {
  fake_->FailAllApplies(absl::InternalError("disk on fire"));
  BatchResult r = Apply({Upsert(Company("company/a"))});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(fake_->apply_calls(), 1);
  EXPECT_EQ(metrics_.retries->Value(), 0);
}

TEST_F(BatchApplierTest, CancellationCutsTheBackoffShort) {
  options_.retry_deadline = absl::Seconds(60);
  options_.max_backoff = absl::Seconds(10);
  fake_->FailAllApplies(absl::UnavailableError("down"));
  Cancellation cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(100));
    cancel.Cancel();
  });
  const absl::Time start = absl::Now();
  BatchResult r = Apply({Upsert(Company("company/a"))}, &cancel);
  canceller.join();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace georisk::ingest
