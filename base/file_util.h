// File: base/file_util.h
//
// WriteFileAtomically: readers see the old contents or the new, never a
// part (a temporary file, fsync'ed, then renamed over the target).
//
//   RETURN_IF_ERROR(WriteFileAtomically(port_file, "grpc_port=50051\n"));
#ifndef GEORISK_BASE_FILE_UTIL_H_
#define GEORISK_BASE_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"

namespace georisk::base {

// Errors: UNAVAILABLE naming the file and the system's reason.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

}  // namespace georisk::base

#endif  // GEORISK_BASE_FILE_UTIL_H_
