// The fetcher against a loopback HTTP server: conditional requests, limits,
// truncation, errors, file:// URLs.
#include "services/ingest/source_fetcher.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/ingest/testing/source_http_server.h"

namespace georisk::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FetcherTest : public ::testing::Test {
 protected:
  FetchRequest Request() {
    FetchRequest r;
    r.url = server_.Url("/list.csv");
    r.path = dir_ + "/body";
    r.timeout = absl::Seconds(10);
    return r;
  }
  std::string dir_ = base::testing::MakeTempDir("fetcher");
  testing::SourceHttpServer server_;
};

TEST_F(FetcherTest, WritesTheBodyWithItsValidatorsAndHash) {
  server_.Serve("a,b\n1,2\n", "\"v1\"", "Sun, 06 Dec 2026 14:00:00 GMT");
  absl::StatusOr<FetchResult> got = Fetch(Request());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->not_modified);
  EXPECT_EQ(got->http_status, 200);
  EXPECT_EQ(got->etag, "\"v1\"");
  EXPECT_EQ(got->last_modified, "Sun, 06 Dec 2026 14:00:00 GMT");
  EXPECT_EQ(got->bytes, 8);
  // sha256("a,b\n1,2\n"), as `printf 'a,b\n1,2\n' | sha256sum` prints it.
  EXPECT_EQ(got->sha256,
            "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470");
  EXPECT_EQ(ReadFile(dir_ + "/body"), "a,b\n1,2\n");
  EXPECT_EQ(server_.last_header("If-None-Match"), "");
}

TEST_F(FetcherTest, SendsTheValidatorsAndA304IsNotModified) {
  server_.Serve("a,b\n", "\"v1\"", "Sun, 06 Dec 2026 14:00:00 GMT");
  FetchRequest r = Request();
  r.etag = "\"v1\"";
  r.last_modified = "Sun, 06 Dec 2026 14:00:00 GMT";
  absl::StatusOr<FetchResult> got = Fetch(r);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->not_modified);
  EXPECT_EQ(got->http_status, 304);
  EXPECT_EQ(got->etag, "\"v1\"");
  EXPECT_EQ(got->bytes, 0);
  EXPECT_EQ(server_.last_header("If-None-Match"), "\"v1\"");
  EXPECT_EQ(server_.last_header("If-Modified-Since"),
            "Sun, 06 Dec 2026 14:00:00 GMT");

  // A changed list answers 200 to the old validators.
  server_.Serve("a,b\n3,4\n", "\"v2\"");
  got = Fetch(r);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->not_modified);
  EXPECT_EQ(got->etag, "\"v2\"");
}

TEST_F(FetcherTest, SendsTheAuthHeader) {
  server_.Serve("x\n", "");
  FetchRequest r = Request();
  r.auth_header = "Authorization: Bearer s3cret";
  ASSERT_TRUE(Fetch(r).ok());
  EXPECT_EQ(server_.last_header("Authorization"), "Bearer s3cret");
}

TEST_F(FetcherTest, ServerErrorIsUnavailableAndNotFoundIsAPrecondition) {
  server_.Fail(500);
  absl::StatusOr<FetchResult> got = Fetch(Request());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("HTTP 500"));
  server_.Fail(404);
  EXPECT_EQ(Fetch(Request()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(FetcherTest, ATruncatedBodyIsDataLoss) {
  const std::string body(100000, 'x');
  server_.Truncate(body, 30000);
  absl::StatusOr<FetchResult> got = Fetch(Request());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr("truncated"));
}

TEST_F(FetcherTest, MoreThanMaxBytesIsResourceExhausted) {
  server_.Serve(std::string(5000, 'x'), "");
  FetchRequest r = Request();
  r.max_bytes = 4999;
  EXPECT_EQ(Fetch(r).status().code(), absl::StatusCode::kResourceExhausted);
  r.max_bytes = 5000;
  EXPECT_TRUE(Fetch(r).ok());
}

TEST_F(FetcherTest, TooSlowIsDeadlineExceeded) {
  server_.Serve("x\n", "");
  server_.Delay(absl::Seconds(2));
  FetchRequest r = Request();
  r.timeout = absl::Milliseconds(200);
  EXPECT_EQ(Fetch(r).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(FetcherTest, ReadsFileUrls) {
  {
    std::ofstream out(dir_ + "/list.csv");
    out << "k,v\n";
  }
  FetchRequest r = Request();
  r.url = "file://" + dir_ + "/list.csv";
  absl::StatusOr<FetchResult> got = Fetch(r);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->bytes, 4);
  EXPECT_EQ(ReadFile(dir_ + "/body"), "k,v\n");
  r.url = "file://" + dir_ + "/missing.csv";
  EXPECT_EQ(Fetch(r).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FetcherTest, RefusesOtherSchemes) {
  FetchRequest r = Request();
  r.url = "ftp://127.0.0.1/x";
  absl::StatusOr<FetchResult> got = Fetch(r);
  EXPECT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), Not(HasSubstr("Bearer")));
}

}  // namespace
}  // namespace georisk::ingest
