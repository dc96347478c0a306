#include <cstdint>
#include <string>
#include <vector>

#include "formats/parser_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::georisk::formats::testing::DescribeAll;
using ::georisk::formats::testing::ParseAll;
using ::georisk::formats::testing::RejectCase;
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
                   R"({"upsert_entity": {"kind": "VESSEL"}})",
                   "upsert_entity.kind", "invalid value \"VESSEL\""},
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

// The parser parses up to 100 lines in one call, as the elements of one
// array; every line must still come out exactly as it would alone: lines that
// only parse together, or a line holding two objects, are each rejected, and
// the good lines around bad ones are kept, across chunk boundaries.
TEST(JsonlParserTest, ChunkedParsingMatchesLineByLine) {
  const std::vector<std::string> kinds = {
      kEntity,
      R"({"delete_signal_id": "signal/x", "idempotency_key": "k2"})",
      R"({"upsert_edge": {"from_id": "company/a", "to_id": "company/b",)"
      R"( "kind": "OWNS", "weight": 0.5, "source": "s"}})",
      // Two halves of one object, on two lines.
      R"({"upsert_entity": {"id": "company/a", "kind": "COMPANY",)",
      R"("name": "A", "country": "TW", "source": "s"}})",
      // Two objects on one line; an object closing the array.
      R"({"delete_signal_id": "signal/a"}, {"delete_signal_id": "signal/b"})",
      R"({"delete_signal_id": "signal/a"}]})",
      R"({"delete_signal_id": "signal/a"}], "origin": "x", "mutations": [{})",
      R"({"upsert_entity": {"colour": "red"}})",
      R"({"upsert_edge": {"weight": "heavy"}})",
      R"({"delete_entity_id": "Company/Bad Id"})",
      R"({"delete_signal_id": "signal/"}"})",
      "{\"delete_signal_id\": \"\xff\"}",
      "[1, 2]",
      "{}",
      "   ",
  };
  std::string input;
  std::vector<std::string> lines;
  uint32_t x = 7;
  for (int i = 0; i < 450; ++i) {
    x = x * 1103515245 + 12345;
    // Mostly good lines, so that most chunks parse in one call.
    const size_t k = (x >> 16) % 8 < 5 ? (x >> 8) % 3 : (x >> 8) % kinds.size();
    lines.push_back(kinds[k]);
    input += kinds[k] + (i % 7 == 0 ? "\r\n" : "\n");
  }
  const std::vector<ParsedRecord> records = ParseAll(Format::kJsonl, input);
  size_t r = 0;
  int rejected = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<ParsedRecord> alone = ParseAll(Format::kJsonl, lines[i]);
    if (alone.empty()) continue;  // A blank line.
    ASSERT_EQ(alone.size(), 1u);
    ASSERT_LT(r, records.size());
    const ParsedRecord& got = records[r++];
    EXPECT_EQ(got.line, static_cast<int64_t>(i + 1));
    EXPECT_EQ(got.field, alone[0].field) << "line " << i + 1;
    EXPECT_EQ(got.reason, alone[0].reason) << "line " << i + 1;
    ASSERT_EQ(got.mutations.size(), alone[0].mutations.size());
    for (size_t m = 0; m < got.mutations.size(); ++m) {
      EXPECT_EQ(got.mutations[m].SerializeAsString(),
                alone[0].mutations[m].SerializeAsString());
    }
    rejected += got.rejected() ? 1 : 0;
  }
  EXPECT_EQ(r, records.size());
  EXPECT_GT(rejected, 50);
  EXPECT_LT(rejected, 250);
}

}  // namespace
}  // namespace georisk::formats
