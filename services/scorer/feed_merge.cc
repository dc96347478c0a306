#include "services/scorer/feed_merge.h"

#include <algorithm>
#include <utility>

#include "base/proto_time.h"

namespace georisk::scorer {

FeedMerge::FeedMerge(int shards, absl::Duration hold, absl::Time start)
    : hold_(hold), shards_(static_cast<size_t>(std::max(shards, 1))) {
  for (ShardFeed& f : shards_) f.disconnected_since = start;
}

void FeedMerge::Deliver(int shard, std::vector<v1::Change> changes,
                        int64_t head, absl::Time watermark, absl::Time now) {
  ShardFeed& f = shards_[shard];
  for (v1::Change& c : changes) {
    const absl::Time t = base::FromProtoTime(c.commit_time());
    f.floor = std::max(f.floor, t);  // A shard's commit times never go back.
    f.delivered = c.sequence();
    f.queue.push_back({std::move(c), t, now});
  }
  // The promise covers the commits after `head`: every one before it is
  // delivered, so it bounds everything still to come.
  if (watermark != absl::InfinitePast() && f.delivered >= head) {
    f.floor = std::max(f.floor, watermark);
  }
}

void FeedMerge::Connected(int shard, bool connected, absl::Time now) {
  ShardFeed& f = shards_[shard];
  if (f.connected && !connected) f.disconnected_since = now;
  f.connected = connected;
}

void FeedMerge::StartWaiting(absl::Time now) {
  for (ShardFeed& f : shards_) {
    if (!f.connected) f.disconnected_since = now;
  }
}

void FeedMerge::Reset(int shard, int64_t delivered) {
  ShardFeed& f = shards_[shard];
  f.queue.clear();
  f.floor = absl::InfinitePast();
  f.delivered = delivered;
}

FeedMerge::Wait FeedMerge::Blocks(int r, absl::Time time, int shard,
                                  absl::Time arrived, absl::Time now) const {
  const ShardFeed& f = shards_[r];
  if (time < f.floor || (time == f.floor && shard < r)) return Wait::kNo;
  if (!f.connected && now - f.disconnected_since >= hold_) {
    return Wait::kGivenUp;
  }
  if (now - arrived >= hold_) return Wait::kGivenUp;
  return Wait::kYes;
}

int FeedMerge::First() const {
  int first = -1;
  for (int s = 0; s < static_cast<int>(shards_.size()); ++s) {
    if (shards_[s].queue.empty()) continue;
    // Strictly less: on equal times the lower shard index goes first.
    if (first < 0 || shards_[s].queue.front().commit_time <
                         shards_[first].queue.front().commit_time) {
      first = s;
    }
  }
  return first;
}

std::optional<FeedMerge::Run> FeedMerge::Next(absl::Time now) {
  const int s = First();
  if (s < 0) return std::nullopt;
  Run run;
  run.shard = s;
  std::deque<Queued>& queue = shards_[s].queue;
  while (!queue.empty() && static_cast<int>(run.changes.size()) < kMaxRun &&
         First() == s) {
    const Queued& x = queue.front();
    bool forced = false;
    bool wait = false;
    for (int r = 0; r < static_cast<int>(shards_.size()) && !wait; ++r) {
      if (r == s || !shards_[r].queue.empty()) continue;
      switch (Blocks(r, x.commit_time, s, x.arrived, now)) {
        case Wait::kNo:
          break;
        case Wait::kYes:
          wait = true;
          break;
        case Wait::kGivenUp:
          forced = true;
          break;
      }
    }
    if (wait) break;
    run.changes.push_back(std::move(queue.front().change));
    queue.pop_front();
    if (forced) {
      ++run.forced;
      ++forced_;
    }
  }
  if (run.changes.empty()) return std::nullopt;
  return run;
}

}  // namespace georisk::scorer
