#include "storage/testing/fault_injection_graph_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace georisk::storage::testing {

FaultInjectionGraphStore::FaultInjectionGraphStore(GraphStore* base)
    : base_(base) {}

FaultInjectionGraphStore::~FaultInjectionGraphStore() { ReleaseDelays(); }

void FaultInjectionGraphStore::FailNextApplies(int n, absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
  fail_next_status_ = std::move(status);
}

void FaultInjectionGraphStore::FailAllApplies(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_all_ = std::move(status);
}

void FaultInjectionGraphStore::FailExports(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_exports_ = std::move(status);
}

void FaultInjectionGraphStore::SetMaxBatch(int max) {
  absl::MutexLock lock(&mu_);
  max_batch_ = max;
}

void FaultInjectionGraphStore::SetApplyDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

void FaultInjectionGraphStore::ReleaseDelays() {
  absl::MutexLock lock(&mu_);
  released_ = true;
}

void FaultInjectionGraphStore::OnApply(ApplyHook hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

int FaultInjectionGraphStore::apply_calls() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(batch_sizes_.size());
}

std::vector<int> FaultInjectionGraphStore::batch_sizes() const {
  absl::MutexLock lock(&mu_);
  return batch_sizes_;
}

absl::StatusOr<ApplyResult> FaultInjectionGraphStore::Apply(
    absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
    InvalidMutations invalid) {
  const int size = static_cast<int>(mutations.size());
  absl::Duration delay;
  std::optional<absl::Status> fail;
  ApplyHook hook;
  {
    absl::MutexLock lock(&mu_);
    batch_sizes_.push_back(size);
    delay = delay_;
    hook = hook_;
    if (!fail_all_.ok()) {
      fail = fail_all_;
    } else if (fail_next_ > 0) {
      --fail_next_;
      fail = fail_next_status_;
    } else if (max_batch_ > 0 && size > max_batch_) {
      fail = absl::ResourceExhaustedError(
          absl::StrCat("more than ", max_batch_, " mutations"));
    }
  }
  if (hook) hook(mutations);
  if (delay > absl::ZeroDuration()) {
    absl::MutexLock lock(&mu_);
    const auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return released_;
    };
    if (mu_.AwaitWithTimeout(absl::Condition(&released), delay)) {
      return absl::UnavailableError("released");
    }
  }
  if (fail) return *fail;
  return base_->Apply(mutations, origin, invalid);
}

absl::StatusOr<v1::Entity> FaultInjectionGraphStore::GetEntity(
    absl::string_view id) {
  return base_->GetEntity(id);
}

absl::StatusOr<EdgePage> FaultInjectionGraphStore::ListEdges(
    const EdgeQuery& query) {
  return base_->ListEdges(query);
}

absl::StatusOr<TraverseResult> FaultInjectionGraphStore::Traverse(
    const TraverseQuery& query) {
  return base_->Traverse(query);
}

absl::StatusOr<SignalPage> FaultInjectionGraphStore::ListSignals(
    const SignalQuery& query) {
  return base_->ListSignals(query);
}

absl::StatusOr<IdentifierPage> FaultInjectionGraphStore::LookupByIdentifier(
    const IdentifierQuery& query) {
  return base_->LookupByIdentifier(query);
}

absl::StatusOr<LinkPage> FaultInjectionGraphStore::ListLinks(
    const LinkQuery& query) {
  return base_->ListLinks(query);
}

absl::StatusOr<v1::Link> FaultInjectionGraphStore::GetLink(
    absl::string_view entity_a, absl::string_view entity_b) {
  return base_->GetLink(entity_a, entity_b);
}

absl::StatusOr<std::vector<v1::Change>> FaultInjectionGraphStore::ReadChanges(
    int64_t from_sequence, int max_changes, int64_t max_bytes) {
  return base_->ReadChanges(from_sequence, max_changes, max_bytes);
}

int64_t FaultInjectionGraphStore::WaitForSequence(int64_t sequence,
                                                  absl::Time deadline) {
  return base_->WaitForSequence(sequence, deadline);
}

absl::Status FaultInjectionGraphStore::ExportSnapshot(
    const std::function<absl::Status(SnapshotChunk&)>& callback,
    int chunk_records) {
  {
    absl::MutexLock lock(&mu_);
    if (!fail_exports_.ok()) return fail_exports_;
  }
  return base_->ExportSnapshot(callback, chunk_records);
}

absl::StatusOr<StoreStats> FaultInjectionGraphStore::GetStats() {
  return base_->GetStats();
}

int64_t FaultInjectionGraphStore::LastSequence() {
  return base_->LastSequence();
}

}  // namespace georisk::storage::testing
