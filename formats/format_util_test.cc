#include "formats/format_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct DateCase {
  std::string text;
  std::string want;  // RFC 3339 in UTC, or "" for an error.
};

class ParseDateTest : public ::testing::TestWithParam<DateCase> {};

TEST_P(ParseDateTest, Parses) {
  absl::StatusOr<google::protobuf::Timestamp> t = ParseDate(GetParam().text);
  if (GetParam().want.empty()) {
    ASSERT_FALSE(t.ok()) << GetParam().text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr("not a date: \""));
    return;
  }
  ASSERT_TRUE(t.ok()) << GetParam().text << ": " << t.status();
  EXPECT_EQ(absl::FormatTime(absl::RFC3339_full, base::FromProtoTime(*t),
                             absl::UTCTimeZone()),
            GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDateTest,
    ::testing::Values(
        DateCase{"2025-12-31", "2025-12-31T00:00:00+00:00"},
        DateCase{" 2025-12 ", "2025-12-01T00:00:00+00:00"},
        DateCase{"2025", "2025-01-01T00:00:00+00:00"},
        DateCase{"2025-12-31T08:00:00Z", "2025-12-31T08:00:00+00:00"},
        DateCase{"2025-12-31T08:00:00+08:00", "2025-12-31T00:00:00+00:00"},
        DateCase{"2025-12-31T08:00:00.5", "2025-12-31T08:00:00.5+00:00"},
        DateCase{"2025-12-31 08:00:00", "2025-12-31T08:00:00+00:00"},
        DateCase{"2025-02-30", ""}, DateCase{"2025-13", ""},
        DateCase{"0000-01-01", ""}, DateCase{"31/12/2025", ""},
        DateCase{"yesterday", ""}, DateCase{"", ""},
        DateCase{"-2025-01-01T00:00:00Z", ""},
        DateCase{"12025-01-01T00:00:00Z", ""}));

TEST(ParseNumberTest, FiniteOnly) {
  EXPECT_EQ(*ParseNumber(" 0.25 "), 0.25);
  EXPECT_EQ(*ParseNumber("-3"), -3);
  EXPECT_THAT(ParseNumber("abc").status().message(),
              HasSubstr("not a number: \"abc\""));
  EXPECT_THAT(ParseNumber("").status().message(), HasSubstr("not a number"));
  EXPECT_THAT(ParseNumber("nan").status().message(),
              HasSubstr("must be a finite number, got \"nan\""));
  EXPECT_THAT(ParseNumber("-inf").status().message(),
              HasSubstr("must be a finite number"));
  EXPECT_THAT(ParseNumber("1e999").status().message(), HasSubstr("finite"));
}

TEST(SlugFromForeignIdTest, KeepsSlugsAndDisambiguatesTheRest) {
  EXPECT_EQ(SlugFromForeignId("ofac-12345", 100), "ofac-12345");
  const std::string a = SlugFromForeignId("NK-AbC", 100);
  const std::string b = SlugFromForeignId("NK-abc", 100);
  EXPECT_THAT(a, ::testing::StartsWith("nk-abc."));
  EXPECT_EQ(a.size(), std::string("nk-abc.").size() + 8);
  EXPECT_NE(a, b);
  EXPECT_EQ(SlugFromForeignId("NK-AbC", 100), a) << "stable";
  EXPECT_THAT(SlugFromForeignId("a b/c", 100), ::testing::StartsWith("a-b-c."));
  const std::string cut = SlugFromForeignId(std::string(300, 'x'), 50);
  EXPECT_EQ(cut.size(), 50u);
}

TEST(TruncateTest, CutsAtCharacterBoundaries) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("abcdefghij", 8), "abcde...");
  // "é" is two bytes: never cut in the middle.
  EXPECT_EQ(Truncate("aé"
                     "bcdef",
                     5),
            "a...");
}

TEST(SplitJsonErrorTest, Shapes) {
  domain::FieldError e = SplitJsonError(
      "(upsert_entity.kind): invalid value \"COMPNY\" for type X");
  EXPECT_EQ(e.field, "upsert_entity.kind");
  EXPECT_EQ(e.reason, "invalid value \"COMPNY\" for type X");
  e = SplitJsonError("(upsert_entity) foo: Cannot find field.");
  EXPECT_EQ(e.field, "upsert_entity.foo");
  EXPECT_EQ(e.reason, "unknown field");
  e = SplitJsonError(
      "(upsert_entity) name: Proto field is not repeating, cannot start "
      "list.");
  EXPECT_EQ(e.field, "upsert_entity.name");
  EXPECT_EQ(e.reason, "Proto field is not repeating, cannot start list.");
  e = SplitJsonError(": Root element must be a message.");
  EXPECT_EQ(e.reason, "not a JSON object");
  e = SplitJsonError("Unexpected token.\n{\"a\":x}\n     ^");
  EXPECT_EQ(e.field, "");
  EXPECT_EQ(e.reason, "Unexpected token.");
  e = SplitJsonError(
      ": invalid value oneof field 'kind' is already set. Cannot set 'x'");
  EXPECT_EQ(e.field, "kind");
}

TEST(JsonTest, ObjectsAndStrings) {
  absl::StatusOr<google::protobuf::Struct> o = ParseJsonObject(
      R"({"s": " a ", "n": 12345678, "f": 0.5, "l": ["x", [" y"], "", null],
          "b": true, "o": {"k": 1}})");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_THAT(Strings(Member(*o, "s")), ElementsAre("a"));
  EXPECT_THAT(Strings(Member(*o, "n")), ElementsAre("12345678"));
  EXPECT_THAT(Strings(Member(*o, "f")), ElementsAre("0.5"));
  EXPECT_THAT(Strings(Member(*o, "l")), ElementsAre("x", "y"));
  EXPECT_THAT(Strings(Member(*o, "b")), ElementsAre("true"));
  EXPECT_THAT(Strings(Member(*o, "o")), ElementsAre());
  EXPECT_EQ(FirstString(Member(*o, "missing")), "");
  EXPECT_EQ(ParseJsonObject("[1]").status().message(), "not a JSON object");
  EXPECT_EQ(ParseJsonObject("{\"a\":").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// One pass finds both the depth and where the first value closes; brackets
// and escaped quotes inside strings do not count.
TEST(JsonTest, ScanJsonBracketsFindsDepthAndFirstClose) {
  constexpr size_t npos = absl::string_view::npos;
  struct Case {
    std::string text;
    int depth;
    size_t first_close;
  };
  const Case cases[] = {
      {"", 0, npos},
      {"42", 0, npos},
      {"{}", 1, 2},
      {R"({"a": [1, 2]})", 2, 13},
      {R"({"a": "}"} )", 1, 10},
      {R"({"a": "\"}"})", 1, 12},
      {R"({"a": 1} {"b": [2]})", 2, 8},
      {R"({"a": [1)", 2, npos},
      {"]{}", 1, 3},  // A stray closer at depth 0 is ignored.
  };
  for (const Case& c : cases) {
    const JsonBrackets b = ScanJsonBrackets(c.text, 100);
    EXPECT_EQ(b.depth, c.depth) << c.text;
    EXPECT_EQ(b.first_close, c.first_close) << c.text;
  }
  // Past the limit the scan stops: limit + 1, and no close is reported.
  const JsonBrackets deep = ScanJsonBrackets("[[[]]]", 2);
  EXPECT_EQ(deep.depth, 3);
  EXPECT_EQ(deep.first_close, npos);
}

// Issue #15: nesting is measured in one linear pass and deep input is
// rejected before protobuf's parser (super-linear in depth) sees it.
TEST(JsonTest, DeepNestingIsRejectedFast) {
  EXPECT_EQ(JsonNestingDepth(R"({"a": [1, {"b": "[[[["}]})", 100), 3);
  EXPECT_EQ(JsonNestingDepth("\"no\"", 100), 0);
  for (size_t bytes : {size_t{60000}, size_t{1000000}}) {
    const size_t levels = (bytes - 8) / 2;
    const std::string text = absl::StrCat("{\"a\": ", std::string(levels, '['),
                                          std::string(levels, ']'), "}");
    EXPECT_EQ(JsonNestingDepth(text, kMaxJsonDepth), kMaxJsonDepth + 1);
    const absl::StatusOr<google::protobuf::Struct> o = ParseJsonObject(text);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << bytes;
    EXPECT_EQ(o.status().message(),
              "nested deeper than 32 levels of arrays and objects");
  }
  // 32 levels parse (protobuf itself refuses Struct values nested much
  // deeper).
  const std::string ok =
      absl::StrCat("{\"a\": ", std::string(31, '['), std::string(31, ']'), "}");
  EXPECT_TRUE(ParseJsonObject(ok).ok());
}

TEST(JsonTest, CheckStringValues) {
  absl::StatusOr<google::protobuf::Struct> o = ParseJsonObject(
      R"({"s": "x", "l": ["x", 1, null], "n": [["x"]], "o": {"k": 1},
          "lo": [{"k": 1}]})");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(CheckStringValues(Member(*o, "s")).ok());
  EXPECT_TRUE(CheckStringValues(Member(*o, "l")).ok());
  EXPECT_TRUE(CheckStringValues(nullptr).ok());
  EXPECT_EQ(CheckStringValues(Member(*o, "n")).message(),
            "must be a string or an array of strings, got a nested array");
  EXPECT_EQ(CheckStringValues(Member(*o, "o")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckStringValues(Member(*o, "lo")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParsePercentTest, Spellings) {
  struct Case {
    const char* text;
    double percent;
  };
  for (const Case& c :
       {Case{"51", 51}, Case{"51.5", 51.5}, Case{"51,5", 51.5}, Case{"51%", 51},
        Case{" 51 % ", 51}, Case{">50", 50}, Case{">= 50", 50},
        Case{"more than 50%", 50}, Case{"Over 25", 25}, Case{"50-75%", 50},
        Case{"75 - 100 %", 75}, Case{"50% - 75%", 50}, Case{"25 to 50", 25},
        Case{"0.51", 0.51}, Case{"100", 100}, Case{"0", 0}}) {
    absl::StatusOr<double> p = ParsePercent(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status();
    EXPECT_DOUBLE_EQ(*p, c.percent) << c.text;
  }
  for (const char* bad :
       {"", "NaN", "-5", "less than 25%", "half", "1,2,3", "1e2", "inf"}) {
    EXPECT_EQ(ParsePercent(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ParsePercent("150").status().message(),
            "must be in [0, 100], got \"150\"");
}

TEST(SplitListTest, TrimsAndDropsBlanks) {
  EXPECT_THAT(SplitList(" a; b ;;c; "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitList(""), ElementsAre());
}

}  // namespace
}  // namespace georisk::formats
