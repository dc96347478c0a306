// File: services/scorer/history_recorder.h
//
// HistoryRecorder turns the scorer's live score changes into score history
// points (storage/score_history.h): each change's `after` score, at the
// scorer's clock, with the top contribution of the moved score's
// explanation as its reason. Seed() records the whole graph's scores after
// each full score (a start, a rebuild from a snapshot): entities that moved
// while the scorer was down get a point with its reason, and when the
// history is new or was lost (empty beside a graph) every entity gets a
// baseline point marked `rebuild`, without a reason (nothing moved: the
// history starts there), so that a first start writes the whole graph in
// batches without explaining each score (docs/storage.md, "What becomes a
// point").
//
//   HistoryRecorder recorder(history.get(), clock);
//   state->AddListener([&](auto& changes, int64_t seq, auto& positions,
//                          const Engine& e) {
//     recorder.OnScoreChanges(changes, e);
//   });
//   state->AddLoadListener([&](const Engine& e, int64_t) {
//     recorder.Seed(e, /*rebuild=*/false);
//   });
//
// Thread-safe (the store serialises writes).
#ifndef GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_
#define GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
  // Offers every scored entity's score (persons included), 1,000 points a
  // WriteBatch; the store keeps those that moved, each with its reason.
  // With `rebuild` (the history is empty) each point is a baseline: marked
  // as the start of the history and without a reason. Returns the number of
  // points written.
  absl::StatusOr<int64_t> Seed(const Engine& engine, bool rebuild);

 private:
  storage::ScoreHistory* const history_;
  const std::function<absl::Time()> clock_;
};

// The history point of `score` at `time`.
v1::ScoreHistoryPoint HistoryPoint(const v1::Score& score, absl::Time time);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_HISTORY_RECORDER_H_
