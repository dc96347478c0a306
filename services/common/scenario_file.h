// File: services/common/scenario_file.h
//
// The scenario files `georiskctl scenario` reads (georisk.v1.Scenario in
// protobuf's JSON mapping, or the same structure in YAML).
//
//   absl::StatusOr<v1::Scenario> s =
//       common::ReadScenarioFile("data/scenarios/cross-strait-0.9.yaml");
#ifndef GEORISK_SERVICES_COMMON_SCENARIO_FILE_H_
#define GEORISK_SERVICES_COMMON_SCENARIO_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "georisk/v1/score.pb.h"

namespace georisk::common {

// Reads a scenario file: georisk.v1.Scenario in protobuf's JSON mapping, or
// the same structure in YAML (by extension .yaml/.yml, or content that is
// not JSON). Errors name the file and, when the parser says, the place.
absl::StatusOr<v1::Scenario> ReadScenarioFile(const std::string& path);

// The same for a file's `text` already read, named `name` in errors (and
// YAML when it ends in .yaml or .yml, or the text does not start with '{').
// The console parses uploaded and edited scenarios with it.
absl::StatusOr<v1::Scenario> ParseScenario(absl::string_view text,
                                           const std::string& name);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SCENARIO_FILE_H_
