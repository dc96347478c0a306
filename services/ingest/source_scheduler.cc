#include "services/ingest/source_scheduler.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/proto_time.h"
#include "services/common/log.h"

namespace georisk::ingest {
namespace {

std::string Mode(const Source& s) {
  return s.snapshot_sources.empty()
             ? "delta"
             : absl::StrCat("snapshot ",
                            absl::StrJoin(s.snapshot_sources, ", "));
}

double Seconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + t.nanos() * 1e-9;
}

}  // namespace

absl::Duration RetryDelay(const Source& source, int64_t failures) {
  absl::Duration delay = source.retry_initial;
  for (int64_t i = 1; i < failures && delay < source.interval; ++i) {
    delay *= 2;
  }
  return std::min(delay, source.interval);
}

SourceScheduler::SourceScheduler(std::vector<Source> sources,
                                 SourceStateStore* store, SourceRunFn run,
                                 SourceSchedulerOptions options)
    : run_(std::move(run)), options_(std::move(options)), store_(store) {
  for (Source& s : sources) {
    Entry e;
    e.status.set_name(s.config.name());
    e.source = std::move(s);
    entries_.push_back(std::move(e));
  }
  if (common::MetricsRegistry* r = options_.registry; r != nullptr) {
    last_success_ = &r->AddGauge(
        "georisk_source_last_success_timestamp_seconds",
        "When the source last ran successfully (applied or unchanged), Unix "
        "seconds; 0 if never.",
        {"source"});
    last_attempt_ = &r->AddGauge(
        "georisk_source_last_attempt_timestamp_seconds",
        "When the source last ran, Unix seconds; 0 if never.", {"source"});
    interval_ = &r->AddGauge("georisk_source_interval_seconds",
                             "The source's configured interval.", {"source"});
    records_ = &r->AddGauge("georisk_source_records",
                            "Records the source's last applied fetch held.",
                            {"source"});
    failing_ = &r->AddGauge("georisk_source_failing",
                            "1 when the source's last run failed.", {"source"});
    failures_ = &r->AddCounter("georisk_source_failures_total",
                               "Runs of the source that failed.", {"source"});
    runs_ = &r->AddCounter("georisk_source_runs_total",
                           "Runs of the source by outcome (applied, "
                           "unchanged, failed).",
                           {"source", "outcome"});
  }
}

SourceScheduler::~SourceScheduler() { Shutdown(); }

absl::Time SourceScheduler::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::Status SourceScheduler::Load() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  for (Entry& e : entries_) {
    absl::StatusOr<std::optional<v1::SourceStatus>> stored =
        store_->Get(e.source.config.name());
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) {
      e.status = std::move(**stored);
      if (e.status.in_progress()) {
        // Stopped mid-run: redo it now.
        *e.status.mutable_next_run() = base::ToProtoTime(now);
      }
    } else {
      *e.status.mutable_next_run() = base::ToProtoTime(now);
    }
    e.status.set_url(e.source.config.url());
    e.status.set_mode(Mode(e.source));
    e.status.set_interval(absl::FormatDuration(e.source.interval));
    Publish(e.status, e.source);
  }
  return absl::OkStatus();
}

void SourceScheduler::Publish(const v1::SourceStatus& s, const Source& source) {
  if (last_success_ == nullptr) return;
  const std::vector<std::string> label = {s.name()};
  last_success_->WithLabels(label).Set(Seconds(s.last_success()));
  last_attempt_->WithLabels(label).Set(Seconds(s.last_attempt()));
  interval_->WithLabels(label).Set(absl::ToDoubleSeconds(source.interval));
  records_->WithLabels(label).Set(static_cast<double>(s.records()));
  failing_->WithLabels(label).Set(s.failing() ? 1 : 0);
  failures_->WithLabels(label);  // Rendered at 0 before the first failure.
}

void SourceScheduler::RunOne(size_t i) {
  Source source;
  v1::SourceStatus status;
  {
    absl::MutexLock lock(&mu_);
    source = entries_[i].source;
    status = entries_[i].status;
  }
  const absl::Time started = Now();
  status.set_in_progress(true);
  *status.mutable_last_attempt() = base::ToProtoTime(started);
  if (absl::Status st = store_->Put(status); !st.ok()) {
    common::log::Error("sources", {{"source", status.name()},
                                   {"error", std::string(st.message())}});
  }
  {
    absl::MutexLock lock(&mu_);
    entries_[i].status = status;
  }

  const RunOutcome outcome = run_(source, status);

  if (!outcome.status.ok()) {
    absl::MutexLock lock(&mu_);
    if (shutdown_) {
      // Cut short by the shutdown (ingest ends its streams): keep
      // in_progress stored, so that the next start redoes the run at once.
      return;
    }
  }
  const absl::Time ended = Now();
  status.set_in_progress(false);
  // Versions applied stay applied, whatever came after them.
  if (!outcome.delta_version.empty()) {
    status.set_delta_version(outcome.delta_version);
  }
  std::string outcome_label;
  if (outcome.status.ok()) {
    outcome_label = outcome.unchanged ? "unchanged" : "applied";
    *status.mutable_last_success() = base::ToProtoTime(ended);
    status.set_failing(false);
    status.clear_error();
    status.set_consecutive_failures(0);
    status.set_records(outcome.records);
    status.set_snapshot_records(outcome.snapshot_records);
    if (!outcome.unchanged) status.set_changes(outcome.changes);
    status.set_etag(outcome.etag);
    status.set_last_modified(outcome.last_modified);
    status.set_content_sha256(outcome.sha256);
    *status.mutable_fetched_at() = base::ToProtoTime(outcome.fetched_at);
    *status.mutable_next_run() = base::ToProtoTime(ended + source.interval);
  } else {
    outcome_label = "failed";
    status.set_failing(true);
    status.set_error(
        absl::StrCat(absl::StatusCodeToString(outcome.status.code()), ": ",
                     outcome.status.message()));
    status.set_consecutive_failures(status.consecutive_failures() + 1);
    status.set_failures_total(status.failures_total() + 1);
    *status.mutable_next_run() = base::ToProtoTime(
        ended + RetryDelay(source, status.consecutive_failures()));
    if (failures_ != nullptr)
      failures_->WithLabels({status.name()}).Increment();
  }
  if (runs_ != nullptr)
    runs_->WithLabels({status.name(), outcome_label}).Increment();
  common::log::Info("sources", {{"source", status.name()},
                                {"outcome", outcome_label},
                                {"records", absl::StrCat(status.records())},
                                {"changes", absl::StrCat(status.changes())},
                                {"error", status.error()}});
  if (absl::Status st = store_->Put(status); !st.ok()) {
    common::log::Error("sources", {{"source", status.name()},
                                   {"error", std::string(st.message())}});
  }
  absl::MutexLock lock(&mu_);
  entries_[i].status = status;
  Publish(status, source);
}

int SourceScheduler::RunDue() {
  absl::MutexLock run_lock(&run_mu_);
  int ran = 0;
  size_t n;
  {
    absl::MutexLock lock(&mu_);
    n = entries_.size();
  }
  for (size_t i = 0; i < n; ++i) {
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) break;
      if (base::FromProtoTime(entries_[i].status.next_run()) > Now()) continue;
    }
    RunOne(i);
    ++ran;
  }
  return ran;
}

absl::StatusOr<v1::SourceStatus> SourceScheduler::RunNow(
    const std::string& name) {
  size_t i = 0;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("ingest is shutting down");
    while (i < entries_.size() && entries_[i].source.config.name() != name) {
      ++i;
    }
    if (i == entries_.size()) {
      return absl::NotFoundError(
          absl::StrCat("no source named \"", name, "\" in --sources_config"));
    }
  }
  absl::MutexLock run_lock(&run_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return absl::UnavailableError("ingest is shutting down");
  }
  RunOne(i);
  absl::MutexLock lock(&mu_);
  return entries_[i].status;
}

void SourceScheduler::RunNowAsync(
    const std::string& name,
    std::function<void(absl::StatusOr<v1::SourceStatus>)> done) {
  absl::MutexLock lock(&async_mu_);
  // Reap the runs that ended, so that threads do not pile up.
  std::vector<AsyncRun> running;
  for (AsyncRun& run : async_) {
    if (run.done->load()) {
      run.thread.join();
    } else {
      running.push_back(std::move(run));
    }
  }
  async_ = std::move(running);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  async_.push_back({std::thread([this, name, done = std::move(done), finished] {
                      done(RunNow(name));
                      finished->store(true);
                    }),
                    finished});
}

std::vector<v1::SourceStatus> SourceScheduler::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SourceStatus> out;
  for (const Entry& e : entries_) out.push_back(e.status);
  return out;
}

void SourceScheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SourceScheduler::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      absl::Time next = absl::InfiniteFuture();
      for (const Entry& e : entries_) {
        next = std::min(next, base::FromProtoTime(e.status.next_run()));
      }
      const absl::Duration wait =
          std::clamp(next - Now(), absl::ZeroDuration(), options_.max_sleep);
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](SourceScheduler* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
                return s->shutdown_;
              },
              this),
          wait);
      if (shutdown_) return;
    }
    RunDue();
  }
}

void SourceScheduler::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::vector<AsyncRun> async;
  {
    absl::MutexLock lock(&async_mu_);
    async.swap(async_);
  }
  for (AsyncRun& run : async) run.thread.join();
}

}  // namespace georisk::ingest
