// File: services/scorer/feed_follower.h
//
// FeedFollower keeps a consumer (the scorer's engine) in step with
// GraphStore: at start it loads the scorer's own durable copy of the graph
// (storage::GraphMirror) or, when that is empty, bootstraps from
// GraphStore.ExportSnapshot; then it follows GraphStore.WatchChanges from the
// mirror's applied sequence + 1, writing each batch of changes to the mirror
// before handing it to the consumer. A restart therefore resumes where it
// stopped instead of re-reading everything.
//
// A position is a sequence in one graph: the mirror keeps GraphStore's graph
// id with its sequence, and the follower sends it with WatchChanges. It
// rebuilds from a snapshot (a "rebuild": a bootstrap while a graph is
// already held, logged and counted in georisk_scorer_feed_rebuilds_total by
// reason) when:
//   - graph_changed: the feed answers FAILED_PRECONDITION (GraphStore holds
//     another graph: a restore, a new data directory), or a message carries
//     another graph id;
//   - ahead_of_head: the feed answers OUT_OF_RANGE and our position lies
//     past GraphStore's head (its history was rolled back);
//   - trimmed: the feed answers OUT_OF_RANGE because the changes we need
//     were trimmed from the change log.
// The consumer then gets Load() with the whole new graph: nothing of the old
// one is kept. A mirror written before graph ids adopts the id of the first
// feed message. UNAVAILABLE and other transport errors are retried with
// exponential backoff.
//
//   FeedFollower follower(stub, mirror.get(), &consumer, {});
//   follower.Start();
//   ...
//   follower.Stop();
//
// Thread safety: Start() and Stop() from one thread; the accessors from any.
// The consumer is called from the follower's thread only.
#ifndef GEORISK_SERVICES_SCORER_FEED_FOLLOWER_H_
#define GEORISK_SERVICES_SCORER_FEED_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.pb.h"
#include "services/common/metrics.h"
#include "services/scorer/graph_feed_consumer.h"
#include "storage/graph_mirror.h"

namespace georisk::scorer {

struct FeedFollowerOptions {
  // Backoff between failed attempts: starts here, doubles, stops growing at
  // retry_max.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
  // Deadline of one ExportSnapshot (the whole graph; generous). WatchChanges
  // has none: it is meant to last, and keepalive pings detect a dead peer.
  absl::Duration snapshot_deadline = absl::Minutes(30);
  // Where georisk_scorer_feed_rebuilds_total{reason} is registered. Not
  // owned; must outlive the follower. Default null: no metric.
  common::MetricsRegistry* registry = nullptr;
  // With several shards (ShardedFeedFollower, FeedMerge): how long a change
  // waits at most for the other shards' feeds to show nothing earlier, and
  // the heartbeat interval asked of each shard's feed (each heartbeat
  // carries the shard's commit watermark).
  absl::Duration merge_hold = absl::Seconds(5);
  absl::Duration merge_heartbeat = absl::Milliseconds(100);
};

// Why the follower rebuilt its copy from a snapshot (the metric's `reason`).
enum class RebuildReason { kGraphChanged, kAheadOfHead, kTrimmed };
// "graph_changed", "ahead_of_head", "trimmed".
const char* RebuildReasonName(RebuildReason reason);

// georisk_scorer_feed_rebuilds_total{reason} in `registry`, every reason
// exported (0 included); null when `registry` is null.
common::Family<common::Counter>* AddRebuildsMetric(
    common::MetricsRegistry* registry);

// Classifies an error of a feed at `applied`: the reason to rebuild, or
// nullopt to retry. OUT_OF_RANGE asks `graphstore` where its head is.
std::optional<RebuildReason> RebuildReasonFor(
    const absl::Status& status, int64_t applied,
    v1::GraphStore::StubInterface* graphstore);

class FeedFollower {
 public:
  // None of the pointers is owned; all must outlive the follower.
  FeedFollower(std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
               storage::GraphMirror* mirror, GraphFeedConsumer* consumer,
               FeedFollowerOptions options);
  ~FeedFollower();  // Calls Stop().
  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;

  void Start();
  // Cancels the feed and joins the thread. Idempotent.
  void Stop();

  // True once the consumer holds a graph (after the first Load()).
  bool loaded() const { return loaded_.load(); }
  // The sequence the consumer has reached.
  int64_t applied_sequence() const { return applied_.load(); }
  // GraphStore's head as last reported by the feed.
  int64_t head_sequence() const { return head_.load(); }
  // How many times the follower bootstrapped from ExportSnapshot.
  int bootstraps() const { return bootstraps_.load(); }
  // How many of those were rebuilds of a graph already held, and why.
  int rebuilds(RebuildReason reason) const;
  // The last rebuild: its reason and time; nullopt when none happened.
  struct Rebuild {
    RebuildReason reason;
    absl::Time time;
    std::string detail;  // The feed's message that caused it.
  };
  std::optional<Rebuild> last_rebuild() const;
  // The graph id of the graph the consumer holds; empty before the first
  // load, or from a server older than graph ids.
  std::string graph_id() const;
  // The last error seen while following, OK when the feed is healthy.
  absl::Status last_error() const;
  // All of the above as GetFeedStatus answers it (scorer.proto).
  v1::FeedStatus Status() const;

 private:
  void Run();
  absl::Status LoadFromMirror();
  absl::Status Bootstrap();
  absl::Status Follow();
  // Classifies a feed error: the reason to rebuild, or nullopt to retry.
  std::optional<RebuildReason> RebuildFor(const absl::Status& status);
  void CountRebuild(RebuildReason reason, const absl::Status& cause);
  void SetError(const absl::Status& status);
  // Sleeps up to `d`, returning early (false) when stopping.
  bool Sleep(absl::Duration d);

  const std::shared_ptr<v1::GraphStore::StubInterface> graphstore_;
  storage::GraphMirror* const mirror_;
  GraphFeedConsumer* const consumer_;
  const FeedFollowerOptions options_;

  std::atomic<bool> loaded_{false};
  std::atomic<int64_t> applied_{0};
  std::atomic<int64_t> head_{0};
  std::atomic<int> bootstraps_{0};
  common::Family<common::Counter>* rebuilds_metric_ = nullptr;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  int rebuilds_[3] ABSL_GUARDED_BY(mu_) = {0, 0, 0};
  std::optional<Rebuild> last_rebuild_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_FEED_FOLLOWER_H_
