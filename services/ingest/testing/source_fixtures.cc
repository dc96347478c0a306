#include "services/ingest/testing/source_fixtures.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace georisk::ingest::testing {

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

CslSeries RealCslSeries() {
  CslSeries series;
  const std::vector<std::string> sample =
      Lines(ReadTestFile("tests/data/real/csl/csl_2025-06_sample.csv"));
  const std::vector<std::string> excerpt =
      Lines(ReadTestFile("tests/data/real/csl/csl_2023-11_excerpt.csv"));
  if (sample.size() != 14 || excerpt.size() < 5 ||
      !absl::StrContains(excerpt[4], "VTB BANK PUBLIC JOINT STOCK COMPANY")) {
    return series;
  }
  series.v1 = sample;
  for (const std::string& l : sample) {
    if (!absl::StrContains(l, "\"SME BANK\"")) series.v2.push_back(l);
  }
  series.v2.push_back(excerpt[4]);
  return series;
}

const std::vector<std::string>& DeltaVersions() {
  static const std::vector<std::string>* const versions =
      new std::vector<std::string>{"20240527134702-zbn", "20240527194702-wnk",
                                   "20240528014702-pfh", "20240528074703-npf",
                                   "20240528134729-3iv"};
  return *versions;
}

void ServeDeltaVersions(SourceHttpServer* server) {
  for (const std::string& v : DeltaVersions()) {
    server->ServePath("/v/" + v + ".json",
                      ReadTestFile("tests/data/real/ftm/delta/" + v +
                                   "/entities.delta.json"));
  }
}

std::string DeltaIndex(const SourceHttpServer& server, size_t n) {
  std::string json = R"({"versions": {)";
  for (size_t i = 0; i < n && i < DeltaVersions().size(); ++i) {
    const std::string& v = DeltaVersions()[i];
    absl::StrAppend(&json, i ? ", " : "", "\"", v, "\": \"",
                    server.Url("/v/" + v + ".json"), "\"");
  }
  return json + R"(}, "updated_at": "2024-05-28T14:47:29Z"})";
}

}  // namespace georisk::ingest::testing
