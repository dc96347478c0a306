#include "services/scorer/score_change_log.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace georisk::scorer {

int64_t ScoreChangeLog::Append(std::vector<v1::ScoreChange> changes) {
  absl::MutexLock lock(&mu_);
  for (v1::ScoreChange& c : changes) {
    changes_.push_back(std::move(c));
    ++head_;
  }
  while (changes_.size() > capacity_) changes_.pop_front();
  return head_;
}

int64_t ScoreChangeLog::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

int64_t ScoreChangeLog::WaitForSequence(int64_t sequence,
                                        absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return head_ >= sequence;
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  return head_;
}

absl::StatusOr<int64_t> ScoreChangeLog::Read(
    int64_t from, size_t max, std::vector<v1::ScoreChange>* out) const {
  absl::MutexLock lock(&mu_);
  const int64_t oldest = head_ - static_cast<int64_t>(changes_.size()) + 1;
  if (from < oldest) {
    return absl::OutOfRangeError(absl::StrCat(
        "fell behind: score change ", from, " was dropped (oldest kept: ",
        oldest, "); reconnect and re-read the scores you need"));
  }
  int64_t next = from;
  while (next <= head_ && out->size() < max) {
    out->push_back(changes_[static_cast<size_t>(next - oldest)]);
    ++next;
  }
  return next;
}

}  // namespace georisk::scorer
