// File: services/graphstore/graphstore_service.h
//
// GraphStoreService: the gRPC face of the graph store (georisk.v1.GraphStore)
// over a storage::GraphStore. It translates requests and statuses and owns
// the streaming machinery; the rules live in storage/.
//
//   auto store = storage::RocksDbGraphStore::Open(store_options);
//   GraphStoreService service(store->get(), {}, &registry);
//   server->AddShutdownHook([&] { service.Shutdown(); });
//
// Thread-safe. The store and the registry must outlive the service.
#ifndef GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_
#define GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "services/common/follow_stream.h"
#include "services/common/metrics.h"
#include "services/common/rpc_edge.h"
#include "storage/graph_store.h"

namespace georisk::graphstore {

// The RPC's direction as the store's: UNSPECIFIED means OUTBOUND.
// Errors: INVALID_ARGUMENT "direction: unknown direction N" for a value
// outside the enum (a newer client's). Thread-safe (pure).
absl::StatusOr<storage::Direction> DirectionFromProto(v1::Direction direction);

// The store's outcome of a mutation as the RPC's. Thread-safe (pure).
v1::MutationOutcome OutcomeToProto(storage::MutationOutcome outcome);

// The range of WatchChangesRequest.heartbeat_interval (0 aside).
inline constexpr absl::Duration kMinWatchHeartbeat = absl::Milliseconds(100);
inline constexpr absl::Duration kMaxWatchHeartbeat = absl::Minutes(10);

struct GraphStoreServiceOptions {
  // WatchChanges: changes per message, and encoded bytes per message past
  // the first change.
  int watch_batch_changes = 256;
  int64_t watch_batch_bytes = 1 << 20;
  // WatchChanges: an idle stream gets an empty message carrying the head
  // sequence this often, so clients can measure lag and notice dead peers.
  absl::Duration watch_heartbeat = absl::Seconds(10);
  // WatchChanges streams at once; more get RESOURCE_EXHAUSTED.
  int max_watch_streams = 256;
  // Further WatchChanges streams reserved for FOLLOWER_CLASS_SERVICE (the
  // scorer), beyond max_watch_streams. Default 16.
  int reserved_watch_streams = 16;
  // WatchChanges: a message the client has not taken after this long ends
  // its stream with RESOURCE_EXHAUSTED (zero: never). Default 30 s.
  absl::Duration watch_stall_timeout = absl::Seconds(30);
  // WatchChanges: the most bytes of messages held for outside streams, all
  // together (zero: no limit); past it a stream ends with
  // RESOURCE_EXHAUSTED. Default 256 MiB.
  int64_t watch_max_buffered_bytes = int64_t{256} << 20;
  // ExportSnapshot: records per message, and streams at once (more get
  // RESOURCE_EXHAUSTED: each holds a RocksDB snapshot and a thread).
  int export_chunk_records = 1000;
  int max_concurrent_exports = 4;
  // With a router (graphstore --route: the service's store is a
  // RoutedGraphStore): the shard's own store. A read whose call carries the
  // metadata kShardLocalMetadata is answered by it, not routed: how one
  // router asks another pod for that shard's part (grpc_shard_reader.h).
  // Not owned. Default null: every call is answered by the service's store.
  storage::GraphStore* shard_local_store = nullptr;
  // GetStats: which shard this process is, the shard count of its partition
  // map and the partitions it owns as the map writes them
  // (storage::FormatPartitionRanges). Default: shard 0 of 1, every
  // partition.
  int shard_index = 0;
  int shard_count = 1;
  std::string shard_partitions = "0-1023";
};

class GraphStoreService final : public v1::GraphStore::CallbackService {
 public:
  GraphStoreService(storage::GraphStore* store,
                    GraphStoreServiceOptions options,
                    common::MetricsRegistry* registry);
  ~GraphStoreService() override;

  // Ends every WatchChanges stream with UNAVAILABLE and refuses new ones;
  // call from the server's shutdown hook. Idempotent.
  void Shutdown();

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* context,
                                  const v1::ApplyRequest* request,
                                  v1::ApplyResponse* response) override;
  grpc::ServerUnaryReactor* GetEntity(grpc::CallbackServerContext* context,
                                      const v1::GetEntityRequest* request,
                                      v1::Entity* response) override;
  grpc::ServerUnaryReactor* ListEdges(grpc::CallbackServerContext* context,
                                      const v1::ListEdgesRequest* request,
                                      v1::ListEdgesResponse* response) override;
  grpc::ServerUnaryReactor* LookupByIdentifier(
      grpc::CallbackServerContext* context,
      const v1::LookupByIdentifierRequest* request,
      v1::LookupByIdentifierResponse* response) override;
  grpc::ServerUnaryReactor* Traverse(grpc::CallbackServerContext* context,
                                     const v1::TraverseRequest* request,
                                     v1::TraverseResponse* response) override;
  grpc::ServerUnaryReactor* ListSignals(
      grpc::CallbackServerContext* context,
      const v1::ListSignalsRequest* request,
      v1::ListSignalsResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext* context,
      const v1::WatchChangesRequest* request) override;
  grpc::ServerWriteReactor<v1::ExportSnapshotResponse>* ExportSnapshot(
      grpc::CallbackServerContext* context,
      const v1::ExportSnapshotRequest* request) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;

 private:
  class ExportReactor;

  // The store that answers a read: shard_local_store when the call asks
  // for it, else store_.
  storage::GraphStore* ReadStore(const grpc::CallbackServerContext* context);

  storage::GraphStore* const store_;
  const GraphStoreServiceOptions options_;
  common::FollowHub hub_;
  common::ConcurrencyLimit exports_;
  common::ConcurrencyLimit watchers_;
  common::ConcurrencyLimit service_watchers_;
  common::Family<common::Counter>* mutations_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_GRAPHSTORE_SERVICE_H_
