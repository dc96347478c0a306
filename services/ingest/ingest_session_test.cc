#include "services/ingest/ingest_session.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::ingest {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::domain::testing::WithSource;
using ::georisk::ingest::testing::GraphStoreHarness;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01

class IngestSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake =
        GraphStoreHarness::Create(base::testing::MakeTempDir("session"));
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    client_ = fake_->NewClient();
    options_.batch_size = 100;
    options_.clock = [] { return kNow; };
  }

  // Runs a whole stream of `records`, sent in messages of `per_message`.
  v1::IngestSummary Run(const std::vector<v1::Mutation>& records,
                        v1::IngestOptions ingest_options = {},
                        absl::Status* status = nullptr,
                        size_t per_message = 37) {
    IngestSession session(options_, &metrics_);
    absl::Status s = session.Start(ingest_options);
    BatchApplier applier(client_.get(), {}, &metrics_);
    for (size_t at = 0; s.ok() && at < records.size(); at += per_message) {
      google::protobuf::RepeatedPtrField<v1::Mutation> message;
      for (size_t i = at; i < std::min(records.size(), at + per_message); ++i) {
        *message.Add() = records[i];
      }
      s = session.Add(&message);
      if (s.ok()) s = DrainSession(&session, &applier, &cancel_, false);
    }
    if (s.ok()) s = DrainSession(&session, &applier, &cancel_, true);
    if (s.ok()) s = EndSnapshot(&session, client_.get(), &applier, &cancel_);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
    return session.Finish();
  }

  int64_t LastSequence() { return fake_->store()->LastSequence(); }

  common::MetricsRegistry registry_;
  IngestMetrics metrics_{&registry_};
  std::unique_ptr<GraphStoreHarness> fake_;
  std::unique_ptr<GraphStoreClient> client_;
  SessionOptions options_;
  Cancellation cancel_;
};

std::vector<std::string> Rejections(const v1::IngestSummary& s) {
  std::vector<std::string> out;
  for (const v1::Rejection& r : s.rejections()) {
    out.push_back(
        absl::StrCat(r.record_index(), ":", r.field(), ":", r.reason()));
  }
  return out;
}

TEST_F(IngestSessionTest, GoodRecordsLandAroundBadOnes) {
  std::vector<v1::Mutation> records;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = absl::StrCat("company/c", i);
    if (i % 100 == 7) {
      records.push_back(Upsert(Company(id, "XX")));  // Rejected by ingest.
    } else if (i % 100 == 50) {
      // Rejected by graphstore: the owner does not exist.
      records.push_back(
          Upsert(Owns(absl::StrCat("company/nobody", i), "company/c0", 0.1)));
    } else {
      records.push_back(Upsert(Company(id, " tw ")));
    }
  }
  const v1::IngestSummary s = Run(records);
  EXPECT_EQ(s.received(), 1000);
  EXPECT_EQ(s.accepted(), 980);
  EXPECT_EQ(s.rejected(), 20);
  EXPECT_EQ(s.duplicates(), 0);
  ASSERT_EQ(s.rejections_size(), 20);
  EXPECT_EQ(Rejections(s)[0],
            "7:upsert_entity.country:must be an ISO 3166-1 alpha-2 code, got "
            "\"XX\"");
  EXPECT_THAT(Rejections(s)[1],
              HasSubstr("50:upsert_edge.from_id:entity company/nobody50"));
  EXPECT_EQ(s.last_sequence(), LastSequence());
  absl::StatusOr<v1::Entity> e = fake_->store()->GetEntity("company/c999");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->country(), "TW") << "normalised";
  EXPECT_EQ(metrics_.records_applied->Value(), 980);
  EXPECT_EQ(metrics_.records_rejected->Value(), 20);
  EXPECT_EQ(metrics_.in_flight->Value(), 0);
}

TEST_F(IngestSessionTest, ReplayChangesNothingAndCountsDuplicates) {
  std::vector<v1::Mutation> records;
  for (int i = 0; i < 250; ++i) {
    records.push_back(Upsert(Company(absl::StrCat("company/c", i))));
    if (i % 2) {
      records.back() = WithKey(records.back(), absl::StrCat("key-", i));
    }
  }
  EXPECT_EQ(Run(records).accepted(), 250);
  const int64_t before = LastSequence();
  const v1::IngestSummary again = Run(records);
  EXPECT_EQ(again.accepted(), 0);
  EXPECT_EQ(again.duplicates(), 250);
  EXPECT_EQ(again.last_sequence(), before);
  EXPECT_EQ(LastSequence(), before);
  // A changed record under a key already applied is still a duplicate.
  records[1].mutable_upsert_entity()->set_country("KR");
  EXPECT_EQ(Run({records[1]}).duplicates(), 1);
  EXPECT_EQ(LastSequence(), before);
}

TEST_F(IngestSessionTest, BatchesBySizeAndBytes) {
  options_.batch_size = 10;
  std::vector<v1::Mutation> records;
  for (int i = 0; i < 35; ++i) {
    records.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  }
  Run(records, {}, nullptr, 35);
  EXPECT_THAT(fake_->batch_sizes(), ElementsAre(10, 10, 10, 5));
  options_.max_batch_bytes = 1;  // Every record is a batch of its own.
  Run({Upsert(Company("company/x")), Upsert(Company("company/y"))});
  EXPECT_THAT(fake_->batch_sizes(), ElementsAre(10, 10, 10, 5, 1, 1));
}

TEST_F(IngestSessionTest, DryRunWritesNothing) {
  v1::IngestOptions dry;
  dry.set_dry_run(true);
  const v1::IngestSummary s = Run(
      {Upsert(Company("company/a")), Upsert(Company("company/b", "XX"))}, dry);
  EXPECT_EQ(s.accepted(), 1);
  EXPECT_EQ(s.rejected(), 1);
  EXPECT_EQ(fake_->apply_calls(), 0);
  EXPECT_EQ(LastSequence(), 0);
  EXPECT_EQ(metrics_.records_validated->Value(), 1);
}

TEST_F(IngestSessionTest, OwnershipAboveOneIsAWarningNotARejection) {
  const v1::IngestSummary s =
      Run({Upsert(Company("company/p1")), Upsert(Company("company/p2")),
           Upsert(Company("company/c")),
           Upsert(Owns("company/p1", "company/c", 0.6)),
           Upsert(Owns("company/p2", "company/c", 0.5))});
  EXPECT_EQ(s.accepted(), 5);
  EXPECT_EQ(s.rejected(), 0);
  ASSERT_EQ(s.warnings_size(), 1);
  EXPECT_EQ(s.warnings(0).record_index(), 4);
  EXPECT_EQ(s.warnings(0).field(), "upsert_edge.weight");
  EXPECT_THAT(s.warnings(0).message(),
              HasSubstr("ownership shares into company/c sum to 1.1"));
}

// Three dated records of one owner and asset (zala.entities.ftm.json lines
// 73, 74, 79: 50% ended 2023-03-02, 48% ended 2023-12-21, 51% current, all
// from 2015-11-25): overlapping windows are warnings, and the shares are not
// summed to 149%.
TEST_F(IngestSessionTest, OverlappingDatedOwnershipsAreWarningsNotRejections) {
  auto dated = [](const std::string& record_id, double share,
                  absl::string_view until) {
    v1::Mutation m = Upsert(Owns("company/p1", "company/c", share));
    v1::Edge* e = m.mutable_upsert_edge();
    e->set_record_id(record_id);
    *e->mutable_effective_from() = base::ToProtoTime(
        absl::FromCivil(absl::CivilDay(2015, 11, 25), absl::UTCTimeZone()));
    absl::CivilDay day;
    if (absl::ParseCivilTime(until, &day)) {
      *e->mutable_effective_until() =
          base::ToProtoTime(absl::FromCivil(day, absl::UTCTimeZone()));
    }
    return m;
  };
  const v1::IngestSummary s =
      Run({Upsert(Company("company/p1")), Upsert(Company("company/c")),
           dated("ru-770bdf5f", 0.50, "2023-03-02"),
           dated("ru-7f202fd8", 0.48, "2023-12-21"),
           dated("ru-dfe0a021", 0.51, "")});
  EXPECT_EQ(s.accepted(), 5);
  EXPECT_EQ(s.rejected(), 0);
  ASSERT_EQ(s.warnings_size(), 2);
  EXPECT_EQ(s.warnings(0).record_index(), 3);
  EXPECT_EQ(s.warnings(0).field(), "upsert_edge.effective_from");
  EXPECT_THAT(s.warnings(0).message(),
              HasSubstr("OWNS records \"ru-7f202fd8\" and \"ru-770bdf5f\" of "
                        "company/p1 into company/c are both in effect from "
                        "2015-11-25T00:00:00Z to 2023-03-02T00:00:00Z"));
  EXPECT_EQ(s.warnings(1).record_index(), 4);
  EXPECT_EQ(s.warnings(1).field(), "upsert_edge.effective_from");
}

TEST_F(IngestSessionTest, RejectsUnknownFieldsFromNewerClients) {
  v1::Mutation m = Upsert(Company("company/a"));
  m.mutable_upsert_entity()
      ->GetReflection()
      ->MutableUnknownFields(m.mutable_upsert_entity())
      ->AddVarint(77, 1);
  const v1::IngestSummary s = Run({m});
  EXPECT_THAT(Rejections(s),
              ElementsAre(HasSubstr("0:upsert_entity:has fields unknown")));
}

TEST_F(IngestSessionTest, TooManyRejectionsStopTheStream) {
  options_.max_rejections = 5;
  std::vector<v1::Mutation> records(20, Upsert(Company("company/a", "XX")));
  absl::Status status;
  Run(records, {}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("more than 5 records rejected"));
}

TEST_F(IngestSessionTest, BadOptionsAreInvalidArgument) {
  IngestSession session(options_, nullptr);
  v1::IngestOptions o;
  o.set_snapshot_source(" padded ");
  EXPECT_EQ(session.Start(o).code(), absl::StatusCode::kInvalidArgument);
  o.set_snapshot_source("ok");
  o.set_origin(std::string(200, 'o'));
  EXPECT_EQ(session.Start(o).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IngestSessionTest, SnapshotEndsWhatDisappeared) {
  const std::string source = "trade.gov/csl:EL";
  v1::IngestOptions snapshot;
  snapshot.set_snapshot_source(source);
  v1::Mutation other = Upsert(WithSource(
      Listing("signal/other", "US-BIS", {"company/x"}, 0.8), "elsewhere"));
  v1::Mutation future = Upsert(WithSource(
      Listing("signal/future", "US-BIS", {"company/x"}, 0.8), source));
  *future.mutable_upsert_signal()->mutable_effective_from() =
      base::ToProtoTime(kNow + absl::Hours(24 * 30));
  EXPECT_EQ(
      Run({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                             source)),
           Upsert(WithSource(Listing("signal/b", "US-BIS", {"company/b"}, 0.8),
                             source)),
           Upsert(WithSource(Listing("signal/c", "US-BIS", {"company/c"}, 0.8),
                             source)),
           other, future})
          .accepted(),
      5);

  // b is gone, and so is the future one; c, a stay.
  v1::IngestSummary s =
      Run({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                             source)),
           Upsert(WithSource(Listing("signal/c", "US-BIS", {"company/c"}, 0.8),
                             source))},
          snapshot);
  EXPECT_EQ(s.duplicates(), 2);
  EXPECT_EQ(s.ended(), 2);
  EXPECT_EQ(s.last_sequence(), LastSequence());
  storage::SignalQuery active;
  active.source = source;
  active.active_at = kNow;
  std::vector<std::string> ids;
  absl::StatusOr<storage::SignalPage> page =
      fake_->store()->ListSignals(active);
  ASSERT_TRUE(page.ok());
  for (const v1::Signal& sig : page->signals) {
    ids.push_back(sig.id());
  }
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre("signal/a", "signal/c"));
  absl::StatusOr<storage::SignalPage> all =
      fake_->store()->ListSignals(storage::SignalQuery{});
  int ended_b = 0;
  for (const v1::Signal& sig : all->signals) {
    EXPECT_NE(sig.id(), "signal/future") << "never in effect: deleted";
    if (sig.id() == "signal/b") {
      ++ended_b;
      EXPECT_EQ(base::FromProtoTime(sig.effective_until()), kNow);
    }
    if (sig.id() == "signal/other") {
      EXPECT_FALSE(sig.has_effective_until());
    }
  }
  EXPECT_EQ(ended_b, 1) << "ended, not deleted: history is kept";
  EXPECT_EQ(metrics_.snapshot_ended->Value(), 2);

  // The same snapshot again ends nothing more.
  const int64_t before = LastSequence();
  s = Run({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                             source)),
           Upsert(WithSource(Listing("signal/c", "US-BIS", {"company/c"}, 0.8),
                             source))},
          snapshot);
  EXPECT_EQ(s.ended(), 0);
  EXPECT_EQ(LastSequence(), before);
}

TEST_F(IngestSessionTest, SnapshotDryRunCountsOnly) {
  const std::string source = "s";
  Run({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                         source)),
       Upsert(WithSource(Listing("signal/b", "US-BIS", {"company/b"}, 0.8),
                         source))});
  const int64_t before = LastSequence();
  v1::IngestOptions o;
  o.set_snapshot_source(source);
  o.set_dry_run(true);
  const v1::IngestSummary s =
      Run({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                             source))},
          o);
  EXPECT_EQ(s.ended(), 1);
  EXPECT_EQ(LastSequence(), before);
}

TEST_F(IngestSessionTest, EmptySnapshotEndsNothing) {
  Run({Upsert(
      WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8), "s"))});
  v1::IngestOptions o;
  o.set_snapshot_source("s");
  const v1::IngestSummary s = Run({}, o);
  EXPECT_EQ(s.ended(), 0);
  ASSERT_EQ(s.warnings_size(), 1);
  EXPECT_THAT(s.warnings(0).message(), HasSubstr("empty snapshot"));
}

TEST_F(IngestSessionTest, GraphStoreDownFailsWithWhereToResume) {
  fake_->FailAllApplies(absl::InternalError("disk on fire"));
  absl::Status status;
  Run({Upsert(Company("company/a")), Upsert(Company("company/b", "XX")),
       Upsert(Company("company/c"))},
      {}, &status);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(),
              HasSubstr("disk on fire; records before index 0 were handled"));
}

}  // namespace
}  // namespace georisk::ingest
