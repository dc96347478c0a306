#include "formats/byte_reader.h"

#include <cstring>

namespace georisk::formats {

ByteReader::ByteReader(std::istream* in, size_t buffer_bytes)
    : in_(in), buffer_(buffer_bytes < 16 ? 16 : buffer_bytes) {}

bool ByteReader::Fill() {
  consumed_ += static_cast<int64_t>(end_);
  pos_ = 0;
  end_ = 0;
  if (failed_ || !in_->good()) return false;
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  end_ = static_cast<size_t>(in_->gcount());
  if (in_->bad()) failed_ = true;
  return end_ > 0;
}

void ByteReader::SkipByteOrderMark() {
  if (offset() != 0 || Peek() != 0xEF) return;
  // The buffer holds at least 16 bytes unless the input is shorter.
  if (end_ - pos_ >= 3 && std::memcmp(&buffer_[pos_], "\xEF\xBB\xBF", 3) == 0) {
    pos_ += 3;
  }
}

ByteReader::Line ByteReader::ReadLine(size_t max_bytes, std::string* out,
                                      int64_t* length) {
  out->clear();
  int64_t total = 0;
  bool any = false;
  bool too_long = false;
  char last = 0;
  while (true) {
    if (pos_ == end_ && !Fill()) break;
    any = true;
    const char* start = &buffer_[pos_];
    const size_t avail = end_ - pos_;
    const void* nl = std::memchr(start, '\n', avail);
    const size_t n =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    total += static_cast<int64_t>(n);
    if (n > 0) last = start[n - 1];
    if (!too_long) {
      if (out->size() + n > max_bytes + 1) {  // +1: a "\r" may be dropped.
        too_long = true;
        out->clear();
        out->shrink_to_fit();
      } else {
        out->append(start, n);
      }
    }
    pos_ += n;
    if (nl) {
      ++pos_;
      ++line_;
      break;
    }
  }
  if (!any) {
    *length = 0;
    return Line::kEnd;
  }
  if (last == '\r' && total > 0) {
    --total;
    if (!too_long) out->pop_back();
  }
  *length = total;
  if (too_long || static_cast<size_t>(total) > max_bytes) {
    out->clear();
    return Line::kTooLong;
  }
  return Line::kLine;
}

}  // namespace georisk::formats
