// File: services/ingest/testing/fake_graphstore.h
//
// FakeGraphStore: a GraphStore for ingest's unit tests. It stores records in
// a real storage::RocksDbGraphStore (so its rules and outcomes are the real
// ones) and injects failures and delays. It offers both a GraphStoreClient
// that calls it directly (batch_applier and session tests, no network) and a
// gRPC service (Apply, ListSignals, ExportSnapshot, GetEntity, GetStats) for
// in-process servers (service tests).
//
//   auto fake = FakeGraphStore::Create(::testing::TempDir() + "/gs");
//   fake->FailNextApplies(2, absl::UnavailableError("down"));
//   std::unique_ptr<ingest::GraphStoreClient> client = fake->NewClient();
//
// Thread-safe.
#ifndef GEORISK_SERVICES_INGEST_TESTING_FAKE_GRAPHSTORE_H_
#define GEORISK_SERVICES_INGEST_TESTING_FAKE_GRAPHSTORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "services/ingest/graphstore_client.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::ingest::testing {

class FakeGraphStore {
 public:
  // A store in `dir` (created; must not hold a store already).
  static absl::StatusOr<std::unique_ptr<FakeGraphStore>> Create(
      const std::string& dir);
  ~FakeGraphStore();

  storage::GraphStore* store() { return store_.get(); }

  // The next `n` Apply calls fail with `status`, writing nothing.
  void FailNextApplies(int n, absl::Status status);
  // Every Apply call fails with `status` (OK turns it off).
  void FailAllApplies(absl::Status status);
  // Each Apply waits this long first (honouring deadline and cancellation).
  void SetApplyDelay(absl::Duration delay);
  // Applies refuse batches larger than this with RESOURCE_EXHAUSTED
  // (0: no limit).
  void SetMaxBatch(int max);
  // Called with each Apply request, before it is applied.
  void OnApply(std::function<void(const v1::ApplyRequest&)> hook);

  // Apply calls received, and their sizes.
  int apply_calls() const;
  std::vector<int> batch_sizes() const;

  // The Apply the fake performs, for both faces below. `cancelled` (may be
  // null) cuts an injected delay short.
  absl::StatusOr<v1::ApplyResponse> Apply(
      const v1::ApplyRequest& request, absl::Time deadline,
      const std::function<bool()>& cancelled);
  absl::StatusOr<v1::ListSignalsResponse> ListSignals(
      const v1::ListSignalsRequest& request);
  // The whole store, as ExportSnapshot's messages of up to 100 records.
  absl::StatusOr<std::vector<v1::ExportSnapshotResponse>> ExportSnapshot();

  // A client calling this fake directly. The fake must outlive it.
  std::unique_ptr<GraphStoreClient> NewClient();
  // The fake as a gRPC service, to register on a server.
  v1::GraphStore::CallbackService* service() { return service_.get(); }

 private:
  FakeGraphStore() = default;

  std::unique_ptr<storage::RocksDbGraphStore> store_;
  std::unique_ptr<v1::GraphStore::CallbackService> service_;
  mutable absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_status_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_all_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  int max_batch_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(const v1::ApplyRequest&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<int> batch_sizes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::ingest::testing

#endif  // GEORISK_SERVICES_INGEST_TESTING_FAKE_GRAPHSTORE_H_
