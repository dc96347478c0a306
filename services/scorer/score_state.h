// File: services/scorer/score_state.h
//
// ScoreState holds the scorer's engine and keeps it in step with the graph:
// it is the GraphFeedConsumer the FeedFollower feeds, it re-evaluates scores
// as time passes (signals whose windows open or close), and it publishes
// every live score change to the ScoreChangeLog and to listeners (alerts).
// RPC handlers read the engine through Read(), under a shared lock.
//
//   ScoreState state(std::move(engine), absl::Now, 100000);
//   FeedFollower follower(stub, mirror, &state, {});
//   absl::StatusOr<v1::Score> s = state.Read<v1::Score>(
//       [&](const scorer::Engine& e) { return e.GetScore(id); });
//
// Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_SCORE_STATE_H_
#define GEORISK_SERVICES_SCORER_SCORE_STATE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metrics.h"
#include "services/scorer/graph_feed_consumer.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/score_change_log.h"

namespace georisk::scorer {

class ScoreState final : public GraphFeedConsumer {
 public:
  // Told about every batch of live score changes, on the thread that made
  // them, after the engine was updated: (changes, graph sequence, the
  // per-shard positions it is the sum of (empty with one graphstore), the
  // engine — for explanations; the engine and the positions are valid only
  // during the call, under the shared lock, which RPCs share meanwhile).
  using Listener = std::function<void(
      const std::vector<v1::ScoreChange>&, int64_t,
      const std::vector<v1::GraphPosition>&, const scorer::Engine&)>;

  // Told about every full score (Load: a start, a rebuild from a snapshot),
  // on the feed's thread, after the engine was loaded and `loaded()` became
  // true: (the engine, its graph sequence). Called under the shared lock,
  // which RPCs share meanwhile, and before any later change is applied, so
  // that it sees exactly the loaded scores.
  using LoadListener = std::function<void(const scorer::Engine&, int64_t)>;

  // `registry` (not owned, may be null) gets the scoring metrics.
  ScoreState(std::unique_ptr<scorer::Engine> engine,
             std::function<absl::Time()> clock, size_t change_log_capacity,
             common::MetricsRegistry* registry = nullptr);

  // GraphFeedConsumer.
  void Load(std::vector<v1::Entity> entities, std::vector<v1::Edge> edges,
            std::vector<v1::Signal> signals, std::vector<v1::Link> links,
            int64_t sequence) override;
  void Apply(const std::vector<v1::Change>& changes,
             int64_t head_sequence) override;
  // Following shards: as Load and Apply, keeping the per-shard positions
  // that ReadWithPositions() gives with the engine (the engine's sequence
  // is their sum).
  void LoadShards(std::vector<v1::Entity> entities, std::vector<v1::Edge> edges,
                  std::vector<v1::Signal> signals, std::vector<v1::Link> links,
                  std::vector<v1::GraphPosition> positions) override;
  void ApplyShard(int shard, int64_t shard_sequence,
                  const std::vector<v1::Change>& changes,
                  int64_t head_sequence) override;

  // Re-evaluates every score at the clock's current time. Call periodically.
  // Does nothing once stopping.
  void AdvanceTime();

  // Shutdown: from now on Apply() stops between two changes, so that a
  // catch-up through a long backlog (each change rescored and its alerts
  // written) ends within the shutdown grace instead of working through the
  // rest; Load() and AdvanceTime() return at once. The changes skipped are
  // durable in the mirror: the next start loads them and scores the whole
  // graph, but raises no alerts for them. Thread-safe, idempotent, never
  // blocks.
  void Stop();
  bool stopping() const { return stopping_.load(); }

  // True once a graph is loaded and scored.
  bool loaded() const { return loaded_.load(); }
  // GraphStore's head as last seen by the feed, and the engine's sequence.
  int64_t head_sequence() const { return head_.load(); }
  int64_t sequence() const { return sequence_.load(); }
  // The engine's sequence and the per-shard positions it is the sum of
  // (empty with one graphstore), read together.
  std::pair<int64_t, std::vector<v1::GraphPosition>> position() const {
    absl::ReaderMutexLock lock(&mu_);
    return {sequence_.load(), positions_};
  }

  // Runs `read` on the engine under a shared lock. UNAVAILABLE ("not scored
  // yet") while no graph is loaded: never a made-up score.
  template <typename T>
  absl::StatusOr<T> Read(
      const std::function<absl::StatusOr<T>(const scorer::Engine&)>& read)
      const {
    return ReadWithPositions<T>([&read](const scorer::Engine& engine,
                                        const std::vector<v1::GraphPosition>&) {
      return read(engine);
    });
  }

  // As Read, with the per-shard positions the engine reflects (empty when
  // following one graphstore), read under the same lock.
  template <typename T>
  absl::StatusOr<T> ReadWithPositions(
      const std::function<absl::StatusOr<T>(
          const scorer::Engine&, const std::vector<v1::GraphPosition>&)>& read)
      const {
    absl::ReaderMutexLock lock(&mu_);
    if (!loaded_.load()) {
      return absl::UnavailableError(
          "scores are not computed yet: the scorer is loading the graph; "
          "retry in a few seconds");
    }
    return read(*engine_, positions_);
  }

  // The model in force; available before any graph is loaded.
  absl::StatusOr<v1::ModelConfig> ReadConfig() const {
    absl::ReaderMutexLock lock(&mu_);
    return engine_->config();
  }

  // Must be called before the feed starts.
  void AddListener(Listener listener);
  void AddLoadListener(LoadListener listener);

  ScoreChangeLog& change_log() { return change_log_; }

 private:
  // Builds the update's ScoreChanges under the shared lock and hands them
  // to the listeners and the change log.
  void Publish(const scorer::ScoreUpdate& update, int64_t sequence)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(update_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Load and Apply; `positions` replaces the per-shard positions (left
  // empty by one feed); Apply moves shard `shard`'s (none when -1).
  void DoLoad(std::vector<v1::Entity> entities, std::vector<v1::Edge> edges,
              std::vector<v1::Signal> signals, std::vector<v1::Link> links,
              int64_t sequence, std::vector<v1::GraphPosition> positions);
  void DoApply(const std::vector<v1::Change>& changes, int64_t head_sequence,
               int shard, int64_t shard_sequence);

  const std::function<absl::Time()> clock_;
  // Held across an update and its publication (Load, Apply, AdvanceTime),
  // so that no other update comes between; taken before mu_.
  absl::Mutex update_mu_;
  // Exclusive while the engine changes, shared while it is read (RPCs, and
  // the score changes built after an update).
  mutable absl::Mutex mu_;
  std::unique_ptr<scorer::Engine> engine_ ABSL_GUARDED_BY(mu_);
  // Following shards: where each shard's feed is; empty with one feed.
  std::vector<v1::GraphPosition> positions_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> loaded_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> head_{0};
  std::atomic<int64_t> sequence_{0};
  std::vector<Listener> listeners_;
  std::vector<LoadListener> load_listeners_;
  ScoreChangeLog change_log_;
  common::Counter* changes_applied_ = nullptr;
  common::Histogram* apply_seconds_ = nullptr;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_SCORE_STATE_H_
