// File: services/scorer/alertmanager/fake_http_server.cc
//
// FakeHttpServer over httplib::Server; see fake_http_server.h.

#include "services/scorer/alertmanager/fake_http_server.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace georisk::scorer {

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::Start(
    FakeHttpHandler handler) {
  auto server = std::make_unique<httplib::Server>();
  const int port = server->bind_to_any_port("127.0.0.1");
  if (port <= 0) return absl::UnavailableError("cannot bind 127.0.0.1:0");
  std::unique_ptr<FakeHttpServer> fake(
      new FakeHttpServer(std::move(server), port));
  FakeHttpServer *self = fake.get();
  auto serve = [self, handler = std::move(handler)](const httplib::Request &in,
                                                    httplib::Response &out) {
    FakeHttpRequest request;
    request.method = in.method;
    request.target = in.target;
    request.head = absl::StrCat(in.method, " ", in.target, " ", in.version);
    for (const auto &[name, value] : in.headers) {
      absl::StrAppend(&request.head, "\r\n", name, ": ", value);
    }
    absl::StrAppend(&request.head, "\r\n");
    request.body = in.body;
    self->Record(request);
    FakeHttpResponse response = handler(request);
    out.status = response.status;
    out.set_content(response.body, response.content_type.c_str());
  };
  const char *const kAny = ".*";
  self->server_->Get(kAny, serve);
  self->server_->Post(kAny, serve);
  self->server_->Put(kAny, serve);
  self->server_->Delete(kAny, serve);
  self->listen_thread_ =
      std::thread([self] { self->server_->listen_after_bind(); });
  // stop() is lost until the accept loop runs.
  while (!self->server_->is_running()) absl::SleepFor(absl::Milliseconds(1));
  return fake;
}

FakeHttpServer::FakeHttpServer(std::unique_ptr<httplib::Server> server,
                               int port)
    : server_(std::move(server)), port_(port) {}

FakeHttpServer::~FakeHttpServer() { Stop(); }

std::string FakeHttpServer::Url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void FakeHttpServer::Record(FakeHttpRequest request) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(std::move(request));
}

std::vector<FakeHttpRequest> FakeHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

bool FakeHttpServer::WaitForRequests(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return requests_.size() >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

void FakeHttpServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  server_->stop();
  if (listen_thread_.joinable()) listen_thread_.join();
}

FakeHttpResponse FakeHttpServer::Response(int status, absl::string_view body,
                                          absl::string_view content_type) {
  return FakeHttpResponse{status, std::string(body), std::string(content_type)};
}

}  // namespace georisk::scorer
