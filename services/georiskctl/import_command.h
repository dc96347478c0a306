// File: services/georiskctl/import_command.h
//
// `georiskctl import FILE...`: the import driver of
// services/importer/import_driver.h (flags, progress, summary, resuming,
// exit codes are documented there) over georiskctl's channel to ingest.
#ifndef GEORISK_SERVICES_GEORISKCTL_IMPORT_COMMAND_H_
#define GEORISK_SERVICES_GEORISKCTL_IMPORT_COMMAND_H_

#include "services/georiskctl/cli.h"
#include "services/importer/import_driver.h"

namespace georisk::cli {

using importer::FormatProgress;
using importer::ImportOptions;
using importer::ParseProgressMode;
using importer::ProgressMode;
using importer::RunImport;
using importer::SourceMap;

// `georiskctl import`: runs `options` over georiskctl's channel to ingest:
// ingest_address, channel, out and err are replaced by the client's (its
// address, its TLS and token options, its streams). kExitUsage when the
// channel cannot be made (an unreadable credential file); otherwise
// RunImport's code.
int ImportCommand(const ClientOptions& client, ImportOptions options);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_IMPORT_COMMAND_H_
