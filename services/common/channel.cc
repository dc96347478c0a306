#include "services/common/channel.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/common/auth.h"

namespace georisk::common {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("target: required");
  }
  if (options.lb_policy != "pick_first" && options.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(
        absl::StrCat("lb_policy: \"", options.lb_policy,
                     "\" is not one of pick_first, round_robin"));
  }
  if (options.tls_client_cert_file.empty() !=
      options.tls_client_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_cert_file, tls_client_key_file: give both or neither");
  }
  if (!options.tls_client_cert_file.empty() && options.tls_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_cert_file: mutual TLS needs tls_ca_file");
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments args;
  if (!options.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadPemFile(options.tls_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    if (!options.tls_client_cert_file.empty()) {
      absl::StatusOr<std::string> cert =
          ReadPemFile(options.tls_client_cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key =
          ReadPemFile(options.tls_client_key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else if (!options.token_file.empty()) {
    credentials = grpc::experimental::LocalCredentials(LOCAL_TCP);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadClientToken(options.token_file);
    if (!token.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token_file: ", token.status().message()));
    }
    credentials = grpc::CompositeChannelCredentials(
        credentials, grpc::AccessTokenCredentials(*token));
  }
  args.SetLoadBalancingPolicyName(options.lb_policy);
  args.SetInt(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  args.SetInt(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

}  // namespace georisk::common
