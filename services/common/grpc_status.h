// File: services/common/grpc_status.h
//
// The one conversion between absl::Status (used by every georisk library) and
// grpc::Status (used at the RPC edge). Codes map one to one: Abseil's codes
// are gRPC's codes.
//
//   grpc::ServerUnaryReactor* GetEntity(...) {
//     absl::StatusOr<Entity> e = store_->GetEntity(request->id());
//     ...
//     reactor->Finish(ToGrpcStatus(e.status()));
//   }
#ifndef GEORISK_SERVICES_COMMON_GRPC_STATUS_H_
#define GEORISK_SERVICES_COMMON_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace georisk::common {

// Converts an absl::Status to a grpc::Status with the same code and message.
// Payloads are not carried over.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a grpc::Status (e.g. from a client call) to an absl::Status with
// the same code and message. Codes outside the canonical range become
// kUnknown.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_GRPC_STATUS_H_
