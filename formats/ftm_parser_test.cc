#include "formats/ftm_parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "formats/parser_test_util.h"

namespace georisk::formats {
namespace {

using ::georisk::formats::testing::DescribeAll;
using ::georisk::formats::testing::ParseAll;
using ::georisk::formats::testing::RejectCase;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kCompany[] =
    R"({"id": "NK-AbC123", "schema": "Company", "caption": "Acme",)"
    R"( "properties": {"name": ["Acme Holdings "], "jurisdiction": ["ru"],)"
    R"( "country": ["cy"], "alias": ["ACME", "Acme Holdings"],)"
    R"( "leiCode": ["5493001"]}, "datasets": ["us_ofac_sdn"]})";
constexpr char kOwnership[] =
    R"({"id": "own-1", "schema": "Ownership", "properties": {"owner":)"
    R"( ["NK-AbC123"], "asset": ["ofac-42"], "percentage": ["51%"],)"
    R"( "startDate": ["2021-03"], "endDate": ["2024-06-30"]}})";
constexpr char kSanction[] =
    R"({"id": "ofac-s-42", "schema": "Sanction", "properties": {"entity":)"
    R"( ["ofac-42"], "authority": ["Office of Foreign Assets Control"],)"
    R"( "program": ["RUSSIA-EO14024"], "startDate": ["2022-02-24"],)"
    R"( "sourceUrl": ["https://ofac.treasury.gov/x"]}})";

TEST(FtmParserTest, Company) {
  auto records = ParseAll(Format::kFtm, std::string(kCompany) + "\n");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1"));
  const v1::Entity& e = records[0].mutations[0].upsert_entity();
  EXPECT_THAT(e.id(), ::testing::StartsWith("company/ftm-nk-abc123."));
  EXPECT_EQ(e.kind(), v1::Entity::COMPANY);
  EXPECT_EQ(e.name(), "Acme Holdings");
  EXPECT_EQ(e.country(), "RU") << "jurisdiction wins over country";
  EXPECT_THAT(e.aliases(), ElementsAre("ACME"));
  EXPECT_THAT(e.identifiers(), Contains(Pair("lei", "5493001")));
  EXPECT_THAT(e.identifiers(), Contains(Pair("opensanctions", "NK-AbC123")));
  EXPECT_EQ(e.source(), "https://www.opensanctions.org/entities/NK-AbC123/");
}

TEST(FtmParserTest, OrganizationAndLegalEntityUseCountry) {
  auto records = ParseAll(
      Format::kFtm,
      R"({"id": "q1", "schema": "Organization", "properties": {"name": ["O"], "country": ["kr"]}})"
      "\n"
      R"({"id": "q2", "schema": "LegalEntity", "caption": "L", "properties": {"mainCountry": ["jp"]}})");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1", "2:ok:1"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().id(), "company/ftm-q1");
  EXPECT_EQ(records[0].mutations[0].upsert_entity().country(), "KR");
  EXPECT_EQ(records[1].mutations[0].upsert_entity().name(), "L");
  EXPECT_EQ(records[1].mutations[0].upsert_entity().country(), "JP");
}

TEST(FtmParserTest, Ownership) {
  auto records = ParseAll(Format::kFtm, kOwnership);
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1"));
  const v1::Edge& e = records[0].mutations[0].upsert_edge();
  EXPECT_THAT(e.from_id(), ::testing::StartsWith("company/ftm-nk-abc123."));
  EXPECT_EQ(e.to_id(), "company/ftm-ofac-42");
  EXPECT_EQ(e.kind(), v1::Edge::OWNS);
  EXPECT_DOUBLE_EQ(e.weight(), 0.51);
  EXPECT_EQ(e.effective_from().seconds(), 1614556800);   // 2021-03-01
  EXPECT_EQ(e.effective_until().seconds(), 1719705600);  // 2024-06-30
}

TEST(FtmParserTest, OwnershipBandCountsItsLowerBound) {
  auto records = ParseAll(
      Format::kFtm,
      R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["50-75%"]}})");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1"));
  EXPECT_DOUBLE_EQ(records[0].mutations[0].upsert_edge().weight(), 0.5);
}

TEST(FtmParserTest, Sanction) {
  auto records = ParseAll(Format::kFtm, kSanction);
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1"));
  const v1::Signal& s = records[0].mutations[0].upsert_signal();
  EXPECT_EQ(s.id(), "signal/ftm-ofac-s-42");
  EXPECT_EQ(s.export_control().authority(), "US-OFAC");
  EXPECT_EQ(s.export_control().kind(), v1::ExportControl::ENTITY_LISTING);
  EXPECT_THAT(s.export_control().target_ids(),
              ElementsAre("company/ftm-ofac-42"));
  EXPECT_DOUBLE_EQ(s.export_control().severity(), kFtmSanctionSeverity);
  EXPECT_EQ(s.export_control().list(), "RUSSIA-EO14024");
  EXPECT_EQ(s.effective_from().seconds(), 1645660800);
  EXPECT_FALSE(s.has_effective_until());
  EXPECT_EQ(s.source(), "https://ofac.treasury.gov/x");
  EXPECT_THAT(s.title(), HasSubstr("Office of Foreign Assets Control"));
}

TEST(FtmParserTest, SourceOptionOverrides) {
  ParserOptions options;
  options.source = "opensanctions:us_ofac_sdn";
  auto records =
      ParseAll(Format::kFtm, std::string(kCompany) + "\n" + kSanction, options);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].mutations[0].upsert_entity().source(),
            "opensanctions:us_ofac_sdn");
  EXPECT_EQ(records[1].mutations[0].upsert_signal().source(),
            "opensanctions:us_ofac_sdn");
}

TEST(FtmParserTest, TwoPassesSplitOwnershipsFromTheRest) {
  const std::string input = std::string(kOwnership) + "\n" + kCompany +
                            "\nnot json\n" + kSanction + "\n" +
                            R"({"schema": "Ownership", "properties": {}})";
  ParserOptions nodes;
  nodes.ftm_pass = FtmPass::kNodes;
  EXPECT_THAT(DescribeAll(ParseAll(Format::kFtm, input, nodes)),
              ElementsAre("2:ok:1", HasSubstr("3::"), "4:ok:1"));
  ParserOptions edges;
  edges.ftm_pass = FtmPass::kOwnerships;
  EXPECT_THAT(DescribeAll(ParseAll(Format::kFtm, input, edges)),
              ElementsAre("1:ok:1", "5:id:is required"));
}

class FtmRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(FtmRejectTest, RejectsPrecisely) {
  auto records =
      ParseAll(Format::kFtm, std::string(kCompany) + "\n" + GetParam().input +
                                 "\n" + kSanction + "\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].rejected());
  EXPECT_FALSE(records[2].rejected());
  ASSERT_TRUE(records[1].rejected());
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].field, GetParam().field);
  EXPECT_THAT(records[1].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, FtmRejectTest,
    ::testing::Values(
        RejectCase{"unknown_schema",
                   R"({"id": "p1", "schema": "Person", "properties": {}})",
                   "schema", "unknown schema \"Person\""},
        RejectCase{"no_schema", R"({"id": "p1", "properties": {}})", "schema",
                   "is required"},
        RejectCase{"truncated", R"({"id": "p1", "schema": "Comp)", "",
                   "Closing quote expected in string"},
        RejectCase{"not_an_object", R"(["Company"])", "", "not a JSON object"},
        RejectCase{"properties_not_object",
                   R"({"id": "c", "schema": "Company", "properties": [1]})",
                   "properties", "must be an object"},
        RejectCase{
            "no_country",
            R"({"id": "c", "schema": "Company", "properties": {"name": ["C"]}})",
            "properties.country", "none of jurisdiction"},
        RejectCase{
            "bad_country",
            R"({"id": "c", "schema": "Company", "properties": {"name": ["C"], "jurisdiction": ["suhh"]}})",
            "properties.jurisdiction", "ISO 3166-1 alpha-2 code, got \"SUHH\""},
        RejectCase{
            "no_name",
            R"({"id": "c", "schema": "Company", "properties": {"country": ["ru"]}})",
            "properties.name", "is required"},
        RejectCase{
            "nan_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["NaN"]}})",
            "properties.percentage", "must be a finite number"},
        RejectCase{
            "negative_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["-5"]}})",
            "properties.percentage", "must be in [0, 100], got -5"},
        RejectCase{
            "percentage_above_100",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": [150]}})",
            "properties.percentage", "must be in [0, 100], got 150"},
        RejectCase{
            "no_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"]}})",
            "properties.percentage", "needs the share"},
        RejectCase{
            "no_owner",
            R"({"id": "o", "schema": "Ownership", "properties": {"asset": ["b"], "percentage": ["5"]}})",
            "properties.owner", "is required"},
        RejectCase{
            "bad_start_date",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["5"], "startDate": ["soon"]}})",
            "properties.startDate", "not a date: \"soon\""},
        RejectCase{
            "end_before_start",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["5"], "startDate": ["2024"], "endDate": ["2023"]}})",
            "properties.endDate", "must be after effective_from"},
        RejectCase{
            "sanction_without_entity",
            R"({"id": "s", "schema": "Sanction", "properties": {"authority": ["OFAC"]}})",
            "properties.entity", "is required"},
        RejectCase{
            "sanction_without_issuer",
            R"({"id": "s", "schema": "Sanction", "properties": {"entity": ["x"]}})",
            "properties.authority", "neither authority nor program"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

TEST(AuthorityCodeTest, KnownIssuersAndOthers) {
  EXPECT_EQ(AuthorityCode("U.S. Treasury Office of Foreign Assets Control"),
            "US-OFAC");
  EXPECT_EQ(AuthorityCode("OFAC"), "US-OFAC");
  EXPECT_EQ(AuthorityCode("Bureau of Industry and Security"), "US-BIS");
  EXPECT_EQ(AuthorityCode("Council of the European Union"), "EU");
  EXPECT_EQ(AuthorityCode("UN Security Council"), "UN");
  EXPECT_EQ(AuthorityCode("Secondary sanctions office"),
            "SECONDARY-SANCTIONS-OFFICE")
      << "\"seco\" is a word, not a prefix";
  EXPECT_EQ(
      AuthorityCode("Ministry of Defence of a country with a long name").size(),
      32u);
  EXPECT_EQ(AuthorityCode("  "), "");
}

}  // namespace
}  // namespace georisk::formats
