// File: services/common/channel.h
//
// MakeChannel: the one way georisk clients (ingest and scorer calling
// graphstore, georiskctl) build a gRPC channel — plaintext, TLS or mutual
// TLS, with an optional bearer token, a load-balancing policy, and
// keepalive settings that match the servers' (server_options.h: servers
// accept client pings every 10 s at most; clients ping every 30 s).
//
//   ChannelOptions options;
//   options.target = "dns:///graphstore-headless.georisk.svc:50051";
//   options.lb_policy = "round_robin";
//   options.tls_ca_file = "/etc/georisk/tls/ca.crt";
//   options.token_file = "/etc/georisk/tokens/graphstore";
//   auto channel = MakeChannel(options);
#ifndef GEORISK_SERVICES_COMMON_CHANNEL_H_
#define GEORISK_SERVICES_COMMON_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace georisk::common {

struct ChannelOptions {
  // Required. A gRPC target: "127.0.0.1:50051", "dns:///host:port".
  std::string target;
  // TLS: the CA bundle that signed the server's certificate (PEM). Empty:
  // plaintext.
  std::string tls_ca_file;
  // Mutual TLS: this client's certificate and key (PEM). Need tls_ca_file.
  std::string tls_client_cert_file;
  std::string tls_client_key_file;
  // Optional TLS server name override (e.g. when dialling by IP).
  std::string tls_server_name;
  // A file holding the bearer token (auth.h: first field of the first
  // line). Without TLS it is sent over local (loopback) credentials only.
  std::string token_file;
  // "pick_first" (default) or "round_robin" (spread calls over every
  // address a dns:/// target resolves to: one per pod of a headless
  // Service).
  std::string lb_policy = "pick_first";
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  int max_receive_message_bytes = 64 << 20;
};

// Builds the channel (it connects lazily). Errors are INVALID_ARGUMENT
// naming the option or file at fault.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_CHANNEL_H_
