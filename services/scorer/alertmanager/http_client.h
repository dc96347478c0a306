// File: services/scorer/alertmanager/http_client.h
//
// A small blocking HTTP/1.1 client over POSIX sockets, for talking to peers
// such as Alertmanager on a private network: plain `http://` only (no TLS),
// one request per connection (`Connection: close`), one deadline for the
// whole exchange.
//
//   georisk::scorer::HttpClient client;
//   absl::StatusOr<georisk::scorer::HttpClientResponse> response = client.Post(
//       "http://127.0.0.1:9093/api/v2/alerts", "application/json", body,
//       absl::Seconds(10));
//   if (!response.ok()) return response.status();   // Network trouble.
//   if (response->status / 100 != 2) { ... }        // The peer said no.
//
// Responses: the body is read by Content-Length, by chunked transfer coding
// (trailers are read and dropped) or up to the connection's close; interim
// 1xx responses are skipped. An HTTP error status (4xx, 5xx) is a successful
// exchange: it is returned in HttpClientResponse::status, not as an error.
//
// Timeouts: connecting (to each resolved address in turn), sending and
// receiving all wait with poll() against one deadline, now + `timeout`.
// Name resolution (getaddrinfo) is the exception: it cannot be interrupted
// and is not bounded by `timeout`; numeric hosts ("127.0.0.1", "[::1]") skip
// it. Sockets are sent to with MSG_NOSIGNAL, so a peer that goes away never
// raises SIGPIPE.

#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::scorer {

// The parts of an `http://host[:port][/path][?query]` URL a client needs.
struct HttpUrl {
  // Host name or numeric address; an IPv6 address without its brackets.
  std::string host;
  // 1..65535; 80 when the URL names none.
  int port = 80;
  // "host[:port]" as written in the URL (brackets kept): the Host header.
  std::string authority;
  // Path and query, always starting with '/' ("/" when the URL has no path);
  // a fragment ("#...") is dropped.
  std::string target;
};

// Parses and validates an absolute `http://` URL. The scheme is matched
// without regard to case. Returns InvalidArgument, with the URL in the
// message, for: another scheme (`https://` is refused because this client
// has no TLS), user info (`user@host`), an empty or malformed host, a port
// that is not a number in 1..65535, or whitespace or control characters
// anywhere.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

struct HttpClientResponse {
  // The status code, 100..599 (never 1xx: interim responses are skipped).
  int status = 0;
  // The Content-Type header, empty if absent.
  std::string content_type;
  // The body, de-chunked.
  std::string body;
};

struct HttpClientOptions {
  // Largest accepted response head (status line and headers). Default 64 KiB.
  size_t max_head_bytes = 64 * 1024;
  // Largest accepted response body. Default 8 MiB.
  size_t max_body_bytes = 8 * 1024 * 1024;
  // The User-Agent header. Default "georisk".
  std::string user_agent = "georisk";
};

// Thread-safe: a client holds only its options, and each call uses its own
// connection, so one client may serve many threads at once.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = HttpClientOptions());

  // GET `url`. Errors (the method and URL are named in every message):
  //  - InvalidArgument: a URL ParseHttpUrl() refuses, or `timeout` <= 0;
  //  - Unavailable: the host does not resolve, no address accepts the
  //    connection, or the connection fails or closes before the whole
  //    response has arrived;
  //  - DeadlineExceeded: the exchange did not finish within `timeout`;
  //  - DataLoss: the peer's response is not valid HTTP/1.x;
  //  - ResourceExhausted: the response head or body exceeds the options'
  //    limits.
  absl::StatusOr<HttpClientResponse> Get(absl::string_view url,
                                         absl::Duration timeout) const;

  // POST `body` to `url` with the given Content-Type and a Content-Length.
  // Errors as Get(), plus InvalidArgument for a `content_type` with control
  // characters. If the peer answers and closes before taking the whole body
  // (say, 413), that answer is returned.
  absl::StatusOr<HttpClientResponse> Post(absl::string_view url,
                                          absl::string_view content_type,
                                          absl::string_view body,
                                          absl::Duration timeout) const;

 private:
  absl::StatusOr<HttpClientResponse> Exchange(absl::string_view method,
                                              absl::string_view url,
                                              absl::string_view content_type,
                                              absl::string_view body,
                                              absl::Duration timeout) const;

  const HttpClientOptions options_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_
