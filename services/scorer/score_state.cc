#include "services/scorer/score_state.h"

#include <utility>

#include "services/common/log.h"

namespace georisk::scorer {

ScoreState::ScoreState(std::unique_ptr<scorer::Engine> engine,
                       std::function<absl::Time()> clock,
                       size_t change_log_capacity,
                       common::MetricsRegistry* registry)
    : clock_(std::move(clock)),
      engine_(std::move(engine)),
      change_log_(change_log_capacity) {
  if (registry != nullptr) {
    changes_applied_ =
        &registry
             ->AddCounter("georisk_scorer_changes_applied_total",
                          "Graph changes (commits) rescored incrementally.")
             .WithLabels({});
    apply_seconds_ =
        &registry
             ->AddHistogram("georisk_scorer_apply_seconds",
                            "Time to rescore one graph change, seconds.", {},
                            common::MetricsRegistry::DefaultLatencyBuckets())
             .WithLabels({});
  }
}

void ScoreState::AddListener(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void ScoreState::AddLoadListener(LoadListener listener) {
  load_listeners_.push_back(std::move(listener));
}

void ScoreState::Load(std::vector<v1::Entity> entities,
                      std::vector<v1::Edge> edges,
                      std::vector<v1::Signal> signals,
                      std::vector<v1::Link> links, int64_t sequence) {
  DoLoad(std::move(entities), std::move(edges), std::move(signals),
         std::move(links), sequence, {});
}

void ScoreState::LoadShards(std::vector<v1::Entity> entities,
                            std::vector<v1::Edge> edges,
                            std::vector<v1::Signal> signals,
                            std::vector<v1::Link> links,
                            std::vector<v1::GraphPosition> positions) {
  const int64_t sum = SumOfPositions(positions);
  DoLoad(std::move(entities), std::move(edges), std::move(signals),
         std::move(links), sum, std::move(positions));
}

void ScoreState::DoLoad(std::vector<v1::Entity> entities,
                        std::vector<v1::Edge> edges,
                        std::vector<v1::Signal> signals,
                        std::vector<v1::Link> links, int64_t sequence,
                        std::vector<v1::GraphPosition> positions) {
  absl::Time start = absl::Now();
  absl::MutexLock update_lock(&update_mu_);
  if (stopping_.load()) return;
  {
    absl::MutexLock lock(&mu_);
    engine_->Load(std::move(entities), std::move(edges), std::move(signals),
                  sequence, clock_(), std::move(links));
    positions_ = std::move(positions);
    sequence_.store(sequence);
    head_.store(std::max(head_.load(), sequence));
    loaded_.store(true);
    common::log::Info("scored the whole graph",
                      {{"sequence", sequence},
                       {"entities", engine_->entity_count()},
                       {"ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  }
  // Readers are served meanwhile; no change comes before the listeners are
  // done (update_mu_).
  absl::ReaderMutexLock lock(&mu_);
  for (const LoadListener& listener : load_listeners_) {
    listener(*engine_, sequence);
  }
}

void ScoreState::Apply(const std::vector<v1::Change>& changes,
                       int64_t head_sequence) {
  DoApply(changes, head_sequence, -1, 0);
}

void ScoreState::ApplyShard(int shard, int64_t shard_sequence,
                            const std::vector<v1::Change>& changes,
                            int64_t head_sequence) {
  DoApply(changes, head_sequence, shard, shard_sequence);
}

void ScoreState::DoApply(const std::vector<v1::Change>& changes,
                         int64_t head_sequence, int shard,
                         int64_t shard_sequence) {
  head_.store(head_sequence);
  absl::MutexLock update_lock(&update_mu_);
  absl::Time now = clock_();
  for (size_t i = 0; i < changes.size(); ++i) {
    const v1::Change& change = changes[i];
    if (stopping_.load()) {
      common::log::Info("stopping: changes left to the next start",
                        {{"from_sequence", change.sequence()},
                         {"to_sequence", changes.back().sequence()}});
      return;
    }
    scorer::ScoreUpdate update;
    {
      absl::MutexLock lock(&mu_);
      absl::Time start = absl::Now();
      update = engine_->Apply(change, now);
      if (changes_applied_ != nullptr) {
        changes_applied_->Increment();
        apply_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      }
      sequence_.store(change.sequence());
      if (shard >= 0 && shard < static_cast<int>(positions_.size())) {
        positions_[shard].set_sequence(shard_sequence +
                                       static_cast<int64_t>(i));
      }
    }
    if (!update.empty()) Publish(update, change.sequence());
  }
}

void ScoreState::AdvanceTime() {
  absl::MutexLock update_lock(&update_mu_);
  if (!loaded_.load() || stopping_.load()) return;
  scorer::ScoreUpdate update;
  int64_t sequence;
  {
    absl::MutexLock lock(&mu_);
    update = engine_->Advance(clock_());
    sequence = engine_->sequence();
  }
  if (!update.empty()) Publish(update, sequence);
}

void ScoreState::Stop() { stopping_.store(true); }

void ScoreState::Publish(const scorer::ScoreUpdate& update, int64_t sequence) {
  // Readers are served meanwhile; no other update can come (update_mu_).
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<std::vector<v1::ScoreChange>> changes =
      engine_->ScoreChanges(update);
  if (!changes.ok()) {
    common::log::Error(
        "score changes lost",
        {{"sequence", sequence}, {"error", changes.status().ToString()}});
    return;
  }
  for (const Listener& listener : listeners_) {
    listener(*changes, sequence, positions_, *engine_);
  }
  change_log_.Append(*std::move(changes));
}

}  // namespace georisk::scorer
