// georiskctl: the georisk command-line client.
//
// Run 'georiskctl' for the commands and 'georiskctl COMMAND --help' for one.
// Every flag is defined and read here, once, into the commands' options
// (cli.h ClientOptions, commands.h CommandOptions, import_command.h
// ImportOptions). Exit codes: exit_codes.h.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/main_support.h"
#include "services/georiskctl/cli.h"
#include "services/georiskctl/commands.h"
#include "services/georiskctl/exit_codes.h"
#include "services/georiskctl/history_command.h"
#include "services/georiskctl/import_command.h"
#include "services/georiskctl/resolution_commands.h"
#include "services/georiskctl/sources_command.h"

// Every command: addresses, credentials, deadline, output.
ABSL_FLAG(std::string, graphstore, "", "graphstore address (host:port).");
ABSL_FLAG(std::string, ingest, "", "ingest address (host:port).");
ABSL_FLAG(std::string, scorer, "", "scorer address (host:port).");
ABSL_FLAG(std::string, graphstore_shards, "",
          "status: every graphstore shard's address, comma-separated, shard 0 "
          "first (default: GEORISK_GRAPHSTORE_SHARDS, else none).");
ABSL_FLAG(std::string, endpoints_file, ".georisk/run/endpoints.env",
          "The local launcher's list of addresses, used when neither a flag "
          "nor GEORISK_<SERVICE> gives one.");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle: talk TLS to the services.");
ABSL_FLAG(std::string, tls_client_cert, "",
          "PEM client certificate (mutual TLS).");
ABSL_FLAG(std::string, tls_client_key, "", "PEM key of --tls_client_cert.");
ABSL_FLAG(std::string, token_file, "",
          "File with a bearer token (reader for scores and alerts, writer for "
          "import).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "Per-call deadline.");
ABSL_FLAG(std::string, output, "table", "table or json.");

// Query commands.
ABSL_FLAG(std::string, factor, "",
          "top/explain: export_controls, tariffs, cross_strait or composite.");
ABSL_FLAG(std::string, kind, "", "top/match/review list: company or facility.");
ABSL_FLAG(std::string, country, "",
          "top/match: ISO 3166-1 alpha-2 country; lookup: the jurisdiction of "
          "a registration or tax number written without \"CC:\".");
ABSL_FLAG(int, limit, 15,
          "top/scenario/alerts list/lookup/match/review list/links: rows to "
          "show.");
ABSL_FLAG(bool, equivalent, false,
          "lookup: also match the identifier under an equivalent scheme (a "
          "CSL entity number and OpenSanctions' ofac-N).");
ABSL_FLAG(double, min_score, 0, "top: only scores at or above this (0..100).");
ABSL_FLAG(bool, reasons, true, "top: show each entity's main reason.");
ABSL_FLAG(absl::Time, as_of, absl::InfinitePast(),
          "score, explain: scores as of this RFC 3339 time "
          "(2027-01-01T00:00:00Z): the model evaluated then on today's graph. "
          "Default: now.");
ABSL_FLAG(absl::Time, from, absl::InfinitePast(),
          "history: points at or after this RFC 3339 time.");
ABSL_FLAG(absl::Time, to, absl::InfiniteFuture(),
          "history: points before this RFC 3339 time.");
ABSL_FLAG(int64_t, from_sequence, 0,
          "alerts watch: first alert sequence to show (0: after --state_file, "
          "or only new ones).");
ABSL_FLAG(std::string, state_file, "",
          "alerts watch: remember the last sequence shown here, and resume "
          "after it.");
ABSL_FLAG(int, count, 0, "alerts watch: stop after this many alerts (0: run).");
ABSL_FLAG(std::string, state, "", "alerts list: firing or resolved.");
ABSL_FLAG(std::string, target, "", "health: the server to ask.");
ABSL_FLAG(std::string, service, "",
          "health: the service to ask about (\"\" = the whole server).");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until SERVING or this much time has passed.");

// import.
ABSL_FLAG(std::string, format, "auto",
          "import: the files' format: auto, jsonl, csv-entities, csv-edges, "
          "ftm, csl-csv, csl-json.");
ABSL_FLAG(std::string, snapshot_source, "",
          "import: treat the files as a whole snapshot of this source, or "
          "of each of these comma-separated sources (one consolidated file "
          "of several lists); records of them the files no longer contain "
          "are ended. Given once: a repeated flag is refused.");
ABSL_FLAG(std::string, source, "",
          "import: the source of FTM and CSL records (default: the format's; "
          "an FTM snapshot of one source takes it). review list: only links "
          "whose source starts with this.");

// Entity resolution: match, review, links.
ABSL_FLAG(std::vector<std::string>, identifier, {},
          "match: identifiers, scheme:value, comma-separated "
          "(lei:506700GE1G29325QX363,isin:...).");
ABSL_FLAG(std::string, entity, "",
          "match: the id of the entity the record is (shows stored "
          "judgements).");
ABSL_FLAG(double, min_match_score, 0, "review list: lowest score (0..1).");
ABSL_FLAG(double, max_match_score, 0,
          "review list: highest score (0..1; 0 means 1).");
ABSL_FLAG(std::string, page_token, "",
          "review list/links: the page to show, from the previous page.");
ABSL_FLAG(std::string, judgement, "", "links: positive, negative or unsure.");
ABSL_FLAG(std::string, reason, "",
          "review accept/reject: why (required to reject).");
ABSL_FLAG(std::string, reviewer, "",
          "review accept/reject: your name, when the server has no "
          "authentication (with it, the token's name is recorded).");
ABSL_FLAG(bool, manual, false,
          "review accept/reject: decide a pair that has no candidate link.");
ABSL_FLAG(std::string, rejections, "",
          "import: write every rejected record here, as JSON lines.");
ABSL_FLAG(bool, dry_run, false, "import: validate only; write nothing.");
ABSL_FLAG(int64_t, resume_from, 0,
          "import: skip the first N records (what a stopped import printed "
          "as --resume_from=N) and send the rest.");
ABSL_FLAG(std::string, progress, "auto",
          "import: auto (a bar on a terminal, lines otherwise), bar, lines, "
          "none.");
ABSL_FLAG(int, records_per_message, 100,
          "import: records per Ingest stream message.");

namespace georisk::cli {
namespace {

constexpr char kUsage[] = R"(georiskctl: the georisk command-line client.

Usage: georiskctl COMMAND [ARGS] [--flags]

  import FILE...   Stream files to ingest, with progress and a summary.
  score ID...      Scores of entities.
  top              Entities ranked by risk, with their main reason.
  explain ID       Why an entity scores what it scores, as a path tree.
  history ID       How an entity's score moved, when and why (--from/--to).
  scenario FILE    A what-if from a JSON/YAML file; the biggest movers.
  alerts watch     Alerts as they come, resumable (--state_file).
  alerts list      Recent alerts.
  lookup SCHEME VALUE  Entities with an identifier (LEI, CSL number...).
  entity ID...     Entities as graphstore holds them.
  status           Health of every service and shard, graph size, lag.
  health           Health of one server (--target; --wait for SERVING).
  match NAME       Entities that may be the party NAME names, with evidence.
  review list      Candidate links waiting for a person.
  review accept|reject A B   Link two entities, or keep them apart.
  links ENTITY     An entity's links: to whom, judgement, who and why.
  sources          Ingest's scheduled sources: last success, records, error.
  sources run NAME Run a scheduled source now.

Addresses: --graphstore, --ingest, --scorer, else GEORISK_<SERVICE>, else
the local launcher's .georisk/run/endpoints.env, else 127.0.0.1:5005x.
Credentials: --tls_ca, --tls_client_cert, --tls_client_key, --token_file.
Output: human tables, or --output=json. 'georiskctl COMMAND --help' for one.
Exit codes: 0 ok, 1 failed or rejected, 2 bad usage, 3 service unreachable.)";

ClientOptions ClientOptionsFromFlags() {
  ClientOptions o;
  o.graphstore = absl::GetFlag(FLAGS_graphstore);
  o.ingest = absl::GetFlag(FLAGS_ingest);
  o.scorer = absl::GetFlag(FLAGS_scorer);
  o.graphstore_shards = absl::GetFlag(FLAGS_graphstore_shards);
  o.endpoints_file = absl::GetFlag(FLAGS_endpoints_file);
  o.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  o.tls_client_cert = absl::GetFlag(FLAGS_tls_client_cert);
  o.tls_client_key = absl::GetFlag(FLAGS_tls_client_key);
  o.token_file = absl::GetFlag(FLAGS_token_file);
  o.timeout = absl::GetFlag(FLAGS_timeout);
  o.output = absl::GetFlag(FLAGS_output);
  return o;
}

CommandOptions CommandOptionsFromFlags() {
  CommandOptions o;
  o.client = ClientOptionsFromFlags();
  o.factor = absl::GetFlag(FLAGS_factor);
  o.kind = absl::GetFlag(FLAGS_kind);
  o.country = absl::GetFlag(FLAGS_country);
  o.limit = absl::GetFlag(FLAGS_limit);
  o.equivalent = absl::GetFlag(FLAGS_equivalent);
  o.min_score = absl::GetFlag(FLAGS_min_score);
  o.reasons = absl::GetFlag(FLAGS_reasons);
  if (absl::GetFlag(FLAGS_from) != absl::InfinitePast()) {
    o.from = absl::GetFlag(FLAGS_from);
  }
  if (absl::GetFlag(FLAGS_to) != absl::InfiniteFuture()) {
    o.to = absl::GetFlag(FLAGS_to);
  }
  if (absl::GetFlag(FLAGS_as_of) != absl::InfinitePast()) {
    o.as_of = absl::GetFlag(FLAGS_as_of);
  }
  o.from_sequence = absl::GetFlag(FLAGS_from_sequence);
  o.state_file = absl::GetFlag(FLAGS_state_file);
  o.count = absl::GetFlag(FLAGS_count);
  o.state = absl::GetFlag(FLAGS_state);
  o.target = absl::GetFlag(FLAGS_target);
  o.service = absl::GetFlag(FLAGS_service);
  o.wait = absl::GetFlag(FLAGS_wait);
  return o;
}

int Import(const std::vector<std::string>& files) {
  ImportOptions o;
  o.files = files;
  o.format = absl::GetFlag(FLAGS_format);
  for (absl::string_view source : absl::StrSplit(
           absl::GetFlag(FLAGS_snapshot_source), ',', absl::SkipWhitespace())) {
    o.snapshot_sources.emplace_back(absl::StripAsciiWhitespace(source));
  }
  o.source = absl::GetFlag(FLAGS_source);
  o.rejections_path = absl::GetFlag(FLAGS_rejections);
  o.dry_run = absl::GetFlag(FLAGS_dry_run);
  o.resume_from = absl::GetFlag(FLAGS_resume_from);
  o.records_per_message = absl::GetFlag(FLAGS_records_per_message);
  absl::StatusOr<ProgressMode> progress =
      ParseProgressMode(absl::GetFlag(FLAGS_progress));
  if (!progress.ok()) {
    std::fprintf(stderr, "georiskctl import: %s\n",
                 std::string(progress.status().message()).c_str());
    return kExitUsage;
  }
  o.progress = *progress;
  return ImportCommand(ClientOptionsFromFlags(), std::move(o));
}

ResolutionOptions ResolutionOptionsFromFlags() {
  ResolutionOptions o;
  o.client = ClientOptionsFromFlags();
  o.kind = absl::GetFlag(FLAGS_kind);
  o.country = absl::GetFlag(FLAGS_country);
  o.identifiers = absl::GetFlag(FLAGS_identifier);
  o.entity = absl::GetFlag(FLAGS_entity);
  o.limit = absl::GetFlag(FLAGS_limit);
  o.source = absl::GetFlag(FLAGS_source);
  o.min_score = absl::GetFlag(FLAGS_min_match_score);
  o.max_score = absl::GetFlag(FLAGS_max_match_score);
  o.page_token = absl::GetFlag(FLAGS_page_token);
  o.judgement = absl::GetFlag(FLAGS_judgement);
  o.reason = absl::GetFlag(FLAGS_reason);
  o.reviewer = absl::GetFlag(FLAGS_reviewer);
  o.manual = absl::GetFlag(FLAGS_manual);
  return o;
}

int Run(const std::string& command, const std::vector<std::string>& args) {
  if (command == "import") return Import(args);
  if (command == "sources") {
    return SourcesCommand(ClientOptionsFromFlags(), args);
  }
  if (command == "match")
    return MatchCommand(ResolutionOptionsFromFlags(), args);
  if (command == "review") {
    return ReviewCommand(ResolutionOptionsFromFlags(), args);
  }
  if (command == "links")
    return LinksCommand(ResolutionOptionsFromFlags(), args);
  const CommandOptions options = CommandOptionsFromFlags();
  if (command == "score") return ScoreCommand(options, args);
  if (command == "top") return TopCommand(options, args);
  if (command == "explain") return ExplainCommand(options, args);
  if (command == "history") return HistoryCommand(options, args);
  if (command == "scenario") return ScenarioCommand(options, args);
  if (command == "alerts") return AlertsCommand(options, args);
  if (command == "lookup") return LookupCommand(options, args);
  if (command == "entity") return EntityCommand(options, args);
  if (command == "status") return StatusCommand(options, args);
  if (command == "health") return HealthCommand(options, args);
  std::fprintf(stderr, "georiskctl: unknown command \"%s\"\n\n%s\n",
               command.c_str(), kUsage);
  return kExitUsage;
}

}  // namespace
}  // namespace georisk::cli

int main(int argc, char** argv) {
  // 'georiskctl COMMAND --help' prints that command's help (absl's --help
  // lists every flag of every command).
  if (argc >= 3) {
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--help") == 0 ||
          std::strcmp(argv[i], "-h") == 0) {
        std::string help = georisk::cli::CommandHelp(argv[1]);
        if (help.empty()) help = georisk::cli::ResolutionCommandHelp(argv[1]);
        if (!help.empty()) {
          std::printf("%s\n", help.c_str());
          return georisk::cli::kExitOk;
        }
      }
    }
  }
  absl::SetProgramUsageMessage(georisk::cli::kUsage);
  georisk::common::ConfigureFlagsUsage("georiskctl");
  // absl keeps the last of a repeated flag; for the source a stream is a
  // snapshot of, that would silently drop one (issue #14): refused.
  for (const std::string& flag : georisk::common::RepeatedFlags(
           argc, argv, {"snapshot_source", "source"})) {
    std::fprintf(stderr,
                 "georiskctl: --%s is given more than once; it takes one "
                 "value (import each source with a command of its own)\n",
                 flag.c_str());
    return georisk::cli::kExitUsage;
  }
  std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  if (parsed.size() < 2) {
    std::fprintf(stderr, "%s\n", georisk::cli::kUsage);
    return georisk::cli::kExitUsage;
  }
  return georisk::cli::Run(parsed[1], {parsed.begin() + 2, parsed.end()});
}
