#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/ingest/parser_test_util.h"

namespace georisk::ingest {
namespace {

using ::georisk::ingest::testing::DescribeAll;
using ::georisk::ingest::testing::ParseAll;
using ::georisk::ingest::testing::RejectCase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kEntity[] =
    R"({"upsert_entity": {"id": "company/tsmc", "kind": "COMPANY",)"
    R"( "name": " TSMC ", "country": "tw", "source": "https://tsmc.com"},)"
    R"( "idempotency_key": "k1"})";

TEST(JsonlParserTest, ParsesNormalisesAndKeepsTheKey) {
  auto records = ParseAll(
      Format::kJsonl,
      std::string(kEntity) + "\n\n" +
          R"({"upsertEdge": {"fromId": "company/a", "toId": "company/b", )"
          R"("kind": "SUPPLIES", "weight": 0.4, "productCode": "8542.31", )"
          R"("effectiveFrom": "2025-01-01T00:00:00Z", "source": "s"}})"
          "\r\n"
          R"({"delete_signal_id": "signal/x"})");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1", "3:ok:1", "4:ok:1"));
  const v1::Mutation& e = records[0].mutations[0];
  EXPECT_EQ(e.upsert_entity().name(), "TSMC");
  EXPECT_EQ(e.upsert_entity().country(), "TW");
  EXPECT_EQ(e.idempotency_key(), "k1");
  EXPECT_EQ(records[1].mutations[0].upsert_edge().product_code(), "854231");
  EXPECT_EQ(records[1].mutations[0].upsert_edge().effective_from().seconds(),
            1735689600);
  EXPECT_EQ(records[2].mutations[0].delete_signal_id(), "signal/x");
}

class JsonlRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(JsonlRejectTest, RejectsPrecisely) {
  auto records =
      ParseAll(Format::kJsonl, std::string(kEntity) + "\n" + GetParam().input +
                                   "\n" + kEntity + "\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].rejected());
  EXPECT_FALSE(records[2].rejected()) << "the good record after it is kept";
  ASSERT_TRUE(records[1].rejected());
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].field, GetParam().field);
  EXPECT_THAT(records[1].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonlRejectTest,
    ::testing::Values(
        RejectCase{"truncated", R"({"upsert_entity": {"id": "company/x")", "",
                   "Unexpected end of string"},
        RejectCase{"not_an_object", "[1, 2]", "", "not a JSON object"},
        RejectCase{"unknown_field", R"({"upsert_entity": {"colour": "red"}})",
                   "upsert_entity.colour", "unknown field"},
        RejectCase{"unknown_enum_name",
                   R"({"upsert_entity": {"kind": "PERSON"}})",
                   "upsert_entity.kind", "invalid value \"PERSON\""},
        RejectCase{"unknown_enum_number",
                   R"({"upsert_entity": {"id": "company/x", "kind": 9,)"
                   R"( "name": "X", "country": "TW", "source": "s"}})",
                   "upsert_entity.kind", "unknown entity kind 9"},
        RejectCase{"wrong_type", R"({"upsert_edge": {"weight": "heavy"}})",
                   "upsert_edge.weight", "invalid value \"heavy\""},
        RejectCase{"nan_share",
                   R"({"upsert_edge": {"from_id": "company/a", "to_id":)"
                   R"( "company/b", "kind": "OWNS", "weight": "NaN",)"
                   R"( "source": "s"}})",
                   "upsert_edge.weight", "must be in [0, 1], got nan"},
        RejectCase{"negative_share",
                   R"({"upsert_edge": {"from_id": "company/a", "to_id":)"
                   R"( "company/b", "kind": "OWNS", "weight": -0.5,)"
                   R"( "source": "s"}})",
                   "upsert_edge.weight", "must be in [0, 1], got -0.5"},
        RejectCase{
            "bad_country",
            R"({"upsert_entity": {"id": "company/x", "kind":)"
            R"( "COMPANY", "name": "X", "country": "ZZ", "source": "s"}})",
            "upsert_entity.country", "ISO 3166-1 alpha-2"},
        RejectCase{"bad_date",
                   R"({"upsert_edge": {"effective_from": "2025-13-01"}})",
                   "upsert_edge.effective_from", "Invalid time format"},
        RejectCase{"two_kinds",
                   R"({"delete_entity_id": "company/a", "delete_signal_id":)"
                   R"( "signal/b"})",
                   "kind", "more than one of"},
        RejectCase{"empty_object", "{}", "kind", "one of upsert_entity"},
        RejectCase{"binary", "\x01\xff\xfe\x00garbage", "", "not valid UTF-8"},
        RejectCase{"bad_id", R"({"delete_entity_id": "Company/Bad Id"})",
                   "delete_entity_id", "with a slug matching"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

TEST(JsonlParserTest, LongLineIsRejectedAndSkipped) {
  ParserOptions options;
  options.max_record_bytes = 1000;
  auto records = ParseAll(
      Format::kJsonl,
      std::string(kEntity) + "\n" + std::string(50000, '{') + "\n" + kEntity,
      options);
  EXPECT_THAT(
      DescribeAll(records),
      ElementsAre("1:ok:1", "2::line longer than 1000 bytes (50000 bytes)",
                  "3:ok:1"));
}

}  // namespace
}  // namespace georisk::ingest
