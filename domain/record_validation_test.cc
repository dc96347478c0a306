#include "domain/record_validation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

}  // namespace

void PrintTo(const OwnershipWarning& w, std::ostream* os) {
  *os << w.field << ": " << w.message;
}

namespace {

// One warning whose message matches `m`.
template <typename M>
auto Warns(M m) {
  return ElementsAre(Field(&OwnershipWarning::message, m));
}

v1::Mutation Text(const std::string& text) {
  v1::Mutation m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

v1::Mutation Owns(const std::string& from, const std::string& to, double w) {
  v1::Mutation m;
  v1::Edge* e = m.mutable_upsert_edge();
  e->set_from_id(from);
  e->set_to_id(to);
  e->set_kind(v1::Edge::OWNS);
  e->set_weight(w);
  e->set_source("test");
  return m;
}

constexpr char kCompany[] =
    R"(upsert_entity { id: "company/a" kind: COMPANY name: "A" country: "TW"
       source: "s" })";

TEST(ValidateRecordTest, AcceptsAGoodRecord) {
  EXPECT_TRUE(ValidateRecord(Text(kCompany), {}).ok());
}

struct Case {
  const char* name;
  v1::Mutation record;
  std::string field;
  std::string reason;
};

class ValidateRecordTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateRecordTableTest, RejectsWithFieldAndReason) {
  const absl::Status s = ValidateRecord(GetParam().record, {});
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  const FieldError e = SplitFieldError(s.message());
  EXPECT_EQ(e.field, GetParam().field);
  EXPECT_THAT(e.reason, HasSubstr(GetParam().reason));
}

v1::Mutation WithWeight(double w) { return Owns("company/a", "company/b", w); }

v1::Mutation BadWindow() {
  v1::Mutation m = WithWeight(0.5);
  *m.mutable_upsert_edge()->mutable_effective_from() =
      base::ToProtoTime(absl::FromUnixSeconds(2000));
  *m.mutable_upsert_edge()->mutable_effective_until() =
      base::ToProtoTime(absl::FromUnixSeconds(1000));
  return m;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateRecordTableTest,
    ::testing::Values(
        Case{"nan_share", WithWeight(std::nan("")), "upsert_edge.weight",
             "must be in [0, 1], got nan"},
        Case{"negative_share", WithWeight(-0.2), "upsert_edge.weight",
             "must be in [0, 1], got -0.2"},
        Case{"infinite_share",
             WithWeight(std::numeric_limits<double>::infinity()),
             "upsert_edge.weight", "must be in [0, 1]"},
        Case{"until_before_from", BadWindow(), "upsert_edge.effective_until",
             "must be after effective_from"},
        Case{"unknown_enum",
             Text(R"(upsert_entity { id: "company/a" kind: 7 name: "A"
                     country: "TW" source: "s" })"),
             "upsert_entity.kind", "unknown entity kind 7"},
        Case{"bad_country",
             Text(R"(upsert_entity { id: "company/a" kind: COMPANY name: "A"
                     country: "XX" source: "s" })"),
             "upsert_entity.country", "ISO 3166-1 alpha-2"},
        Case{"empty", v1::Mutation(), "kind", "one of upsert_entity"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(ValidateRecordTest, BoundsTheEncodedSize) {
  v1::Mutation m = Text(kCompany);
  for (int i = 0; i < 100; ++i) {
    m.mutable_upsert_entity()->add_aliases(std::string(100, 'a'));
  }
  RecordLimits limits;
  limits.max_record_bytes = 4096;
  const absl::Status s = ValidateRecord(m, limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bytes encoded, more than 4096"));
  EXPECT_EQ(SplitFieldError(s.message()).field, "");
}

TEST(ValidateRecordTest, RejectsUnknownFieldsWhenAsked) {
  v1::Mutation m = Text(kCompany);
  // Field 99 of Entity, as a newer client would send it.
  m.mutable_upsert_entity()
      ->GetReflection()
      ->MutableUnknownFields(m.mutable_upsert_entity())
      ->AddVarint(99, 1);
  EXPECT_TRUE(ValidateRecord(m, {}).ok());
  RecordLimits limits;
  limits.reject_unknown_fields = true;
  const absl::Status s = ValidateRecord(m, limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitFieldError(s.message()).field, "upsert_entity");
}

TEST(SplitFieldErrorTest, Shapes) {
  FieldError e = SplitFieldError("upsert_edge.weight: must be in [0, 1]");
  EXPECT_EQ(e.field, "upsert_edge.weight");
  EXPECT_EQ(e.reason, "must be in [0, 1]");
  e = SplitFieldError("record is 5 bytes: too big");
  EXPECT_EQ(e.field, "");
  EXPECT_EQ(e.reason, "record is 5 bytes: too big");
}

TEST(OwnershipTrackerTest, WarnsOnceWhenSharesExceedOne) {
  OwnershipTracker tracker(absl::Now());
  EXPECT_THAT(tracker.Add(Owns("company/p1", "company/c", 0.5)), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p2", "company/c", 0.3)), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p3", "company/c", 0.2)), IsEmpty())
      << "0.5 + 0.3 + 0.2 is 1.0 within rounding";
  EXPECT_THAT(tracker.Add(Owns("company/p4", "company/c", 0.1)),
              Warns(HasSubstr("into company/c sum to 1.1")));
  EXPECT_THAT(tracker.Add(Owns("company/p5", "company/c", 0.1)), IsEmpty());
}

TEST(OwnershipTrackerTest, ReplacedAndDeletedEdgesDoNotDoubleCount) {
  OwnershipTracker tracker(absl::Now());
  EXPECT_THAT(tracker.Add(Owns("company/p1", "company/c", 0.6)), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p1", "company/c", 0.7)), IsEmpty());
  v1::Mutation del;
  del.mutable_delete_edge()->set_from_id("company/p1");
  del.mutable_delete_edge()->set_to_id("company/c");
  del.mutable_delete_edge()->set_kind(v1::Edge::OWNS);
  EXPECT_THAT(tracker.Add(del), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p2", "company/c", 0.9)), IsEmpty());
}

TEST(OwnershipTrackerTest, EndedOwnershipsDoNotCount) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  OwnershipTracker tracker(now);
  v1::Mutation ended = Owns("company/p1", "company/c", 0.9);
  *ended.mutable_upsert_edge()->mutable_effective_until() =
      base::ToProtoTime(now - absl::Hours(1));
  EXPECT_THAT(tracker.Add(ended), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p2", "company/c", 0.9)), IsEmpty());
}

TEST(OwnershipTrackerTest, StopsAtItsBound) {
  OwnershipTracker tracker(absl::Now(), /*max_edges=*/2);
  EXPECT_THAT(tracker.Add(Owns("company/p1", "company/a", 0.1)), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p2", "company/b", 0.1)), IsEmpty());
  EXPECT_THAT(tracker.Add(Owns("company/p3", "company/c", 0.1)),
              Warns(HasSubstr("ownership check stopped after 2 edges")));
  EXPECT_THAT(tracker.Add(Owns("company/p4", "company/d", 0.1)), IsEmpty());
}

// The real records of tests/data/real/ftm/zala.entities.ftm.json lines 73,
// 74 and 79: one owner, one asset, all from 2015-11-25.
v1::Mutation Dated(const std::string& record_id, double share,
                   const std::string& from, const std::string& until) {
  v1::Mutation m = Owns("person/zakharov", "company/llc-cst", share);
  v1::Edge* e = m.mutable_upsert_edge();
  e->set_record_id(record_id);
  auto day = [](const std::string& date) {
    google::protobuf::Timestamp t;
    EXPECT_TRUE(
        google::protobuf::util::TimeUtil::FromString(date + "T00:00:00Z", &t));
    return t;
  };
  if (!from.empty()) *e->mutable_effective_from() = day(from);
  if (!until.empty()) *e->mutable_effective_until() = day(until);
  return m;
}

std::vector<v1::Mutation> ZalaRecords() {
  return {Dated("ru-770bdf5f", 0.50, "2015-11-25", "2023-03-02"),
          Dated("ru-7f202fd8", 0.48, "2015-11-25", "2023-12-21"),
          Dated("ru-dfe0a021", 0.51, "2015-11-25", "")};
}

absl::Time Date(const std::string& date) {
  absl::Time t;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d", date, &t, nullptr));
  return t;
}

TEST(OwnershipTrackerTest, DatedRecordsOfOneOwnerAreNeverSummed) {
  // Whatever the order and whatever "now" (inside every window, or after
  // two of them ended), 50% + 48% + 51% is not 149%: one owner counts once.
  for (const char* now : {"2020-01-01", "2026-01-01"}) {
    for (bool reversed : {false, true}) {
      SCOPED_TRACE(absl::StrCat(now, reversed ? " reversed" : ""));
      OwnershipTracker tracker(Date(now));
      std::vector<v1::Mutation> records = ZalaRecords();
      if (reversed) std::reverse(records.begin(), records.end());
      for (const v1::Mutation& m : records) {
        for (const OwnershipWarning& w : tracker.Add(m)) {
          EXPECT_EQ(w.field, "upsert_edge.effective_from") << w.message;
        }
      }
      // A second owner's 49% (line 69: JSC Kalashnikov Concern) fits beside
      // the 51% in effect.
      EXPECT_THAT(
          tracker.Add(Owns("company/kalashnikov", "company/llc-cst", 0.49)),
          IsEmpty());
    }
  }
}

TEST(OwnershipTrackerTest, OverlappingRecordsOfOnePairAreAWarning) {
  OwnershipTracker tracker(Date("2026-01-01"));
  const std::vector<v1::Mutation> records = ZalaRecords();
  EXPECT_THAT(tracker.Add(records[0]), IsEmpty());
  EXPECT_THAT(
      tracker.Add(records[1]),
      ElementsAre(OwnershipWarning{
          "upsert_edge.effective_from",
          "OWNS records \"ru-7f202fd8\" and \"ru-770bdf5f\" of "
          "person/zakharov into company/llc-cst are both in effect from "
          "2015-11-25T00:00:00Z to 2023-03-02T00:00:00Z: both are kept; "
          "where they overlap the one whose window started last counts, "
          "then the greatest record_id"}));
  EXPECT_THAT(
      tracker.Add(records[2]),
      ElementsAre(Field(&OwnershipWarning::message,
                        HasSubstr("\"ru-dfe0a021\" and \"ru-770bdf5f\""))));
  // The same record again replaces itself: no overlap with itself.
  EXPECT_THAT(
      tracker.Add(records[0]),
      ElementsAre(Field(&OwnershipWarning::message,
                        HasSubstr("\"ru-770bdf5f\" and \"ru-7f202fd8\""))));
  // Windows that follow each other do not overlap (until is exclusive).
  OwnershipTracker successive(Date("2026-01-01"));
  EXPECT_THAT(successive.Add(Dated("a", 0.5, "2010-01-01", "2015-01-01")),
              IsEmpty());
  EXPECT_THAT(successive.Add(Dated("b", 0.6, "2015-01-01", "")), IsEmpty());
  // Another owner's record of the same company is no overlap.
  EXPECT_THAT(successive.Add(Owns("company/other", "company/llc-cst", 0.4)),
              IsEmpty());
}

TEST(OwnershipTrackerTest, SharesInEffectAtTheSameTimeAreSummed) {
  // Two owners' ended records that were in effect together still exceed 1.0.
  OwnershipTracker tracker(Date("2026-01-01"));
  v1::Mutation a = Dated("", 0.6, "2010-01-01", "2020-01-01");
  v1::Mutation b = Dated("", 0.6, "2015-01-01", "2022-01-01");
  b.mutable_upsert_edge()->set_from_id("company/b");
  EXPECT_THAT(tracker.Add(a), IsEmpty());
  EXPECT_THAT(tracker.Add(b),
              Warns("ownership shares into company/llc-cst sum to 1.2, more "
                    "than 1.0, in this stream (records in effect at "
                    "2015-01-01T00:00:00Z)"));
  // Records that never overlap in time do not add up.
  OwnershipTracker apart(Date("2026-01-01"));
  v1::Mutation c = Dated("", 0.9, "2016-01-01", "");
  c.mutable_upsert_edge()->set_from_id("company/c");
  EXPECT_THAT(apart.Add(Dated("", 0.9, "2010-01-01", "2016-01-01")), IsEmpty());
  EXPECT_THAT(apart.Add(c), IsEmpty());
}

TEST(OwnershipTrackerTest, AnOwnersOlderRecordCountsAgainWhenTheNewerEnds) {
  // Owner p: 60% from 2010, and 30% from 2015 to 2020 (counted instead while
  // in effect); owner q: 50% from 2016. From 2020, 60% + 50%.
  OwnershipTracker tracker(Date("2018-01-01"));
  v1::Mutation p60 = Dated("p60", 0.6, "2010-01-01", "");
  v1::Mutation p30 = Dated("p30", 0.3, "2015-01-01", "2020-01-01");
  v1::Mutation q50 = Dated("", 0.5, "2016-01-01", "");
  q50.mutable_upsert_edge()->set_from_id("company/q");
  EXPECT_THAT(tracker.Add(p60), IsEmpty());
  EXPECT_EQ(tracker.Add(p30).size(), 1u);  // The overlap of p's records.
  EXPECT_THAT(tracker.Add(q50),
              Warns(HasSubstr("sum to 1.1, more than 1.0, in this stream "
                              "(records in effect at 2020-01-01T00:00:00Z)")));
}

TEST(OwnershipTrackerTest, DeletesNameOneRecord) {
  OwnershipTracker tracker(Date("2020-01-01"));
  v1::Mutation r1 = Dated("r1", 0.7, "", "");
  v1::Mutation r2 = Dated("r2", 0.7, "2019-01-01", "");
  v1::Mutation other = Owns("company/o", "company/llc-cst", 0.4);
  EXPECT_THAT(tracker.Add(r1), IsEmpty());
  v1::Mutation del;
  del.mutable_delete_edge()->set_from_id("person/zakharov");
  del.mutable_delete_edge()->set_to_id("company/llc-cst");
  del.mutable_delete_edge()->set_kind(v1::Edge::OWNS);
  del.mutable_delete_edge()->set_record_id("r1");
  EXPECT_THAT(tracker.Add(del), IsEmpty());
  EXPECT_THAT(tracker.Add(r2), IsEmpty()) << "r1 is gone: no overlap";
  EXPECT_THAT(tracker.Add(other), Warns(HasSubstr("sum to 1.1")));
}

}  // namespace
}  // namespace georisk::domain
