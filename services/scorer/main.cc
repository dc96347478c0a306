// scorer: follows graphstore's change feed, scores every entity, explains,
// runs scenarios and raises alerts. The flags fill ScorerServerOptions;
// everything else is ScorerServer (scorer_server.h).
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/auth.h"
#include "services/common/client_flags.h"
#include "services/common/main_support.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/scorer/repeated_flag.h"
#include "services/scorer/scorer_server.h"

ABSL_FLAG(std::string, data_dir, "",
          "Directory of the scorer's own RocksDB (its copy of the graph, the "
          "alert log). Required.");
ABSL_FLAG(std::string, model_config, "",
          "Model config file (georisk.v1.ModelConfig in protobuf text "
          "format). Empty: the built-in defaults (deploy/config/"
          "model.textproto documents them).");
ABSL_FLAG(absl::Duration, advance_interval, absl::Minutes(1),
          "How often scores are re-evaluated as time passes (signals and "
          "rules whose validity windows open or close).");
ABSL_FLAG(std::vector<std::string>, alertmanager_url, {},
          "Prometheus Alertmanager base URLs (http://host:9093), a "
          "comma-separated list, one per replica: alerts go to all. The flag "
          "may also be repeated; the occurrences add up.");
ABSL_FLAG(absl::Duration, alertmanager_resend_interval, absl::Minutes(1),
          "Re-send firing alerts this often; each is valid for 4 intervals.");
ABSL_FLAG(std::string, external_url, "",
          "Absolute URL where people reach georisk; alerts link to it "
          "(Alertmanager's generatorURL).");
ABSL_FLAG(std::string, alertmanager_ca_file, "",
          "PEM file of the CAs that may sign Alertmanager's certificate "
          "(https:// URLs). Empty: the system's CA store.");
ABSL_FLAG(std::string, alertmanager_cert_file, "",
          "PEM client certificate for Alertmanager (mutual TLS), with "
          "--alertmanager_key_file.");
ABSL_FLAG(std::string, alertmanager_key_file, "",
          "PEM key of --alertmanager_cert_file.");
ABSL_FLAG(bool, alertmanager_insecure_skip_verify, false,
          "Do not verify Alertmanager's certificate. Tests only.");
ABSL_FLAG(std::string, alertmanager_bearer_token_file, "",
          "File holding a bearer token sent to Alertmanager (Authorization: "
          "Bearer); a file, not the flag, so the token stays out of ps.");
ABSL_FLAG(std::string, alertmanager_basic_auth_username, "",
          "Basic auth user for Alertmanager, with "
          "--alertmanager_basic_auth_password_file.");
ABSL_FLAG(std::string, alertmanager_basic_auth_password_file, "",
          "File holding the basic auth password for Alertmanager.");
ABSL_FLAG(int, change_log_capacity, 100000,
          "Live score changes kept in memory for WatchScoreChanges streams.");
ABSL_FLAG(double, history_min_delta, 0.5,
          "Score history: a point is kept when the composite or a factor's "
          "propagated score x 100 moved by more than this many points.");
ABSL_FLAG(absl::Duration, history_max_age, absl::Hours(24 * 400),
          "Score history: points older than this are dropped.");
ABSL_FLAG(std::string, console_listen, "",
          "Address of the web console (HTTP, or HTTPS with --tls_cert), "
          "HOST:PORT, e.g. 127.0.0.1:8466; with --token_file every API call "
          "needs a reader token. Empty: no console. docs/console.md.");
ABSL_FLAG(int, history_max_points, 1000,
          "Score history: the newest points kept per entity.");
ABSL_FLAG(std::string, graphstore_shards, "",
          "Partitioned graphstore (docs/scale-out.md, \"The scorer follows "
          "every shard\"): the shards' gRPC targets, comma-separated, shard "
          "0 first (graphstore-0, ...). The scorer follows every shard's "
          "change feed, with a cursor per shard in its mirror; the TLS and "
          "token flags of --graphstore apply to every shard, and --graphstore "
          "itself is not used (it may be left out). Changing the list (or "
          "its length) makes the scorer re-read every shard once. Empty (the "
          "default): the one feed of --graphstore.");

ABSL_FLAG(absl::Duration, feed_merge_hold, absl::Seconds(5),
          "With --graphstore_shards: how long a shard's change waits at most "
          "for every other shard's feed to show it has nothing earlier, "
          "before it is applied anyway (docs/scale-out.md, \"Replicas that "
          "agree\"). Longer keeps replicas in agreement through longer "
          "silences of a shard; it is also how long a shard that went down "
          "holds the others' changes back.");

int main(int argc, char** argv) {
  namespace common = georisk::common;
  common::BlockShutdownSignals();
  // absl keeps only the last occurrence of a flag; deployments repeat
  // --alertmanager_url, so the occurrences are merged into one list first.
  std::string merged;
  std::vector<char*> args = georisk::scorer::MergeRepeatedFlag(
      argc, argv, "alertmanager_url", &merged);
  common::InitMain("scorer", "georisk scorer: risk scores and alerts.",
                   static_cast<int>(args.size()), args.data());

  georisk::scorer::ScorerServerOptions options;
  absl::StatusOr<common::ServerOptions> server =
      common::ServerOptionsFromFlags({"scorer", 50053, 9466});
  if (!server.ok()) return common::ExitWithError(server.status());
  options.server = *std::move(server);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (options.data_dir.empty()) {
    return common::ExitWithError(
        absl::InvalidArgumentError("--data_dir: required"));
  }
  options.model_config_path = absl::GetFlag(FLAGS_model_config);
  options.advance_interval = absl::GetFlag(FLAGS_advance_interval);
  options.feed.merge_hold = absl::GetFlag(FLAGS_feed_merge_hold);
  if (options.feed.merge_hold < absl::ZeroDuration()) {
    return common::ExitWithError(absl::InvalidArgumentError(
        absl::StrCat("--feed_merge_hold: must not be negative, got ",
                     absl::FormatDuration(options.feed.merge_hold))));
  }
  options.alertmanager_urls = absl::GetFlag(FLAGS_alertmanager_url);
  options.alertmanager_resend_interval =
      absl::GetFlag(FLAGS_alertmanager_resend_interval);
  options.external_url = absl::GetFlag(FLAGS_external_url);
  options.alertmanager_tls.ca_file = absl::GetFlag(FLAGS_alertmanager_ca_file);
  options.alertmanager_tls.cert_file =
      absl::GetFlag(FLAGS_alertmanager_cert_file);
  options.alertmanager_tls.key_file =
      absl::GetFlag(FLAGS_alertmanager_key_file);
  options.alertmanager_tls.insecure_skip_verify =
      absl::GetFlag(FLAGS_alertmanager_insecure_skip_verify);
  for (auto [flag, out] :
       {std::pair{absl::GetFlag(FLAGS_alertmanager_bearer_token_file),
                  &options.alertmanager_auth.bearer_token},
        std::pair{absl::GetFlag(FLAGS_alertmanager_basic_auth_password_file),
                  &options.alertmanager_auth.basic_auth_password}}) {
    if (flag.empty()) continue;
    absl::StatusOr<std::string> secret = common::ReadClientToken(flag);
    if (!secret.ok()) return common::ExitWithError(secret.status());
    *out = *std::move(secret);
  }
  options.alertmanager_auth.basic_auth_username =
      absl::GetFlag(FLAGS_alertmanager_basic_auth_username);
  options.change_log_capacity = absl::GetFlag(FLAGS_change_log_capacity);
  options.history.min_delta = absl::GetFlag(FLAGS_history_min_delta);
  options.history.max_age = absl::GetFlag(FLAGS_history_max_age);
  options.history.max_points_per_entity =
      absl::GetFlag(FLAGS_history_max_points);
  options.console_listen_address = absl::GetFlag(FLAGS_console_listen);
  const std::string shards = absl::GetFlag(FLAGS_graphstore_shards);
  if (!shards.empty()) {
    options.graphstore_shards = absl::StrSplit(shards, ',');
    // --graphstore is not dialled then; its TLS and token flags are.
    if (absl::GetFlag(FLAGS_graphstore).empty()) {
      absl::SetFlag(&FLAGS_graphstore, options.graphstore_shards[0]);
    }
  }
  absl::StatusOr<common::ChannelOptions> graphstore =
      common::GraphstoreChannelOptionsFromFlags();
  if (!graphstore.ok()) return common::ExitWithError(graphstore.status());
  options.graphstore = *std::move(graphstore);

  auto scorer = georisk::scorer::ScorerServer::Start(std::move(options));
  if (!scorer.ok()) return common::ExitWithError(scorer.status());
  int code = common::ServeUntilShutdownSignal((*scorer)->grpc_server());
  (*scorer)->Shutdown();
  return code;
}
