// File: domain/provenance.h
//
// The change-log origins georisk's importers write (ApplyRequest.origin,
// Change.origin, the update_origin of every entity, edge, signal and link),
// and reading them back, so that an explanation can say where a record came
// from: "Entity List via csl-el, fetched 2026-12-06 14:00 UTC"
// (docs/scheduled-sources.md, "Provenance").
//
//   scheduled source:  source:<name> fetched <RFC 3339 UTC> <validator>
//                      [ version:<delta version>]
//                      (<validator>: etag:<the ETag as sent, quotes kept> or
//                      sha256:<the body's first 16 hex digits>)
//   manual import:     import:<file name> started <RFC 3339 UTC>
//                      (georiskctl import: the first file's base name,
//                      " and N more" for more files; the time the import
//                      started, on the client's clock)
//   bulk load:         bulkload:<file name> started <RFC 3339 UTC>
//                      (georisk-bulkload: the file names as an import's;
//                      the time the load started)
//
// Anything else ("ingest", a direct GraphStore.Apply's own text, origins of
// older versions such as "georiskctl import") parses as kOther.
//
//   std::string o = SourceOrigin("csl-el", fetched_at, "etag:\"v1\"");
//   Origin parsed = ParseOrigin(o);  // kSource, "csl-el", fetched_at, ...
//
// Thread-safe: pure functions.
#ifndef GEORISK_DOMAIN_PROVENANCE_H_
#define GEORISK_DOMAIN_PROVENANCE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::domain {

struct Origin {
  enum class Kind { kOther, kSource, kImport, kBulkLoad };
  Kind kind = Kind::kOther;
  // kSource: the source's name (SourceConfig.name); kImport, kBulkLoad: the
  // file(s).
  std::string name;
  // When the fetch, the import or the load started; InfinitePast() for
  // kOther.
  absl::Time time = absl::InfinitePast();
  // kSource: "etag:..." or "sha256:...".
  std::string validator;
  // kSource of an OpenSanctions delta index: the version applied.
  std::string delta_version;
};

// "source:<name> fetched <fetched_at, RFC 3339 UTC, seconds> <validator>".
std::string SourceOrigin(absl::string_view name, absl::Time fetched_at,
                         absl::string_view validator);

// "import:<name> started <started, RFC 3339 UTC>", where <name> is the first
// file's base name, followed by " and N more" when there are more, cut (at a
// UTF-8 character) so that the origin has at most `max_bytes` bytes.
std::string ImportOrigin(const std::vector<std::string>& files,
                         absl::Time started, size_t max_bytes);

// "bulkload:<name> started <started, RFC 3339 UTC>", <name> and the cut as
// ImportOrigin's.
std::string BulkLoadOrigin(const std::vector<std::string>& files,
                           absl::Time started, size_t max_bytes);

// Reads an origin back; kOther (with nothing else set) for any text that is
// not one of the three forms above.
Origin ParseOrigin(absl::string_view origin);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_PROVENANCE_H_
