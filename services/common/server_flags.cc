#include "services/common/server_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

ABSL_FLAG(std::string, listen, "",
          "gRPC listen address HOST:PORT; port 0 picks a free port. Default: "
          "127.0.0.1 and the service's port.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Prometheus /metrics address HOST:PORT, or \"none\". Default: "
          "127.0.0.1 and the service's metrics port.");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound gRPC and metrics ports to this file once "
          "listening.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "On SIGTERM, keep serving this long after reporting NOT_SERVING.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM, time in-flight calls get to finish.");
ABSL_FLAG(int, max_receive_message_bytes, 64 << 20,
          "Largest request message accepted, in bytes.");
ABSL_FLAG(std::string, log_level, "info",
          "Minimum log level: debug, info, warning or error.");

namespace georisk {
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

  absl::StatusOr<log::Level> level =
      ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return level.status();
  log::SetMinLevel(*level);

  if (absl::Status s = ValidateServerOptions(options); !s.ok()) return s;
  return options;
}

}  // namespace georisk
