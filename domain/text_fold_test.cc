#include "domain/text_fold.h"

#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

// Real authority strings of tests/data/real/ftm/zala.entities.ftm.json.
TEST(FoldForMatchTest, RealAuthorityStrings) {
  // Line 37: the EU's DG FISMA, with U+2011 NON-BREAKING HYPHEN.
  EXPECT_EQ(FoldForMatch("Directorate\u2011General for Financial Stability, "
                         "Financial Services and Capital Markets Union"),
            "directorate general for financial stability financial services "
            "and capital markets union");
  // The same with an ASCII hyphen, an en dash and a minus sign.
  for (const char* spelling :
       {"Directorate-General for Financial Stability",
        "Directorate\u2013General for Financial Stability",
        "DIRECTORATE\u2212GENERAL FOR FINANCIAL STABILITY"}) {
    EXPECT_EQ(FoldForMatch(spelling),
              "directorate general for financial stability")
        << spelling;
  }
  // Line 40: French accents; line 46: "&".
  EXPECT_EQ(FoldForMatch("Direction Générale du Trésor"),
            "direction generale du tresor");
  EXPECT_EQ(FoldForMatch("Foreign, Commonwealth & Development Office"),
            "foreign commonwealth development office");
  // Lines 84-85: Cyrillic, upper and lower case fold together.
  EXPECT_EQ(FoldForMatch("ГУР МО України"), FoldForMatch("гур мо україни"));
  EXPECT_EQ(FoldForMatch("Служба безпеки України"),
            FoldForMatch("СЛУЖБА БЕЗПЕКИ УКРАЇНИ"));
  // Full-width forms (NFKC).
  EXPECT_EQ(FoldForMatch("ＯＦＡＣ"), "ofac");
  EXPECT_EQ(FoldForMatch("  \t "), "");
}

TEST(ContainsFoldedWordsTest, WholeWordsOnly) {
  EXPECT_TRUE(ContainsFoldedWords("state seco office", "seco"));
  EXPECT_FALSE(ContainsFoldedWords("second office", "seco"));
  EXPECT_TRUE(ContainsFoldedWords("ofac", "ofac"));
  EXPECT_FALSE(ContainsFoldedWords("ofac", ""));
}

}  // namespace
}  // namespace georisk::domain
