// File: formats/csv_parser.h
//
// The parsers of georisk's own CSV files (docs/formats.md): one of entities,
// one of edges, each with a header row naming its columns (in any order,
// case-insensitive). A row becomes one upsert.
//
//   id,kind,name,country,region,latitude,longitude,facility_type,
//   product_codes,aliases,identifiers,source,idempotency_key
//
//   from_id,to_id,kind,weight,product_code,annual_value_usd,effective_from,
//   effective_until,source,idempotency_key
//
// List cells separate items with ';' ("8542;8541"); identifiers are
// "scheme=value" items ("lei=549300...; ticker=2330.TW"). An empty cell is an
// unset field. A header with an unknown or repeated column, or without a
// required one, is rejected at line 1 and nothing else is read.
//
//   auto parser = NewCsvParser(CsvKind::kEdges, &file, {});
//
// Not thread-safe (see record_parser.h).
#ifndef GEORISK_FORMATS_CSV_PARSER_H_
#define GEORISK_FORMATS_CSV_PARSER_H_

#include <istream>
#include <memory>

#include "formats/record_parser.h"

namespace georisk::formats {

enum class CsvKind { kEntities, kEdges };

std::unique_ptr<RecordParser> NewCsvParser(CsvKind kind, std::istream* in,
                                           const ParserOptions& options);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_CSV_PARSER_H_
