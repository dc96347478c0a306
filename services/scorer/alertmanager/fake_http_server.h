// File: services/scorer/alertmanager/fake_http_server.h
//
// A tiny HTTP server for tests of HTTP clients, a thin wrapper over
// cpp-httplib's httplib::Server: it accepts any method, records every
// request, and answers with what the handler returns.
//
//   auto server = FakeHttpServer::Start([](const FakeHttpRequest& r) {
//     return FakeHttpServer::Response(200, "{}");
//   });
//   ASSERT_TRUE(server.ok()) << server.status();
//   client.Post((*server)->Url("/api/v2/alerts"), ...);
//   ASSERT_TRUE((*server)->WaitForRequests(1, absl::Seconds(10)));
//   EXPECT_EQ((*server)->requests()[0].body, ...);
//
// Binds 127.0.0.1 on a free port; httplib's worker threads. Test-only.
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

namespace httplib {
class Server;
}  // namespace httplib

namespace georisk::scorer {

struct FakeHttpRequest {
  std::string method;
  // The request target, e.g. "/api/v2/alerts?x=1".
  std::string target;
  // The request line and headers, one "Name: value\r\n" per header after the
  // request line (httplib's parse, re-serialized).
  std::string head;
  std::string body;
};

struct FakeHttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// Returns the answer. Called on a server thread; it may block (to simulate a
// hanging peer) but must return before the server is stopped.
using FakeHttpHandler =
    std::function<FakeHttpResponse(const FakeHttpRequest &)>;

// Thread-safe.
class FakeHttpServer {
 public:
  // Listens on 127.0.0.1, port 0. Unavailable if it cannot bind.
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> Start(
      FakeHttpHandler handler);

  ~FakeHttpServer();  // Stop().
  FakeHttpServer(const FakeHttpServer &) = delete;
  FakeHttpServer &operator=(const FakeHttpServer &) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" followed by `path`.
  std::string Url(absl::string_view path = "") const;

  // Every complete request received so far, in arrival order. A request is
  // recorded before the handler is called.
  std::vector<FakeHttpRequest> requests() const;
  // Waits until at least `n` requests were recorded; false on timeout.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;

  // Stops accepting, closes open connections and joins every thread.
  // Handlers that block must have been released first. Idempotent.
  void Stop();

  static FakeHttpResponse Response(
      int status, absl::string_view body,
      absl::string_view content_type = "application/json");

 private:
  FakeHttpServer(std::unique_ptr<httplib::Server> server, int port);
  void Record(FakeHttpRequest request);

  const std::unique_ptr<httplib::Server> server_;
  const int port_;

  mutable absl::Mutex mu_;
  std::vector<FakeHttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread listen_thread_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_FAKE_HTTP_SERVER_H_
