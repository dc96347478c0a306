#include "resolve/name_similarity.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace georisk::resolve {
namespace {

double Idf1(absl::string_view) { return 1.0; }

TEST(JaroWinklerTest, KnownValues) {
  // Winkler's (1990) examples.
  EXPECT_NEAR(JaroWinkler("martha", "marhta"), 0.961, 0.001);
  EXPECT_NEAR(JaroWinkler("dwayne", "duane"), 0.84, 0.001);
  EXPECT_NEAR(JaroWinkler("dixon", "dicksonx"), 0.813, 0.001);
  EXPECT_EQ(JaroWinkler("abc", "abc"), 1.0);
  EXPECT_EQ(JaroWinkler("", "abc"), 0.0);
  EXPECT_EQ(JaroWinkler("abc", "xyz"), 0.0);
}

TEST(SoftTfIdfTest, IdenticalAndDisjoint) {
  EXPECT_NEAR(SoftTfIdf({"huawei", "technologies"}, {"huawei", "technologies"},
                        Idf1, 0.9),
              1.0, 1e-9);
  EXPECT_EQ(SoftTfIdf({"huawei"}, {"zte"}, Idf1, 0.9), 0.0);
  EXPECT_EQ(SoftTfIdf({}, {"zte"}, Idf1, 0.9), 0.0);
}

TEST(SoftTfIdfTest, CloseTokensCount) {
  const double s = SoftTfIdf({"lukoil"}, {"lukoyl"}, Idf1, 0.9);
  EXPECT_GT(s, 0.9);
  EXPECT_LT(s, 1.0);
}

TEST(SoftTfIdfTest, RareTokensWeighMore) {
  auto idf = [](absl::string_view t) { return t == "huawei" ? 10.0 : 1.0; };
  EXPECT_GT(SoftTfIdf({"huawei"}, {"huawei", "technologies"}, idf, 0.9), 0.99);
  EXPECT_LT(SoftTfIdf({"technologies"}, {"huawei", "technologies"}, idf, 0.9),
            0.2);
}

TEST(SoftTfIdfTest, CompoundsMerge) {
  EXPECT_NEAR(SoftTfIdf({"aerocaribbean"}, {"aero", "caribbean"}, Idf1, 0.9),
              1.0, 1e-9);
  EXPECT_NEAR(SoftTfIdf({"hua", "wei"}, {"huawei"}, Idf1, 0.9), 1.0, 1e-9);
}

TEST(AcronymTest, Initials) {
  EXPECT_TRUE(IsAcronymOf(
      "smic", {"semiconductor", "manufacturing", "international"}, {"corp"}));
  EXPECT_TRUE(IsAcronymOf("bnc", {"banco", "nacional", "de", "cuba"}, {}) ==
              false);
  EXPECT_TRUE(IsAcronymOf("nbc", {"national", "bank", "of", "cuba"}, {}));
  EXPECT_FALSE(IsAcronymOf("x", {"x", "y"}, {}));
  EXPECT_FALSE(IsAcronymOf("ab", {"alpha"}, {}));
}

}  // namespace
}  // namespace georisk::resolve
