// File: services/scorer/history_recorder.h
//
// HistoryRecorder turns the scorer's live score changes into score history
// points (storage/score_history.h): each change's `after` score, at the
// scorer's clock, with the top contribution of the moved score's
// explanation as its reason. Seed() records the whole graph's scores once
// after a start (the full score): entities that moved while the scorer was
// down get a point, and when the history was lost (empty beside a graph)
// every entity's first point is marked `rebuild`.
//
//   HistoryRecorder recorder(history.get(), clock);
//   state->AddListener([&](auto& changes, int64_t seq, const Engine& e) {
//     recorder.OnScoreChanges(changes, e);
//   });
//   state->Read<bool>([&](const Engine& e) { recorder.Seed(e); return true; });
//
// Thread-safe (the store serialises writes).
#ifndef GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_
#define GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "georisk/v1/score.pb.h"
#include "services/scorer/model/engine.h"
#include "storage/score_history.h"

namespace georisk::scorer {

class HistoryRecorder {
 public:
  HistoryRecorder(storage::ScoreHistory* history,
                  std::function<absl::Time()> clock)
      : history_(history), clock_(std::move(clock)) {}

  // Records the points of `changes` (a deleted entity: a deleted point).
  absl::Status OnScoreChanges(const std::vector<v1::ScoreChange>& changes,
                              const Engine& engine);
  // Records every scored entity's score (persons included); with `rebuild`
  // each point is marked as the start of a rebuilt history.
  absl::Status Seed(const Engine& engine, bool rebuild);

 private:
  storage::ScoreHistory* const history_;
  const std::function<absl::Time()> clock_;
};

// The history point of `score` at `time`.
v1::ScoreHistoryPoint HistoryPoint(const v1::Score& score, absl::Time time);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_
