// File: services/scorer/shard_feed_follower.h
//
// ShardedFeedFollower is FeedFollower for a partitioned graphstore
// (docs/scale-out.md, "The scorer follows every shard"): one WatchChanges
// stream per shard, each with its own cursor (graph id, applied sequence)
// kept in the scorer's GraphMirror (opened with `shards` = N) in the same
// WriteBatch as that shard's changes, so a restart resumes every feed where
// it stopped.
//
// Start: a shard whose cursor is unusable (new mirror, a replacement that
// did not finish) is bootstrapped from its own ExportSnapshot into the
// mirror, replacing only its records; once every shard has a cursor the
// consumer gets LoadShards() with the whole mirror and the vector of
// positions. Then one thread per shard follows its feed and queues what it
// receives in a FeedMerge (feed_merge.h), which gives the changes in one
// order that depends on the changes alone (least commit time first, once
// every other shard has shown it has nothing earlier): replicas following
// the same shards apply the same changes in the same order. Each run of
// one shard's changes is written to the mirror and handed to the consumer
// under one lock, renumbered to the merged position (the sum of the
// shards' cursors: every change moves one cursor by one, so the sum counts
// the changes applied across the feeds and only grows). A shard rebuilds from
// its snapshot for the reasons FeedFollower does (graph_changed,
// ahead_of_head, trimmed), alone: the others go on, and the consumer is
// loaded again from the mirror once the shard's records are replaced.
//
// A shard that is down stops only its feed: the consumer keeps what it has
// (the scorer serves its last scores), the other feeds go on, and Status()
// says per shard how stale the copy may be (lag_seconds: since the shard's
// feed last showed nothing left behind). The first start needs every
// shard: nothing is scored before each shard's records are in the mirror.
//
// Thread safety: Start() and Stop() from one thread; the accessors from any.
// The consumer is called from one thread at a time (the lock above).
#ifndef GEORISK_SERVICES_SCORER_SHARD_FEED_FOLLOWER_H_
#define GEORISK_SERVICES_SCORER_SHARD_FEED_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.pb.h"
#include "services/common/metrics.h"
#include "services/scorer/feed_follower.h"
#include "services/scorer/feed_merge.h"
#include "services/scorer/graph_feed_consumer.h"
#include "storage/graph_mirror.h"

namespace georisk::scorer {

class ShardedFeedFollower {
 public:
  struct Shard {
    std::shared_ptr<v1::GraphStore::StubInterface> stub;
    // The target dialled, for Status().
    std::string target;
  };

  // `mirror` must have been opened with shards = shards.size() (>= 1).
  // `options.registry` gets georisk_scorer_feed_rebuilds_total{reason} (all
  // shards), georisk_scorer_feed_lag_seconds{shard},
  // georisk_scorer_feed_lag_changes{shard},
  // georisk_scorer_feed_connected{shard} and
  // georisk_scorer_feed_merge_forced_total. `clock` times the lag and the
  // merge's waits. None of
  // the pointers is owned; all must outlive the follower.
  ShardedFeedFollower(std::vector<Shard> shards, storage::GraphMirror* mirror,
                      GraphFeedConsumer* consumer, FeedFollowerOptions options,
                      std::function<absl::Time()> clock = absl::Now);
  ~ShardedFeedFollower();  // Calls Stop().
  ShardedFeedFollower(const ShardedFeedFollower&) = delete;
  ShardedFeedFollower& operator=(const ShardedFeedFollower&) = delete;

  void Start();
  // Cancels every feed and joins the threads. Idempotent.
  void Stop();

  int shards() const { return static_cast<int>(shards_.size()); }
  // True once the consumer holds the graph (after the first LoadShards()).
  bool loaded() const { return loaded_.load(); }
  // The merged position the consumer has reached (the cursors' sum).
  int64_t applied_sequence() const;
  // One shard's cursor as the consumer has it.
  int64_t applied_sequence(int shard) const;
  // Snapshot loads, of every shard and of one.
  int bootstraps() const;
  int bootstraps(int shard) const;
  int rebuilds(int shard, RebuildReason reason) const;
  // GetFeedStatus's answer: the sums, and one ShardFeedStatus per shard.
  v1::FeedStatus Status() const;

 private:
  struct ShardState {
    std::atomic<int64_t> head{0};
    std::atomic<int> bootstraps{0};
    // Guarded by mu_.
    bool connected = false;
    absl::Status last_error;
    int rebuilds[3] = {0, 0, 0};
    std::optional<FeedFollower::Rebuild> last_rebuild;
    std::optional<absl::Time> caught_up;
    grpc::ClientContext* call = nullptr;
  };

  void Run();
  void RunShard(int shard);
  // Reads shard `shard`'s snapshot into the mirror (its records only); the
  // consumer is not told (LoadAll is).
  absl::Status BootstrapShard(int shard);
  // The whole mirror to the consumer, at the mirror's cursors.
  absl::Status LoadAll();
  absl::Status Follow(int shard);
  std::optional<RebuildReason> RebuildFor(int shard,
                                          const absl::Status& status);
  void CountRebuild(int shard, RebuildReason reason, const absl::Status& cause);
  void SetError(int shard, const absl::Status& status);
  void SetConnected(int shard, bool connected);
  void CaughtUp(int shard);
  bool stopping() const;
  bool Sleep(absl::Duration d);
  // Seconds since `shard` was last known caught up (since start if never).
  double LagSeconds(int shard) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshMetrics();
  // Copies positions_ to reached_.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Applies what the merge lets through now: each run to the mirror and the
  // consumer. A run the mirror refuses fails its shard's feed (apply_error),
  // which restarts from the mirror's cursor.
  void DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);

  const std::vector<Shard> shards_;
  storage::GraphMirror* const mirror_;
  GraphFeedConsumer* const consumer_;
  const FeedFollowerOptions options_;
  const std::function<absl::Time()> clock_;
  const absl::Time started_;

  std::atomic<bool> loaded_{false};
  std::unique_ptr<ShardState[]> state_;
  common::Family<common::Counter>* rebuilds_metric_ = nullptr;
  common::Family<common::Gauge>* lag_seconds_metric_ = nullptr;
  common::Family<common::Gauge>* lag_changes_metric_ = nullptr;
  common::Family<common::Gauge>* connected_metric_ = nullptr;
  common::Counter* forced_metric_ = nullptr;

  // Held while the mirror and the consumer take a shard's changes or a
  // load: one feed at a time, so the merged numbering is the order applied.
  mutable absl::Mutex apply_mu_;
  // Each shard's position as the consumer has it.
  std::vector<v1::GraphPosition> positions_ ABSL_GUARDED_BY(apply_mu_);
  // What the feeds received and the consumer has not yet applied.
  FeedMerge merge_ ABSL_GUARDED_BY(apply_mu_);
  // By shard: why its queued changes could not be applied (its feed then
  // restarts from the mirror's cursor).
  std::vector<absl::Status> apply_error_ ABSL_GUARDED_BY(apply_mu_);

  mutable absl::Mutex mu_;
  // A copy of positions_ for Status() and the accessors, which must not
  // wait for a load (apply_mu_ is held through one).
  std::vector<v1::GraphPosition> reached_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::vector<std::thread> shard_threads_ ABSL_GUARDED_BY(mu_);
  // Drains the merge when a wait ends, and refreshes the metrics.
  std::thread tick_thread_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_SHARD_FEED_FOLLOWER_H_
