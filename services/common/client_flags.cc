#include "services/common/client_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, graphstore, "127.0.0.1:50051",
          "graphstore address (a gRPC target, e.g. "
          "dns:///graphstore-headless.georisk.svc.cluster.local:50051).");
ABSL_FLAG(std::string, graphstore_lb_policy, "pick_first",
          "pick_first, or round_robin over every address of the target.");
ABSL_FLAG(std::string, graphstore_tls_ca, "",
          "PEM CA bundle of graphstore's certificate; enables TLS.");
ABSL_FLAG(std::string, graphstore_tls_server_name, "",
          "Expected name in graphstore's certificate, if not the target's.");
ABSL_FLAG(std::string, client_tls_cert, "",
          "PEM certificate presented to graphstore (mutual TLS).");
ABSL_FLAG(std::string, client_tls_key, "", "PEM key of --client_tls_cert.");
ABSL_FLAG(std::string, graphstore_token_file, "",
          "File holding the bearer token sent to graphstore.");

namespace georisk::common {

absl::StatusOr<ChannelOptions> GraphstoreChannelOptionsFromFlags() {
  ChannelOptions o;
  o.target = absl::GetFlag(FLAGS_graphstore);
  o.lb_policy = absl::GetFlag(FLAGS_graphstore_lb_policy);
  o.tls_ca_file = absl::GetFlag(FLAGS_graphstore_tls_ca);
  o.tls_server_name = absl::GetFlag(FLAGS_graphstore_tls_server_name);
  o.tls_client_cert_file = absl::GetFlag(FLAGS_client_tls_cert);
  o.tls_client_key_file = absl::GetFlag(FLAGS_client_tls_key);
  o.token_file = absl::GetFlag(FLAGS_graphstore_token_file);
  if (o.target.empty()) {
    return absl::InvalidArgumentError("--graphstore: required");
  }
  if (o.lb_policy != "pick_first" && o.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(
        absl::StrCat("--graphstore_lb_policy: \"", o.lb_policy,
                     "\" is not one of pick_first, round_robin"));
  }
  if (o.tls_client_cert_file.empty() != o.tls_client_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--client_tls_cert, --client_tls_key: give both or neither");
  }
  return o;
}

}  // namespace georisk::common
