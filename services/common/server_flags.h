// File: services/common/server_flags.h
//
// The command-line flags every georisk server shares, and the one function
// that reads them into ServerOptions. Service-specific flags live in each
// service's main.cc; these are defined once here so the three binaries
// spell them the same way.
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     absl::StatusOr<ServerOptions> options =
//         ServerOptionsFromFlags({"graphstore", 50051, 9464});
//     ...
//   }
//
// Flags:
//   --listen=HOST:PORT          gRPC address (default 127.0.0.1:<service port>)
//   --metrics_listen=HOST:PORT  /metrics address (default 127.0.0.1:<metrics
//                               port>); "none" disables it
//   --port_file=PATH            write bound ports here once listening
//   --drain_delay=DURATION      keep serving after NOT_SERVING (default 0s)
//   --shutdown_grace=DURATION   in-flight calls' time to finish (default 10s)
//   --max_receive_message_bytes=N  (default 64 MiB)
//   --tls_cert=PEM --tls_key=PEM   serve TLS
//   --tls_client_ca=PEM            require client certificates (mutual TLS)
//   --token_file=PATH              bearer tokens with roles (auth.h)
//   --keepalive_time, --keepalive_timeout, --max_concurrent_streams
//   --log_level=debug|info|warning|error  (default info)
#ifndef GEORISK_SERVICES_COMMON_SERVER_FLAGS_H_
#define GEORISK_SERVICES_COMMON_SERVER_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/server_options.h"

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, metrics_listen);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(absl::Duration, drain_delay);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(int, max_receive_message_bytes);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(absl::Duration, keepalive_time);
ABSL_DECLARE_FLAG(absl::Duration, keepalive_timeout);
ABSL_DECLARE_FLAG(int, max_concurrent_streams);

namespace georisk::common {

// What differs between services when a flag is left at its default.
struct ServiceDefaults {
  std::string service_name;
  int port = 0;          // gRPC port when --listen is not given.
  int metrics_port = 0;  // /metrics port when --metrics_listen is not given.
};

// Reads the flags above (after absl::ParseCommandLine) into ServerOptions,
// validates them, and applies --log_level. Errors are InvalidArgument naming
// the flag, e.g. "--listen: address \"x\": missing ':port'".
absl::StatusOr<ServerOptions> ServerOptionsFromFlags(
    const ServiceDefaults& defaults);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SERVER_FLAGS_H_
