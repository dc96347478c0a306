#include "services/ingest/batch_applier.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "domain/record_validation.h"

namespace georisk::ingest {
namespace {

struct Range {
  size_t begin;
  size_t end;
};

}  // namespace

BatchApplier::BatchApplier(GraphStoreClient* client, ApplierOptions options,
                           IngestMetrics* metrics)
    : client_(client), options_(std::move(options)), metrics_(metrics) {}

bool BatchApplier::Backoff(absl::Duration backoff, Cancellation* cancel) {
  static absl::Mutex* const mu = new absl::Mutex;
  static absl::BitGen* const bitgen = new absl::BitGen;
  double factor;
  {
    absl::MutexLock lock(mu);
    factor = absl::Uniform(*bitgen, 0.75, 1.25);
  }
  const absl::Duration d = backoff * factor;
  if (cancel == nullptr) {
    absl::SleepFor(d);
    return true;
  }
  return cancel->SleepFor(d);
}

BatchResult BatchApplier::Apply(std::vector<PendingRecord>* records,
                                Cancellation* cancel) {
  BatchResult result;
  result.outcomes.resize(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    result.outcomes[i].index = (*records)[i].index;
  }
  auto reject = [&](size_t i, absl::string_view message) {
    domain::FieldError e = domain::SplitFieldError(message);
    result.outcomes[i].field = std::move(e.field);
    result.outcomes[i].reason = std::move(e.reason);
  };
  // Ranges still to apply, in order.
  std::deque<Range> work;
  if (!records->empty()) work.push_back({0, records->size()});
  while (!work.empty()) {
    const Range r = work.front();
    work.pop_front();
    if (r.begin >= r.end) continue;
    v1::ApplyRequest request;
    request.set_origin(options_.origin);
    // GraphStore skips the mutations that break a rule and reports each: one
    // call per batch however many are bad.
    request.set_reject_invalid(true);
    request.mutable_mutations()->Reserve(static_cast<int>(r.end - r.begin));
    for (size_t i = r.begin; i < r.end; ++i) {
      *request.add_mutations() = std::move((*records)[i].mutation);
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::ApplyResponse> response = Retry<v1::ApplyResponse>(
        [&](absl::Time deadline) {
          return client_->Apply(request, deadline, cancel);
        },
        cancel);
    if (metrics_ != nullptr) {
      metrics_->apply_seconds->Observe(
          absl::ToDoubleSeconds(absl::Now() - start));
    }
    for (size_t i = r.begin; i < r.end; ++i) {
      (*records)[i].mutation =
          std::move(*request.mutable_mutations(static_cast<int>(i - r.begin)));
    }
    const size_t n = r.end - r.begin;
    if (response.ok()) {
      if (static_cast<size_t>(response->outcomes_size()) != n) {
        if (metrics_ != nullptr) metrics_->batches_error->Increment();
        result.status = absl::InternalError(
            absl::StrCat("graphstore answered ", response->outcomes_size(),
                         " outcomes for ", n, " mutations"));
        return result;
      }
      for (const v1::MutationRejection& rejection : response->rejections()) {
        const int at = rejection.mutation_index();
        if (at < 0 || static_cast<size_t>(at) >= n ||
            response->outcomes(at) != v1::MUTATION_OUTCOME_REJECTED) {
          if (metrics_ != nullptr) metrics_->batches_error->Increment();
          result.status = absl::InternalError(
              absl::StrCat("graphstore answered a rejection of mutation ", at,
                           " that its outcomes do not match"));
          return result;
        }
        RecordOutcome& o = result.outcomes[r.begin + static_cast<size_t>(at)];
        o.field = rejection.field();
        o.reason = rejection.reason().empty() ? "rejected by graphstore"
                                              : rejection.reason();
      }
      if (metrics_ != nullptr) {
        (response->rejections().empty() ? metrics_->batches_ok
                                        : metrics_->batches_invalid)
            ->Increment();
      }
      for (size_t i = r.begin; i < r.end; ++i) {
        const v1::MutationOutcome outcome =
            response->outcomes(static_cast<int>(i - r.begin));
        if (outcome == v1::MUTATION_OUTCOME_REJECTED) {
          if (!result.outcomes[i].rejected()) {
            if (metrics_ != nullptr) metrics_->batches_error->Increment();
            result.status = absl::InternalError(
                absl::StrCat("graphstore rejected mutation ", i - r.begin,
                             " without saying why"));
            return result;
          }
          continue;
        }
        result.outcomes[i].outcome = outcome;
      }
      result.last_sequence =
          std::max(result.last_sequence, response->sequence());
      continue;
    }
    const absl::Status& s = response.status();
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      if (metrics_ != nullptr) metrics_->batches_invalid->Increment();
      if (n == 1) {
        reject(r.begin, absl::StrCat("graphstore refused the record alone: ",
                                     s.message()));
      } else {
        const size_t mid = r.begin + n / 2;
        work.push_front({mid, r.end});
        work.push_front({r.begin, mid});
      }
      continue;
    }
    if (metrics_ != nullptr) metrics_->batches_error->Increment();
    result.status = s;
    return result;
  }
  return result;
}

}  // namespace georisk::ingest
