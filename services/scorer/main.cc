// scorer: follows graphstore's change feed, scores every entity, explains,
// runs scenarios and raises alerts.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "services/common/channel.h"
#include "services/common/client_flags.h"
#include "services/common/log.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/scorer/alert_evaluator.h"
#include "services/scorer/alert_pipeline.h"
#include "services/scorer/alertmanager/notifier.h"
#include "services/scorer/alerts_service.h"
#include "services/scorer/feed_follower.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/score_state.h"
#include "services/scorer/scorer_service.h"
#include "storage/alert_log.h"
#include "storage/graph_mirror.h"

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
          "Prometheus Alertmanager base URL (http://host:9093); repeat the "
          "flag (or separate with commas) for each replica: alerts go to all.");
ABSL_FLAG(absl::Duration, alertmanager_resend_interval, absl::Minutes(1),
          "Re-send firing alerts this often; each is valid for 4 intervals.");
ABSL_FLAG(std::string, external_url, "",
          "Absolute URL where people reach georisk; alerts link to it "
          "(Alertmanager's generatorURL).");
ABSL_FLAG(int, change_log_capacity, 100000,
          "Live score changes kept in memory for WatchScoreChanges streams.");

namespace {

// absl keeps only the last occurrence of a flag; --alertmanager_url may be
// repeated (one per replica), so merge the occurrences into one list.
std::vector<char*> MergeRepeatedUrls(int argc, char** argv,
                                     std::string* merged) {
  std::vector<char*> out;
  std::vector<std::string> urls;
  const std::string prefix = "--alertmanager_url=";
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) {
      urls.push_back(arg.substr(prefix.size()));
    } else {
      out.push_back(argv[i]);
    }
  }
  if (!urls.empty()) {
    *merged = prefix + absl::StrJoin(urls, ",");
    out.push_back(merged->data());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::BlockShutdownSignals();
  std::string merged_urls;
  std::vector<char*> args = MergeRepeatedUrls(argc, argv, &merged_urls);
  georisk::common::InitMain("scorer", "georisk scorer: risk scores and alerts.",
                    static_cast<int>(args.size()), args.data());
  absl::StatusOr<georisk::common::ServerOptions> options =
      georisk::common::ServerOptionsFromFlags({"scorer", 50053, 9466});
  if (!options.ok()) return georisk::common::ExitWithError(options.status());
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    return georisk::common::ExitWithError(
        absl::InvalidArgumentError("--data_dir: required"));
  }
  if (absl::Status s = georisk::common::EnsureDirectory(data_dir); !s.ok()) {
    return georisk::common::ExitWithError(s);
  }

  absl::StatusOr<georisk::v1::ModelConfig> config =
      absl::GetFlag(FLAGS_model_config).empty()
          ? georisk::scorer::DefaultModelConfig()
          : georisk::scorer::LoadModelConfig(absl::GetFlag(FLAGS_model_config));
  if (!config.ok()) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        absl::StrCat("--model_config: ", config.status().message())));
  }
  auto engine = georisk::scorer::Engine::Create(*config);
  if (!engine.ok()) return georisk::common::ExitWithError(engine.status());
  georisk::common::log::Info("model loaded", {{"version", config->version()},
                                      {"sha256", config->sha256()}});

  auto mirror = georisk::storage::GraphMirror::Open({data_dir + "/mirror"});
  if (!mirror.ok()) return georisk::common::ExitWithError(mirror.status());
  auto alert_log = georisk::storage::AlertLog::Open({data_dir + "/alerts"});
  if (!alert_log.ok()) return georisk::common::ExitWithError(alert_log.status());

  // Alerts: the config's rules (or the defaults), state restored from the
  // log so a restart neither re-fires nor forgets.
  std::vector<georisk::v1::AlertRule> rules(config->alert_rules().begin(),
                                            config->alert_rules().end());
  if (absl::Status s = georisk::scorer::AlertEvaluator::ValidateRules(rules); !s.ok()) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        absl::StrCat("--model_config: ", s.message())));
  }
  auto evaluator = std::make_unique<georisk::scorer::AlertEvaluator>(
      rules, config->bands(), config->version());
  const std::vector<georisk::v1::AlertRule> rules_in_force = evaluator->rules();

  georisk::common::MetricsRegistry registry;
  georisk::scorer::ScoreState state(
      std::move(*engine), [] { return absl::Now(); },
      absl::GetFlag(FLAGS_change_log_capacity), &registry);
  georisk::scorer::AlertPipeline pipeline(
      std::move(evaluator), alert_log->get(), [] { return absl::Now(); },
      &registry);
  if (absl::Status s = pipeline.Restore(); !s.ok()) {
    return georisk::common::ExitWithError(s);
  }
  state.AddListener(
      [&pipeline](const std::vector<georisk::v1::ScoreChange>& changes,
                  int64_t sequence, const georisk::scorer::Engine& engine) {
        // The top reasons of the explanation, read under the engine's lock.
        pipeline.OnScoreChanges(
            changes, sequence,
            [&engine](const std::string& id, georisk::v1::Factor factor) {
              std::vector<std::string> reasons;
              auto explanation = engine.Explain(id, factor, 1, 6);
              if (!explanation.ok()) return reasons;
              for (const auto& c : explanation->contributions()) {
                if (reasons.size() == 3) break;
                reasons.push_back(absl::StrCat(
                    c.description(), " (",
                    static_cast<int>(c.fraction() * 100 + 0.5), "%)"));
              }
              for (const auto& p : explanation->paths()) {
                reasons.push_back(p.summary());
                break;
              }
              return reasons;
            });
      });
  // Alertmanager: told about every record once it is durable; firing alerts
  // from before a restart are announced again.
  std::unique_ptr<georisk::scorer::AlertmanagerNotifier> notifier;
  if (!absl::GetFlag(FLAGS_alertmanager_url).empty()) {
    georisk::scorer::AlertmanagerNotifierOptions notifier_options;
    notifier_options.urls = absl::GetFlag(FLAGS_alertmanager_url);
    notifier_options.resend_interval =
        absl::GetFlag(FLAGS_alertmanager_resend_interval);
    notifier_options.generator_url_base = absl::GetFlag(FLAGS_external_url);
    auto created =
        georisk::scorer::AlertmanagerNotifier::Create(notifier_options, &registry);
    if (!created.ok()) {
      return georisk::common::ExitWithError(absl::InvalidArgumentError(
          absl::StrCat("--alertmanager_url: ", created.status().message())));
    }
    notifier = std::move(*created);
    notifier->Start();
    auto active = (*alert_log)->Active();
    if (!active.ok()) return georisk::common::ExitWithError(active.status());
    for (const auto& a : *active) notifier->Update(a);
    pipeline.AddNotifier(
        [n = notifier.get()](const georisk::v1::Alert& a) { n->Update(a); });
  }
  georisk::scorer::ScorerService scorer(&state, {}, &registry);
  georisk::scorer::AlertsService alerts(alert_log->get(), rules_in_force,
                                config->version(), {});
  auto server = georisk::common::GrpcServer::Start(
      *options,
      {{&scorer, georisk::v1::Scorer::service_full_name()},
       {&alerts, georisk::v1::Alerts::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::common::ExitWithError(server.status());

  auto channel_options = georisk::common::GraphstoreChannelOptionsFromFlags();
  if (!channel_options.ok())
    return georisk::common::ExitWithError(channel_options.status());
  auto channel = georisk::common::MakeChannel(*channel_options);
  if (!channel.ok()) return georisk::common::ExitWithError(channel.status());
  georisk::scorer::FeedFollower follower(georisk::v1::GraphStore::NewStub(*channel),
                                 mirror->get(), &state, {});
  follower.Start();

  // Ready once the graph is loaded and scored; then re-evaluate as time
  // passes.
  absl::Notification stop;
  std::thread ticker([&] {
    while (!state.loaded()) {
      if (stop.WaitForNotificationWithTimeout(absl::Milliseconds(50))) return;
    }
    (*server)->SetServing(true);
    while (!stop.WaitForNotificationWithTimeout(
        absl::GetFlag(FLAGS_advance_interval))) {
      state.AdvanceTime();
    }
  });
  std::thread alert_ticker([&] {
    while (!stop.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      pipeline.Tick();
    }
  });
  (*server)->AddShutdownHook([&] {
    stop.Notify();
    scorer.Shutdown();
    alerts.Shutdown();
  });
  int code = georisk::common::ServeUntilShutdownSignal(**server);
  ticker.join();
  alert_ticker.join();
  if (notifier != nullptr) notifier->Stop();
  follower.Stop();
  return code;
}
