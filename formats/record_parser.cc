#include "formats/record_parser.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "domain/normalize.h"

namespace georisk::formats {
namespace {

struct NamedFormat {
  Format format;
  absl::string_view name;
};

constexpr NamedFormat kFormats[] = {
    {Format::kAuto, "auto"},
    {Format::kJsonl, "jsonl"},
    {Format::kCsvEntities, "csv-entities"},
    {Format::kCsvEdges, "csv-edges"},
    {Format::kFtm, "ftm"},
    {Format::kFtmDelta, "ftm-delta"},
    {Format::kCslCsv, "csl-csv"},
    {Format::kCslJson, "csl-json"},
};

// The lower-cased, unquoted names of a CSV header line.
std::vector<std::string> HeaderNames(absl::string_view line) {
  std::vector<std::string> names;
  for (absl::string_view cell : absl::StrSplit(line, ',')) {
    cell = absl::StripAsciiWhitespace(cell);
    absl::ConsumePrefix(&cell, "\"");
    absl::ConsumeSuffix(&cell, "\"");
    names.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(cell)));
  }
  return names;
}

bool Has(const std::vector<std::string>& names, absl::string_view name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

absl::string_view FormatName(Format format) {
  for (const NamedFormat& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "unknown";
}

absl::StatusOr<Format> ParseFormatName(absl::string_view name) {
  for (const NamedFormat& f : kFormats) {
    if (f.name == name) return f.format;
  }
  std::string names;
  for (const NamedFormat& f : kFormats) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", f.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", name, "\"; expected one of ", names));
}

absl::StatusOr<Format> DetectFormat(absl::string_view file_name,
                                    absl::string_view head) {
  absl::ConsumePrefix(&head, "\xEF\xBB\xBF");
  head = absl::StripLeadingAsciiWhitespace(head);
  const absl::string_view first_line = head.substr(0, head.find('\n'));
  const std::string lower_name = absl::AsciiStrToLower(file_name);
  if (absl::StartsWith(head, "{") || absl::StartsWith(head, "[")) {
    if (absl::StrContains(first_line, "\"op\"") &&
        absl::StrContains(first_line, "\"entity\"")) {
      return Format::kFtmDelta;
    }
    if (absl::StrContains(first_line, "\"schema\"") &&
        absl::StrContains(first_line, "\"properties\"")) {
      return Format::kFtm;
    }
    if (absl::StrContains(head, "\"entity_number\"") ||
        absl::StrContains(head, "\"results\"") ||
        absl::StrContains(head, "\"alt_names\"")) {
      return Format::kCslJson;
    }
    if (absl::StartsWith(head, "{")) return Format::kJsonl;
  } else if (!head.empty()) {
    const std::vector<std::string> names = HeaderNames(first_line);
    if (Has(names, "source") && Has(names, "entity_number")) {
      return Format::kCslCsv;
    }
    if (Has(names, "from_id") && Has(names, "to_id")) return Format::kCsvEdges;
    if (Has(names, "id") && Has(names, "name")) return Format::kCsvEntities;
  } else if (absl::EndsWith(lower_name, "entities.delta.json")) {
    return Format::kFtmDelta;  // Empty: a version with no change.
  } else if (absl::EndsWith(lower_name, ".jsonl") ||
             absl::EndsWith(lower_name, ".ndjson")) {
    return Format::kJsonl;  // Empty: any parser reads nothing.
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot tell the format of ", file_name, " from its first line \"",
      absl::CHexEscape(first_line.substr(0, 60)), "\"; name it with --format"));
}

void FinishRecord(const domain::RecordLimits& limits,
                  std::string (*map_field)(absl::string_view path),
                  ParsedRecord* record) {
  for (v1::Mutation& m : record->mutations) {
    domain::NormalizeMutation(&m);
    const absl::Status s = domain::ValidateRecord(m, limits);
    if (!s.ok()) {
      domain::FieldError e = domain::SplitFieldError(s.message());
      record->field = e.field.empty() ? "" : map_field(e.field);
      record->reason = std::move(e.reason);
      record->mutations.clear();
      return;
    }
  }
}

}  // namespace georisk::formats
