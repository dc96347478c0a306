// File: services/ingest/cancellation.h
//
// Cancellation: how one ingest stream stops its work early — a client that
// hung up, a server shutting down. It wakes a retry backoff at once and runs
// a hook that cancels the GraphStore call in flight.
//
//   Cancellation cancel;
//   // worker thread:
//   if (!cancel.SleepFor(backoff)) return absl::CancelledError("...");
//   // reactor thread, on OnCancel():
//   cancel.Cancel();
//
// Thread-safe.
#ifndef GEORISK_SERVICES_INGEST_CANCELLATION_H_
#define GEORISK_SERVICES_INGEST_CANCELLATION_H_

#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace georisk::ingest {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Cancels (idempotent): wakes SleepFor() and runs the current hook.
  void Cancel() {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    if (hook_) hook_();
  }

  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  // Sleeps for `d`; returns false, early, if cancelled.
  bool SleepFor(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&cancelled_), d);
    return !cancelled_;
  }

  // Sets the hook Cancel() runs (e.g. ClientContext::TryCancel of the call in
  // flight) until ClearHook(). If already cancelled, runs it at once and
  // returns false. Hooks run with this object's lock held: they must be quick
  // and must not call back into it.
  bool SetHook(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      hook();
      return false;
    }
    hook_ = std::move(hook);
    return true;
  }
  // Drops the hook; once it returns, the hook is not running and will not
  // run.
  void ClearHook() {
    absl::MutexLock lock(&mu_);
    hook_ = nullptr;
  }

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_CANCELLATION_H_
