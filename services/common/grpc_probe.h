// File: services/common/grpc_probe.h
//
// Client-side health probes of any gRPC server through the standard
// grpc.health.v1.Health service. Used by georiskctl (status, and the
// launcher's readiness wait) and by tests. (Reflection: reflection_client.h.)
//
//   absl::Status s = WaitForServing("127.0.0.1:50051", "", absl::Seconds(30));
#ifndef GEORISK_SERVICES_COMMON_GRPC_PROBE_H_
#define GEORISK_SERVICES_COMMON_GRPC_PROBE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::common {

// "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN".
using HealthState = std::string;

// Asks `target` (a gRPC target, e.g. "127.0.0.1:50051") once for the health
// of `service` ("" = the server as a whole). Errors: the call's own status,
// e.g. Unavailable when nothing listens, NotFound for an unknown service,
// DeadlineExceeded after `timeout`.
absl::StatusOr<HealthState> CheckHealth(absl::string_view target,
                                        absl::string_view service,
                                        absl::Duration timeout);

// Polls CheckHealth until it answers SERVING. Errors: DeadlineExceeded after
// `timeout`, naming the last state or error seen.
absl::Status WaitForServing(absl::string_view target, absl::string_view service,
                            absl::Duration timeout);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_GRPC_PROBE_H_
