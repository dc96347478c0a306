// File: formats/csv_reader.h
//
// CsvReader: splits comma-separated values (RFC 4180) into records, with
// bounded memory and recovery from malformed records, for the CSV parsers of
// services/ingest.
//
//   ByteReader in(&file);
//   CsvReader csv(&in, {});
//   std::vector<std::string> fields;
//   std::string error;
//   while (true) {
//     CsvReader::Result r = csv.Next(&fields, &error);
//     if (r == CsvReader::Result::kEnd) break;
//     if (r == CsvReader::Result::kError) {
//       Reject(csv.record_line(), error);  // e.g. "unterminated quoted field"
//       continue;
//     }
//     Use(csv.record_line(), fields);
//   }
//
// Rules: fields are separated by the delimiter; a field that starts with '"'
// is quoted, may contain the delimiter, newlines and '""' (one quote); records
// end at a newline outside quotes ("\r\n" or "\n"); blank lines are skipped;
// a quote inside an unquoted field is kept as is (common in real data).
//
// Recovery: a malformed record (text after a closing quote, a quoted field
// left open at the end of the input or across more than max_record_lines
// lines, more than max_record_bytes bytes) is reported once, at the line it
// started on, and reading resumes at the next line, so one stray quote costs
// one line, not the rest of the file. A record longer than max_record_bytes is
// skipped without being held in memory.
//
// Not thread-safe. The ByteReader must outlive the CsvReader.
#ifndef GEORISK_FORMATS_CSV_READER_H_
#define GEORISK_FORMATS_CSV_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_reader.h"

namespace georisk::formats {

struct CsvOptions {
  char delimiter = ',';
  // Longest record, in bytes of input.
  size_t max_record_bytes = 1 << 20;
  // Most physical lines one record (a quoted field with newlines) may span.
  int max_record_lines = 64;
};

class CsvReader {
 public:
  CsvReader(ByteReader* in, CsvOptions options);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  enum class Result {
    kRecord,  // *fields holds the record's fields (at least one).
    kError,   // *error says why the record at record_line() is malformed.
    kEnd,     // No more input.
  };
  Result Next(std::vector<std::string>* fields, std::string* error);

  // The 1-based line the last record (or error) started on.
  int64_t record_line() const { return record_line_; }

 private:
  int Get();
  int Peek();
  // Consumes up to and including the next newline.
  void SkipLine();
  // Error recovery: resume at the line after record_line_.
  void Resync(bool multi_line);

  ByteReader* const in_;
  CsvOptions options_;
  // Bytes re-read before in_ after a recovery.
  std::string pushback_;
  size_t pushback_pos_ = 0;
  // The 1-based line of the next byte.
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  // The bytes of the current record after its first line, for Resync().
  std::string rest_;
  bool recording_ = false;
  bool rest_overflow_ = false;
};

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_CSV_READER_H_
