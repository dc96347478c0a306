// File: services/common/exit_codes.h
//
// georiskctl's exit codes, one list for every command (here, not in
// services/georiskctl, because the import driver of services/importer
// returns them too):
//
//   0  kExitOk           the command did what was asked;
//   1  kExitFailed       it failed for a reason the message gives;
//   1  kExitRejected     (import) some records were rejected, the rest were
//                        imported;
//   2  kExitUsage        bad flags or arguments, an unreadable file;
//   3  kExitUnavailable  a service could not be reached (retry later).
#ifndef GEORISK_SERVICES_COMMON_EXIT_CODES_H_
#define GEORISK_SERVICES_COMMON_EXIT_CODES_H_

namespace georisk::common {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_EXIT_CODES_H_
