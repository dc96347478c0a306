// File: services/scorer/scorer_server.h
//
// ScorerServer: the whole scorer process minus its flags. Start() loads the
// model, opens the scorer's RocksDB (its copy of the graph, the alert log),
// restores the alerts still firing, starts the Scorer and Alerts services,
// the Alertmanager notifier (when URLs are given) and the feed follower, and
// reports SERVING once the graph is loaded and scored (and, for a new
// history, its baseline written); then it re-evaluates scores as time
// passes. main.cc fills ScorerServerOptions from flags
// (services/common's server and client flags for `server` and `graphstore`).
//
//   ScorerServerOptions options;
//   options.data_dir = "/var/lib/georisk/scorer";
//   options.graphstore.target = "127.0.0.1:50051";
//   absl::StatusOr<std::unique_ptr<ScorerServer>> server =
//       ScorerServer::Start(std::move(options));
//   if (!server.ok()) return common::ExitWithError(server.status());
//   common::ServeUntilShutdownSignal((*server)->grpc_server());
//   (*server)->Shutdown();
//
// Thread-safe: Shutdown() and Wait() from any thread.
#ifndef GEORISK_SERVICES_SCORER_SCORER_SERVER_H_
#define GEORISK_SERVICES_SCORER_SCORER_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/channel.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_options.h"
#include "services/scorer/alert_pipeline.h"
#include "services/scorer/alertmanager/notifier.h"
#include "services/scorer/alerts_service.h"
#include "services/scorer/console/console_server.h"
#include "services/scorer/feed_follower.h"
#include "services/scorer/history_recorder.h"
#include "services/scorer/score_state.h"
#include "services/scorer/scorer_service.h"
#include "services/scorer/shard_feed_follower.h"
#include "storage/alert_log.h"
#include "storage/graph_mirror.h"
#include "storage/score_history.h"

namespace georisk::scorer {

struct ScorerServerOptions {
  // Required. Directory of the scorer's own RocksDB databases: `mirror`
  // (its copy of the graph) and `alerts` (the alert log), created if
  // missing.
  std::string data_dir;

  // Model config file (georisk.v1.ModelConfig in protobuf text format).
  // Default empty: the built-in defaults (DefaultModelConfig()).
  std::string model_config_path;

  // How often every score is re-evaluated at the clock's time (signals and
  // rules whose validity windows open or close). Default 1 minute.
  absl::Duration advance_interval = absl::Minutes(1);

  // How often the alert pipeline emits held updates and time-based
  // resolutions. Default 1 second.
  absl::Duration alert_tick_interval = absl::Seconds(1);

  // Prometheus Alertmanager base URLs (http://host:9093), one per replica:
  // every alert goes to all. Default empty: no Alertmanager delivery.
  std::vector<std::string> alertmanager_urls;
  // Firing alerts are re-sent this often; each is valid for 4 intervals.
  // Default 1 minute.
  absl::Duration alertmanager_resend_interval = absl::Minutes(1);
  // Absolute URL where people reach georisk; alerts link to it
  // (Alertmanager's generatorURL). Default empty: no link.
  std::string external_url;
  // TLS and credentials for Alertmanager behind https:// or a proxy that
  // wants a bearer token or basic auth (alertmanager/http_client.h). Default:
  // the system's CA store, no client certificate, no credentials.
  HttpTlsOptions alertmanager_tls;
  HttpAuthOptions alertmanager_auth;

  // Live score changes kept in memory for WatchScoreChanges. Default
  // 100000.
  size_t change_log_capacity = 100000;

  // The score history (`history` beside the mirror): its delta and
  // retention (storage/score_history.h; the path is data_dir/history).
  // How often the retention is applied. Default 1 hour.
  storage::ScoreHistoryOptions history;
  absl::Duration history_trim_interval = absl::Hours(1);

  // The gRPC server: addresses, TLS, auth, drain. Default: ServerOptions'
  // defaults (loopback, port 0) with service_name "scorer".
  common::ServerOptions server = [] {
    common::ServerOptions o;
    o.service_name = "scorer";
    return o;
  }();

  // Required: graphstore.target. The channel to GraphStore, whose change
  // feed the scorer follows. Default: ChannelOptions' defaults.
  common::ChannelOptions graphstore;
  // A partitioned graphstore (docs/scale-out.md, "The scorer follows every
  // shard"): the shards' targets, shard 0 first. The scorer then follows
  // every shard's feed (ShardedFeedFollower) over `graphstore`'s TLS and
  // token options, and graphstore.target is not used. Default empty: the
  // one feed of graphstore.target (FeedFollower).
  std::vector<std::string> graphstore_shards;
  // Backoff and deadlines of the feed follower. Default: its defaults.
  FeedFollowerOptions feed;
  // Limits of the Scorer service. Default: its defaults.
  ScorerServiceOptions scorer_service;

  // The web console (docs/console.md) on its own HTTP port, "host:port"
  // (port 0 picks one; console_port()). Empty: no console. It serves TLS
  // with the gRPC server's certificate and checks the same token file
  // (server.tls_cert_file, tls_key_file, token_file); the port file gets a
  // console_port= line.
  std::string console_listen_address;

  // The time scores and alerts are computed at. Default absl::Now; tests
  // inject their own. Waits between ticks are real time.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class ScorerServer {
 public:
  // Starts everything (see the banner). Errors: INVALID_ARGUMENT naming the
  // option at fault (data_dir, model_config_path, its alert rules,
  // alertmanager_urls, graphstore), and the store's or the server's errors
  // (e.g. UNAVAILABLE when the address cannot be bound). Nothing keeps
  // running after an error.
  static absl::StatusOr<std::unique_ptr<ScorerServer>> Start(
      ScorerServerOptions options);

  ~ScorerServer();  // Calls Shutdown().
  ScorerServer(const ScorerServer&) = delete;
  ScorerServer& operator=(const ScorerServer&) = delete;

  // Drains and stops: the gRPC server (NOT_SERVING, drain delay, streams
  // ended with UNAVAILABLE, in-flight calls finished), the tickers, the
  // notifier and the feed follower. Idempotent; returns once all stopped.
  void Shutdown();
  // Blocks until Shutdown() has finished (called from another thread).
  void Wait();

  // The bound gRPC and /metrics ports (useful with port 0).
  int port() const { return grpc_server_->port(); }
  int metrics_port() const { return grpc_server_->metrics_port(); }
  // The console's port, or 0 without a console.
  int console_port() const {
    return console_ == nullptr ? 0 : console_->port();
  }
  // For ServeUntilShutdownSignal and health; owned by the server.
  common::GrpcServer& grpc_server() { return *grpc_server_; }
  // The scores and the feed; owned by the server, valid until it is
  // destroyed.
  const ScoreState& state() const { return *state_; }
  // follower() with one feed only (no graphstore_shards);
  // sharded_follower() is null then.
  const FeedFollower& follower() const { return *follower_; }
  const ShardedFeedFollower* sharded_follower() const {
    return sharded_follower_.get();
  }

 private:
  explicit ScorerServer(ScorerServerOptions options);
  absl::Status Init();
  void RunTicker();
  void RunAlertTicker();
  void RunHistoryTrimmer();

  const ScorerServerOptions options_;
  // Declared in the order they are built; destroyed in reverse.
  common::MetricsRegistry registry_;
  std::unique_ptr<storage::GraphMirror> mirror_;
  std::unique_ptr<storage::AlertLog> alert_log_;
  std::unique_ptr<storage::ScoreHistory> history_;
  std::unique_ptr<HistoryRecorder> recorder_;
  // The history was empty at open (new, or lost): the first full score's
  // points are its baseline, marked rebuild, written before SERVING.
  bool history_started_empty_ = false;
  // The first full score was offered to the history (feed thread only).
  bool history_seeded_ = false;
  // Notified once the first full score's points are written.
  absl::Notification history_baseline_;
  std::thread history_trimmer_;
  std::unique_ptr<ScoreState> state_;
  std::unique_ptr<AlertPipeline> pipeline_;
  std::unique_ptr<AlertmanagerNotifier> notifier_;
  // Built (not started) before the services: GetFeedStatus reads it.
  std::unique_ptr<FeedFollower> follower_;
  std::unique_ptr<ShardedFeedFollower> sharded_follower_;
  std::unique_ptr<ScorerService> scorer_service_;
  std::unique_ptr<AlertsService> alerts_service_;
  // Bound before the gRPC server (its port goes in the port file), stopped
  // before it.
  std::unique_ptr<console::ConsoleServer> console_;
  std::unique_ptr<common::GrpcServer> grpc_server_;
  absl::Notification stop_;
  std::thread ticker_;
  std::thread alert_ticker_;

  absl::Mutex mu_;  // Serialises Shutdown() callers.
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_SCORER_SERVER_H_
