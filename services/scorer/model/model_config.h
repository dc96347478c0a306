// File: services/scorer/model/model_config.h
//
// The risk model's parameters (georisk.v1.ModelConfig): loading the
// versioned config file (protobuf text format), validating it with errors
// that name the field at fault, filling the documented defaults, and the
// SHA-256 that identifies the file in force. docs/scoring-model.md gives
// every default and where it comes from.
//
//   absl::StatusOr<v1::ModelConfig> config =
//       LoadModelConfig("deploy/config/model.textproto");
//   if (!config.ok()) return config.status();  // "bands.high: must be ..."
//   auto engine = Engine::Create(*config);
//
// A field left at zero (proto3's "unset") takes its default; an empty list
// of factor weights, tension weights or ownership rules takes the default
// list; a factor missing from factor_weights, or a measure missing from
// measure_policies, takes its default.
// alert_rules are passed through untouched: the alert evaluator validates
// them.
//
// Thread-safe: every function here is pure (LoadModelConfig reads a file).
#ifndef GEORISK_SERVICES_SCORER_MODEL_MODEL_CONFIG_H_
#define GEORISK_SERVICES_SCORER_MODEL_MODEL_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/model.pb.h"

namespace georisk::scorer {

// The documented defaults (docs/scoring-model.md, "Parameters").
inline constexpr double kDefaultTierAttenuation = 0.85;
inline constexpr double kDefaultTariffCap = 0.5;
inline constexpr double kDefaultLambdaExportControls = 1.0;
inline constexpr double kDefaultLambdaTariffs = 0.6;
inline constexpr double kDefaultLambdaCrossStrait = 0.8;
inline constexpr double kDefaultTensionWeightTW = 1.0;
inline constexpr double kDefaultTensionWeightCN = 0.5;
inline constexpr double kDefaultBandMedium = 30;
inline constexpr double kDefaultBandHigh = 60;
inline constexpr double kDefaultBandCritical = 80;
inline constexpr double kDefaultConvergenceTolerance = 1e-6;
inline constexpr int kDefaultMaxIterations = 1000;
inline constexpr char kDefaultModelVersion[] = "v1.1.0";

// The default ownership rules: US-OFAC's 50% rule (always active), BIS's
// Affiliates Rule (active from 2025-09-29, suspended [2025-11-10,
// 2026-11-10) UTC, i.e. through 9 Nov 2026 inclusive), the EU's 50% test,
// the UK's (UK-OFSI, more than 50%) and Switzerland's (CH-SECO, more than
// 50%). Returned in that order.
google::protobuf::RepeatedPtrField<v1::OwnershipRule> DefaultOwnershipRules();

// The default policy of each ExportControl.Measure (docs/scoring-model.md,
// "What a measure is"), in enum order: MEASURE_UNSPECIFIED counts, at its
// own severity, with the ownership rules (as every signal did before
// measures existed); export-control listings and blocking sanctions count
// (default severity 0.9) with the rules; sectoral sanctions count (0.5)
// with the rules; debarments count (0.3) without them; MEASURE_OTHER does
// not count.
google::protobuf::RepeatedPtrField<v1::MeasurePolicy> DefaultMeasurePolicies();

// The whole default config: version kDefaultModelVersion, every parameter at
// its default, no alert rules, sha256 of its text-format rendering.
v1::ModelConfig DefaultModelConfig();

// Validates `config`, fills the defaults and sets sha256 (kept if already
// set, otherwise the SHA-256 of the filled config's text format).
// Errors: INVALID_ARGUMENT whose message starts with the field path, e.g.
// "tier_attenuation: must be in (0, 1], got 1.2" or
// "ownership_rules[1].threshold: must be in (0, 1], got 0" or
// "measure_policies[2].measure: MEASURE_DEBARMENT appears more than once".
absl::StatusOr<v1::ModelConfig> NormalizeModelConfig(v1::ModelConfig config);

// Parses protobuf text format, then NormalizeModelConfig; sha256 is the
// SHA-256 of `text`.
// Errors: INVALID_ARGUMENT ("line 3, column 7: ..." for syntax, field paths
// for values).
absl::StatusOr<v1::ModelConfig> ParseModelConfig(absl::string_view text);

// Reads the file at `path` and parses it (ParseModelConfig); sha256 is the
// SHA-256 of the file's bytes.
// Errors: NOT_FOUND (no such file), PERMISSION_DENIED, INTERNAL (read
// failure), and ParseModelConfig's, prefixed with the path.
absl::StatusOr<v1::ModelConfig> LoadModelConfig(absl::string_view path);

// Lower-case hex SHA-256 of `bytes` (OpenSSL libcrypto).
std::string Sha256Hex(absl::string_view bytes);

// True when `rule` is in force at `t`: inside one of its active windows (or
// it has none) and inside none of its suspended windows. Windows are
// half-open [start, end); an unset start is the infinite past, an unset end
// the infinite future.
bool OwnershipRuleActiveAt(const v1::OwnershipRule& rule, absl::Time t);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_MODEL_MODEL_CONFIG_H_
