// File: services/ingest/source_scheduler.h
//
// Runs ingest's scheduled sources (source_config.h) on their intervals,
// one at a time, keeping each source's state (georisk.v1.SourceStatus) in
// a SourceStateStore and its metrics in the registry.
//
//   SourceScheduler scheduler(sources, store, runner, options);
//   RETURN_IF_ERROR(scheduler.Load());   // stored states; redo interrupted
//   scheduler.Start();                   // background thread
//   ... scheduler.List(), scheduler.RunNow("csl") ...
//   scheduler.Shutdown();
//
// Timing, by options.clock: a source never run, or whose last run was
// interrupted (in_progress stored: ingest stopped mid-import), is due at
// once; after a success (applied or unchanged) the next run is one
// interval later; after the n-th failure in a row, min(interval,
// retry_initial * 2^(n-1)) later. A run stores in_progress and
// last_attempt before it starts and its outcome when it ends (both synced),
// so a restart redoes an interrupted run; redoing is idempotent (records
// carry the same content; a snapshot's ends are recomputed).
//
// A failed run keeps the last success's validators, records and hash, so
// the next conditional request and the guard compare with what is applied.
//
// Metrics, labelled {source}: georisk_source_last_success_timestamp_seconds,
// georisk_source_last_attempt_timestamp_seconds,
// georisk_source_interval_seconds, georisk_source_records,
// georisk_source_failing (0/1), georisk_source_failures_total,
// georisk_source_runs_total{source,outcome} (applied, unchanged, failed).
//
// Thread-safe.
#ifndef GEORISK_SERVICES_INGEST_SOURCE_SCHEDULER_H_
#define GEORISK_SERVICES_INGEST_SOURCE_SCHEDULER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/ingest.pb.h"
#include "services/common/metrics.h"
#include "services/ingest/source_config.h"
#include "services/ingest/source_runner.h"
#include "services/ingest/source_state_store.h"

namespace georisk::ingest {

struct SourceSchedulerOptions {
  // The clock of every timestamp and due time; null means absl::Now.
  std::function<absl::Time()> clock;
  // The background thread's longest sleep (it wakes at once on
  // Shutdown); it sleeps in real time and compares with `clock`.
  absl::Duration max_sleep = absl::Seconds(1);
  // Receives the metrics above; may be null.
  common::MetricsRegistry* registry = nullptr;
};

class SourceScheduler {
 public:
  // `store` must outlive the scheduler.
  SourceScheduler(std::vector<Source> sources, SourceStateStore* store,
                  SourceRunFn run, SourceSchedulerOptions options);
  ~SourceScheduler();

  // Reads each source's stored state. Errors: the store's.
  absl::Status Load();

  // Runs every due source (next_run <= now) once, in config order; returns
  // how many ran. The background thread calls it; tests call it directly.
  int RunDue();

  // Runs `name` now (after a run in progress, if any); returns its state
  // after the run. NOT_FOUND for an unknown name, UNAVAILABLE after
  // Shutdown().
  absl::StatusOr<v1::SourceStatus> RunNow(const std::string& name);

  // RunNow on a thread of the scheduler's, then `done` with its result
  // there (for the RunSource RPC, which must not block gRPC's threads).
  // Shutdown() waits for these threads.
  void RunNowAsync(const std::string& name,
                   std::function<void(absl::StatusOr<v1::SourceStatus>)> done);

  // Every source's state, in config order.
  std::vector<v1::SourceStatus> List() const;

  // Starts the background thread (after Load()).
  void Start();
  // Stops it and waits for RunNowAsync's runs (a run in progress ends
  // first). Idempotent.
  void Shutdown();

 private:
  struct Entry {
    Source source;
    v1::SourceStatus status;
  };
  absl::Time Now() const;
  // Runs entry `i`; holds run_mu_.
  void RunOne(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);
  void Publish(const v1::SourceStatus& status, const Source& source);
  void Loop();

  const SourceRunFn run_;
  const SourceSchedulerOptions options_;
  SourceStateStore* const store_;
  // Held for a whole run: one source runs at a time.
  absl::Mutex run_mu_;
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(run_mu_);
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  // RunNowAsync's threads and whether each is done: finished ones are
  // joined by the next RunNowAsync, the rest by Shutdown().
  struct AsyncRun {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  absl::Mutex async_mu_;
  std::vector<AsyncRun> async_ ABSL_GUARDED_BY(async_mu_);

  common::Family<common::Gauge>* last_success_ = nullptr;
  common::Family<common::Gauge>* last_attempt_ = nullptr;
  common::Family<common::Gauge>* interval_ = nullptr;
  common::Family<common::Gauge>* records_ = nullptr;
  common::Family<common::Gauge>* failing_ = nullptr;
  common::Family<common::Counter>* failures_ = nullptr;
  common::Family<common::Counter>* runs_ = nullptr;
};

// The wait after the n-th consecutive failure (n >= 1).
absl::Duration RetryDelay(const Source& source, int64_t failures);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SOURCE_SCHEDULER_H_
