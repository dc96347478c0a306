// File: services/common/main_support.h
//
// The few lines every georisk main() shares: usage text, flag parsing and a
// data directory that exists.
//
//   int main(int argc, char** argv) {
//     georisk::BlockShutdownSignals();
//     georisk::common::InitMain("graphstore", "Serves the supply-chain graph.", argc,
//                       argv);
//     ...
//   }
#ifndef GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_
#define GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace georisk::common {

// Sets the usage message, parses the command line (exiting on bad or
// unknown flags, printing help on --help) and names the service in logs.
// Positional arguments are not accepted.
void InitMain(absl::string_view service_name, absl::string_view description,
              int argc, char** argv);

// Creates `path` and its parents if missing (mode 0750). Errors name the
// path: InvalidArgument when empty or not a directory, Unavailable on I/O
// errors.
absl::Status EnsureDirectory(const std::string& path);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_MAIN_SUPPORT_H_
