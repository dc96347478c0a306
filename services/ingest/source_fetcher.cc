#include "services/ingest/source_fetcher.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace georisk::ingest {
namespace {

struct Sink {
  std::FILE* file = nullptr;
  EVP_MD_CTX* sha = nullptr;
  int64_t bytes = 0;
  int64_t max_bytes = 0;
  bool too_large = false;
  bool write_failed = false;
  std::string etag;
  std::string last_modified;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->bytes + static_cast<int64_t>(n) > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // Aborts the transfer (CURLE_WRITE_ERROR).
  }
  if (std::fwrite(data, 1, n, sink->file) != n) {
    sink->write_failed = true;
    return 0;
  }
  EVP_DigestUpdate(sink->sha, data, n);
  sink->bytes += static_cast<int64_t>(n);
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const absl::string_view name = line.substr(0, colon);
    absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "etag")) sink->etag = std::string(value);
    if (absl::EqualsIgnoreCase(name, "last-modified")) {
      sink->last_modified = std::string(value);
    }
  }
  return n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct ShaDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

absl::StatusOr<FetchResult> Fetch(const FetchRequest& request) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  std::unique_ptr<std::FILE, FileCloser> file(
      std::fopen(request.path.c_str(), "wb"));
  if (file == nullptr) {
    return absl::InternalError(absl::StrCat("cannot write ", request.path));
  }
  std::unique_ptr<EVP_MD_CTX, ShaDeleter> sha(EVP_MD_CTX_new());
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  Sink sink;
  sink.file = file.get();
  sink.sha = sha.get();
  sink.max_bytes = request.max_bytes;

  const bool is_file = absl::StartsWith(request.url, "file://");
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "georisk-ingest");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  // A redirect may not lead to file:// (a publisher must not make ingest
  // read its own disk).
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(
      c, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(request.max_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  curl_slist* raw_headers = nullptr;
  if (!request.etag.empty()) {
    raw_headers = curl_slist_append(
        raw_headers, absl::StrCat("If-None-Match: ", request.etag).c_str());
  }
  if (!request.last_modified.empty()) {
    raw_headers = curl_slist_append(
        raw_headers,
        absl::StrCat("If-Modified-Since: ", request.last_modified).c_str());
  }
  if (!request.auth_header.empty()) {
    raw_headers = curl_slist_append(raw_headers, request.auth_header.c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  if (headers != nullptr) curl_easy_setopt(c, CURLOPT_HTTPHEADER, raw_headers);

  const CURLcode code = curl_easy_perform(c);
  long http_status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_status);
  curl_off_t content_length = -1;
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
  if (std::fflush(file.get()) != 0) sink.write_failed = true;
  const std::string what = absl::StrCat(
      request.url, ": ", error[0] ? error : curl_easy_strerror(code));

  if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return absl::ResourceExhaustedError(absl::StrCat(
        request.url, ": body larger than max_bytes (", request.max_bytes, ")"));
  }
  if (sink.write_failed) {
    return absl::InternalError(absl::StrCat("cannot write ", request.path));
  }
  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(absl::StrCat(
          what, " (timeout ", absl::FormatDuration(request.timeout), ")"));
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
      if (sink.bytes > 0 || content_length > 0) {
        return absl::DataLossError(absl::StrCat(
            "truncated: ", what, " (", sink.bytes, " bytes of ",
            content_length >= 0 ? absl::StrCat(content_length) : "?", ")"));
      }
      return absl::UnavailableError(what);
    case CURLE_FILE_COULDNT_READ_FILE:
      return absl::FailedPreconditionError(what);
    default:
      return absl::UnavailableError(what);
  }
  FetchResult result;
  result.http_status = is_file ? 0 : http_status;
  if (!is_file) {
    if (http_status == 304) {
      result.not_modified = true;
      result.etag = sink.etag.empty() ? request.etag : sink.etag;
      result.last_modified = sink.last_modified.empty() ? request.last_modified
                                                        : sink.last_modified;
      return result;
    }
    if (http_status >= 500 || http_status == 429) {
      return absl::UnavailableError(
          absl::StrCat(request.url, ": HTTP ", http_status));
    }
    if (http_status != 200) {
      return absl::FailedPreconditionError(
          absl::StrCat(request.url, ": HTTP ", http_status));
    }
  }
  // No Accept-Encoding is sent, so Content-Length counts the bytes written.
  if (content_length >= 0 && sink.bytes != content_length) {
    return absl::DataLossError(
        absl::StrCat("truncated: ", request.url, " (", sink.bytes,
                     " bytes of Content-Length ", content_length, ")"));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &digest_size);
  for (unsigned int i = 0; i < digest_size; ++i) {
    absl::StrAppendFormat(&result.sha256, "%02x", digest[i]);
  }
  result.etag = sink.etag;
  result.last_modified = sink.last_modified;
  result.bytes = sink.bytes;
  return result;
}

}  // namespace georisk::ingest
