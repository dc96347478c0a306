#include "domain/normalize.h"

#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

v1::Mutation Text(const std::string& text) {
  v1::Mutation m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

struct Case {
  const char* name;
  std::string in;
  std::string want;
};

class NormalizeTest : public ::testing::TestWithParam<Case> {};

TEST_P(NormalizeTest, NormalizesAndIsIdempotent) {
  v1::Mutation m = Text(GetParam().in);
  NormalizeMutation(&m);
  const v1::Mutation want = Text(GetParam().want);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(m, want))
      << m.ShortDebugString();
  NormalizeMutation(&m);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(m, want));
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizeTest,
    ::testing::Values(
        Case{"entity",
             R"(upsert_entity { id: " company/tsmc " name: "  TSMC\t"
                country: "tw " region: "tw-hsz" product_codes: "8542.31"
                product_codes: " 85 42 " aliases: " Taiwan Semi " aliases: "  "
                identifiers { key: "lei" value: " 549300 " }
                source: " https://x " })",
             R"(upsert_entity { id: "company/tsmc" name: "TSMC" country: "TW"
                region: "TW-HSZ" product_codes: "854231" product_codes: "8542"
                aliases: "Taiwan Semi" identifiers { key: "lei" value: "549300" }
                source: "https://x" })"},
        Case{"edge",
             R"(upsert_edge { from_id: "company/a " to_id: " company/b"
                product_code: "8541.10" source: " s " })",
             R"(upsert_edge { from_id: "company/a" to_id: "company/b"
                product_code: "854110" source: "s" })"},
        Case{"export_control",
             R"(upsert_signal { id: " signal/x" export_control {
                authority: "us-bis" destination_countries: "cn"
                product_codes: "3818.00" list: " EL " } title: " t " })",
             R"(upsert_signal { id: "signal/x" export_control {
                authority: "US-BIS" destination_countries: "CN"
                product_codes: "381800" list: "EL" } title: "t" })"},
        Case{"tariff",
             R"(upsert_signal { tariff { programme: " Section 301 "
                importer_country: "us" origin_country: "*" hs_prefix: "8541." } })",
             R"(upsert_signal { tariff { programme: "Section 301"
                importer_country: "US" origin_country: "*" hs_prefix: "8541" } })"},
        Case{"tension_weights_rekeyed",
             R"(upsert_signal { tension { theatre: "cross_strait "
                country_weights { key: "tw" value: 1 }
                country_weights { key: "CN" value: 0.5 } } })",
             R"(upsert_signal { tension { theatre: "cross_strait"
                country_weights { key: "TW" value: 1 }
                country_weights { key: "CN" value: 0.5 } } })"},
        Case{"deletes",
             R"(delete_edge { from_id: " company/a" product_code: "85.42" })",
             R"(delete_edge { from_id: "company/a" product_code: "8542" })"},
        Case{"garbage_is_left_for_validation",
             R"(upsert_entity { country: "Taiwan" product_codes: "85a2" })",
             R"(upsert_entity { country: "TAIWAN" product_codes: "85a2" })"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(NormalizeHelpersTest, CountryAndHsCode) {
  EXPECT_EQ(NormalizeCountry(" kr\n"), "KR");
  EXPECT_EQ(NormalizeHsCode(" 8542.31.00 "), "85423100");
  EXPECT_EQ(NormalizeHsCode(""), "");
}

}  // namespace
}  // namespace georisk::domain
