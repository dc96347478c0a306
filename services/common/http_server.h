// File: services/common/http_server.h
//
// A small HTTP/1.1 server for operator endpoints such as `/metrics` and for
// the scorer's console: GET and HEAD, and POST with a bounded body when
// HttpServerOptions::allow_post says so; small responses built in memory;
// plaintext or TLS. It wraps cpp-httplib's
// httplib::Server (Debian's libcpp-httplib), which does the parsing, the
// keep-alive, the timeouts and the worker pool; this class keeps the narrow
// interface the services use and hides httplib from their headers.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<georisk::common::HttpServer>> server =
//       georisk::common::HttpServer::Start(
//           "0.0.0.0", 9090,
//           [&registry](const georisk::common::HttpRequest& request) {
//             georisk::common::HttpResponse response;
//             if (request.path != "/metrics") {
//               response.status = 404;
//               response.body = "not found\n";
//               return response;
//             }
//             response.content_type = georisk::PrometheusContentType();
//             response.body = registry.Render();
//             return response;
//           });
//   if (!server.ok()) return server.status();
//   ...
//   (*server)->Stop();  // Or let the destructor do it.
//
// Protocol (httplib's): HTTP/1.0 and 1.1, keep-alive, a Content-Length on
// every response. A method other than GET or HEAD (or POST, when allowed)
// gets 405 with `Allow: GET, HEAD[, POST]`; a malformed request 400; a
// request head over httplib's limit (8 KiB) 400 or 414; a POST body over
// HttpServerOptions::max_body_bytes 413 (the handler is not called); a client
// that sends nothing within HttpServerOptions::read_timeout is disconnected.
// The handler sees only the allowed methods; for HEAD the body it returns is
// measured for Content-Length but not sent. GET and HEAD bodies are not
// passed on.

#ifndef GEORISK_SERVICES_COMMON_HTTP_SERVER_H_
#define GEORISK_SERVICES_COMMON_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace georisk::common {

struct HttpRequest {
  // "GET", "HEAD" or (when allowed) "POST".
  std::string method;
  // The request target up to `?`, as sent (not percent-decoded), e.g.
  // "/metrics". Always starts with '/'.
  std::string path;
  // The request target after `?`, without it; empty if there is none.
  std::string query;
  // The request's headers, names lower-cased; a repeated header keeps its
  // last value.
  std::map<std::string, std::string> headers;
  // POST only: the body, at most HttpServerOptions::max_body_bytes.
  std::string body;

  // The value of header `name` (any case), or "" if it was not sent.
  std::string Header(absl::string_view name) const;
};

// Writes one piece of a streamed body; false once the client is gone (the
// stream should then return).
using HttpStreamWriter = std::function<bool(absl::string_view chunk)>;

struct HttpResponse {
  // Status code, 200..599 except 204 and 304 (which cannot carry a body);
  // others are answered with 500.
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers, e.g. {"Content-Security-Policy", "default-src 'self'"}.
  // Names and values must not contain CR or LF (else 500); Content-Type and
  // Content-Length are set from the fields above and may not be given here.
  std::vector<std::pair<std::string, std::string>> headers;
  // If set, the body is not `body` but what `stream` writes, sent as it
  // comes (chunked transfer encoding), e.g. server-sent events. Called once,
  // on the server thread, after the handler returned; the connection is
  // closed when it returns. It holds a worker while it runs, and Stop()
  // waits for it: it must return soon after a write fails and when its
  // owner shuts down. Not called for HEAD.
  std::function<void(const HttpStreamWriter &write)> stream;
};

// Called on a server thread for every request of an allowed method. May be
// called concurrently from several threads, so it must be thread-safe.
using HttpHandler = std::function<HttpResponse(const HttpRequest &)>;

struct HttpServerOptions {
  // Time a connection may stay silent while the server waits for (the rest
  // of) a request; a silent or slow client is then disconnected, freeing its
  // worker. Default: 2 s.
  absl::Duration read_timeout = absl::Seconds(2);
  // Time a client has to take each part of the response. Default: 5 s.
  absl::Duration write_timeout = absl::Seconds(5);
  // Time an idle keep-alive connection is kept open for its next request.
  // Default: 5 s.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Threads serving connections (httplib's thread pool), so that a few
  // silent clients do not delay a scrape. Each open connection holds one
  // while it lasts. Default: 4.
  int num_workers = 4;
  // Whether POST requests reach the handler (else 405). Default: no.
  bool allow_post = false;
  // Largest POST body accepted; a longer one is answered 413 without
  // calling the handler. Default: 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // TLS: the server's certificate chain and private key, PEM files. Both or
  // neither; neither serves plaintext HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Serves HTTP on one address until stopped. Thread-safe: port() and Stop() may
// be called from any thread, except that Stop() must not be called from the
// handler (it waits for handlers to return).
class HttpServer {
 public:
  // Binds `host`:`port` and starts serving `handler` on background threads.
  // `host` is a numeric IPv4 or IPv6 address ("127.0.0.1", "0.0.0.0", "::1",
  // "[::]"); `port` 0 picks a free port, reported by port().
  //
  // Returns InvalidArgument for a host that is not a numeric address, a port
  // outside 0..65535, an empty handler or invalid options (naming the TLS
  // file when the certificate or key cannot be loaded). If the address
  // cannot be bound, returns the bind's errno as absl::ErrnoToStatus() maps
  // it: FailedPrecondition for a port in use (EADDRINUSE), PermissionDenied
  // for a privileged port (EACCES); Unavailable if no errno was left.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string &host, int port, HttpHandler handler,
      const HttpServerOptions &options = HttpServerOptions());

  // Stops the server; see Stop().
  ~HttpServer();

  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  // The port the server is bound to, also after Stop().
  int port() const { return port_; }

  // Stops accepting, lets running handlers finish (their responses are
  // still sent), closes the connections, idle keep-alive ones included at
  // once, and joins every thread. Idempotent; concurrent calls all wait.
  void Stop();

  struct Busy;  // Connections whose request is in hand (http_server.cc).

 private:
  HttpServer(std::unique_ptr<httplib::Server> server, int port,
             std::shared_ptr<Busy> busy);

  const std::unique_ptr<httplib::Server> server_;
  const int port_;
  const std::shared_ptr<Busy> busy_;
  std::once_flag stop_once_;
  std::thread listen_thread_;  // Runs httplib's accept loop.
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_HTTP_SERVER_H_
