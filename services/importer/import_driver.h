// File: services/importer/import_driver.h
//
// The import driver behind `georiskctl import FILE...` (and ingest's
// scheduled sources): parses files in any format of formats/parsers.h and
// streams their records to the Ingest service in one stream, with a progress
// bar on a terminal (plain progress lines otherwise), then prints the summary
// and, on request, writes every rejection as JSON lines.
//
//   georiskctl import data/suppliers.csv data/owners.ftm.json
//       [--format=auto|jsonl|csv-entities|csv-edges|ftm|csl-csv|csl-json]
//       [--snapshot_source=S[,S...]] [--source=S] [--rejections=FILE]
//       [--dry_run]
//       [--progress=auto|bar|lines|none] [--ingest=ADDR] [--resume_from=N]
//
// Resuming: records are numbered across the files, in order, from 0 (each
// mutation a line yields; lines rejected while parsing get no number). When
// an import stops (ingest or graphstore unavailable), it prints
// "resume with --resume_from=N": every record before N was handled, and the
// same command with that flag skips them and sends the rest. Records at or
// after N that had in fact been applied come back as duplicates (idempotency
// keys) or unchanged, so resuming never double-counts.
//
// The summary ends with what ingest's resolution made of the imported
// entities (ingest.proto's ImportResolution: linked automatically, already
// linked, waiting for review, kept refused, new parties, not resolved and
// why, links written), when ingest resolves. With --output json it is one
// JSON object: the command's own counts and ingest's summary under
// "summary", by the proto's field names.
//
// Records rejected while parsing never leave the machine; the service
// rejects the rest (graph rules, missing endpoints). Both kinds are reported
// with their file and line. FollowTheMoney files are read twice, companies
// and sanctions first, then ownerships (whose endpoints must exist).
//
// Exit codes (services/common/exit_codes.h): kExitOk; kExitRejected (1) when
// any record was rejected (the rest is imported); kExitUsage (2) for bad flags
// or unreadable files; kExitUnavailable (3) when the Ingest service (or
// GraphStore behind it) cannot be reached; kExitFailed (1) when the import
// stopped for another reason (the message says from which record to
// resume).
//
// Not thread-safe: one import at a time per process (it owns its output).
#ifndef GEORISK_SERVICES_IMPORTER_IMPORT_DRIVER_H_
#define GEORISK_SERVICES_IMPORTER_IMPORT_DRIVER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/ingest.pb.h"
#include "grpcpp/channel.h"
#include "services/common/exit_codes.h"

namespace georisk::importer {

enum class ProgressMode {
  kAuto,   // kBar when `out` is a terminal, else kLines.
  kBar,    // One line redrawn in place (\r), at most 10 times a second.
  kLines,  // A plain line every progress_interval.
  kNone,
};

struct ImportOptions {
  // Files to import, in order, in one Ingest stream.
  std::vector<std::string> files;
  // A format name of parsers.h ("auto": detect each file's).
  std::string format = "auto";
  // The sources the stream is a whole snapshot of (IngestOptions'
  // snapshot_source, then snapshot_sources for the rest); empty for none.
  std::vector<std::string> snapshot_sources;
  // FTM and CSL records' source (ParserOptions.source). Empty: the formats'
  // defaults, except that an FTM snapshot import of one source takes it (an
  // FTM snapshot of several needs `source`).
  std::string source;
  // Where to write rejections, one JSON object a line; empty for nowhere.
  std::string rejections_path;
  // Validate only (IngestOptions.dry_run).
  bool dry_run = false;
  // The change-log origin (IngestOptions.origin, at most 128 bytes);
  // empty: "import:<first file's name>[ and N more] started <now, RFC 3339
  // UTC>" (domain/provenance.h), which explanations show as the signals'
  // provenance.
  std::string origin;
  // Skip the first resume_from records (see "Resuming" above). Default 0.
  int64_t resume_from = 0;
  // The Ingest service's gRPC target, and the channel to it (if null, a
  // plaintext one to ingest_address).
  std::string ingest_address = "127.0.0.1:50052";
  std::shared_ptr<grpc::Channel> channel;
  // Records per stream message, and bytes (a message closes at either).
  // 100 rather than 500: a 1M-record JSONL import end to end was faster in
  // 9 of 10 paired runs (BENCHMARKS.md, "Ingest").
  int records_per_message = 100;
  int64_t max_message_bytes = 4 << 20;
  // Longest line or record of an input file.
  int64_t max_record_bytes = 1 << 20;
  ProgressMode progress = ProgressMode::kAuto;
  // kLines: time between progress lines.
  absl::Duration progress_interval = absl::Seconds(5);
  // How long to wait for the service to accept a connection.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Wait for the channel to connect before streaming. False for a server's
  // in-process channel (ingest's scheduled sources), which has no
  // connectivity state to watch.
  bool check_connection = true;
  // Print the summary as one JSON object (georiskctl --output json)
  // instead of "key: value" lines. Progress and errors are unchanged.
  bool json = false;
  // Where the summary and progress go, and where errors go. Not owned.
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// Runs the import; returns the exit code.
int RunImport(const ImportOptions& options);

// What an import did, for a caller that is not a terminal (ingest's
// scheduled sources): RunImport's exit code, how the Ingest call ended and
// its summary (empty unless the call succeeded), and the driver's own
// counts.
struct ImportResult {
  int exit_code = 0;
  // OK, or the Ingest call's status (code and message), or a usage or I/O
  // error of the driver (INVALID_ARGUMENT, DATA_LOSS for a file that could
  // not be read to its end).
  absl::Status status;
  v1::IngestSummary summary;
  // Records the files yielded, rejected while parsing, and sent.
  int64_t records_read = 0;
  int64_t parse_rejected = 0;
  int64_t sent = 0;
  // Of those sent, the signal and edge upserts a snapshot can end: those of
  // the snapshot's sources (all of them without any).
  int64_t signals_and_edges = 0;
};

// RunImport, also returning what it did. Prints as RunImport does (to
// options.out and options.err).
ImportResult RunImportWithResult(const ImportOptions& options);

// Parses --progress: "auto", "bar", "lines" or "none". Errors:
// InvalidArgument naming the value. Thread-safe.
absl::StatusOr<ProgressMode> ParseProgressMode(absl::string_view text);

// Where the records sent in a stream came from: stream index -> file and
// line. Kept run-length encoded (a run of lines each giving the same number
// of records is one entry), so it stays small for large files.
class SourceMap {
 public:
  struct Location {
    int file = -1;     // Index in ImportOptions::files; -1 if unknown.
    int64_t line = 0;  // 1-based.
  };

  // The record on `line` of `file` became the next `records` records of the
  // stream.
  void Add(int file, int64_t line, int records);
  // Records added so far.
  int64_t size() const { return size_; }
  Location Find(int64_t index) const;

 private:
  struct Run {
    int64_t first_index;  // Stream index of the run's first record.
    int64_t first_line;
    int64_t lines;  // Consecutive lines in the run.
    int per_line;   // Records per line.
    int file;
  };
  std::vector<Run> runs_;
  int64_t size_ = 0;
};

// One progress report: "[=====>    ]  45%  12,345 records  6,789 records/s"
// (bar) or "import: 45% (5.6 MB of 12.3 MB), 12345 records, 6789 records/s"
// (line). `done_bytes`/`total_bytes` may be 0 (no percentage then).
std::string FormatProgress(bool bar, int64_t done_bytes, int64_t total_bytes,
                           int64_t records, absl::Duration elapsed,
                           absl::string_view file);

}  // namespace georisk::importer

#endif  // GEORISK_SERVICES_IMPORTER_IMPORT_DRIVER_H_
