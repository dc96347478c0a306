#include "services/ingest/testing/source_http_server.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace georisk::ingest::testing {

SourceHttpServer::SourceHttpServer()
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get(
      R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
        int status;
        std::string body, etag, last_modified;
        size_t truncate_at;
        absl::Duration delay;
        {
          absl::MutexLock lock(&mu_);
          ++requests_;
          if_none_match_ = req.get_header_value("If-None-Match");
          if_modified_since_ = req.get_header_value("If-Modified-Since");
          authorization_ = req.get_header_value("Authorization");
          status = status_;
          body = body_;
          etag = etag_;
          last_modified = last_modified_;
          truncate_at = truncate_at_;
          delay = delay_;
        }
        std::optional<std::pair<int, std::string>> path_body;
        {
          absl::MutexLock lock(&mu_);
          auto it = paths_.find(req.path);
          if (it != paths_.end()) path_body = it->second;
        }
        if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
        if (status != 200) {
          res.status = status;
          return;
        }
        if (path_body.has_value()) {
          res.status = path_body->first;
          if (path_body->first == 200) {
            res.set_content(path_body->second, "application/json");
          }
          return;
        }
        if (!etag.empty()) res.set_header("ETag", etag);
        if (!last_modified.empty())
          res.set_header("Last-Modified", last_modified);
        if ((!etag.empty() && req.get_header_value("If-None-Match") == etag) ||
            (!last_modified.empty() &&
             req.get_header_value("If-Modified-Since") == last_modified)) {
          res.status = 304;
          return;
        }
        res.status = 200;
        if (truncate_at == std::string::npos) {
          res.set_content(body, "text/csv");
          return;
        }
        auto shared = std::make_shared<std::string>(std::move(body));
        res.set_content_provider(
            shared->size(), "text/csv",
            [shared, truncate_at](size_t offset, size_t length,
                                  httplib::DataSink& sink) {
              if (offset >= truncate_at)
                return false;  // Closes the connection.
              const size_t n = std::min(length, truncate_at - offset);
              sink.write(shared->data() + offset, n);
              return true;
            });
      });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) absl::SleepFor(absl::Milliseconds(1));
}

SourceHttpServer::~SourceHttpServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void SourceHttpServer::Serve(std::string body, std::string etag,
                             std::string last_modified) {
  absl::MutexLock lock(&mu_);
  status_ = 200;
  body_ = std::move(body);
  etag_ = std::move(etag);
  last_modified_ = std::move(last_modified);
  truncate_at_ = std::string::npos;
}

void SourceHttpServer::ServePath(const std::string& path, std::string body) {
  absl::MutexLock lock(&mu_);
  paths_[path] = {200, std::move(body)};
}

void SourceHttpServer::FailPath(const std::string& path, int status) {
  absl::MutexLock lock(&mu_);
  paths_[path] = {status, ""};
}

void SourceHttpServer::Fail(int status) {
  absl::MutexLock lock(&mu_);
  status_ = status;
}

void SourceHttpServer::Truncate(std::string body, size_t bytes) {
  absl::MutexLock lock(&mu_);
  status_ = 200;
  body_ = std::move(body);
  etag_.clear();
  last_modified_.clear();
  truncate_at_ = bytes;
}

void SourceHttpServer::Delay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

std::string SourceHttpServer::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

int SourceHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

std::string SourceHttpServer::last_header(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  if (name == "If-None-Match") return if_none_match_;
  if (name == "If-Modified-Since") return if_modified_since_;
  if (name == "Authorization") return authorization_;
  return "";
}

}  // namespace georisk::ingest::testing
