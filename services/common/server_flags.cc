#include "services/common/server_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/log.h"

ABSL_FLAG(std::string, listen, "",
          "gRPC listen address HOST:PORT; port 0 picks a free port. Default: "
          "127.0.0.1 and the service's port.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Prometheus /metrics address HOST:PORT, or \"none\". Default: "
          "127.0.0.1 and the service's metrics port.");
ABSL_FLAG(std::string, health_listen, "",
          "Optional plaintext HOST:PORT serving only grpc.health.v1, for "
          "probes that cannot do TLS (Kubernetes gRPC probes).");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound gRPC and metrics ports to this file once "
          "listening.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "On SIGTERM, keep serving this long after reporting NOT_SERVING.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM, time in-flight calls get to finish.");
ABSL_FLAG(int, max_receive_message_bytes, 64 << 20,
          "Largest request message accepted, in bytes.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the server; with --tls_key serves TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the server.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it "
          "signed (mutual TLS).");
ABSL_FLAG(std::string, token_file, "",
          "Bearer tokens with roles, one \"<token> <role> [<name>]\" per line "
          "(roles: reader, writer, admin). Health checks stay open.");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Seconds(60),
          "Ping idle client connections this often.");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "Drop a connection whose ping is not answered within this.");
ABSL_FLAG(int, max_concurrent_streams, 1000,
          "Concurrent calls per client connection.");
ABSL_FLAG(std::string, log_level, "info",
          "Minimum log level: debug, info, warning or error.");

namespace georisk::common {
namespace {

absl::StatusOr<log::Level> ParseLogLevel(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return log::Level::kDebug;
  if (lower == "info") return log::Level::kInfo;
  if (lower == "warning") return log::Level::kWarning;
  if (lower == "error") return log::Level::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "--log_level: \"", text, "\" is not one of debug, info, warning, error"));
}

absl::Status FlagError(absl::string_view flag, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", status.message()));
}

}  // namespace

absl::StatusOr<ServerOptions> ServerOptionsFromFlags(
    const ServiceDefaults& defaults) {
  ServerOptions options;
  options.service_name = defaults.service_name;

  std::string listen = absl::GetFlag(FLAGS_listen);
  options.listen_address =
      listen.empty() ? absl::StrCat("127.0.0.1:", defaults.port) : listen;
  if (auto hp = ParseHostPort(options.listen_address); !hp.ok()) {
    return FlagError("listen", hp.status());
  }

  std::string metrics = absl::GetFlag(FLAGS_metrics_listen);
  if (metrics == "none") {
    options.metrics_address.clear();
  } else {
    options.metrics_address =
        metrics.empty() ? absl::StrCat("127.0.0.1:", defaults.metrics_port)
                        : metrics;
    if (auto hp = ParseHostPort(options.metrics_address); !hp.ok()) {
      return FlagError("metrics_listen", hp.status());
    }
  }

  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.health_listen_address = absl::GetFlag(FLAGS_health_listen);
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  if (options.drain_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_delay: must not be negative");
  }
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--shutdown_grace: must not be negative");
  }
  options.max_receive_message_bytes =
      absl::GetFlag(FLAGS_max_receive_message_bytes);
  if (options.max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        "--max_receive_message_bytes: must be positive");
  }

  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.token_file = absl::GetFlag(FLAGS_token_file);
  options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);

  absl::StatusOr<log::Level> level =
      ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return level.status();
  log::SetMinLevel(*level);

  if (absl::Status s = ValidateServerOptions(options); !s.ok()) {
    // Name the flag rather than the field (one left-to-right pass; longer
    // names first where one is a prefix of another).
    std::string message = absl::StrReplaceAll(
        s.message(), {{"tls_client_ca_file", "--tls_client_ca"},
                      {"tls_cert_file", "--tls_cert"},
                      {"tls_key_file", "--tls_key"},
                      {"token_file", "--token_file"},
                      {"keepalive_timeout", "--keepalive_timeout"},
                      {"keepalive_time", "--keepalive_time"},
                      {"max_concurrent_streams", "--max_concurrent_streams"},
                      {"health_listen_address", "--health_listen"}});
    return absl::InvalidArgumentError(message);
  }
  return options;
}

}  // namespace georisk::common
