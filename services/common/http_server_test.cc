#include "services/common/http_server.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace georisk::common {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A client of 127.0.0.1:`port` that gives up after 10 s, so that a broken
// server fails the test instead of hanging it.
std::unique_ptr<httplib::Client> Client(int port) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
  client->set_connection_timeout(10, 0);
  client->set_read_timeout(10, 0);
  client->set_write_timeout(10, 0);
  return client;
}

// Answers 200 with the request echoed, or 404 for /missing.
HttpResponse Echo(const HttpRequest &request) {
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
                                      const HttpServerOptions &options = {}) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("127.0.0.1", 0, std::move(handler), options);
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  return *std::move(server);
}

TEST(HttpServerTest, ServesGetWithPathAndRawQuery) {
  std::unique_ptr<HttpServer> server = MustStart([](const HttpRequest &r) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = absl::StrCat("metric_total 1\n# ", r.method, " ", r.path,
                                 " ", r.query, "\n");
    return response;
  });
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  httplib::Result result = Client(server->port())->Get("/metrics?a=1&b=%20");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(result->body, "metric_total 1\n# GET /metrics a=1&b=%20\n");
  EXPECT_EQ(result->get_header_value("Content-Length"),
            absl::StrCat(result->body.size()));
}

TEST(HttpServerTest, HeadSendsContentLengthWithoutBody) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  httplib::Result result = Client(server->port())->Head("/x");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Length"), "9");  // "HEAD /x \n"
  EXPECT_THAT(result->body, IsEmpty());
}

TEST(HttpServerTest, NotFoundFromHandler) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  httplib::Result result = Client(server->port())->Get("/missing");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(result->body, "no such page\n");
}

TEST(HttpServerTest, OtherMethodsAreNotAllowedAndNotPassedOn) {
  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> server =
      MustStart([&calls](const HttpRequest &request) {
        ++calls;
        return Echo(request);
      });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = Client(server->port());
  std::vector<httplib::Result> results;
  results.push_back(client->Post("/metrics", "hello", "text/plain"));
  results.push_back(
      client->Put("/upload", std::string(256 * 1024, 'x'), "text/plain"));
  results.push_back(client->Delete("/"));
  for (const httplib::Result &result : results) {
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 405);
    EXPECT_EQ(result->get_header_value("Allow"), "GET, HEAD");
  }
  EXPECT_EQ(calls, 0);
}

TEST(HttpServerTest, InvalidHandlerResponseIs500) {
  std::unique_ptr<HttpServer> server = MustStart([](const HttpRequest &r) {
    HttpResponse response;
    if (r.path == "/204") response.status = 204;
    if (r.path == "/1000") response.status = 1000;
    if (r.path == "/header") response.content_type = "text/plain\r\nX-Evil: 1";
    return response;
  });
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = Client(server->port());
  for (const char *path : {"/204", "/1000", "/header"}) {
    httplib::Result result = client->Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 500) << path;
    EXPECT_FALSE(result->has_header("X-Evil")) << path;
  }
}

TEST(HttpServerTest, SlowHandlerDoesNotDelayOtherRequests) {
  absl::Notification release;
  std::unique_ptr<HttpServer> server =
      MustStart([&release](const HttpRequest &request) {
        if (request.path == "/slow") release.WaitForNotification();
        return Echo(request);
      });
  ASSERT_NE(server, nullptr);
  std::thread slow([&server] {
    httplib::Result result = Client(server->port())->Get("/slow");
    EXPECT_TRUE(result && result->status == 200);
  });
  const absl::Time start = absl::Now();
  httplib::Result result = Client(server->port())->Get("/fast");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, "GET /fast \n");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  release.Notify();
  slow.join();
}

TEST(HttpServerTest, KeepAliveConnectionServesSeveralRequests) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = Client(server->port());
  client->set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    httplib::Result result = client->Get(absl::StrCat("/k?", i));
    ASSERT_TRUE(result) << i;
    EXPECT_EQ(result->body, absl::StrCat("GET /k ", i, "\n"));
  }
  client->stop();
}

TEST(HttpServerTest, StopWithAnIdleKeepAliveClientReturnsPromptly) {
  HttpServerOptions options;
  options.num_workers = 1;
  options.keep_alive_timeout = absl::Seconds(30);
  std::unique_ptr<HttpServer> server = MustStart(Echo, options);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<httplib::Client> client = Client(server->port());
  client->set_keep_alive(true);
  ASSERT_TRUE(client->Get("/"));  // The connection stays open, idle.
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

// Stop() closes idle connections at once, but a request being handled when
// it is called still gets its whole response.
TEST(HttpServerTest, AHandlerRunningWhenStopIsCalledStillAnswers) {
  absl::Notification entered;
  absl::Notification release;
  std::unique_ptr<HttpServer> server =
      MustStart([&](const HttpRequest &request) {
        entered.Notify();
        release.WaitForNotification();
        return Echo(request);
      });
  ASSERT_NE(server, nullptr);
  std::thread slow([&server] {
    httplib::Result result = Client(server->port())->Get("/slow");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "GET /slow \n");
  });
  entered.WaitForNotification();
  std::thread stop([&server] { server->Stop(); });
  // Let Stop() close what it closes; it then waits for the handler.
  absl::SleepFor(absl::Milliseconds(200));
  release.Notify();
  stop.join();
  slow.join();
}

TEST(HttpServerTest, StopIsIdempotentAndReleasesThePort) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Stop();
  server->Stop();
  EXPECT_EQ(server->port(), port);
  httplib::Result result = Client(port)->Get("/");
  EXPECT_FALSE(result);
  EXPECT_EQ(result.error(), httplib::Error::Connection);
  server.reset();  // The destructor stops again.
}

TEST(HttpServerTest, ConcurrentRequests) {
  std::unique_ptr<HttpServer> server = MustStart(Echo);
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&server, &ok, t] {
      std::unique_ptr<httplib::Client> client = Client(server->port());
      for (int i = 0; i < 10; ++i) {
        httplib::Result result = client->Get(absl::StrCat("/", t, "?", i));
        if (result && result->body == absl::StrCat("GET /", t, " ", i, "\n")) {
          ++ok;
        }
      }
    });
  }
  for (std::thread &client : clients) client.join();
  EXPECT_EQ(ok, 80);
}

TEST(HttpServerTest, TwoServersOnPortZeroGetDifferentPorts) {
  std::unique_ptr<HttpServer> a = MustStart(Echo);
  std::unique_ptr<HttpServer> b = MustStart(Echo);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->port(), b->port());
  for (int port : {a->port(), b->port()}) {
    httplib::Result result = Client(port)->Get("/");
    ASSERT_TRUE(result) << port;
    EXPECT_EQ(result->status, 200) << port;
  }
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
  for (const char *host :
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
  options = HttpServerOptions();
  options.read_timeout = absl::ZeroDuration();
  EXPECT_EQ(HttpServer::Start("127.0.0.1", 0, Echo, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, BindsAnyAddressAndIpv6) {
  for (const char *host : {"0.0.0.0", "::1", "[::1]"}) {
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

TEST(HttpServerTest, PostIsPassedOnWithBodyAndHeadersWhenAllowed) {
  HttpServerOptions options;
  options.allow_post = true;
  std::unique_ptr<HttpServer> server = MustStart(
      [](const HttpRequest &r) {
        HttpResponse response;
        response.content_type = "application/json";
        response.body = absl::StrCat(r.method, " ", r.path, " [", r.body, "] ",
                                     r.Header("authorization"), " ",
                                     r.Header("X-MISSING"), "|");
        response.headers.push_back({"X-Frame-Options", "DENY"});
        return response;
      },
      options);
  ASSERT_NE(server, nullptr);
  httplib::Headers headers = {{"Authorization", "Bearer abc"}};
  httplib::Result result =
      Client(server->port())
          ->Post("/api/x", headers, R"({"a":1})", "application/json");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, R"(POST /api/x [{"a":1}] Bearer abc |)");
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(result->get_header_value("X-Frame-Options"), "DENY");
  // Other methods are still refused, naming POST as allowed.
  result = Client(server->port())->Delete("/api/x");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 405);
  EXPECT_EQ(result->get_header_value("Allow"), "GET, HEAD, POST");
}

TEST(HttpServerTest, PostBodyOverTheLimitIs413AndNotPassedOn) {
  HttpServerOptions options;
  options.allow_post = true;
  options.max_body_bytes = 1000;
  std::atomic<int> calls{0};
  std::unique_ptr<HttpServer> server = MustStart(
      [&calls](const HttpRequest &request) {
        ++calls;
        HttpResponse response;
        response.body = absl::StrCat(request.body.size());
        return response;
      },
      options);
  ASSERT_NE(server, nullptr);
  httplib::Result at_limit =
      Client(server->port())->Post("/", std::string(1000, 'x'), "text/plain");
  ASSERT_TRUE(at_limit) << httplib::to_string(at_limit.error());
  EXPECT_EQ(at_limit->status, 200);
  EXPECT_EQ(at_limit->body, "1000");
  httplib::Result over =
      Client(server->port())->Post("/", std::string(1001, 'x'), "text/plain");
  ASSERT_TRUE(over) << httplib::to_string(over.error());
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(calls, 1);
}

TEST(HttpServerTest, HeaderWithLineBreakOrContentTypeIs500) {
  for (const std::pair<std::string, std::string> &header :
       std::vector<std::pair<std::string, std::string>>{
           {"X-Bad", "a\r\nSet-Cookie: x=1"},
           {"Content-Type", "text/html"},
           {"", "empty name"}}) {
    std::unique_ptr<HttpServer> server =
        MustStart([header](const HttpRequest &) {
          HttpResponse response;
          response.headers.push_back(header);
          return response;
        });
    ASSERT_NE(server, nullptr);
    httplib::Result result = Client(server->port())->Get("/");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 500) << header.first;
    EXPECT_FALSE(result->has_header("Set-Cookie"));
  }
}

TEST(HttpServerTest, ServesTlsWithTheGivenCertificate) {
  const std::string dir = base::testing::MakeTempDir("https");
  const std::string script = absl::StrCat(
      "cd '", dir, "' && ",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout server.key -out server.pem -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1");
  ASSERT_EQ(std::system(script.c_str()), 0) << "openssl failed";
  HttpServerOptions options;
  options.tls_cert_file = dir + "/server.pem";
  options.tls_key_file = dir + "/server.key";
  std::unique_ptr<HttpServer> server = MustStart(Echo, options);
  ASSERT_NE(server, nullptr);
  httplib::SSLClient client("127.0.0.1", server->port());
  client.set_ca_cert_path((dir + "/server.pem").c_str());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(10, 0);
  httplib::Result result = client.Get("/tls?x");
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "GET /tls x\n");
  // A plaintext client gets no answer.
  EXPECT_FALSE(Client(server->port())->Get("/tls"));

  options.tls_key_file = dir + "/missing.key";
  absl::StatusOr<std::unique_ptr<HttpServer>> bad =
      HttpServer::Start("127.0.0.1", 0, Echo, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("missing.key"));
  options.tls_cert_file.clear();
  EXPECT_EQ(HttpServer::Start("127.0.0.1", 0, Echo, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, StreamedBodyIsSentAsItIsWritten) {
  std::unique_ptr<HttpServer> server = MustStart([](const HttpRequest &) {
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.body = "ignored";
    response.stream = [](const HttpStreamWriter &write) {
      for (const char *chunk : {"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"}) {
        if (!write(chunk)) return;
      }
    };
    return response;
  });
  ASSERT_NE(server, nullptr);
  std::vector<std::string> chunks;
  httplib::Result result =
      Client(server->port())->Get("/events", [&](const char *data, size_t n) {
        chunks.emplace_back(data, n);
        return true;
      });
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(result->get_header_value("Transfer-Encoding"), "chunked");
  std::string all;
  for (const std::string &c : chunks) all += c;
  EXPECT_EQ(all, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  // HEAD does not run the stream.
  result = Client(server->port())->Head("/events");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
}

}  // namespace
}  // namespace georisk::common
