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
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kEntityHeader[] =
    "id,kind,name,country,region,latitude,longitude,facility_type,"
    "product_codes,aliases,identifiers,source,idempotency_key\n";
constexpr char kGoodEntity[] =
    "facility/tsmc-fab18,,\"TSMC Fab 18, Tainan\",tw,tw-tnn,23.11,120.27,fab,"
    "8542.31;8542.32,Fab18; ,lei=5493;ticker=2330.TW,https://tsmc.com,k-1\n";

TEST(CsvEntitiesTest, ParsesARow) {
  auto records =
      ParseAll(Format::kCsvEntities, std::string(kEntityHeader) + kGoodEntity);
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:1"));
  const v1::Mutation& m = records[0].mutations[0];
  const v1::Entity& e = m.upsert_entity();
  EXPECT_EQ(e.id(), "facility/tsmc-fab18");
  EXPECT_EQ(e.kind(), v1::Entity::FACILITY) << "from the id's prefix";
  EXPECT_EQ(e.name(), "TSMC Fab 18, Tainan");
  EXPECT_EQ(e.country(), "TW");
  EXPECT_EQ(e.region(), "TW-TNN");
  EXPECT_DOUBLE_EQ(e.location().latitude(), 23.11);
  EXPECT_EQ(e.facility_type(), v1::Entity::FAB);
  EXPECT_THAT(e.product_codes(), ElementsAre("854231", "854232"));
  EXPECT_THAT(e.aliases(), ElementsAre("Fab18"));
  EXPECT_THAT(e.identifiers(), UnorderedElementsAre(Pair("lei", "5493"),
                                                    Pair("ticker", "2330.TW")));
  EXPECT_EQ(m.idempotency_key(), "k-1");
}

TEST(CsvEntitiesTest, ColumnsInAnyOrderAndOptionalOnesAbsent) {
  auto records = ParseAll(Format::kCsvEntities,
                          "Source, NAME ,country,id\n"
                          "s,Foxconn,tw,company/foxconn\n");
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:1"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().kind(),
            v1::Entity::COMPANY);
}

class CsvEntitiesRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(CsvEntitiesRejectTest, RejectsPrecisely) {
  auto records =
      ParseAll(Format::kCsvEntities, std::string(kEntityHeader) + kGoodEntity +
                                         GetParam().input + "\n" + kGoodEntity);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].rejected());
  EXPECT_FALSE(records[2].rejected());
  ASSERT_TRUE(records[1].rejected());
  EXPECT_EQ(records[1].line, 3);
  EXPECT_EQ(records[1].field, GetParam().field);
  EXPECT_THAT(records[1].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CsvEntitiesRejectTest,
    ::testing::Values(
        RejectCase{"short_row", "company/a,COMPANY,A", "",
                   "row has 3 fields, the header has 13"},
        RejectCase{"bad_country", "company/a,,A,Taiwan,,,,,,,,s,", "country",
                   "ISO 3166-1 alpha-2 code, got \"TAIWAN\""},
        RejectCase{"bad_kind", "company/a,VESSEL,A,TW,,,,,,,,s,", "kind",
                   "unknown kind \"VESSEL\""},
        RejectCase{"bad_latitude", "facility/a,,A,TW,,north,1,,,,,s,",
                   "latitude", "not a number: \"north\""},
        RejectCase{"latitude_out_of_range", "facility/a,,A,TW,,91,1,,,,,s,",
                   "latitude", "must be in [-90, 90]"},
        RejectCase{"half_location", "facility/a,,A,TW,,1,,,,,,s,", "longitude",
                   "together"},
        RejectCase{"bad_facility_type", "facility/a,,A,TW,,,,mine,,,,s,",
                   "facility_type", "unknown facility type \"MINE\""},
        RejectCase{"bad_hs_code", "facility/a,,A,TW,,,,,85x2,,,s,",
                   "product_codes", "HS code"},
        RejectCase{"bad_identifier", "company/a,,A,TW,,,,,,,lei,s,",
                   "identifiers", "expected scheme=value"},
        RejectCase{"missing_name", "company/a,,,TW,,,,,,,,s,", "name",
                   "is required"},
        RejectCase{"bad_id", "Company A,,A,TW,,,,,,,,s,", "id",
                   "with a slug matching"},
        RejectCase{"company_as_facility", "company/a,FACILITY,A,TW,,,,,,,,s,",
                   "id", "must start with \"facility/\""},
        RejectCase{"unterminated_quote", "company/a,,\"A,TW,,,,,,,,s,", "",
                   "unterminated quoted field"},
        RejectCase{"huge_name",
                   "company/a,," + std::string(600, 'n') + ",TW,,,,,,,,s,",
                   "name", "must be at most 512 bytes, got 600"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

TEST(CsvHeaderTest, BadHeadersStopTheFile) {
  EXPECT_THAT(
      DescribeAll(ParseAll(Format::kCsvEntities,
                           "id,name,country,source,colour\na,b,c,d,e\n")),
      ElementsAre(HasSubstr("1:header:unknown column \"colour\"")));
  EXPECT_THAT(
      DescribeAll(ParseAll(Format::kCsvEntities, "id,name,source\na,b,c\n")),
      ElementsAre("1:header:required column \"country\" is missing"));
  EXPECT_THAT(
      DescribeAll(ParseAll(Format::kCsvEdges,
                           "from_id,to_id,kind,weight,source,weight\n")),
      ElementsAre("1:header:column \"weight\" appears twice"));
  EXPECT_THAT(DescribeAll(ParseAll(Format::kCsvEdges, "")), ElementsAre());
}

constexpr char kEdgeHeader[] =
    "from_id,to_id,kind,weight,product_code,annual_value_usd,effective_from,"
    "effective_until,source,idempotency_key\n";

TEST(CsvEdgesTest, ParsesARow) {
  auto records = ParseAll(
      Format::kCsvEdges,
      std::string(kEdgeHeader) +
          "company/tsmc,company/apple,supplies,0.6,8542.31,1.5e9,2025-01-01,"
          "2026-01-01T00:00:00Z,https://x,\n");
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:1"));
  const v1::Edge& e = records[0].mutations[0].upsert_edge();
  EXPECT_EQ(e.kind(), v1::Edge::SUPPLIES);
  EXPECT_DOUBLE_EQ(e.weight(), 0.6);
  EXPECT_EQ(e.product_code(), "854231");
  EXPECT_DOUBLE_EQ(e.annual_value_usd(), 1.5e9);
  EXPECT_EQ(e.effective_from().seconds(), 1735689600);
  EXPECT_EQ(e.effective_until().seconds(), 1767225600);
  EXPECT_EQ(records[0].mutations[0].idempotency_key(), "");
}

class CsvEdgesRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(CsvEdgesRejectTest, RejectsPrecisely) {
  const std::string good = "company/a,company/b,OWNS,0.5,,,,,s,\n";
  auto records =
      ParseAll(Format::kCsvEdges, std::string(kEdgeHeader) + good +
                                      GetParam().input + "\n" + good);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].rejected());
  EXPECT_FALSE(records[2].rejected());
  ASSERT_TRUE(records[1].rejected());
  EXPECT_EQ(records[1].field, GetParam().field);
  EXPECT_THAT(records[1].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CsvEdgesRejectTest,
    ::testing::Values(
        RejectCase{"nan_share", "company/a,company/b,OWNS,NaN,,,,,s,", "weight",
                   "must be a finite number, got \"NaN\""},
        RejectCase{"negative_share", "company/a,company/b,OWNS,-0.1,,,,,s,",
                   "weight", "must be in [0, 1], got -0.1"},
        RejectCase{"share_above_one", "company/a,company/b,OWNS,1.5,,,,,s,",
                   "weight", "must be in [0, 1], got 1.5"},
        RejectCase{"missing_weight", "company/a,company/b,OWNS,,,,,,s,",
                   "weight", "is required"},
        RejectCase{"unknown_kind", "company/a,company/b,LOVES,0.5,,,,,s,",
                   "kind", "unknown kind \"LOVES\""},
        RejectCase{"bad_date", "company/a,company/b,OWNS,0.5,,,2025-02-30,,s,",
                   "effective_from", "not a date: \"2025-02-30\""},
        RejectCase{"until_before_from",
                   "company/a,company/b,OWNS,0.5,,,2025-02-01,2025-01-01,s,",
                   "effective_until", "must be after effective_from"},
        RejectCase{"negative_value",
                   "company/a,company/b,SUPPLIES,0.5,8542,-5,,,s,",
                   "annual_value_usd", "must be a finite number >= 0"},
        RejectCase{"code_on_owns", "company/a,company/b,OWNS,0.5,8542,,,,s,",
                   "product_code", "must be empty unless kind is SUPPLIES"},
        RejectCase{"operates_a_company",
                   "company/a,company/b,OPERATES,0.5,,,,,s,", "to_id",
                   "must be a facility for OPERATES"},
        RejectCase{"missing_source", "company/a,company/b,OWNS,0.5,,,,,,",
                   "source", "is required"},
        RejectCase{
            "long_key",
            "company/a,company/b,OWNS,0.5,,,,,s," + std::string(300, 'k'),
            "idempotency_key", "at most 256 bytes"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace georisk::formats
