#include "services/scorer/alertmanager/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"

namespace georisk::scorer {
namespace {

// Closes a file descriptor on scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() { Reset(-1); }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

absl::Status InvalidUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid URL \"", absl::CHexEscape(url), "\": ", why));
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

// Waits until `fd` is ready for `events` or `deadline` passes. Readiness
// includes errors and hang-ups: the caller's next socket call reports them.
absl::Status WaitFor(int fd, short events, absl::Time deadline,
                     absl::string_view what) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("timed out ", what));
    }
    const int64_t ms = std::min<int64_t>(
        INT_MAX, absl::ToInt64Milliseconds(left + absl::Milliseconds(1) -
                                           absl::Nanoseconds(1)));
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, static_cast<int>(ms));
    if (r > 0) return absl::OkStatus();
    if (r < 0 && errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat("poll ", what));
    }
  }
}

// Connects to host:port, trying each resolved address until one accepts.
absl::StatusOr<int> Connect(const HttpUrl& url, absl::Time deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* addresses = nullptr;
  const std::string port = absl::StrCat(url.port);
  const int gai =
      getaddrinfo(url.host.c_str(), port.c_str(), &hints, &addresses);
  if (gai != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", url.host, ": ", gai_strerror(gai)));
  }
  absl::Status last =
      absl::UnavailableError(absl::StrCat("no address for ", url.host));
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    ScopedFd fd(socket(a->ai_family,
                       a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       a->ai_protocol));
    if (fd.get() < 0) {
      last = absl::ErrnoToStatus(errno, "socket");
      continue;
    }
    if (connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = absl::UnavailableError(absl::StrCat("connect to ", url.authority,
                                                   ": ", std::strerror(errno)));
        continue;
      }
      absl::Status waited =
          WaitFor(fd.get(), POLLOUT, deadline,
                  absl::StrCat("connecting to ", url.authority));
      if (!waited.ok()) {
        last = waited;
        break;  // The deadline has passed: no time for other addresses.
      }
      int error = 0;
      socklen_t len = sizeof(error);
      if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
        error = errno;
      }
      if (error != 0) {
        last = absl::UnavailableError(absl::StrCat("connect to ", url.authority,
                                                   ": ", std::strerror(error)));
        continue;
      }
    }
    freeaddrinfo(addresses);
    return fd.Release();
  }
  freeaddrinfo(addresses);
  return last;
}

// Sends all of `data`. Returns the errno of a failed send() in `*send_errno`
// (and a non-OK status) so the caller can still look for an early response.
absl::Status SendAll(int fd, absl::string_view data, absl::Time deadline,
                     int* send_errno) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "sending the request"));
      continue;
    }
    *send_errno = errno;
    return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// "HTTP/1.x NNN[ reason]" -> NNN in 100..599.
bool ParseStatusLine(absl::string_view line, int* status) {
  if (!absl::ConsumePrefix(&line, "HTTP/1.") || line.size() < 5 ||
      !absl::ascii_isdigit(static_cast<unsigned char>(line[0])) ||
      line[1] != ' ' || (line.size() > 5 && line[5] != ' ')) {
    return false;
  }
  int code = 0;
  for (char c : line.substr(2, 3)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    code = code * 10 + (c - '0');
  }
  *status = code;
  return code >= 100 && code <= 599;
}

// Reads a response from a socket into a buffer, on demand, with a deadline.
class ResponseReader {
 public:
  ResponseReader(int fd, absl::Time deadline, const HttpClientOptions& options)
      : fd_(fd), deadline_(deadline), options_(options) {}

  absl::StatusOr<HttpClientResponse> Read() {
    HttpClientResponse response;
    std::string head;
    // Skip interim responses (100 Continue, 103 Early Hints).
    do {
      RETURN_IF_ERROR(ReadHead(&head));
      RETURN_IF_ERROR(ParseHead(head, &response.status));
      if (response.status == 101) {
        return absl::DataLossError("unexpected 101 Switching Protocols");
      }
    } while (response.status < 200);
    response.content_type = content_type_;
    if (response.status == 204 || response.status == 304) {
      return response;
    }
    if (chunked_) {
      RETURN_IF_ERROR(ReadChunked(&response.body));
    } else if (content_length_ >= 0) {
      RETURN_IF_ERROR(
          ReadLength(static_cast<size_t>(content_length_), &response.body));
    } else {
      RETURN_IF_ERROR(ReadToClose(&response.body));
    }
    return response;
  }

 private:
  // Reads more bytes into buf_. Returns false at end of stream.
  absl::StatusOr<bool> Fill() {
    char chunk[16384];
    while (true) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        RETURN_IF_ERROR(
            WaitFor(fd_, POLLIN, deadline_, "waiting for the response"));
        continue;
      }
      return absl::UnavailableError(
          absl::StrCat("recv: ", std::strerror(errno)));
    }
  }

  // Removes the next head (up to and including its blank line) from buf_.
  absl::Status ReadHead(std::string* head) {
    while (true) {
      size_t crlf = buf_.find("\r\n\r\n");
      size_t lf = buf_.find("\n\n");
      size_t end = std::min(crlf == std::string::npos ? crlf : crlf + 4,
                            lf == std::string::npos ? lf : lf + 2);
      if (end != std::string::npos && end <= options_.max_head_bytes) {
        head->assign(buf_, 0, end);
        buf_.erase(0, end);
        return absl::OkStatus();
      }
      if (buf_.size() > options_.max_head_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "response head larger than ", options_.max_head_bytes, " bytes"));
      }
      ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) {
        return absl::UnavailableError(
            buf_.empty() ? "connection closed without a response"
                         : "connection closed inside the response head");
      }
    }
  }

  absl::Status ParseHead(absl::string_view head, int* status) {
    std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
    for (absl::string_view& line : lines) absl::ConsumeSuffix(&line, "\r");
    if (!ParseStatusLine(lines[0], status)) {
      return absl::DataLossError(absl::StrCat(
          "malformed status line \"", absl::CHexEscape(lines[0]), "\""));
    }
    transfer_encoding_ = false;
    chunked_ = false;
    content_length_ = -1;
    content_type_.clear();
    for (size_t i = 1; i < lines.size(); ++i) {
      absl::string_view line = lines[i];
      if (line.empty()) continue;
      size_t colon = line.find(':');
      if (colon == 0 || colon == absl::string_view::npos || line[0] == ' ' ||
          line[0] == '\t') {
        return absl::DataLossError(absl::StrCat("malformed header line \"",
                                                absl::CHexEscape(line), "\""));
      }
      absl::string_view name = line.substr(0, colon);
      absl::string_view value =
          absl::StripAsciiWhitespace(line.substr(colon + 1));
      if (absl::EqualsIgnoreCase(name, "content-length")) {
        int64_t length = -1;
        if (!absl::SimpleAtoi(value, &length) || length < 0 ||
            !absl::ascii_isdigit(static_cast<unsigned char>(value[0])) ||
            (content_length_ >= 0 && content_length_ != length)) {
          return absl::DataLossError(absl::StrCat(
              "invalid Content-Length \"", absl::CHexEscape(value), "\""));
        }
        content_length_ = length;
      } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
        // Chunked only if it is the last coding applied; with any other
        // coding the body ends when the connection closes.
        std::vector<absl::string_view> codings =
            absl::StrSplit(value, ',', absl::SkipWhitespace());
        transfer_encoding_ = true;
        chunked_ = !codings.empty() &&
                   absl::EqualsIgnoreCase(
                       absl::StripAsciiWhitespace(codings.back()), "chunked");
      } else if (absl::EqualsIgnoreCase(name, "content-type")) {
        content_type_ = std::string(value);
      }
    }
    // Transfer-Encoding overrides Content-Length (RFC 9112, 6.3).
    if (transfer_encoding_) content_length_ = -1;
    return absl::OkStatus();
  }

  absl::Status CheckBodySize(size_t size) const {
    if (size > options_.max_body_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "response body larger than ", options_.max_body_bytes, " bytes"));
    }
    return absl::OkStatus();
  }

  // Makes sure buf_ holds at least `n` bytes.
  absl::Status Need(size_t n, absl::string_view what) {
    while (buf_.size() < n) {
      ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) {
        return absl::UnavailableError(
            absl::StrCat("connection closed inside ", what));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadLength(size_t length, std::string* body) {
    RETURN_IF_ERROR(CheckBodySize(length));
    while (buf_.size() < length) {
      ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) {
        return absl::UnavailableError(absl::StrCat("connection closed after ",
                                                   buf_.size(), " of ", length,
                                                   " body bytes"));
      }
    }
    body->assign(buf_, 0, length);
    buf_.erase(0, length);
    return absl::OkStatus();
  }

  absl::Status ReadToClose(std::string* body) {
    while (true) {
      RETURN_IF_ERROR(CheckBodySize(buf_.size()));
      ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) break;
    }
    RETURN_IF_ERROR(CheckBodySize(buf_.size()));
    *body = std::move(buf_);
    buf_.clear();
    return absl::OkStatus();
  }

  // Removes one line (without its CRLF or LF) from buf_.
  absl::StatusOr<std::string> ReadLine(absl::string_view what) {
    while (true) {
      size_t lf = buf_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buf_.substr(0, lf);
        buf_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (buf_.size() > 4096) {
        return absl::DataLossError(absl::StrCat(what, " line too long"));
      }
      ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) {
        return absl::UnavailableError(
            absl::StrCat("connection closed inside ", what));
      }
    }
  }

  absl::Status ReadChunked(std::string* body) {
    while (true) {
      ASSIGN_OR_RETURN(std::string line, ReadLine("a chunk size"));
      absl::string_view size_text = line;
      size_t semicolon = size_text.find(';');  // Chunk extensions.
      if (semicolon != absl::string_view::npos) {
        size_text = size_text.substr(0, semicolon);
      }
      size_text = absl::StripAsciiWhitespace(size_text);
      uint64_t size = 0;
      if (size_text.empty() || size_text.size() > 15 ||
          !std::all_of(size_text.begin(), size_text.end(),
                       [](char c) {
                         return absl::ascii_isxdigit(
                             static_cast<unsigned char>(c));
                       }) ||
          !absl::SimpleHexAtoi(size_text, &size)) {
        return absl::DataLossError(absl::StrCat("malformed chunk size \"",
                                                absl::CHexEscape(line), "\""));
      }
      if (size == 0) break;
      RETURN_IF_ERROR(CheckBodySize(body->size() + size));
      RETURN_IF_ERROR(Need(size + 2, "a chunk"));
      body->append(buf_, 0, size);
      absl::string_view rest = absl::string_view(buf_).substr(size);
      if (absl::StartsWith(rest, "\r\n")) {
        buf_.erase(0, size + 2);
      } else if (absl::StartsWith(rest, "\n")) {
        buf_.erase(0, size + 1);
      } else {
        return absl::DataLossError("chunk not followed by CRLF");
      }
    }
    // Trailers, up to a blank line.
    for (int i = 0; i < 100; ++i) {
      ASSIGN_OR_RETURN(std::string trailer, ReadLine("the trailers"));
      if (trailer.empty()) return absl::OkStatus();
    }
    return absl::DataLossError("too many trailers");
  }

  const int fd_;
  const absl::Time deadline_;
  const HttpClientOptions& options_;
  std::string buf_;
  // Of the current head.
  bool transfer_encoding_ = false;
  bool chunked_ = false;
  int64_t content_length_ = -1;  // -1: none.
  std::string content_type_;
};

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url) {
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidUrl(url,
                        "whitespace, control or non-ASCII characters "
                        "(percent-encode them)");
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return InvalidUrl(url, "not an absolute http:// URL");
  }
  const absl::string_view scheme = url.substr(0, scheme_end);
  if (absl::EqualsIgnoreCase(scheme, "https")) {
    return InvalidUrl(url, "https is not supported (no TLS); use http://");
  }
  if (!absl::EqualsIgnoreCase(scheme, "http")) {
    return InvalidUrl(url, absl::StrCat("scheme \"", scheme,
                                        "\" is not supported; use http://"));
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  HttpUrl parsed;
  absl::string_view authority = rest.substr(0, authority_end);
  absl::string_view target = authority_end == absl::string_view::npos
                                 ? absl::string_view()
                                 : rest.substr(authority_end);
  if (authority.find('@') != absl::string_view::npos) {
    return InvalidUrl(url, "user info (user@host) is not supported");
  }
  absl::string_view host;
  absl::string_view port;
  bool has_port = false;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return InvalidUrl(url, "unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) {
        return InvalidUrl(url, "junk after the IPv6 address");
      }
      has_port = true;
      port = after;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return absl::ascii_isxdigit(static_cast<unsigned char>(c)) ||
                 c == ':' || c == '.';
        })) {
      return InvalidUrl(url, "malformed IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      has_port = true;
      port = authority.substr(colon + 1);
    }
    if (host.empty()) return InvalidUrl(url, "no host");
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return InvalidUrl(url, "malformed host");
    }
  }
  if (has_port) {
    int number = 0;
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(),
                     [](char c) {
                       return absl::ascii_isdigit(
                           static_cast<unsigned char>(c));
                     }) ||
        !absl::SimpleAtoi(port, &number) || number < 1 || number > 65535) {
      return InvalidUrl(url, "the port must be a number in 1..65535");
    }
    parsed.port = number;
  }
  parsed.host = std::string(host);
  parsed.authority = std::string(authority);
  target = target.substr(0, target.find('#'));
  if (target.empty()) {
    parsed.target = "/";
  } else if (target[0] == '?') {
    parsed.target = absl::StrCat("/", target);
  } else {
    parsed.target = std::string(target);
  }
  return parsed;
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<HttpClientResponse> HttpClient::Get(
    absl::string_view url, absl::Duration timeout) const {
  return Exchange("GET", url, "", "", timeout);
}

absl::StatusOr<HttpClientResponse> HttpClient::Post(
    absl::string_view url, absl::string_view content_type,
    absl::string_view body, absl::Duration timeout) const {
  return Exchange("POST", url, content_type, body, timeout);
}

absl::StatusOr<HttpClientResponse> HttpClient::Exchange(
    absl::string_view method, absl::string_view url,
    absl::string_view content_type, absl::string_view body,
    absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  // Every error names the request.
  auto annotate = [&](const absl::Status& status) {
    return absl::Status(status.code(),
                        absl::StrCat(method, " ", url, ": ", status.message()));
  };
  ASSIGN_OR_RETURN(HttpUrl parsed, ParseHttpUrl(url));
  if (timeout <= absl::ZeroDuration()) {
    return annotate(absl::InvalidArgumentError(absl::StrCat(
        "the timeout must be positive, not ", absl::FormatDuration(timeout))));
  }
  for (char c : content_type) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return annotate(absl::InvalidArgumentError(
          "the content type has control characters"));
    }
  }

  std::string request = absl::StrCat(
      method, " ", parsed.target, " HTTP/1.1\r\nHost: ", parsed.authority,
      "\r\nUser-Agent: ", options_.user_agent,
      "\r\nAccept: */*\r\nConnection: close\r\n");
  if (method == "POST") {
    absl::StrAppend(&request, "Content-Type: ", content_type,
                    "\r\nContent-Length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&request, "\r\n", body);

  absl::StatusOr<int> connected = Connect(parsed, deadline);
  if (!connected.ok()) return annotate(connected.status());
  ScopedFd fd(*connected);

  int send_errno = 0;
  absl::Status sent = SendAll(fd.get(), request, deadline, &send_errno);
  if (!sent.ok() && send_errno == 0) return annotate(sent);  // Timed out.
  // The peer may have answered and closed before taking the whole request
  // (EPIPE, ECONNRESET): return its answer if there is one.
  ResponseReader reader(fd.get(), deadline, options_);
  absl::StatusOr<HttpClientResponse> response = reader.Read();
  if (!response.ok()) return annotate(sent.ok() ? response.status() : sent);
  return response;
}

}  // namespace georisk::scorer
