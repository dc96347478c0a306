#include "services/scorer/alertmanager/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/alertmanager/fake_http_server.h"

namespace georisk::scorer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kTimeout = absl::Seconds(20);

// Starts a server that answers every request with `raw`.
std::unique_ptr<FakeHttpServer> Serving(std::string raw) {
  auto server =
      FakeHttpServer::Start([raw](const FakeHttpRequest&) { return raw; });
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// A loopback socket that listens but never accepts; returns its fd and port.
int ListenWithoutAccepting(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(fd, 8), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

struct UrlCase {
  std::string url;
  std::string host;
  int port;
  std::string authority;
  std::string target;
};

TEST(ParseHttpUrlTest, AcceptsHttpUrls) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:9093/api/v2/alerts", "127.0.0.1", 9093,
       "127.0.0.1:9093", "/api/v2/alerts"},
      {"http://alertmanager-0.alertmanager", "alertmanager-0.alertmanager", 80,
       "alertmanager-0.alertmanager", "/"},
      {"HTTP://Example.com:8080", "Example.com", 8080, "Example.com:8080", "/"},
      {"http://h/p?q=1&r=%7C#frag", "h", 80, "h", "/p?q=1&r=%7C"},
      {"http://h?x=1", "h", 80, "h", "/?x=1"},
      {"http://[::1]:9093/x", "::1", 9093, "[::1]:9093", "/x"},
      {"http://[fe80::1]", "fe80::1", 80, "[fe80::1]", "/"},
      {"http://a_b.local:65535/", "a_b.local", 65535, "a_b.local:65535", "/"},
  };
  for (const UrlCase& c : cases) {
    absl::StatusOr<HttpUrl> url = ParseHttpUrl(c.url);
    ASSERT_TRUE(url.ok()) << c.url << ": " << url.status();
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->authority, c.authority) << c.url;
    EXPECT_EQ(url->target, c.target) << c.url;
  }
}

TEST(ParseHttpUrlTest, RejectsOthersNamingTheUrl) {
  const std::pair<std::string, std::string> cases[] = {
      {"https://am:9093", "https is not supported"},
      {"HTTPS://am:9093", "https is not supported"},
      {"ftp://am", "scheme \"ftp\""},
      {"am:9093", "not an absolute http:// URL"},
      {"", "not an absolute http:// URL"},
      {"http://", "no host"},
      {"http://:9093/", "no host"},
      {"http://am:/x", "port"},
      {"http://am:0", "port"},
      {"http://am:65536", "port"},
      {"http://am:12ab", "port"},
      {"http://am:-1", "port"},
      {"http://user:pw@am", "user info"},
      {"http://am /x", "whitespace"},
      {"http://am/x\r\nHost: evil", "control"},
      {"http://am/\xc3\xa9", "non-ASCII"},
      {"http://a!m", "malformed host"},
      {"http://[::1", "unterminated"},
      {"http://[::1]x", "junk"},
      {"http://[zz]", "malformed IPv6"},
      {"http://a:b:c", "port"},
  };
  for (const auto& [url, why] : cases) {
    absl::StatusOr<HttpUrl> parsed = ParseHttpUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << url;
    EXPECT_THAT(parsed.status().message(), HasSubstr(why)) << url;
    if (url.find('\r') == std::string::npos &&
        url.find('\xc3') == std::string::npos) {
      EXPECT_THAT(parsed.status().message(), HasSubstr(url)) << url;
    }
  }
}

TEST(HttpClientTest, PostSendsAWellFormedRequest) {
  auto server = FakeHttpServer::Start([](const FakeHttpRequest&) {
    return FakeHttpServer::Response(200, "ok", "text/plain");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client;
  const std::string body = "[{\"labels\":{\"a\":\"\xe2\x86\x92\"}}]";
  auto response = client.Post((*server)->Url("/api/v2/alerts?x=1"),
                              "application/json", body, kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body, "ok");
  std::vector<FakeHttpRequest> requests = (*server)->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v2/alerts?x=1");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_THAT(requests[0].head,
              HasSubstr(absl::StrCat("\r\nHost: 127.0.0.1:", (*server)->port(),
                                     "\r\n")));
  EXPECT_THAT(requests[0].head,
              HasSubstr("\r\nContent-Type: application/json"));
  EXPECT_THAT(requests[0].head,
              HasSubstr(absl::StrCat("\r\nContent-Length: ", body.size())));
  EXPECT_THAT(requests[0].head, HasSubstr("\r\nConnection: close"));
}

TEST(HttpClientTest, GetReadsContentLength) {
  auto server =
      Serving("HTTP/1.1 200 OK\r\ncontent-LENGTH: 5\r\nX: y\r\n\r\nhello");
  ASSERT_NE(server, nullptr);
  auto response = HttpClient().Get(server->Url("/status"), kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_EQ(server->requests()[0].method, "GET");
  EXPECT_THAT(server->requests()[0].head, Not(HasSubstr("Content-Length")));
}

TEST(HttpClientTest, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  auto server = Serving(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 999\r\n\r\n"
      "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n"
      "0\r\nTrailer: x\r\n\r\n");
  ASSERT_NE(server, nullptr);
  auto response = HttpClient().Get(server->Url(), kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "hello 0123456789");
}

TEST(HttpClientTest, ReadsToCloseWithoutLength) {
  auto server = Serving("HTTP/1.0 200 OK\nContent-Type: a/b\n\nuntil close");
  ASSERT_NE(server, nullptr);
  auto response = HttpClient().Get(server->Url(), kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->content_type, "a/b");
  EXPECT_EQ(response->body, "until close");
}

TEST(HttpClientTest, SkipsInterimResponses) {
  auto server = Serving(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_NE(server, nullptr);
  auto response = HttpClient().Post(server->Url(), "text/plain", "x", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "hi");
}

TEST(HttpClientTest, HttpErrorsAreResponsesNotErrors) {
  auto server = Serving(FakeHttpServer::Response(503, "\"down\""));
  ASSERT_NE(server, nullptr);
  auto response =
      HttpClient().Post(server->Url(), "application/json", "[]", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "\"down\"");
}

TEST(HttpClientTest, NoContentHasNoBody) {
  auto server = Serving("HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_NE(server, nullptr);
  auto response = HttpClient().Get(server->Url(), kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(response->body, "");
}

TEST(HttpClientTest, MalformedResponsesAreDataLoss) {
  const std::string cases[] = {
      "SSH-2.0-OpenSSH\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 20x OK\r\n\r\n",
      "HTTP/1.1 99 Low\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
  };
  for (const std::string& raw : cases) {
    auto server = Serving(raw);
    ASSERT_NE(server, nullptr);
    auto response = HttpClient().Get(server->Url("/m"), kTimeout);
    ASSERT_FALSE(response.ok()) << raw;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kDataLoss)
        << raw << " -> " << response.status();
    EXPECT_THAT(response.status().message(),
                HasSubstr(absl::StrCat("GET ", server->Url("/m"), ": ")));
  }
}

TEST(HttpClientTest, TruncatedResponsesAreUnavailable) {
  const std::string cases[] = {
      "",  // Closed without a response.
      "HTTP/1.1 200 OK\r\nContent-Le",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
  };
  for (const std::string& raw : cases) {
    auto server = Serving(raw);
    ASSERT_NE(server, nullptr);
    auto response = HttpClient().Get(server->Url(), kTimeout);
    ASSERT_FALSE(response.ok()) << raw;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
        << raw << " -> " << response.status();
  }
}

TEST(HttpClientTest, OversizedResponsesAreResourceExhausted) {
  HttpClientOptions options;
  options.max_body_bytes = 4;
  options.max_head_bytes = 64;
  const std::string cases[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n",
      absl::StrCat("HTTP/1.1 200 OK\r\nX: ", std::string(100, 'x'), "\r\n\r\n"),
  };
  for (const std::string& raw : cases) {
    auto server = Serving(raw);
    ASSERT_NE(server, nullptr);
    auto response = HttpClient(options).Get(server->Url(), kTimeout);
    ASSERT_FALSE(response.ok()) << raw;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted)
        << raw << " -> " << response.status();
  }
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  int port = 0;
  close(ListenWithoutAccepting(&port));  // Now nothing listens there.
  auto response =
      HttpClient().Get(absl::StrCat("http://127.0.0.1:", port), kTimeout);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
}

TEST(HttpClientTest, UnresolvableHostIsUnavailable) {
  auto response =
      HttpClient().Get("http://no-such-host.invalid:9093/", kTimeout);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
}

TEST(HttpClientTest, SilentPeerTimesOut) {
  absl::Notification release;
  auto server = FakeHttpServer::Start([&release](const FakeHttpRequest&) {
    release.WaitForNotification();
    return std::string();
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Time start = absl::Now();
  auto response = HttpClient().Post((*server)->Url(), "application/json", "[]",
                                    absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  release.Notify();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(10));
}

TEST(HttpClientTest, PeerThatDoesNotReadTimesOutWhileSending) {
  int port = 0;
  int fd = ListenWithoutAccepting(&port);  // The kernel completes connects.
  const std::string body(64 << 20, 'x');
  const absl::Time start = absl::Now();
  auto response =
      HttpClient().Post(absl::StrCat("http://127.0.0.1:", port), "text/plain",
                        body, absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  close(fd);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_LT(took, absl::Seconds(10));
}

TEST(HttpClientTest, RejectsBadArguments) {
  HttpClient client;
  auto https = client.Get("https://127.0.0.1:1/", kTimeout);
  EXPECT_EQ(https.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(https.status().message(), HasSubstr("https://127.0.0.1:1/"));
  auto timeout = client.Get("http://127.0.0.1:1/", absl::ZeroDuration());
  EXPECT_EQ(timeout.status().code(), absl::StatusCode::kInvalidArgument);
  auto content_type =
      client.Post("http://127.0.0.1:1/", "a\r\nX: y", "", kTimeout);
  EXPECT_EQ(content_type.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::scorer
