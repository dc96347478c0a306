#include "services/scorer/scorer_server.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "services/common/log.h"
#include "services/common/main_support.h"
#include "services/scorer/alert_evaluator.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"

namespace georisk::scorer {
namespace {

absl::Status Prefixed(absl::string_view option, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScorerServer>> ScorerServer::Start(
    ScorerServerOptions options) {
  std::unique_ptr<ScorerServer> server(new ScorerServer(std::move(options)));
  if (absl::Status s = server->Init(); !s.ok()) {
    server->Shutdown();
    return s;
  }
  return server;
}

ScorerServer::ScorerServer(ScorerServerOptions options)
    : options_(std::move(options)) {}

ScorerServer::~ScorerServer() { Shutdown(); }

absl::Status ScorerServer::Init() {
  if (options_.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir: required");
  }
  if (options_.graphstore.target.empty() &&
      options_.graphstore_shards.empty()) {
    return absl::InvalidArgumentError("graphstore: a target is required");
  }
  for (size_t i = 0; i < options_.graphstore_shards.size(); ++i) {
    if (options_.graphstore_shards[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("graphstore_shards: shard ", i, " has an empty target"));
    }
  }
  RETURN_IF_ERROR(common::EnsureDirectory(options_.data_dir));

  absl::StatusOr<v1::ModelConfig> config =
      options_.model_config_path.empty()
          ? DefaultModelConfig()
          : LoadModelConfig(options_.model_config_path);
  if (!config.ok()) return Prefixed("model_config", config.status());
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(*config));
  common::log::Info("model loaded", {{"version", config->version()},
                                     {"sha256", config->sha256()}});

  storage::GraphMirrorOptions mirror_options;
  mirror_options.path = options_.data_dir + "/mirror";
  mirror_options.shards =
      std::max<int>(1, static_cast<int>(options_.graphstore_shards.size()));
  ASSIGN_OR_RETURN(mirror_, storage::GraphMirror::Open(mirror_options));
  ASSIGN_OR_RETURN(alert_log_,
                   storage::AlertLog::Open({options_.data_dir + "/alerts"}));
  storage::ScoreHistoryOptions history_options = options_.history;
  history_options.path = options_.data_dir + "/history";
  absl::StatusOr<std::unique_ptr<storage::ScoreHistory>> history =
      storage::ScoreHistory::Open(history_options);
  if (!history.ok()) return Prefixed("history", history.status());
  history_ = *std::move(history);
  ASSIGN_OR_RETURN(history_started_empty_, history_->Empty());
  recorder_ = std::make_unique<HistoryRecorder>(history_.get(), options_.clock);

  // Alerts: the config's rules (or the defaults), state restored from the
  // log so a restart neither re-fires nor forgets.
  std::vector<v1::AlertRule> rules(config->alert_rules().begin(),
                                   config->alert_rules().end());
  if (absl::Status s = AlertEvaluator::ValidateRules(rules); !s.ok()) {
    return Prefixed("model_config", s);
  }
  auto evaluator = std::make_unique<AlertEvaluator>(rules, config->bands(),
                                                    config->version());
  const std::vector<v1::AlertRule> rules_in_force = evaluator->rules();

  state_ =
      std::make_unique<ScoreState>(std::move(engine), options_.clock,
                                   options_.change_log_capacity, &registry_);
  pipeline_ = std::make_unique<AlertPipeline>(
      std::move(evaluator), alert_log_.get(), options_.clock, &registry_);
  RETURN_IF_ERROR(pipeline_->Restore());
  state_->AddListener([pipeline = pipeline_.get()](
                          const std::vector<v1::ScoreChange>& changes,
                          int64_t sequence,
                          const std::vector<v1::GraphPosition>& positions,
                          const Engine& engine) {
    // The top reasons of the explanation, read under the engine's lock.
    pipeline->OnScoreChanges(
        changes, sequence,
        [&engine](const std::string& id, v1::Factor factor) {
          absl::StatusOr<v1::Explanation> explanation =
              engine.Explain(id, factor, 1, 6);
          if (!explanation.ok()) return std::vector<std::string>();
          return AlertReasons(*explanation);
        },
        positions);
  });
  state_->AddListener(
      [recorder = recorder_.get()](
          const std::vector<v1::ScoreChange>& changes, int64_t sequence,
          const std::vector<v1::GraphPosition>&, const Engine& engine) {
        absl::Status s = recorder->OnScoreChanges(changes, engine);
        if (!s.ok()) {
          common::log::Error("score history points lost",
                             {{"sequence", sequence}, {"error", s.ToString()}});
        }
      });

  // The history after every full score (docs/storage.md, "What becomes a
  // point"). A new or lost history gets its baseline before SERVING, so that
  // every served entity has a point; after a restart the moves made while
  // the scorer was down are recorded while it already serves (changes wait
  // for them).
  state_->AddLoadListener([this](const Engine& engine, int64_t sequence) {
    const bool baseline = history_started_empty_ && !history_seeded_;
    const absl::Time start = absl::Now();
    absl::StatusOr<int64_t> written = recorder_->Seed(engine, baseline);
    history_seeded_ = true;
    if (written.ok()) {
      common::log::Info(
          baseline ? "score history: baseline written"
                   : "score history: moves since the last score recorded",
          {{"sequence", sequence},
           {"points", *written},
           {"ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
    } else {
      common::log::Error(
          "score history: the full score was not recorded",
          {{"sequence", sequence}, {"error", written.status().ToString()}});
    }
    if (!history_baseline_.HasBeenNotified()) history_baseline_.Notify();
  });

  // Alertmanager: told about every record once it is durable; firing alerts
  // from before a restart are announced again.
  if (!options_.alertmanager_urls.empty()) {
    AlertmanagerNotifierOptions notifier_options;
    notifier_options.urls = options_.alertmanager_urls;
    notifier_options.resend_interval = options_.alertmanager_resend_interval;
    notifier_options.generator_url_base = options_.external_url;
    notifier_options.tls = options_.alertmanager_tls;
    notifier_options.auth = options_.alertmanager_auth;
    auto created = AlertmanagerNotifier::Create(notifier_options, &registry_);
    if (!created.ok()) return Prefixed("alertmanager_url", created.status());
    notifier_ = std::move(*created);
    notifier_->Start();
    ASSIGN_OR_RETURN(std::vector<v1::Alert> active, alert_log_->Active());
    for (const v1::Alert& a : active) notifier_->Update(a);
    pipeline_->AddNotifier(
        [n = notifier_.get()](const v1::Alert& a) { n->Update(a); });
  }

  FeedFollowerOptions feed = options_.feed;
  feed.registry = &registry_;  // georisk_scorer_feed_rebuilds_total.
  ScorerServiceOptions service_options = options_.scorer_service;
  if (options_.graphstore_shards.empty()) {
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                     common::MakeChannel(options_.graphstore));
    follower_ = std::make_unique<FeedFollower>(
        v1::GraphStore::NewStub(channel), mirror_.get(), state_.get(), feed);
    service_options.feed_status = [follower = follower_.get()] {
      return follower->Status();
    };
  } else {
    std::vector<ShardedFeedFollower::Shard> shards;
    for (const std::string& target : options_.graphstore_shards) {
      common::ChannelOptions channel_options = options_.graphstore;
      channel_options.target = target;
      absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
          common::MakeChannel(channel_options);
      if (!channel.ok()) return Prefixed("graphstore_shards", channel.status());
      shards.push_back({v1::GraphStore::NewStub(*channel), target});
    }
    sharded_follower_ = std::make_unique<ShardedFeedFollower>(
        std::move(shards), mirror_.get(), state_.get(), feed, options_.clock);
    service_options.feed_status = [follower = sharded_follower_.get()] {
      return follower->Status();
    };
  }

  service_options.history = history_.get();
  service_options.mirror = mirror_.get();
  scorer_service_ = std::make_unique<ScorerService>(
      state_.get(), std::move(service_options), &registry_);
  alerts_service_ = std::make_unique<AlertsService>(
      alert_log_.get(), rules_in_force, config->version(),
      AlertsServiceOptions{});
  common::ServerOptions server_options = options_.server;
  if (!options_.console_listen_address.empty()) {
    console::ConsoleOptions console_options;
    console_options.listen_address = options_.console_listen_address;
    console_options.tls_cert_file = options_.server.tls_cert_file;
    console_options.tls_key_file = options_.server.tls_key_file;
    console_options.token_file = options_.server.token_file;
    auto console = console::ConsoleServer::Start(console_options);
    if (!console.ok()) {
      return absl::Status(
          console.status().code(),
          absl::StrCat("console_listen_address: ", console.status().message()));
    }
    console_ = std::move(*console);
    server_options.extra_ports.push_back({"console_port", console_->port()});
  }
  ASSIGN_OR_RETURN(
      grpc_server_,
      common::GrpcServer::Start(
          server_options,
          {{scorer_service_.get(), v1::Scorer::service_full_name()},
           {alerts_service_.get(), v1::Alerts::service_full_name()}},
          &registry_));
  grpc_server_->AddShutdownHook([this] {
    // First: a catch-up in progress stops between two changes, so the
    // process ends within the grace (the follower is stopped after).
    state_->Stop();
    stop_.Notify();
    // No new console calls; those running finish (the services still run).
    if (console_ != nullptr) console_->Stop();
    scorer_service_->Shutdown();
    alerts_service_->Shutdown();
  });
  if (console_ != nullptr) {
    console_->SetChannel(grpc_server_->InProcessChannel());
    common::log::Info("console", {{"url", console_->url()}});
  }

  if (follower_ != nullptr) follower_->Start();
  if (sharded_follower_ != nullptr) sharded_follower_->Start();

  ticker_ = std::thread([this] { RunTicker(); });
  alert_ticker_ = std::thread([this] { RunAlertTicker(); });
  history_trimmer_ = std::thread([this] { RunHistoryTrimmer(); });
  return absl::OkStatus();
}

void ScorerServer::RunTicker() {
  // Ready once the graph is loaded and scored; then re-evaluate as time
  // passes.
  // A new history's baseline is part of the start (the load listener).
  while (!state_->loaded() ||
         (history_started_empty_ && !history_baseline_.HasBeenNotified())) {
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) return;
  }
  grpc_server_->SetServing(true);
  while (!stop_.WaitForNotificationWithTimeout(options_.advance_interval)) {
    state_->AdvanceTime();
  }
}

void ScorerServer::RunAlertTicker() {
  // Records of the clock are numbered at the feed position the scorer has
  // reached (AlertPipeline::Tick): wait until it holds the graph, so that a
  // held update due during a restart's load is numbered at the position
  // loaded, as on a replica that did not restart, not at 0.
  while (!state_->loaded()) {
    if (stop_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) return;
  }
  while (!stop_.WaitForNotificationWithTimeout(options_.alert_tick_interval)) {
    const auto [sequence, positions] = state_->position();
    pipeline_->Tick(sequence, positions);
  }
}

void ScorerServer::RunHistoryTrimmer() {
  do {
    absl::StatusOr<int64_t> dropped = history_->Trim(options_.clock());
    if (!dropped.ok()) {
      common::log::Error("score history: trimming failed",
                         {{"error", dropped.status().ToString()}});
    } else if (*dropped > 0) {
      common::log::Info("score history trimmed", {{"points", *dropped}});
    }
  } while (
      !stop_.WaitForNotificationWithTimeout(options_.history_trim_interval));
}

void ScorerServer::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  if (state_ != nullptr) state_->Stop();
  // The server's shutdown hook notifies stop_ and ends the streams; without
  // a server (a failed Start) nothing else would. The console first: its
  // calls go through the gRPC server.
  if (console_ != nullptr) console_->Stop();
  if (grpc_server_ != nullptr) grpc_server_->Shutdown();
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (ticker_.joinable()) ticker_.join();
  if (alert_ticker_.joinable()) alert_ticker_.join();
  if (history_trimmer_.joinable()) history_trimmer_.join();
  if (notifier_ != nullptr) notifier_->Stop();
  if (follower_ != nullptr) follower_->Stop();
  if (sharded_follower_ != nullptr) sharded_follower_->Stop();
  shut_down_ = true;
}

void ScorerServer::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&shut_down_));
}

}  // namespace georisk::scorer
