// File: services/scorer/scorer_service.h
//
// ScorerService: the gRPC face of the scorer (georisk.v1.Scorer). It checks
// requests, reads the engine through ScoreState, and streams live score
// changes from its ScoreChangeLog. The model itself lives in
// services/scorer/model/.
//
//   ScorerService service(&state, {}, &registry);
//   server->AddShutdownHook([&] { service.Shutdown(); });
//
// Thread-safe. `state` and `registry` must outlive the service.
#ifndef GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_
#define GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_

#include <atomic>
#include <functional>

#include "georisk/v1/scorer.grpc.pb.h"
#include "services/common/follow_stream.h"
#include "services/common/metrics.h"
#include "services/common/rpc_edge.h"
#include "services/scorer/score_state.h"
#include "storage/graph_mirror.h"
#include "storage/score_history.h"

namespace georisk::scorer {

struct ScorerServiceOptions {
  // RunScenario: overrides per scenario, and scenarios computed at once
  // (each holds the engine's shared lock and an overlay); beyond either,
  // RESOURCE_EXHAUSTED.
  int max_scenario_overrides = 10000;
  int max_concurrent_scenarios = 4;
  // WatchScoreChanges: streams at once, and an idle stream's heartbeat.
  int max_watchers = 256;
  absl::Duration watch_heartbeat = absl::Seconds(10);
  // GetFeedStatus: what the scorer's feed follower reports. Empty: the RPC
  // answers UNAVAILABLE. Must be thread-safe.
  std::function<v1::FeedStatus()> feed_status;
  // GetScoreHistory: the scorer's score history (not owned; must outlive
  // the service). Null: the RPC answers UNAVAILABLE.
  const storage::ScoreHistory* history = nullptr;
  // ExplainScore: the scorer's copy of the graph, where the provenance of
  // the explained entity and of the edges the explanation names is read
  // (record_provenance.h). Not owned; must outlive the service. Null: only
  // signals' provenance (the model's) is shown.
  const storage::GraphMirror* mirror = nullptr;
};

class ScorerService final : public v1::Scorer::CallbackService {
 public:
  ScorerService(ScoreState* state, ScorerServiceOptions options,
                common::MetricsRegistry* registry);
  ~ScorerService() override;

  // Ends every WatchScoreChanges stream with UNAVAILABLE. Idempotent.
  void Shutdown();

  grpc::ServerUnaryReactor* GetScore(grpc::CallbackServerContext* context,
                                     const v1::GetScoreRequest* request,
                                     v1::Score* response) override;
  grpc::ServerUnaryReactor* BatchGetScores(
      grpc::CallbackServerContext* context,
      const v1::BatchGetScoresRequest* request,
      v1::BatchGetScoresResponse* response) override;
  grpc::ServerUnaryReactor* ListTopRisks(
      grpc::CallbackServerContext* context,
      const v1::ListTopRisksRequest* request,
      v1::ListTopRisksResponse* response) override;
  grpc::ServerUnaryReactor* ListNeighbours(
      grpc::CallbackServerContext* context,
      const v1::ListNeighboursRequest* request,
      v1::ListNeighboursResponse* response) override;
  grpc::ServerUnaryReactor* ExplainScore(grpc::CallbackServerContext* context,
                                         const v1::ExplainScoreRequest* request,
                                         v1::Explanation* response) override;
  grpc::ServerUnaryReactor* RunScenario(
      grpc::CallbackServerContext* context,
      const v1::RunScenarioRequest* request,
      v1::RunScenarioResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchScoreChangesResponse>* WatchScoreChanges(
      grpc::CallbackServerContext* context,
      const v1::WatchScoreChangesRequest* request) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const v1::GetModelRequest* request,
                                     v1::ModelConfig* response) override;
  grpc::ServerUnaryReactor* GetFeedStatus(
      grpc::CallbackServerContext* context,
      const v1::GetFeedStatusRequest* request,
      v1::FeedStatus* response) override;
  grpc::ServerUnaryReactor* GetScoreHistory(
      grpc::CallbackServerContext* context,
      const v1::GetScoreHistoryRequest* request,
      v1::GetScoreHistoryResponse* response) override;

 private:
  ScoreState* const state_;
  const ScorerServiceOptions options_;
  common::FollowHub hub_;
  common::ConcurrencyLimit scenarios_;
  common::ConcurrencyLimit watchers_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_SCORER_SERVICE_H_
