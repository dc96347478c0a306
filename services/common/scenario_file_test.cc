#include "services/common/scenario_file.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace georisk::common {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ReadScenarioFileTest, ReadsYaml) {
  auto s = ReadScenarioFile(Write("s.yaml", R"(name: tension up
asOf: "2027-07-01T00:00:00Z"
overrides:
  - upsertSignal:
      id: signal/cross-strait-tension
      source: "what-if"
      tension: {theatre: cross_strait, level: 0.9}
  - deleteEdge: {fromId: company/tsmc, toId: company/apple, kind: SUPPLIES,
                 productCode: "8542"}
)"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name(), "tension up");
  ASSERT_EQ(s->overrides_size(), 2);
  EXPECT_DOUBLE_EQ(s->overrides(0).upsert_signal().tension().level(), 0.9);
  EXPECT_EQ(s->overrides(1).delete_edge().product_code(), "8542");
  EXPECT_EQ(s->as_of().seconds(), 1814400000);
}

TEST(ReadScenarioFileTest, ReadsJson) {
  auto s = ReadScenarioFile(Write(
      "s.json",
      R"({"name": "cut", "overrides": [{"deleteSignalId": "signal/veu"}]})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->overrides(0).delete_signal_id(), "signal/veu");
}

TEST(ReadScenarioFileTest, ErrorsNameTheFile) {
  auto missing = ReadScenarioFile("/nonexistent/s.yaml");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto unknown = ReadScenarioFile(Write("bad.yaml", "nmae: typo\n"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("bad.yaml"), std::string::npos);
  auto broken = ReadScenarioFile(Write("broken.yaml", "a: [1, 2\n"));
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseScenarioTest, ReadsTextAsTheFileWouldBeRead) {
  const std::string yaml =
      "name: cut\noverrides:\n  - deleteSignalId: signal/veu\n";
  auto from_text = ParseScenario(yaml, "edited");
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  auto from_file = ReadScenarioFile(Write("cut.yaml", yaml));
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_text->SerializeAsString(), from_file->SerializeAsString());
  EXPECT_EQ(from_text->overrides(0).delete_signal_id(), "signal/veu");
  // Errors name the text and the place.
  auto broken = ParseScenario("name: [a\n", "scenario.yaml");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("scenario.yaml: "),
            std::string::npos);
  EXPECT_NE(broken.status().message().find("line 2, column 1"),
            std::string::npos)
      << broken.status();
}

}  // namespace
}  // namespace georisk::common
