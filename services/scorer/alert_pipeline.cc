#include "services/scorer/alert_pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace georisk::scorer {

std::vector<std::string> AlertReasons(const v1::Explanation& explanation) {
  std::vector<std::string> reasons;
  for (const v1::Contribution& c : explanation.contributions()) {
    if (reasons.size() == 3) break;
    reasons.push_back(absl::StrCat(c.description(), " (",
                                   static_cast<int>(c.fraction() * 100 + 0.5),
                                   "%)"));
  }
  if (!explanation.paths().empty()) {
    reasons.push_back(explanation.paths(0).summary());
  }
  return reasons;
}

AlertPipeline::AlertPipeline(std::unique_ptr<AlertEvaluator> evaluator,
                             storage::AlertLog* log,
                             std::function<absl::Time()> clock,
                             common::MetricsRegistry* registry)
    : evaluator_(std::move(evaluator)), log_(log), clock_(std::move(clock)) {
  records_ = &registry->AddCounter(
      "georisk_alert_records_total",
      "Alert log records written, by state (firing includes updates).",
      {"state"});
  write_errors_ =
      &registry
           ->AddCounter("georisk_alert_log_write_errors_total",
                        "Writes of alert records that failed (the records "
                        "stay pending and are retried).")
           .WithLabels({});
  dropped_ = &registry
                  ->AddCounter("georisk_alert_records_dropped_total",
                               "Alert records dropped because more than "
                               "kMaxPendingRecords waited for a write.")
                  .WithLabels({});
  registry->AddCallbackGauge(
      "georisk_alert_records_pending",
      "Alert records waiting to be written after a failed write.", [this] {
        absl::MutexLock lock(&mu_);
        return static_cast<double>(pending_.size());
      });
  registry->AddCallbackGauge("georisk_alerts_firing", "Alerts firing now.",
                             [this] {
                               absl::MutexLock lock(&mu_);
                               return static_cast<double>(evaluator_->firing());
                             });
  registry->AddCallbackGauge(
      "georisk_alert_log_head", "The last alert log sequence written.",
      [log] { return static_cast<double>(log->head()); });
}

absl::Status AlertPipeline::Restore() {
  absl::StatusOr<std::vector<v1::Alert>> active = log_->Active();
  if (!active.ok()) return active.status();
  absl::StatusOr<std::vector<v1::Alert>> held = log_->Held();
  if (!held.ok()) return held.status();
  absl::MutexLock lock(&mu_);
  evaluator_->Restore(*active, *held);
  common::log::Info("alert state restored",
                    {{"firing", static_cast<int64_t>(active->size())},
                     {"held", static_cast<int64_t>(held->size())},
                     {"log_head", log_->head()}});
  return absl::OkStatus();
}

void AlertPipeline::AddNotifier(Notify notify) {
  notifiers_.push_back(std::move(notify));
}

void AlertPipeline::OnScoreChanges(
    const std::vector<v1::ScoreChange>& changes, int64_t graph_sequence,
    const AlertEvaluator::ReasonsFn& reasons,
    const std::vector<v1::GraphPosition>& positions) {
  absl::MutexLock lock(&mu_);
  Advance(graph_sequence, positions);
  std::vector<v1::Alert> records =
      evaluator_->OnScoreChanges(changes, graph_sequence, clock_(), reasons);
  // The order of one change's records is their order in the log, and so
  // their sequences: by alert_id, not by the order the engine listed the
  // moved entities in (its node order, which another replica, loaded from
  // another snapshot, may not share). One change makes at most one record
  // per alert.
  std::stable_sort(records.begin(), records.end(),
                   [](const v1::Alert& x, const v1::Alert& y) {
                     return x.alert_id() < y.alert_id();
                   });
  Write(std::move(records), evaluator_->TakeHeld());
}

void AlertPipeline::Advance(int64_t feed_position,
                            const std::vector<v1::GraphPosition>& positions) {
  // A position never goes back here (a rebuild's lower sequence leaves the
  // records at the highest reached: the log numbers them above its head).
  if (feed_position < feed_position_) return;
  feed_position_ = feed_position;
  feed_positions_ = positions;
}

void AlertPipeline::Tick(int64_t feed_position,
                         const std::vector<v1::GraphPosition>& positions) {
  absl::MutexLock lock(&mu_);
  Advance(feed_position, positions);
  Write(evaluator_->Tick(clock_()), {});
}

size_t AlertPipeline::pending() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

void AlertPipeline::Write(std::vector<v1::Alert> records,
                          const std::vector<v1::Alert>& held) {
  for (v1::Alert& r : records) {
    r.set_feed_position(feed_position_);
    r.mutable_feed_positions()->Assign(feed_positions_.begin(),
                                       feed_positions_.end());
    pending_held_.erase(r.alert_id());
    pending_.push_back(std::move(r));
  }
  for (const v1::Alert& h : held) pending_held_[h.alert_id()] = h;
  if (pending_.size() > kMaxPendingRecords) {
    const size_t excess = pending_.size() - kMaxPendingRecords;
    pending_.erase(pending_.begin(), pending_.begin() + excess);
    dropped_->Increment(static_cast<double>(excess));
    common::log::Error("alert records dropped: too many wait for a write",
                       {{"dropped", static_cast<int64_t>(excess)}});
  }
  if (pending_.empty() && pending_held_.empty()) return;
  std::vector<v1::Alert> batch(pending_.begin(), pending_.end());
  std::vector<v1::Alert> held_batch;
  held_batch.reserve(pending_held_.size());
  for (const auto& [id, h] : pending_held_) held_batch.push_back(h);
  const size_t n = batch.size();
  absl::StatusOr<std::vector<v1::Alert>> written =
      log_->Append(std::move(batch), held_batch);
  if (!written.ok()) {
    if (absl::IsInvalidArgument(written.status())) {
      // The evaluator made a record the log refuses: no retry can write it.
      dropped_->Increment(static_cast<double>(n));
      common::log::Error("alert records refused by the log; dropped",
                         {{"records", static_cast<int64_t>(n)},
                          {"error", written.status().ToString()}});
      pending_.clear();
      pending_held_.clear();
      return;
    }
    // Not announced: better late than announced and then lost. Logged when
    // writes start failing, not on every retry.
    write_errors_->Increment();
    if (!failing_) {
      common::log::Error(
          "cannot write alert records; they are kept and retried",
          {{"records", static_cast<int64_t>(n)},
           {"error", written.status().ToString()}});
    }
    failing_ = true;
    return;
  }
  if (failing_) {
    common::log::Info("alert log writable again; delayed records written",
                      {{"records", static_cast<int64_t>(n)}});
    failing_ = false;
  }
  pending_.clear();
  pending_held_.clear();
  for (const v1::Alert& a : *written) {
    records_
        ->WithLabels({a.state() == v1::Alert::FIRING ? "firing" : "resolved"})
        .Increment();
    common::log::Info("alert", {{"sequence", a.sequence()},
                                {"alert_id", a.alert_id()},
                                {"state", v1::Alert::State_Name(a.state())},
                                {"score_before", a.score_before()},
                                {"score_after", a.score_after()}});
    for (const Notify& notify : notifiers_) notify(a);
  }
}

}  // namespace georisk::scorer
