// File: services/common/http_server.h
//
// A minimal HTTP/1.1 server for operator endpoints such as `/metrics`: GET and
// HEAD only, one request per connection, small responses built in memory. It
// is robust rather than fast: slow, silent or oversized clients are cut off,
// and Stop() never hangs.
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
// Protocol: each connection carries one request and gets one response with
// `Connection: close` and a Content-Length; request bodies are not read. A
// request head (request line and headers) larger than
// HttpServerOptions::max_head_bytes gets 431, a malformed one 400, a method
// other than GET or HEAD 405 with `Allow: GET, HEAD`, and a client that does
// not send its whole head within HttpServerOptions::read_timeout gets 408.
// The handler sees only well-formed GET and HEAD requests; for HEAD the body
// it returns is measured for Content-Length but not sent.

#ifndef GEORISK_SERVICES_COMMON_HTTP_SERVER_H_
#define GEORISK_SERVICES_COMMON_HTTP_SERVER_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace georisk::common {

struct HttpRequest {
  // "GET" or "HEAD".
  std::string method;
  // The request target up to `?`, as sent (not percent-decoded), e.g.
  // "/metrics". Always starts with '/'.
  std::string path;
  // The request target after `?`, without it; empty if there is none.
  std::string query;
};

struct HttpResponse {
  // Status code, 200..599 except 204 and 304 (which cannot carry the
  // Content-Length this server always sends); others are answered with 500.
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on a server thread for every GET or HEAD request. May be called
// concurrently from several threads, so it must be thread-safe.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // Time a client has, from when a worker takes its connection, to send the
  // whole request head. Bounds how long a slow or silent client holds a
  // worker. Default: 2 s.
  absl::Duration read_timeout = absl::Seconds(2);
  // Time a client has to take the response. Default: 5 s.
  absl::Duration write_timeout = absl::Seconds(5);
  // Largest accepted request head, request line and headers included; larger
  // ones get 431. Default: 8 KiB.
  size_t max_head_bytes = 8 * 1024;
  // Threads serving connections, so that a few silent clients do not delay
  // a scrape. Default: 4.
  int num_workers = 4;
  // Accepted connections waiting for a worker; connections beyond this are
  // closed at once. Default: 64.
  int max_queued_connections = 64;
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
  // outside 0..65535, an empty handler or invalid options. Otherwise returns
  // the failing socket call's errno as absl::ErrnoToStatus() maps it:
  // FailedPrecondition for a port in use (EADDRINUSE), PermissionDenied for
  // a privileged port (EACCES).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& host, int port, HttpHandler handler,
      const HttpServerOptions& options = HttpServerOptions());

  // Stops the server; see Stop().
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port the server is bound to, also after Stop().
  int port() const { return port_; }

  // Stops accepting, closes idle and in-progress connections (handlers that
  // are running finish first) and joins every thread. Returns within about
  // the longest handler call. Idempotent; concurrent calls all wait.
  void Stop();

 private:
  HttpServer(int listen_fd, int port, int wake_read_fd, int wake_write_fd,
             HttpHandler handler, const HttpServerOptions& options);

  enum class Wait { kReady, kTimedOut, kStopping };

  void AcceptLoop();
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !queue_.empty();
  }
  // Serves the one request of connection `fd`; does not close `fd`.
  void Serve(int fd);

  // Waits until `fd` is ready for `events` (POLLIN or POLLOUT), `deadline`
  // passes or Stop() begins. A `fd` of -1 waits only for the latter two.
  Wait WaitFor(int fd, short events, absl::Time deadline) const;
  // Reads the request head into `*head`. Returns 0 once it is read, the
  // status to answer with (408, 431) if it cannot be, and -1 if the
  // connection should just be closed (client gone, Stop()).
  int ReadHead(int fd, std::string* head) const;
  // Sends all of `data`; returns false on error, timeout or Stop().
  bool WriteAll(int fd, const std::string& data) const;
  // After the response: half-closes and drains what the client still sends,
  // so that closing does not reset the connection under the response.
  void Linger(int fd) const;

  const int listen_fd_;
  const int port_;
  // Self-pipe: Stop() writes a byte, and every poll() also waits on the read
  // end, which then stays readable.
  const int wake_read_fd_;
  const int wake_write_fd_;
  const HttpHandler handler_;
  const HttpServerOptions options_;

  absl::Mutex mu_;
  std::deque<int> queue_ ABSL_GUARDED_BY(mu_);  // Accepted, not yet served.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::once_flag stop_once_;
  std::thread accept_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_HTTP_SERVER_H_
