#include "services/common/server_options.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace georisk::common {

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\": ", why));
  };
  HostPort out;
  absl::string_view port_text;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == absl::string_view::npos) return bad("missing ']'");
    out.host = std::string(address.substr(1, close - 1));
    absl::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("missing ':port'");
    port_text = rest.substr(1);
    if (out.host.empty()) return bad("empty IPv6 host");
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("missing ':port'");
    out.host = std::string(address.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return bad("IPv6 hosts must be written in brackets, e.g. [::1]:50051");
    }
    if (out.host.empty()) out.host = "0.0.0.0";
    port_text = address.substr(colon + 1);
  }
  if (port_text.empty()) return bad("empty port");
  for (char c : port_text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return bad("port must be a number");
    }
  }
  if (port_text.size() > 5 || !absl::SimpleAtoi(port_text, &out.port) ||
      out.port > 65535) {
    return bad("port must be in [0, 65535]");
  }
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::Status ValidateServerOptions(const ServerOptions& options) {
  if (options.service_name.empty()) {
    return absl::InvalidArgumentError("service_name: must not be empty");
  }
  if (auto hp = ParseHostPort(options.listen_address); !hp.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen_address: ", hp.status().message()));
  }
  if (!options.metrics_address.empty()) {
    if (auto hp = ParseHostPort(options.metrics_address); !hp.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_address: ", hp.status().message()));
    }
  }
  if (!options.health_listen_address.empty()) {
    if (auto hp = ParseHostPort(options.health_listen_address); !hp.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("health_listen_address: ", hp.status().message()));
    }
  }
  if (options.drain_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("drain_delay: must not be negative");
  }
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("shutdown_grace: must not be negative");
  }
  if (options.max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        "max_receive_message_bytes: must be positive");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file, tls_key_file: give both or neither");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_ca_file: mutual TLS needs tls_cert_file and tls_key_file");
  }
  if (!options.token_file.empty() && options.tls_cert_file.empty()) {
    absl::StatusOr<HostPort> hp = ParseHostPort(options.listen_address);
    if (hp.ok() && !IsLoopbackHost(hp->host)) {
      return absl::InvalidArgumentError(
          "token_file: bearer tokens need TLS (tls_cert_file, tls_key_file) "
          "unless the server listens on loopback only");
    }
  }
  if (options.keepalive_time <= absl::ZeroDuration() ||
      options.keepalive_timeout <= absl::ZeroDuration() ||
      options.min_client_ping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "keepalive_time, keepalive_timeout, min_client_ping_interval: must be "
        "positive");
  }
  if (options.max_concurrent_streams <= 0) {
    return absl::InvalidArgumentError(
        "max_concurrent_streams: must be positive");
  }
  return absl::OkStatus();
}

}  // namespace georisk::common
