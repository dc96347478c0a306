// Helpers for the parser tests: parse a string whole, describe records.
#ifndef GEORISK_FORMATS_PARSER_TEST_UTIL_H_
#define GEORISK_FORMATS_PARSER_TEST_UTIL_H_

#include <sstream>
#include <string>
#include <vector>

#include "formats/parsers.h"
#include "gtest/gtest.h"

namespace georisk::formats::testing {

inline std::vector<formats::ParsedRecord> ParseAll(
    Format format, const std::string& input,
    formats::ParserOptions options = {}) {
  std::istringstream in(input);
  auto parser = formats::MakeParser(format, &in, options);
  EXPECT_TRUE(parser.ok()) << parser.status();
  std::vector<formats::ParsedRecord> out;
  if (!parser.ok()) return out;
  formats::ParsedRecord record;
  while ((*parser)->Next(&record)) {
    out.push_back(record);
    if (out.size() > 100000) break;
  }
  // A CSV whose header is rejected is abandoned there.
  if (out.empty() || out.back().field != "header") {
    EXPECT_EQ((*parser)->bytes_read(), static_cast<int64_t>(input.size()))
        << formats::FormatName(format);
  }
  return out;
}

// "line:field:reason" for a rejection, "line:ok:N" for N mutations.
inline std::string Describe(const formats::ParsedRecord& r) {
  if (r.rejected()) {
    return std::to_string(r.line) + ":" + r.field + ":" + r.reason;
  }
  return std::to_string(r.line) + ":ok:" + std::to_string(r.mutations.size());
}

inline std::vector<std::string> DescribeAll(
    const std::vector<formats::ParsedRecord>& records) {
  std::vector<std::string> out;
  for (const formats::ParsedRecord& r : records) out.push_back(Describe(r));
  return out;
}

// One rejection expected of one input.
struct RejectCase {
  const char* name;
  std::string input;
  std::string field;
  std::string reason;  // A substring of the reason.
};

}  // namespace georisk::formats::testing

#endif  // GEORISK_FORMATS_PARSER_TEST_UTIL_H_
