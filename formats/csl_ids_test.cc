// The CSL `ids` column, from entries as trade.gov writes them (each quoted
// from tests/data/real/csl: csl_2023-11_excerpt.csv, csl_2025-06_sample.csv
// and the 2019 layout of csl_2019_no_id.csv).
#include "formats/csl_ids.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(CslIdsTest, EntriesAreSplitInEitherLayout) {
  struct Case {
    std::string cell;
    std::string type, number, country;
  };
  const Case cases[] = {
      // Current layout: type, number[, country].
      {"Legal Entity Number, 253400V1H6ART1UQ0N98, RU", "Legal Entity Number",
       "253400V1H6ART1UQ0N98", "RU"},
      {"SWIFT/BIC, RUDVRUMM", "SWIFT/BIC", "RUDVRUMM", ""},
      {"Issuer Name, China Telecom Co., Ltd", "Issuer Name",
       "China Telecom Co., Ltd", ""},
      {"Registration ID, C122790", "Registration ID", "C122790", ""},
      // 2019 layout: [country, ]number, type.
      {"US, 80-0890696, Tax ID No.", "Tax ID No.", "80-0890696", "US"},
      {"5030056754, Tax ID No.", "Tax ID No.", "5030056754", ""},
      {"IMO 8898831, Vessel Registration Identification",
       "Vessel Registration Identification", "IMO 8898831", ""},
  };
  for (const Case& c : cases) {
    std::vector<CslIdEntry> e = ParseCslIdsCell(c.cell);
    ASSERT_EQ(e.size(), 1u) << c.cell;
    EXPECT_EQ(e[0].type, c.type) << c.cell;
    EXPECT_EQ(e[0].number, c.number) << c.cell;
    EXPECT_EQ(e[0].country, c.country) << c.cell;
  }
}

TEST(CslIdsTest, TypesMapToSchemes) {
  struct Case {
    std::string type, scheme;
  };
  const Case cases[] = {
      {"Legal Entity Number", "lei"},
      {"SWIFT/BIC", "swift_bic"},
      {"ISIN", "isin"},
      {"Equity Ticker", "ticker"},
      {"Registration ID", "registration"},
      {"Registration Number", "registration"},
      {"Public Registration Number", "registration"},
      {"Business Registration Document #", "registration"},
      {"Unified Social Credit Code (USCC)", "registration"},
      {"UK Company Number", "registration"},
      {"Tax ID No.", "tax_number"},
      {"tax id no", "tax_number"},
      {"NIT #", "tax_number"},
      {"V.A.T. Number", "tax_number"},
      {"US FEIN", "tax_number"},
      {"D-U-N-S Number", "duns"},
      {"Vessel Registration Identification", "imo"},
      {"Passport", "passport"},
      {"Cedula No.", "id_number"},
      {"D.N.I.", "id_number"},
      // Carried by the same column, not identifiers.
      {"Website", ""},
      {"Email Address", ""},
      {"Secondary sanctions risk:", ""},
      {"Executive Order 13662 Directive Determination -", ""},
      {"Government Gazette Number", ""},
      {"Gender", ""},
      {"Listing Date (CMIC)", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CslIdTypeScheme(c.type), c.scheme) << c.type;
  }
}

TEST(CslIdsTest, ARussianBankRowGivesItsIdentifiers) {
  // VTB's row, as the 2023 CSV writes it (abridged: the directive entries
  // repeat).
  const CslIdentifiers m = MapCslIds(ParseCslIdsCell(
      "Registration ID, 1027739609391, RU; Government Gazette Number, "
      "00032520, RU; Tax ID No., 7702070139, RU; License, 1000, RU; Legal "
      "Entity Number, 253400V1H6ART1UQ0N98, RU; Website, www.vtb.com; "
      "SWIFT/BIC, VTBRRUMM; Executive Order 13662 Directive Determination -, "
      "Subject to Directive 1"));
  EXPECT_THAT(m.identifiers,
              UnorderedElementsAre(Pair("registration", "RU:1027739609391"),
                                   Pair("tax_number", "RU:7702070139"),
                                   Pair("lei", "253400V1H6ART1UQ0N98"),
                                   Pair("swift_bic", "VTBRRUMM")));
  EXPECT_EQ(m.ignored, 4);  // gazette, licence, website, directive
  EXPECT_THAT(m.notes, IsEmpty());
}

TEST(CslIdsTest, ImpliedJurisdictionsTickersImoAndAliases) {
  const CslIdentifiers m = MapCslIds(ParseCslIdsCell(
      "Unified Social Credit Code (USCC), 9111000071093019X7; Issuer Name, "
      "China Telecom Corporation Limited; Issuer Name, China Telecom Co., "
      "Ltd; Equity Ticker, CHA US; Equity Ticker, ZCHA DE; ISIN, "
      "US1694261033; Vessel Registration Identification, IMO 7406784"));
  EXPECT_THAT(m.identifiers,
              UnorderedElementsAre(
                  Pair("registration", "CN:9111000071093019X7"),
                  Pair("ticker", "CHA US"), Pair("isin", "US1694261033"),
                  Pair("imo", "7406784")));
  EXPECT_THAT(m.aliases, ElementsAre("China Telecom Corporation Limited",
                                     "China Telecom Co., Ltd"));
  // The second ticker does not fit the one-value map: the first is kept.
  EXPECT_THAT(m.notes, IsEmpty());
}

TEST(CslIdsTest, EntriesWithoutAUsableNumberAreNotedNotKept) {
  const CslIdentifiers m =
      MapCslIds({{"Vessel Registration Identification", "8898831", ""},
                 {"Tax ID No.", "", "RU"},
                 {"Legal Entity Number", std::string(200, '9'), ""}});
  EXPECT_THAT(m.identifiers, IsEmpty());
  EXPECT_EQ(m.notes.size(), 3u);
}

}  // namespace
}  // namespace georisk::formats
