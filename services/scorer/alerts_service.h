// File: services/scorer/alerts_service.h
//
// AlertsService: the gRPC face of the alert log (georisk.v1.Alerts), served
// by the scorer process. WatchAlerts replays the durable log from a sequence
// and then follows it live; since records are stored before they are sent,
// a watcher that reconnects with the last sequence it saw plus one misses
// nothing and sees nothing twice, across scorer restarts.
//
//   AlertsService service(log.get(), rules, model_version, {});
//   server->AddShutdownHook([&] { service.Shutdown(); });
//
// Thread-safe. The log must outlive the service.
#ifndef GEORISK_SERVICES_SCORER_ALERTS_SERVICE_H_
#define GEORISK_SERVICES_SCORER_ALERTS_SERVICE_H_

#include <atomic>
#include <string>
#include <vector>

#include "georisk/v1/alerts.grpc.pb.h"
#include "services/common/follow_stream.h"
#include "services/common/rpc_edge.h"
#include "storage/alert_log.h"

namespace georisk::scorer {

struct AlertsServiceOptions {
  int max_watchers = 256;
  absl::Duration watch_heartbeat = absl::Seconds(10);
  // Records per WatchAlerts message.
  int watch_batch = 100;
};

class AlertsService final : public v1::Alerts::CallbackService {
 public:
  AlertsService(storage::AlertLog* log, std::vector<v1::AlertRule> rules,
                std::string model_version, AlertsServiceOptions options);
  ~AlertsService() override;

  // Ends every WatchAlerts stream with UNAVAILABLE ("resume from sequence
  // N"). Idempotent.
  void Shutdown();

  grpc::ServerUnaryReactor* ListAlerts(
      grpc::CallbackServerContext* context,
      const v1::ListAlertsRequest* request,
      v1::ListAlertsResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchAlertsResponse>* WatchAlerts(
      grpc::CallbackServerContext* context,
      const v1::WatchAlertsRequest* request) override;
  grpc::ServerUnaryReactor* GetAlertRules(
      grpc::CallbackServerContext* context,
      const v1::GetAlertRulesRequest* request,
      v1::GetAlertRulesResponse* response) override;

 private:
  storage::AlertLog* const log_;
  const std::vector<v1::AlertRule> rules_;
  const std::string model_version_;
  const AlertsServiceOptions options_;
  common::FollowHub hub_;
  common::ConcurrencyLimit watchers_;
};

// Checks an AlertFilter; INVALID_ARGUMENT naming "filter.<field>".
absl::Status ValidateAlertFilter(const v1::AlertFilter& filter);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTS_SERVICE_H_
