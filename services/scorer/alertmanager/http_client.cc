// File: services/scorer/alertmanager/http_client.cc
//
// HttpClient over libcurl's easy interface; see http_client.h.

#include "services/scorer/alertmanager/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"

namespace georisk::scorer {
namespace {

absl::Status InvalidUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid URL \"", absl::CHexEscape(url), "\": ", why));
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

// libcurl's process-wide setup, once, before the first handle.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Maps a failed transfer to the most specific code.
absl::StatusCode CodeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::StatusCode::kDataLoss;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:  // Our write callback refused: body too large.
      return absl::StatusCode::kResourceExhausted;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return absl::StatusCode::kFailedPrecondition;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return absl::StatusCode::kInvalidArgument;
    default:  // Resolve, connect, send, receive, TLS handshake, ...
      return absl::StatusCode::kUnavailable;
  }
}

struct Sink {
  std::string *body;
  size_t limit;
  bool overflow = false;
};

size_t WriteBody(char *data, size_t size, size_t n, void *user) {
  Sink *sink = static_cast<Sink *>(user);
  const size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->limit) {
    sink->overflow = true;
    return 0;  // libcurl fails the transfer with CURLE_WRITE_ERROR.
  }
  sink->body->append(data, bytes);
  return bytes;
}

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
    return InvalidUrl(url, "not an absolute http:// or https:// URL");
  }
  const absl::string_view scheme = url.substr(0, scheme_end);
  HttpUrl parsed;
  if (absl::EqualsIgnoreCase(scheme, "https")) {
    parsed.scheme = "https";
    parsed.port = 443;
  } else if (absl::EqualsIgnoreCase(scheme, "http")) {
    parsed.scheme = "http";
    parsed.port = 80;
  } else {
    return InvalidUrl(url, absl::StrCat("scheme \"", scheme,
                                        "\" is not supported; use http:// "
                                        "or https://"));
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, authority_end);
  absl::string_view target = authority_end == absl::string_view::npos
                                 ? absl::string_view()
                                 : rest.substr(authority_end);
  if (authority.find('@') != absl::string_view::npos) {
    return InvalidUrl(
        url, "user info (user@host) is not supported; use the auth options");
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

absl::Status ValidateHttpClientOptions(const HttpClientOptions &options) {
  if (options.tls.cert_file.empty() != options.tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls.cert_file and tls.key_file go together");
  }
  if (!options.auth.bearer_token.empty() &&
      !options.auth.basic_auth_username.empty()) {
    return absl::InvalidArgumentError(
        "auth: a bearer token and basic auth are mutually exclusive");
  }
  for (const std::string *s : {&options.user_agent, &options.auth.bearer_token,
                               &options.auth.basic_auth_username}) {
    if (std::any_of(s->begin(), s->end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      return absl::InvalidArgumentError(
          "user agent and credentials must not have control characters");
    }
  }
  return absl::OkStatus();
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)),
      options_status_(ValidateHttpClientOptions(options_)) {
  GlobalInit();
}

HttpClient::~HttpClient() {
  absl::MutexLock lock(&mu_);
  for (auto &[origin, handles] : idle_) {
    for (void *handle : handles) curl_easy_cleanup(static_cast<CURL *>(handle));
  }
}

void *HttpClient::TakeHandle(const std::string &origin) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(origin);
    if (it != idle_.end() && !it->second.empty()) {
      void *handle = it->second.back();
      it->second.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReturnHandle(const std::string &origin, void *handle) const {
  // Keeps at most a few idle handles per target: one per concurrent caller.
  constexpr size_t kMaxIdlePerOrigin = 4;
  {
    absl::MutexLock lock(&mu_);
    std::vector<void *> &idle = idle_[origin];
    if (idle.size() < kMaxIdlePerOrigin) {
      idle.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL *>(handle));
}

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
  // Every error names the request.
  auto annotate = [&](absl::StatusCode code, absl::string_view message) {
    return absl::Status(code, absl::StrCat(method, " ", url, ": ", message));
  };
  if (!options_status_.ok()) {
    return annotate(options_status_.code(), options_status_.message());
  }
  ASSIGN_OR_RETURN(HttpUrl parsed, ParseHttpUrl(url));
  if (timeout <= absl::ZeroDuration()) {
    return annotate(absl::StatusCode::kInvalidArgument,
                    absl::StrCat("the timeout must be positive, not ",
                                 absl::FormatDuration(timeout)));
  }
  for (char c : content_type) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return annotate(absl::StatusCode::kInvalidArgument,
                      "the content type has control characters");
    }
  }

  const std::string origin =
      absl::StrCat(parsed.scheme, "://", parsed.authority);
  CURL *curl = static_cast<CURL *>(TakeHandle(origin));
  if (curl == nullptr) {
    return annotate(absl::StatusCode::kResourceExhausted,
                    "curl_easy_init failed");
  }
  // A pooled handle keeps its connection and TLS session, not its options.
  curl_easy_reset(curl);
  const std::string full_url = absl::StrCat(origin, parsed.target);
  HttpClientResponse response;
  Sink sink{&response.body, options_.max_body_bytes};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, full_url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(
                       1, absl::ToInt64Milliseconds(timeout))));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_body_bytes));
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  // TLS.
  if (!options_.tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
  }
  if (!options_.tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls.key_file.c_str());
  }
  if (options_.tls.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // Credentials.
  if (!options_.auth.bearer_token.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER,
                     options_.auth.bearer_token.c_str());
  } else if (!options_.auth.basic_auth_username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME,
                     options_.auth.basic_auth_username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD,
                     options_.auth.basic_auth_password.c_str());
  }
  // Headers: no `Expect: 100-continue` wait for small alert batches.
  curl_slist *headers = curl_slist_append(nullptr, "Accept: */*");
  headers = curl_slist_append(headers, "Expect:");
  const std::string content_type_header =
      absl::StrCat("Content-Type: ", content_type);
  if (method == "POST") {
    headers = curl_slist_append(headers, content_type_header.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  char *type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) response.content_type = type;
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  ReturnHandle(origin, curl);

  if (code != CURLE_OK) {
    if (sink.overflow || code == CURLE_FILESIZE_EXCEEDED) {
      return annotate(absl::StatusCode::kResourceExhausted,
                      absl::StrCat("the response body exceeds ",
                                   options_.max_body_bytes, " bytes"));
    }
    // A peer that answered and closed before taking the whole body (say,
    // 413) still answered.
    if (code == CURLE_SEND_ERROR && status >= 200) {
      response.status = static_cast<int>(status);
      return response;
    }
    return annotate(CodeFor(code),
                    error[0] != '\0' ? error : curl_easy_strerror(code));
  }
  if (status < 200 || status > 599) {
    return annotate(absl::StatusCode::kDataLoss,
                    absl::StrCat("invalid status code ", status));
  }
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace georisk::scorer
