#include "domain/record_validation.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "base/proto_time.h"

namespace georisk::domain {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

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
  EXPECT_EQ(tracker.Add(Owns("company/p1", "company/c", 0.5)), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p2", "company/c", 0.3)), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p3", "company/c", 0.2)), std::nullopt)
      << "0.5 + 0.3 + 0.2 is 1.0 within rounding";
  EXPECT_THAT(tracker.Add(Owns("company/p4", "company/c", 0.1)),
              Optional(HasSubstr("into company/c sum to 1.1")));
  EXPECT_EQ(tracker.Add(Owns("company/p5", "company/c", 0.1)), std::nullopt);
}

TEST(OwnershipTrackerTest, ReplacedAndDeletedEdgesDoNotDoubleCount) {
  OwnershipTracker tracker(absl::Now());
  EXPECT_EQ(tracker.Add(Owns("company/p1", "company/c", 0.6)), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p1", "company/c", 0.7)), std::nullopt);
  v1::Mutation del;
  del.mutable_delete_edge()->set_from_id("company/p1");
  del.mutable_delete_edge()->set_to_id("company/c");
  del.mutable_delete_edge()->set_kind(v1::Edge::OWNS);
  EXPECT_EQ(tracker.Add(del), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p2", "company/c", 0.9)), std::nullopt);
}

TEST(OwnershipTrackerTest, EndedOwnershipsDoNotCount) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  OwnershipTracker tracker(now);
  v1::Mutation ended = Owns("company/p1", "company/c", 0.9);
  *ended.mutable_upsert_edge()->mutable_effective_until() =
      base::ToProtoTime(now - absl::Hours(1));
  EXPECT_EQ(tracker.Add(ended), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p2", "company/c", 0.9)), std::nullopt);
}

TEST(OwnershipTrackerTest, StopsAtItsBound) {
  OwnershipTracker tracker(absl::Now(), /*max_edges=*/2);
  EXPECT_EQ(tracker.Add(Owns("company/p1", "company/a", 0.1)), std::nullopt);
  EXPECT_EQ(tracker.Add(Owns("company/p2", "company/b", 0.1)), std::nullopt);
  EXPECT_THAT(tracker.Add(Owns("company/p3", "company/c", 0.1)),
              Optional(HasSubstr("ownership check stopped after 2 edges")));
  EXPECT_EQ(tracker.Add(Owns("company/p4", "company/d", 0.1)), std::nullopt);
}

}  // namespace
}  // namespace georisk::domain
