// File: services/common/reflection_client.h
//
// Lists the services a gRPC server offers, through the standard server
// reflection service (grpc.reflection.v1alpha).
//
//   absl::StatusOr<std::vector<std::string>> names =
//       ListServices("127.0.0.1:50051", absl::Seconds(5));
//
// Do not link this into a binary that also serves reflection
// (services/common:server): both define the reflection protos.
#ifndef GEORISK_SERVICES_COMMON_REFLECTION_CLIENT_H_
#define GEORISK_SERVICES_COMMON_REFLECTION_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::common {

// Lists the full names of the services `target` offers, via server
// reflection, sorted.
absl::StatusOr<std::vector<std::string>> ListServices(absl::string_view target,
                                                      absl::Duration timeout);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_REFLECTION_CLIENT_H_
