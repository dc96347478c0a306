#include "services/ingest/source_runner.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "domain/provenance.h"
#include "formats/ftm_parser.h"
#include "services/importer/import_driver.h"
#include "services/ingest/source_fetcher.h"

namespace georisk::ingest {
namespace {

// The driver prints a summary and errors; a run keeps them in memory and
// uses the first error line as its reason.
class MemoryFile {
 public:
  MemoryFile() : file_(open_memstream(&data_, &size_)) {}
  ~MemoryFile() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(data_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return data_ == nullptr ? "" : std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
};

// IngestOptions.origin's limit (ingest_session.cc).
constexpr size_t kMaxOriginBytes = 128;

RunOutcome Failed(absl::Status status) {
  RunOutcome outcome;
  outcome.status = std::move(status);
  return outcome;
}

}  // namespace

std::string FetchOrigin(absl::string_view name, absl::Time fetched_at,
                        absl::string_view etag, absl::string_view sha256) {
  std::string origin =
      domain::SourceOrigin(name, fetched_at, absl::StrCat("etag:", etag));
  // Ingest takes origins of at most 128 bytes: a long ETag gives way to the
  // hash (a name has at most 64 bytes, so that always fits).
  if (etag.empty() || origin.size() > kMaxOriginBytes) {
    origin = domain::SourceOrigin(
        name, fetched_at, absl::StrCat("sha256:", sha256.substr(0, 16)));
  }
  return origin;
}

RunOutcome SourceRunner::Run(const Source& source,
                             const v1::SourceStatus& previous) {
  const v1::SourceConfig& c = source.config;
  absl::StatusOr<std::string> auth = ReadAuthHeader(c);
  if (!auth.ok()) return Failed(auth.status());

  FetchRequest request;
  request.url = c.url();
  // Conditional only on what was applied: a failed run leaves them as the
  // last success's.
  request.etag = previous.etag();
  request.last_modified = previous.last_modified();
  request.auth_header = *auth;
  request.max_bytes = source.max_bytes;
  request.timeout = source.timeout;
  request.path = absl::StrCat(options_.work_dir, "/", c.name(), ".body");
  const absl::Time fetched_at = options_.clock ? options_.clock() : absl::Now();
  absl::StatusOr<FetchResult> fetched = Fetch(request);
  if (!fetched.ok()) return Failed(fetched.status());

  RunOutcome outcome;
  outcome.fetched_at = fetched_at;
  outcome.etag = fetched->etag;
  outcome.last_modified = fetched->last_modified;
  outcome.sha256 =
      fetched->not_modified ? previous.content_sha256() : fetched->sha256;
  if (fetched->not_modified || (!previous.content_sha256().empty() &&
                                fetched->sha256 == previous.content_sha256())) {
    outcome.unchanged = true;
    outcome.records = previous.records();
    outcome.snapshot_records = previous.snapshot_records();
    return outcome;
  }

  if (c.delta_index()) {
    outcome.delta_version = previous.delta_version();
    absl::Status st =
        ApplyDeltaIndex(source, previous, request.path, *auth, &outcome);
    if (!st.ok()) {
      RunOutcome failed = Failed(st);
      failed.delta_version = outcome.delta_version;
      return failed;
    }
    return outcome;
  }
  absl::Status st =
      Import(source, previous, request.path, c.format(),
             FetchOrigin(c.name(), fetched_at, outcome.etag, outcome.sha256),
             &outcome);
  if (!st.ok()) return Failed(st);
  return outcome;
}

absl::Status SourceRunner::Import(const Source& source,
                                  const v1::SourceStatus& previous,
                                  const std::string& path,
                                  const std::string& format,
                                  const std::string& origin,
                                  RunOutcome* outcome) {
  const v1::SourceConfig& c = source.config;
  importer::ImportOptions import;
  import.files = {path};
  import.format = format;
  import.snapshot_sources = source.snapshot_sources;
  import.source = c.source();
  import.channel = options_.ingest;
  import.check_connection = false;  // An in-process channel.
  import.progress = importer::ProgressMode::kNone;
  import.origin = origin.substr(0, kMaxOriginBytes);
  MemoryFile out;
  MemoryFile err;
  import.out = out.file();
  import.err = err.file();

  if (!source.snapshot_sources.empty()) {
    // A snapshot is tried first: one that parses to nothing, or would end
    // too much, must not be applied.
    import.dry_run = true;
    const importer::ImportResult dry = importer::RunImportWithResult(import);
    if (!dry.status.ok()) return dry.status;
    if (dry.records_read == 0) {
      return absl::DataLossError(absl::StrCat(
          c.url(), ": the snapshot parsed to no record (", dry.parse_rejected,
          " rejected while parsing); not applied"));
    }
    const int64_t ended = dry.summary.ended();
    const int64_t base = previous.snapshot_records();
    if (base > 0 && source.max_ended_fraction < 1.0 &&
        static_cast<double>(ended) >
            source.max_ended_fraction * static_cast<double>(base)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "suspicious change: the snapshot would end %d of the %d signals "
          "and edges the last applied fetch held (more than "
          "max_ended_fraction %g); not applied",
          ended, base, source.max_ended_fraction));
    }
    import.dry_run = false;
  }
  const importer::ImportResult result = importer::RunImportWithResult(import);
  if (!result.status.ok()) return result.status;
  outcome->records += result.sent;
  outcome->snapshot_records += result.signals_and_edges;
  outcome->changes += result.summary.accepted() + result.summary.ended();
  return absl::OkStatus();
}

absl::Status SourceRunner::ApplyDeltaIndex(const Source& source,
                                           const v1::SourceStatus& previous,
                                           const std::string& path,
                                           const std::string& auth,
                                           RunOutcome* outcome) {
  const v1::SourceConfig& c = source.config;
  std::ifstream in(path, std::ios::binary);
  std::stringstream index;
  index << in.rdbuf();
  absl::StatusOr<std::vector<formats::DeltaVersion>> versions =
      formats::DeltaVersionsAfter(index.str(), previous.delta_version());
  if (!versions.ok()) {
    return absl::Status(
        versions.status().code(),
        absl::StrCat(c.url(), ": delta index: ", versions.status().message()));
  }
  for (const formats::DeltaVersion& v : *versions) {
    FetchRequest request;
    request.url = v.url;
    request.auth_header = auth;
    request.max_bytes = source.max_bytes;
    request.timeout = source.timeout;
    request.path = absl::StrCat(options_.work_dir, "/", c.name(), ".delta");
    const absl::Time fetched_at =
        options_.clock ? options_.clock() : absl::Now();
    absl::StatusOr<FetchResult> fetched = Fetch(request);
    if (!fetched.ok()) {
      return absl::Status(fetched.status().code(),
                          absl::StrCat("version ", v.version, ": ",
                                       fetched.status().message()));
    }
    absl::Status st = Import(
        source, previous, request.path, "ftm-delta",
        absl::StrCat(FetchOrigin(c.name(), fetched_at, "", fetched->sha256),
                     " version:", v.version),
        outcome);
    if (!st.ok()) {
      return absl::Status(
          st.code(), absl::StrCat("version ", v.version, ": ", st.message()));
    }
    outcome->delta_version = v.version;
  }
  return absl::OkStatus();
}

}  // namespace georisk::ingest
