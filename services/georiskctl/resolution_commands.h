// File: services/georiskctl/resolution_commands.h
//
// georiskctl's entity-resolution commands, calling georisk.v1.Resolution on
// the graphstore address (docs/api.md). Like the query commands
// (commands.h) each writes results to options.client.out, errors to
// options.client.err, human tables by default and protobuf JSON with
// output "json", and returns an exit code (exit_codes.h): kExitOk,
// kExitFailed (the call failed: INVALID_ARGUMENT, NOT_FOUND,
// PERMISSION_DENIED...), kExitUsage (bad arguments or options, before any
// call), kExitUnavailable (graphstore unreachable or its index loading).
//
//   georiskctl match NAME [ALIAS...] [--country C] [--kind K]
//                  [--identifier scheme:value,...] [--entity ID] [--limit N]
//   georiskctl review list [--source S] [--kind K] [--min_match_score X]
//                  [--max_match_score Y] [--limit N] [--page_token T]
//   georiskctl review accept ENTITY_A ENTITY_B [--reason R] [--manual]
//   georiskctl review reject ENTITY_A ENTITY_B --reason R [--manual]
//   georiskctl links ENTITY [--judgement positive|negative|unsure]
//                  [--limit N] [--page_token T]
//
//   ResolutionOptions options;
//   options.client.graphstore = "127.0.0.1:50051";
//   options.country = "CN";
//   int code = MatchCommand(options, {"SMIC", "中芯国际"});
//
// Thread-safety: as commands.h.
#ifndef GEORISK_SERVICES_GEORISKCTL_RESOLUTION_COMMANDS_H_
#define GEORISK_SERVICES_GEORISKCTL_RESOLUTION_COMMANDS_H_

#include <string>
#include <vector>

#include "services/georiskctl/cli.h"

namespace georisk::cli {

struct ResolutionOptions {
  // Addresses, credentials, deadline, output format and streams.
  ClientOptions client;
  // match, review list: company or facility. Default "": any.
  std::string kind;
  // match: ISO 3166-1 alpha-2 country (any case). Default "": unknown.
  std::string country;
  // match: identifiers as "scheme:value" (or "scheme=value"), e.g.
  // "lei:506700GE1G29325QX363". Default: none.
  std::vector<std::string> identifiers;
  // match: the id of the entity the record is (its existing judgements are
  // shown; it is never its own candidate). Default "": none.
  std::string entity;
  // match: candidates (at most 50); review list, links: rows per page.
  // Default 15.
  int limit = 15;
  // review list: only links whose source starts with this. Default "".
  std::string source;
  // review list: the score range, each in [0, 1]; max 0 means 1.
  double min_score = 0;
  double max_score = 0;
  // review list, links: the page to show (from a previous page's footer).
  std::string page_token;
  // links: positive, negative or unsure (any case). Default "": all.
  std::string judgement;
  // review accept/reject: why (required to reject), and the reviewer's
  // name when the server has no authentication (with it, the token's name
  // is recorded). Defaults "".
  std::string reason;
  std::string reviewer;
  // review accept/reject: link a pair that has no stored link (a MANUAL
  // link). Default false.
  bool manual = false;
};

// match NAME [ALIAS...]: MatchEntities; the candidates, best first, with
// their decision, method, stored judgement and evidence.
int MatchCommand(const ResolutionOptions& options,
                 const std::vector<std::string>& args);
// review list | review accept A B | review reject A B.
int ReviewCommand(const ResolutionOptions& options,
                  const std::vector<std::string>& args);
// links ENTITY: ListLinks, one page.
int LinksCommand(const ResolutionOptions& options,
                 const std::vector<std::string>& args);

// Help text of match, review and links; "" for another command.
std::string ResolutionCommandHelp(const std::string& command);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_RESOLUTION_COMMANDS_H_
