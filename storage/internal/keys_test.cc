#include "storage/internal/keys.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::storage::internal {
namespace {

using ::testing::HasSubstr;

TEST(Fnv1a64Test, MatchesPublishedVectors) {
  // Test vectors of the FNV reference (isthe.com/chongo/tech/comp/fnv).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(PartitionTest, IsTheFoldedHash) {
  const uint64_t h = Fnv1a64("company/tsmc");
  EXPECT_EQ(Partition("company/tsmc"),
            static_cast<uint16_t>((h ^ h >> 16 ^ h >> 32 ^ h >> 48) & 0xffff));
  // Pinned: keys on disk depend on it. docs/storage.md shows these examples.
  EXPECT_EQ(Fnv1a64("company/tsmc"), 0xb90a639e4517adc0ULL);
  EXPECT_EQ(Partition("company/tsmc"), 0x3243);
  EXPECT_EQ(Partition("company/apple"), 0x1198);
  EXPECT_NE(Partition("company/tsmc"), Partition("company/tsmd"));
}

TEST(PartitionTest, SpreadsIds) {
  std::vector<int> hits(kPartitionCount);
  for (int i = 0; i < 100000; ++i) {
    ++hits[Partition("company/c" + std::to_string(i))];
  }
  // 100,000 ids over 65,536 partitions: no partition holds many.
  EXPECT_LT(*std::max_element(hits.begin(), hits.end()), 12);
}

TEST(EntityKeyTest, IsPartitionThenId) {
  const std::string key = EncodeEntityKey("company/tsmc");
  ASSERT_EQ(key.size(), 2 + 12u);
  const uint16_t p = Partition("company/tsmc");
  EXPECT_EQ(static_cast<uint8_t>(key[0]), p >> 8);
  EXPECT_EQ(static_cast<uint8_t>(key[1]), p & 0xff);
  EXPECT_EQ(key.substr(2), "company/tsmc");
  EXPECT_EQ(*DecodeRecordKey(key), "company/tsmc");
  EXPECT_EQ(EncodeSignalKey("signal/x"), EncodeEntityKey("signal/x"));
}

TEST(LinkKeyTest, OwnerTerminatorOther) {
  const std::string key = EncodeLinkKey("company/tsmc", "company/csl-el-1");
  // Partition 0x3243 of company/tsmc (docs/storage.md), the owner, 00, the
  // other end.
  EXPECT_EQ(key, std::string("\x32\x43"
                             "company/tsmc\0company/csl-el-1",
                             31));
  EXPECT_TRUE(absl::StartsWith(key, LinkPrefix("company/tsmc")));
  EXPECT_EQ(EdgePrefixLength(key), LinkPrefix("company/tsmc").size());
  absl::StatusOr<LinkKeyParts> parts = DecodeLinkKey(key);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->owner_id, "company/tsmc");
  EXPECT_EQ(parts->other_id, "company/csl-el-1");
  // A key without its other end, without a terminator, or whose partition
  // is not the owner's is refused.
  EXPECT_FALSE(DecodeLinkKey(LinkPrefix("company/tsmc")).ok());
  EXPECT_FALSE(DecodeLinkKey(EncodeEntityKey("company/tsmc")).ok());
  std::string wrong = key;
  wrong[0] = '\x00';
  EXPECT_FALSE(DecodeLinkKey(wrong).ok());
  EXPECT_FALSE(DecodeLinkKey(std::string("\x32\x43\0x", 4)).ok());
}

TEST(EdgeKeyTest, OutAndInLayouts) {
  const std::string out =
      EncodeOutEdgeKey("company/a", v1::Edge::SUPPLIES, "company/b", "8542");
  const std::string in =
      EncodeInEdgeKey("company/a", v1::Edge::SUPPLIES, "company/b", "8542");
  EXPECT_EQ(out.substr(2), std::string("company/a\0\3company/b\0008542", 25));
  EXPECT_EQ(EncodeOutEdgeKey("company/tsmc", v1::Edge::SUPPLIES,
                             "company/apple", "8542"),
            std::string("\x32\x43"
                        "company/tsmc\0\3company/apple\0"
                        "8542",
                        34));
  EXPECT_EQ(in.substr(2), std::string("company/b\0\3company/a\0008542", 25));
  EXPECT_EQ(out.substr(0, 2), EncodeEntityKey("company/a").substr(0, 2));
  EXPECT_EQ(in.substr(0, 2), EncodeEntityKey("company/b").substr(0, 2));
  EXPECT_TRUE(absl::StartsWith(out, EdgePrefix("company/a")));
  EXPECT_TRUE(absl::StartsWith(in, EdgePrefix("company/b")));
  EXPECT_TRUE(
      absl::StartsWith(out, EdgeKindPrefix("company/a", v1::Edge::SUPPLIES)));
}

struct RoundTripCase {
  const char* from;
  v1::Edge::Kind kind;
  const char* to;
  const char* product;
  const char* record_id = "";
};

class EdgeRoundTripTest : public testing::TestWithParam<RoundTripCase> {};

TEST_P(EdgeRoundTripTest, DecodesWhatItEncodes) {
  const RoundTripCase& c = GetParam();
  const EdgeKeyParts parts{c.from, c.kind, c.to, c.product, c.record_id};
  absl::StatusOr<EdgeKeyParts> out = DecodeOutEdgeKey(EncodeOutEdgeKey(parts));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, parts);
  absl::StatusOr<EdgeKeyParts> in = DecodeInEdgeKey(EncodeInEdgeKey(parts));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(*in, parts);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EdgeRoundTripTest,
    testing::Values(
        RoundTripCase{"company/a", v1::Edge::OWNS, "company/b", ""},
        RoundTripCase{"company/a", v1::Edge::OWNS, "company/a", ""},
        RoundTripCase{"company/x", v1::Edge::OPERATES, "facility/x-1", ""},
        RoundTripCase{"facility/f", v1::Edge::SUPPLIES, "company/c",
                      "8542310000"},
        RoundTripCase{"company/0", v1::Edge::SUPPLIES, "company/z.z:z_z-z",
                      "85"},
        RoundTripCase{"person/x", v1::Edge::OWNS, "company/y", "",
                      "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7"},
        RoundTripCase{"company/s", v1::Edge::SUPPLIES, "company/c", "8542",
                      "contract 7 / 2024"}));

TEST(EdgeKeyTest, RecordIdExtendsTheVersionOneKey) {
  const std::string v1_key =
      EncodeOutEdgeKey("company/a", v1::Edge::SUPPLIES, "company/b", "8542");
  // Schema version 1's bytes, unchanged for an edge without a record id.
  EXPECT_EQ(v1_key.substr(2),
            std::string("company/a\0\3company/b\0008542", 25));
  EXPECT_EQ(EncodeOutEdgeKey("company/a", v1::Edge::SUPPLIES, "company/b",
                             "8542", ""),
            v1_key);
  const std::string with_record = EncodeOutEdgeKey(
      "company/a", v1::Edge::SUPPLIES, "company/b", "8542", "r1");
  EXPECT_EQ(with_record, v1_key + std::string("\0r1", 3));
  EXPECT_EQ(EncodeInEdgeKey("company/a", v1::Edge::SUPPLIES, "company/b",
                            "8542", "r1")
                .substr(2),
            std::string("company/b\0\3company/a\0008542\0r1", 28));
  // docs/storage.md's worked example.
  EXPECT_EQ(Partition("person/zakharov"), 0x014c);
  EXPECT_EQ(Partition("company/llc-cst"), 0x9ca3);
  const std::string owns = EncodeOutEdgeKey(
      "person/zakharov", v1::Edge::OWNS, "company/llc-cst", "", "ru-dfe0a021");
  EXPECT_EQ(owns, std::string("\x01\x4c"
                              "person/zakharov\0\1company/llc-cst\0"
                              "\0ru-dfe0a021",
                              47));
  EXPECT_EQ(EncodeInEdgeKey("person/zakharov", v1::Edge::OWNS,
                            "company/llc-cst", "", "ru-dfe0a021"),
            std::string("\x9c\xa3"
                        "company/llc-cst\0\1person/zakharov\0"
                        "\0ru-dfe0a021",
                        47));
}

TEST(EdgeKeyTest, RecordsOfOnePairAreContiguousAfterTheUnkeyedOne) {
  std::vector<std::string> keys;
  for (const char* product : {"8542", "85420", "854"}) {
    for (const char* record : {"", "a", "b", "ru-1"}) {
      keys.push_back(EncodeOutEdgeKey("company/s", v1::Edge::SUPPLIES,
                                      "company/c", product, record));
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> order;
  for (const std::string& key : keys) {
    const EdgeKeyParts parts = *DecodeOutEdgeKey(key);
    order.push_back(parts.product_code + "/" + parts.record_id);
  }
  EXPECT_THAT(
      order, testing::ElementsAre("854/", "854/a", "854/b", "854/ru-1", "8542/",
                                  "8542/a", "8542/b", "8542/ru-1", "85420/",
                                  "85420/a", "85420/b", "85420/ru-1"));
}

TEST(EdgeKeyTest, PartsOfEdgesAndEdgeKeys) {
  v1::Edge edge;
  edge.set_from_id("person/x");
  edge.set_kind(v1::Edge::OWNS);
  edge.set_to_id("company/y");
  edge.set_record_id("ru-1");
  const EdgeKeyParts parts = PartsOf(edge);
  EXPECT_EQ(parts, (EdgeKeyParts{"person/x", v1::Edge::OWNS, "company/y", "",
                                 "ru-1"}));
  const v1::EdgeKey key = ToEdgeKey(parts);
  EXPECT_EQ(key.record_id(), "ru-1");
  EXPECT_EQ(PartsOf(key), parts);
}

TEST(EdgeKeyTest, EdgesOfOneEntityAreContiguousAndSortedByKind) {
  // Ids chosen so that several share partitions or prefixes.
  const std::vector<std::string> ids = {"company/a", "company/ab", "company/b",
                                        "company/a.b", "facility/a"};
  std::vector<std::pair<std::string, std::string>> keyed;  // key, from
  for (const std::string& from : ids) {
    for (const std::string& to : ids) {
      for (auto kind :
           {v1::Edge::SUPPLIES, v1::Edge::OWNS, v1::Edge::OPERATES}) {
        keyed.emplace_back(EncodeOutEdgeKey(from, kind, to, ""), from);
      }
    }
  }
  std::sort(keyed.begin(), keyed.end());
  // Each source's keys form one run.
  std::vector<std::string> runs;
  for (const auto& [key, from] : keyed) {
    if (runs.empty() || runs.back() != from) runs.push_back(from);
  }
  std::vector<std::string> distinct = runs;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  EXPECT_EQ(runs.size(), distinct.size());
  // Within a run, kinds ascend.
  for (size_t i = 1; i < keyed.size(); ++i) {
    if (keyed[i].second != keyed[i - 1].second) continue;
    EXPECT_LE(DecodeOutEdgeKey(keyed[i - 1].first)->kind,
              DecodeOutEdgeKey(keyed[i].first)->kind);
  }
}

TEST(EdgeKeyTest, PrefixOfOneIdNeverMatchesAnIdExtendingIt) {
  const std::string a_prefix = EdgePrefix("company/a");
  const std::string ab_key =
      EncodeOutEdgeKey("company/ab", v1::Edge::OWNS, "company/c", "");
  // Even when both ids fall in the same partition, the terminator differs
  // from the next id byte.
  EXPECT_FALSE(absl::StartsWith(ab_key.substr(2), a_prefix.substr(2)));
  EXPECT_FALSE(absl::StartsWith(ab_key, a_prefix));
  EXPECT_EQ(EdgePrefixLength(ab_key), 2 + 10 + 1u);
  EXPECT_EQ(EdgePrefixLength(a_prefix), a_prefix.size());
  EXPECT_EQ(EdgePrefixLength(EncodeEntityKey("company/a")), 0u);
}

TEST(EdgeKeyTest, PartitionBytesMayBeZero) {
  // Find an id whose partition has a 0x00 byte: the prefix extractor must
  // look for the terminator after the partition.
  std::string id;
  for (int i = 0;; ++i) {
    id = "company/z" + std::to_string(i);
    const uint16_t p = Partition(id);
    if ((p >> 8) == 0 || (p & 0xff) == 0) break;
  }
  const std::string key = EncodeOutEdgeKey(id, v1::Edge::OWNS, "company/q", "");
  EXPECT_EQ(EdgePrefixLength(key), 2 + id.size() + 1);
  EXPECT_EQ(DecodeOutEdgeKey(key)->from_id, id);
}

TEST(ChangeLogKeyTest, SortsNumerically) {
  std::vector<uint64_t> sequences = {
      1, 2, 9, 10, 255, 256, 65535, 65536, 1ULL << 40, (1ULL << 63) + 5};
  std::vector<std::string> keys;
  for (uint64_t s : sequences) keys.push_back(EncodeChangeLogKey(s));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  for (size_t i = 0; i < sequences.size(); ++i) {
    EXPECT_EQ(keys[i].size(), 8u);
    EXPECT_EQ(*DecodeChangeLogKey(keys[i]), sequences[i]);
  }
  EXPECT_EQ(EncodeChangeLogKey(258), std::string("\0\0\0\0\0\0\1\2", 8));
}

TEST(PrefixSuccessorTest, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(std::string("a\0", 2)), std::string("a\1", 2));
}

struct MalformedCase {
  const char* name;
  std::string key;
};

class MalformedEdgeKeyTest : public testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedEdgeKeyTest, IsInvalidArgument) {
  for (auto* decode : {&DecodeOutEdgeKey, &DecodeInEdgeKey}) {
    absl::StatusOr<EdgeKeyParts> parts = decode(GetParam().key);
    EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument)
        << GetParam().name;
    EXPECT_THAT(parts.status().message(), HasSubstr("malformed"));
  }
}

std::string WithPartition(absl::string_view id, absl::string_view rest) {
  return EncodeEntityKey(id) + std::string(rest);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedEdgeKeyTest,
    testing::Values(
        MalformedCase{"empty", ""}, MalformedCase{"one_byte", "x"},
        MalformedCase{"no_terminator", EncodeEntityKey("company/a")},
        MalformedCase{"empty_id", std::string("\0\0\0\1b\0", 6)},
        MalformedCase{"no_kind", WithPartition("company/a", std::string(1, 0))},
        MalformedCase{
            "unknown_kind",
            WithPartition("company/a", std::string("\0\011company/b\0", 12))},
        MalformedCase{
            "kind_zero",
            WithPartition("company/a", std::string("\0\0company/b\0", 12))},
        MalformedCase{
            "no_second_terminator",
            WithPartition("company/a", std::string("\0\1company/b", 11))},
        MalformedCase{"empty_second_id",
                      WithPartition("company/a", std::string("\0\1\0", 3))},
        MalformedCase{"empty_record_id",
                      WithPartition("company/a", std::string("\0\3company/b\0"
                                                             "85\0",
                                                             15))},
        MalformedCase{"zero_in_record_id",
                      WithPartition("company/a", std::string("\0\3company/b\0"
                                                             "85\0"
                                                             "42\0x",
                                                             19))},
        MalformedCase{"wrong_partition",
                      "zz" + EncodeOutEdgeKey("company/a", v1::Edge::OWNS,
                                              "company/b", "")
                                 .substr(2)}),
    [](const testing::TestParamInfo<MalformedCase>& info) {
      return info.param.name;
    });

TEST(RecordKeyTest, MalformedKeysAreInvalidArgument) {
  EXPECT_EQ(DecodeRecordKey("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeRecordKey("ab").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeRecordKey("zzcompany/a").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string with_zero = EncodeEntityKey("company/a");
  with_zero.push_back('\0');
  EXPECT_EQ(DecodeRecordKey(with_zero).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChangeLogKeyTest, MalformedKeysAreInvalidArgument) {
  EXPECT_EQ(DecodeChangeLogKey("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeChangeLogKey("1234567").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeChangeLogKey("123456789").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeFixed64BE("1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::storage::internal
