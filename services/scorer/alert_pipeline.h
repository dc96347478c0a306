// File: services/scorer/alert_pipeline.h
//
// AlertPipeline runs alerts end to end inside the scorer: score changes go
// through the AlertEvaluator, the resulting records are appended to the
// durable AlertLog first and only then handed to notifiers (Alertmanager).
// Updates the evaluator holds back (coalescing) are stored in the same write,
// and Restore() gives them back, so a restart within a window loses none.
// WatchAlerts streams follow the log by themselves. A notifier never blocks
// the pipeline: it must queue.
//
//   AlertPipeline pipeline(std::move(evaluator), log.get(), absl::Now,
//                          &registry);
//   RETURN_IF_ERROR(pipeline.Restore());
//   pipeline.AddNotifier([&](const v1::Alert& a) { notifier.Update(a); });
//   state.AddListener([&](auto& changes, int64_t seq, auto& engine) {
//     pipeline.OnScoreChanges(changes, seq, [&](auto& id, v1::Factor f) {
//       auto explanation = engine.Explain(id, f, 1, 6);
//       return explanation.ok() ? AlertReasons(*explanation)
//                               : std::vector<std::string>{};
//     });
//   });
//   ... every second: pipeline.Tick();
//
// Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_
#define GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "georisk/v1/score.pb.h"
#include "services/common/metrics.h"
#include "services/scorer/alert_evaluator.h"
#include "storage/alert_log.h"

namespace georisk::scorer {

// The reasons an alert carries, read from an explanation of its score: the
// first three contributions as "<description> (<percent>%)", the percent
// rounded to the nearest integer, then the summary of the first path, if
// any. Pure; thread-safe.
std::vector<std::string> AlertReasons(const v1::Explanation& explanation);

class AlertPipeline {
 public:
  using Notify = std::function<void(const v1::Alert&)>;

  AlertPipeline(std::unique_ptr<AlertEvaluator> evaluator,
                storage::AlertLog* log, std::function<absl::Time()> clock,
                common::MetricsRegistry* registry);

  // Rebuilds the evaluator's state from the alerts still firing in the log
  // and the updates they hold. Call once, before the first change. Errors:
  // the log's (DATA_LOSS for an unreadable record).
  absl::Status Restore();
  // Notifiers are told about every record after it is durable. Add them
  // before the first change.
  void AddNotifier(Notify notify);

  void OnScoreChanges(const std::vector<v1::ScoreChange>& changes,
                      int64_t graph_sequence,
                      const AlertEvaluator::ReasonsFn& reasons);
  // Emits held updates and time-based resolutions; call about every second.
  void Tick();

 private:
  // Appends `records` and stores `held` in one write, then announces the
  // records. On a write error nothing is announced.
  void Write(std::vector<v1::Alert> records, const std::vector<v1::Alert>& held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<AlertEvaluator> evaluator_ ABSL_GUARDED_BY(mu_);
  storage::AlertLog* const log_;
  const std::function<absl::Time()> clock_;
  std::vector<Notify> notifiers_;
  common::Family<common::Counter>* records_;
  common::Counter* write_errors_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_
