// File: storage/testing/fault_injection_graph_store.h
//
// FaultInjectionGraphStore: a GraphStore decorator for tests, the way
// LevelDB's fault_injection_test wraps the real Env. It forwards every call
// to a real store and, on Apply, can fail the next N calls (or all of them)
// with a given status, refuse batches over a size, wait before applying, run
// a hook, and count the calls; ExportSnapshot can fail. Other reads are
// forwarded untouched. Test-only.
//
// Example:
//
//   auto real = RocksDbGraphStore::Open(options);
//   FaultInjectionGraphStore store(real->get());
//   store.FailNextApplies(2, absl::UnavailableError("graphstore restarting"));
//   GraphStoreService service(&store, {}, &registry);  // The real service.
//   ...
//   EXPECT_EQ(store.apply_calls(), 3);
//
// Thread safety: every method may be called concurrently. Ownership: the
// wrapped store is borrowed and must outlive the decorator. Errors: Apply
// returns the injected status when one applies (nothing is written), else
// the wrapped store's result.
#ifndef GEORISK_STORAGE_TESTING_FAULT_INJECTION_GRAPH_STORE_H_
#define GEORISK_STORAGE_TESTING_FAULT_INJECTION_GRAPH_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/graph_store.h"

namespace georisk::storage::testing {

class FaultInjectionGraphStore final : public GraphStore {
 public:
  // Called with each Apply's mutations before they are applied (or failed).
  using ApplyHook =
      std::function<void(absl::Span<const v1::Mutation* const> mutations)>;

  // Forwards to `base`, which must outlive this object.
  explicit FaultInjectionGraphStore(GraphStore* base);
  // Releases the Apply calls still waiting (see ReleaseDelays()).
  ~FaultInjectionGraphStore() override;

  // The next `n` Apply calls fail with `status`, writing nothing.
  void FailNextApplies(int n, absl::Status status);
  // Every Apply call fails with `status` (OK turns it off).
  void FailAllApplies(absl::Status status);
  // Every ExportSnapshot call fails with `status` before it reads anything
  // (OK, the default, turns it off).
  void FailExports(absl::Status status);
  // Applies refuse batches larger than `max` with RESOURCE_EXHAUSTED
  // "more than <max> mutations" (0, the default: no limit).
  void SetMaxBatch(int max);
  // Each Apply waits this long first (default zero). The wait cannot see the
  // RPC's deadline: a caller that gave up still gets its batch applied when
  // the wait ends, unless ReleaseDelays() ends it first.
  void SetApplyDelay(absl::Duration delay);
  // Ends every wait in progress and every later one at once; those Apply
  // calls fail with UNAVAILABLE "released", writing nothing. For a test's
  // teardown, so that a server does not wait for delayed calls. Idempotent.
  void ReleaseDelays();
  // `hook` (may be empty) runs on each Apply before the fault decisions
  // take effect; on the caller's thread.
  void OnApply(ApplyHook hook);

  // Apply calls received (failed ones included), and their sizes in order.
  int apply_calls() const;
  std::vector<int> batch_sizes() const;

  // GraphStore.
  absl::StatusOr<ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
      InvalidMutations invalid) override;
  using GraphStore::Apply;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<EdgePage> ListEdges(const EdgeQuery& query) override;
  absl::StatusOr<TraverseResult> Traverse(const TraverseQuery& query) override;
  absl::StatusOr<SignalPage> ListSignals(const SignalQuery& query) override;
  absl::StatusOr<IdentifierPage> LookupByIdentifier(
      const IdentifierQuery& query) override;
  absl::StatusOr<LinkPage> ListLinks(const LinkQuery& query) override;
  absl::StatusOr<v1::Link> GetLink(absl::string_view entity_a,
                                   absl::string_view entity_b) override;
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(
      int64_t from_sequence, int max_changes, int64_t max_bytes) override;
  int64_t WaitForSequence(int64_t sequence, absl::Time deadline) override;
  absl::Status ExportSnapshot(
      const std::function<absl::Status(SnapshotChunk&)>& callback,
      int chunk_records) override;
  absl::StatusOr<StoreStats> GetStats() override;
  int64_t LastSequence() override;
  // The base store's; never fails.
  CommitWatermark Watermark() override { return base_->Watermark(); }
  // The base store's graph id; never fails.
  const std::string& GraphId() const override { return base_->GraphId(); }

 private:
  GraphStore* const base_;

  mutable absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_next_status_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_all_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_exports_ ABSL_GUARDED_BY(mu_);
  int max_batch_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  ApplyHook hook_ ABSL_GUARDED_BY(mu_);
  std::vector<int> batch_sizes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::storage::testing

#endif  // GEORISK_STORAGE_TESTING_FAULT_INJECTION_GRAPH_STORE_H_
