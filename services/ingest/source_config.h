// File: services/ingest/source_config.h
//
// Ingest's scheduled sources config (--sources_config): a text proto of
// georisk.v1.SourcesConfig (ingest.proto), read and checked once at start.
//
//   sources {
//     name: "csl"  url: "https://data.trade.gov/.../consolidated.csv"
//     format: "csl-csv"  interval: "1h"
//     snapshot_sources: "trade.gov/csl:EL"  snapshot_sources:
//     "trade.gov/csl:SDN"
//   }
//
// docs/scheduled-sources.md lists every field and its default.
#ifndef GEORISK_SERVICES_INGEST_SOURCE_CONFIG_H_
#define GEORISK_SERVICES_INGEST_SOURCE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/ingest.pb.h"

namespace georisk::ingest {

// One source with its defaults filled in and its durations parsed.
struct Source {
  v1::SourceConfig config;
  absl::Duration interval;
  absl::Duration timeout;
  absl::Duration retry_initial;
  int64_t max_bytes = 0;
  double max_ended_fraction = 0.5;
  // Snapshot sources: config.snapshot_source (if set), then
  // config.snapshot_sources; empty for a delta source.
  std::vector<std::string> snapshot_sources;
};

// Checks `config` and fills in defaults. Errors: INVALID_ARGUMENT naming the
// source (by index when it has no name) and the field, e.g.
// "sources[1] (ofac).interval: must be >= 1s, got \"0s\"".
absl::StatusOr<std::vector<Source>> ValidateSources(
    const v1::SourcesConfig& config);

// Parses the text proto `text` and validates it. Errors: INVALID_ARGUMENT
// with the parser's line and column, or ValidateSources()'s.
absl::StatusOr<std::vector<Source>> ParseSourcesConfig(absl::string_view text);

// Reads `path` and parses it. NOT_FOUND when it cannot be read.
absl::StatusOr<std::vector<Source>> LoadSourcesConfig(const std::string& path);

// The header a source sends (auth_header_file or auth_header_env), read
// now; empty when it has none. FAILED_PRECONDITION when the file cannot be
// read or the variable is unset (the message names the file or variable,
// never the value).
absl::StatusOr<std::string> ReadAuthHeader(const v1::SourceConfig& config);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SOURCE_CONFIG_H_
