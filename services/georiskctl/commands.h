// File: services/georiskctl/commands.h
//
// georiskctl's query commands. Each takes its options (CommandOptions,
// filled from the flags by main.cc) and the command's positional arguments
// (after the command name), writes its results to options.client.out and its
// errors to options.client.err, and returns the process exit code
// (exit_codes.h): kExitOk; kExitFailed when a call failed or (score) an
// entity is missing; kExitUsage for bad arguments or options;
// kExitUnavailable when the scorer (or, for status, any service) cannot be
// reached. Human tables by default, output "json" for scripts.
//
//   CommandOptions options;
//   options.client.scorer = "127.0.0.1:50053";
//   options.limit = 5;
//   int code = TopCommand(options, {});
//
// Thread-safety: a command may run concurrently with another one as long as
// they do not share the output streams.
//
//   georiskctl score ID...
//   georiskctl top [--factor F] [--kind K] [--country C] [--limit N]
//   georiskctl explain ID [--factor F]
//   georiskctl scenario FILE [--limit N]
//   georiskctl alerts watch [--from_sequence N] [--state_file F] [--count N]
//   georiskctl alerts list [--state firing|resolved] [--limit N]
//   georiskctl lookup SCHEME VALUE [--country C] [--equivalent] [--limit N]
//   georiskctl entity ID...
//   georiskctl status [--graphstore_shards T0,T1,...]
//   georiskctl health --target ADDR [--service S] [--wait D]
#ifndef GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_
#define GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/score.pb.h"
#include "services/georiskctl/cli.h"

namespace georisk::cli {

// The options of the query commands; each field says which commands read it.
struct CommandOptions {
  // Addresses, credentials, deadline, output format and streams.
  ClientOptions client;
  // top, explain: export_controls, tariffs, cross_strait or composite.
  // Default "": composite.
  std::string factor;
  // top: company or facility. Default "": both.
  std::string kind;
  // top: ISO 3166-1 alpha-2 country (any case). Default "": all.
  // lookup: the jurisdiction of a registration or tax number written
  // without "CC:".
  std::string country;
  // top, scenario, alerts list, lookup: rows to show. Default 15.
  int limit = 15;
  // lookup: also match the identifier under equivalent schemes (a CSL
  // entity number and the OpenSanctions referent ofac-N). Default false.
  bool equivalent = false;
  // top: only scores at or above this (0..100). Default 0.
  double min_score = 0;
  // top: show each entity's main reason (one ExplainScore call a row).
  // Default true.
  bool reasons = true;
  // score, explain: the scores as of this date (the model evaluated then on
  // the current graph; Scorer's as_of). Default unset: now.
  std::optional<absl::Time> as_of;
  // history: the time range [from, to) of the points. Default unset:
  // unbounded. (history --as_of: the point in force then.)
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
  // alerts watch: first alert sequence to show. Default 0: after the one
  // saved in state_file, or only new ones.
  int64_t from_sequence = 0;
  // alerts watch: remember the last sequence shown here, and resume after
  // it. Default "": nowhere.
  std::string state_file;
  // alerts watch: stop after this many alerts. Default 0: run until the
  // stream ends.
  int count = 0;
  // alerts list: firing or resolved (any case). Default "": both.
  std::string state;
  // health: the server to ask (required), the service to ask about
  // (default "": the whole server), and how long to keep asking until
  // SERVING (default 0: ask once).
  std::string target;
  std::string service;
  absl::Duration wait = absl::ZeroDuration();
};

// score ID...: BatchGetScores; kExitFailed if any id is missing.
int ScoreCommand(const CommandOptions& options,
                 const std::vector<std::string>& args);
// top: ListTopRisks, with each row's main reason.
int TopCommand(const CommandOptions& options,
               const std::vector<std::string>& args);
// explain ID: ExplainScore, the shares and the paths upstream.
int ExplainCommand(const CommandOptions& options,
                   const std::vector<std::string>& args);
// scenario FILE: RunScenario of ReadScenarioFile(FILE); an unreadable or
// invalid file is kExitUsage.
int ScenarioCommand(const CommandOptions& options,
                    const std::vector<std::string>& args);
// alerts list | alerts watch: ListAlerts, or WatchAlerts until `count`
// alerts were shown (kExitOk) or the stream ends (its status decides).
int AlertsCommand(const CommandOptions& options,
                  const std::vector<std::string>& args);
// lookup SCHEME VALUE: GraphStore.LookupByIdentifier, page after page up to
// `limit` entities; kExitFailed when none carries the identifier or the
// call fails (a malformed value is INVALID_ARGUMENT from graphstore).
int LookupCommand(const CommandOptions& options,
                  const std::vector<std::string>& args);
// entity ID...: GraphStore.GetEntity of each id; kExitFailed if any is
// missing (the others are still shown), kExitUnavailable when graphstore is
// not reachable.
int EntityCommand(const CommandOptions& options,
                  const std::vector<std::string>& args);
// status: health of the three services, graph size, the scorer's model and
// lag; with graphstore shards (ClientOptions::graphstore_shards), a row per
// shard (graphstore_shards.h). kExitUnavailable unless all three and every
// shard are SERVING.
int StatusCommand(const CommandOptions& options,
                  const std::vector<std::string>& args);
// health: one server's health (kExitFailed if it answers but is not
// SERVING).
int HealthCommand(const CommandOptions& options,
                  const std::vector<std::string>& args);

// Per-command help text, or "" for an unknown command.
std::string CommandHelp(const std::string& command);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_COMMANDS_H_
