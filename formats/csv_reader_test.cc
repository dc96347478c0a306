#include "formats/csv_reader.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

// Each record as "line:field|field|..." or "line:!error".
std::vector<std::string> Records(const std::string& input,
                                 CsvOptions options = {}) {
  std::istringstream in(input);
  ByteReader reader(&in, 16);
  CsvReader csv(&reader, options);
  std::vector<std::string> out;
  std::vector<std::string> fields;
  std::string error;
  for (int guard = 0; guard < 1000; ++guard) {
    const CsvReader::Result r = csv.Next(&fields, &error);
    if (r == CsvReader::Result::kEnd) break;
    out.push_back(std::to_string(csv.record_line()) + ":" +
                  (r == CsvReader::Result::kError
                       ? "!" + error
                       : absl::StrJoin(fields, "|")));
  }
  return out;
}

using ::testing::ElementsAre;

struct Case {
  const char* name;
  std::string input;
  std::vector<std::string> records;
};

class CsvReaderTest : public ::testing::TestWithParam<Case> {};

TEST_P(CsvReaderTest, Splits) {
  EXPECT_EQ(Records(GetParam().input), GetParam().records);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CsvReaderTest,
    ::testing::Values(
        Case{"plain", "a,b,c\n1,2,3\n", {"1:a|b|c", "2:1|2|3"}},
        Case{"crlf_and_no_final_newline", "a,b\r\n1,2", {"1:a|b", "2:1|2"}},
        Case{"empty_fields", ",,\n", {"1:||"}},
        Case{"blank_lines_skipped", "\n\r\na\n\n\nb\n", {"3:a", "6:b"}},
        Case{"quoted", "\"a,b\",\"say \"\"hi\"\"\"\n", {"1:a,b|say \"hi\""}},
        Case{"quoted_newline", "\"x\ny\",z\nnext\n", {"1:x\ny|z", "3:next"}},
        Case{"bare_quote_kept", "ab\"c,d\n", {"1:ab\"c|d"}},
        Case{"text_after_quote",
             "\"a\"b,c\nok\n",
             {"1:!unexpected text after a closing quote", "2:ok"}},
        Case{"unterminated_at_end",
             "ok\n\"open,\n",
             {"1:ok", "2:!unterminated quoted field (opened on line 2)"}},
        Case{"unterminated_resyncs_next_line",
             "\"open\nb,c\nd\n",
             {"1:!unterminated quoted field (opened on line 1)", "2:b|c",
              "3:d"}},
        Case{"quoted_empty", "\"\",x\n", {"1:|x"}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(CsvReaderLimitsTest, LongRecordIsSkippedAndReadingGoesOn) {
  CsvOptions options;
  options.max_record_bytes = 10;
  EXPECT_THAT(
      Records("short\n" + std::string(50, 'x') + ",y\nafter\n", options),
      ElementsAre("1:short", "2:!record longer than 10 bytes", "3:after"));
}

TEST(CsvReaderLimitsTest, QuotedFieldSpanningTooManyLinesResyncs) {
  CsvOptions options;
  options.max_record_lines = 2;
  EXPECT_THAT(Records("\"a\nb\nc\nd\n", options),
              ElementsAre("1:!unterminated quoted field (no closing quote "
                          "within 2 lines)",
                          "2:b", "3:c", "4:d"));
}

TEST(CsvReaderLimitsTest, LongQuotedRecordAcrossLinesResyncs) {
  CsvOptions options;
  options.max_record_bytes = 8;
  EXPECT_THAT(Records("\"ab\ncdefghijk\nk\n", options),
              ElementsAre("1:!record longer than 8 bytes",
                          "2:!record longer than 8 bytes", "3:k"));
}

TEST(CsvReaderLimitsTest, OtherDelimiter) {
  CsvOptions options;
  options.delimiter = '\t';
  EXPECT_THAT(Records("a\tb,c\n", options), ElementsAre("1:a|b,c"));
}

}  // namespace
}  // namespace georisk::formats
