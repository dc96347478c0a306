#include "formats/ftm_parser.h"

#include "absl/strings/str_cat.h"
#include "formats/parser_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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
  EXPECT_EQ(e.name(), "Acme") << "caption wins over the names";
  EXPECT_EQ(e.country(), "RU") << "jurisdiction wins over country";
  EXPECT_THAT(e.aliases(), ElementsAre("Acme Holdings", "ACME"));
  EXPECT_THAT(e.identifiers(), Contains(Pair("lei", "5493001")));
  EXPECT_THAT(e.identifiers(), Contains(Pair("opensanctions", "NK-AbC123")));
  EXPECT_EQ(e.source(), "https://www.opensanctions.org/entities/NK-AbC123/");
}

TEST(FtmParserTest, OrganizationAndLegalEntityUseCountry) {
  auto records = ParseAll(
      Format::kFtm,
      R"({"id": "q1", "schema": "Organization", "properties": {"name": ["O"], "country": ["kr"]}})"
      "\n"
      R"({"id": "q2", "schema": "LegalEntity", "caption": "L", "properties": {"mainCountry": ["jp"]}})"
      "\n"
      // OpenSanctions' shape of a state body (us_ofac_sdn, abridged).
      R"({"id": "NK-pb1", "schema": "PublicBody", "caption": "Ministry of Defence", "properties": {"name": ["Ministry of Defence"], "jurisdiction": ["ru"]}})");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1", "2:ok:1", "3:ok:1"));
  EXPECT_EQ(records[2].mutations[0].upsert_entity().kind(),
            v1::Entity::COMPANY);
  EXPECT_EQ(records[2].mutations[0].upsert_entity().country(), "RU");
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
  // Unset: the model's default for the measure.
  EXPECT_EQ(s.export_control().severity(), 0);
  // No dataset, programme id or provisions to classify it by: kept as
  // MEASURE_OTHER (which the model does not count), never promoted.
  EXPECT_EQ(s.export_control().measure(), v1::ExportControl::MEASURE_OTHER);
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

// No issuer at all: kept, as "UNKNOWN", with warnings for the issuer and
// the measure (never promoted to an export-control listing).
TEST(FtmParserTest, SanctionWithoutIssuerIsKeptWithWarnings) {
  auto records = ParseAll(
      Format::kFtm,
      R"({"id": "s", "schema": "Sanction", "properties": {"entity": ["x"]}})");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:1"));
  const v1::ExportControl& c =
      records[0].mutations[0].upsert_signal().export_control();
  EXPECT_EQ(c.authority(), "UNKNOWN");
  EXPECT_EQ(c.measure(), v1::ExportControl::MEASURE_OTHER);
  EXPECT_THAT(records[0].warnings,
              ElementsAre(HasSubstr("not in the table of issuers"),
                          HasSubstr("measure not classified")));
}

// Percentages as registers write them (ParsePercent), and a duplicate id.
TEST(FtmParserTest, PercentSpellingsAndDuplicateIds) {
  std::string input;
  for (const char* p :
       {"51", "51.5", "51,5", ">50", "more than 50%", "50-75%", "0.51"}) {
    absl::StrAppend(&input, R"({"id": "o", "schema": "Ownership",)",
                    R"( "properties": {"owner": ["a"], "asset": ["b"],)",
                    R"( "percentage": [")", p, "\"]}}\n");
  }
  auto records = ParseAll(Format::kFtm, input);
  ASSERT_EQ(records.size(), 7u);
  std::vector<double> weights;
  for (const ParsedRecord& r : records) {
    ASSERT_FALSE(r.rejected()) << r.reason;
    weights.push_back(r.mutations[0].upsert_edge().weight());
  }
  EXPECT_THAT(weights,
              ElementsAre(::testing::DoubleEq(0.51), ::testing::DoubleEq(0.515),
                          ::testing::DoubleEq(0.515), ::testing::DoubleEq(0.5),
                          ::testing::DoubleEq(0.5), ::testing::DoubleEq(0.5),
                          ::testing::DoubleEq(0.0051)));
  EXPECT_THAT(records[0].warnings, ElementsAre());
  EXPECT_THAT(records[1].warnings,
              ElementsAre(HasSubstr("duplicate id \"o\" (first on line 1)")));
}

// Issue #15: a 60 KB and a 1 MB line of nested arrays are rejected with a
// clear reason (they took 51 s and more before); the good line after them is
// read.
TEST(FtmParserTest, DeeplyNestedLinesAreRejected) {
  for (size_t bytes : {size_t{60000}, size_t{1000000}}) {
    const size_t levels = (bytes - 64) / 2;
    const std::string line = absl::StrCat(
        R"({"id": "c", "schema": "Company", "properties": {"alias": )",
        std::string(levels, '['), std::string(levels, ']'), "}}\n");
    auto records = ParseAll(Format::kFtm, line + kCompany);
    EXPECT_THAT(DescribeAll(records),
                ElementsAre("1::nested deeper than 32 levels of arrays and "
                            "objects",
                            "2:ok:1"))
        << bytes;
  }
}

TEST(FtmParserTest, APersonIsOwnedByNobody) {
  auto records = ParseAll(
      Format::kFtm,
      R"({"id": "p", "schema": "Person", "properties": {"name": ["P"]}})"
      "\n"
      R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["p"], "percentage": ["10"]}})");
  EXPECT_THAT(
      DescribeAll(records),
      ElementsAre("1:ok:1", HasSubstr("2:properties.asset:is a Person")));
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
                   R"({"id": "p1", "schema": "Address", "properties": {}})",
                   "schema", "unknown schema \"Address\""},
        // Issue #15: a nested array where strings are expected.
        RejectCase{
            "nested_alias",
            R"({"id": "c", "schema": "Company", "properties": {"name": ["C"], "alias": [["x"]]}})",
            "properties.alias",
            "must be a string or an array of strings, got a nested array"},
        RejectCase{"no_schema", R"({"id": "p1", "properties": {}})", "schema",
                   "is required"},
        RejectCase{"truncated", R"({"id": "p1", "schema": "Comp)", "",
                   "Closing quote expected in string"},
        RejectCase{"not_an_object", R"(["Company"])", "", "not a JSON object"},
        RejectCase{"properties_not_object",
                   R"({"id": "c", "schema": "Company", "properties": [1]})",
                   "properties", "must be an object"},
        RejectCase{
            "no_name",
            R"({"id": "c", "schema": "Company", "properties": {"country": ["ru"]}})",
            "properties.name", "is required"},
        RejectCase{
            "nan_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["NaN"]}})",
            "properties.percentage", "not a percentage: \"NaN\""},
        RejectCase{
            "negative_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["-5"]}})",
            "properties.percentage", "not a percentage: \"-5\""},
        RejectCase{
            "percentage_above_100",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": [150]}})",
            "properties.percentage", "must be in [0, 100], got \"150\""},
        RejectCase{
            "blank_percentage",
            R"({"id": "o", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"], "percentage": [""]}})",
            "properties.percentage", "not a percentage: \"\""},
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
            "properties.entity", "is required"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

}  // namespace
}  // namespace georisk::formats
