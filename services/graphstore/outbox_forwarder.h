// File: services/graphstore/outbox_forwarder.h
//
// OutboxForwarder: delivers a shard's outbox (storage/outbox.h) to the
// shards it is for (docs/scale-out.md, "The outbox"). For each peer with
// pending entries it reads up to max_batch of them, oldest first, applies
// them on the peer in one Apply (reject_invalid set, origin
// "outbox:graphstore-<this shard>"), and acknowledges them, which deletes
// them in one WriteBatch, only once the peer has answered. A peer that
// fails (down, slow, refusing) is retried with exponential backoff
// (initial_backoff doubling up to max_backoff) while the other peers go on.
// Delivery is idempotent: an entry carries the other copy's idempotency key
// ("<k>/in" for "<k>/out") or is a value the peer already has, so an entry
// delivered twice (the forwarder died between the peer's answer and the
// acknowledgement) is a DUPLICATE or UNCHANGED there. An entry the peer
// rejects (the end it holds does not exist) is acknowledged too, counted
// and logged: it cannot succeed by being sent again. A peer that refuses an
// entry as another shard's partition is not the shard it is for (the
// targets out of order, another map): that delivery fails, FAILED_PRECONDITION
// naming the peer, nothing is acknowledged, and it is retried.
//
//   OutboxForwarder forwarder(store.get(), deliver, options, &registry);
//   forwarder.Start();   // a thread; Stop() or the destructor ends it
//
// /metrics, per peer (label peer="graphstore-<i>"):
//   georisk_graphstore_outbox_pending             entries not yet delivered
//   georisk_graphstore_outbox_oldest_age_seconds  age of the oldest (0: none)
//   georisk_graphstore_outbox_delivered_total     entries acknowledged
//   georisk_graphstore_outbox_rejected_total      of which the peer rejected
//   georisk_graphstore_outbox_delivery_failures_total  failed attempts
// The gauges are refreshed at every round of the thread, at least every
// idle_wait.
//
// Thread-safe; `outbox` must outlive the forwarder.
#ifndef GEORISK_SERVICES_GRAPHSTORE_OUTBOX_FORWARDER_H_
#define GEORISK_SERVICES_GRAPHSTORE_OUTBOX_FORWARDER_H_

#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.pb.h"
#include "services/common/metrics.h"
#include "storage/outbox.h"

namespace georisk::graphstore {

struct OutboxForwarderOptions {
  // This shard, and the number of shards of the map (peers 0..count-1).
  int shard = 0;
  int shard_count = 1;
  // Entries per Apply to a peer.
  int max_batch = 500;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // The longest the thread waits without refreshing the gauges (and the
  // longest Stop() waits for it).
  absl::Duration idle_wait = absl::Milliseconds(500);
  std::function<absl::Time()> clock = absl::Now;
};

class OutboxForwarder {
 public:
  // Applies `request` on shard `peer` and returns its answer.
  using Deliver = std::function<absl::StatusOr<v1::ApplyResponse>(
      int peer, const v1::ApplyRequest& request)>;

  // `registry` may be null (no metrics).
  OutboxForwarder(storage::Outbox* outbox, Deliver deliver,
                  OutboxForwarderOptions options,
                  common::MetricsRegistry* registry);
  ~OutboxForwarder();
  OutboxForwarder(const OutboxForwarder&) = delete;
  OutboxForwarder& operator=(const OutboxForwarder&) = delete;

  // Starts the delivery thread (once).
  void Start();
  // Stops it, after the round in progress.
  void Stop();

  // One delivery to `peer`: up to max_batch pending entries, applied and
  // acknowledged. Returns how many were acknowledged (0: none pending).
  // Errors: INVALID_ARGUMENT for this shard or a peer outside the map; the
  // delivery's error, naming the peer ("graphstore-2: ..."), or the
  // outbox's; then nothing is acknowledged.
  absl::StatusOr<int> DeliverOnce(int peer);

  // Sets the gauges from the outbox.
  void UpdateMetrics();

 private:
  struct PeerMetrics {
    common::Gauge* pending = nullptr;
    common::Gauge* oldest_age = nullptr;
    common::Counter* delivered = nullptr;
    common::Counter* rejected = nullptr;
    common::Counter* failures = nullptr;
  };
  struct PeerState {
    absl::Time next_attempt = absl::InfinitePast();
    absl::Duration backoff = absl::ZeroDuration();
    bool failing = false;
  };

  void Loop();
  // A round over the peers: delivers what is due. Returns whether any entry
  // was delivered; sets *wake to when the next attempt is due.
  bool Round(absl::Time* wake);

  storage::Outbox* const outbox_;
  const Deliver deliver_;
  const OutboxForwarderOptions options_;
  std::vector<PeerMetrics> metrics_;  // By peer; empty without a registry.
  std::vector<PeerState> peers_;      // By peer; used by the thread only.

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_OUTBOX_FORWARDER_H_
