// File: services/georiskctl/exit_codes.h
//
// georiskctl's exit codes: services/common/exit_codes.h (shared with the
// import driver of services/importer), under georiskctl's namespace.
#ifndef GEORISK_SERVICES_GEORISKCTL_EXIT_CODES_H_
#define GEORISK_SERVICES_GEORISKCTL_EXIT_CODES_H_

#include "services/common/exit_codes.h"

namespace georisk::cli {

using common::kExitFailed;
using common::kExitOk;
using common::kExitRejected;
using common::kExitUnavailable;
using common::kExitUsage;

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_EXIT_CODES_H_
