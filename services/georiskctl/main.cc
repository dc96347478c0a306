// georiskctl: the georisk command-line client.
//
//   georiskctl status [--graphstore=ADDR] [--ingest=ADDR] [--scorer=ADDR]
//   georiskctl health --target=ADDR [--service=NAME] [--wait=30s]
//
// Exit codes: 0 success, 1 a service is not serving or a call failed, 2 bad
// usage.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "services/common/grpc_probe.h"

ABSL_FLAG(std::string, graphstore, "127.0.0.1:50051", "graphstore address.");
ABSL_FLAG(std::string, ingest, "127.0.0.1:50052", "ingest address.");
ABSL_FLAG(std::string, scorer, "127.0.0.1:50053", "scorer address.");
ABSL_FLAG(std::string, target, "", "health: the server to ask.");
ABSL_FLAG(std::string, service, "",
          "health: the service to ask about (\"\" = the whole server).");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until SERVING or this much time has passed.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Per-call deadline.");

namespace georisk {
namespace {

constexpr char kUsage[] = R"(georiskctl: the georisk command-line client.

Usage:
  georiskctl status   Health of graphstore, ingest and scorer.
                      Flags: --graphstore --ingest --scorer (addresses)
  georiskctl health   Health of one server; with --wait, wait for SERVING.
                      Flags: --target (required) --service --wait

Exit codes: 0 ok, 1 not serving or a call failed, 2 bad usage.
Run 'georiskctl --help' for every flag.)";

int Health() {
  std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty()) {
    std::fprintf(stderr, "georiskctl health: --target is required\n");
    return 2;
  }
  std::string service = absl::GetFlag(FLAGS_service);
  absl::Duration wait = absl::GetFlag(FLAGS_wait);
  if (wait > absl::ZeroDuration()) {
    absl::Status s = WaitForServing(target, service, wait);
    if (!s.ok()) {
      std::fprintf(stderr, "georiskctl: %s\n",
                   std::string(s.message()).c_str());
      return 1;
    }
    std::printf("%s SERVING\n", target.c_str());
    return 0;
  }
  absl::StatusOr<HealthState> state =
      CheckHealth(target, service, absl::GetFlag(FLAGS_timeout));
  if (!state.ok()) {
    std::fprintf(stderr, "georiskctl: %s: %s\n", target.c_str(),
                 state.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s\n", target.c_str(), state->c_str());
  return *state == "SERVING" ? 0 : 1;
}

int Status() {
  struct Row {
    const char* name;
    std::string address;
  };
  const std::vector<Row> rows = {
      {"graphstore", absl::GetFlag(FLAGS_graphstore)},
      {"ingest", absl::GetFlag(FLAGS_ingest)},
      {"scorer", absl::GetFlag(FLAGS_scorer)},
  };
  int failures = 0;
  std::printf("%-11s %-22s %s\n", "SERVICE", "ADDRESS", "HEALTH");
  for (const Row& row : rows) {
    absl::StatusOr<HealthState> state =
        CheckHealth(row.address, "", absl::GetFlag(FLAGS_timeout));
    std::string shown;
    if (state.ok()) {
      shown = *state;
    } else if (state.status().code() == absl::StatusCode::kUnavailable ||
               state.status().code() == absl::StatusCode::kDeadlineExceeded) {
      shown = "DOWN (not reachable)";
    } else {
      shown = absl::StrCat("ERROR ", state.status().ToString());
    }
    if (!state.ok() || *state != "SERVING") ++failures;
    std::printf("%-11s %-22s %s\n", row.name, row.address.c_str(),
                shown.c_str());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace georisk

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(georisk::kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "%s\n", georisk::kUsage);
    return 2;
  }
  std::string command = args[1];
  if (args.size() > 2) {
    std::fprintf(stderr, "georiskctl %s: unexpected argument \"%s\"\n",
                 command.c_str(), args[2]);
    return 2;
  }
  if (command == "status") return georisk::Status();
  if (command == "health") return georisk::Health();
  std::fprintf(stderr, "georiskctl: unknown command \"%s\"\n\n%s\n",
               command.c_str(), georisk::kUsage);
  return 2;
}
