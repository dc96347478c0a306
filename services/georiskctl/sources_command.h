// File: services/georiskctl/sources_command.h
//
// georiskctl sources            Ingest.ListSources as a table (name, mode,
//                               last success, last attempt, records,
//                               changes, next run, error), or the response
//                               as JSON (--output json).
// georiskctl sources run NAME   Ingest.RunSource: runs NAME now and waits
//                               for the run to end (no deadline: a big
//                               import takes minutes), then prints its state
//                               as one row (or JSON). Exit 1 when the run
//                               failed (the error column says why).
//
// Exit codes: kExitOk; kExitUsage for other arguments; kExitFailed for
// NOT_FOUND or a failed run; kExitUnavailable when ingest is unreachable.
#ifndef GEORISK_SERVICES_GEORISKCTL_SOURCES_COMMAND_H_
#define GEORISK_SERVICES_GEORISKCTL_SOURCES_COMMAND_H_

#include <string>
#include <vector>

#include "services/georiskctl/cli.h"

namespace georisk::cli {

int SourcesCommand(const ClientOptions& options,
                   const std::vector<std::string>& args);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_SOURCES_COMMAND_H_
