#include "services/ingest/batch_applier.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "domain/record_validation.h"

namespace georisk::ingest {
namespace {

struct Range {
  size_t begin;
  size_t end;
};

}  // namespace

int64_t MutationIndexOf(absl::string_view message, absl::string_view* rest) {
  if (!absl::ConsumePrefix(&message, "mutations[")) return -1;
  const size_t close = message.find(']');
  if (close == absl::string_view::npos || close == 0) return -1;
  int64_t index;
  if (!absl::SimpleAtoi(message.substr(0, close), &index) || index < 0) {
    return -1;
  }
  message.remove_prefix(close + 1);
  if (!absl::ConsumePrefix(&message, ".")) absl::ConsumePrefix(&message, ": ");
  *rest = message;
  return index;
}

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
      if (metrics_ != nullptr) metrics_->batches_ok->Increment();
      for (size_t i = r.begin; i < r.end; ++i) {
        result.outcomes[i].outcome =
            response->outcomes(static_cast<int>(i - r.begin));
      }
      result.last_sequence =
          std::max(result.last_sequence, response->sequence());
      continue;
    }
    const absl::Status& s = response.status();
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      if (metrics_ != nullptr) metrics_->batches_invalid->Increment();
      absl::string_view rest;
      const int64_t at = MutationIndexOf(s.message(), &rest);
      if (n == 1) {
        reject(r.begin, at == 0 ? rest : s.message());
      } else if (at >= 0 && static_cast<size_t>(at) < n) {
        const size_t bad = r.begin + static_cast<size_t>(at);
        reject(bad, rest);
        work.push_front({bad + 1, r.end});
        work.push_front({r.begin, bad});
      } else {
        const size_t mid = r.begin + n / 2;
        work.push_front({mid, r.end});
        work.push_front({r.begin, mid});
      }
      continue;
    }
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
