#include "services/common/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- A blocking test client
// --------------------------------------------------

// Connects to 127.0.0.1:`port`; every call on the socket gives up after 10 s
// so that a broken server fails the test instead of hanging it.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the server closes the connection.
std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) out.append(buffer, n);
  return out;
}

// Sends `request` on a new connection and returns the whole response.
std::string Exchange(int port, absl::string_view request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  SendAll(fd, request);
  std::string response = ReadAll(fd);
  close(fd);
  return response;
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// ---- Fixtures
// ------------------------------------------------------------------

// Answers 200 with the request echoed, or 404 for /missing.
HttpResponse Echo(const HttpRequest& request) {
  HttpResponse response;
  if (request.path == "/missing") {
    response.status = 404;
    response.body = "no such page\n";
    return response;
  }
  response.body =
      absl::StrCat(request.method, " ", request.path, " ", request.query, "\n");
  return response;
}

std::unique_ptr<HttpServer> MustStart(HttpHandler handler,
                                      const HttpServerOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("127.0.0.1", 0, std::move(handler), options);
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  return *std::move(server);
}

// ---- Tests
// -----------------------------------------------------------------------

TEST(HttpServerTest, ServesGet) {
  std::unique_ptr<HttpServer> server = MustStart([](const HttpRequest& r) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = absl::StrCat("metric_total 1\n# ", r.method, " ", r.path,
                                 " ", r.query, "\n");
    return response;
  });
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  const std::string body = "metric_total 1\n# GET /metrics a=1&b=%20\n";
  EXPECT_EQ(Exchange(server->port(),
                     "GET /metrics?a=1&b=%20 HTTP/1.1\r\n"
                     "Host: localhost\r\nAccept: */*\r\n\r\n"),
            absl::StrCat("HTTP/1.1 200 OK\r\n"
                         "Content-Type: text/plain; version=0.0.4; "
                         "charset=utf-8\r\n"
                         "Content-Length: ",
                         body.size(),
                         "\r\n"
                         "Connection: close\r\n"
                         "\r\n",
                         body));
}

TEST(HttpServerTest, HeadSendsContentLengthWithoutBody) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Exchange(server->port(), "HEAD /x HTTP/1.1\r\n\r\n"),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 9\r\n"  // "HEAD /x \n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(HttpServerTest, NotFoundFromHandler) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const std::string response =
      Exchange(server->port(), "GET /missing HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 404 Not Found");
  EXPECT_THAT(response, HasSubstr("\r\nContent-Length: 13\r\n"));
  EXPECT_EQ(Body(response), "no such page\n");
}

TEST(HttpServerTest, PostIsMethodNotAllowed) {
  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> server =
      MustStart([&calls](const HttpRequest& request) {
        ++calls;
        return Echo(request);
      });
  ASSERT_NE(server, nullptr);
  const std::string response =
      Exchange(server->port(),
               "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_THAT(response, HasSubstr("\r\nAllow: GET, HEAD\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\nConnection: close\r\n"));
  EXPECT_EQ(calls, 0);
}

TEST(HttpServerTest, UnreadRequestBodyDoesNotResetTheResponse) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const std::string body(256 * 1024, 'x');
  const std::string response = Exchange(
      server->port(), absl::StrCat("PUT /upload HTTP/1.1\r\nContent-Length: ",
                                   body.size(), "\r\n\r\n", body));
  EXPECT_EQ(StatusLine(response), "HTTP/1.1 405 Method Not Allowed");
}

TEST(HttpServerTest, OversizeHeadIs431) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const std::string response =
      Exchange(server->port(),
               absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(9000, 'a'),
                            "\r\n\r\n"));
  EXPECT_EQ(StatusLine(response),
            "HTTP/1.1 431 Request Header Fields Too Large");

  // Just under the limit is fine.
  const std::string request = "GET / HTTP/1.1\r\nX-Big: ";
  EXPECT_EQ(
      StatusLine(Exchange(
          server->port(),
          absl::StrCat(request, std::string(8192 - request.size() - 4, 'a'),
                       "\r\n\r\n"))),
      "HTTP/1.1 200 OK");
}

TEST(HttpServerTest, AnswersMalformedRequests) {
  const struct {
    const char* request;
    const char* status_line;
  } kCases[] = {
      {"BLAH\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET  / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET / HTTX/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"get / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
      {"DELETE / HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
      {"GET / HTTP/1.0\n\n", "HTTP/1.1 200 OK"},  // Bare LF is tolerated.
  };
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  for (const auto& c : kCases) {
    EXPECT_EQ(StatusLine(Exchange(server->port(), c.request)), c.status_line)
        << c.request;
  }
}

TEST(HttpServerTest, InvalidHandlerResponseIs500) {
  std::unique_ptr<HttpServer> server = MustStart([](const HttpRequest& r) {
    HttpResponse response;
    if (r.path == "/204") response.status = 204;
    if (r.path == "/1000") response.status = 1000;
    if (r.path == "/header") response.content_type = "text/plain\r\nX-Evil: 1";
    return response;
  });
  ASSERT_NE(server, nullptr);
  for (const char* path : {"/204", "/1000", "/header"}) {
    const std::string response = Exchange(
        server->port(), absl::StrCat("GET ", path, " HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(StatusLine(response), "HTTP/1.1 500 Internal Server Error")
        << path;
    EXPECT_THAT(response, Not(HasSubstr("X-Evil"))) << path;
  }
}

TEST(HttpServerTest, SilentClientDoesNotDelayOtherRequests) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const int silent = Connect(server->port());
  ASSERT_GE(silent, 0);
  const absl::Time start = absl::Now();
  EXPECT_EQ(StatusLine(Exchange(server->port(), "GET / HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 200 OK");
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  close(silent);
}

TEST(HttpServerTest, SilentClientTimesOutAndFreesTheOnlyWorker) {
  HttpServerOptions options;
  options.num_workers = 1;
  options.read_timeout = absl::Milliseconds(300);
  std::unique_ptr<HttpServer> server = MustStart(Echo, options);
  ASSERT_NE(server, nullptr);
  const int silent = Connect(server->port());
  ASSERT_GE(silent, 0);
  const absl::Time start = absl::Now();
  EXPECT_EQ(StatusLine(Exchange(server->port(), "GET / HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 200 OK");
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(StatusLine(ReadAll(silent)), "HTTP/1.1 408 Request Timeout");
  close(silent);
}

TEST(HttpServerTest, TricklingClientIsCutOffAtTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(300);
  std::unique_ptr<HttpServer> server = MustStart(Echo, options);
  ASSERT_NE(server, nullptr);
  const int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  const absl::Time start = absl::Now();
  // One byte every 50 ms never completes a head; stop once answered.
  pollfd readable = {fd, POLLIN, 0};
  for (int i = 0; i < 100 && poll(&readable, 1, 50) == 0; ++i) {
    SendAll(fd, "X");
  }
  EXPECT_EQ(StatusLine(ReadAll(fd)), "HTTP/1.1 408 Request Timeout");
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  close(fd);
}

TEST(HttpServerTest, StopWithIdleAndQueuedClientsReturnsPromptly) {
  HttpServerOptions options;
  options.num_workers = 1;
  options.read_timeout = absl::Seconds(30);
  std::unique_ptr<HttpServer> server = MustStart(Echo, options);
  ASSERT_NE(server, nullptr);
  const int idle = Connect(server->port());    // Held by the worker.
  const int queued = Connect(server->port());  // Waits for the worker.
  ASSERT_GE(idle, 0);
  ASSERT_GE(queued, 0);
  absl::SleepFor(absl::Milliseconds(100));  // Let the worker take `idle`.
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // Both connections are closed without a response.
  EXPECT_EQ(ReadAll(idle), "");
  EXPECT_EQ(ReadAll(queued), "");
  close(idle);
  close(queued);
}

TEST(HttpServerTest, StopIsIdempotentAndReleasesThePort) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Stop();
  server->Stop();
  EXPECT_EQ(server->port(), port);
  EXPECT_EQ(Connect(port), -1);
  server.reset();  // The destructor stops again.
}

TEST(HttpServerTest, ConcurrentRequests) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&server, &ok, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string response =
            Exchange(server->port(),
                     absl::StrCat("GET /", t, "?", i, " HTTP/1.1\r\n\r\n"));
        if (Body(response) == absl::StrCat("GET /", t, " ", i, "\n")) ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok, 80);
}

TEST(HttpServerTest, TwoServersOnPortZeroGetDifferentPorts) {
  std::unique_ptr<HttpServer> a = MustStart(Echo);
  std::unique_ptr<HttpServer> b = MustStart(Echo);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->port(), b->port());
  EXPECT_EQ(StatusLine(Exchange(a->port(), "GET / HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(Exchange(b->port(), "GET / HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 200 OK");
}

TEST(HttpServerTest, BusyPortIsAnError) {
  std::unique_ptr<HttpServer> first = MustStart(Echo);
  ASSERT_NE(first, nullptr);
  const absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start("127.0.0.1", first->port(), Echo);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("bind"));
}

TEST(HttpServerTest, RejectsInvalidArguments) {
  for (const char* host :
       {"", "localhost", "256.0.0.1", "1.2.3.4.5", "127.0.0.1 ", "[::1"}) {
    EXPECT_EQ(HttpServer::Start(host, 0, Echo).status().code(),
              absl::StatusCode::kInvalidArgument)
        << host;
  }
  for (int port : {-1, 65536}) {
    EXPECT_EQ(HttpServer::Start("127.0.0.1", port, Echo).status().code(),
              absl::StatusCode::kInvalidArgument)
        << port;
  }
  EXPECT_EQ(HttpServer::Start("127.0.0.1", 0, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  HttpServerOptions options;
  options.num_workers = 0;
  EXPECT_EQ(HttpServer::Start("127.0.0.1", 0, Echo, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, BindsAnyAddressAndIpv6) {
  for (const char* host : {"0.0.0.0", "::1", "[::1]"}) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(host, 0, Echo);
    if (!server.ok() && std::string(host) != "0.0.0.0") {
      // The sandbox may have no IPv6; the address itself was accepted.
      EXPECT_NE(server.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(server.ok()) << host << ": " << server.status();
    EXPECT_GT((*server)->port(), 0) << host;
  }
}

}  // namespace
}  // namespace georisk::common
