// File: services/scorer/console/console_server.h
//
// ConsoleServer: the scorer's web console on its own HTTP(S) port
// (docs/console.md): the pages and their scripts (assets.h, compiled in) and
// the JSON API (json_api.h) over the scorer's own gRPC server, in process.
//
//   GET  /, /index.html, /entity.html, /app.js, ...   the pages
//   POST /api/v1/scorer/<Method>, /api/v1/alerts/<Method>   the JSON API
//   POST /api/v1/console/ParseScenario   a scenario file's text (YAML or
//        JSON) as the georisk.v1.Scenario JSON RunScenario takes
//   GET  /api/v1/alerts/WatchAlerts?fromSequence=N   the alert log as
//        server-sent events ("id: <sequence>", "event: alert", "data:
//        <Alert as JSON>"), resuming after the Last-Event-ID header when
//        given; ": heartbeat" comments while idle
//
// Every answer carries a strict Content-Security-Policy
// (kContentSecurityPolicy), nosniff, no-referrer and, for the API,
// Cache-Control: no-store. With a token file, every API call needs
// "Authorization: Bearer <token>" whose role may call the method (auth.h:
// the reader role for the Scorer and Alerts reads): 401 without or with an
// unknown token, 403 for a role that may not. The pages themselves hold no
// data (only markup and code, the same for everyone) and are served without
// a token so that their login form can ask for one; it is kept in the
// tab's sessionStorage and sent with each API call.
//
//   ConsoleOptions options;
//   options.listen_address = "127.0.0.1:8466";
//   auto console = ConsoleServer::Start(options);
//   ... start the gRPC server ...
//   (*console)->SetChannel(grpc_server->InProcessChannel());
//
// Until SetChannel(), the API answers 503 UNAVAILABLE. Thread-safe.
#ifndef GEORISK_SERVICES_SCORER_CONSOLE_CONSOLE_SERVER_H_
#define GEORISK_SERVICES_SCORER_CONSOLE_CONSOLE_SERVER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/common/auth.h"
#include "services/common/http_server.h"
#include "services/scorer/console/json_api.h"

namespace georisk::scorer::console {

// POST the text of a scenario file (YAML or JSON, as `georiskctl scenario`
// reads it; ?name=F.yaml names it in errors and marks it YAML): answers the
// georisk.v1.Scenario as JSON for RunScenario, or 400 INVALID_ARGUMENT with
// the parser's message (its line and column). The same parser as the CLI
// (services/common/scenario_file.h); the same role as RunScenario.
inline constexpr char kParseScenarioPath[] = "/api/v1/console/ParseScenario";

inline constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'";

struct ConsoleOptions {
  // "host:port"; port 0 picks a free port (port()).
  std::string listen_address = "127.0.0.1:0";
  // TLS (PEM files), both or neither: serve HTTPS.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Bearer tokens with roles (auth.h); empty: no auth. Like the gRPC
  // server, tokens without TLS are allowed on a loopback address only.
  std::string token_file;
  // Largest API request body; above it 413. Default 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // Deadline of each API call to the scorer. Default 30 s.
  absl::Duration call_deadline = absl::Seconds(30);
  // HTTP worker threads. Default 16.
  int num_workers = 16;
  // Alert streams at once (each holds a worker); beyond, 503. Default 8.
  int max_streams = 8;
};

class ConsoleServer {
 public:
  // Binds and serves. Errors: INVALID_ARGUMENT naming the option
  // (listen_address, tls_*, token_file: unreadable, or without TLS on a
  // non-loopback address), the bind's error otherwise.
  static absl::StatusOr<std::unique_ptr<ConsoleServer>> Start(
      const ConsoleOptions& options);

  ~ConsoleServer();  // Stop().
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // The channel API calls go through: the scorer's in-process channel.
  void SetChannel(std::shared_ptr<grpc::Channel> channel);

  int port() const { return http_->port(); }
  // "http://127.0.0.1:8466/" (https with TLS; the listen host, or
  // 127.0.0.1 for a wildcard one).
  std::string url() const;

  // Stops serving; running requests finish. Idempotent.
  void Stop();

 private:
  ConsoleServer(ConsoleOptions options, std::optional<common::TokenStore> t);
  common::HttpResponse Handle(const common::HttpRequest& request) const;
  common::HttpResponse HandleApi(const common::HttpRequest& request) const;
  common::HttpResponse HandleParseScenario(
      const common::HttpRequest& request) const;
  common::HttpResponse HandleAlertStream(
      const common::HttpRequest& request, const std::string& authorization,
      std::shared_ptr<grpc::Channel> channel) const;
  // The stream's body: WatchAlerts over `channel`, until the client or
  // Stop() ends it.
  void StreamAlerts(const common::HttpStreamWriter& write,
                    std::shared_ptr<grpc::Channel> channel,
                    const std::string& authorization, int64_t from) const;

  const ConsoleOptions options_;
  const std::optional<common::TokenStore> tokens_;
  const JsonApi api_;
  std::string host_;
  mutable absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The running alert streams' calls, cancelled by Stop().
  mutable std::set<grpc::ClientContext*> streams_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<common::HttpServer> http_;
};

}  // namespace georisk::scorer::console

#endif  // GEORISK_SERVICES_SCORER_CONSOLE_CONSOLE_SERVER_H_
