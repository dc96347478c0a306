// File: services/ingest/testing/graphstore_harness.h
//
// GraphStoreHarness: the real graphstore for ingest's (and georiskctl's)
// tests, in process: graphstore::GraphStoreService over a
// storage::RocksDbGraphStore in a directory of the test's, behind a
// storage::testing::FaultInjectionGraphStore that injects failures and delays
// into Apply and counts the calls, served on an in-process gRPC server (no
// port).
//
// Example:
//
//   auto gs = GraphStoreHarness::Create(base::testing::MakeTempDir("gs"));
//   ASSERT_TRUE(gs.ok()) << gs.status();
//   (*gs)->FailNextApplies(2, absl::UnavailableError("down"));
//   std::unique_ptr<ingest::GraphStoreClient> client = (*gs)->NewClient();
//   ... BatchApplier applier(client.get(), ...);
//   EXPECT_EQ((*gs)->apply_calls(), 3);
//   EXPECT_TRUE((*gs)->store()->GetEntity("company/a").ok());
//
// Thread safety: every method but Shutdown() may be called concurrently;
// Shutdown() (and destruction) from one thread, once the test's own calls are
// done. Clients, stubs and channels must not outlive the harness.
#ifndef GEORISK_SERVICES_INGEST_TESTING_GRAPHSTORE_HARNESS_H_
#define GEORISK_SERVICES_INGEST_TESTING_GRAPHSTORE_HARNESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"
#include "services/common/metrics.h"
#include "services/graphstore/graphstore_service.h"
#include "services/graphstore/resolution_index.h"
#include "services/graphstore/resolution_service.h"
#include "services/graphstore/shard_store.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/resolution_client.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/fault_injection_graph_store.h"

namespace georisk::ingest::testing {

struct HarnessOptions {
  // Also serve georisk.v1.Resolution, as graphstore does by default: a
  // graphstore::ResolutionIndex following the real store and a
  // ResolutionService over both (builds a NameNormalizer, ~40 ms).
  bool resolution = false;
  // A shard of a partitioned graphstore: the store opened under this map as
  // shard `shard_index`, behind a graphstore::ShardStore, as graphstore
  // runs with --partition_map and --shard_index. The default, one shard
  // owning everything, is graphstore unpartitioned.
  storage::PartitionMap partition_map = storage::PartitionMap::Single();
  int shard_index = 0;
};

class GraphStoreHarness {
 public:
  // A store in `dir`/graph (`dir` must exist and hold no store) and a server
  // for it. Errors: the store's Open() errors; the normalizer's; INTERNAL if
  // the server does not start.
  static absl::StatusOr<std::unique_ptr<GraphStoreHarness>> Create(
      const std::string& dir, HarnessOptions options = {});
  // Shutdown(), then closes the store.
  ~GraphStoreHarness();

  // The real store, for a test's own reads and writes (no faults).
  storage::GraphStore* store() { return store_.get(); }
  // The decorator the service writes through.
  storage::testing::FaultInjectionGraphStore* faults() { return &faults_; }

  // Shorthands for faults()'s methods (see fault_injection_graph_store.h).
  void FailNextApplies(int n, absl::Status status) {
    faults_.FailNextApplies(n, std::move(status));
  }
  void FailAllApplies(absl::Status status) {
    faults_.FailAllApplies(std::move(status));
  }
  void SetApplyDelay(absl::Duration delay) { faults_.SetApplyDelay(delay); }
  void SetMaxBatch(int max) { faults_.SetMaxBatch(max); }
  void OnApply(storage::testing::FaultInjectionGraphStore::ApplyHook hook) {
    faults_.OnApply(std::move(hook));
  }
  int apply_calls() const { return faults_.apply_calls(); }
  std::vector<int> batch_sizes() const { return faults_.batch_sizes(); }

  // A channel to the in-process server, and a stub and an ingest client on
  // one.
  std::shared_ptr<grpc::Channel> Channel();
  std::unique_ptr<v1::GraphStore::Stub> NewStub();
  std::unique_ptr<GraphStoreClient> NewClient();
  // With options.resolution: a Resolution stub and an ingest client on the
  // same server, and the service itself (for Review in tests).
  std::unique_ptr<v1::Resolution::Stub> NewResolutionStub();
  std::unique_ptr<ResolutionClient> NewResolutionClient();
  graphstore::ResolutionService* resolution() { return resolution_.get(); }
  graphstore::ResolutionIndex* resolution_index() {
    return resolution_index_.get();
  }

  // Ends delayed Apply calls (UNAVAILABLE), the service's streams and the
  // server, waiting for calls in progress. For a test's teardown, before the
  // servers of the code under test stop. Idempotent.
  void Shutdown();

 private:
  GraphStoreHarness(std::unique_ptr<storage::RocksDbGraphStore> store,
                    std::unique_ptr<graphstore::ShardStore> shard);

  const std::unique_ptr<storage::RocksDbGraphStore> store_;
  // Null unless partitioned.
  const std::unique_ptr<graphstore::ShardStore> shard_;
  storage::testing::FaultInjectionGraphStore faults_;
  common::MetricsRegistry registry_;
  graphstore::GraphStoreService service_;
  std::unique_ptr<graphstore::ResolutionIndex> resolution_index_;
  std::unique_ptr<graphstore::ResolutionService> resolution_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;  // Touched by Shutdown() only (one thread).
};

}  // namespace georisk::ingest::testing

#endif  // GEORISK_SERVICES_INGEST_TESTING_GRAPHSTORE_HARNESS_H_
