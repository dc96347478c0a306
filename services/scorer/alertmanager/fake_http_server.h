// File: services/scorer/alertmanager/fake_http_server.h
//
// A tiny HTTP server for tests of HTTP clients: it accepts any method, reads
// the request head and a Content-Length body, records the request, and
// writes back whatever raw bytes the handler returns (so a test can answer
// with chunked, truncated or malformed responses), then closes.
//
//   auto server = FakeHttpServer::Start([](const FakeHttpRequest& r) {
//     return FakeHttpServer::Response(200, "{}");
//   });
//   ASSERT_TRUE(server.ok()) << server.status();
//   client.Post((*server)->Url("/api/v2/alerts"), ...);
//   ASSERT_TRUE((*server)->WaitForRequests(1, absl::Seconds(10)));
//   EXPECT_EQ((*server)->requests()[0].body, ...);
//
// Binds 127.0.0.1 on a free port; one thread per connection. Test-only.
#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_FAKE_HTTP_SERVER_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_FAKE_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace georisk::scorer {

struct FakeHttpRequest {
  std::string method;
  // The request target, e.g. "/api/v2/alerts?x=1".
  std::string target;
  // The request line and headers, as received.
  std::string head;
  std::string body;
};

// Returns the raw bytes to send back; an empty string closes the connection
// without an answer. Called on the connection's thread; it may block (to
// simulate a hanging peer) but must return before the server is stopped.
using FakeHttpHandler = std::function<std::string(const FakeHttpRequest&)>;

// Thread-safe.
class FakeHttpServer {
 public:
  // Listens on 127.0.0.1, port 0. Errors from socket(), bind(), listen().
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> Start(
      FakeHttpHandler handler);

  ~FakeHttpServer();  // Stop().
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" followed by `path`.
  std::string Url(absl::string_view path = "") const;

  // Every complete request received so far, in arrival order. A request is
  // recorded before the handler is called.
  std::vector<FakeHttpRequest> requests() const;
  // Waits until at least `n` requests were recorded; false on timeout.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;

  // Stops accepting, shuts down open connections and joins every thread.
  // Handlers that block must have been released first. Idempotent.
  void Stop();

  // A complete response with a Content-Length and `Connection: close`.
  static std::string Response(
      int status, absl::string_view body,
      absl::string_view content_type = "application/json");

 private:
  FakeHttpServer(int listen_fd, int port, FakeHttpHandler handler);
  void AcceptLoop();
  void Serve(int fd);

  const int listen_fd_;
  const int port_;
  const FakeHttpHandler handler_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<FakeHttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_FAKE_HTTP_SERVER_H_
