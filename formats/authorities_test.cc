#include "formats/authorities.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct RealSanction {
  int line;  // In tests/data/real/ftm/zala.entities.ftm.json.
  SanctionFacts facts;
  std::string authority;
  v1::ExportControl::Measure measure;
};

constexpr auto kExport = v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING;
constexpr auto kBlocking = v1::ExportControl::MEASURE_BLOCKING_SANCTION;
constexpr auto kDebarment = v1::ExportControl::MEASURE_DEBARMENT;
constexpr auto kOther = v1::ExportControl::MEASURE_OTHER;

// The `authority`, `programId`, `country`, `provisions` and dataset of real
// Sanction records, verbatim (GAPS.md §3-4).
TEST(ClassifySanctionTest, RealSanctionRecords) {
  const std::vector<RealSanction> cases = {
      {37,
       {{"Directorate\u2011General for Financial Stability, Financial "
         "Services and Capital Markets Union"},
        "EU-UKR",
        "eu",
        "eu_fsf",
        {}},
       "EU",
       kBlocking},
      {39,
       {{"Council of the European Union"}, "", "eu", "eu_travel_bans", {}},
       "EU",
       kOther},
      {33,
       {{"State Secretariat for Economic Affairs"},
        "SECO-UKRAINE",
        "ch",
        "ch_seco_sanctions",
        {}},
       "CH",
       kBlocking},
      {40,
       {{"Direction Générale du Trésor"},
        "EU-UKR",
        "fr",
        "fr_tresor_gels_avoir",
        {}},
       "FR",
       kBlocking},
      {43,
       {{"The Insolvency Service"}, "", "gb", "gb_coh_disqualified", {}},
       "UK-INSOLVENCY",
       kDebarment},
      {46,
       {{"Foreign, Commonwealth & Development Office", "UK"},
        "GB-RUS",
        "gb",
        "gb_fcdo_sanctions",
        {}},
       "UK",
       kBlocking},
      {48,
       {{"Ministry of Finance"}, "", "jp", "jp_mof_sanctions", {}},
       "JP-MOF",
       kBlocking},
      {49,
       {{"Ministry of Economy, Trade and Industry"},
        "",
        "jp",
        "jp_meti_ru",
        {}},
       "JP-METI",
       kExport},
      {53,
       {{"Ministry of Foreign Affairs and Trade"},
        "NZ-RSA2022",
        "nz",
        "nz_russia_sanctions",
        {}},
       "NZ",
       kBlocking},
      {58,
       {{"Office of Foreign Assets Control"},
        "US-RUSHAR",
        "us",
        "us_ofac_sdn",
        {"RUSSIA-EO14024", "Block"}},
       "US-OFAC",
       kBlocking},
      {81,
       {{"Entity List (EL) - Bureau of Industry and Security",
         "Department of the Commerce - International Trade Administration"},
        "US-BIS-EL",
        "us",
        "us_trade_csl",
        {}},
       "US-BIS",
       kExport},
      {84,
       {{"Служба безпеки України", "National Security and Defense Council"},
        "UA-SA1644",
        "ua",
        "ua_nsdc_sanctions",
        {}},
       "UA",
       kBlocking},
      {85,
       {{"ГУР МО України"}, "UA-WS-UAVS", "ua", "ua_war_sanctions", {}},
       "UA",
       kOther},
      {87,
       {{"OFAC"}, "", "us", "us_sam_exclusions", {"Prohibition/Restriction"}},
       "US-OFAC",
       kDebarment},
      {50,
       {{"La Principauté de Monaco"}, "", "", "mc_fund_freezes", {}},
       "MC",
       kBlocking},
      {30,
       {{"Federal Public Service Finance"},
        "EU-UKR",
        "be",
        "be_fod_sanctions",
        {}},
       "BE",
       kBlocking},
  };
  for (const RealSanction& c : cases) {
    const SanctionClass got = ClassifySanction(c.facts);
    EXPECT_EQ(got.authority, c.authority) << "line " << c.line;
    EXPECT_EQ(got.measure, c.measure) << "line " << c.line;
    EXPECT_THAT(got.warnings, IsEmpty()) << "line " << c.line;
  }
}

TEST(ClassifySanctionTest, FallsBackToProgrammeIssuerThenJurisdiction) {
  // An authority name not in the table, with a programme id.
  SanctionFacts facts{{"Some Ministry"}, "GB-RUS", "", "", {"Block"}};
  SanctionClass got = ClassifySanction(facts);
  EXPECT_EQ(got.authority, "UK");
  EXPECT_EQ(got.measure, kBlocking);
  // No programme id: the sanction's jurisdiction.
  facts = {{"Ministry of Finance"}, "", "lt", "", {"Asset freeze"}};
  got = ClassifySanction(facts);
  EXPECT_EQ(got.authority, "LT");
  EXPECT_EQ(got.measure, kBlocking);
}

TEST(ClassifySanctionTest, UnknownIsKeptWithWarningsNeverAProgrammeNumber) {
  // Cyrillic authority nobody lists, a programme number, nothing else.
  const SanctionFacts facts{{"Неизвестный орган"}, "", "", "", {"761/2024"}};
  const SanctionClass got = ClassifySanction(facts);
  EXPECT_EQ(got.authority, "UNKNOWN");
  EXPECT_EQ(got.measure, kOther);
  ASSERT_THAT(got.warnings, SizeIs(2));
  EXPECT_THAT(got.warnings[0], HasSubstr("not in the table of issuers"));
  EXPECT_THAT(got.warnings[1], HasSubstr("measure not classified"));
  // An ASCII name outside the table keeps its own code.
  EXPECT_EQ(
      ClassifySanction({{"Ministry of Defence"}, "", "", "", {}}).authority,
      "MINISTRY-OF-DEFENCE");
}

TEST(CslListMeasureTest, EveryList) {
  EXPECT_EQ(CslListMeasure("EL"), kExport);
  EXPECT_EQ(CslListMeasure("SDN"), kBlocking);
  EXPECT_EQ(CslListMeasure("SSI"),
            v1::ExportControl::MEASURE_SECTORAL_SANCTION);
  EXPECT_EQ(CslListMeasure("DTC"), kDebarment);
  EXPECT_EQ(CslListMeasure("XYZ"), kOther);
}

}  // namespace
}  // namespace georisk::formats
