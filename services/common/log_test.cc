#include "services/common/log.h"

#include <limits>

#include "gtest/gtest.h"

namespace georisk::common {
namespace log {
namespace {

const absl::Time kTime = absl::FromUnixMicros(1795277432123456);

TEST(LogTest, FormatsOneJsonLine) {
  std::string line =
      FormatLine(kTime, Level::kInfo, "graphstore", "serving",
                 {{"address", "127.0.0.1:5"}, {"port", 5}, {"ready", true}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-21T16:10:32.123456Z\",\"level\":\"INFO\","
            "\"service\":\"graphstore\",\"msg\":\"serving\","
            "\"address\":\"127.0.0.1:5\",\"port\":5,\"ready\":true}");
}

TEST(LogTest, EscapesStringsSoTheLineStaysOneLine) {
  std::string line = FormatLine(kTime, Level::kError, "", "bad \"x\"\n",
                                {{"path", "a\\b\tc\x01"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("\"msg\":\"bad \\\"x\\\"\\n\""), std::string::npos);
  EXPECT_NE(line.find("\"path\":\"a\\\\b\\tc\\u0001\""), std::string::npos);
  EXPECT_EQ(line.find("service"), std::string::npos);
}

TEST(LogTest, NonFiniteNumbersAreQuoted) {
  std::string line =
      FormatLine(kTime, Level::kWarning, "s", "m",
                 {{"x", std::numeric_limits<double>::infinity()}, {"y", 0.5}});
  EXPECT_NE(line.find("\"x\":\"inf\""), std::string::npos);
  EXPECT_NE(line.find("\"y\":0.5"), std::string::npos);
}

}  // namespace
}  // namespace log
}  // namespace georisk::common
