#include "formats/csv_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace georisk::formats {

CsvReader::CsvReader(ByteReader* in, CsvOptions options)
    : in_(in), options_(options) {
  if (options_.max_record_lines < 1) options_.max_record_lines = 1;
}

int CsvReader::Peek() {
  if (pushback_pos_ < pushback_.size()) {
    return static_cast<unsigned char>(pushback_[pushback_pos_]);
  }
  return in_->Peek();
}

int CsvReader::Get() {
  int c;
  if (pushback_pos_ < pushback_.size()) {
    c = static_cast<unsigned char>(pushback_[pushback_pos_++]);
    if (pushback_pos_ == pushback_.size()) {
      pushback_.clear();
      pushback_pos_ = 0;
    }
  } else {
    c = in_->Get();
  }
  if (c == '\n') ++line_;
  if (recording_ && c >= 0 && !rest_overflow_) {
    if (rest_.size() < options_.max_record_bytes) {
      rest_.push_back(static_cast<char>(c));
    } else {
      rest_overflow_ = true;
    }
  }
  return c;
}

void CsvReader::SkipLine() {
  while (true) {
    if (pushback_pos_ < pushback_.size()) {
      const int c = Get();
      if (c == '\n') return;
      continue;
    }
    // Straight from the reader, without recording: the line may be huge.
    std::string ignored;
    int64_t length;
    const bool recording = recording_;
    recording_ = false;
    const bool ended =
        in_->ReadLine(0, &ignored, &length) == ByteReader::Line::kEnd;
    recording_ = recording;
    if (!ended) ++line_;
    return;
  }
}

void CsvReader::Resync(bool multi_line) {
  recording_ = false;
  if (!multi_line || rest_overflow_) {
    // Nothing to re-read (or too much to keep): drop the rest of this line.
    if (!multi_line) SkipLine();
    rest_.clear();
    rest_overflow_ = false;
    return;
  }
  // Re-read everything after the record's first line.
  std::string again = std::move(rest_);
  again.append(pushback_, pushback_pos_, std::string::npos);
  pushback_ = std::move(again);
  pushback_pos_ = 0;
  rest_.clear();
  line_ = record_line_ + 1;
}

CsvReader::Result CsvReader::Next(std::vector<std::string>* fields,
                                  std::string* error) {
  fields->clear();
  error->clear();
  // Skip blank lines.
  while (true) {
    const int c = Peek();
    if (c == -1) return Result::kEnd;
    if (c == '\n') {
      Get();
      continue;
    }
    if (c == '\r') {
      Get();
      if (Peek() == '\n') Get();
      continue;
    }
    break;
  }
  record_line_ = line_;
  rest_.clear();
  rest_overflow_ = false;
  recording_ = false;

  enum class State { kStartField, kUnquoted, kQuoted, kAfterQuote };
  State state = State::kStartField;
  std::string field;
  size_t bytes = 0;
  int lines = 1;
  auto fail = [&](std::string why) {
    *error = std::move(why);
    fields->clear();
    Resync(lines > 1);
    return Result::kError;
  };
  while (true) {
    const int c = Get();
    if (c != -1 && ++bytes > options_.max_record_bytes) {
      if (c == '\n' && state != State::kQuoted) {
        // The newline ending the record does not count.
      } else {
        const std::string why = absl::StrCat(
            "record longer than ", options_.max_record_bytes, " bytes");
        if (lines == 1 && c == '\n') {
          // Already at the next line.
          *error = why;
          fields->clear();
          recording_ = false;
          return Result::kError;
        }
        return fail(why);
      }
    }
    switch (state) {
      case State::kStartField:
      case State::kUnquoted:
        if (c == options_.delimiter) {
          fields->push_back(std::move(field));
          field.clear();
          state = State::kStartField;
        } else if (c == '\n' || c == -1) {
          fields->push_back(std::move(field));
          recording_ = false;
          return Result::kRecord;
        } else if (c == '\r' && (Peek() == '\n' || Peek() == -1)) {
          // Dropped: part of the line ending.
        } else if (c == '"' && state == State::kStartField) {
          state = State::kQuoted;
        } else {
          field.push_back(static_cast<char>(c));
          state = State::kUnquoted;
        }
        break;
      case State::kQuoted:
        if (c == -1) {
          return fail(absl::StrCat("unterminated quoted field (opened on line ",
                                   record_line_, ")"));
        } else if (c == '"') {
          if (Peek() == '"') {
            Get();
            ++bytes;
            field.push_back('"');
          } else {
            state = State::kAfterQuote;
          }
        } else {
          if (c == '\n') {
            if (++lines > options_.max_record_lines) {
              return fail(
                  absl::StrCat("unterminated quoted field (no closing "
                               "quote within ",
                               options_.max_record_lines, " lines)"));
            }
            recording_ = true;
          }
          field.push_back(static_cast<char>(c));
        }
        break;
      case State::kAfterQuote:
        if (c == options_.delimiter) {
          fields->push_back(std::move(field));
          field.clear();
          state = State::kStartField;
        } else if (c == '\n' || c == -1) {
          fields->push_back(std::move(field));
          recording_ = false;
          return Result::kRecord;
        } else if (c == '\r' && (Peek() == '\n' || Peek() == -1)) {
          // Line ending.
        } else if (lines > 1) {
          return fail(absl::StrCat("unterminated quoted field (opened on line ",
                                   record_line_,
                                   "; the quote that closes it, on line ",
                                   line_, ", is followed by text)"));
        } else {
          return fail("unexpected text after a closing quote");
        }
        break;
    }
  }
}

}  // namespace georisk::formats
