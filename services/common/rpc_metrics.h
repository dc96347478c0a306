// File: services/common/rpc_metrics.h
//
// A gRPC server interceptor that counts every RPC and times it, per service,
// method and status code, with the metric names grpc-ecosystem's
// go-grpc-prometheus made common (so existing dashboards read them):
//
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}
//
// Installed by GrpcServer; it is the one place every call passes through.
//
//   builder.experimental().SetInterceptorCreators(
//       MakeRpcMetricsInterceptors(&registry));
#ifndef GEORISK_SERVICES_COMMON_RPC_METRICS_H_
#define GEORISK_SERVICES_COMMON_RPC_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/support/server_interceptor.h"
#include "services/common/metrics.h"

namespace georisk::common {

// Splits "/georisk.v1.GraphStore/Apply" into {"georisk.v1.GraphStore",
// "Apply"}; anything else gives {"unknown", the whole string}.
std::pair<std::string, std::string> SplitGrpcMethod(const std::string& path);

// Creates the interceptor factories to install on a ServerBuilder. The
// registry must outlive the server. If `in_flight` is not null it counts the
// calls started and not yet done (GrpcServer waits on it to drain).
std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRpcMetricsInterceptors(MetricsRegistry* registry,
                           std::atomic<int64_t>* in_flight = nullptr);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_RPC_METRICS_H_
