#include "services/ingest/jsonl_parser.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/ingest/format_util.h"

namespace georisk::ingest {
namespace {

// JSON paths are the mutation's own field paths.
std::string SamePath(absl::string_view path) { return std::string(path); }

class JsonlParser final : public RecordParser {
 public:
  JsonlParser(std::istream* in, const ParserOptions& options)
      : RecordParser(in), options_(options) {
    reader_.SkipByteOrderMark();
    json_options_.ignore_unknown_fields = false;
  }

  bool Next(ParsedRecord* record) override {
    while (true) {
      const int64_t line = reader_.line();
      int64_t length;
      const ByteReader::Line r =
          reader_.ReadLine(options_.max_record_bytes, &line_, &length);
      if (r == ByteReader::Line::kEnd) return false;
      record->Clear();
      record->line = line;
      if (r == ByteReader::Line::kTooLong) {
        record->reason =
            absl::StrCat("line longer than ", options_.max_record_bytes,
                         " bytes (", length, " bytes)");
        return true;
      }
      if (absl::StripAsciiWhitespace(line_).empty()) continue;
      v1::Mutation mutation;
      const auto status = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(line_.data(), line_.size()), &mutation,
          json_options_);
      if (!status.ok()) {
        FieldError e = SplitJsonError(status.message().ToString());
        record->field = std::move(e.field);
        record->reason = std::move(e.reason);
        return true;
      }
      record->mutations.push_back(std::move(mutation));
      FinishRecord(options_.limits, &SamePath, record);
      return true;
    }
  }

 private:
  const ParserOptions options_;
  google::protobuf::util::JsonParseOptions json_options_;
  std::string line_;
};

}  // namespace

std::unique_ptr<RecordParser> NewJsonlParser(std::istream* in,
                                             const ParserOptions& options) {
  return std::make_unique<JsonlParser>(in, options);
}

}  // namespace georisk::ingest
