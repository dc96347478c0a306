#include "formats/parsers.h"

#include "formats/csl_parser.h"
#include "formats/csv_parser.h"
#include "formats/ftm_parser.h"
#include "formats/jsonl_parser.h"

namespace georisk::formats {

absl::StatusOr<std::unique_ptr<RecordParser>> MakeParser(
    Format format, std::istream* in, ParserOptions options) {
  switch (format) {
    case Format::kJsonl:
      return NewJsonlParser(in, options);
    case Format::kCsvEntities:
      return NewCsvParser(CsvKind::kEntities, in, options);
    case Format::kCsvEdges:
      return NewCsvParser(CsvKind::kEdges, in, options);
    case Format::kFtm:
      return NewFtmParser(in, options);
    case Format::kFtmDelta:
      return NewFtmDeltaParser(in, options);
    case Format::kCslCsv:
      return NewCslParser(CslShape::kCsv, in, options);
    case Format::kCslJson:
      return NewCslParser(CslShape::kJson, in, options);
    case Format::kAuto:
      break;
  }
  return absl::InvalidArgumentError(
      "no parser for format \"auto\": detect the format first");
}

}  // namespace georisk::formats
