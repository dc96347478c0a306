// File: formats/format_util.h
//
// Small pieces the parsers of services/ingest share: dates, numbers, ids made
// from foreign ids, JSON values, and turning a parse error into a field and a
// reason.
//
//   absl::StatusOr<google::protobuf::Timestamp> t = ParseDate("2025-12-31");
//   std::string slug = SlugFromForeignId("NK-22CNNJ5Z");
//                                        // "nk-22cnnj5z.1b7c2f0a"
//
// Thread-safe: pure functions.
#ifndef GEORISK_FORMATS_FORMAT_UTIL_H_
#define GEORISK_FORMATS_FORMAT_UTIL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/record_validation.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace georisk::formats {

// Parses a date or a time, in UTC unless an offset is given:
// "2025-12-31", "2025-12", "2025" (partial dates, as FollowTheMoney writes
// them: the first day of the period), "2025-12-31T08:00:00Z",
// "2025-12-31T08:00:00+08:00", "2025-12-31T08:00:00", "2025-12-31 08:00:00".
// Errors: InvalidArgument "not a date: \"...\"" (years 1..9999 only).
absl::StatusOr<google::protobuf::Timestamp> ParseDate(absl::string_view text);

// Parses a finite decimal number. Errors: InvalidArgument "not a number:
// \"...\"" or "must be a finite number, got ...".
absl::StatusOr<double> ParseNumber(absl::string_view text);

// Parses an ownership percentage as registers write it, in percent:
// "51", "51.5", "51,5" (a decimal comma), "51%", ">50", ">= 50", "more
// than 50%", "over 50", "at least 50", "50-75%", "50 - 75 %", "50 to 75".
// A band or a lower bound counts as its lower bound (">50" and "50-75%" give
// 50: the 50% rules ask "50% or more", which both satisfy). The value is a
// percent whatever its size: "0.51" is 0.51%, never a share of 0.51 (callers
// whose source writes shares as fractions divide nothing and say so).
// Errors: InvalidArgument "not a percentage: \"...\"" (also for upper
// bounds such as "less than 25%") or "must be in [0, 100], got ...".
absl::StatusOr<double> ParsePercent(absl::string_view text);

// A slug (graph.proto's [a-z0-9][a-z0-9._:-]*) made from a foreign id such as
// a FollowTheMoney id or a list's entry number, at most `max_bytes` long.
// Lower-cases it and replaces other characters with '-'; if that lost
// anything (case, characters) or had to be cut, appends "." and 8 hex digits
// of a hash of the original, so that distinct ids stay distinct. An id that
// is already a slug maps to itself.
std::string SlugFromForeignId(absl::string_view id, size_t max_bytes);

// `text` cut to at most `max_bytes`, at a UTF-8 character boundary, with
// "..." when cut.
std::string Truncate(absl::string_view text, size_t max_bytes);

// Deepest nesting of arrays and objects ParseJsonObject accepts. Real
// FollowTheMoney and CSL records nest 3 or 4 levels; protobuf's JSON parser
// takes time super-linear in the depth (a 60 KB line of nested arrays took
// 51 s, issue #15) and refuses Struct values nested much deeper than this
// anyway (its limit counts messages: Value, ListValue, Value...), so deeper
// input is rejected before it is parsed.
inline constexpr int kMaxJsonDepth = 32;

// What one linear pass over the brackets of `text` (outside strings) finds.
// It does not validate JSON.
struct JsonBrackets {
  // The deepest nesting of arrays and objects (0 for a scalar); limit + 1
  // once it passes `limit`, where the scan stops.
  int depth = 0;
  // The offset just past the bracket at which the nesting first returns to
  // zero (the end of the first array or object), or npos if it never does
  // (no bracket, unbalanced, or the scan stopped at the limit).
  size_t first_close = absl::string_view::npos;
};
JsonBrackets ScanJsonBrackets(absl::string_view text, int limit);

// The deepest nesting of arrays and objects in `text` (0 for a scalar),
// counting brackets outside strings, in one linear pass; stops counting once
// it passes `limit` and returns limit + 1. Does not validate JSON.
inline int JsonNestingDepth(absl::string_view text, int limit) {
  return ScanJsonBrackets(text, limit).depth;
}

// Parses a JSON object, in time linear in its size. Errors: InvalidArgument
// with the reason ("not a JSON object", "nested deeper than 32 levels of
// arrays and objects", the parser's first line).
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    absl::string_view text);

// OK when `value` is absent, null, a string, a number, a boolean or an array
// of these: the shape of a FollowTheMoney property or a CSL list column.
// Errors: InvalidArgument "must be a string or an array of strings, got a
// nested array" (e.g. [["x"]]) or "..., got an object".
absl::Status CheckStringValues(const google::protobuf::Value* value);

// The JSON parser's error message turned into a field and a reason:
// "(upsert_edge.weight): invalid value \"x\" for type TYPE_DOUBLE" ->
// {"upsert_edge.weight", "invalid value \"x\" for type TYPE_DOUBLE"}.
domain::FieldError SplitJsonError(absl::string_view message);

// The member `key` of `object`, or null.
const google::protobuf::Value* Member(const google::protobuf::Struct& object,
                                      absl::string_view key);

// The strings of a JSON value: a string gives itself, a number its shortest
// decimal form, an array the strings of its elements (nested values
// flattened), null and objects nothing. Blank strings are dropped; the others
// are trimmed.
std::vector<std::string> Strings(const google::protobuf::Value* value);

// The first of Strings(value), or "".
std::string FirstString(const google::protobuf::Value* value);

// Splits a list cell ("a; b;c") on ';' into trimmed, non-blank parts.
std::vector<std::string> SplitList(absl::string_view cell);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_FORMAT_UTIL_H_
