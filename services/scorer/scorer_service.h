// File: services/scorer/scorer_service.h
//
// The gRPC faces of the scorer process: georisk.v1.Scorer (scores,
// explanations, rankings, scenarios) and georisk.v1.Alerts (the durable alert
// log).
//
// The RPCs are filled in by the scorer and alerts issues (model library,
// incremental rescoring, alert log); until then they answer UNIMPLEMENTED,
// never a made-up score.
#ifndef GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_
#define GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_

#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"

namespace georisk {

class ScorerService final : public v1::Scorer::CallbackService {};

class AlertsService final : public v1::Alerts::CallbackService {};

}  // namespace georisk

#endif  // GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_
