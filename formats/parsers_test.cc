// MakeParser, DetectFormat, and what every parser promises on garbage: no
// crash, bounded records, progress to the end of the input.
#include "formats/parsers.h"

#include <random>
#include <sstream>
#include <string>

#include "formats/parser_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::georisk::formats::testing::ParseAll;
using ::testing::HasSubstr;

constexpr Format kAllFormats[] = {Format::kJsonl,    Format::kCsvEntities,
                                  Format::kCsvEdges, Format::kFtm,
                                  Format::kCslCsv,   Format::kCslJson};

TEST(FormatNameTest, RoundTrips) {
  for (Format f : kAllFormats) {
    EXPECT_EQ(*ParseFormatName(FormatName(f)), f);
  }
  EXPECT_EQ(*ParseFormatName("auto"), Format::kAuto);
  EXPECT_THAT(ParseFormatName("xml").status().message(),
              HasSubstr("unknown format \"xml\"; expected one of auto, jsonl"));
}

TEST(MakeParserTest, RefusesAuto) {
  std::istringstream in("");
  EXPECT_EQ(MakeParser(Format::kAuto, &in, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DetectFormatTest, FromTheFirstBytes) {
  struct Case {
    const char* name;
    std::string head;
    Format want;
  };
  for (const Case& c : {
           Case{"a.jsonl", R"({"upsert_entity": {"id": "company/a"}})",
                Format::kJsonl},
           Case{"x.json",
                "\xEF\xBB\xBF{\"id\": \"x\", \"schema\": \"Company\", "
                "\"properties\": {}}\n",
                Format::kFtm},
           Case{"csl.json", R"({"total": 3, "results": [{"source": "EL"}]})",
                Format::kCslJson},
           Case{"csl.json", "[\n{\"entity_number\": \"1\"}]", Format::kCslJson},
           Case{"csl.csv", "_id,source,entity_number,type,name\n",
                Format::kCslCsv},
           Case{"e.csv", "from_id,to_id,kind,weight,source\n",
                Format::kCsvEdges},
           Case{"n.csv", "\"id\",\"name\",\"country\",\"source\"\r\n",
                Format::kCsvEntities},
           Case{"empty.jsonl", "", Format::kJsonl},
       }) {
    absl::StatusOr<Format> f = DetectFormat(c.name, c.head);
    ASSERT_TRUE(f.ok()) << c.name << ": " << f.status();
    EXPECT_EQ(*f, c.want) << c.name << " " << c.head;
  }
  EXPECT_THAT(DetectFormat("x.txt", "hello world\n").status().message(),
              HasSubstr("cannot tell the format of x.txt"));
}

// Random bytes, and random mutations of plausible inputs: every parser
// returns records, each a rejection or mutations that passed validation.
TEST(ParsersGarbageTest, NeverCrashAndAlwaysFinish) {
  std::mt19937 rng(42);
  const std::string seeds[] = {
      "{\"upsert_entity\": {\"id\": \"company/a\", \"kind\": \"COMPANY\"}}\n",
      "id,name,country,source\ncompany/a,A,TW,s\n\"x,\"\"y\n",
      "from_id,to_id,kind,weight,source\ncompany/a,company/b,OWNS,0.5,s\n",
      "{\"id\": \"x\", \"schema\": \"Ownership\", \"properties\": "
      "{\"owner\": [\"a\"], \"asset\": [\"b\"], \"percentage\": [\"5\"]}}\n",
      "source,entity_number,name,addresses\nEL,1,A,\"x, CN\"\n",
      "{\"results\": [{\"source\": \"EL\", \"name\": \"A\"}, [1, {\"x\": "
      "\"]\"}]]}",
  };
  for (int round = 0; round < 300; ++round) {
    std::string input = seeds[round % 6];
    const int edits = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < edits; ++i) {
      const size_t at = input.empty() ? 0 : rng() % input.size();
      switch (rng() % 3) {
        case 0:
          if (!input.empty()) input[at] = static_cast<char>(rng());
          break;
        case 1:
          input.insert(at, 1, "{}[]\",:\n\\"[rng() % 9]);
          break;
        case 2:
          if (!input.empty()) input.erase(at, 1 + rng() % 4);
          break;
      }
    }
    for (Format f : kAllFormats) {
      ParserOptions options;
      options.max_record_bytes = 256;
      for (const ParsedRecord& r : ParseAll(f, input, options)) {
        if (r.rejected()) {
          EXPECT_TRUE(r.mutations.empty());
        } else {
          EXPECT_FALSE(r.mutations.empty());
        }
        EXPECT_GE(r.line, 1);
      }
    }
  }
}

TEST(ParsersGarbageTest, BinaryInput) {
  std::mt19937 rng(7);
  std::string input(64 << 10, '\0');
  for (char& c : input) c = static_cast<char>(rng());
  for (Format f : kAllFormats) {
    auto records = ParseAll(f, input);
    for (const ParsedRecord& r : records) {
      EXPECT_TRUE(r.rejected()) << FormatName(f) << " line " << r.line;
    }
  }
}

}  // namespace
}  // namespace georisk::formats
