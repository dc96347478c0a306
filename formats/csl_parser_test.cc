#include "formats/csl_parser.h"

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

// The CSL's CSV columns, in trade.gov's order (with its leading _id).
constexpr char kHeader[] =
    "_id,source,entity_number,type,programs,name,title,addresses,"
    "federal_register_notice,start_date,end_date,standard_order,"
    "license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,"
    "gross_registered_tonnage,vessel_flag,vessel_owner,remarks,"
    "source_list_url,alt_names,citizenships,dates_of_birth,nationalities,"
    "places_of_birth,source_information_url,ids\n";

// A row with the given source, entity number, name, addresses, start date.
std::string Row(const std::string& source, const std::string& number,
                const std::string& name, const std::string& addresses,
                const std::string& start = "2020-06-05",
                const std::string& end = "") {
  return "abc123," + source + "," + number + ",Entity,," + name + ",,\"" +
         addresses + "\",85 FR 34495," + start + "," + end +
         ",,,,,,,,,,,http://bit.ly/el,\"Alias One; Alias Two\",,,,,"
         "https://www.bis.doc.gov/el,\n";
}

TEST(CslCsvTest, RowBecomesPartyAndListing) {
  auto records =
      ParseAll(Format::kCslCsv,
               std::string(kHeader) +
                   Row("\"Entity List (EL) - Bureau of Industry and Security\"",
                       "", " Harbin Institute of Technology ",
                       "92 West Dazhi Street, Harbin, Heilongjiang, CN"));
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:2"));
  const v1::Entity& e = records[0].mutations[0].upsert_entity();
  EXPECT_EQ(e.id(), "company/csl-el-id-abc123") << "no entity_number: id";
  EXPECT_EQ(e.kind(), v1::Entity::COMPANY);
  EXPECT_EQ(e.name(), "Harbin Institute of Technology");
  EXPECT_EQ(e.country(), "CN");
  EXPECT_THAT(e.aliases(), ElementsAre("Alias One", "Alias Two"));
  EXPECT_THAT(e.identifiers(), Contains(Pair("csl_id", "abc123")));
  EXPECT_EQ(e.source(), "https://www.bis.doc.gov/el");
  const v1::Signal& s = records[0].mutations[1].upsert_signal();
  EXPECT_EQ(s.id(), "signal/csl-el-id-abc123");
  EXPECT_EQ(s.export_control().authority(), "US-BIS");
  EXPECT_EQ(s.export_control().kind(), v1::ExportControl::ENTITY_LISTING);
  EXPECT_THAT(s.export_control().target_ids(), ElementsAre(e.id()));
  EXPECT_DOUBLE_EQ(s.export_control().severity(), 0.8);
  EXPECT_EQ(s.export_control().list(), "EL");
  EXPECT_EQ(s.effective_from().seconds(), 1591315200);
  EXPECT_EQ(s.source(), "trade.gov/csl:EL");
  EXPECT_EQ(s.title(),
            "Entity List (EL): Harbin Institute of Technology, 85 FR 34495");
}

TEST(CslCsvTest, EntityNumbersRepeatAcrossListsSoIdsNameTheList) {
  auto records = ParseAll(Format::kCslCsv, std::string(kHeader) +
                                               Row("SDN", "7", "A", "x, RU") +
                                               Row("SSI", "7", "A", "x, RU"));
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:2", "3:ok:2"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().id(), "company/csl-sdn-7");
  EXPECT_EQ(records[1].mutations[0].upsert_entity().id(), "company/csl-ssi-7");
  EXPECT_EQ(
      records[0].mutations[1].upsert_signal().export_control().authority(),
      "US-OFAC");
  EXPECT_EQ(records[1].mutations[1].upsert_signal().source(),
            "trade.gov/csl:SSI");
}

TEST(CslListsTest, AuthoritiesAndCodes) {
  EXPECT_EQ(CslLists().size(), 13u);
  struct Want {
    const char* source;
    const char* code;
    const char* authority;
  };
  for (const Want& w : {
           Want{"EL", "EL", "US-BIS"},
           Want{"Military End User (MEU) List - Bureau of Industry and "
                "Security",
                "MEU", "US-BIS"},
           Want{"uvl", "UVL", "US-BIS"},
           Want{"DPL", "DPL", "US-BIS"},
           Want{"Specially Designated Nationals (SDN) - Treasury Department",
                "SDN", "US-OFAC"},
           Want{"FSE", "FSE", "US-OFAC"},
           Want{"Capta List (CAP) - Treasury Department", "CAP", "US-OFAC"},
           Want{"Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury "
                "Department",
                "MBS", "US-OFAC"},
           Want{"Non-SDN Palestinian Legislative Council List (NS-PLC) - "
                "Treasury Department",
                "PLC", "US-OFAC"},
           Want{"CMIC", "CMIC", "US-OFAC"},
           Want{"SSI", "SSI", "US-OFAC"},
           Want{"Nonproliferation Sanctions (ISN) - State Department", "ISN",
                "US-STATE"},
           Want{"ITAR Debarred (DTC) - State Department", "DTC", "US-STATE"},
       }) {
    const CslList* list = FindCslList(w.source);
    ASSERT_NE(list, nullptr) << w.source;
    EXPECT_EQ(list->code, w.code);
    EXPECT_EQ(list->authority, w.authority);
    EXPECT_GT(list->severity, 0);
    EXPECT_LE(list->severity, 1);
  }
  EXPECT_EQ(FindCslList("Some List (XYZ)"), nullptr);
  EXPECT_EQ(FindCslList(""), nullptr);
}

TEST(CslCsvTest, CountryFromLaterAddressOrNationality) {
  std::string header =
      "source,entity_number,name,addresses,nationalities,start_date\n";
  auto records =
      ParseAll(Format::kCslCsv,
               header + "SDN,1,A,\"Somewhere, Narnia; Moscow, RU\",,\n" +
                   "SDN,2,B,,IR,\n" + "SDN,3,C,\"Nowhere, Narnia\",,\n");
  // An unknown country is a warning: the party is listed without one.
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:2", "3:ok:2", "4:ok:2"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().country(), "RU");
  EXPECT_EQ(records[1].mutations[0].upsert_entity().country(), "IR");
  EXPECT_EQ(records[2].mutations[0].upsert_entity().country(), "");
  EXPECT_THAT(records[2].warnings,
              ElementsAre(HasSubstr("addresses: no known country in "
                                    "\"Narnia\"; imported without")));
  EXPECT_THAT(records[0].warnings, ElementsAre());
}

TEST(CslCsvTest, SourceOptionOverridesBoth) {
  ParserOptions options;
  options.source = "my-csl-copy";
  auto records =
      ParseAll(Format::kCslCsv,
               std::string(kHeader) + Row("EL", "9", "A", "x, CN"), options);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].mutations[0].upsert_entity().source(), "my-csl-copy");
  EXPECT_EQ(records[0].mutations[1].upsert_signal().source(), "my-csl-copy");
}

class CslCsvRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(CslCsvRejectTest, RejectsPrecisely) {
  const std::string good = Row("EL", "1", "Good", "x, CN");
  auto records = ParseAll(
      Format::kCslCsv, std::string(kHeader) + good + GetParam().input + good);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].rejected());
  EXPECT_FALSE(records[2].rejected());
  ASSERT_TRUE(records[1].rejected());
  EXPECT_EQ(records[1].line, 3);
  EXPECT_EQ(records[1].field, GetParam().field);
  EXPECT_THAT(records[1].reason, HasSubstr(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CslCsvRejectTest,
    ::testing::Values(
        RejectCase{"unknown_list", Row("XYZ", "1", "A", "x, CN"), "source",
                   "unknown list \"XYZ\""},
        RejectCase{"no_name", Row("EL", "1", "", "x, CN"), "name",
                   "is required"},
        RejectCase{"bad_start_date", Row("EL", "1", "A", "x, CN", "06/05/2020"),
                   "start_date", "not a date: \"06/05/2020\""},
        RejectCase{"end_before_start",
                   Row("EL", "1", "A", "x, CN", "2020-06-05", "2019-01-01"),
                   "end_date", "must be after effective_from"},
        RejectCase{"short_row", "EL,1\n", "", "row has 2 fields"},
        RejectCase{"huge_name", Row("EL", "1", std::string(5000, 'n'), "x, CN"),
                   "name", "must be at most 512 bytes"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) {
      return info.param.name;
    });

TEST(CslCsvTest, HeaderWithoutTheNeededColumns) {
  EXPECT_THAT(DescribeAll(ParseAll(Format::kCslCsv, "name,entity_number\n")),
              ElementsAre("1:header:required column \"source\" is missing"));
  EXPECT_THAT(DescribeAll(ParseAll(Format::kCslCsv, "source,name\n")),
              ElementsAre(HasSubstr("\"entity_number\" (or \"id\")")));
}

constexpr char kJsonRow[] =
    R"({"id": "e1", "source": "Specially Designated Nationals (SDN) - Treasury Department",
        "entity_number": 36, "type": "Entity", "name": "AEROCARIBBEAN AIRLINES",
        "alt_names": ["AERO-CARIBBEAN"], "programs": ["CUBA"],
        "addresses": [{"address": null, "city": "Havana", "country": "CU"}],
        "start_date": null, "end_date": null,
        "source_list_url": "http://bit.ly/sdn", "ids": []})";

// kJsonRow on one line.
std::string FlatRow() {
  std::string row = kJsonRow;
  for (char& c : row) {
    if (c == '\n') c = ' ';
  }
  return row;
}

TEST(CslJsonTest, ApiShapeArrayAndLines) {
  for (const std::string& input :
       {absl::StrCat(R"({"total": 1, "results": [)", kJsonRow, "]}"),
        absl::StrCat("[", kJsonRow, "]"), absl::StrCat(kJsonRow, "\n")}) {
    std::string flat = input;
    for (char& c : flat) {
      if (c == '\n' && &c != &flat.back()) c = ' ';
    }
    auto records = ParseAll(Format::kCslJson, flat);
    ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:2")) << flat;
    const v1::Entity& e = records[0].mutations[0].upsert_entity();
    EXPECT_EQ(e.id(), "company/csl-sdn-36");
    EXPECT_EQ(e.country(), "CU");
    EXPECT_THAT(e.aliases(), ElementsAre("AERO-CARIBBEAN"));
    EXPECT_EQ(e.source(), "http://bit.ly/sdn");
    const v1::Signal& s = records[0].mutations[1].upsert_signal();
    EXPECT_EQ(s.id(), "signal/csl-sdn-36");
    EXPECT_DOUBLE_EQ(s.export_control().severity(), 1.0);
    EXPECT_FALSE(s.has_effective_from());
  }
}

// ISN rows carry the State Department's country at the top level of the
// JSON row only (ITA's generator drops it from the CSV: GAPS.md §6); the
// shape of "SPC Supachoke" (2023 CSV line 9, no address there).
TEST(CslJsonTest, TopLevelCountryOfARowWithoutAddress) {
  auto records = ParseAll(
      Format::kCslJson,
      R"([{"id": "7f0", "source": "Nonproliferation Sanctions (ISN) - State )"
      R"(Department", "name": "SPC Supachoke", "addresses": [], )"
      R"("country": "TH", "start_date": "2019-09-03"}])");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:2"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().country(), "TH");
}

// The JSON writes `ids` as objects (trade.gov's API shape); the CSV as one
// cell (formats/csl_ids.h has the table).
TEST(CslJsonTest, IdsObjectsBecomeIdentifiers) {
  auto records = ParseAll(
      Format::kCslJson,
      R"([{"id": "a1", "source": "SSI", "entity_number": "18715", )"
      R"("name": "VTB BANK", "addresses": [{"country": "RU"}], "ids": [)"
      R"({"type": "Legal Entity Number", "number": "253400V1H6ART1UQ0N98", )"
      R"("country": "RU"}, {"type": "Tax ID No.", "number": "7702070139", )"
      R"("country": "RU"}, {"type": "Website", "number": "www.vtb.com"}, )"
      R"({"type": "Tax ID No.", "number": ""}]}])");
  ASSERT_THAT(DescribeAll(records), ElementsAre("1:ok:2"));
  const v1::Entity& e = records[0].mutations[0].upsert_entity();
  EXPECT_EQ(e.identifiers().at("lei"), "253400V1H6ART1UQ0N98");
  EXPECT_EQ(e.identifiers().at("tax_number"), "RU:7702070139");
  EXPECT_EQ(e.identifiers().at("csl_entity_number"), "18715");
  EXPECT_EQ(e.identifiers().count("website"), 0u);
  // The empty tax number is a warning on the row, not a rejection.
  EXPECT_THAT(records[0].warnings,
              ElementsAre(HasSubstr("Tax ID No. \"\" has no number")));
}

TEST(CslCsvTest, IdsCellBecomesIdentifiers) {
  auto records =
      ParseAll(Format::kCslCsv,
               "source,entity_number,name,addresses,ids\n"
               "SDN,1,VESSEL ONE,,\"Vessel Registration Identification, IMO "
               "7406784; Secondary sanctions risk:, North Korea Sanctions "
               "Regulations, sections 510.201 and 510.210\"\n"
               "EL,2,A CO,\"x, CN\",\"Unified Social Credit Code (USCC), "
               "91110000710935732K\"\n");
  ASSERT_THAT(DescribeAll(records), ElementsAre("2:ok:2", "3:ok:2"));
  EXPECT_EQ(records[0].mutations[0].upsert_entity().identifiers().at("imo"),
            "7406784");
  EXPECT_EQ(
      records[1].mutations[0].upsert_entity().identifiers().at("registration"),
      "CN:91110000710935732K");
}

TEST(CslJsonTest, BadRecordsAmongGoodOnes) {
  auto records = ParseAll(
      Format::kCslJson,
      absl::StrCat(
          "{\"results\": [\n", FlatRow(), ",\n",
          R"({"source": "SDN", "entity_number": "x", "name": "N", "addresses": "nope"})",
          ",\n", R"({"source": "SDN", "name": tru})", ",\n", "42", ",\n",
          FlatRow(), "\n]}"));
  EXPECT_THAT(DescribeAll(records),
              ElementsAre("2:ok:2", "3:ok:2", HasSubstr("4::"),
                          "5::not a JSON object", "6:ok:2"));
}

// Issue #15: a 60 KB row of nested arrays, and an array of arrays where
// names are expected.
TEST(CslJsonTest, NestingAndNestedNames) {
  const std::string deep =
      absl::StrCat(R"({"source": "SDN", "name": "N", "ids": )",
                   std::string(30000, '['), std::string(30000, ']'), "}");
  auto records = ParseAll(
      Format::kCslJson,
      absl::StrCat(
          "[", deep, ",\n",
          R"({"source": "SDN", "entity_number": 1, "name": "N", "alt_names": [["x"]]})",
          ",\n", FlatRow(), "]"));
  EXPECT_THAT(
      DescribeAll(records),
      ElementsAre(
          "1::nested deeper than 32 levels of arrays and objects",
          "2:alt_names:must be a string or an array of strings, got a nested "
          "array",
          "3:ok:2"));
}

}  // namespace
}  // namespace georisk::formats
