// File: services/ingest/graphstore_client.h
//
// GraphStoreClient: the GraphStore calls ingest makes (Apply, and
// ListSignals and ExportSnapshot for snapshot imports), with a deadline and
// cancellation, behind an interface so that the batching logic is tested
// without a network.
// NewGrpcGraphStoreClient() makes the real one over a gRPC stub.
//
//   std::unique_ptr<GraphStoreClient> client =
//       NewGrpcGraphStoreClient(v1::GraphStore::NewStub(channel));
//   absl::StatusOr<v1::ApplyResponse> r =
//       client->Apply(request, absl::Now() + absl::Seconds(30), &cancel);
//
// Errors are the call's status as absl::Status: GraphStore's own codes
// (INVALID_ARGUMENT naming "mutations[i].field", RESOURCE_EXHAUSTED,
// UNAVAILABLE), DEADLINE_EXCEEDED past the deadline, UNAVAILABLE when
// graphstore cannot be reached, CANCELLED once `cancel` fired.
//
// Thread-safe: calls may run concurrently.
#ifndef GEORISK_SERVICES_INGEST_GRAPHSTORE_CLIENT_H_
#define GEORISK_SERVICES_INGEST_GRAPHSTORE_CLIENT_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/graphstore.pb.h"
#include "grpcpp/channel.h"
#include "services/ingest/cancellation.h"

namespace georisk::ingest {

class GraphStoreClient {
 public:
  virtual ~GraphStoreClient() = default;

  virtual absl::StatusOr<v1::ApplyResponse> Apply(
      const v1::ApplyRequest& request, absl::Time deadline,
      Cancellation* cancel) = 0;

  virtual absl::StatusOr<v1::ListSignalsResponse> ListSignals(
      const v1::ListSignalsRequest& request, absl::Time deadline,
      Cancellation* cancel) = 0;

  // Streams GraphStore.ExportSnapshot, calling `on_chunk` with each message
  // (it may move the records out). Errors: the call's, or CANCELLED.
  virtual absl::Status ExportSnapshot(
      const std::function<void(v1::ExportSnapshotResponse&)>& on_chunk,
      absl::Time deadline, Cancellation* cancel) = 0;
};

// A client over `stub` (shared: the stub must be thread-safe, as gRPC's
// are). `channel`, when given, is the stub's channel: after an UNAVAILABLE
// its reconnection backoff is reset, so that a retry reaches a graphstore
// that came back without waiting out gRPC's growing backoff (up to 2 min).
std::unique_ptr<GraphStoreClient> NewGrpcGraphStoreClient(
    std::shared_ptr<v1::GraphStore::StubInterface> stub,
    std::shared_ptr<grpc::Channel> channel = nullptr);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_GRAPHSTORE_CLIENT_H_
