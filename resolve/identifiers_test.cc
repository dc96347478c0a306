#include "resolve/identifiers.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Valid {
  const char* scheme;
  const char* raw;
  const char* country;
  const char* value;
};

TEST(IdentifiersTest, ValidValuesNormalise) {
  const Valid kCases[] = {
      // GLEIF's own LEI and Apple Inc.'s (lei-lookup examples).
      {"lei", "506700GE1G29325QX363", "", "506700GE1G29325QX363"},
      {"lei", " hwupkr0mpou8fgxbt394 ", "", "HWUPKR0MPOU8FGXBT394"},
      {"LEI", "5067 00GE 1G29 325Q X363", "", "506700GE1G29325QX363"},
      // ISINs: Apple; SMIC's ordinary shares, as OFAC's CMIC entry lists.
      {"isin", "US0378331005", "", "US0378331005"},
      {"isin", "KYG8020E1199", "", "KYG8020E1199"},
      {"isin", "us-0378331005", "", "US0378331005"},
      // IMO numbers from OFAC's SDN remarks.
      {"imo", "IMO 9187629", "", "9187629"},
      {"imo", "9187629", "", "9187629"},
      {"imo_company", "5335127", "", "5335127"},
      {"wikidata", "q42", "", "Q42"},
      {"wikidata", "https://www.wikidata.org/wiki/Q2283", "", "Q2283"},
      {"opensanctions", "ofac-46001", "", "ofac-46001"},
      {"opensanctions", "NK-2Fq8Z9aT3pQe", "", "NK-2Fq8Z9aT3pQe"},
      {"csl_entity_number", "046001", "", "46001"},
      {"registration", "GB:01234567", "", "GB:01234567"},
      {"registration", "1027700132195", "ru", "RU:1027700132195"},
      {"tax_number", "us: 80-0890696", "", "US:800890696"},
      // Sberbank's INN and OGRN (its public registry entries).
      {"inn", "7707083893", "", "7707083893"},
      {"ogrn", "1027700132195", "", "1027700132195"},
      {"duns", "52-024-2307", "", "520242307"},
      {"swift_bic", "SABRRUMMXXX", "", "SABRRUMM"},
      {"swift_bic", "deutdeff500", "", "DEUTDEFF500"},
      {"perm_id", "4295865171", "", "4295865171"},
      {"ticker", "0981.HK", "", "HK:981"},
      {"ticker", "00981 HK", "", "HK:981"},
      {"ticker", "HKEX:981", "", "HK:981"},
      {"ticker", "688981 CN", "", "CN:688981"},
      {"ticker", "smic", "", "SMIC"},
      {"some_scheme", " x-1 ", "", "x-1"},
  };
  for (const Valid& c : kCases) {
    absl::StatusOr<Identifier> id =
        NormalizeIdentifier(c.scheme, c.raw, c.country);
    ASSERT_TRUE(id.ok()) << c.scheme << " " << c.raw << ": " << id.status();
    EXPECT_EQ(id->value, c.value) << c.scheme << " " << c.raw;
  }
}

struct Bad {
  const char* scheme;
  const char* raw;
  const char* why;
};

TEST(IdentifiersTest, InvalidValuesAreRejectedWithTheReason) {
  const Bad kCases[] = {
      {"lei", "506700GE1G29325QX364", "check digits"},
      {"lei", "506700GE1G29325QX36", "20 characters"},
      {"lei", "506700GE1G29325QX36!", "20 characters"},
      {"isin", "US0378331006", "Luhn"},
      {"isin", "US037833100", "12 characters"},
      {"imo", "9187628", "check digit"},
      {"imo", "918762", "7 digits"},
      {"wikidata", "P31", "Q followed"},
      {"wikidata", "Q0123", "Q followed"},
      {"opensanctions", "ofac 46001", "no spaces"},
      {"csl_entity_number", "46001a", "digits"},
      {"registration", "01234567", "jurisdiction"},
      {"inn", "7707083894", "check digits"},
      {"ogrn", "1027700132196", "check digit"},
      {"duns", "12345678", "9 digits"},
      {"swift_bic", "SAB1RUMM", "BIC"},
      {"ticker", "HK:", "no symbol"},
      {"lei", "", "empty"},
      {"", "x", "empty scheme"},
  };
  for (const Bad& c : kCases) {
    absl::StatusOr<Identifier> id = NormalizeIdentifier(c.scheme, c.raw, "");
    ASSERT_FALSE(id.ok()) << c.scheme << " " << c.raw;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(id.status().message()), HasSubstr(c.why))
        << c.scheme << " " << c.raw;
  }
}

TEST(IdentifiersTest, Strength) {
  EXPECT_EQ(NormalizeIdentifier("lei", "506700GE1G29325QX363", "")->strength,
            IdentifierStrength::kStrong);
  EXPECT_TRUE(
      NormalizeIdentifier("lei", "506700GE1G29325QX363", "")->one_per_party);
  EXPECT_EQ(NormalizeIdentifier("ticker", "0981.HK", "")->strength,
            IdentifierStrength::kWeak);
  EXPECT_EQ(NormalizeIdentifier("unknown", "1", "")->strength,
            IdentifierStrength::kWeak);
  EXPECT_NE(FindScheme("duns"), nullptr);
  EXPECT_EQ(FindScheme("nope"), nullptr);
  EXPECT_EQ(KnownSchemes().size(), 16u);
}

TEST(IdentifiersTest, CslEntityNumberAndOpenSanctionsReferentMeet) {
  Identifier csl = *NormalizeIdentifier("csl_entity_number", "46001", "");
  Identifier os = *NormalizeIdentifier("opensanctions", "ofac-46001", "");
  EXPECT_THAT(IndexKeys(csl),
              ElementsAre("csl_entity_number:46001", "ofac:46001"));
  EXPECT_THAT(IndexKeys(os),
              ElementsAre("opensanctions:ofac-46001", "ofac:46001"));
  Identifier other = *NormalizeIdentifier("opensanctions", "NK-abc", "");
  EXPECT_THAT(IndexKeys(other), ElementsAre("opensanctions:NK-abc"));
}

// VTB's OGRN and INN, as the CSL writes them (registration and tax numbers
// with country RU) and as OpenSanctions writes them (ogrnCode, innCode).
TEST(IdentifiersTest, RussianRegistrationAndTaxNumbersMeetOgrnAndInn) {
  const Identifier reg =
      *NormalizeIdentifier("registration", "1027739609391", "RU");
  const Identifier ogrn = *NormalizeIdentifier("ogrn", "1027739609391", "");
  EXPECT_THAT(IndexKeys(reg), ElementsAre("registration:RU:1027739609391",
                                          "ogrn:1027739609391"));
  EXPECT_THAT(IndexKeys(ogrn), ElementsAre("ogrn:1027739609391"));
  const Identifier tax =
      *NormalizeIdentifier("tax_number", "RU:7702070139", "");
  EXPECT_THAT(IndexKeys(tax),
              ElementsAre("tax_number:RU:7702070139", "inn:7702070139"));
  // Not Russian, or not a valid OGRN: no cross key.
  EXPECT_THAT(
      IndexKeys(*NormalizeIdentifier("registration", "1027739609391", "KZ")),
      ElementsAre("registration:KZ:1027739609391"));
  EXPECT_THAT(
      IndexKeys(*NormalizeIdentifier("registration", "1027739609392", "RU")),
      ElementsAre("registration:RU:1027739609392"));
  EXPECT_THAT(IndexKeys(*NormalizeIdentifier("registration", "C122790", "RU")),
              ElementsAre("registration:RU:C122790"));
}

TEST(IdentifiersTest, ChecksumHelpers) {
  EXPECT_TRUE(LeiChecksumValid("506700GE1G29325QX363"));
  EXPECT_FALSE(LeiChecksumValid("506700GE1G29325QX3"));
  EXPECT_TRUE(IsinChecksumValid("US0378331005"));
  EXPECT_TRUE(ImoChecksumValid("9074729"));  // the IMO's own example
  EXPECT_TRUE(InnChecksumValid("7707083893"));
  EXPECT_TRUE(OgrnChecksumValid("1027700132195"));
}

}  // namespace
}  // namespace georisk::resolve
