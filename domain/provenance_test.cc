#include "domain/provenance.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

const absl::Time kT = absl::FromUnixSeconds(1796565600);  // 2026-12-06 14:00

TEST(ProvenanceTest, ASourceOriginReadsBack) {
  const std::string o = SourceOrigin("csl-el", kT, "etag:\"v1\"");
  EXPECT_EQ(o, "source:csl-el fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  const Origin p = ParseOrigin(o);
  EXPECT_EQ(p.kind, Origin::Kind::kSource);
  EXPECT_EQ(p.name, "csl-el");
  EXPECT_EQ(p.time, kT);
  EXPECT_EQ(p.validator, "etag:\"v1\"");
  EXPECT_EQ(p.delta_version, "");
}

TEST(ProvenanceTest, ADeltaVersionAndAHashReadBack) {
  const Origin p = ParseOrigin(
      "source:os fetched 2026-12-06T14:00:00Z sha256:0123456789abcdef "
      "version:20240527194702-wnk");
  EXPECT_EQ(p.kind, Origin::Kind::kSource);
  EXPECT_EQ(p.name, "os");
  EXPECT_EQ(p.validator, "sha256:0123456789abcdef");
  EXPECT_EQ(p.delta_version, "20240527194702-wnk");
}

TEST(ProvenanceTest, AnEtagWithSpacesStaysWhole) {
  const Origin p =
      ParseOrigin("source:a fetched 2026-12-06T14:00:00Z etag:W/\"x y\"");
  EXPECT_EQ(p.kind, Origin::Kind::kSource);
  EXPECT_EQ(p.validator, "etag:W/\"x y\"");
}

TEST(ProvenanceTest, AnImportOriginNamesTheFileAndReadsBack) {
  const std::string o = ImportOrigin({"/data/lists/el.csv"}, kT, 128);
  EXPECT_EQ(o, "import:el.csv started 2026-12-06T14:00:00Z");
  const Origin p = ParseOrigin(o);
  EXPECT_EQ(p.kind, Origin::Kind::kImport);
  EXPECT_EQ(p.name, "el.csv");
  EXPECT_EQ(p.time, kT);
  EXPECT_EQ(
      ParseOrigin(ImportOrigin({"a.csv", "b.json", "c.json"}, kT, 128)).name,
      "a.csv and 2 more");
  // A file name with the separator in it: the last one counts.
  EXPECT_EQ(ParseOrigin(ImportOrigin({"x started y.csv"}, kT, 128)).name,
            "x started y.csv");
}

TEST(ProvenanceTest, ABulkLoadOriginNamesTheFilesAndReadsBack) {
  const std::string o =
      BulkLoadOrigin({"/data/graph/entities.jsonl", "edges.jsonl"}, kT, 256);
  EXPECT_EQ(o,
            "bulkload:entities.jsonl and 1 more started 2026-12-06T14:00:00Z");
  const Origin p = ParseOrigin(o);
  EXPECT_EQ(p.kind, Origin::Kind::kBulkLoad);
  EXPECT_EQ(p.name, "entities.jsonl and 1 more");
  EXPECT_EQ(p.time, kT);
  EXPECT_LE(BulkLoadOrigin({std::string(300, 'x')}, kT, 256).size(), 256u);
}

TEST(ProvenanceTest, ALongFileNameIsCutToTheLimitAtACharacter) {
  // "é" is two bytes: the cut never splits one.
  std::string name;
  for (int i = 0; i < 100; ++i) name += "é";
  const std::string o = ImportOrigin({name}, kT, 128);
  EXPECT_LE(o.size(), 128u);
  EXPECT_GE(o.size(), 127u);
  const Origin p = ParseOrigin(o);
  ASSERT_EQ(p.kind, Origin::Kind::kImport);
  EXPECT_EQ(p.name.size() % 2, 0u);
  EXPECT_EQ(p.name, name.substr(0, p.name.size()));
}

TEST(ProvenanceTest, OtherTextIsOther) {
  for (const char* o : {"", "ingest", "georiskctl import", "source:",
                        "source:x fetched", "source:x fetched yesterday etag:1",
                        "source:x fetched 2026-12-06T14:00:00Z md5:1",
                        "source: fetched 2026-12-06T14:00:00Z etag:1",
                        "import:a.csv", "import:a.csv started soon", "bulkload",
                        "bulkload:g.jsonl started later"}) {
    const Origin p = ParseOrigin(o);
    EXPECT_EQ(p.kind, Origin::Kind::kOther) << o;
    EXPECT_EQ(p.name, "") << o;
    EXPECT_EQ(p.time, absl::InfinitePast()) << o;
  }
}

}  // namespace
}  // namespace georisk::domain
