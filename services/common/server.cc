#include "services/common/server.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/file_util.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/interceptor.h"
#include "grpcpp/support/server_interceptor.h"
#include "services/common/auth.h"
#include "services/common/log.h"
#include "services/common/rpc_metrics.h"

namespace georisk::common {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

// gRPC 1.51's callback API answers a request that does not parse (garbage
// bytes, a string field with invalid UTF-8) UNIMPLEMENTED with no message,
// as if the method did not exist: the handler never runs. gRPC tells
// interceptors, though: the request read before the handler (unary and
// server-streaming methods) arrives as null at POST_RECV_MESSAGE. This
// interceptor then rewrites the status the call ends with into
// INVALID_ARGUMENT naming the method. (A message of a client stream that
// does not parse ends the reading as a half-close would; gRPC gives no way
// to tell the two apart there.)
class ParseErrorInterceptor final : public Interceptor {
 public:
  explicit ParseErrorInterceptor(ServerRpcInfo* info)
      : method_(info->method()),
        reads_request_first_(info->type() == ServerRpcInfo::Type::UNARY ||
                             info->type() ==
                                 ServerRpcInfo::Type::SERVER_STREAMING) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (reads_request_first_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsed_ = true;
    }
    if (unparsed_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() ==
            grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("the request to ", method_,
                       " is not a valid message of its type (malformed "
                       "protobuf, or a string field that is not UTF-8)")));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const bool reads_request_first_;
  bool unparsed_ = false;
};

class ParseErrorInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new ParseErrorInterceptor(info);
  }
};

// Removes the server reflection plugin, which
// InitProtoReflectionServerBuilderPlugin() adds to every ServerBuilder of the
// process: the plaintext health port serves health only (docs/security.md).
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                         return p->name() == "proto_server_reflection";
                       }),
        plugins->end());
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> BuildServerCredentials(
    const ServerOptions& options) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPemFile(options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPemFile(options.tls_key_file);
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadPemFile(options.tls_client_ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  } else if (!options.token_file.empty()) {
    // Tokens without TLS: loopback only (checked by ValidateServerOptions).
    // Local credentials accept plaintext loopback clients and, unlike
    // insecure ones, carry an AuthMetadataProcessor.
    credentials = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  } else {
    return grpc::InsecureServerCredentials();
  }
  if (!options.token_file.empty()) {
    absl::StatusOr<TokenStore> tokens = TokenStore::Load(options.token_file);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token_file: ", tokens.status().message()));
    }
    credentials->SetAuthMetadataProcessor(
        std::make_shared<TokenAuthProcessor>(std::move(*tokens)));
  }
  return credentials;
}

GrpcServer::GrpcServer(ServerOptions options,
                       std::vector<std::string> service_names)
    : options_(std::move(options)), service_names_(std::move(service_names)) {}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::vector<ServiceEntry>& services,
    MetricsRegistry* registry) {
  if (absl::Status s = ValidateServerOptions(options); !s.ok()) return s;

  // Both are process-wide switches that apply to servers built after them.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::vector<std::string> names;
  for (const ServiceEntry& entry : services) names.push_back(entry.name);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      BuildServerCredentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, *credentials, &port);
  // Keepalive, matched with the clients' (channel.h): we ping idle
  // connections, and let clients ping as often as min_client_ping_interval,
  // also between calls (long watch streams sit idle).
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(
          absl::ToInt64Milliseconds(options.min_client_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // gRPC sets SO_REUSEPORT by default: a second server on a busy port would
  // silently share its traffic. A busy port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (const ServiceEntry& entry : services) {
    builder.RegisterService(entry.service);
  }
  std::unique_ptr<GrpcServer> server(new GrpcServer(options, names));
  // The parse-error interceptor first, so that the metrics see the status
  // it answers.
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<ParseErrorInterceptorFactory>());
  for (auto& metrics :
       MakeRpcMetricsInterceptors(registry, &server->in_flight_)) {
    interceptors.push_back(std::move(metrics));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     " (address in use, or not an address of this host?)"));
  }
  server->port_ = port;

  if (!options.health_listen_address.empty()) {
    // A second server: plaintext, with gRPC's health service and a generic
    // service that answers every other method UNIMPLEMENTED (and gives the
    // server something to poll). Its health mirrors the main server's.
    server->health_only_ = std::make_unique<grpc::CallbackGenericService>();
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(options.health_listen_address,
                                    grpc::InsecureServerCredentials(),
                                    &server->health_port_);
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_builder.SetOption(std::make_unique<WithoutReflection>());
    health_builder.RegisterCallbackGenericService(server->health_only_.get());
    server->health_server_ = health_builder.BuildAndStart();
    if (server->health_server_ == nullptr || server->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.health_listen_address, " (health)"));
    }
  }

  // Not ready until the caller says so; registering each name makes it
  // answer NOT_SERVING rather than NOT_FOUND meanwhile.
  for (grpc::Server* s :
       {server->server_.get(), server->health_server_.get()}) {
    grpc::HealthCheckServiceInterface* health =
        s == nullptr ? nullptr : s->GetHealthCheckService();
    if (health == nullptr) continue;
    health->SetServingStatus(false);
    for (const std::string& name : server->service_names_) {
      health->SetServingStatus(name, false);
    }
  }

  if (!options.metrics_address.empty()) {
    absl::StatusOr<HostPort> hp = ParseHostPort(options.metrics_address);
    if (!hp.ok()) return hp.status();
    absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(
        hp->host, hp->port, [registry](const HttpRequest& request) {
          HttpResponse response;
          if (request.path == "/metrics") {
            response.status = 200;
            response.content_type = PrometheusContentType();
            response.body = registry->Render();
          } else {
            response.status = 404;
            response.content_type = "text/plain; charset=utf-8";
            response.body = "not found; try /metrics\n";
          }
          return response;
        });
    if (!http.ok()) {
      return absl::UnavailableError(absl::StrCat("metrics endpoint on ",
                                                 options.metrics_address, ": ",
                                                 http.status().message()));
    }
    server->metrics_http_ = std::move(*http);
  }

  if (!options.port_file.empty()) {
    absl::Status written = base::WriteFileAtomically(
        options.port_file,
        absl::StrCat("grpc_port=", server->port_,
                     "\nmetrics_port=", server->metrics_port(),
                     "\nhealth_port=", server->health_port_, "\n",
                     absl::StrJoin(options.extra_ports, "",
                                   [](std::string* out, const auto& p) {
                                     absl::StrAppend(out, p.first, "=",
                                                     p.second, "\n");
                                   }),
                     "pid=", getpid(), "\n"));
    if (!written.ok()) return written;
  }

  log::Info("listening", {{"grpc_address", options.listen_address},
                          {"tls", !options.tls_cert_file.empty()},
                          {"mutual_tls", !options.tls_client_ca_file.empty()},
                          {"tokens", !options.token_file.empty()},
                          {"grpc_port", server->port_},
                          {"metrics_port", server->metrics_port()}});
  return server;
}

GrpcServer::~GrpcServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return server_->InProcessChannel(args);
}

int GrpcServer::metrics_port() const {
  return metrics_http_ == nullptr ? 0 : metrics_http_->port();
}

void GrpcServer::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_ || server_ == nullptr) return;
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    grpc::HealthCheckServiceInterface* health =
        s == nullptr ? nullptr : s->GetHealthCheckService();
    // "" and every registered name.
    if (health != nullptr) health->SetServingStatus(serving);
  }
  log::Info(serving ? "SERVING" : "NOT_SERVING");
}

void GrpcServer::SetHealth(const std::string& name, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_ || server_ == nullptr) return;
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    grpc::HealthCheckServiceInterface* health =
        s == nullptr ? nullptr : s->GetHealthCheckService();
    if (health != nullptr) health->SetServingStatus(name, serving);
  }
  log::Info(serving ? "SERVING" : "NOT_SERVING", {{"health_name", name}});
}

void GrpcServer::AddShutdownHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hooks_.push_back(std::move(hook));
}

void GrpcServer::Shutdown() {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;

  std::vector<std::function<void()>> hooks;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    hooks.swap(hooks_);
  }
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    grpc::HealthCheckServiceInterface* health =
        s == nullptr ? nullptr : s->GetHealthCheckService();
    if (health != nullptr) health->SetServingStatus(false);
  }
  log::Info("draining", {{"drain_delay_ms",
                          absl::ToInt64Milliseconds(options_.drain_delay)}});
  if (options_.drain_delay > absl::ZeroDuration()) {
    absl::SleepFor(options_.drain_delay);
  }
  for (auto& hook : hooks) hook();
  // Let in-flight calls finish within the grace period, then shut down with
  // an immediate deadline: that cancels what is left and closes idle client
  // connections at once.
  const absl::Time deadline = absl::Now() + options_.shutdown_grace;
  while (in_flight_.load() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  int64_t cancelled = in_flight_.load();
  server_->Shutdown(absl::ToChronoTime(absl::Now()));
  server_->Wait();
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
  if (cancelled > 0) {
    log::Warning("cancelled calls still running after the grace period",
                 {{"calls", cancelled}});
  }
  if (metrics_http_ != nullptr) metrics_http_->Stop();
  log::Info("stopped");
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

int ServeUntilShutdownSignal(GrpcServer& server) {
  int sig = WaitForShutdownSignal();
  log::Info("shutdown signal",
            {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.Shutdown();
  return 0;
}

int ExitWithError(const absl::Status& status) {
  log::Error("cannot start", {{"code", absl::StatusCodeToString(status.code())},
                              {"error", std::string(status.message())}});
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace georisk::common
