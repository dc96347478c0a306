#include "services/common/follow_stream.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"

namespace georisk::common {

FollowHub::FollowHub(std::function<int64_t()> head,
                     std::function<int64_t(int64_t, absl::Time)> wait,
                     absl::Duration heartbeat, FollowLimits limits)
    : head_(std::move(head)),
      wait_(std::move(wait)),
      heartbeat_(heartbeat),
      limits_(limits) {
  thread_ = std::thread([this] { Run(); });
}

FollowHub::~FollowHub() { Shutdown(); }

bool FollowHub::Park(Waiter* waiter, int64_t wanted, absl::Duration heartbeat) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  // Checked under the lock: Run() reads the head before taking the lock, so
  // a commit that lands between a stream's read and its parking is seen
  // either here or by the next round of Run().
  if (head_() >= wanted) return false;
  parked_[waiter] = Parked{wanted, absl::Now(), heartbeat};
  return true;
}

void FollowHub::Unpark(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  parked_.erase(waiter);
}

void FollowHub::Register(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  streams_.insert(waiter);
}

void FollowHub::Unregister(Waiter* waiter) {
  absl::MutexLock lock(&mu_);
  parked_.erase(waiter);
  streams_.erase(waiter);
}

bool FollowHub::TryBuffer(int64_t bytes, bool exempt) {
  const int64_t before = buffered_.fetch_add(bytes);
  if (exempt || limits_.max_buffered_bytes <= 0 || before == 0 ||
      before + bytes <= limits_.max_buffered_bytes) {
    return true;
  }
  buffered_.fetch_sub(bytes);
  return false;
}

void FollowHub::Unbuffer(int64_t bytes) { buffered_.fetch_sub(bytes); }

bool FollowHub::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

int FollowHub::parked() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(parked_.size());
}

void FollowHub::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (!shutting_down_) {
      shutting_down_ = true;
      std::map<Waiter*, Parked> parked;
      parked.swap(parked_);
      for (auto& [waiter, unused] : parked)
        waiter->Wake(Waiter::Reason::kShutdown);
    }
  }
  if (thread_.joinable()) thread_.join();
}

void FollowHub::Run() {
  // The hub waits for "one past what it has seen", in short slices so that
  // heartbeats and Shutdown() are noticed.
  const absl::Duration slice =
      heartbeat_ > absl::ZeroDuration()
          ? std::min(absl::Milliseconds(100), heartbeat_)
          : absl::Milliseconds(100);
  int64_t seen = head_();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (shutting_down_) return;
    }
    int64_t head = wait_(seen + 1, absl::Now() + slice);
    seen = std::max(seen, head);
    absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return;
    struct Due {
      Waiter* waiter;
      Waiter::Reason reason;
      absl::Duration heartbeat;
    };
    std::vector<Due> due;
    for (const auto& [waiter, p] : parked_) {
      const absl::Duration heartbeat =
          p.heartbeat > absl::ZeroDuration() ? p.heartbeat : heartbeat_;
      if (p.wanted <= head) {
        due.push_back({waiter, Waiter::Reason::kNewData, p.heartbeat});
      } else if (heartbeat > absl::ZeroDuration() &&
                 now - p.since >= heartbeat) {
        due.push_back({waiter, Waiter::Reason::kHeartbeat, p.heartbeat});
      }
    }
    for (const Due& d : due) {
      parked_.erase(d.waiter);
      std::optional<int64_t> again = d.waiter->Wake(d.reason);
      if (again.has_value())
        parked_[d.waiter] = Parked{*again, now, d.heartbeat};
    }
    if (limits_.stall_timeout > absl::ZeroDuration()) {
      const absl::Time deadline = now - limits_.stall_timeout;
      for (Waiter* waiter : streams_) {
        if (parked_.count(waiter) == 0) waiter->EndIfStalledSince(deadline);
      }
    }
  }
}

}  // namespace georisk::common
