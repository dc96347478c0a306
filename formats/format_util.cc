#include "formats/format_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "google/protobuf/util/json_util.h"

namespace georisk::formats {
namespace {

// How much of a bad value an error message quotes.
constexpr size_t kMaxQuoted = 64;

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(Truncate(text, kMaxQuoted)), "\"");
}

bool Digits(absl::string_view s, int* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return absl::SimpleAtoi(s, out);
}

uint32_t Fnv1a32(absl::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

bool IsSlugChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

absl::StatusOr<google::protobuf::Timestamp> ParseDate(absl::string_view text) {
  const absl::string_view t = absl::StripAsciiWhitespace(text);
  const absl::Status bad =
      absl::InvalidArgumentError(absl::StrCat("not a date: ", Quoted(text)));
  int year = 0, month = 1, day = 1;
  bool date_only = false;
  if (t.size() >= 4 && Digits(t.substr(0, 4), &year)) {
    if (t.size() == 4) {
      date_only = true;
    } else if (t.size() == 7 && t[4] == '-' && Digits(t.substr(5, 2), &month)) {
      date_only = true;
    } else if (t.size() == 10 && t[4] == '-' && t[7] == '-' &&
               Digits(t.substr(5, 2), &month) && Digits(t.substr(8, 2), &day)) {
      date_only = true;
    }
  }
  absl::Time time;
  if (date_only) {
    const absl::CivilDay civil(year, month, day);
    if (year < 1 || civil.year() != year || civil.month() != month ||
        civil.day() != day) {
      return bad;
    }
    time = absl::FromCivil(civil, absl::UTCTimeZone());
  } else {
    // RFC 3339 with an offset, or a local time taken as UTC.
    static constexpr const char* kFormats[] = {
        "%Y-%m-%d%ET%H:%M:%E*S%Ez",
        "%Y-%m-%d%ET%H:%M:%E*S",
        "%Y-%m-%d %H:%M:%E*S%Ez",
        "%Y-%m-%d %H:%M:%E*S",
    };
    bool parsed = false;
    // A shape check first: absl::ParseTime accepts signed and long years.
    if (t.size() < 19 || !absl::ascii_isdigit(t[0])) return bad;
    for (const char* format : kFormats) {
      std::string error;
      if (absl::ParseTime(format, t, absl::UTCTimeZone(), &time, &error)) {
        parsed = true;
        break;
      }
    }
    if (!parsed) return bad;
    const absl::CivilSecond civil =
        absl::ToCivilSecond(time, absl::UTCTimeZone());
    if (civil.year() < 1 || civil.year() > 9999) return bad;
  }
  return base::ToProtoTime(time);
}

absl::StatusOr<double> ParseNumber(absl::string_view text) {
  double value;
  const absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t.empty() || !absl::SimpleAtod(t, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a number: ", Quoted(text)));
  }
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be a finite number, got ", Quoted(t)));
  }
  return value;
}

absl::StatusOr<double> ParsePercent(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  const absl::Status bad = absl::InvalidArgumentError(
      absl::StrCat("not a percentage: ", Quoted(text)));
  absl::string_view v = t;
  for (absl::string_view prefix :
       {"more than", "greater than", "over", "above", "at least", ">=", ">",
        "\xe2\x89\xa5" /* U+2265 */}) {
    if (absl::ConsumePrefix(&v, prefix)) break;
  }
  v = absl::StripAsciiWhitespace(v);
  if (absl::ConsumeSuffix(&v, "%")) v = absl::StripTrailingAsciiWhitespace(v);
  // A band counts as its lower bound.
  size_t band = v.find(" to ");
  if (band == absl::string_view::npos) {
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] == '-' && (absl::ascii_isdigit(v[i - 1]) || v[i - 1] == ' ')) {
        band = i;
        break;
      }
    }
  }
  if (band != absl::string_view::npos) {
    v = absl::StripTrailingAsciiWhitespace(v.substr(0, band));
    absl::ConsumeSuffix(&v, "%");
  }
  std::string number(v);
  // A decimal comma: "51,5".
  if (number.find(',') != std::string::npos &&
      number.find('.') == std::string::npos &&
      std::count(number.begin(), number.end(), ',') == 1) {
    number[number.find(',')] = '.';
  }
  if (number.empty() || !std::all_of(number.begin(), number.end(), [](char c) {
        return absl::ascii_isdigit(c) || c == '.';
      })) {
    return bad;
  }
  double value;
  if (!absl::SimpleAtod(number, &value) || !std::isfinite(value)) return bad;
  if (!(value >= 0 && value <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be in [0, 100], got ", Quoted(text)));
  }
  return value;
}

std::string SlugFromForeignId(absl::string_view id, size_t max_bytes) {
  constexpr size_t kSuffixBytes = 9;  // "." and 8 hex digits.
  std::string out;
  out.reserve(id.size());
  bool lossy = false;
  for (char c : id) {
    if (IsSlugChar(c)) {
      out.push_back(c);
    } else if (absl::ascii_isupper(c)) {
      out.push_back(absl::ascii_tolower(c));
      lossy = true;
    } else {
      out.push_back('-');
      lossy = true;
    }
  }
  if (!lossy && out.size() <= max_bytes) return out;
  if (max_bytes < kSuffixBytes) max_bytes = kSuffixBytes;
  if (out.size() > max_bytes - kSuffixBytes) {
    out.resize(max_bytes - kSuffixBytes);
  }
  absl::StrAppend(&out, ".", absl::Hex(Fnv1a32(id), absl::kZeroPad8));
  return out;
}

std::string Truncate(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < 3) return std::string(text.substr(0, max_bytes));
  size_t cut = max_bytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat(text.substr(0, cut), "...");
}

domain::FieldError SplitJsonError(absl::string_view message) {
  // The first line: the following ones quote the input around the error.
  absl::string_view line = message.substr(0, message.find('\n'));
  domain::FieldError out;
  if (absl::ConsumePrefix(&line, "(")) {
    const size_t close = line.find(')');
    if (close != absl::string_view::npos) {
      out.field = std::string(line.substr(0, close));
      line.remove_prefix(close + 1);
      const bool named = !absl::StartsWith(line, ":");
      absl::ConsumePrefix(&line, ":");
      line = absl::StripLeadingAsciiWhitespace(line);
      // "(upsert_entity) foo: Cannot find field.": the field is named after
      // the path.
      const size_t colon = line.find(": ");
      if (named && colon != absl::string_view::npos && colon > 0 &&
          std::all_of(line.begin(), line.begin() + colon, [](char c) {
            return absl::ascii_isalnum(c) || c == '_';
          })) {
        const absl::string_view name = line.substr(0, colon);
        out.field = out.field.empty() ? std::string(name)
                                      : absl::StrCat(out.field, ".", name);
        line.remove_prefix(colon + 2);
        out.reason = line == "Cannot find field."
                         ? "unknown field"
                         : std::string(absl::StripAsciiWhitespace(line));
        return out;
      }
    }
  }
  absl::ConsumePrefix(&line, ": ");
  if (absl::StrContains(line, "Root element must be a message")) {
    out.reason = "not a JSON object";
  } else if (absl::StrContains(line, "oneof field 'kind' is already set")) {
    out.field = "kind";
    out.reason =
        "more than one of upsert_entity, upsert_edge, upsert_signal, "
        "delete_entity_id, delete_edge, delete_signal_id is set";
  } else if (absl::StrContains(line, "non UTF-8")) {
    out.reason = "not valid UTF-8";
  } else {
    out.reason = std::string(absl::StripAsciiWhitespace(line));
    if (out.reason.empty()) out.reason = "malformed JSON";
  }
  return out;
}

JsonBrackets ScanJsonBrackets(absl::string_view text, int limit) {
  JsonBrackets out;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > out.depth) {
          out.depth = depth;
          if (out.depth > limit) {
            out.depth = limit + 1;
            out.first_close = absl::string_view::npos;
            return out;
          }
        }
        break;
      case ']':
      case '}':
        if (depth > 0 && --depth == 0 &&
            out.first_close == absl::string_view::npos) {
          out.first_close = i + 1;
        }
        break;
      default:
        break;
    }
  }
  return out;
}

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    absl::string_view text) {
  if (JsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nested deeper than ", kMaxJsonDepth, " levels of arrays and objects"));
  }
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &object);
  if (!status.ok()) {
    const std::string message(status.message());
    domain::FieldError e = SplitJsonError(message);
    // Struct's own paths ("fields[0]") mean nothing to a reader.
    return absl::InvalidArgumentError(e.reason);
  }
  return object;
}

const google::protobuf::Value* Member(const google::protobuf::Struct& object,
                                      absl::string_view key) {
  auto it = object.fields().find(std::string(key));
  return it == object.fields().end() ? nullptr : &it->second;
}

namespace {

void AppendStrings(const google::protobuf::Value& value, int depth,
                   std::vector<std::string>* out) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue: {
      absl::string_view s = absl::StripAsciiWhitespace(value.string_value());
      if (!s.empty()) out->emplace_back(s);
      break;
    }
    case google::protobuf::Value::kNumberValue: {
      const double v = value.number_value();
      if (std::abs(v) < 9007199254740992.0 && v == std::floor(v)) {
        out->push_back(absl::StrCat(static_cast<int64_t>(v)));
      } else {
        out->push_back(absl::StrFormat("%.17g", v));
      }
      break;
    }
    case google::protobuf::Value::kBoolValue:
      out->push_back(value.bool_value() ? "true" : "false");
      break;
    case google::protobuf::Value::kListValue:
      if (depth > 4) break;
      for (const auto& element : value.list_value().values()) {
        AppendStrings(element, depth + 1, out);
      }
      break;
    default:
      break;
  }
}

}  // namespace

absl::Status CheckStringValues(const google::protobuf::Value* value) {
  if (value == nullptr) return absl::OkStatus();
  if (value->has_struct_value()) {
    return absl::InvalidArgumentError(
        "must be a string or an array of strings, got an object");
  }
  if (!value->has_list_value()) return absl::OkStatus();
  for (const google::protobuf::Value& element : value->list_value().values()) {
    if (element.has_list_value()) {
      return absl::InvalidArgumentError(
          "must be a string or an array of strings, got a nested array");
    }
    if (element.has_struct_value()) {
      return absl::InvalidArgumentError(
          "must be a string or an array of strings, got an object in the "
          "array");
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> Strings(const google::protobuf::Value* value) {
  std::vector<std::string> out;
  if (value != nullptr) AppendStrings(*value, 0, &out);
  return out;
}

std::string FirstString(const google::protobuf::Value* value) {
  std::vector<std::string> all = Strings(value);
  return all.empty() ? std::string() : std::move(all.front());
}

std::vector<std::string> SplitList(absl::string_view cell) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(cell, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

}  // namespace georisk::formats
