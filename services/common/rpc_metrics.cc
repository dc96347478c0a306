#include "services/common/rpc_metrics.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace georisk::common {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Canceled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Unknown";
  }
}

struct RpcFamilies {
  Family<Counter>* started;
  Family<Counter>* handled;
  Family<Histogram>* seconds;
  std::atomic<int64_t>* in_flight;  // May be null.
};

class RpcMetricsInterceptor final : public Interceptor {
 public:
  RpcMetricsInterceptor(const RpcFamilies& families, ServerRpcInfo* info)
      : families_(families), start_(absl::Now()) {
    std::tie(service_, method_) = SplitGrpcMethod(info->method());
    type_ = TypeName(info->type());
    families_.started->WithLabels({service_, method_, type_}).Increment();
    if (families_.in_flight != nullptr) families_.in_flight->fetch_add(1);
  }

  // gRPC destroys the interceptor when the call is done, whether it ended
  // with a status or was cancelled.
  ~RpcMetricsInterceptor() override {
    if (families_.in_flight != nullptr) families_.in_flight->fetch_sub(1);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      families_.handled
          ->WithLabels(
              {service_, method_, type_, CodeName(status.error_code())})
          .Increment();
      families_.seconds->WithLabels({service_, method_, type_})
          .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  RpcFamilies families_;
  absl::Time start_;
  std::string service_;
  std::string method_;
  std::string type_;
};

class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RpcMetricsInterceptorFactory(MetricsRegistry* registry,
                               std::atomic<int64_t>* in_flight) {
    families_.in_flight = in_flight;
    families_.started = &registry->AddCounter(
        "grpc_server_started_total", "RPCs started on the server.",
        {"grpc_service", "grpc_method", "grpc_type"});
    families_.handled = &registry->AddCounter(
        "grpc_server_handled_total",
        "RPCs completed on the server, by status code.",
        {"grpc_service", "grpc_method", "grpc_type", "grpc_code"});
    families_.seconds = &registry->AddHistogram(
        "grpc_server_handling_seconds",
        "Time from the start of an RPC to its status, in seconds.",
        {"grpc_service", "grpc_method", "grpc_type"},
        MetricsRegistry::DefaultLatencyBuckets());
  }

  Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(families_, info);
  }

 private:
  RpcFamilies families_;
};

}  // namespace

std::pair<std::string, std::string> SplitGrpcMethod(const std::string& path) {
  if (path.size() > 1 && path[0] == '/') {
    size_t slash = path.find('/', 1);
    if (slash != std::string::npos && slash + 1 < path.size() && slash > 1) {
      return {path.substr(1, slash - 1), path.substr(slash + 1)};
    }
  }
  return {"unknown", path};
}

std::vector<
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRpcMetricsInterceptors(MetricsRegistry* registry,
                           std::atomic<int64_t>* in_flight) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      out;
  out.push_back(
      std::make_unique<RpcMetricsInterceptorFactory>(registry, in_flight));
  return out;
}

}  // namespace georisk::common
