// File: services/scorer/alertmanager/http_client.h
//
// A small blocking HTTP/1.1 client over libcurl (Debian's libcurl4-openssl),
// for talking to peers such as Alertmanager: `http://` and `https://` (TLS
// with a CA file, a client certificate, bearer or basic auth, as
// Alertmanager deployments put behind a proxy use), one deadline for the
// whole exchange, connections kept alive between calls.
//
//   georisk::scorer::HttpClientOptions options;
//   options.tls.ca_file = "/etc/georisk/alertmanager-ca.pem";
//   options.auth.bearer_token = token;
//   georisk::scorer::HttpClient client(options);
//   absl::StatusOr<georisk::scorer::HttpClientResponse> response = client.Post(
//       "https://alertmanager:9093/api/v2/alerts", "application/json", body,
//       absl::Seconds(10));
//   if (!response.ok()) return response.status();   // Network trouble.
//   if (response->status / 100 != 2) { ... }        // The peer said no.
//
// Responses: libcurl reads the body by Content-Length, chunked coding or up to
// the close, and skips interim 1xx responses. An HTTP error status (4xx, 5xx)
// is a successful exchange: it is returned in HttpClientResponse::status, not
// as an error. Redirects are not followed.
//
// Connections: each call takes an idle libcurl easy handle for its URL's
// scheme, host and port from a small pool (or makes one), so consecutive
// calls to one target reuse its connection and TLS session. Signals are off
// (CURLOPT_NOSIGNAL), so a peer that goes away never raises SIGPIPE, and name
// resolution runs in libcurl's resolver thread, bounded by the timeout.

#ifndef GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_
#define GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace georisk::scorer {

// The parts of an `http(s)://host[:port][/path][?query]` URL a client needs.
struct HttpUrl {
  // "http" or "https", lower case.
  std::string scheme;
  // Host name or numeric address; an IPv6 address without its brackets.
  std::string host;
  // 1..65535; 80 (http) or 443 (https) when the URL names none.
  int port = 80;
  // "host[:port]" as written in the URL (brackets kept): the Host header.
  std::string authority;
  // Path and query, always starting with '/' ("/" when the URL has no path);
  // a fragment ("#...") is dropped.
  std::string target;
};

// Parses and validates an absolute `http://` or `https://` URL. The scheme is
// matched without regard to case. Returns InvalidArgument, with the URL in
// the message, for: another scheme, user info (`user@host`; use
// HttpAuthOptions), an empty or malformed host, a port that is not a number
// in 1..65535, or whitespace or control characters anywhere.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

struct HttpClientResponse {
  // The status code, 200..599 (never 1xx: interim responses are skipped).
  int status = 0;
  // The Content-Type header, empty if absent.
  std::string content_type;
  // The body, de-chunked.
  std::string body;
};

// TLS settings for `https://` URLs (Prometheus' `tls_config`).
struct HttpTlsOptions {
  // PEM file of the CA certificates that may sign the peer's certificate.
  // Default: empty, the system's CA store.
  std::string ca_file;
  // PEM files of a client certificate and its key, for peers that require
  // one (mutual TLS). Both or neither. Default: empty, none.
  std::string cert_file;
  std::string key_file;
  // Skips verifying the peer's certificate and host name. For tests and
  // emergencies only. Default: false.
  bool insecure_skip_verify = false;
};

// Credentials sent with every request (Prometheus' `authorization` and
// `basic_auth`); at most one of the two. Default: none.
struct HttpAuthOptions {
  // Sent as `Authorization: Bearer <token>`.
  std::string bearer_token;
  // Sent as `Authorization: Basic ...` when the username is not empty.
  std::string basic_auth_username;
  std::string basic_auth_password;
};

struct HttpClientOptions {
  // Largest accepted response body; a larger one fails the call with
  // ResourceExhausted. Default 8 MiB.
  size_t max_body_bytes = 8 * 1024 * 1024;
  // The User-Agent header. Default "georisk".
  std::string user_agent = "georisk";
  HttpTlsOptions tls;
  HttpAuthOptions auth;
};

// Checks the options without touching the files: InvalidArgument for a
// client certificate without its key (or the reverse), or both a bearer
// token and basic auth.
absl::Status ValidateHttpClientOptions(const HttpClientOptions &options);

// Thread-safe: concurrent calls each take their own easy handle from the
// pool. Not copyable (it owns the pooled handles).
class HttpClient {
 public:
  // `options` should pass ValidateHttpClientOptions(); if it does not, every
  // call fails with its InvalidArgument.
  explicit HttpClient(HttpClientOptions options = HttpClientOptions());
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  // GET `url`. Errors (the method and URL are named in every message):
  //  - InvalidArgument: a URL ParseHttpUrl() refuses, `timeout` <= 0, or
  //    invalid options;
  //  - Unavailable: the host does not resolve, no address accepts the
  //    connection, the TLS handshake fails, or the connection fails or closes
  //    before the whole response has arrived;
  //  - FailedPrecondition: the peer's certificate does not verify, or the
  //    CA, certificate or key file cannot be used;
  //  - DeadlineExceeded: the exchange did not finish within `timeout`;
  //  - DataLoss: the peer's response is not valid HTTP/1.x;
  //  - ResourceExhausted: the body exceeds HttpClientOptions::max_body_bytes.
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
  // An idle easy handle (a CURL*) for `origin`, or a new one.
  void *TakeHandle(const std::string &origin) const;
  void ReturnHandle(const std::string &origin, void *handle) const;

  const HttpClientOptions options_;
  const absl::Status options_status_;

  mutable absl::Mutex mu_;
  // Idle easy handles per "scheme://host:port", each keeping its connection.
  mutable std::map<std::string, std::vector<void *>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERTMANAGER_HTTP_CLIENT_H_
