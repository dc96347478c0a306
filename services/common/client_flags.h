// File: services/common/client_flags.h
//
// The flags a georisk service uses to reach graphstore, defined once for
// ingest and scorer:
//
//   --graphstore=TARGET              e.g. dns:///graphstore-headless:50051
//   --graphstore_lb_policy=pick_first|round_robin
//   --graphstore_tls_ca=PEM          TLS to graphstore (its CA)
//   --graphstore_tls_server_name=N   when the certificate names another host
//   --client_tls_cert=PEM --client_tls_key=PEM   mutual TLS identity
//   --graphstore_token_file=PATH     bearer token (an admin token)
#ifndef GEORISK_SERVICES_COMMON_CLIENT_FLAGS_H_
#define GEORISK_SERVICES_COMMON_CLIENT_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "services/common/channel.h"

ABSL_DECLARE_FLAG(std::string, graphstore);

namespace georisk::common {

// Reads the flags above; errors are INVALID_ARGUMENT naming the flag.
absl::StatusOr<ChannelOptions> GraphstoreChannelOptionsFromFlags();

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_CLIENT_FLAGS_H_
