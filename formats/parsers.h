// File: formats/parsers.h
//
// MakeParser: the RecordParser (record_parser.h) of each Format.
//
//   std::ifstream file(path, std::ios::binary);
//   auto parser = MakeParser(Format::kFtm, &file, options);
//   if (!parser.ok()) return parser.status();
//
// Thread-safe; each parser made is not (see record_parser.h).
#ifndef GEORISK_FORMATS_PARSERS_H_
#define GEORISK_FORMATS_PARSERS_H_

#include <istream>
#include <memory>

#include "absl/status/statusor.h"
#include "formats/record_parser.h"

namespace georisk::formats {

// A parser of `format` over `in`, which must outlive it. Errors:
// InvalidArgument for Format::kAuto (detect the format first).
absl::StatusOr<std::unique_ptr<RecordParser>> MakeParser(Format format,
                                                         std::istream* in,
                                                         ParserOptions options);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_PARSERS_H_
