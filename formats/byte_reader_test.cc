#include "formats/byte_reader.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

struct Read {
  ByteReader::Line result;
  std::string text;
  int64_t length;
  int64_t line_after;
};

std::vector<Read> ReadAll(const std::string& input, size_t max, size_t buffer) {
  std::istringstream in(input);
  ByteReader reader(&in, buffer);
  std::vector<Read> out;
  while (true) {
    Read r;
    r.result = reader.ReadLine(max, &r.text, &r.length);
    r.line_after = reader.line();
    if (r.result == ByteReader::Line::kEnd) break;
    out.push_back(r);
  }
  EXPECT_EQ(reader.offset(), static_cast<int64_t>(input.size()));
  return out;
}

TEST(ByteReaderTest, ReadsLinesWhateverTheBufferSize) {
  const std::string input = "first\r\n\nthird line\nlast without newline";
  for (size_t buffer : {16, 17, 64, 65536}) {
    SCOPED_TRACE(buffer);
    std::vector<Read> lines = ReadAll(input, 100, buffer);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].text, "first");
    EXPECT_EQ(lines[0].length, 5);
    EXPECT_EQ(lines[0].line_after, 2);
    EXPECT_EQ(lines[1].text, "");
    EXPECT_EQ(lines[2].text, "third line");
    EXPECT_EQ(lines[3].text, "last without newline");
    EXPECT_EQ(lines[3].result, ByteReader::Line::kLine);
  }
}

TEST(ByteReaderTest, SkipsALongLineWithoutKeepingIt) {
  const std::string big(100000, 'x');
  const std::string input = "ok\n" + big + "\r\nafter\n";
  for (size_t buffer : {16, 4096}) {
    std::vector<Read> lines = ReadAll(input, 1000, buffer);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].text, "ok");
    EXPECT_EQ(lines[1].result, ByteReader::Line::kTooLong);
    EXPECT_EQ(lines[1].text, "");
    EXPECT_EQ(lines[1].length, 100000);
    EXPECT_EQ(lines[1].line_after, 3);
    EXPECT_EQ(lines[2].text, "after");
  }
}

TEST(ByteReaderTest, LineOfExactlyTheLimitIsKept) {
  std::vector<Read> lines = ReadAll("abcd\nabcde\n", 4, 16);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].result, ByteReader::Line::kLine);
  EXPECT_EQ(lines[1].result, ByteReader::Line::kTooLong);
  EXPECT_EQ(lines[1].length, 5);
}

TEST(ByteReaderTest, SkipsAByteOrderMarkOnlyAtTheStart) {
  std::istringstream in("\xEF\xBB\xBFid\n\xEF\xBB\xBFx\n");
  ByteReader reader(&in);
  reader.SkipByteOrderMark();
  std::string line;
  int64_t length;
  reader.ReadLine(100, &line, &length);
  EXPECT_EQ(line, "id");
  reader.SkipByteOrderMark();
  reader.ReadLine(100, &line, &length);
  EXPECT_EQ(line, "\xEF\xBB\xBFx");
}

TEST(ByteReaderTest, GetAndPeekCountLines) {
  std::istringstream in("a\nb");
  ByteReader reader(&in, 16);
  EXPECT_EQ(reader.Peek(), 'a');
  EXPECT_EQ(reader.Get(), 'a');
  EXPECT_EQ(reader.line(), 1);
  EXPECT_EQ(reader.Get(), '\n');
  EXPECT_EQ(reader.line(), 2);
  EXPECT_EQ(reader.Get(), 'b');
  EXPECT_EQ(reader.Get(), -1);
  EXPECT_EQ(reader.Peek(), -1);
  EXPECT_EQ(reader.offset(), 3);
  EXPECT_FALSE(reader.failed());
}

TEST(ByteReaderTest, EmptyInputHasNoLines) {
  EXPECT_TRUE(ReadAll("", 10, 16).empty());
}

}  // namespace
}  // namespace georisk::formats
