// File: formats/byte_reader.h
//
// ByteReader: buffered, byte-at-a-time and line-at-a-time reading of an input
// stream, with a bound on how much of one line is ever held in memory. The
// parsers of services/ingest read their input through it, so that a 100 MB
// line costs a 64 KiB buffer, not 100 MB.
//
//   std::ifstream file(path, std::ios::binary);
//   ByteReader in(&file);
//   std::string line;
//   int64_t length;
//   while (true) {
//     ByteReader::Line r = in.ReadLine(/*max_bytes=*/1 << 20, &line, &length);
//     if (r == ByteReader::Line::kEnd) break;
//     if (r == ByteReader::Line::kTooLong) { /* reject line in.line() - 1 */ }
//     ...
//   }
//
// Lines end at "\n"; a "\r" before it is dropped. The last line need not end
// in "\n". Bytes are bytes: no encoding is assumed.
//
// Not thread-safe. The stream must outlive the reader.
#ifndef GEORISK_FORMATS_BYTE_READER_H_
#define GEORISK_FORMATS_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace georisk::formats {

class ByteReader {
 public:
  // Reads `in` in chunks of `buffer_bytes`.
  explicit ByteReader(std::istream* in, size_t buffer_bytes = 64 << 10);
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // The next byte (0..255) without consuming it, or -1 at the end.
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buffer_[pos_]);
  }
  // Consumes and returns the next byte, or -1 at the end.
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    const char c = buffer_[pos_++];
    if (c == '\n') ++line_;
    return static_cast<unsigned char>(c);
  }

  enum class Line {
    kLine,     // *out holds the line.
    kTooLong,  // Longer than max_bytes: skipped to its end; *out is empty.
    kEnd,      // No more input.
  };
  // Reads the rest of the current line. *length is the line's length in
  // bytes (without "\r\n"), also when it was too long to keep.
  Line ReadLine(size_t max_bytes, std::string* out, int64_t* length);

  // Skips a UTF-8 byte order mark if the input starts with one. Call first.
  void SkipByteOrderMark();

  // Bytes consumed so far.
  int64_t offset() const { return consumed_ + static_cast<int64_t>(pos_); }
  // The 1-based line number of the next byte.
  int64_t line() const { return line_; }
  // True when the stream reported an I/O error (not the normal end).
  bool failed() const { return failed_; }

 private:
  // Refills the buffer; false at the end of the input.
  bool Fill();

  std::istream* const in_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  int64_t consumed_ = 0;  // Bytes before buffer_[0].
  int64_t line_ = 1;
  bool failed_ = false;
};

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_BYTE_READER_H_
