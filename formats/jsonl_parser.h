// File: formats/jsonl_parser.h
//
// The parser of georisk JSON Lines (docs/formats.md): one georisk.v1.Mutation
// per line in Protocol Buffers' JSON mapping (field names in snake_case or
// lowerCamelCase, enums by name), with its optional "idempotency_key". Blank
// lines are skipped. Unknown fields are rejected, not ignored.
//
//   {"upsert_entity": {"id": "company/tsmc", "kind": "COMPANY", ...},
//    "idempotency_key": "demo-1"}
//
//   auto parser = NewJsonlParser(&file, {});
//
// Not thread-safe (see record_parser.h).
#ifndef GEORISK_FORMATS_JSONL_PARSER_H_
#define GEORISK_FORMATS_JSONL_PARSER_H_

#include <istream>
#include <memory>

#include "formats/record_parser.h"

namespace georisk::formats {

std::unique_ptr<RecordParser> NewJsonlParser(std::istream* in,
                                             const ParserOptions& options);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_JSONL_PARSER_H_
