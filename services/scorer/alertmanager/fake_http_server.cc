#include "services/scorer/alertmanager/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace georisk::scorer {
namespace {

// Reads until `*buf` holds `n` bytes; false if the peer closes or errs.
bool ReadAtLeast(int fd, size_t n, std::string* buf) {
  char chunk[16384];
  while (buf->size() < n) {
    ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf->append(chunk, static_cast<size_t>(r));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::Start(
    FakeHttpHandler handler) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status status = absl::ErrnoToStatus(errno, "bind/listen");
    close(fd);
    return status;
  }
  std::unique_ptr<FakeHttpServer> server(
      new FakeHttpServer(fd, ntohs(addr.sin_port), std::move(handler)));
  server->accept_thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

FakeHttpServer::FakeHttpServer(int listen_fd, int port, FakeHttpHandler handler)
    : listen_fd_(listen_fd), port_(port), handler_(std::move(handler)) {}

FakeHttpServer::~FakeHttpServer() {
  Stop();
  close(listen_fd_);
}

std::string FakeHttpServer::Url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
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
  std::vector<std::thread> connections;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  accept_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections) t.join();
}

std::string FakeHttpServer::Response(int status, absl::string_view body,
                                     absl::string_view content_type) {
  return absl::StrCat("HTTP/1.1 ", status,
                      " Fake\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

void FakeHttpServer::AcceptLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    open_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buf;
  size_t head_end = std::string::npos;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadAtLeast(fd, buf.size() + 1, &buf)) break;
  }
  if (head_end != std::string::npos) {
    FakeHttpRequest request;
    request.head = buf.substr(0, head_end);
    std::vector<std::string> request_line =
        absl::StrSplit(request.head.substr(0, request.head.find("\r\n")), ' ');
    if (request_line.size() >= 2) {
      request.method = request_line[0];
      request.target = request_line[1];
    }
    size_t length = 0;
    for (absl::string_view line : absl::StrSplit(request.head, "\r\n")) {
      if (absl::StartsWithIgnoreCase(line, "content-length:")) {
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)),
                               &length);
      }
    }
    const size_t body_start = head_end + 4;
    if (ReadAtLeast(fd, body_start + length, &buf)) {
      request.body = buf.substr(body_start, length);
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(request);
      }
      const std::string response = handler_(request);
      size_t sent = 0;
      while (sent < response.size()) {
        ssize_t n = send(fd, response.data() + sent, response.size() - sent,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
    }
  }
  absl::MutexLock lock(&mu_);
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  close(fd);
}

}  // namespace georisk::scorer
