// File: services/ingest/testing/source_http_server.h
//
// A loopback HTTP server (cpp-httplib, 127.0.0.1, a port of its own) that
// plays a scheduled source's publisher in tests: GET <any path> answers
// what the test last set.
//
//   SourceHttpServer server;            // started
//   server.Serve(body, "\"v1\"");       // 200 with ETag "v1"; 304 to
//                                       // If-None-Match: "v1"
//   server.Fail(500);                   // every GET answers 500
//   server.Truncate(body, 100);         // Content-Length of body, then
//                                       // 100 bytes and the connection closes
//   fetch server.Url("/list.csv") ...
//
// Thread-safe; the handler runs on httplib's threads.
#ifndef GEORISK_SERVICES_INGEST_TESTING_SOURCE_HTTP_SERVER_H_
#define GEORISK_SERVICES_INGEST_TESTING_SOURCE_HTTP_SERVER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace httplib {
class Server;
}

namespace georisk::ingest::testing {

class SourceHttpServer {
 public:
  SourceHttpServer();
  ~SourceHttpServer();

  // 200 with `body`, and ETag `etag` unless empty (then a request's
  // If-None-Match is ignored). Last-Modified when `last_modified` is set
  // (304 to an equal If-Modified-Since).
  void Serve(std::string body, std::string etag,
             std::string last_modified = "");
  // GET `path` answers 200 with `body` (no validators), whatever the
  // current response is; Fail() applies to it too.
  void ServePath(const std::string& path, std::string body);
  // GET `path` answers `status` (500...) with an empty body.
  void FailPath(const std::string& path, int status);
  // Answers `status` with an empty body.
  void Fail(int status);
  // Announces body.size() bytes and sends only the first `bytes`.
  void Truncate(std::string body, size_t bytes);
  // Waits `delay` before answering (the current response).
  void Delay(absl::Duration delay);

  std::string Url(const std::string& path) const;
  int port() const { return port_; }
  // Requests answered, and the last one's headers.
  int requests() const;
  std::string last_header(const std::string& name) const;

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  mutable absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 404;
  std::string body_ ABSL_GUARDED_BY(mu_);
  std::string etag_ ABSL_GUARDED_BY(mu_);
  std::string last_modified_ ABSL_GUARDED_BY(mu_);
  size_t truncate_at_ ABSL_GUARDED_BY(mu_) = std::string::npos;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  // Path -> status and body.
  std::map<std::string, std::pair<int, std::string>> paths_
      ABSL_GUARDED_BY(mu_);
  std::string if_none_match_ ABSL_GUARDED_BY(mu_);
  std::string if_modified_since_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::ingest::testing

#endif  // GEORISK_SERVICES_INGEST_TESTING_SOURCE_HTTP_SERVER_H_
