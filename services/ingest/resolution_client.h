// File: services/ingest/resolution_client.h
//
// ResolutionClient: the Resolution call ingest makes (MatchEntities, served
// by the graphstore process beside GraphStore), with a deadline and
// cancellation, behind an interface like GraphStoreClient's.
// NewGrpcResolutionClient() makes the real one over a gRPC stub.
//
//   std::unique_ptr<ResolutionClient> client =
//       NewGrpcResolutionClient(v1::Resolution::NewStub(channel));
//   absl::StatusOr<v1::MatchEntitiesResponse> r = client->MatchEntities(
//       request, absl::Now() + absl::Seconds(30), &cancel);
//
// Errors are the call's status: INVALID_ARGUMENT naming "query.<field>",
// UNAVAILABLE (the index is loading or catching up, or graphstore cannot be
// reached), UNIMPLEMENTED (graphstore runs without --resolution),
// DEADLINE_EXCEEDED, CANCELLED once `cancel` fired.
//
// Thread-safe: calls may run concurrently.
#ifndef GEORISK_SERVICES_INGEST_RESOLUTION_CLIENT_H_
#define GEORISK_SERVICES_INGEST_RESOLUTION_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "georisk/v1/resolution.pb.h"
#include "services/ingest/cancellation.h"

namespace georisk::ingest {

class ResolutionClient {
 public:
  virtual ~ResolutionClient() = default;

  virtual absl::StatusOr<v1::MatchEntitiesResponse> MatchEntities(
      const v1::MatchEntitiesRequest& request, absl::Time deadline,
      Cancellation* cancel) = 0;
};

// A client over `stub` (shared; gRPC stubs are thread-safe).
std::unique_ptr<ResolutionClient> NewGrpcResolutionClient(
    std::shared_ptr<v1::Resolution::StubInterface> stub);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_RESOLUTION_CLIENT_H_
