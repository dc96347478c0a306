#include "services/scorer/alerts_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"

namespace georisk::scorer {
namespace {}  // namespace

absl::Status ValidateAlertFilter(const v1::AlertFilter& filter) {
  if (!v1::Alert::State_IsValid(filter.state())) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter.state: unknown value ", filter.state()));
  }
  if (!v1::Severity_IsValid(filter.min_severity())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter.min_severity: unknown value ", filter.min_severity()));
  }
  if (filter.has_since() &&
      (filter.since().nanos() < 0 || filter.since().nanos() > 999999999)) {
    return absl::InvalidArgumentError("filter.since: invalid timestamp");
  }
  return absl::OkStatus();
}

AlertsService::AlertsService(storage::AlertLog* log,
                             std::vector<v1::AlertRule> rules,
                             std::string model_version,
                             AlertsServiceOptions options)
    : log_(log),
      rules_(std::move(rules)),
      model_version_(std::move(model_version)),
      options_(options),
      hub_([log] { return log->head(); },
           [log](int64_t seq, absl::Time deadline) {
             return log->WaitForSequence(seq, deadline);
           },
           options.watch_heartbeat),
      watchers_(options.max_watchers, "WatchAlerts streams") {}

AlertsService::~AlertsService() { Shutdown(); }

void AlertsService::Shutdown() { hub_.Shutdown(); }

grpc::ServerUnaryReactor* AlertsService::ListAlerts(
    grpc::CallbackServerContext* context, const v1::ListAlertsRequest* request,
    v1::ListAlertsResponse* response) {
  if (absl::Status s = ValidateAlertFilter(request->filter()); !s.ok()) {
    return common::FinishUnary(context, s);
  }
  absl::StatusOr<storage::AlertPage> page = log_->List(
      request->filter(), request->page_size(), request->page_token());
  if (page.ok()) {
    for (v1::Alert& a : page->alerts) *response->add_alerts() = std::move(a);
    response->set_next_page_token(std::move(page->next_page_token));
  }
  return common::FinishUnary(context, page.status());
}

grpc::ServerWriteReactor<v1::WatchAlertsResponse>* AlertsService::WatchAlerts(
    grpc::CallbackServerContext* context,
    const v1::WatchAlertsRequest* request) {
  auto refuse = [context](const absl::Status& status) {
    return common::RefuseStream<v1::WatchAlertsResponse>(context, status);
  };
  if (request->from_sequence() < 0) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "from_sequence: must be >= 0, got ", request->from_sequence())));
  }
  if (absl::Status s = ValidateAlertFilter(request->filter()); !s.ok()) {
    return refuse(s);
  }
  absl::StatusOr<common::ConcurrencyLimit::Slot> taken = watchers_.TryAcquire();
  if (!taken.ok()) return refuse(taken.status());
  // Released when the stream's read function (owned by the reactor) dies.
  auto slot =
      std::make_shared<common::ConcurrencyLimit::Slot>(*std::move(taken));
  // 0 means "only new records".
  int64_t from = request->from_sequence() == 0 ? log_->head() + 1
                                               : request->from_sequence();
  auto filter = std::make_shared<v1::AlertFilter>(request->filter());
  storage::AlertLog* log = log_;
  const int batch = options_.watch_batch;
  return new common::FollowReactor<v1::WatchAlertsResponse>(
      context, &hub_, from,
      [log, filter, batch, slot](
          int64_t* next, v1::WatchAlertsResponse* out) -> absl::StatusOr<bool> {
        absl::StatusOr<std::vector<v1::Alert>> records =
            log->Read(*next, batch);
        if (!records.ok()) return records.status();
        if (records->empty()) return false;
        *next = records->back().sequence() + 1;
        for (v1::Alert& a : *records) {
          if (storage::AlertMatches(a, *filter)) {
            *out->add_alerts() = std::move(a);
          }
        }
        out->set_head_sequence(log->head());
        return out->alerts_size() > 0;
      },
      [log](v1::WatchAlertsResponse* out) {
        out->set_head_sequence(log->head());
      });
}

grpc::ServerUnaryReactor* AlertsService::GetAlertRules(
    grpc::CallbackServerContext* context,
    const v1::GetAlertRulesRequest* request,
    v1::GetAlertRulesResponse* response) {
  for (const v1::AlertRule& r : rules_) *response->add_rules() = r;
  response->set_model_version(model_version_);
  return common::FinishUnary(context, absl::OkStatus());
}

}  // namespace georisk::scorer
