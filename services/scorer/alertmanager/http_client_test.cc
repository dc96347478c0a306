#include "services/scorer/alertmanager/http_client.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/scorer/alertmanager/fake_http_server.h"

namespace georisk::scorer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kTimeout = absl::Seconds(20);

// Starts a server that answers every request with `response`.
std::unique_ptr<FakeHttpServer> Serving(FakeHttpResponse response) {
  auto server = FakeHttpServer::Start(
      [response](const FakeHttpRequest &) { return response; });
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

struct UrlCase {
  std::string url;
  std::string scheme;
  std::string host;
  int port;
  std::string authority;
  std::string target;
};

TEST(ParseHttpUrlTest, AcceptsHttpUrls) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:9093/api/v2/alerts", "http", "127.0.0.1", 9093,
       "127.0.0.1:9093", "/api/v2/alerts"},
      {"http://alertmanager-0.alertmanager", "http",
       "alertmanager-0.alertmanager", 80, "alertmanager-0.alertmanager", "/"},
      {"HTTP://Example.com:8080", "http", "Example.com", 8080,
       "Example.com:8080", "/"},
      {"http://h/p?q=1&r=%7C#frag", "http", "h", 80, "h", "/p?q=1&r=%7C"},
      {"http://h?x=1", "http", "h", 80, "h", "/?x=1"},
      {"http://[::1]:9093/x", "http", "::1", 9093, "[::1]:9093", "/x"},
      {"http://[fe80::1]", "http", "fe80::1", 80, "[fe80::1]", "/"},
      {"http://a_b.local:65535/", "http", "a_b.local", 65535, "a_b.local:65535",
       "/"},
      {"https://am:9093/api", "https", "am", 9093, "am:9093", "/api"},
      {"HTTPS://am", "https", "am", 443, "am", "/"},
  };
  for (const UrlCase &c : cases) {
    absl::StatusOr<HttpUrl> url = ParseHttpUrl(c.url);
    ASSERT_TRUE(url.ok()) << c.url << ": " << url.status();
    EXPECT_EQ(url->scheme, c.scheme) << c.url;
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->authority, c.authority) << c.url;
    EXPECT_EQ(url->target, c.target) << c.url;
  }
}

TEST(ParseHttpUrlTest, RejectsOthersNamingTheUrl) {
  const std::pair<std::string, std::string> cases[] = {
      {"ftp://am", "scheme \"ftp\""},
      {"am:9093", "not an absolute http:// or https:// URL"},
      {"", "not an absolute http:// or https:// URL"},
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
  for (const auto &[url, why] : cases) {
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
  auto server = FakeHttpServer::Start([](const FakeHttpRequest &) {
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
              HasSubstr("\r\nContent-Type: application/json\r\n"));
  EXPECT_THAT(requests[0].head,
              HasSubstr(absl::StrCat("\r\nContent-Length: ", body.size())));
  EXPECT_THAT(requests[0].head, HasSubstr("\r\nUser-Agent: georisk\r\n"));
  EXPECT_THAT(requests[0].head, Not(HasSubstr("Authorization")));
  EXPECT_THAT(requests[0].head, Not(HasSubstr("Expect")));
}

TEST(HttpClientTest, GetHasNoBodyAndReusesTheConnection) {
  auto server = Serving(FakeHttpServer::Response(200, "hello"));
  ASSERT_NE(server, nullptr);
  HttpClient client;
  for (int i = 0; i < 3; ++i) {
    auto response = client.Get(server->Url("/status"), kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello");
  }
  ASSERT_EQ(server->requests().size(), 3u);
  EXPECT_EQ(server->requests()[0].method, "GET");
  EXPECT_THAT(server->requests()[0].head, Not(HasSubstr("Content-Length")));
}

TEST(HttpClientTest, SendsBearerToken) {
  auto server = Serving(FakeHttpServer::Response(200, ""));
  ASSERT_NE(server, nullptr);
  HttpClientOptions options;
  options.auth.bearer_token = "s3cret";
  auto response = HttpClient(options).Post(server->Url(), "application/json",
                                           "[]", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_THAT(server->requests()[0].head,
              HasSubstr("\r\nAuthorization: Bearer s3cret\r\n"));
}

TEST(HttpClientTest, SendsBasicAuth) {
  auto server = Serving(FakeHttpServer::Response(200, ""));
  ASSERT_NE(server, nullptr);
  HttpClientOptions options;
  options.auth.basic_auth_username = "georisk";
  options.auth.basic_auth_password = "pw:1";
  auto response = HttpClient(options).Get(server->Url(), kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_THAT(
      server->requests()[0].head,
      HasSubstr(absl::StrCat("\r\nAuthorization: Basic ",
                             absl::Base64Escape("georisk:pw:1"), "\r\n")));
}

TEST(HttpClientTest, InvalidOptionsFailEveryCall) {
  HttpClientOptions both;
  both.auth.bearer_token = "t";
  both.auth.basic_auth_username = "u";
  HttpClientOptions cert_without_key;
  cert_without_key.tls.cert_file = "client.pem";
  for (const HttpClientOptions &options : {both, cert_without_key}) {
    EXPECT_EQ(ValidateHttpClientOptions(options).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(HttpClient(options)
                  .Get("http://127.0.0.1:1/", kTimeout)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateHttpClientOptions(HttpClientOptions()).ok());
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

TEST(HttpClientTest, OversizedResponsesAreResourceExhausted) {
  HttpClientOptions options;
  options.max_body_bytes = 100;
  auto server = Serving(FakeHttpServer::Response(200, std::string(101, 'x')));
  ASSERT_NE(server, nullptr);
  auto response = HttpClient(options).Get(server->Url(), kTimeout);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted)
      << response.status();
  auto fits = Serving(FakeHttpServer::Response(200, std::string(100, 'x')));
  ASSERT_NE(fits, nullptr);
  EXPECT_TRUE(HttpClient(options).Get(fits->Url(), kTimeout).ok());
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  int port = 0;
  {
    auto server = Serving(FakeHttpServer::Response(200, ""));
    ASSERT_NE(server, nullptr);
    port = server->port();
  }
  auto response =
      HttpClient().Get(absl::StrCat("http://127.0.0.1:", port), kTimeout);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  EXPECT_THAT(response.status().message(),
              HasSubstr(absl::StrCat("GET http://127.0.0.1:", port)));
}

TEST(HttpClientTest, UnresolvableHostIsUnavailable) {
  auto response =
      HttpClient().Get("http://no-such-host.invalid:9093/", kTimeout);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
}

TEST(HttpClientTest, SilentPeerTimesOut) {
  absl::Notification release;
  auto server = FakeHttpServer::Start([&release](const FakeHttpRequest &) {
    release.WaitForNotification();
    return FakeHttpServer::Response(200, "");
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
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(10));
}

TEST(HttpClientTest, RejectsBadArguments) {
  HttpClient client;
  auto ftp = client.Get("ftp://127.0.0.1:1/", kTimeout);
  EXPECT_EQ(ftp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ftp.status().message(), HasSubstr("ftp://127.0.0.1:1/"));
  auto timeout = client.Get("http://127.0.0.1:1/", absl::ZeroDuration());
  EXPECT_EQ(timeout.status().code(), absl::StatusCode::kInvalidArgument);
  auto content_type =
      client.Post("http://127.0.0.1:1/", "a\r\nX: y", "", kTimeout);
  EXPECT_EQ(content_type.status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- TLS: an httplib::SSLServer with a certificate made by openssl(1).

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = base::testing::MakeTempDir("https");
    // A CA, and a server certificate for 127.0.0.1 that it signs.
    const std::string script = absl::StrCat(
        "cd '", dir_, "' && ",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca "
        ">/dev/null 2>&1 && ",
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-keyout server.key -out server.csr -subj /CN=127.0.0.1 "
        ">/dev/null 2>&1 && ",
        "printf 'subjectAltName=IP:127.0.0.1' > san.ext && ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out server.pem -days 1 -extfile san.ext "
        ">/dev/null 2>&1 && ",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -keyout other.key -out other.pem -days 1 -subj /CN=other "
        ">/dev/null 2>&1");
    ASSERT_EQ(std::system(script.c_str()), 0) << "openssl failed";
    server_ = std::make_unique<httplib::SSLServer>(
        (dir_ + "/server.pem").c_str(), (dir_ + "/server.key").c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Post("/api/v2/alerts",
                  [this](const httplib::Request &req, httplib::Response &res) {
                    authorization_ = req.get_header_value("Authorization");
                    res.set_content("", "application/json");
                  });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url() const {
    return absl::StrCat("https://127.0.0.1:", port_, "/api/v2/alerts");
  }

  std::string dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
  std::string authorization_;  // Written by the handler before it answers.
};

TEST_F(HttpsTest, VerifiesThePeerWithTheCaFile) {
  HttpClientOptions options;
  options.tls.ca_file = dir_ + "/ca.pem";
  options.auth.bearer_token = "t0ken";
  auto response =
      HttpClient(options).Post(Url(), "application/json", "[]", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(authorization_, "Bearer t0ken");
}

TEST_F(HttpsTest, AnotherCaIsFailedPrecondition) {
  HttpClientOptions options;
  options.tls.ca_file = dir_ + "/other.pem";
  auto response =
      HttpClient(options).Post(Url(), "application/json", "[]", kTimeout);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition)
      << response.status();
}

TEST_F(HttpsTest, MissingCaFileIsFailedPrecondition) {
  HttpClientOptions options;
  options.tls.ca_file = dir_ + "/no-such.pem";
  auto response =
      HttpClient(options).Post(Url(), "application/json", "[]", kTimeout);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition)
      << response.status();
}

TEST_F(HttpsTest, InsecureSkipVerifyAcceptsAnyCertificate) {
  HttpClientOptions options;
  options.tls.insecure_skip_verify = true;
  auto response =
      HttpClient(options).Post(Url(), "application/json", "[]", kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

}  // namespace
}  // namespace georisk::scorer
