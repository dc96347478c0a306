// File: formats/json_scanner.h
//
// JsonRecordScanner: finds the records of a JSON input one at a time, without
// holding the whole document, for parsers of JSON shapes that are not one
// record per line. It accepts three shapes and tells them apart by the first
// bytes:
//
//   [ {...}, {...} ]                      a top-level array of records
//   {"total": 2, "results": [ {...} ]}    an object whose `array_key` member
//                                         is the array of records (other
//                                         members are ignored)
//   {...}\n{...}\n                        JSON lines: one record per line
//
// It only splits: each record's text is handed out as it is, to be parsed
// (and rejected) by the caller. Scanning tracks nesting and strings but does
// not validate JSON.
//
//   ByteReader in(&file);
//   JsonRecordScanner scanner(&in, {});
//   std::string text, error;
//   while (true) {
//     auto r = scanner.Next(&text, &error);
//     if (r == JsonRecordScanner::Result::kEnd) break;
//     if (r == JsonRecordScanner::Result::kError) {
//       Reject(scanner.record_line(), error);
//       continue;
//     }
//     Parse(scanner.record_line(), text);
//   }
//
// Errors: a record longer than max_record_bytes (skipped without being held),
// a missing ',' between records, a truncated document (reported once, at the
// record that the input ends in), text after the document.
//
// Not thread-safe. The ByteReader must outlive the scanner.
#ifndef GEORISK_FORMATS_JSON_SCANNER_H_
#define GEORISK_FORMATS_JSON_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/byte_reader.h"

namespace georisk::formats {

struct JsonScannerOptions {
  // Longest record, in bytes.
  size_t max_record_bytes = 1 << 20;
  // The member of a top-level object that holds the array of records.
  std::string array_key = "results";
};

class JsonRecordScanner {
 public:
  JsonRecordScanner(ByteReader* in, JsonScannerOptions options);
  JsonRecordScanner(const JsonRecordScanner&) = delete;
  JsonRecordScanner& operator=(const JsonRecordScanner&) = delete;

  enum class Result {
    kRecord,  // *text holds one record's JSON text.
    kError,   // *error says what is wrong at record_line().
    kEnd,     // No more records.
  };
  Result Next(std::string* text, std::string* error);

  // The 1-based line the last record (or error) started on.
  int64_t record_line() const { return record_line_; }

 private:
  enum class Mode { kStart, kArray, kLines, kDone };
  // How a value scan ended.
  enum class Scan { kOk, kTooLong, kTruncated };

  Result Start(std::string* text, std::string* error);
  Result NextInArray(std::string* text, std::string* error);
  Result NextLine(std::string* text, std::string* error);
  // Skips whitespace; returns the next byte (not consumed) or -1.
  int SkipSpace();
  // Scans one JSON value starting at the next byte, appending it to *out
  // while it fits in max_record_bytes.
  Scan ScanValue(std::string* out);
  // Consumes a string whose opening quote was consumed, appending to *out
  // (when not null and it fits). False if the input ends inside it.
  bool ScanString(std::string* out, size_t* size);
  // Consumes bytes until the nesting depth, now `depth`, returns to 0.
  void SkipNested(int depth);
  // After the document: reports text that follows it, and skips it.
  Result AfterDocument(std::string* error);

  ByteReader* const in_;
  const JsonScannerOptions options_;
  Mode mode_ = Mode::kStart;
  // In kArray mode: whether the array is the member of a wrapper object.
  bool wrapped_ = false;
  // In kArray mode: a record was read and no ',' has followed it yet.
  bool expect_comma_ = false;
  int64_t record_line_ = 0;
};

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_JSON_SCANNER_H_
