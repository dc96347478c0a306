// File: services/ingest/source_runner.h
//
// One run of one scheduled source: fetch (source_fetcher.h, conditional on
// the last applied fetch), then, unless nothing changed, the guard and the
// import. The import is services/importer's driver over a channel to this
// ingest's own Ingest service (in-process), so a scheduled fetch is parsed
// by formats/, validated, resolved and applied exactly as `georiskctl
// import` would.
//
// The guard (snapshot sources with a previous applied fetch, and
// max_ended_fraction < 1): the import first runs as a dry run, whose
// summary says how many of the source's records the snapshot would end; if
// that is more than max_ended_fraction of the signals and edges the last
// applied fetch held (SourceStatus.snapshot_records), nothing is applied and
// the run fails "suspicious change". A fetch that fails (source_fetcher.h's
// errors: unreachable, 5xx, timeout, too large, truncated), parses to no
// record, or whose import fails is not applied either: the previous state stays
// in the graph.
//
// Delta index sources (SourceConfig.delta_index): the fetch is the index;
// its versions after previous.delta_version are fetched and imported one
// by one, oldest first (formats::DeltaVersionsAfter); a version that fails
// stops the run there, and the next run resumes after the last one applied.
//
// Provenance: the import's change-log origin is
// "source:<name> fetched <RFC 3339 UTC> <etag or sha256:...>" (see
// FetchOrigin()).
//
// Thread-compatible: the scheduler runs one source at a time.
#ifndef GEORISK_SERVICES_INGEST_SOURCE_RUNNER_H_
#define GEORISK_SERVICES_INGEST_SOURCE_RUNNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "georisk/v1/ingest.pb.h"
#include "grpcpp/channel.h"
#include "services/ingest/source_config.h"

namespace georisk::ingest {

// What a run did.
struct RunOutcome {
  // OK when applied or unchanged; else why nothing was applied.
  absl::Status status;
  // Nothing to apply: a 304, or the same bytes as the last applied fetch.
  bool unchanged = false;
  // Applied: records the fetch held, and changes (written + ended).
  int64_t records = 0;
  int64_t changes = 0;
  // Of `records`, the signals and edges (SourceStatus.snapshot_records).
  int64_t snapshot_records = 0;
  // delta_index sources: the last version applied, also when a later one
  // failed (the scheduler stores it either way); empty when none was.
  std::string delta_version;
  // The fetch (applied or unchanged).
  std::string etag;
  std::string last_modified;
  std::string sha256;
  absl::Time fetched_at;
};

// Runs one source; `previous` is its stored state (default for none).
using SourceRunFn =
    std::function<RunOutcome(const Source&, const v1::SourceStatus&)>;

struct SourceRunnerOptions {
  // The Ingest service the driver streams to (ingest's in-process channel).
  std::shared_ptr<grpc::Channel> ingest;
  // Where fetched bodies are written (<dir>/<name>.body), replaced each run.
  std::string work_dir;
  // The clock of fetched_at; null means absl::Now.
  std::function<absl::Time()> clock;
};

class SourceRunner {
 public:
  explicit SourceRunner(SourceRunnerOptions options)
      : options_(std::move(options)) {}
  RunOutcome Run(const Source& source, const v1::SourceStatus& previous);

 private:
  // Imports the fetched file `path` (after the guard, for snapshots) into
  // `outcome`'s counts.
  absl::Status Import(const Source& source, const v1::SourceStatus& previous,
                      const std::string& path, const std::string& format,
                      const std::string& origin, RunOutcome* outcome);
  // The delta index in `path`: fetch and import each version after
  // previous.delta_version.
  absl::Status ApplyDeltaIndex(const Source& source,
                               const v1::SourceStatus& previous,
                               const std::string& path, const std::string& auth,
                               RunOutcome* outcome);

  SourceRunnerOptions options_;
};

// The change-log origin of a fetch's import, e.g. "source:csl fetched
// 2026-12-06T14:00:00Z etag:\"abc\"" (the sha256's first 16 hex digits when
// the server sent no ETag).
std::string FetchOrigin(absl::string_view name, absl::Time fetched_at,
                        absl::string_view etag, absl::string_view sha256);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SOURCE_RUNNER_H_
