// File: services/scorer/score_change_log.h
//
// ScoreChangeLog: the most recent live score changes, numbered 1, 2, 3...,
// held in memory for WatchScoreChanges streams. Bounded: the oldest changes
// are dropped beyond `capacity`, and a stream that falls that far behind is
// told so (OUT_OF_RANGE) instead of silently missing changes. Not durable:
// alerts (Alerts.WatchAlerts) are the durable, resumable feed.
//
//   ScoreChangeLog log(100000);
//   log.Append(changes);                       // the scorer's feed thread
//   std::vector<v1::ScoreChange> out;
//   int64_t next = log.Read(from, 500, &out);  // a stream
//
// Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_SCORE_CHANGE_LOG_H_
#define GEORISK_SERVICES_SCORER_SCORE_CHANGE_LOG_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/score.pb.h"

namespace georisk::scorer {

class ScoreChangeLog {
 public:
  explicit ScoreChangeLog(size_t capacity) : capacity_(capacity) {}

  // Appends changes; returns the new head sequence.
  int64_t Append(std::vector<v1::ScoreChange> changes);
  // The sequence of the last change appended (0 when none).
  int64_t head() const;
  // Blocks until head() >= sequence or the deadline; returns head().
  int64_t WaitForSequence(int64_t sequence, absl::Time deadline) const;
  // Copies up to `max` changes starting at `from` into `out` and returns the
  // sequence after the last one copied (== from when there is nothing new).
  // OUT_OF_RANGE when `from` was already dropped.
  absl::StatusOr<int64_t> Read(int64_t from, size_t max,
                               std::vector<v1::ScoreChange>* out) const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<v1::ScoreChange> changes_ ABSL_GUARDED_BY(mu_);
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;  // Sequence of changes_.back().
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_SCORE_CHANGE_LOG_H_
