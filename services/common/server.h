// File: services/common/server.h
//
// GrpcServer: runs a set of gRPC services the way every georisk server does
// — gRPC's health service (grpc.health.v1) and server reflection enabled, a
// per-RPC metrics interceptor, a Prometheus /metrics endpoint, a port file for
// launchers, and a graceful shutdown on SIGTERM/SIGINT.
//
//   int main(int argc, char** argv) {
//     BlockShutdownSignals();               // first, before any thread
//     absl::ParseCommandLine(argc, argv);
//     ... options, registry, service ...
//     auto server = GrpcServer::Start(
//         *options, {{&service, v1::GraphStore::service_full_name()}},
//         &registry);
//     if (!server.ok()) return ExitWithError(server.status());
//     (*server)->SetServing(true);          // once ready
//     return ServeUntilShutdownSignal(**server);
//   }
//
// Requests that do not parse (garbage bytes, a string field with invalid
// UTF-8) are answered INVALID_ARGUMENT naming the method, not gRPC's bare
// UNIMPLEMENTED (unary and server-streaming methods; see server.cc). The
// plaintext health port (ServerOptions::health_listen_address) serves
// grpc.health.v1 only: no reflection, no service.
//
// Health: the server as a whole ("") and each registered service report
// NOT_SERVING from Start() until SetServing(true), and again from the start of
// Shutdown(), so probes and load balancers see readiness, not liveness.
#ifndef GEORISK_SERVICES_COMMON_SERVER_H_
#define GEORISK_SERVICES_COMMON_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "services/common/http_server.h"
#include "services/common/metrics.h"
#include "services/common/server_options.h"

namespace georisk::common {

// A service to serve and the full name health checks know it by, e.g.
// {&impl, georisk::v1::GraphStore::service_full_name()}.
struct ServiceEntry {
  grpc::Service* service;  // Not owned.
  std::string name;
};

class GrpcServer {
 public:
  // Binds, starts serving `services` (they must outlive the server) and the
  // /metrics endpoint of `registry` (not owned; must outlive the server), and
  // writes the port file. Errors: InvalidArgument for bad options,
  // Unavailable when an address cannot be bound.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const ServerOptions& options, const std::vector<ServiceEntry>& services,
      MetricsRegistry* registry);

  ~GrpcServer();  // Calls Shutdown().
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The bound gRPC port (useful with port 0).
  int port() const { return port_; }
  // The bound /metrics port, or 0 when the endpoint is disabled.
  int metrics_port() const;
  // The bound health-only port, or 0 when there is none.
  int health_port() const { return health_port_; }
  // A channel to this server's own services in this process: no network and
  // no transport security, so a caller serving it to others checks their
  // credentials itself; the same interceptors and handlers answer. Valid
  // until Shutdown().
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Reports the server and every service SERVING (true) or NOT_SERVING.
  // Thread-safe; ignored after Shutdown() began.
  void SetServing(bool serving);

  // Reports one more health name, beside "" and the services' own, e.g.
  // "georisk.v1.GraphStore.Apply" for whether graphstore accepts writes.
  // SetServing() and Shutdown() set it too (so set it again after
  // SetServing(true) if it differs). Thread-safe; ignored after Shutdown()
  // began.
  void SetHealth(const std::string& name, bool serving);

  // Runs `hook` at the start of Shutdown(), after NOT_SERVING and the drain
  // delay, before in-flight calls are awaited: the place to end long-lived
  // streams. Hooks run in the order added. Thread-safe.
  void AddShutdownHook(std::function<void()> hook);

  // Drains and stops: reports NOT_SERVING, waits the drain delay, runs the
  // shutdown hooks, lets in-flight calls finish within the grace period
  // (then cancels them), closes every connection, and stops the /metrics
  // endpoint. Idle client connections do not hold it up (gRPC's own
  // Shutdown(deadline) waits for clients to hang up until the deadline).
  // Idempotent and thread-safe; returns when everything has stopped.
  void Shutdown();

 private:
  GrpcServer(ServerOptions options, std::vector<std::string> service_names);

  const ServerOptions options_;
  const std::vector<std::string> service_names_;
  std::unique_ptr<grpc::Server> server_;
  // Plaintext, grpc.health.v1 only (ServerOptions::health_listen_address).
  std::unique_ptr<grpc::CallbackGenericService> health_only_;
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  std::unique_ptr<HttpServer> metrics_http_;
  int port_ = 0;
  // Calls started and not yet done, counted by the metrics interceptor.
  std::atomic<int64_t> in_flight_{0};

  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> hooks_ ABSL_GUARDED_BY(mu_);
  absl::Mutex shutdown_mu_;  // Serialises Shutdown() callers.
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and, by inheritance, in
// every thread it creates later, so that WaitForShutdownSignal() receives
// them. Call first thing in main().
void BlockShutdownSignals();

// Waits for SIGTERM or SIGINT (blocked beforehand) and returns its number.
int WaitForShutdownSignal();

// Waits for a shutdown signal, logs it, shuts the server down and returns the
// process exit code (0).
int ServeUntilShutdownSignal(GrpcServer& server);

// Logs `status` as a fatal start-up error and returns exit code 1 (2 for
// InvalidArgument, i.e. bad flags).
int ExitWithError(const absl::Status& status);

// The server credentials `options` call for: insecure, TLS, mutual TLS,
// and/or bearer tokens (see ServerOptions). Errors name the file at fault.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> BuildServerCredentials(
    const ServerOptions& options);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SERVER_H_
