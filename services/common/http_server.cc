// File: services/common/http_server.cc
//
// HttpServer over httplib::Server; see http_server.h.

#include "services/common/http_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace georisk::common {
namespace {

bool HasLineBreak(absl::string_view text) {
  return text.find_first_of("\r\n") != absl::string_view::npos;
}

bool IsValidHandlerResponse(const HttpResponse &response) {
  if (response.status < 200 || response.status > 599 ||
      response.status == 204 || response.status == 304 ||
      HasLineBreak(response.content_type)) {
    return false;
  }
  for (const auto &[name, value] : response.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        absl::EqualsIgnoreCase(name, "Content-Type") ||
        absl::EqualsIgnoreCase(name, "Content-Length")) {
      return false;
    }
  }
  return true;
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
  for (const auto &[name, value] : in.headers) {
    request.headers[absl::AsciiStrToLower(name)] = value;
  }
  if (request.method == "POST") request.body = in.body;
  HttpResponse response = handler(request);
  if (!IsValidHandlerResponse(response)) {
    response.status = 500;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "internal error: invalid handler response\n";
    response.headers.clear();
  }
  out.status = response.status;
  for (const auto &[name, value] : response.headers) {
    out.set_header(name.c_str(), value);
  }
  if (response.stream != nullptr && in.method != "HEAD") {
    out.set_chunked_content_provider(
        response.content_type,
        [stream = std::move(response.stream)](size_t, httplib::DataSink &sink) {
          stream([&sink](absl::string_view chunk) {
            return sink.is_writable() && sink.write(chunk.data(), chunk.size());
          });
          sink.done();
          return true;
        });
    return;
  }
  out.set_content(std::move(response.body), response.content_type.c_str());
}

// A connection's peer as httplib names it (Request::remote_addr, numeric,
// and remote_port).
std::pair<std::string, int> PeerOf(const sockaddr_storage &peer,
                                   socklen_t size) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr *>(&peer), size, host,
                  sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) {
    host[0] = '\0';
  }
  int port = -1;
  if (peer.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in *>(&peer)->sin_port);
  } else if (peer.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_port);
  }
  return {host, port};
}

}  // namespace

std::string HttpRequest::Header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

// The peers whose request is being handled or answered: from httplib's
// pre-routing handler (the request is read) to its logger (the response is
// written).
struct HttpServer::Busy {
  absl::Mutex mu;
  std::multiset<std::pair<std::string, int>> peers ABSL_GUARDED_BY(mu);

  void Add(const httplib::Request &request) {
    absl::MutexLock lock(&mu);
    peers.emplace(request.remote_addr, request.remote_port);
  }
  void Remove(const httplib::Request &request) {
    absl::MutexLock lock(&mu);
    auto it = peers.find({request.remote_addr, request.remote_port});
    if (it != peers.end()) peers.erase(it);
  }
  bool Contains(const std::pair<std::string, int> &peer) {
    absl::MutexLock lock(&mu);
    return peers.count(peer) > 0;
  }
};

namespace {

// Ends the wait of every worker on an idle keep-alive connection accepted on
// `port`: shuts down the read side of each connected TCP socket of this
// process whose local port is `port` (after stop(), the listening socket is
// closed, so these are the connections it accepted), except those whose
// request is being handled or answered (`busy`).
//
// Why: httplib 0.11 (Debian's) notices stop() only between two requests. A
// worker waiting for the next request of an idle keep-alive connection
// polls that socket alone until keep_alive_timeout, and stop() joins the
// workers: Stop() took the whole timeout (30 s in the test), and httplib has
// no call to close its connections. With the read side shut, the wait sees
// end of file at once and the connection is closed. A busy connection is
// left alone (httplib checks that a socket is alive before it writes, and a
// shut read side reads as a closed peer): once its response is written,
// httplib sees the server stopped and closes it.
void ShutDownIdleConnections(int port, HttpServer::Busy &busy) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent *entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local;
    socklen_t size = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &size) != 0 ||
        PeerOf(local, size).second != port) {
      continue;
    }
    sockaddr_storage peer;
    size = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &size) != 0) {
      continue;  // Not connected.
    }
    if (busy.Contains(PeerOf(peer, size))) continue;
    shutdown(fd, SHUT_RD);
  }
  closedir(dir);
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
      options.num_workers < 1 ||
      options.tls_cert_file.empty() != options.tls_key_file.empty()) {
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

  std::unique_ptr<httplib::Server> server;
  if (options.tls_cert_file.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS certificate \"", options.tls_cert_file, "\" or key \"",
          options.tls_key_file, "\" cannot be loaded"));
    }
    server = std::move(tls);
  }
  server->set_payload_max_length(options.max_body_bytes);
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
  auto busy = std::make_shared<Busy>();
  server->set_logger(
      [busy](const httplib::Request &request, const httplib::Response &) {
        busy->Remove(request);  // The response is written.
      });
  const bool allow_post = options.allow_post;
  server->set_pre_routing_handler([busy, allow_post](
                                      const httplib::Request &request,
                                      httplib::Response &response) {
    busy->Add(request);
    if (request.method == "GET" || request.method == "HEAD" ||
        (allow_post && request.method == "POST")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.status = 405;
    response.set_header("Allow", allow_post ? "GET, HEAD, POST" : "GET, HEAD");
    response.set_content("method not allowed\n", "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
  // httplib answers HEAD from the GET route, without the body.
  auto route = [handler = std::move(handler)](const httplib::Request &request,
                                              httplib::Response &response) {
    Serve(handler, request, response);
  };
  server->Get(".*", route);
  if (allow_post) server->Post(".*", route);

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

  std::unique_ptr<HttpServer> out(
      new HttpServer(std::move(server), bound, std::move(busy)));
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

HttpServer::HttpServer(std::unique_ptr<httplib::Server> server, int port,
                       std::shared_ptr<Busy> busy)
    : server_(std::move(server)), port_(port), busy_(std::move(busy)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  std::call_once(stop_once_, [this] {
    server_->stop();
    ShutDownIdleConnections(port_, *busy_);
    if (listen_thread_.joinable()) listen_thread_.join();
  });
}

}  // namespace georisk::common
