#include "services/scorer/console/console_server.h"

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/testing/temp_dir.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/scorer/console/assets.h"
#include "services/scorer/console/json_api.h"

namespace georisk::scorer::console {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kReader[] = "reader-token-0123456789";
constexpr char kWriter[] = "writer-token-0123456789";

// A Scorer whose answers the tests can predict.
class FakeScorer final : public v1::Scorer::Service {
 public:
  grpc::Status ListTopRisks(grpc::ServerContext*,
                            const v1::ListTopRisksRequest* request,
                            v1::ListTopRisksResponse* response) override {
    last_list = *request;
    for (const char* id : {"company/a", "company/b"}) {
      v1::Score* s = response->add_scores();
      s->set_entity_id(id);
      s->set_composite(42.5);
      s->set_band(v1::BAND_HIGH);
    }
    response->set_total_size(2);
    return grpc::Status::OK;
  }
  grpc::Status GetScore(grpc::ServerContext*,
                        const v1::GetScoreRequest* request,
                        v1::Score* response) override {
    if (request->entity_id().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "entity_id: required");
    }
    if (request->entity_id() != "company/a") {
      return grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          "entity_id: no entity \"" + request->entity_id() + "\"");
    }
    response->set_entity_id("company/a");
    return grpc::Status::OK;
  }
  grpc::Status ExplainScore(grpc::ServerContext*,
                            const v1::ExplainScoreRequest*,
                            v1::Explanation*) override {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not loaded yet");
  }
  // Answers the authorization metadata it was called with as the version.
  grpc::Status GetModel(grpc::ServerContext* context,
                        const v1::GetModelRequest*,
                        v1::ModelConfig* response) override {
    auto it = context->client_metadata().find("authorization");
    if (it != context->client_metadata().end()) {
      response->set_version(std::string(it->second.data(), it->second.size()));
    }
    return grpc::Status::OK;
  }

  v1::ListTopRisksRequest last_list;
};

// An alert log of sequences 1..5 that WatchAlerts streams from
// from_sequence, then holds open until the call is cancelled.
class FakeAlerts final : public v1::Alerts::Service {
 public:
  grpc::Status WatchAlerts(
      grpc::ServerContext* context, const v1::WatchAlertsRequest* request,
      grpc::ServerWriter<v1::WatchAlertsResponse>* writer) override {
    v1::WatchAlertsResponse response;
    for (int64_t s = std::max<int64_t>(1, request->from_sequence()); s <= 5;
         ++s) {
      v1::Alert* a = response.add_alerts();
      a->set_sequence(s);
      a->set_alert_id(absl::StrCat("company/a|rule", s));
    }
    response.set_head_sequence(5);
    writer->Write(response);
    writer->Write(v1::WatchAlertsResponse());  // A heartbeat.
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status::CANCELLED;
  }
};

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&scorer_);
    builder.RegisterService(&alerts_);
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);
    dir_ = base::testing::MakeTempDir("console");
    std::ofstream(dir_ + "/tokens") << "# test tokens\n"
                                    << kReader << " reader analyst\n"
                                    << kWriter << " writer loader\n";
  }

  std::unique_ptr<ConsoleServer> Start(ConsoleOptions options,
                                       bool channel = true) {
    absl::StatusOr<std::unique_ptr<ConsoleServer>> console =
        ConsoleServer::Start(options);
    if (!console.ok()) {
      ADD_FAILURE() << console.status();
      return nullptr;
    }
    if (channel) (*console)->SetChannel(grpc_->InProcessChannel({}));
    return *std::move(console);
  }

  std::unique_ptr<httplib::Client> Client(const ConsoleServer& console) {
    auto client =
        std::make_unique<httplib::Client>("127.0.0.1", console.port());
    client->set_read_timeout(10, 0);
    client->set_connection_timeout(10, 0);
    return client;
  }

  httplib::Result Post(const ConsoleServer& console, const std::string& path,
                       const std::string& body, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Client(console)->Post(path.c_str(), headers, body,
                                 "application/json");
  }

  FakeScorer scorer_;
  FakeAlerts alerts_;
  std::unique_ptr<grpc::Server> grpc_;
  std::string dir_;
};

TEST_F(ConsoleServerTest, ApiIsTheProtobufJsonMappingOfTheRpc) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  httplib::Result r =
      Post(*console, "/api/v1/scorer/ListTopRisks",
           R"({"pageSize": 7, "entityKind": "COMPANY", "country": "TW"})");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"),
            "application/json; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(scorer_.last_list.page_size(), 7);
  EXPECT_EQ(scorer_.last_list.entity_kind(), v1::Entity::COMPANY);
  EXPECT_EQ(scorer_.last_list.country(), "TW");
  // lowerCamelCase, enums by name, int64 as a string, defaults printed.
  EXPECT_THAT(r->body, HasSubstr(R"("entityId":"company/a")"));
  EXPECT_THAT(r->body, HasSubstr(R"("band":"BAND_HIGH")"));
  EXPECT_THAT(r->body, HasSubstr(R"("totalSize":"2")"));
  EXPECT_THAT(r->body, HasSubstr(R"("nextPageToken":"")"));
  // An empty body is the empty request.
  r = Post(*console, "/api/v1/scorer/ListTopRisks", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(scorer_.last_list.page_size(), 0);
}

TEST_F(ConsoleServerTest, GrpcStatusBecomesHttpStatusAndJsonError) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  httplib::Result r = Post(*console, "/api/v1/scorer/GetScore",
                           R"({"entityId": "company/nope"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"code":5,"status":"NOT_FOUND","message":)"
                     R"("entity_id: no entity \"company/nope\""})");
  r = Post(*console, "/api/v1/scorer/GetScore", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("entity_id: required"));
  r = Post(*console, "/api/v1/scorer/ExplainScore", R"({"entityId": "x"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_THAT(r->body, HasSubstr(R"("status":"UNAVAILABLE")"));
  // A method the fake does not implement: gRPC's UNIMPLEMENTED.
  r = Post(*console, "/api/v1/scorer/GetFeedStatus", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
}

TEST(HttpStatusFromGrpcTest, MapsLikeGrpcGateway) {
  using C = grpc::StatusCode;
  const std::pair<C, int> table[] = {
      {C::OK, 200},
      {C::CANCELLED, 499},
      {C::UNKNOWN, 500},
      {C::INVALID_ARGUMENT, 400},
      {C::DEADLINE_EXCEEDED, 504},
      {C::NOT_FOUND, 404},
      {C::ALREADY_EXISTS, 409},
      {C::PERMISSION_DENIED, 403},
      {C::RESOURCE_EXHAUSTED, 429},
      {C::FAILED_PRECONDITION, 400},
      {C::ABORTED, 409},
      {C::OUT_OF_RANGE, 400},
      {C::UNIMPLEMENTED, 501},
      {C::INTERNAL, 500},
      {C::UNAVAILABLE, 503},
      {C::DATA_LOSS, 500},
      {C::UNAUTHENTICATED, 401},
  };
  for (const auto& [code, http] : table) {
    EXPECT_EQ(HttpStatusFromGrpc(code), http) << GrpcCodeName(code);
  }
}

TEST_F(ConsoleServerTest, BadJsonIs400NamingTheField) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  for (const auto& [body, field] :
       std::vector<std::pair<std::string, std::string>>{
           {R"({"bogusField": 1})", "bogusField"},
           {R"({"pageSize": "many"})", "(page_size)"},
           {R"({"entityKind": "SHIP"})", "(entity_kind)"},
           {"not json", "georisk.v1.ListTopRisksRequest"}}) {
    httplib::Result r = Post(*console, "/api/v1/scorer/ListTopRisks", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_THAT(r->body, HasSubstr(R"("status":"INVALID_ARGUMENT")")) << body;
    EXPECT_THAT(r->body, HasSubstr(field)) << body << " -> " << r->body;
  }
}

TEST_F(ConsoleServerTest, BodyOverTheLimitIs413) {
  ConsoleOptions options;
  options.max_body_bytes = 100;
  std::unique_ptr<ConsoleServer> console = Start(options);
  ASSERT_NE(console, nullptr);
  const std::string big =
      absl::StrCat(R"({"country": ")", std::string(200, 'x'), R"("})");
  httplib::Result r = Post(*console, "/api/v1/scorer/ListTopRisks", big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  r = Post(*console, "/api/v1/scorer/ListTopRisks", R"({"country": "TW"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ConsoleServerTest, UnknownOrStreamingMethodIs404AndGetIs405) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  for (const char* path :
       {"/api/v1/scorer/WatchScoreChanges", "/api/v1/scorer/Nope",
        "/api/v1/graphstore/Apply", "/api/v2/scorer/GetScore", "/api/"}) {
    httplib::Result r = Post(*console, path, "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_THAT(r->body, HasSubstr(R"("status":"NOT_FOUND")")) << path;
  }
  httplib::Result r = Client(*console)->Get("/api/v1/scorer/GetScore");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
}

TEST_F(ConsoleServerTest, WithTokensTheApiNeedsAReaderToken) {
  ConsoleOptions options;
  options.token_file = dir_ + "/tokens";
  std::unique_ptr<ConsoleServer> console = Start(options);
  ASSERT_NE(console, nullptr);
  const std::string path = "/api/v1/scorer/GetScore";
  const std::string body = R"({"entityId": "company/a"})";

  httplib::Result r = Post(*console, path, body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(r->body, HasSubstr(R"("status":"UNAUTHENTICATED")"));
  // Unknown methods are not told apart before the caller is known.
  r = Post(*console, "/api/v1/scorer/Nope", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = Post(*console, path, body, "unknown-token-0123456789");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("unknown bearer token"));
  r = Post(*console, path, body, kWriter);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_THAT(r->body, HasSubstr("role writer may not call "
                                 "/georisk.v1.Scorer/GetScore"));
  r = Post(*console, path, body, kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // The caller's credentials travel with the call.
  r = Post(*console, "/api/v1/scorer/GetModel", "{}", kReader);
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr(absl::StrCat("Bearer ", kReader)));
  // Pages hold no data and load without a token (their login form asks).
  r = Client(*console)->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// Reads the event stream at `path` until `until` is in it, then hangs up.
std::string ReadEvents(int port, const std::string& path,
                       const httplib::Headers& headers,
                       const std::string& until, int* status) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  std::string events;
  httplib::Result r = client.Get(
      path.c_str(), headers,
      [&](const httplib::Response& response) {
        *status = response.status;
        return true;
      },
      [&](const char* data, size_t n) {
        events.append(data, n);
        return events.find(until) == std::string::npos;
      });
  if (r) *status = r->status;
  if (r && events.empty()) events = r->body;
  return events;
}

// The scenario files georiskctl reads, parsed by its parser for the page.
TEST_F(ConsoleServerTest, ParseScenarioAnswersTheScenarioAsJson) {
  ConsoleOptions options;
  options.token_file = dir_ + "/tokens";
  std::unique_ptr<ConsoleServer> console = Start(options);
  ASSERT_NE(console, nullptr);
  const std::string yaml =
      "name: tension up\n"
      "overrides:\n"
      "  - upsertSignal:\n"
      "      id: signal/cross-strait-tension\n"
      "      tension: {theatre: cross_strait, level: 0.9}\n";
  httplib::Result r = Post(*console, kParseScenarioPath, yaml, kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  v1::Scenario scenario;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r->body, &scenario).ok())
      << r->body;
  EXPECT_EQ(scenario.name(), "tension up");
  EXPECT_DOUBLE_EQ(scenario.overrides(0).upsert_signal().tension().level(),
                   0.9);
  // JSON too; errors name the upload and the place.
  r = Post(*console, kParseScenarioPath, R"({"name": "j"})", kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = Post(*console, std::string(kParseScenarioPath) + "?name=up.yaml",
           "name: [a\n", kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("up.yaml: yaml-cpp: error at line 2"));
  r = Post(*console, kParseScenarioPath, "nmae: typo\n", kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("not a georisk.v1.Scenario"));
  // RunScenario's role, and a token at all.
  r = Post(*console, kParseScenarioPath, yaml);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = Post(*console, kParseScenarioPath, yaml, kWriter);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(ConsoleServerTest, AlertsStreamAsServerSentEventsAndResume) {
  ConsoleOptions options;
  options.token_file = dir_ + "/tokens";
  std::unique_ptr<ConsoleServer> console = Start(options);
  ASSERT_NE(console, nullptr);
  const std::string path = "/api/v1/alerts/WatchAlerts?fromSequence=4";
  const httplib::Headers reader = {
      {"Authorization", absl::StrCat("Bearer ", kReader)}};
  int status = 0;
  std::string events =
      ReadEvents(console->port(), path, reader, ": heartbeat", &status);
  EXPECT_EQ(status, 200);
  EXPECT_THAT(events, HasSubstr("id: 4\nevent: alert\ndata: {"));
  EXPECT_THAT(events, HasSubstr(R"("alertId":"company/a|rule5")"));
  EXPECT_THAT(events, Not(HasSubstr("id: 3\n")));
  // Last-Event-ID wins over fromSequence: the stream resumes after it.
  httplib::Headers resume = reader;
  resume.emplace("Last-Event-ID", "4");
  events = ReadEvents(console->port(), path, resume, ": heartbeat", &status);
  EXPECT_THAT(events, Not(HasSubstr("id: 4\n")));
  EXPECT_THAT(events, HasSubstr("id: 5\n"));
  // Without a token, or with a bad position: no stream.
  events = ReadEvents(console->port(), path, {}, "never", &status);
  EXPECT_EQ(status, 401);
  resume = reader;
  resume.emplace("Last-Event-ID", "x");
  events = ReadEvents(console->port(), path, resume, "never", &status);
  EXPECT_EQ(status, 400);
  EXPECT_THAT(events, HasSubstr("Last-Event-ID"));
}

// A browser asks for compressed answers (Chromium: "gzip, deflate, br");
// httplib would gzip a text/* answer, and its compressor holds the events
// back until far more than one alert has been written: the page saw none.
// The stream is sent as it is, each event when it is written.
TEST_F(ConsoleServerTest, AlertStreamIsNotCompressedForABrowser) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  httplib::Client client("127.0.0.1", console->port());
  client.set_read_timeout(10, 0);
  std::string events;
  std::string encoding = "unset";
  std::string type;
  httplib::Result r = client.Get(
      "/api/v1/alerts/WatchAlerts?fromSequence=5",
      {{"Accept-Encoding", "gzip, deflate, br"}},
      [&](const httplib::Response& response) {
        encoding = response.get_header_value("Content-Encoding");
        type = response.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t n) {
        events.append(data, n);
        return events.find(": heartbeat") == std::string::npos;
      });
  EXPECT_EQ(encoding, "");
  EXPECT_EQ(type, "text/event-stream");
  // Readable as written, before the stream ends (the fake holds it open).
  EXPECT_THAT(events, HasSubstr("id: 5\nevent: alert\ndata: {"));
  EXPECT_THAT(events, HasSubstr(": heartbeat"));
}

TEST_F(ConsoleServerTest, StopEndsAnOpenAlertStream) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  absl::Notification connected;
  std::string events;
  std::thread client([&] {
    httplib::Client c("127.0.0.1", console->port());
    c.set_read_timeout(30, 0);
    c.Get("/api/v1/alerts/WatchAlerts", [&](const char* data, size_t n) {
      events.append(data, n);
      if (!connected.HasBeenNotified() &&
          events.find(": heartbeat") != std::string::npos) {
        connected.Notify();
      }
      return true;
    });
  });
  connected.WaitForNotification();
  console->Stop();  // Returns: the stream's call is cancelled.
  client.join();
  EXPECT_THAT(events, HasSubstr("id: 1\n"));
}

TEST_F(ConsoleServerTest, TokensWithoutTlsOnlyOnLoopback) {
  ConsoleOptions options;
  options.listen_address = "0.0.0.0:0";
  options.token_file = dir_ + "/tokens";
  absl::StatusOr<std::unique_ptr<ConsoleServer>> console =
      ConsoleServer::Start(options);
  EXPECT_EQ(console.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(console.status().message(), HasSubstr("token_file"));
  options.listen_address = "127.0.0.1:0";
  options.token_file = dir_ + "/missing";
  console = ConsoleServer::Start(options);
  EXPECT_EQ(console.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(console.status().message(), HasSubstr("token_file"));
  options.token_file.clear();
  options.listen_address = "nowhere";
  console = ConsoleServer::Start(options);
  EXPECT_EQ(console.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(console.status().message(), HasSubstr("listen_address"));
}

TEST_F(ConsoleServerTest, BeforeTheChannelIsSetTheApiIs503) {
  std::unique_ptr<ConsoleServer> console = Start({}, /*channel=*/false);
  ASSERT_NE(console, nullptr);
  httplib::Result r = Post(*console, "/api/v1/scorer/ListTopRisks", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
}

TEST_F(ConsoleServerTest, PagesAreServedWithAStrictCsp) {
  std::unique_ptr<ConsoleServer> console = Start({});
  ASSERT_NE(console, nullptr);
  EXPECT_EQ(console->url(),
            absl::StrCat("http://127.0.0.1:", console->port(), "/"));
  for (const auto& [path, type] :
       std::vector<std::pair<std::string, std::string>>{
           {"/", "text/html; charset=utf-8"},
           {"/index.html", "text/html; charset=utf-8"},
           {"/entity.html", "text/html; charset=utf-8"},
           {"/scenario.html", "text/html; charset=utf-8"},
           {"/app.js", "text/javascript; charset=utf-8"},
           {"/style.css", "text/css; charset=utf-8"}}) {
    httplib::Result r = Client(*console)->Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"),
              "default-src 'self'; script-src 'self'; style-src 'self'; "
              "object-src 'none'; frame-ancestors 'none'")
        << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(r->body.empty()) << path;
  }
  // The CSP is on errors and API answers too.
  httplib::Result r = Client(*console)->Get("/missing.html");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(r->has_header("Content-Security-Policy"));
  r = Post(*console, "/api/v1/scorer/ListTopRisks", "{}");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_header("Content-Security-Policy"));
  r = Post(*console, "/index.html", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
}

// What the CSP would block is not in the pages: inline scripts, inline
// styles, event handler attributes, other origins.
TEST(AssetsTest, PagesHaveNoInlineScriptOrStyleAndNoOtherOrigin) {
  for (const char* path :
       {"/index.html", "/entity.html", "/scenario.html", "/alerts.html"}) {
    const Asset* asset = FindAsset(path);
    ASSERT_NE(asset, nullptr) << path;
    const std::string html(asset->data);
    EXPECT_THAT(html, Not(HasSubstr("<script>"))) << path;
    EXPECT_THAT(html, Not(HasSubstr("<style"))) << path;
    EXPECT_THAT(html, Not(HasSubstr("style="))) << path;
    EXPECT_THAT(html, Not(HasSubstr(" onclick="))) << path;
    EXPECT_THAT(html, Not(HasSubstr(" onload="))) << path;
    EXPECT_THAT(html, Not(HasSubstr("http://"))) << path;
    EXPECT_THAT(html, Not(HasSubstr("https://"))) << path;
  }
  for (const char* path :
       {"/app.js", "/top.js", "/entity.js", "/scenario.js", "/alerts.js"}) {
    const Asset* asset = FindAsset(path);
    ASSERT_NE(asset, nullptr) << path;
    const std::string js(asset->data);
    EXPECT_THAT(js, Not(HasSubstr("innerHTML"))) << path;
    EXPECT_THAT(js, Not(HasSubstr("eval("))) << path;
  }
  EXPECT_EQ(FindAsset("/nope.js"), nullptr);
}

}  // namespace
}  // namespace georisk::scorer::console
