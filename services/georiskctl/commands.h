// File: services/georiskctl/commands.h
//
// georiskctl's query commands. Each takes the command's positional
// arguments (after the command name; flags are already parsed) and returns
// the process exit code (cli.h). Human tables by default, --output=json for
// scripts.
//
//   georiskctl score ID...
//   georiskctl top [--factor F] [--kind K] [--country C] [--limit N]
//   georiskctl explain ID [--factor F]
//   georiskctl scenario FILE [--limit N]
//   georiskctl alerts watch [--from_sequence N] [--state_file F] [--count N]
//   georiskctl alerts list [--state firing|resolved] [--limit N]
//   georiskctl status
#ifndef GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_
#define GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "georisk/v1/score.pb.h"

namespace georisk::cli {

int ScoreCommand(const std::vector<std::string>& args);
int TopCommand(const std::vector<std::string>& args);
int ExplainCommand(const std::vector<std::string>& args);
int ScenarioCommand(const std::vector<std::string>& args);
int AlertsCommand(const std::vector<std::string>& args);
int StatusCommand(const std::vector<std::string>& args);

// Reads a scenario file: georisk.v1.Scenario in protobuf's JSON mapping, or
// the same structure in YAML (by extension .yaml/.yml, or content that is
// not JSON). Errors name the file and, when the parser says, the place.
absl::StatusOr<v1::Scenario> ReadScenarioFile(const std::string& path);

// Per-command help text, or "" for an unknown command.
std::string CommandHelp(const std::string& command);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_
