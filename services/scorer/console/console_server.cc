// File: services/scorer/console/console_server.cc
//
// ConsoleServer; see console_server.h.

#include "services/scorer/console/console_server.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/scenario_file.h"
#include "services/common/server_options.h"
#include "services/scorer/console/assets.h"

namespace georisk::scorer::console {
namespace {

using common::HttpRequest;
using common::HttpResponse;

constexpr char kJson[] = "application/json; charset=utf-8";

void AddSecurityHeaders(HttpResponse& response) {
  response.headers.push_back(
      {"Content-Security-Policy", kContentSecurityPolicy});
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  response.headers.push_back({"X-Frame-Options", "DENY"});
  response.headers.push_back({"Referrer-Policy", "no-referrer"});
}

HttpResponse JsonReply(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = kJson;
  response.body = std::move(body);
  response.headers.push_back({"Cache-Control", "no-store"});
  return response;
}

HttpResponse JsonError(grpc::StatusCode code, absl::string_view message) {
  return JsonReply(HttpStatusFromGrpc(code), ErrorJson(code, message));
}

HttpResponse Text(int status, absl::string_view body) {
  HttpResponse response;
  response.status = status;
  response.body = std::string(body);
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(
    const ConsoleOptions& options) {
  absl::StatusOr<common::HostPort> hp =
      common::ParseHostPort(options.listen_address);
  if (!hp.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen_address: ", hp.status().message()));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_cert_file, tls_key_file: give both or neither");
  }
  std::optional<common::TokenStore> tokens;
  if (!options.token_file.empty()) {
    if (options.tls_cert_file.empty() && !common::IsLoopbackHost(hp->host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "token_file: tokens without TLS are allowed on a loopback address "
          "only, not ",
          options.listen_address));
    }
    absl::StatusOr<common::TokenStore> loaded =
        common::TokenStore::Load(options.token_file);
    if (!loaded.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token_file: ", loaded.status().message()));
    }
    tokens = *std::move(loaded);
  }
  std::unique_ptr<ConsoleServer> server(
      new ConsoleServer(options, std::move(tokens)));
  server->host_ = hp->host;
  common::HttpServerOptions http;
  http.allow_post = true;
  http.max_body_bytes = options.max_body_bytes;
  http.tls_cert_file = options.tls_cert_file;
  http.tls_key_file = options.tls_key_file;
  http.num_workers = options.num_workers;
  absl::StatusOr<std::unique_ptr<common::HttpServer>> started =
      common::HttpServer::Start(
          hp->host, hp->port,
          [raw = server.get()](const HttpRequest& request) {
            HttpResponse response = raw->Handle(request);
            AddSecurityHeaders(response);
            return response;
          },
          http);
  if (!started.ok()) {
    return absl::Status(started.status().code(),
                        absl::StrCat("console on ", options.listen_address,
                                     ": ", started.status().message()));
  }
  server->http_ = *std::move(started);
  return server;
}

ConsoleServer::ConsoleServer(ConsoleOptions options,
                             std::optional<common::TokenStore> tokens)
    : options_(std::move(options)),
      tokens_(std::move(tokens)),
      api_({"georisk.v1.Scorer", "georisk.v1.Alerts"}) {}

ConsoleServer::~ConsoleServer() { Stop(); }

void ConsoleServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (grpc::ClientContext* context : streams_) context->TryCancel();
  }
  if (http_ != nullptr) http_->Stop();
}

void ConsoleServer::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  channel_ = std::move(channel);
}

std::string ConsoleServer::url() const {
  std::string host = host_;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (absl::StrContains(host, ':')) host = absl::StrCat("[", host, "]");
  return absl::StrCat(options_.tls_cert_file.empty() ? "http" : "https", "://",
                      host, ":", port(), "/");
}

HttpResponse ConsoleServer::Handle(const HttpRequest& request) const {
  if (absl::StartsWith(request.path, "/api/")) return HandleApi(request);
  if (request.method == "POST") {
    HttpResponse response = Text(405, "method not allowed\n");
    response.headers.push_back({"Allow", "GET, HEAD"});
    return response;
  }
  const Asset* asset =
      FindAsset(request.path == "/" ? "/index.html" : request.path);
  if (asset == nullptr) return Text(404, "not found; try /\n");
  HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->data);
  response.headers.push_back({"Cache-Control", "no-cache"});
  return response;
}

HttpResponse ConsoleServer::HandleApi(const HttpRequest& request) const {
  const bool alert_stream =
      request.path == "/api/v1/alerts/WatchAlerts" && request.method != "POST";
  if (request.method != "POST" && !alert_stream) {
    HttpResponse response =
        JsonError(grpc::StatusCode::UNIMPLEMENTED,
                  "the API takes POST with the request message as JSON");
    response.status = 405;
    response.headers.push_back({"Allow", "POST"});
    return response;
  }
  // Who is calling, before anything about the method is told.
  const common::TokenStore::Entry* caller = nullptr;
  const std::string authorization = request.Header("authorization");
  if (tokens_.has_value()) {
    absl::string_view token = authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ") &&
        !absl::ConsumePrefix(&token, "bearer ")) {
      token = "";
    }
    caller = token.empty() ? nullptr : tokens_->Find(token);
    if (caller == nullptr) {
      HttpResponse response = JsonError(
          grpc::StatusCode::UNAUTHENTICATED,
          token.empty() ? "missing bearer token (Authorization: Bearer ...)"
                        : "unknown bearer token");
      response.headers.push_back({"WWW-Authenticate", "Bearer"});
      return response;
    }
  }
  if (alert_stream) {
    if (caller != nullptr &&
        !common::RoleAllows(caller->role, "/georisk.v1.Alerts/WatchAlerts")) {
      return JsonError(grpc::StatusCode::PERMISSION_DENIED,
                       absl::StrCat("role ", common::RoleName(caller->role),
                                    " may not call "
                                    "/georisk.v1.Alerts/WatchAlerts"));
    }
    std::shared_ptr<grpc::Channel> channel;
    {
      absl::MutexLock lock(&mu_);
      channel = channel_;
    }
    return HandleAlertStream(request, authorization, std::move(channel));
  }
  if (request.path == kParseScenarioPath) {
    // Reads no data, but is the first half of RunScenario: the same role.
    if (caller != nullptr &&
        !common::RoleAllows(caller->role, "/georisk.v1.Scorer/RunScenario")) {
      return JsonError(grpc::StatusCode::PERMISSION_DENIED,
                       absl::StrCat("role ", common::RoleName(caller->role),
                                    " may not call "
                                    "/georisk.v1.Scorer/RunScenario"));
    }
    return HandleParseScenario(request);
  }
  // "/api/v1/<service>/<Method>"
  std::vector<absl::string_view> parts =
      absl::StrSplit(request.path, absl::MaxSplits('/', 4));
  const google::protobuf::MethodDescriptor* method = nullptr;
  if (parts.size() == 5 && parts[0].empty() && parts[1] == "api" &&
      parts[2] == "v1") {
    method = api_.Find(parts[3], parts[4]);
  }
  if (method == nullptr) {
    return JsonError(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat(
            "no unary method at ", request.path,
            "; try /api/v1/scorer/<Method> or /api/v1/alerts/<Method>"));
  }
  const std::string rpc =
      absl::StrCat("/", method->service()->full_name(), "/", method->name());
  if (caller != nullptr && !common::RoleAllows(caller->role, rpc)) {
    return JsonError(grpc::StatusCode::PERMISSION_DENIED,
                     absl::StrCat("role ", common::RoleName(caller->role),
                                  " may not call ", rpc));
  }
  std::shared_ptr<grpc::Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    channel = channel_;
  }
  if (channel == nullptr) {
    return JsonError(grpc::StatusCode::UNAVAILABLE,
                     "the scorer is starting; try again");
  }
  JsonApi::Reply reply = api_.Call(channel, method, request.body, authorization,
                                   options_.call_deadline);
  return JsonReply(reply.http_status, std::move(reply.body));
}

HttpResponse ConsoleServer::HandleParseScenario(
    const HttpRequest& request) const {
  std::string name = "scenario";
  for (absl::string_view pair : absl::StrSplit(request.query, '&')) {
    if (absl::ConsumePrefix(&pair, "name=") && !pair.empty()) {
      name = std::string(pair);
    }
  }
  absl::StatusOr<v1::Scenario> scenario =
      common::ParseScenario(request.body, name);
  if (!scenario.ok()) {
    return JsonError(grpc::StatusCode::INVALID_ARGUMENT,
                     scenario.status().message());
  }
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(*scenario, &json, print);
  return JsonReply(200, std::move(json));
}

HttpResponse ConsoleServer::HandleAlertStream(
    const HttpRequest& request, const std::string& authorization,
    std::shared_ptr<grpc::Channel> channel) const {
  int64_t from = 0;
  for (absl::string_view pair : absl::StrSplit(request.query, '&')) {
    if (absl::ConsumePrefix(&pair, "fromSequence=") &&
        (!absl::SimpleAtoi(pair, &from) || from < 0)) {
      return JsonError(grpc::StatusCode::INVALID_ARGUMENT,
                       "fromSequence: not a sequence number (0 or more)");
    }
  }
  // EventSource-style resumption: after the last event seen.
  const std::string last = request.Header("last-event-id");
  if (!last.empty()) {
    int64_t seen = 0;
    if (!absl::SimpleAtoi(last, &seen) || seen < 0) {
      return JsonError(grpc::StatusCode::INVALID_ARGUMENT,
                       "Last-Event-ID: not a sequence number");
    }
    from = seen + 1;
  }
  if (channel == nullptr) {
    return JsonError(grpc::StatusCode::UNAVAILABLE,
                     "the scorer is starting; try again");
  }
  {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(streams_.size()) >= options_.max_streams) {
      return JsonError(grpc::StatusCode::UNAVAILABLE,
                       absl::StrCat("too many alert streams (",
                                    options_.max_streams, "); retry later"));
    }
  }
  HttpResponse response;
  // Exactly "text/event-stream" (UTF-8 by definition): the one text type
  // httplib does not compress. With a parameter it would gzip or brotli the
  // stream for a browser, whose compressor holds the events back (the page
  // saw no new alert).
  response.content_type = "text/event-stream";
  response.headers.push_back({"Cache-Control", "no-store"});
  response.stream = [this, channel = std::move(channel), authorization,
                     from](const common::HttpStreamWriter& write) {
    StreamAlerts(write, channel, authorization, from);
  };
  return response;
}

void ConsoleServer::StreamAlerts(const common::HttpStreamWriter& write,
                                 std::shared_ptr<grpc::Channel> channel,
                                 const std::string& authorization,
                                 int64_t from) const {
  grpc::ClientContext context;
  if (!authorization.empty()) {
    context.AddMetadata("authorization", authorization);
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    streams_.insert(&context);
  }
  v1::WatchAlertsRequest watch;
  watch.set_from_sequence(from);
  std::unique_ptr<v1::Alerts::Stub> stub = v1::Alerts::NewStub(channel);
  std::unique_ptr<grpc::ClientReader<v1::WatchAlertsResponse>> reader =
      stub->WatchAlerts(&context, watch);
  bool open = write(": watching the alert log\n\n");
  v1::WatchAlertsResponse message;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  while (open && reader->Read(&message)) {
    std::string out;
    if (message.alerts_size() == 0) out = ": heartbeat\n\n";
    for (const v1::Alert& alert : message.alerts()) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(alert, &json, print);
      absl::StrAppend(&out, "id: ", alert.sequence(),
                      "\nevent: alert\ndata: ", json, "\n\n");
    }
    open = write(out);
  }
  if (!open) context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (open && !status.ok()) {
    // The page resumes from its last event (UNAVAILABLE: the scorer stops).
    write(absl::StrCat("event: error\ndata: ",
                       ErrorJson(status.error_code(), status.error_message()),
                       "\n\n"));
  }
  absl::MutexLock lock(&mu_);
  streams_.erase(&context);
}

}  // namespace georisk::scorer::console
