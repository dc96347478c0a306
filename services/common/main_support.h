// File: services/common/main_support.h
//
// The few lines every georisk main() shares: usage text, flag parsing, a
// --help that lists the binary's own flags, and a data directory that exists.
//
//   int main(int argc, char** argv) {
//     georisk::BlockShutdownSignals();
//     georisk::common::InitMain("graphstore", "Serves the supply-chain graph.",
//     argc,
//                       argv);
//     ...
//   }
#ifndef GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_
#define GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace georisk::common {

// Sets the usage message, configures --help (ConfigureFlagsUsage), parses
// the command line (exiting on bad or unknown flags, printing help on --help)
// and names the service in logs. Positional arguments are not accepted.
// Call once, first thing in main(); not thread-safe.
void InitMain(absl::string_view service_name, absl::string_view description,
              int argc, char** argv);

// Makes --help and --helpshort list the flags IsOwnFlagFile(program_name, ·)
// accepts, instead of absl's default (flags of a file named after the
// program, which matches none of georisk's main.cc files, hence "No flags
// matched"). --helpfull still lists every flag, absl's included. Call before
// absl::ParseCommandLine; not thread-safe (absl's usage config is global).
void ConfigureFlagsUsage(absl::string_view program_name);

// Whether a flag defined in source file `file` is one of `program_name`'s own
// for --help: a file in a directory named after the program
// (services/graphstore/main.cc for "graphstore"), a file named after it
// (bench/rpc_bench.cc for "rpc_bench"), or the shared server and client
// flags (services/common/server_flags.cc, client_flags.cc). absl's own flags
// (absl/flags/...) are not. Thread-safe (pure).
bool IsOwnFlagFile(absl::string_view program_name, absl::string_view file);

// The flags among `names` that the command line argv[1..argc) gives more
// than once (absl keeps the last value of a repeated flag, silently), in the
// order of their second occurrence, each once. A flag is `--name=value`,
// `-name=value`, `--name value` or `-name value` (the value then is the next
// argument, not read as a flag); "--" ends the flags. Call before
// absl::ParseCommandLine to refuse a repeated single-valued flag.
// Thread-safe (pure).
std::vector<std::string> RepeatedFlags(
    int argc, char** argv, absl::Span<const absl::string_view> names);

// Creates `path` and its parents if missing (mode 0750). Errors name the
// path: InvalidArgument when empty or not a directory, Unavailable on I/O
// errors.
absl::Status EnsureDirectory(const std::string& path);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_
