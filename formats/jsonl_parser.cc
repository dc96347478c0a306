#include "formats/jsonl_parser.h"

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "formats/format_util.h"
#include "georisk/v1/graph.pb.h"
#include "google/protobuf/util/json_util.h"

namespace georisk::formats {
namespace {

// Lines parsed together, at most: one JsonStringToMessage call costs about
// three times less per record over a hundred lines than over one, because
// protobuf 3.21 resolves the message's type description on every call
// (BENCHMARKS.md, "Ingest").
constexpr size_t kChunkLines = 100;
// ... and at most this many bytes of them (more only for a single line).
constexpr size_t kChunkBytes = size_t{1} << 20;

// JSON paths are the mutation's own field paths.
std::string SamePath(absl::string_view path) { return std::string(path); }

// Whether `line` is one JSON object and nothing else but whitespace: it
// starts with '{' and its brackets, counted outside strings, first return to
// depth zero at its last non-blank byte. It does not validate JSON. Such a
// line, placed as an element of an array, leaves the parser exactly where it
// would be after parsing the line alone, so a chunk of such lines parses
// record by record as the lines would one by one, or fails.
bool IsOneObject(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  if (line.empty() || line.front() != '{') return false;
  return ScanJsonBrackets(line, std::numeric_limits<int>::max()).first_close ==
         line.size();
}

class JsonlParser final : public RecordParser {
 public:
  JsonlParser(std::istream* in, const ParserOptions& options)
      : RecordParser(in), options_(options) {
    reader_.SkipByteOrderMark();
    json_options_.ignore_unknown_fields = false;
  }

  bool Next(ParsedRecord* record) override {
    if (next_ == ready_.size() && !Fill()) return false;
    *record = std::move(ready_[next_++]);
    return true;
  }

 private:
  // A line kept for the chunk: its record and its text in text_.
  struct Pending {
    size_t record;
    size_t begin;
    size_t size;
  };

  // Reads up to kChunkLines non-blank lines (kChunkBytes) into ready_, in
  // order. Lines that are one JSON object each are parsed together as the
  // elements of the `mutations` of one georisk.v1.Change (ParseRange); the
  // others one by one, which gives each bad line its own error. Returns
  // false at the end of the input.
  bool Fill() {
    ready_.clear();
    next_ = 0;
    pending_.clear();
    text_.clear();
    size_t bytes = 0;
    while (ready_.size() < kChunkLines && bytes < kChunkBytes) {
      const int64_t line = reader_.line();
      int64_t length;
      const ByteReader::Line r =
          reader_.ReadLine(options_.max_record_bytes, &line_, &length);
      if (r == ByteReader::Line::kEnd) break;
      if (r != ByteReader::Line::kTooLong &&
          absl::StripAsciiWhitespace(line_).empty()) {
        continue;
      }
      ParsedRecord& record = ready_.emplace_back();
      record.line = line;
      if (r == ByteReader::Line::kTooLong) {
        record.reason =
            absl::StrCat("line longer than ", options_.max_record_bytes,
                         " bytes (", length, " bytes)");
        continue;
      }
      bytes += line_.size();
      if (!IsOneObject(line_)) {
        ParseOne(line_, &record);
        continue;
      }
      pending_.push_back({ready_.size() - 1, text_.size(), line_.size()});
      text_.append(line_);
    }
    ParseRange(0, pending_.size());
    return !ready_.empty();
  }

  // Parses pending_[begin, end) as one {"mutations": [...]} Change. When
  // that fails (some line is bad JSON or not a Mutation), halves the range
  // and tries again, down to single lines: a chunk with one bad line costs
  // about 2 log2(kChunkLines) calls, not one per line.
  void ParseRange(size_t begin, size_t end) {
    if (begin == end) return;
    if (end - begin == 1) {
      const Pending& p = pending_[begin];
      ParseOne(Text(p), &ready_[p.record]);
      return;
    }
    chunk_.assign(R"({"mutations":[)");
    for (size_t i = begin; i < end; ++i) {
      if (i != begin) chunk_.push_back(',');
      absl::StrAppend(&chunk_, Text(pending_[i]));
    }
    chunk_.append("]}");
    request_.Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(chunk_.data(), chunk_.size()), &request_,
        json_options_);
    if (status.ok() &&
        request_.mutations_size() == static_cast<int>(end - begin)) {
      for (size_t i = begin; i < end; ++i) {
        ParsedRecord& record = ready_[pending_[i].record];
        record.mutations.push_back(std::move(
            *request_.mutable_mutations(static_cast<int>(i - begin))));
        FinishRecord(options_.limits, &SamePath, &record);
      }
      return;
    }
    const size_t middle = begin + (end - begin) / 2;
    ParseRange(begin, middle);
    ParseRange(middle, end);
  }

  absl::string_view Text(const Pending& p) const {
    return absl::string_view(text_).substr(p.begin, p.size);
  }

  void ParseOne(absl::string_view text, ParsedRecord* record) {
    v1::Mutation mutation;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &mutation,
        json_options_);
    if (!status.ok()) {
      domain::FieldError e = SplitJsonError(status.message().ToString());
      record->field = std::move(e.field);
      record->reason = std::move(e.reason);
      return;
    }
    record->mutations.push_back(std::move(mutation));
    FinishRecord(options_.limits, &SamePath, record);
  }

  const ParserOptions options_;
  google::protobuf::util::JsonParseOptions json_options_;
  std::string line_;
  // The records of the current chunk, and the next to hand out.
  std::vector<ParsedRecord> ready_;
  size_t next_ = 0;
  // The lines that are one JSON object each, end to end, and where each is.
  std::string text_;
  std::vector<Pending> pending_;
  // {"mutations":[line,line,...]} for ParseRange.
  std::string chunk_;
  v1::Change request_;
};

}  // namespace

std::unique_ptr<RecordParser> NewJsonlParser(std::istream* in,
                                             const ParserOptions& options) {
  return std::make_unique<JsonlParser>(in, options);
}

}  // namespace georisk::formats
