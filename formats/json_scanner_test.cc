#include "formats/json_scanner.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::testing::ElementsAre;

// Each record as "line:text" or "line:!error".
std::vector<std::string> Scan(const std::string& input,
                              size_t max_record_bytes = 1 << 20) {
  std::istringstream in(input);
  ByteReader reader(&in, 16);
  JsonRecordScanner scanner(&reader, {max_record_bytes, "results"});
  std::vector<std::string> out;
  std::string text, error;
  for (int guard = 0; guard < 1000; ++guard) {
    const JsonRecordScanner::Result r = scanner.Next(&text, &error);
    if (r == JsonRecordScanner::Result::kEnd) break;
    out.push_back(
        std::to_string(scanner.record_line()) + ":" +
        (r == JsonRecordScanner::Result::kError ? "!" + error : text));
  }
  return out;
}

TEST(JsonScannerTest, TopLevelArray) {
  EXPECT_THAT(Scan("[\n {\"a\": \"]}\"},\n {\"b\": [1, {}]}\n]\n"),
              ElementsAre("2:{\"a\": \"]}\"}", "3:{\"b\": [1, {}]}"));
}

TEST(JsonScannerTest, ResultsMemberOfAWrapper) {
  EXPECT_THAT(
      Scan(
          "{\"total\": 2, \"sources\": [{\"x\": 1}],\n \"results\": [{\"a\":1},"
          "\n{\"b\":\"\\\"\"}], \"after\": {\"c\": [1]}}"),
      ElementsAre("2:{\"a\":1}", "3:{\"b\":\"\\\"\"}"));
}

TEST(JsonScannerTest, KeyThatOnlyStartsLikeResultsIsNotTheArray) {
  EXPECT_THAT(Scan("{\"resultsX\": [1]}\n{\"b\": 2}\n"),
              ElementsAre("1:{\"resultsX\": [1]}", "2:{\"b\": 2}"));
}

TEST(JsonScannerTest, JsonLines) {
  EXPECT_THAT(Scan("{\"a\": 1}\n\n{\"b\": 2}\ngarbage\n"),
              ElementsAre("1:{\"a\": 1}", "3:{\"b\": 2}", "4:garbage"));
}

TEST(JsonScannerTest, GarbageFirstLineIsALine) {
  EXPECT_THAT(Scan("\x01\x02 binary\n{\"a\":1}\n"),
              ElementsAre("1:\x01\x02 binary", "2:{\"a\":1}"));
}

TEST(JsonScannerTest, MissingCommaAndEmptyElement) {
  EXPECT_THAT(
      Scan("[{\"a\":1} {\"b\":2},,{\"c\":3}]"),
      ElementsAre("1:{\"a\":1}", "1:!expected ',' or ']' after a record",
                  "1:{\"b\":2}", "1:!unexpected ',' (an empty record)",
                  "1:{\"c\":3}"));
}

TEST(JsonScannerTest, TruncatedDocument) {
  EXPECT_THAT(Scan("[{\"a\":1},\n{\"b\":"),
              ElementsAre("1:{\"a\":1}",
                          "2:!truncated record: the input ends inside it"));
  EXPECT_THAT(Scan("[{\"a\":1}"),
              ElementsAre("1:{\"a\":1}",
                          "1:!truncated document: the array of records is "
                          "not closed"));
  EXPECT_THAT(Scan("{\"a\": \"open"),
              ElementsAre("1:!truncated record: the input ends inside a "
                          "string"));
}

TEST(JsonScannerTest, LongRecordIsSkipped) {
  const std::string big = "{\"a\": \"" + std::string(1000, 'x') + "\"}";
  EXPECT_THAT(Scan("[" + big + ", {\"b\": 1}]", 100),
              ElementsAre("1:!record longer than 100 bytes", "1:{\"b\": 1}"));
  EXPECT_THAT(Scan(big + "\n{\"b\": 1}\n", 100),
              ElementsAre("1:!record longer than 100 bytes", "2:{\"b\": 1}"));
}

TEST(JsonScannerTest, TextAfterTheDocument) {
  EXPECT_THAT(Scan("[{\"a\":1}]\n trailing"),
              ElementsAre("1:{\"a\":1}",
                          "2:!unexpected text after the end of the document"));
}

TEST(JsonScannerTest, EmptyInputsHaveNoRecords) {
  EXPECT_THAT(Scan(""), ElementsAre());
  EXPECT_THAT(Scan("  \n"), ElementsAre());
  EXPECT_THAT(Scan("[]"), ElementsAre());
  EXPECT_THAT(Scan("{\"results\": []}"), ElementsAre());
}

}  // namespace
}  // namespace georisk::formats
