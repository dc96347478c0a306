// File: formats/record_parser.h
//
// The file formats ingest reads (docs/formats.md), behind one interface: a
// RecordParser reads an input stream incrementally and yields, for each
// record of the input, either the mutations it becomes (normalised and
// validated by the graph's record rules) or a precise rejection: the line the
// record starts on, the input field at fault and why.
//
//   std::ifstream file(path, std::ios::binary);
//   absl::StatusOr<std::unique_ptr<RecordParser>> parser =
//       MakeParser(Format::kCslCsv, &file, {});  // parsers.h
//   ParsedRecord record;
//   while ((*parser)->Next(&record)) {
//     if (record.rejected()) {
//       Report(record.line, record.field, record.reason);
//     } else {
//       for (v1::Mutation& m : record.mutations) Send(std::move(m));
//     }
//   }
//
// Memory is bounded by ParserOptions::max_record_bytes whatever the input: a
// longer line or record is skipped without being held and rejected as "line
// longer than N bytes". Garbage never crashes a parser; it is rejected.
//
// Checks that need the graph (an edge's endpoints exist) are GraphStore's.
//
// Not thread-safe: one parser per input. The stream must outlive the parser.
#ifndef GEORISK_FORMATS_RECORD_PARSER_H_
#define GEORISK_FORMATS_RECORD_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/record_validation.h"
#include "formats/byte_reader.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::formats {

enum class Format {
  kAuto,         // Only for DetectFormat()'s callers; MakeParser refuses it.
  kJsonl,        // georisk JSON Lines: one georisk.v1.Mutation per line.
  kCsvEntities,  // georisk CSV of entities.
  kCsvEdges,     // georisk CSV of edges.
  kFtm,          // FollowTheMoney entities, JSON lines (OpenSanctions).
  kFtmDelta,     // OpenSanctions delta: JSON lines {"op", "entity"}.
  kCslCsv,       // US Consolidated Screening List, CSV.
  kCslJson,      // US Consolidated Screening List, JSON.
};

// "jsonl", "csv-entities", "csv-edges", "ftm", "ftm-delta", "csl-csv",
// "csl-json", "auto".
absl::string_view FormatName(Format format);
// The inverse of FormatName(). Errors: InvalidArgument listing the names.
absl::StatusOr<Format> ParseFormatName(absl::string_view name);

// Guesses a file's format from its name and its first bytes (`head`, a few
// KiB): FTM lines have "schema" and "properties"; delta lines "op" and
// "entity" (an empty entities.delta.json is a delta); CSL rows have "source"
// and "entity_number" (or "results"); CSV headers name their columns. Errors:
// InvalidArgument saying what was seen, when nothing fits.
absl::StatusOr<Format> DetectFormat(absl::string_view file_name,
                                    absl::string_view head);

// FollowTheMoney files list Ownerships and the companies they link in any
// order, and GraphStore needs an edge's endpoints first: read such a file
// twice, nodes first.
enum class FtmPass {
  kAll,         // Every record, in file order.
  kNodes,       // Everything but Ownership records (skipped silently).
  kOwnerships,  // Only Ownership records; everything else is skipped
                // silently, rejections included (the other pass has them).
};

struct ParserOptions {
  // Longest line or record, in bytes; longer ones are rejected unread.
  size_t max_record_bytes = 1 << 20;
  // FTM and CSL: when not empty, the `source` of every record made, instead
  // of the format's default (docs/formats.md). Snapshot imports set it so
  // that the records carry the snapshot's source.
  std::string source;
  // FTM only.
  FtmPass ftm_pass = FtmPass::kAll;
  // Checks each mutation made (see record_validation.h).
  domain::RecordLimits limits;
};

// One record of the input.
struct ParsedRecord {
  // The 1-based line the record starts on (CSV: the header is line 1).
  int64_t line = 0;
  // The mutations the record became (one, or two for a CSL row: the listed
  // party and its listing), when not rejected.
  std::vector<v1::Mutation> mutations;
  // When rejected: the input's field at fault (a JSON path, a CSV column,
  // "properties.percentage"), empty when the record as a whole is at fault,
  // and why.
  std::string field;
  std::string reason;
  // Things worth telling about a record that was kept (or rejected): an
  // unknown country, a duplicate id, an issuer or a measure not in the
  // tables... Each is a sentence naming its field. They never reject.
  std::vector<std::string> warnings;

  bool rejected() const { return !reason.empty(); }
  void Clear() {
    line = 0;
    mutations.clear();
    field.clear();
    reason.clear();
    warnings.clear();
  }
};

class RecordParser {
 public:
  explicit RecordParser(std::istream* in) : reader_(in) {}
  virtual ~RecordParser() = default;
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Reads the next record into *record (cleared first). Returns false, with
  // *record untouched, when the input is exhausted.
  virtual bool Next(ParsedRecord* record) = 0;

  // Bytes of input consumed so far (for progress).
  int64_t bytes_read() const { return reader_.offset(); }
  // True if reading failed with an I/O error (not the normal end).
  bool io_failed() const { return reader_.failed(); }

 protected:
  ByteReader reader_;
};

// Normalises and validates the mutations of a record that parsed, and on the
// first failure rejects the record: the field is `map_field(path)` of the
// failing mutation field's path (e.g. "upsert_entity.country" -> the CSV
// column "country"). Used by every parser; exposed for tests.
void FinishRecord(const domain::RecordLimits& limits,
                  std::string (*map_field)(absl::string_view path),
                  ParsedRecord* record);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_RECORD_PARSER_H_
