#include "services/ingest/source_config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "base/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::ingest {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(SourceConfigTest, ParsesAndFillsDefaults) {
  absl::StatusOr<std::vector<Source>> got = ParseSourcesConfig(R"pb(
    sources {
      name: "csl"
      url: "https://data.trade.gov/csl.csv"
      format: "csl-csv"
      interval: "1h"
      snapshot_source: "trade.gov/csl"
    }
    sources {
      name: "opensanctions"
      url: "file:///data/entities.delta.json"
      interval: "24h"
      delta: true
      max_bytes: 1000
      timeout: "30s"
      max_ended_fraction: 0.2
      retry_initial: "10s"
    }
  )pb");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  const Source& csl = (*got)[0];
  EXPECT_EQ(csl.interval, absl::Hours(1));
  EXPECT_EQ(csl.timeout, absl::Minutes(5));
  EXPECT_EQ(csl.retry_initial, absl::Minutes(1));
  EXPECT_EQ(csl.max_bytes, int64_t{512} << 20);
  EXPECT_EQ(csl.max_ended_fraction, 0.5);
  const Source& os = (*got)[1];
  EXPECT_EQ(os.config.format(), "auto");
  EXPECT_TRUE(os.config.delta());
  EXPECT_EQ(os.max_bytes, 1000);
  EXPECT_EQ(os.timeout, absl::Seconds(30));
  EXPECT_EQ(os.max_ended_fraction, 0.2);
  EXPECT_EQ(os.retry_initial, absl::Seconds(10));
}

struct BadCase {
  std::string text;
  std::string message;
};

TEST(SourceConfigTest, NamesTheSourceAndFieldAtFault) {
  const std::string ok =
      R"(url: "http://x/a.csv" interval: "1h" snapshot_source: "s" )";
  const std::vector<BadCase> cases = {
      {R"(sources { name: "Bad Name" )" + ok + "}",
       "sources[0] (Bad Name).name"},
      {R"(sources { name: "a" )" + ok + R"(} sources { name: "a" )" + ok + "}",
       "sources[1] (a).name: used by an earlier source"},
      {R"(sources { name: "a" url: "ftp://x" interval: "1h" delta: true })",
       "(a).url"},
      {R"(sources { name: "a" url: "http://x" delta: true })",
       "(a).interval: required"},
      {R"(sources { name: "a" url: "http://x" interval: "0s" delta: true })",
       "(a).interval: must be >= 1s"},
      {R"(sources { name: "a" url: "http://x" interval: "soon" delta: true })",
       "(a).interval: not a duration"},
      {R"(sources { name: "a" url: "http://x" interval: "1h" })",
       "(a).snapshot_source: set exactly one"},
      {R"(sources { name: "a" url: "http://x" interval: "1h" delta: true )"
       R"(snapshot_source: "s" })",
       "(a).snapshot_source: set exactly one"},
      {R"(sources { name: "a" )" + ok + R"(format: "xml" })", "(a).format"},
      {R"(sources { name: "a" )" + ok + R"(max_ended_fraction: 1.5 })",
       "(a).max_ended_fraction"},
      {R"(sources { name: "a" )" + ok + R"(max_bytes: -1 })", "(a).max_bytes"},
      {R"(sources { name: "a" )" + ok +
           R"(auth_header_file: "f" auth_header_env: "E" })",
       "(a).auth_header_file"},
      {R"(sources { name: "a" )" + ok + R"(delta_index: true })",
       "(a).delta_index: needs delta: true"},
      {R"(sources { name: "a" )" + ok + R"(snapshot_sources: "t" )" +
           R"(snapshot_sources: "s" })",
       "(a).snapshot_sources[1]: \"s\" is given twice"},
      {R"(sources { name: "a" url: "http://x" interval: "1h" )"
       R"(snapshot_sources: " t" })",
       "(a).snapshot_sources[0]: must be a source"},
      {R"(sources { name: "a" url: "http://x" interval: "1h" delta: true )"
       R"(snapshot_sources: "s" })",
       "(a).snapshot_source: set exactly one"},
      {R"(sources { nme: "a" })", "line 1"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<std::vector<Source>> got = ParseSourcesConfig(c.text);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << c.text;
    EXPECT_THAT(got.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(SourceConfigTest, LoadsAFileAndReportsAMissingOne) {
  const std::string dir = base::testing::MakeTempDir("config");
  {
    std::ofstream out(dir + "/sources.textproto");
    out << R"(sources { name: "a" url: "http://x" interval: "1h" delta: true })";
  }
  absl::StatusOr<std::vector<Source>> got =
      LoadSourcesConfig(dir + "/sources.textproto");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 1u);
  EXPECT_EQ(LoadSourcesConfig(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

// The config deploy/k8s ships (ConfigMap georisk-sources).
TEST(SourceConfigTest, TheDeployedConfigIsValid) {
  absl::StatusOr<std::vector<Source>> got =
      LoadSourcesConfig("deploy/config/sources.textproto");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  const Source& csl = (*got)[0];
  // Every list of the CSL parser, once: the file's delistings of each end.
  EXPECT_EQ(csl.snapshot_sources.size(), 13u);
  EXPECT_THAT(csl.snapshot_sources, Contains("trade.gov/csl:EL"));
  EXPECT_THAT(csl.snapshot_sources, Contains("trade.gov/csl:SDN"));
  EXPECT_THAT(csl.snapshot_sources, Contains("trade.gov/csl:DTC"));
  EXPECT_EQ(csl.max_ended_fraction, 0.2);
}

TEST(SourceConfigTest, SnapshotSourcesAreTheUnionInOrder) {
  absl::StatusOr<std::vector<Source>> got = ParseSourcesConfig(
      R"(sources { name: "a" url: "http://x" interval: "1h" )"
      R"(snapshot_source: "s" snapshot_sources: "t" snapshot_sources: "u" })"
      R"(sources { name: "b" url: "http://x" interval: "1h" delta: true })");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT((*got)[0].snapshot_sources, ElementsAre("s", "t", "u"));
  EXPECT_THAT((*got)[1].snapshot_sources, IsEmpty());
}

TEST(SourceConfigTest, ReadsTheAuthHeaderFromAFileOrTheEnvironment) {
  const std::string dir = base::testing::MakeTempDir("auth");
  {
    std::ofstream out(dir + "/header");
    out << "Authorization: Bearer t0ken\n";
  }
  v1::SourceConfig c;
  EXPECT_EQ(*ReadAuthHeader(c), "");
  c.set_auth_header_file(dir + "/header");
  EXPECT_EQ(*ReadAuthHeader(c), "Authorization: Bearer t0ken");
  c.set_auth_header_file(dir + "/missing");
  absl::StatusOr<std::string> missing = ReadAuthHeader(c);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  c.clear_auth_header_file();
  c.set_auth_header_env("GEORISK_TEST_SOURCE_AUTH");
  unsetenv("GEORISK_TEST_SOURCE_AUTH");
  absl::StatusOr<std::string> unset = ReadAuthHeader(c);
  EXPECT_EQ(unset.status().code(), absl::StatusCode::kFailedPrecondition);
  setenv("GEORISK_TEST_SOURCE_AUTH", "X-Api-Key: k", 1);
  EXPECT_EQ(*ReadAuthHeader(c), "X-Api-Key: k");
}

}  // namespace
}  // namespace georisk::ingest
