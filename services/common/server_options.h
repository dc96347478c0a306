// File: services/common/server_options.h
//
// ServerOptions: what every georisk server needs to listen, report and stop,
// independent of where the values come from. `server_flags.h` fills it from
// command-line flags; tests fill it directly.
//
//   ServerOptions options;
//   options.service_name = "graphstore";
//   options.listen_address = "127.0.0.1:0";  // any free port
//   auto server = GrpcServer::Start(options, {&service}, &registry);
#ifndef GEORISK_SERVICES_COMMON_SERVER_OPTIONS_H_
#define GEORISK_SERVICES_COMMON_SERVER_OPTIONS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::common {

struct ServerOptions {
  // Name used in logs and metrics: "graphstore", "ingest", "scorer".
  std::string service_name;

  // gRPC address, "host:port" or "[v6]:port". Port 0 picks a free port (see
  // GrpcServer::port()). Default: loopback only.
  std::string listen_address = "127.0.0.1:0";

  // Address of the Prometheus endpoint (HTTP GET /metrics). Port 0 picks a
  // free port. Empty disables the endpoint.
  std::string metrics_address = "127.0.0.1:0";

  // Optional plaintext address serving only grpc.health.v1, for probes that
  // cannot speak TLS (Kubernetes' native gRPC probes). Port 0 picks a free
  // port. Nothing else is reachable there.
  std::string health_listen_address;

  // If not empty, once the server listens it writes the bound ports to this
  // file (atomically: written to a temporary file, then renamed), as lines
  //   grpc_port=50051
  //   metrics_port=9464
  //   pid=1234
  // so launchers and tests can use port 0 without races.
  std::string port_file;
  // More "name=port" lines for the port file, before pid=, e.g.
  // {"console_port", 8466} for a server's other listener.
  std::vector<std::pair<std::string, int>> extra_ports;

  // On shutdown: time to keep serving after reporting NOT_SERVING, so load
  // balancers stop sending new calls (Kubernetes: endpoint propagation).
  absl::Duration drain_delay = absl::ZeroDuration();

  // On shutdown: time in-flight calls get to finish before they are
  // cancelled.
  absl::Duration shutdown_grace = absl::Seconds(10);

  // Largest request message accepted, in bytes.
  int max_receive_message_bytes = 64 << 20;

  // TLS: the server's certificate chain and private key, PEM files. Both or
  // neither; neither serves plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS: a CA bundle (PEM); clients must present a certificate it
  // signed, or they cannot connect. Needs tls_cert_file.
  std::string tls_client_ca_file;
  // Bearer tokens with roles (auth.h). Without TLS it is allowed only on a
  // loopback listen address (tokens must not cross a network in clear).
  std::string token_file;

  // HTTP/2 keepalive: ping an idle connection this often, and drop it when
  // a ping is not answered within keepalive_timeout.
  absl::Duration keepalive_time = absl::Seconds(60);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // Clients may ping this often at most (their keepalive time must not be
  // shorter, see channel.h: 30 s).
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // Concurrent calls (streams) per client connection.
  int max_concurrent_streams = 1000;
};

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopbackHost(absl::string_view host);

// A parsed "host:port" address.
struct HostPort {
  std::string host;  // Without brackets for IPv6.
  int port = 0;
};

// Parses "host:port", "[::1]:port" or ":port" (meaning all interfaces,
// "0.0.0.0"). Port must be 0..65535. Errors name the address.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address);

// Checks every field; errors are InvalidArgument naming the field.
absl::Status ValidateServerOptions(const ServerOptions& options);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SERVER_OPTIONS_H_
