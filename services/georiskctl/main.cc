// georiskctl: the georisk command-line client.
//
// Run 'georiskctl' for the commands and 'georiskctl COMMAND --help' for one.
// Exit codes: 0 ok; 1 a request failed or records were rejected; 2 bad
// usage; 3 a service is not reachable.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "services/common/grpc_probe.h"
#include "services/georiskctl/cli.h"
#include "services/georiskctl/commands.h"
#include "services/georiskctl/import_command.h"

ABSL_FLAG(std::string, target, "", "health: the server to ask.");
ABSL_FLAG(std::string, service, "",
          "health: the service to ask about (\"\" = the whole server).");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until SERVING or this much time has passed.");

namespace georisk::cli {
namespace {

constexpr char kUsage[] = R"(georiskctl: the georisk command-line client.

Usage: georiskctl COMMAND [ARGS] [--flags]

  import FILE...   Stream files to ingest, with progress and a summary.
  score ID...      Scores of entities.
  top              Entities ranked by risk, with their main reason.
  explain ID       Why an entity scores what it scores, as a path tree.
  scenario FILE    A what-if from a JSON/YAML file; the biggest movers.
  alerts watch     Alerts as they come, resumable (--state_file).
  alerts list      Recent alerts.
  status           Health of every service, graph size, sequence, lag.
  health           Health of one server (--target; --wait for SERVING).

Addresses: --graphstore, --ingest, --scorer, else GEORISK_<SERVICE>, else
the local launcher's .georisk/run/endpoints.env, else 127.0.0.1:5005x.
Credentials: --tls_ca, --tls_client_cert, --tls_client_key, --token_file.
Output: human tables, or --output=json. 'georiskctl COMMAND --help' for one.
Exit codes: 0 ok, 1 failed or rejected, 2 bad usage, 3 service unreachable.)";

int Health() {
  std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty()) return cli::Usage("health", "--target is required");
  absl::Duration wait = absl::GetFlag(FLAGS_wait);
  if (wait > absl::ZeroDuration()) {
    absl::Status s =
        common::WaitForServing(target, absl::GetFlag(FLAGS_service), wait);
    if (!s.ok()) {
      std::fprintf(stderr, "georiskctl: %s\n", std::string(s.message()).c_str());
      return cli::kExitUnavailable;
    }
    std::printf("%s SERVING\n", target.c_str());
    return cli::kExitOk;
  }
  absl::StatusOr<common::HealthState> state =
      common::CheckHealth(target, absl::GetFlag(FLAGS_service), absl::Seconds(5));
  if (!state.ok()) {
    std::fprintf(stderr, "georiskctl: %s: %s\n", target.c_str(),
                 state.status().ToString().c_str());
    return cli::kExitUnavailable;
  }
  std::printf("%s %s\n", target.c_str(), state->c_str());
  return *state == "SERVING" ? cli::kExitOk : cli::kExitFailed;
}

}  // namespace
}  // namespace georisk::cli

int main(int argc, char** argv) {
  using georisk::cli::CommandHelp;
  // 'georiskctl COMMAND --help' prints that command's help (absl's --help
  // would list every flag of every command).
  if (argc >= 3) {
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--help") == 0 ||
          std::strcmp(argv[i], "-h") == 0) {
        std::string help = CommandHelp(argv[1]);
        if (std::string(argv[1]) == "import") {
          help = "georiskctl import FILE... [--format F] [--snapshot_source "
                 "S] [--rejections FILE] [--dry_run]\n  Streams files to "
                 "ingest with a progress bar and prints the summary; exit 1 "
                 "if\n  any record was rejected, 3 if ingest is down. See "
                 "docs/formats.md.";
        }
        if (!help.empty()) {
          std::printf("%s\n", help.c_str());
          return 0;
        }
      }
    }
  }
  absl::SetProgramUsageMessage(georisk::cli::kUsage);
  std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  if (parsed.size() < 2) {
    std::fprintf(stderr, "%s\n", georisk::cli::kUsage);
    return georisk::cli::kExitUsage;
  }
  const std::string command = parsed[1];
  const std::vector<std::string> args(parsed.begin() + 2, parsed.end());
  if (command == "import") {
    return georisk::cli::ImportMain({parsed.begin() + 2, parsed.end()},
                               georisk::cli::Address(
                                   georisk::cli::Service::kIngest));
  }
  if (command == "score") return georisk::cli::ScoreCommand(args);
  if (command == "top") return georisk::cli::TopCommand(args);
  if (command == "explain") return georisk::cli::ExplainCommand(args);
  if (command == "scenario") return georisk::cli::ScenarioCommand(args);
  if (command == "alerts") return georisk::cli::AlertsCommand(args);
  if (command == "status") return georisk::cli::StatusCommand(args);
  if (command == "health") {
    if (!args.empty()) return georisk::cli::Usage("health", "takes no arguments");
    return georisk::cli::Health();
  }
  std::fprintf(stderr, "georiskctl: unknown command \"%s\"\n\n%s\n",
               command.c_str(), georisk::cli::kUsage);
  return georisk::cli::kExitUsage;
}
