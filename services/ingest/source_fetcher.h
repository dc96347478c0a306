// File: services/ingest/source_fetcher.h
//
// Fetches one scheduled source's URL (http, https, file) into a file with
// libcurl: a conditional request from the last applied fetch's validators
// (If-None-Match, If-Modified-Since; a 304 is "not modified", nothing
// read), at most max_bytes, within timeout, and a body shorter than its
// Content-Length (the connection closed early) is an error, not a file.
//
//   FetchRequest request;
//   request.url = "https://example.org/list.csv";
//   request.etag = previous.etag();
//   request.path = "/var/lib/ingest/sources/csl.body";
//   absl::StatusOr<FetchResult> got = Fetch(request);
//
// Thread-safe (one curl handle per call).
#ifndef GEORISK_SERVICES_INGEST_SOURCE_FETCHER_H_
#define GEORISK_SERVICES_INGEST_SOURCE_FETCHER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace georisk::ingest {

struct FetchRequest {
  std::string url;
  // Validators of the last applied fetch; empty for none.
  std::string etag;
  std::string last_modified;
  // One header line ("Name: value") sent as is; never logged.
  std::string auth_header;
  int64_t max_bytes = int64_t{512} << 20;
  absl::Duration timeout = absl::Minutes(5);
  // Where the body goes (replaced). Left partial on error.
  std::string path;
};

struct FetchResult {
  // 304: the body did not change; nothing was written to `path`.
  bool not_modified = false;
  // HTTP status (0 for file://).
  int64_t http_status = 0;
  // The response's validators (kept from the request on a 304).
  std::string etag;
  std::string last_modified;
  int64_t bytes = 0;
  // SHA-256 of the body, lower-case hex (empty on a 304).
  std::string sha256;
};

// Errors, each message naming the URL (never the auth header):
//   UNAVAILABLE: connection failed, HTTP 5xx or 429;
//   DEADLINE_EXCEEDED: not done within timeout;
//   RESOURCE_EXHAUSTED: more than max_bytes;
//   DATA_LOSS: truncated (fewer bytes than Content-Length, or the
//     connection ended mid-body);
//   FAILED_PRECONDITION: another HTTP status (4xx), file:// not found;
//   INTERNAL: `path` not writable, curl could not start.
absl::StatusOr<FetchResult> Fetch(const FetchRequest& request);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SOURCE_FETCHER_H_
