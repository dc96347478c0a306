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
// A write that fails (a full disk, an I/O error) announces nothing and loses
// nothing: the records, and the latest held update of each alert, stay
// pending in memory in their order and are written before anything newer, at
// the next change or Tick (about every second), with the sequence numbers of
// that write. An alert is thus delayed, never skipped: the evaluator already
// counts it as fired, so it would not fire again. Pending records are capped
// (kMaxPendingRecords); beyond the cap the oldest are dropped and counted
// (georisk_alert_records_dropped_total). They live in memory only: a restart
// while the log cannot be written loses them, as the evaluator's state
// restored from the log no longer knows them.
//
//   AlertPipeline pipeline(std::move(evaluator), log.get(), absl::Now,
//                          &registry);
//   RETURN_IF_ERROR(pipeline.Restore());
//   pipeline.AddNotifier([&](const v1::Alert& a) { notifier.Update(a); });
//   state.AddListener([&](auto& changes, int64_t seq, auto& positions,
//                         auto& engine) {
//     pipeline.OnScoreChanges(changes, seq, [&](auto& id, v1::Factor f) {
//       auto explanation = engine.Explain(id, f, 1, 6);
//       return explanation.ok() ? AlertReasons(*explanation)
//                               : std::vector<std::string>{};
//     }, positions);
//   });
//   ... every second: auto [seq, positions] = state.position();
//                     pipeline.Tick(seq, positions);
//
// Numbering: every record carries the feed position that made it
// (Alert.feed_position: the graph sequence of the change for records of
// OnScoreChanges; for records of Tick, the latest position the pipeline was
// given), and the log numbers it from that position (storage::AlertSequence),
// so scorer replicas fed the same graph number the same record alike.
//
// Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_
#define GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
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

  // Records kept for a retry while the log cannot be written.
  static constexpr size_t kMaxPendingRecords = 100000;

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

  // `positions`: the per-shard cursors `graph_sequence` is the sum of
  // (Alert.feed_positions), empty with one graphstore.
  void OnScoreChanges(const std::vector<v1::ScoreChange>& changes,
                      int64_t graph_sequence,
                      const AlertEvaluator::ReasonsFn& reasons,
                      const std::vector<v1::GraphPosition>& positions = {});
  // Emits held updates and time-based resolutions, and retries records a
  // failed write left pending; call about every second, with the feed
  // position the scorer has reached (ScoreState::position()). The records
  // are made at the larger of that and the last position given.
  void Tick(int64_t feed_position,
            const std::vector<v1::GraphPosition>& positions = {});

  // Records waiting for a write that failed to be retried.
  size_t pending() const;

 private:
  // Moves feed_position_ (and its per-shard cursors) forward to
  // `feed_position`; a lower one changes nothing.
  void Advance(int64_t feed_position,
               const std::vector<v1::GraphPosition>& positions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets each of `records`' feed position to feed_position_, appends the
  // pending records, then `records`, and stores the held
  // updates in one write, then announces the records. On a write error
  // nothing is announced and everything stays pending.
  void Write(std::vector<v1::Alert> records, const std::vector<v1::Alert>& held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<AlertEvaluator> evaluator_ ABSL_GUARDED_BY(mu_);
  storage::AlertLog* const log_;
  const std::function<absl::Time()> clock_;
  std::vector<Notify> notifiers_;
  common::Family<common::Counter>* records_;
  common::Counter* write_errors_;
  common::Counter* dropped_;
  // Not yet written, in order; and the latest held update of each alert not
  // yet stored (a record of the alert ends it, as in the log).
  std::deque<v1::Alert> pending_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Alert> pending_held_ ABSL_GUARDED_BY(mu_);
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  // The latest feed position given to OnScoreChanges or Tick.
  int64_t feed_position_ ABSL_GUARDED_BY(mu_) = 0;
  // The per-shard cursors of feed_position_ (empty with one graphstore).
  std::vector<v1::GraphPosition> feed_positions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERT_PIPELINE_H_
