#include "formats/json_scanner.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace georisk::formats {
namespace {

bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Consumes the rest of a string whose opening quote was consumed, passing
// each byte (escapes as they are, and the closing quote) to `sink`. False if
// the input ends inside the string.
template <typename Sink>
bool ScanStringBody(ByteReader* in, Sink&& sink) {
  while (true) {
    const int c = in->Get();
    if (c == -1) return false;
    sink(static_cast<char>(c));
    if (c == '"') return true;
    if (c == '\\') {
      const int e = in->Get();
      if (e == -1) return false;
      sink(static_cast<char>(e));
    }
  }
}

// Appends to a record's text while it fits.
class Keeper {
 public:
  Keeper(std::string* out, size_t max) : out_(out), max_(max) { out_->clear(); }
  void operator()(char c) {
    if (too_long_) return;
    if (out_->size() >= max_) {
      too_long_ = true;
      out_->clear();
      out_->shrink_to_fit();
      return;
    }
    out_->push_back(c);
  }
  bool too_long() const { return too_long_; }

 private:
  std::string* const out_;
  const size_t max_;
  bool too_long_ = false;
};

}  // namespace

JsonRecordScanner::JsonRecordScanner(ByteReader* in, JsonScannerOptions options)
    : in_(in), options_(std::move(options)) {}

int JsonRecordScanner::SkipSpace() {
  while (true) {
    const int c = in_->Peek();
    if (!IsSpace(c)) return c;
    in_->Get();
  }
}

JsonRecordScanner::Result JsonRecordScanner::Next(std::string* text,
                                                  std::string* error) {
  text->clear();
  error->clear();
  switch (mode_) {
    case Mode::kStart:
      return Start(text, error);
    case Mode::kArray:
      return NextInArray(text, error);
    case Mode::kLines:
      return NextLine(text, error);
    case Mode::kDone:
      break;
  }
  return Result::kEnd;
}

JsonRecordScanner::Result JsonRecordScanner::Start(std::string* text,
                                                   std::string* error) {
  in_->SkipByteOrderMark();
  const int first = SkipSpace();
  if (first == -1) {
    mode_ = Mode::kDone;
    return Result::kEnd;
  }
  if (first == '[') {
    in_->Get();
    mode_ = Mode::kArray;
    return NextInArray(text, error);
  }
  if (first != '{') {
    mode_ = Mode::kLines;
    return NextLine(text, error);
  }
  // An object: a wrapper around the array of records, or the first of JSON
  // lines. Keep it while looking for the array member at depth 1.
  record_line_ = in_->line();
  Keeper keep(text, options_.max_record_bytes);
  keep(static_cast<char>(in_->Get()));
  int depth = 1;
  bool expect_key = true;     // At depth 1, after '{' or ','.
  bool expect_value = false;  // At depth 1, after ':'.
  std::string key;
  while (true) {
    const int c = in_->Get();
    if (c == -1) {
      mode_ = Mode::kDone;
      *error = "truncated record: the input ends inside it";
      text->clear();
      return Result::kError;
    }
    if (depth == 1 && expect_value && !IsSpace(c)) {
      expect_value = false;
      if (c == '[' && key == options_.array_key) {
        // The wrapper's array: its elements are the records.
        text->clear();
        mode_ = Mode::kArray;
        wrapped_ = true;
        return NextInArray(text, error);
      }
    }
    keep(static_cast<char>(c));
    switch (c) {
      case '"': {
        const bool is_key = depth == 1 && expect_key;
        if (is_key) key.clear();
        // Keys longer than array_key are cut: they cannot match it.
        const size_t key_limit = options_.array_key.size() + 2;
        const bool closed = ScanStringBody(in_, [&](char ch) {
          keep(ch);
          if (is_key && key.size() < key_limit) key.push_back(ch);
        });
        if (!closed) {
          mode_ = Mode::kDone;
          *error = "truncated record: the input ends inside a string";
          text->clear();
          return Result::kError;
        }
        if (is_key) {
          // Drop the closing quote; a cut key matches nothing.
          if (key.size() < key_limit && !key.empty()) {
            key.pop_back();
          } else {
            key = "\"";
          }
          expect_key = false;
        }
        break;
      }
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        if (depth == 1) expect_key = true;
        break;
      case ':':
        if (depth == 1) expect_value = true;
        break;
      default:
        break;
    }
    if (depth == 0) break;
  }
  // A whole object without the array member: JSON lines. Whatever follows
  // on its line is read as the next line.
  mode_ = Mode::kLines;
  if (keep.too_long()) {
    *error = absl::StrCat("record longer than ", options_.max_record_bytes,
                          " bytes");
    return Result::kError;
  }
  return Result::kRecord;
}

JsonRecordScanner::Result JsonRecordScanner::NextInArray(std::string* text,
                                                         std::string* error) {
  while (true) {
    const int c = SkipSpace();
    record_line_ = in_->line();
    if (c == -1) {
      mode_ = Mode::kDone;
      *error = "truncated document: the array of records is not closed";
      return Result::kError;
    }
    if (c == ']') {
      in_->Get();
      if (wrapped_) SkipNested(1);
      return AfterDocument(error);
    }
    if (c == ',') {
      in_->Get();
      if (!expect_comma_) {
        *error = "unexpected ',' (an empty record)";
        return Result::kError;
      }
      expect_comma_ = false;
      continue;
    }
    if (expect_comma_) {
      // Report the missing comma; the value is read on the next call.
      expect_comma_ = false;
      *error = "expected ',' or ']' after a record";
      return Result::kError;
    }
    const Scan scan = ScanValue(text);
    expect_comma_ = true;
    if (scan == Scan::kTruncated) {
      mode_ = Mode::kDone;
      text->clear();
      *error = "truncated record: the input ends inside it";
      return Result::kError;
    }
    if (scan == Scan::kTooLong) {
      *error = absl::StrCat("record longer than ", options_.max_record_bytes,
                            " bytes");
      return Result::kError;
    }
    return Result::kRecord;
  }
}

JsonRecordScanner::Result JsonRecordScanner::NextLine(std::string* text,
                                                      std::string* error) {
  while (true) {
    record_line_ = in_->line();
    int64_t length;
    const ByteReader::Line r =
        in_->ReadLine(options_.max_record_bytes, text, &length);
    if (r == ByteReader::Line::kEnd) {
      mode_ = Mode::kDone;
      return Result::kEnd;
    }
    if (r == ByteReader::Line::kTooLong) {
      *error = absl::StrCat("line longer than ", options_.max_record_bytes,
                            " bytes (", length, " bytes)");
      return Result::kError;
    }
    if (absl::StripAsciiWhitespace(*text).empty()) continue;
    return Result::kRecord;
  }
}

JsonRecordScanner::Scan JsonRecordScanner::ScanValue(std::string* out) {
  Keeper keep(out, options_.max_record_bytes);
  const int first = in_->Get();
  keep(static_cast<char>(first));
  if (first == '"') {
    if (!ScanStringBody(in_, keep)) return Scan::kTruncated;
    return keep.too_long() ? Scan::kTooLong : Scan::kOk;
  }
  if (first != '{' && first != '[') {
    // A bare number, literal or garbage: up to a separator.
    while (true) {
      const int c = in_->Peek();
      if (c == -1 || c == ',' || c == ']' || c == '}' || IsSpace(c)) break;
      keep(static_cast<char>(in_->Get()));
    }
    return keep.too_long() ? Scan::kTooLong : Scan::kOk;
  }
  int depth = 1;
  while (depth > 0) {
    const int c = in_->Get();
    if (c == -1) return Scan::kTruncated;
    keep(static_cast<char>(c));
    if (c == '"') {
      if (!ScanStringBody(in_, keep)) return Scan::kTruncated;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return keep.too_long() ? Scan::kTooLong : Scan::kOk;
}

void JsonRecordScanner::SkipNested(int depth) {
  while (depth > 0) {
    const int c = in_->Get();
    if (c == -1) return;
    if (c == '"') {
      if (!ScanStringBody(in_, [](char) {})) return;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

JsonRecordScanner::Result JsonRecordScanner::AfterDocument(std::string* error) {
  mode_ = Mode::kDone;
  const int c = SkipSpace();
  if (c == -1) return Result::kEnd;
  record_line_ = in_->line();
  *error = "unexpected text after the end of the document";
  while (in_->Get() != -1) {
  }
  return Result::kError;
}

}  // namespace georisk::formats
