#include "domain/country_names.h"

#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

TEST(CountryCodeFromNameTest, NamesTheIssueAndTheRealFilesUse) {
  // Issue #14's examples and the country cells of
  // tests/data/real/csl/csl_2023-11_excerpt.csv: "HONG KONG" (line 2250),
  // "CHINA" (2714), "PRC" (536), "Iran" (2331).
  EXPECT_EQ(CountryCodeFromName("Taiwan"), "TW");
  EXPECT_EQ(CountryCodeFromName("Brasil"), "BR");
  EXPECT_EQ(CountryCodeFromName("China (mainland)"), "CN");
  EXPECT_EQ(CountryCodeFromName("HONG KONG"), "HK");
  EXPECT_EQ(CountryCodeFromName("CHINA"), "CN");
  EXPECT_EQ(CountryCodeFromName("PRC"), "CN");
  EXPECT_EQ(CountryCodeFromName("Korea, South"), "KR");
  EXPECT_EQ(CountryCodeFromName("Iran"), "IR");
  // zala line 8: "Russian Federation"; other languages from CLDR.
  EXPECT_EQ(CountryCodeFromName("Russian Federation"), "RU");
  EXPECT_EQ(CountryCodeFromName("Россия"), "RU");
  EXPECT_EQ(CountryCodeFromName("Deutschland"), "DE");
  EXPECT_EQ(CountryCodeFromName("中国"), "CN");
  EXPECT_EQ(CountryCodeFromName("台湾"), "TW");
  EXPECT_EQ(CountryCodeFromName("Türkiye"), "TR");
  // Codes.
  EXPECT_EQ(CountryCodeFromName("tw"), "TW");
  EXPECT_EQ(CountryCodeFromName(" AM "), "AM");
  EXPECT_EQ(CountryCodeFromName("RUS"), "RU");
}

TEST(CountryCodeFromNameTest, UnknownGivesEmpty) {
  // csl_2023-11_excerpt.csv: "UNDETERMINED" (995), "JABALIYA" (1031),
  // "D. 10 OFIS 201" (768), "NM" (782: a US state).
  for (const char* unknown : {"UNDETERMINED", "JABALIYA", "D. 10 OFIS 201",
                              "NM", "", "XK", "EU", "New Mexico"}) {
    EXPECT_EQ(CountryCodeFromName(unknown), "") << unknown;
  }
}

}  // namespace
}  // namespace georisk::domain
