#include "services/scorer/model/model_config.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::Time Utc(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ModelConfigTest, DefaultsAreFilled) {
  absl::StatusOr<v1::ModelConfig> c = ParseModelConfig("version: \"v9\"");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version(), "v9");
  EXPECT_EQ(c->tier_attenuation(), 0.85);
  EXPECT_EQ(c->tariff_cap(), 0.5);
  ASSERT_EQ(c->factor_weights_size(), 3);
  EXPECT_EQ(c->factor_weights(0).lambda(), 1.0);
  EXPECT_EQ(c->factor_weights(1).lambda(), 0.6);
  EXPECT_EQ(c->factor_weights(2).lambda(), 0.8);
  EXPECT_EQ(c->tension_country_weights().at("TW"), 1.0);
  EXPECT_EQ(c->tension_country_weights().at("CN"), 0.5);
  EXPECT_EQ(c->bands().medium(), 30);
  EXPECT_EQ(c->bands().high(), 60);
  EXPECT_EQ(c->bands().critical(), 80);
  EXPECT_EQ(c->convergence_tolerance(), 1e-6);
  EXPECT_EQ(c->max_iterations(), 1000);
  ASSERT_EQ(c->ownership_rules_size(), 5);
  EXPECT_EQ(c->ownership_rules(0).authority(), "US-OFAC");
  EXPECT_FALSE(c->ownership_rules(0).more_than());
  EXPECT_EQ(c->ownership_rules(1).authority(), "US-BIS");
  EXPECT_EQ(c->ownership_rules(2).authority(), "EU");
  EXPECT_EQ(c->ownership_rules(2).test(),
            v1::OwnershipRule::OWNERSHIP_OR_CONTROL);
  EXPECT_EQ(c->ownership_rules(3).authority(), "UK");
  EXPECT_TRUE(c->ownership_rules(3).more_than());
  EXPECT_EQ(c->ownership_rules(3).threshold(), 0.5);
  EXPECT_EQ(c->ownership_rules(4).authority(), "CH");
  EXPECT_TRUE(c->ownership_rules(4).more_than());
  EXPECT_EQ(c->ownership_rules(4).threshold(), 0.5);
  // One measure policy per ExportControl.Measure, in enum order.
  ASSERT_EQ(c->measure_policies_size(), 6);
  for (int m = 0; m < 6; ++m) {
    EXPECT_EQ(c->measure_policies(m).measure(), m);
  }
  const v1::MeasurePolicy& debarment =
      c->measure_policies(v1::ExportControl::MEASURE_DEBARMENT);
  EXPECT_TRUE(debarment.counts());
  EXPECT_EQ(debarment.default_severity(), 0.3);
  EXPECT_FALSE(debarment.ownership_rules_apply());
  const v1::MeasurePolicy& other =
      c->measure_policies(v1::ExportControl::MEASURE_OTHER);
  EXPECT_FALSE(other.counts());
  EXPECT_FALSE(other.ownership_rules_apply());
  const v1::MeasurePolicy& blocking =
      c->measure_policies(v1::ExportControl::MEASURE_BLOCKING_SANCTION);
  EXPECT_TRUE(blocking.counts());
  EXPECT_EQ(blocking.default_severity(), 0.9);
  EXPECT_TRUE(blocking.ownership_rules_apply());
  const v1::MeasurePolicy& unspecified =
      c->measure_policies(v1::ExportControl::MEASURE_UNSPECIFIED);
  EXPECT_TRUE(unspecified.counts());
  EXPECT_EQ(unspecified.default_severity(), 0);
  EXPECT_TRUE(unspecified.ownership_rules_apply());
  EXPECT_FALSE(c->unknown_measure().counts());
  EXPECT_EQ(c->sha256(), Sha256Hex("version: \"v9\""));
  EXPECT_EQ(c->sha256().size(), 64u);
}

TEST(ModelConfigTest, GivenValuesAreKeptAndMissingLambdasDefaulted) {
  absl::StatusOr<v1::ModelConfig> c = ParseModelConfig(R"pb(
    version: "v2"
    tier_attenuation: 0.7
    factor_weights { factor: FACTOR_TARIFFS lambda: 0.3 }
    tension_country_weights { key: "JP" value: 0.2 }
    ownership_rules { authority: "UK" threshold: 0.5 }
  )pb");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tier_attenuation(), 0.7);
  EXPECT_EQ(c->factor_weights(0).lambda(), 1.0);
  EXPECT_EQ(c->factor_weights(1).lambda(), 0.3);
  EXPECT_EQ(c->tension_country_weights().size(), 1u);
  ASSERT_EQ(c->ownership_rules_size(), 1);
  EXPECT_EQ(c->ownership_rules(0).authority(), "UK");
}

TEST(ModelConfigTest, GivenMeasurePoliciesAreKeptAndMissingOnesDefaulted) {
  absl::StatusOr<v1::ModelConfig> c = ParseModelConfig(R"pb(
    version: "v2"
    measure_policies {
      measure: MEASURE_OTHER
      counts: true
      default_severity: 0.1
    }
    unknown_measure { counts: true }
  )pb");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->measure_policies_size(), 6);
  const v1::MeasurePolicy& other =
      c->measure_policies(v1::ExportControl::MEASURE_OTHER);
  EXPECT_TRUE(other.counts());
  EXPECT_EQ(other.default_severity(), 0.1);
  EXPECT_FALSE(other.ownership_rules_apply());
  EXPECT_EQ(c->measure_policies(v1::ExportControl::MEASURE_SECTORAL_SANCTION)
                .default_severity(),
            0.5);
  EXPECT_TRUE(c->unknown_measure().counts());
}

TEST(ModelConfigTest, MeasurePolicyErrorsNameTheField) {
  EXPECT_EQ(ParseModelConfig(R"pb(
              version: "v2"
              measure_policies { measure: MEASURE_DEBARMENT }
              measure_policies { measure: MEASURE_DEBARMENT }
            )pb")
                .status(),
            absl::InvalidArgumentError(
                "measure_policies[1].measure: MEASURE_DEBARMENT appears more "
                "than once"));
  EXPECT_EQ(ParseModelConfig(R"pb(
              version: "v2"
              measure_policies { measure: MEASURE_OTHER default_severity: 1.5 }
            )pb")
                .status(),
            absl::InvalidArgumentError(
                "measure_policies[0].default_severity: must be in [0, 1], "
                "got 1.5"));
  EXPECT_EQ(ParseModelConfig(R"pb(
              version: "v2"
              measure_policies { measure: 9 }
            )pb")
                .status(),
            absl::InvalidArgumentError(
                "measure_policies[0].measure: unknown measure 9 (use "
                "unknown_measure)"));
  EXPECT_EQ(ParseModelConfig(R"pb(
              version: "v2"
              unknown_measure { default_severity: -0.5 }
            )pb")
                .status(),
            absl::InvalidArgumentError(
                "unknown_measure.default_severity: must be in [0, 1], got "
                "-0.5"));
}

TEST(ModelConfigTest, UkAndSwissRulesAreAlwaysActive) {
  const auto rules = DefaultOwnershipRules();
  ASSERT_EQ(rules.size(), 5);
  EXPECT_TRUE(OwnershipRuleActiveAt(rules[3], Utc(2019, 1, 1)));
  EXPECT_TRUE(OwnershipRuleActiveAt(rules[4], Utc(2027, 1, 1)));
}

TEST(ModelConfigTest, BisRuleWindowIsHalfOpen) {
  const v1::OwnershipRule bis = DefaultOwnershipRules()[1];
  ASSERT_EQ(bis.authority(), "US-BIS");
  EXPECT_FALSE(OwnershipRuleActiveAt(bis, Utc(2025, 9, 29) - absl::Seconds(1)));
  EXPECT_TRUE(OwnershipRuleActiveAt(bis, Utc(2025, 9, 29)));
  EXPECT_TRUE(OwnershipRuleActiveAt(bis, Utc(2025, 11, 10) - absl::Seconds(1)));
  EXPECT_FALSE(OwnershipRuleActiveAt(bis, Utc(2025, 11, 10)));
  // 9 Nov 2026, the last suspended day, still suspended at its last second.
  EXPECT_FALSE(
      OwnershipRuleActiveAt(bis, Utc(2026, 11, 10) - absl::Seconds(1)));
  EXPECT_TRUE(OwnershipRuleActiveAt(bis, Utc(2026, 11, 10)));
  const v1::OwnershipRule ofac = DefaultOwnershipRules()[0];
  EXPECT_TRUE(OwnershipRuleActiveAt(ofac, Utc(1990, 1, 1)));
}

struct BadCase {
  std::string text;
  std::string error;  // Expected message prefix.
};

TEST(ModelConfigTest, ErrorsNameTheField) {
  const std::vector<BadCase> cases = {
      {"tier_attenuation: 0.5", "version: required"},
      {"version: \"v 1\"", "version: must match"},
      {"version: \"v1\" tier_attenuation: 1.2",
       "tier_attenuation: must be in (0, 1], got 1.2"},
      {"version: \"v1\" tier_attenuation: -0.1",
       "tier_attenuation: must be in (0, 1], got -0.1"},
      {"version: \"v1\" factor_weights { lambda: 0.5 }",
       "factor_weights[0].factor: required"},
      {"version: \"v1\" factor_weights { factor: FACTOR_TARIFFS lambda: 1.5 }",
       "factor_weights[0].lambda: must be in [0, 1], got 1.5"},
      {"version: \"v1\" factor_weights { factor: FACTOR_TARIFFS lambda: 0.5 } "
       "factor_weights { factor: FACTOR_TARIFFS lambda: 0.4 }",
       "factor_weights[1].factor: FACTOR_TARIFFS appears more than once"},
      {"version: \"v1\" tariff_cap: -1", "tariff_cap: must be > 0, got -1"},
      {"version: \"v1\" tension_country_weights { key: \"XX\" value: 1 }",
       "tension_country_weights[\"XX\"]: must be keyed by an ISO 3166-1"},
      {"version: \"v1\" tension_country_weights { key: \"TW\" value: 2 }",
       "tension_country_weights[\"TW\"]: must be in [0, 1], got 2"},
      {"version: \"v1\" bands { medium: 70 }",
       "bands.medium: must be in (0, bands.high = 60), got 70"},
      {"version: \"v1\" bands { high: 90 }",
       "bands.high: must be below bands.critical = 80, got 90"},
      {"version: \"v1\" bands { critical: 120 }",
       "bands.critical: must be at most 100, got 120"},
      {"version: \"v1\" ownership_rules { authority: \"us-bis\" threshold: 0.5 "
       "}",
       "ownership_rules[0].authority: must match [A-Z0-9-]{2,32}"},
      {"version: \"v1\" ownership_rules { authority: \"EU\" threshold: 1.5 }",
       "ownership_rules[0].threshold: must be in (0, 1], got 1.5"},
      {"version: \"v1\" ownership_rules { authority: \"EU\" threshold: 0.5 } "
       "ownership_rules { authority: \"EU\" threshold: 0.5 }",
       "ownership_rules[1].authority: EU has more than one ownership rule"},
      {"version: \"v1\" ownership_rules { authority: \"EU\" threshold: 0.5 "
       "active { start { seconds: 10 } end { seconds: 5 } } }",
       "ownership_rules[0].active[0].end: must be after start"},
      {"version: \"v1\" convergence_tolerance: 0.5",
       "convergence_tolerance: must be in (0, 0.001], got 0.5"},
      {"version: \"v1\" max_iterations: -3",
       "max_iterations: must be in [1, 1000000], got -3"},
      {"version: \"v1\" no_such_field: 1", "line 1, column"},
  };
  for (const BadCase& bad : cases) {
    absl::StatusOr<v1::ModelConfig> c = ParseModelConfig(bad.text);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.text;
    EXPECT_THAT(Message(c.status()), StartsWith(bad.error)) << bad.text;
  }
}

TEST(ModelConfigTest, TheShippedFileIsTheDefaultModel) {
  absl::StatusOr<v1::ModelConfig> shipped =
      LoadModelConfig("deploy/config/model.textproto");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  v1::ModelConfig defaults = DefaultModelConfig();
  v1::ModelConfig file = *shipped;
  // The file hash differs (comments); everything else is the defaults.
  std::ifstream in("deploy/config/model.textproto");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(file.sha256(), Sha256Hex(text));
  file.clear_sha256();
  defaults.clear_sha256();
  // Rule sources are citations; compare the rules' logic.
  for (auto* c : {&file, &defaults}) {
    for (auto& r : *c->mutable_ownership_rules()) r.clear_source();
  }
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(defaults, file)) << diff;
}

TEST(ModelConfigTest, LoadErrors) {
  absl::StatusOr<v1::ModelConfig> c = LoadModelConfig("/nonexistent/model.tp");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/bad_model.textproto");
  std::ofstream(path) << "version: \"v1\"\ntier_attenuation: 3\n";
  c = LoadModelConfig(path);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(c.status()), HasSubstr("tier_attenuation: must be"));
  EXPECT_THAT(Message(c.status()), StartsWith(path));
}

TEST(ModelConfigTest, Sha256OfKnownInput) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace georisk::scorer
