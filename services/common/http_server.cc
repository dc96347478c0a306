#include "services/common/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace georisk::common {
namespace {

constexpr char kAllowedMethods[] = "GET, HEAD";

// Closes a file descriptor on scope exit unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

const char* ReasonPhrase(int status) {
  static constexpr struct {
    int status;
    const char* reason;
  } kReasons[] = {
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& entry : kReasons) {
    if (entry.status == status) return entry.reason;
  }
  return "";  // The reason phrase is optional.
}

HttpResponse ErrorResponse(int status) {
  HttpResponse response;
  response.status = status;
  response.body = absl::StrCat(status, " ", ReasonPhrase(status), "\n");
  return response;
}

// Returns the offset just past the blank line that ends a request head
// ("\r\n\r\n", or "\n\n" from lax clients), looking from `from`, or npos.
size_t FindHeadEnd(absl::string_view data, size_t from) {
  for (size_t i = data.find('\n', from); i != absl::string_view::npos;
       i = data.find('\n', i + 1)) {
    size_t j = i + 1;
    if (j < data.size() && data[j] == '\r') ++j;
    if (j < data.size() && data[j] == '\n') return j + 1;
  }
  return absl::string_view::npos;
}

// Parses the request line of `head` into `*request`. Returns 0, or the status
// to answer with: 400 if malformed, 505 for a version other than 1.x, 405 for
// a method other than GET and HEAD.
int ParseRequestLine(absl::string_view head, HttpRequest* request) {
  absl::string_view line = head.substr(0, head.find('\n'));
  absl::ConsumeSuffix(&line, "\r");
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3) return 400;
  const absl::string_view method = parts[0];
  const absl::string_view target = parts[1];
  const absl::string_view version = parts[2];
  if (method.empty() ||
      !std::all_of(method.begin(), method.end(), absl::ascii_isupper)) {
    return 400;
  }
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/") ||
      !absl::ascii_isdigit(version[5]) || version[6] != '.' ||
      !absl::ascii_isdigit(version[7])) {
    return 400;
  }
  if (version[5] != '1') return 505;
  if (method != "GET" && method != "HEAD") return 405;
  if (!absl::StartsWith(target, "/")) return 400;
  const size_t question = target.find('?');
  request->method = std::string(method);
  request->path = std::string(target.substr(0, question));
  request->query = question == absl::string_view::npos
                       ? ""
                       : std::string(target.substr(question + 1));
  return 0;
}

// The status line, headers and (unless `head_only`) body of `response`.
std::string FormatResponse(const HttpResponse& response, bool head_only) {
  std::string out = absl::StrCat(
      "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status),
      "\r\nContent-Type: ", response.content_type,
      "\r\nContent-Length: ", response.body.size(), "\r\n");
  if (response.status == 405) {
    absl::StrAppend(&out, "Allow: ", kAllowedMethods, "\r\n");
  }
  absl::StrAppend(&out, "Connection: close\r\n\r\n");
  if (!head_only) out.append(response.body);
  return out;
}

bool IsValidHandlerResponse(const HttpResponse& response) {
  return response.status >= 200 && response.status <= 599 &&
         response.status != 204 && response.status != 304 &&
         response.content_type.find_first_of("\r\n") == std::string::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& host, int port, HttpHandler handler,
    const HttpServerOptions& options) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", port, " is outside 0..65535"));
  }
  if (handler == nullptr) {
    return absl::InvalidArgumentError("handler must not be empty");
  }
  if (options.read_timeout <= absl::ZeroDuration() ||
      options.write_timeout <= absl::ZeroDuration() ||
      options.max_head_bytes < 64 || options.num_workers < 1 ||
      options.max_queued_connections < 1) {
    return absl::InvalidArgumentError("invalid HttpServerOptions");
  }

  sockaddr_storage address = {};
  socklen_t address_size = 0;
  absl::string_view numeric = host;
  if (absl::ConsumePrefix(&numeric, "[")) {
    if (!absl::ConsumeSuffix(&numeric, "]")) numeric = host;  // Fails below.
  }
  const std::string host_only(numeric);
  auto* ipv4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* ipv6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host_only.c_str(), &ipv4->sin_addr) == 1) {
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(static_cast<uint16_t>(port));
    address_size = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_only.c_str(), &ipv6->sin6_addr) == 1) {
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(static_cast<uint16_t>(port));
    address_size = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("host \"", host, "\" is not a numeric IP address"));
  }

  ScopedFd listen_fd(
      socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (listen_fd.get() < 0) return ErrnoStatus("socket");
  const int one = 1;
  if (setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one,
                 sizeof(one)) != 0) {
    return ErrnoStatus("setsockopt(SO_REUSEADDR)");
  }
  if (bind(listen_fd.get(), reinterpret_cast<const sockaddr*>(&address),
           address_size) != 0) {
    return ErrnoStatus(absl::StrCat("bind ", host, ":", port));
  }
  if (listen(listen_fd.get(), SOMAXCONN) != 0) return ErrnoStatus("listen");
  sockaddr_storage bound = {};
  socklen_t bound_size = sizeof(bound);
  if (getsockname(listen_fd.get(), reinterpret_cast<sockaddr*>(&bound),
                  &bound_size) != 0) {
    return ErrnoStatus("getsockname");
  }
  const int bound_port =
      ntohs(bound.ss_family == AF_INET
                ? reinterpret_cast<const sockaddr_in*>(&bound)->sin_port
                : reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) return ErrnoStatus("pipe2");

  return std::unique_ptr<HttpServer>(
      new HttpServer(listen_fd.release(), bound_port, pipe_fds[0], pipe_fds[1],
                     std::move(handler), options));
}

HttpServer::HttpServer(int listen_fd, int port, int wake_read_fd,
                       int wake_write_fd, HttpHandler handler,
                       const HttpServerOptions& options)
    : listen_fd_(listen_fd),
      port_(port),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      handler_(std::move(handler)),
      options_(options) {
  accept_thread_ = std::thread(&HttpServer::AcceptLoop, this);
  for (int i = 0; i < options_.num_workers; ++i) {
    workers_.emplace_back(&HttpServer::WorkerLoop, this);
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  std::call_once(stop_once_, [this] {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    const char byte = 0;
    while (write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
    }
    accept_thread_.join();
    for (std::thread& worker : workers_) worker.join();
    {
      absl::MutexLock lock(&mu_);
      for (int fd : queue_) close(fd);
      queue_.clear();
    }
    close(listen_fd_);
    close(wake_read_fd_);
    close(wake_write_fd_);
  });
}

HttpServer::Wait HttpServer::WaitFor(int fd, short events,
                                     absl::Time deadline) const {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return Wait::kTimedOut;
    const int timeout_ms = static_cast<int>(std::min<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
        INT_MAX));
    pollfd fds[2] = {{wake_read_fd_, POLLIN, 0}, {fd, events, 0}};
    const int ready = poll(fds, fd < 0 ? 1 : 2, timeout_ms);
    if (ready < 0 && errno != EINTR) return Wait::kStopping;  // Cannot wait.
    if (fds[0].revents != 0) return Wait::kStopping;
    // Readiness, or an error or hangup that the next call on `fd` reports.
    if (fd >= 0 && fds[1].revents != 0) return Wait::kReady;
  }
}

void HttpServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{wake_read_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      // Should not happen; back off rather than spin.
      if (WaitFor(-1, 0, absl::Now() + absl::Milliseconds(100)) ==
          Wait::kStopping) {
        return;
      }
      continue;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents == 0) continue;
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of descriptors or memory: wait for connections to finish
        // instead of spinning on the pending one.
        if (WaitFor(-1, 0, absl::Now() + absl::Milliseconds(100)) ==
            Wait::kStopping) {
          return;
        }
      }
      continue;  // EAGAIN, ECONNABORTED, EINTR, ...
    }
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= static_cast<size_t>(options_.max_queued_connections)) {
      close(fd);  // Overloaded: shed the connection.
    } else {
      queue_.push_back(fd);
    }
  }
}

void HttpServer::WorkerLoop() {
  while (true) {
    int fd;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &HttpServer::HasWorkOrStopping));
      if (stopping_) return;  // Stop() closes what is still queued.
      fd = queue_.front();
      queue_.pop_front();
    }
    Serve(fd);
    close(fd);
  }
}

void HttpServer::Serve(int fd) {
  std::string head;
  const int head_status = ReadHead(fd, &head);
  if (head_status < 0) return;

  HttpRequest request;
  const int request_status =
      head_status != 0 ? head_status : ParseRequestLine(head, &request);
  HttpResponse response;
  if (request_status != 0) {
    response = ErrorResponse(request_status);
  } else {
    response = handler_(request);
    if (!IsValidHandlerResponse(response)) response = ErrorResponse(500);
  }
  // A client that timed out gets no more of a worker's time.
  if (WriteAll(fd, FormatResponse(response, request.method == "HEAD")) &&
      response.status != 408) {
    Linger(fd);
  }
}

int HttpServer::ReadHead(int fd, std::string* head) const {
  const absl::Time deadline = absl::Now() + options_.read_timeout;
  char buffer[4096];
  head->clear();
  while (head->size() < options_.max_head_bytes) {
    switch (WaitFor(fd, POLLIN, deadline)) {
      case Wait::kReady:
        break;
      case Wait::kTimedOut:
        return 408;
      case Wait::kStopping:
        return -1;
    }
    const size_t want =
        std::min(sizeof(buffer), options_.max_head_bytes - head->size());
    const ssize_t n = recv(fd, buffer, want, 0);
    if (n == 0) return -1;  // The client went away.
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return -1;
    }
    // The blank line may straddle the previous read.
    const size_t from = head->size() < 2 ? 0 : head->size() - 2;
    head->append(buffer, static_cast<size_t>(n));
    const size_t end = FindHeadEnd(*head, from);
    if (end != absl::string_view::npos) {
      head->resize(end);  // Drop any body.
      return 0;
    }
  }
  return 431;
}

bool HttpServer::WriteAll(int fd, const std::string& data) const {
  const absl::Time deadline = absl::Now() + options_.write_timeout;
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n =
        send(fd, data.data() + written, data.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
    if (WaitFor(fd, POLLOUT, deadline) != Wait::kReady) return false;
  }
  return true;
}

void HttpServer::Linger(int fd) const {
  // Closing a socket with unread input resets the connection, which can
  // destroy the response before the client reads it (say a 405 to a POST
  // with a body). So half-close, then read until the client closes too, for
  // at most read_timeout and 1 MiB.
  constexpr size_t kMaxDrainBytes = 1 << 20;
  shutdown(fd, SHUT_WR);
  const absl::Time deadline = absl::Now() + options_.read_timeout;
  char buffer[4096];
  size_t drained = 0;
  while (drained < kMaxDrainBytes &&
         WaitFor(fd, POLLIN, deadline) == Wait::kReady) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      drained += static_cast<size_t>(n);
    } else if (n == 0 ||
               (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      return;
    }
  }
}

}  // namespace georisk::common
