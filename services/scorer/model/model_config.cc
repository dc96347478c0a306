#include "services/scorer/model/model_config.h"

#include <openssl/sha.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/proto_time.h"
#include "domain/country_codes.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace georisk::scorer {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string Got(double value) { return absl::StrCat(", got ", value); }

v1::TimeWindow Window(absl::Time start, absl::Time end) {
  v1::TimeWindow w;
  if (start != absl::InfinitePast())
    *w.mutable_start() = base::ToProtoTime(start);
  if (end != absl::InfiniteFuture()) *w.mutable_end() = base::ToProtoTime(end);
  return w;
}

absl::Time Utc(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

bool IsAuthority(absl::string_view a) {
  if (a.size() < 2 || a.size() > 32) return false;
  for (char c : a) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsVersion(absl::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

absl::Status CheckWindows(
    const google::protobuf::RepeatedPtrField<v1::TimeWindow>& windows,
    absl::string_view path) {
  for (int i = 0; i < windows.size(); ++i) {
    const v1::TimeWindow& w = windows[i];
    if (w.has_start() && w.has_end() &&
        !(base::FromProtoTime(w.start()) < base::FromProtoTime(w.end()))) {
      return Invalid(absl::StrCat(path, "[", i, "].end"),
                     "must be after start (windows are half-open)");
    }
  }
  return absl::OkStatus();
}

bool InWindow(const v1::TimeWindow& w, absl::Time t) {
  if (w.has_start() && t < base::FromProtoTime(w.start())) return false;
  if (w.has_end() && t >= base::FromProtoTime(w.end())) return false;
  return true;
}

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      // Tokenizer positions are zero-based.
      first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

bool OwnershipRuleActiveAt(const v1::OwnershipRule& rule, absl::Time t) {
  bool active = rule.active().empty();
  for (const v1::TimeWindow& w : rule.active())
    active = active || InWindow(w, t);
  if (!active) return false;
  for (const v1::TimeWindow& w : rule.suspended()) {
    if (InWindow(w, t)) return false;
  }
  return true;
}

google::protobuf::RepeatedPtrField<v1::OwnershipRule> DefaultOwnershipRules() {
  google::protobuf::RepeatedPtrField<v1::OwnershipRule> rules;
  v1::OwnershipRule* ofac = rules.Add();
  ofac->set_authority("US-OFAC");
  ofac->set_threshold(0.5);
  ofac->set_source(
      "OFAC, Revised Guidance on Entities Owned by Persons Whose Property "
      "and Interests in Property Are Blocked (13 Aug 2014)");
  v1::OwnershipRule* bis = rules.Add();
  bis->set_authority("US-BIS");
  bis->set_threshold(0.5);
  *bis->add_active() = Window(Utc(2025, 9, 29), absl::InfiniteFuture());
  // docs/sources.md: suspended 10 Nov 2025 - 9 Nov 2026, both days included, so
  // the half-open window ends at the start of 10 Nov 2026 (UTC).
  *bis->add_suspended() = Window(Utc(2025, 11, 10), Utc(2026, 11, 10));
  bis->set_source(
      "BIS Affiliates Rule, FR Doc 2025-19001, effective 29 Sep 2025; "
      "suspended 10 Nov 2025 - 9 Nov 2026 under the US-China arrangement");
  v1::OwnershipRule* eu = rules.Add();
  eu->set_authority("EU");
  eu->set_threshold(0.5);
  eu->set_source(
      "EU Best Practices for the effective implementation of restrictive "
      "measures (ownership criterion; control is not modelled)");
  eu->set_test(v1::OwnershipRule::OWNERSHIP_OR_CONTROL);
  v1::OwnershipRule* uk = rules.Add();
  uk->set_authority("UK");
  uk->set_threshold(0.5);
  uk->set_more_than(true);
  uk->set_test(v1::OwnershipRule::OWNERSHIP_OR_CONTROL);
  uk->set_source(
      "OFSI, General guidance for financial sanctions under the Sanctions "
      "and Anti-Money Laundering Act 2018, ownership and control: more than "
      "50% of the shares or voting rights, directly or indirectly (control "
      "is not modelled)");
  v1::OwnershipRule* ch = rules.Add();
  ch->set_authority("CH");
  ch->set_threshold(0.5);
  ch->set_more_than(true);
  ch->set_test(v1::OwnershipRule::OWNERSHIP_OR_CONTROL);
  ch->set_source(
      "SECO, FAQ on the Ordinance on Measures in connection with the "
      "situation in Ukraine (SR 946.231.176.72), art. 15: ownership is more "
      "than 50% of the shares, held directly or indirectly, shares of "
      "several sanctioned parties cumulated (control is not modelled)");
  return rules;
}

google::protobuf::RepeatedPtrField<v1::MeasurePolicy> DefaultMeasurePolicies() {
  google::protobuf::RepeatedPtrField<v1::MeasurePolicy> policies;
  auto add = [&](v1::ExportControl::Measure m, bool counts, double severity,
                 bool rules) {
    v1::MeasurePolicy* p = policies.Add();
    p->set_measure(m);
    p->set_counts(counts);
    p->set_default_severity(severity);
    p->set_ownership_rules_apply(rules);
  };
  add(v1::ExportControl::MEASURE_UNSPECIFIED, true, 0, true);
  add(v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING, true, 0.9, true);
  add(v1::ExportControl::MEASURE_BLOCKING_SANCTION, true, 0.9, true);
  add(v1::ExportControl::MEASURE_SECTORAL_SANCTION, true, 0.5, true);
  add(v1::ExportControl::MEASURE_DEBARMENT, true, 0.3, false);
  add(v1::ExportControl::MEASURE_OTHER, false, 0, false);
  return policies;
}

v1::ModelConfig DefaultModelConfig() {
  v1::ModelConfig config;
  config.set_version(kDefaultModelVersion);
  absl::StatusOr<v1::ModelConfig> filled = NormalizeModelConfig(config);
  // The defaults are valid by construction.
  return *std::move(filled);
}

absl::StatusOr<v1::ModelConfig> NormalizeModelConfig(v1::ModelConfig config) {
  if (config.version().empty()) return Invalid("version", "required");
  if (!IsVersion(config.version())) {
    return Invalid("version",
                   absl::StrCat("must match [A-Za-z0-9._+-]{1,64}, got \"",
                                absl::CHexEscape(config.version()), "\""));
  }
  if (config.tier_attenuation() == 0) {
    config.set_tier_attenuation(kDefaultTierAttenuation);
  }
  if (!(config.tier_attenuation() > 0 && config.tier_attenuation() <= 1)) {
    return Invalid(
        "tier_attenuation",
        absl::StrCat("must be in (0, 1]", Got(config.tier_attenuation())));
  }
  absl::Status s;

  // Factor weights: one per factor, missing ones at their default.
  double lambda[4] = {0, kDefaultLambdaExportControls, kDefaultLambdaTariffs,
                      kDefaultLambdaCrossStrait};
  bool seen[4] = {false, false, false, false};
  for (int i = 0; i < config.factor_weights_size(); ++i) {
    const v1::FactorWeight& fw = config.factor_weights(i);
    const std::string path = absl::StrCat("factor_weights[", i, "]");
    if (fw.factor() == v1::FACTOR_UNSPECIFIED) {
      return Invalid(absl::StrCat(path, ".factor"), "required");
    }
    if (fw.factor() < 1 || fw.factor() > 3) {
      return Invalid(absl::StrCat(path, ".factor"),
                     absl::StrCat("unknown factor ", fw.factor()));
    }
    if (seen[fw.factor()]) {
      return Invalid(absl::StrCat(path, ".factor"),
                     absl::StrCat(v1::Factor_Name(fw.factor()),
                                  " appears more than once"));
    }
    seen[fw.factor()] = true;
    if (!(fw.lambda() >= 0 && fw.lambda() <= 1)) {
      return Invalid(absl::StrCat(path, ".lambda"),
                     absl::StrCat("must be in [0, 1]", Got(fw.lambda())));
    }
    lambda[fw.factor()] = fw.lambda();
  }
  config.clear_factor_weights();
  for (int f = 1; f <= 3; ++f) {
    v1::FactorWeight* fw = config.add_factor_weights();
    fw->set_factor(static_cast<v1::Factor>(f));
    fw->set_lambda(lambda[f]);
  }

  if (config.tariff_cap() == 0) config.set_tariff_cap(kDefaultTariffCap);
  if (!(std::isfinite(config.tariff_cap()) && config.tariff_cap() > 0)) {
    return Invalid("tariff_cap",
                   absl::StrCat("must be > 0", Got(config.tariff_cap())));
  }

  if (config.tension_country_weights().empty()) {
    (*config.mutable_tension_country_weights())["TW"] = kDefaultTensionWeightTW;
    (*config.mutable_tension_country_weights())["CN"] = kDefaultTensionWeightCN;
  }
  for (const auto& [country, weight] : config.tension_country_weights()) {
    const std::string path = absl::StrCat("tension_country_weights[\"",
                                          absl::CHexEscape(country), "\"]");
    if (!domain::IsIso3166Alpha2(country)) {
      return Invalid(path, "must be keyed by an ISO 3166-1 alpha-2 code");
    }
    if (!(weight >= 0 && weight <= 1)) {
      return Invalid(path, absl::StrCat("must be in [0, 1]", Got(weight)));
    }
  }

  v1::BandThresholds* bands = config.mutable_bands();
  if (bands->medium() == 0) bands->set_medium(kDefaultBandMedium);
  if (bands->high() == 0) bands->set_high(kDefaultBandHigh);
  if (bands->critical() == 0) bands->set_critical(kDefaultBandCritical);
  if (!(bands->medium() > 0 && bands->medium() < bands->high())) {
    return Invalid("bands.medium",
                   absl::StrCat("must be in (0, bands.high = ", bands->high(),
                                ")", Got(bands->medium())));
  }
  if (!(bands->high() < bands->critical())) {
    return Invalid("bands.high",
                   absl::StrCat("must be below bands.critical = ",
                                bands->critical(), Got(bands->high())));
  }
  if (!(bands->critical() <= 100)) {
    return Invalid("bands.critical",
                   absl::StrCat("must be at most 100", Got(bands->critical())));
  }

  if (config.ownership_rules().empty()) {
    *config.mutable_ownership_rules() = DefaultOwnershipRules();
  }
  absl::flat_hash_set<std::string> authorities;
  for (int i = 0; i < config.ownership_rules_size(); ++i) {
    const v1::OwnershipRule& rule = config.ownership_rules(i);
    const std::string path = absl::StrCat("ownership_rules[", i, "]");
    if (!IsAuthority(rule.authority())) {
      return Invalid(absl::StrCat(path, ".authority"),
                     absl::StrCat("must match [A-Z0-9-]{2,32}, got \"",
                                  absl::CHexEscape(rule.authority()), "\""));
    }
    if (!authorities.insert(rule.authority()).second) {
      return Invalid(
          absl::StrCat(path, ".authority"),
          absl::StrCat(rule.authority(), " has more than one ownership rule"));
    }
    if (!(rule.threshold() > 0 && rule.threshold() <= 1)) {
      return Invalid(absl::StrCat(path, ".threshold"),
                     absl::StrCat("must be in (0, 1]", Got(rule.threshold())));
    }
    s = CheckWindows(rule.active(), absl::StrCat(path, ".active"));
    if (!s.ok()) return s;
    s = CheckWindows(rule.suspended(), absl::StrCat(path, ".suspended"));
    if (!s.ok()) return s;
  }

  // Measure policies: one per measure, missing ones at their default, in
  // enum order.
  {
    const google::protobuf::RepeatedPtrField<v1::MeasurePolicy> defaults =
        DefaultMeasurePolicies();
    std::vector<const v1::MeasurePolicy*> by_measure(defaults.size(), nullptr);
    for (int i = 0; i < config.measure_policies_size(); ++i) {
      const v1::MeasurePolicy& mp = config.measure_policies(i);
      const std::string path = absl::StrCat("measure_policies[", i, "]");
      if (!v1::ExportControl::Measure_IsValid(mp.measure())) {
        return Invalid(absl::StrCat(path, ".measure"),
                       absl::StrCat("unknown measure ", mp.measure(),
                                    " (use unknown_measure)"));
      }
      if (by_measure[mp.measure()] != nullptr) {
        return Invalid(
            absl::StrCat(path, ".measure"),
            absl::StrCat(v1::ExportControl::Measure_Name(mp.measure()),
                         " appears more than once"));
      }
      if (!(mp.default_severity() >= 0 && mp.default_severity() <= 1)) {
        return Invalid(
            absl::StrCat(path, ".default_severity"),
            absl::StrCat("must be in [0, 1]", Got(mp.default_severity())));
      }
      by_measure[mp.measure()] = &mp;
    }
    google::protobuf::RepeatedPtrField<v1::MeasurePolicy> filled;
    for (size_t m = 0; m < by_measure.size(); ++m) {
      *filled.Add() = by_measure[m] != nullptr ? *by_measure[m] : defaults[m];
    }
    *config.mutable_measure_policies() = std::move(filled);
    // Always present, so that GetModel shows the policy in force.
    const double unknown = config.mutable_unknown_measure()->default_severity();
    if (!(unknown >= 0 && unknown <= 1)) {
      return Invalid("unknown_measure.default_severity",
                     absl::StrCat("must be in [0, 1]", Got(unknown)));
    }
  }

  if (config.convergence_tolerance() == 0) {
    config.set_convergence_tolerance(kDefaultConvergenceTolerance);
  }
  if (!(config.convergence_tolerance() > 0 &&
        config.convergence_tolerance() <= 1e-3)) {
    return Invalid("convergence_tolerance",
                   absl::StrCat("must be in (0, 0.001]",
                                Got(config.convergence_tolerance())));
  }
  if (config.max_iterations() == 0) {
    config.set_max_iterations(kDefaultMaxIterations);
  }
  if (config.max_iterations() < 1 || config.max_iterations() > 1000000) {
    return Invalid(
        "max_iterations",
        absl::StrCat("must be in [1, 1000000], got ", config.max_iterations()));
  }

  if (config.sha256().empty()) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(config, &text);
    config.set_sha256(Sha256Hex(text));
  }
  return config;
}

absl::StatusOr<v1::ModelConfig> ParseModelConfig(absl::string_view text) {
  v1::ModelConfig config;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(errors.first().empty()
                                          ? std::string("not a ModelConfig")
                                          : errors.first());
  }
  config.set_sha256(Sha256Hex(text));
  return NormalizeModelConfig(std::move(config));
}

absl::StatusOr<v1::ModelConfig> LoadModelConfig(absl::string_view path) {
  const std::string p(path);
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why = absl::StrCat(p, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(why);
    if (err == EACCES) return absl::PermissionDeniedError(why);
    return absl::InternalError(why);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return absl::InternalError(absl::StrCat(p, ": read failed"));
  }
  absl::StatusOr<v1::ModelConfig> config = ParseModelConfig(buffer.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(p, ": ", config.status().message()));
  }
  return config;
}

}  // namespace georisk::scorer
