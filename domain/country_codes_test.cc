#include "domain/country_codes.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

TEST(CountryCodesTest, HasEveryAssignedCodeSorted) {
  absl::Span<const absl::string_view> codes = Iso3166Alpha2Codes();
  EXPECT_EQ(codes.size(), 249u);
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_TRUE(std::adjacent_find(codes.begin(), codes.end()) == codes.end());
  for (absl::string_view code : codes) EXPECT_TRUE(IsIso3166Alpha2(code));
}

TEST(CountryCodesTest, AcceptsAssignedCodes) {
  for (absl::string_view code :
       {"TW", "CN", "US", "KR", "JP", "NL", "DE", "AX", "ZW", "AD", "SS", "BQ",
        "CW", "SX", "MF", "BL"}) {
    EXPECT_TRUE(IsIso3166Alpha2(code)) << code;
  }
}

TEST(CountryCodesTest, RejectsUnassignedReservedAndMalformed) {
  for (absl::string_view code :
       {"", "T", "tw", "Tw", "TWN", "XK", "UK", "EU", "UN", "AN", "CS", "YU",
        "ZZ", "AA", "QZ", "XX", "*", "T1"}) {
    EXPECT_FALSE(IsIso3166Alpha2(code)) << code;
  }
}

}  // namespace
}  // namespace georisk::domain
