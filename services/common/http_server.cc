// File: services/common/http_server.cc
//
// HttpServer over httplib::Server; see http_server.h.

#include "services/common/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace georisk::common {
namespace {

constexpr char kAllowedMethods[] = "GET, HEAD";

bool IsValidHandlerResponse(const HttpResponse &response) {
  return response.status >= 200 && response.status <= 599 &&
         response.status != 204 && response.status != 304 &&
         response.content_type.find_first_of("\r\n") == std::string::npos;
}

std::chrono::microseconds ToChrono(absl::Duration d) {
  return std::chrono::microseconds(absl::ToInt64Microseconds(d));
}

// Translates one httplib request for `handler` and its answer back.
void Serve(const HttpHandler &handler, const httplib::Request &in,
           httplib::Response &out) {
  HttpRequest request;
  request.method = in.method;
  absl::string_view target = in.target;
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != absl::string_view::npos) {
    request.query = std::string(target.substr(question + 1));
  }
  HttpResponse response = handler(request);
  if (!IsValidHandlerResponse(response)) {
    response.status = 500;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "internal error: invalid handler response\n";
  }
  out.status = response.status;
  out.set_content(std::move(response.body), response.content_type.c_str());
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string &host, int port, HttpHandler handler,
    const HttpServerOptions &options) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", port, " is outside 0..65535"));
  }
  if (handler == nullptr) {
    return absl::InvalidArgumentError("handler must not be empty");
  }
  if (options.read_timeout <= absl::ZeroDuration() ||
      options.write_timeout <= absl::ZeroDuration() ||
      options.keep_alive_timeout <= absl::ZeroDuration() ||
      options.num_workers < 1) {
    return absl::InvalidArgumentError("invalid HttpServerOptions");
  }
  absl::string_view numeric = host;
  if (absl::ConsumePrefix(&numeric, "[")) {
    if (!absl::ConsumeSuffix(&numeric, "]")) numeric = host;  // Fails below.
  }
  const std::string host_only(numeric);
  in6_addr scratch;
  if (inet_pton(AF_INET, host_only.c_str(), &scratch) != 1 &&
      inet_pton(AF_INET6, host_only.c_str(), &scratch) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("host \"", host, "\" is not a numeric IP address"));
  }

  auto server = std::make_unique<httplib::Server>();
  const int workers = options.num_workers;
  server->new_task_queue = [workers] {
    return new httplib::ThreadPool(workers);
  };
  server->set_read_timeout(ToChrono(options.read_timeout));
  server->set_write_timeout(ToChrono(options.write_timeout));
  server->set_keep_alive_timeout(
      std::max<time_t>(1, absl::ToInt64Seconds(options.keep_alive_timeout)));
  // Without TCP_NODELAY, httplib's separate writes of head and body meet
  // the peer's delayed ACK: a keep-alive scrape then takes ~40 ms.
  server->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // server bind a port in use; SO_REUSEADDR alone only skips TIME_WAIT.
  server->set_socket_options([](socket_t sock) {
    const int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  server->set_pre_routing_handler([](const httplib::Request &request,
                                     httplib::Response &response) {
    if (request.method == "GET" || request.method == "HEAD") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.status = 405;
    response.set_header("Allow", kAllowedMethods);
    response.set_content("method not allowed\n", "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
  // httplib answers HEAD from the GET route, without the body.
  server->Get(".*",
              [handler = std::move(handler)](const httplib::Request &request,
                                             httplib::Response &response) {
                Serve(handler, request, response);
              });

  errno = 0;
  int bound = port;
  if (port == 0) {
    bound = server->bind_to_any_port(host_only);
  } else if (!server->bind_to_port(host_only, port)) {
    bound = -1;
  }
  if (bound < 0) {
    const int error = errno;
    const std::string what = absl::StrCat("bind ", host, ":", port);
    if (error == 0) return absl::UnavailableError(what);
    return absl::ErrnoToStatus(error, what);
  }

  std::unique_ptr<HttpServer> out(new HttpServer(std::move(server), bound));
  auto returned = std::make_shared<std::atomic<bool>>(false);
  out->listen_thread_ = std::thread([raw = out->server_.get(), returned] {
    raw->listen_after_bind();
    *returned = true;
  });
  // httplib's stop() does nothing until its accept loop runs; wait for it so
  // that an early Stop() cannot be lost. The socket already listens, so
  // clients that connect meanwhile are only queued.
  while (!out->server_->is_running() && !*returned) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  return out;
}

HttpServer::HttpServer(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  std::call_once(stop_once_, [this] {
    server_->stop();
    if (listen_thread_.joinable()) listen_thread_.join();
  });
}

}  // namespace georisk::common
