// File: services/scorer/feed_merge.h
//
// FeedMerge: the order in which a scorer applies the changes of several
// graphstore shards' feeds (docs/scale-out.md, "Replicas that agree"). The
// order is a function of the changes, not of when they arrived: the next
// change applied is the one with the least (commit_time, shard), and only
// once no shard can still deliver an earlier one. Two scorer replicas fed
// by the same shards therefore apply the same changes in the same order,
// give them the same merged positions, and number their alerts alike.
//
// A shard shows it has nothing earlier than a change X in one of two ways:
// its queue holds a change after X in that order, or its feed has promised
// that every change it has not yet delivered is at or after a time past X:
// its floor. Each WatchChanges message carries the shard's commit
// watermark (every commit after head_sequence is at or after it); once the
// feed has delivered up to that head, the watermark is the floor. Commit
// times of a shard never go backwards, so its last delivered change's time
// is a floor too. Ties: (time, shard index); a shard's own changes stay in
// sequence order.
//
// A shard that cannot promise must not stop the others, so the wait is
// bounded: a change that has waited `hold` since it was delivered is applied
// anyway, and a shard disconnected for `hold` is not waited for at all.
// Those changes are "forced" (counted): the order is then the arrival
// order, and replicas may number the changes around it differently.
//
//   FeedMerge merge(3, absl::Seconds(5));
//   merge.Connected(1, true, now);
//   merge.Deliver(1, std::move(changes), head, watermark, now);
//   while (std::optional<FeedMerge::Run> run = merge.Next(now)) {
//     ... apply run->changes (consecutive changes of run->shard) ...
//   }
//
// Not thread-safe: the caller holds one lock around every call.
#ifndef GEORISK_SERVICES_SCORER_FEED_MERGE_H_
#define GEORISK_SERVICES_SCORER_FEED_MERGE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::scorer {

class FeedMerge {
 public:
  // `shards` >= 1 feeds, none connected yet (each counted as disconnected
  // since `start`).
  FeedMerge(int shards, absl::Duration hold,
            absl::Time start = absl::InfinitePast());

  // Shard `shard`'s feed delivered `changes` (consecutive, after those it
  // delivered before; may be empty: a heartbeat) in a message whose head was
  // `head` and watermark `watermark` (InfinitePast: none), at `now`.
  void Deliver(int shard, std::vector<v1::Change> changes, int64_t head,
               absl::Time watermark, absl::Time now);
  // The feed's stream opened or closed at `now`.
  void Connected(int shard, bool connected, absl::Time now);
  // Every shard not connected counts as disconnected since `now`: the feeds
  // start now (after the first load, which may have taken minutes), and each
  // gets the whole hold to connect before the others stop waiting for it.
  void StartWaiting(absl::Time now);
  // Forgets the shard's queue and floor: its feed (re)starts after
  // `delivered`, its cursor (a new stream, after an error, or a graph
  // replaced).
  void Reset(int shard, int64_t delivered);

  // Consecutive changes of one shard that may be applied now, in order
  // (at most kMaxRun), taken out of the queue; nullopt when nothing may be
  // applied yet.
  static constexpr int kMaxRun = 1000;
  struct Run {
    int shard = 0;
    std::vector<v1::Change> changes;
    // How many of them were applied before every shard had passed them.
    int forced = 0;
  };
  std::optional<Run> Next(absl::Time now);

  int64_t queued(int shard) const {
    return static_cast<int64_t>(shards_[shard].queue.size());
  }
  // The least time the shard's next undelivered change can carry.
  absl::Time floor(int shard) const { return shards_[shard].floor; }
  int64_t forced() const { return forced_; }

 private:
  struct Queued {
    v1::Change change;
    absl::Time commit_time;
    absl::Time arrived;
  };
  struct ShardFeed {
    std::deque<Queued> queue;
    absl::Time floor = absl::InfinitePast();
    int64_t delivered = 0;  // The last sequence delivered.
    bool connected = false;
    absl::Time disconnected_since;
  };

  // Whether shard `r` (queue empty) may still deliver something before the
  // change (time, shard), delivered at `arrived`: kNo, kYes, or kGivenUp
  // (it may, but the wait is over).
  enum class Wait { kNo, kYes, kGivenUp };
  Wait Blocks(int r, absl::Time time, int shard, absl::Time arrived,
              absl::Time now) const;
  // The shard whose front is first in the merged order, or -1.
  int First() const;

  const absl::Duration hold_;
  std::vector<ShardFeed> shards_;
  int64_t forced_ = 0;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_FEED_MERGE_H_
