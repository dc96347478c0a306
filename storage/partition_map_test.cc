#include "storage/partition_map.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/internal/keys.h"

namespace georisk::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

PartitionMap MustParse(absl::string_view text) {
  absl::StatusOr<PartitionMap> map = PartitionMap::Parse(text);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? *map : PartitionMap::Single();
}

PartitionMap MustEven(int shards) {
  absl::StatusOr<PartitionMap> map = PartitionMap::Even(shards);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? *map : PartitionMap::Single();
}

TEST(PartitionOfTest, TopTenBitsOfTheKeyPrefix) {
  // The key prefixes docs/storage.md pins (keys_test), shifted right by 6.
  struct Case {
    const char* id;
    int prefix;
    int partition;
  };
  for (const Case& c :
       {Case{"company/tsmc", 0x3243, 201}, Case{"company/apple", 0x1198, 70},
        Case{"person/zakharov", 0x014c, 5},
        Case{"company/llc-cst", 0x9ca3, 626}}) {
    SCOPED_TRACE(c.id);
    EXPECT_EQ(internal::Partition(c.id), c.prefix);
    EXPECT_EQ(PartitionOf(c.id), c.partition);
  }
}

TEST(PartitionOfTest, ThePartitionsKeyPrefixRangeHoldsTheIdsKeyPrefix) {
  for (int i = 0; i < 2000; ++i) {
    const std::string id = "company/c" + std::to_string(i);
    const int p = PartitionOf(id);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, kPartitions);
    const KeyPrefixRange range = KeyPrefixRangeOf(p);
    EXPECT_LE(range.first, internal::Partition(id)) << id;
    EXPECT_GE(range.last, internal::Partition(id)) << id;
  }
  EXPECT_EQ(KeyPrefixRangeOf(0).first, 0);
  EXPECT_EQ(KeyPrefixRangeOf(0).last, 63);
  EXPECT_EQ(KeyPrefixRangeOf(1).first, 64);
  EXPECT_EQ(KeyPrefixRangeOf(1023).first, 65472);
  EXPECT_EQ(KeyPrefixRangeOf(1023).last, 65535);
}

TEST(PartitionMapTest, ParsesValidMapsToTheirCanonicalEncoding) {
  struct Case {
    const char* text;
    const char* encoding;
  };
  const Case cases[] = {
      {"0 = 0-1023", "v1;1024;0=0-1023"},
      {"0=0-341;1=342-682;2=683-1023", "v1;1024;0=0-341;1=342-682;2=683-1023"},
      // A file: comments, blank lines, pod names, lines out of order.
      {"# prod map\n\ngraphstore-1 = 512-1023  # the upper half\n"
       "graphstore-0 = 0-511\n",
       "v1;1024;0=0-511;1=512-1023"},
      // Several ranges, single partitions, ranges that touch are merged.
      {"0 = 0-9, 10, 11-99, 500-1023\n1 = 100-499",
       "v1;1024;0=0-99,500-1023;1=100-499"},
      {"0 = 0 - 5 , 7-1023; 1 = 6", "v1;1024;0=0-5,7-1023;1=6"},
      // A shard that owns nothing yet (just added).
      {"0=0-1023\n1=", "v1;1024;0=0-1023;1="},
      // Trailing separators.
      {"0=0-1023;\n;", "v1;1024;0=0-1023"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<PartitionMap> map = PartitionMap::Parse(c.text);
    ASSERT_TRUE(map.ok()) << map.status();
    EXPECT_EQ(map->Encode(), c.encoding);
  }
}

TEST(PartitionMapTest, RefusesInvalidMapsNamingTheLineAndPartition) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "the partition map lists no shard"},
      {"# nothing\n\n", "the partition map lists no shard"},
      {"0 0-1023", "line 1: expected \"<shard> = <partitions>\""},
      {"0=0-341\n1=341-1023",
       "line 2: partition 341 is owned by both shard 0 (line 1) and shard 1"},
      {"0=0-1023\n# c\n1=5",
       "line 3: partition 5 is owned by both shard 0 (line 1) and shard 1"},
      {"0=0-341;1=342-682", "partitions 683-1023 are owned by no shard"},
      {"0=0-99,101-1023", "partition 100 is owned by no shard"},
      {"0=1-99,101-1023", "partitions 0, 100 are owned by no shard"},
      {"0=0-1024", "line 1: partition 1024 is out of range 0-1023"},
      {"0=0-1023\n2=", "shard 1 is missing: the shards must be 0 to 2"},
      {"1=0-1023", "shard 0 is missing"},
      {"0=0-511\n0=512-1023",
       "line 2: shard 0 is listed twice (first on "
       "line 1)"},
      {"x=0-1023", "line 1: shard \"x\": expected 0 to 1023"},
      {"graphstore-=0-1023", "line 1: shard \"graphstore-\""},
      {"-1=0-1023", "line 1: shard \"-1\""},
      {"1024=0-1023", "line 1: shard \"1024\""},
      {"0=0-1023,", "line 1: shard 0: \"\" is not a partition"},
      {"0=a-b", "line 1: shard 0: \"a-b\" is not a partition"},
      {"0=+5", "line 1: shard 0: \"+5\" is not a partition"},
      {"0=0-1023\n1=9-3", "line 2: shard 1: range 9-3 ends before it starts"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<PartitionMap> map = PartitionMap::Parse(c.text);
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(map.status().message(), HasSubstr(c.error));
  }
}

TEST(PartitionMapTest, EvenSplitsIntoContiguousRangesLargerFirst) {
  EXPECT_EQ(MustEven(1), PartitionMap::Single());
  EXPECT_EQ(MustEven(1).Encode(), "v1;1024;0=0-1023");
  EXPECT_EQ(MustEven(3).Encode(), "v1;1024;0=0-341;1=342-682;2=683-1023");
  EXPECT_EQ(MustEven(4).Encode(),
            "v1;1024;0=0-255;1=256-511;2=512-767;3=768-1023");
  const PartitionMap every = MustEven(1024);
  EXPECT_EQ(every.shard_count(), 1024);
  for (int p = 0; p < kPartitions; ++p) EXPECT_EQ(every.ShardOf(p), p);
  for (int bad : {0, -1, 1025}) {
    EXPECT_EQ(PartitionMap::Even(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(PartitionMapTest, ShardOfAnIdIsTheShardOfItsPartition) {
  const PartitionMap map = MustEven(3);
  EXPECT_EQ(map.ShardOf("company/tsmc"), 0);     // partition 201
  EXPECT_EQ(map.ShardOf("company/llc-cst"), 1);  // partition 626
  EXPECT_EQ(map.ShardOf(682), 1);
  EXPECT_EQ(map.ShardOf(683), 2);
  for (int i = 0; i < 500; ++i) {
    const std::string id = "person/p" + std::to_string(i);
    EXPECT_EQ(map.ShardOf(id), map.ShardOf(PartitionOf(id))) << id;
  }
  EXPECT_EQ(PartitionMap::Single().ShardOf("company/tsmc"), 0);
}

TEST(PartitionMapTest, RangesOf) {
  const PartitionMap map = MustParse("0=0-9,20-1023\n1=10-19\n2=");
  EXPECT_THAT(map.RangesOf(0),
              ElementsAre(PartitionRange{0, 9}, PartitionRange{20, 1023}));
  EXPECT_THAT(map.RangesOf(1), ElementsAre(PartitionRange{10, 19}));
  EXPECT_THAT(map.RangesOf(2), IsEmpty());
  EXPECT_THAT(map.RangesOf(3), IsEmpty());
  EXPECT_EQ(FormatPartitionRanges(map.RangesOf(0)), "0-9, 20-1023");
  EXPECT_EQ(FormatPartitionRanges({}), "none");
  EXPECT_EQ(ShardName(2), "graphstore-2");
}

TEST(PartitionMapTest, DecodeIsTheInverseOfEncode) {
  for (const PartitionMap& map :
       {PartitionMap::Single(), MustEven(3), MustEven(7),
        MustParse("0=0-9,20-1023\n1=10-19\n2=")}) {
    absl::StatusOr<PartitionMap> decoded = PartitionMap::Decode(map.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, map);
  }
}

TEST(PartitionMapTest, DecodeTakesOnlyCanonicalEncodings) {
  for (const char* bad : {
           "", "v1", "v1;1024", "v2;1024;0=0-1023", "v1;512;0=0-511",
           "v1;1024;0=0-511",              // 512-1023 unowned
           "v1;1024;0=0-1000,1001-1023",   // not merged
           "v1;1024; 0 = 0-1023",          // spaces
           "v1;1024;graphstore-0=0-1023",  // a pod name
           "v1;1024;1=512-1023;0=0-511",   // out of order
           "0=0-1023",                     // the text, not the encoding
       }) {
    SCOPED_TRACE(bad);
    absl::StatusOr<PartitionMap> map = PartitionMap::Decode(bad);
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(map.status().message(),
                HasSubstr("not a partition map encoding"));
  }
  EXPECT_THAT(PartitionMap::Decode("v1;512;0=0-511").status().message(),
              HasSubstr("a map of 512 partitions; this build has 1024"));
}

TEST(OrphanedPartitionsTest, WhatAShardWouldLoseUnderTheGivenMap) {
  struct Case {
    PartitionMap recorded;
    PartitionMap given;
    int shard;
    std::vector<PartitionRange> orphaned;
  };
  const Case cases[] = {
      // The same map orphans nothing.
      {MustEven(3), MustEven(3), 0, {}},
      {MustEven(3), MustEven(3), 2, {}},
      // Splitting one shard into three: shard 0 keeps only its third.
      {PartitionMap::Single(), MustEven(3), 0, {{342, 1023}}},
      // Merging three into one: shard 0 gains, shards 1 and 2 lose all.
      {MustEven(3), PartitionMap::Single(), 0, {}},
      {MustEven(3), PartitionMap::Single(), 1, {{342, 682}}},
      {MustEven(3), PartitionMap::Single(), 2, {{683, 1023}}},
      // Rebalancing 3 to 4 shards.
      {MustEven(3), MustEven(4), 0, {{256, 341}}},
      {MustEven(3), MustEven(4), 1, {{512, 682}}},
      {MustEven(3), MustEven(4), 2, {{768, 1023}}},
      // A shard added with nothing, then given a range: nothing lost.
      {MustParse("0=0-1023\n1="), MustParse("0=0-1023\n1="), 1, {}},
      {MustParse("0=0-1023\n1="), MustParse("0=0-899\n1=900-1023"), 1, {}},
      {MustParse("0=0-1023\n1="),
       MustParse("0=0-899\n1=900-1023"),
       0,
       {{900, 1023}}},
      // Non-contiguous losses.
      {PartitionMap::Single(),
       MustParse("0=0-9,20-1023\n1=10-19"),
       0,
       {{10, 19}}},
      {PartitionMap::Single(),
       MustParse("0=5-1022\n1=0-4,1023"),
       0,
       {{0, 4}, {1023, 1023}}},
      // A shard the recorded map does not have owned nothing.
      {PartitionMap::Single(), MustEven(3), 2, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.recorded.Encode() + " -> " + c.given.Encode() + " shard " +
                 std::to_string(c.shard));
    EXPECT_EQ(OrphanedPartitions(c.recorded, c.given, c.shard), c.orphaned);
  }
}

TEST(OrphanedPartitionsTest, ADataDirectoryOpenedAsAnotherShard) {
  // Shard 0's data opened as shard 1 of the same map: all of it is lost.
  EXPECT_THAT(OrphanedPartitions(MustEven(3), 0, MustEven(3), 1),
              ElementsAre(PartitionRange{0, 341}));
  // Shard 1 of a 3-shard map opened as shard 0 of a map where shard 0 owns
  // what shard 1 had and more: nothing is lost.
  EXPECT_THAT(
      OrphanedPartitions(MustEven(3), 1, MustParse("0=0-682\n1=683-1023"), 0),
      IsEmpty());
  EXPECT_THAT(
      OrphanedPartitions(MustEven(3), 2, MustParse("0=0-682\n1=683-1023"), 0),
      ElementsAre(PartitionRange{683, 1023}));
}

TEST(RecordOrderTest, IsTheKeyOrderOfEntitiesAndSignals) {
  // The bytes of the stored key, so sorting by it is the store's order:
  // by key prefix first, not by id.
  for (const char* id : {"company/tsmc", "signal/a", "facility/x"}) {
    EXPECT_EQ(RecordOrder(id), internal::EncodeEntityKey(id));
    EXPECT_EQ(RecordOrder(id), internal::EncodeSignalKey(id));
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("company/c" + std::to_string(i));
  std::vector<std::string> by_order = ids;
  std::sort(by_order.begin(), by_order.end(),
            [](const std::string& a, const std::string& b) {
              return RecordOrder(a) < RecordOrder(b);
            });
  EXPECT_NE(by_order, ids);                       // Not alphabetical...
  for (size_t i = 1; i < by_order.size(); ++i) {  // ...but by prefix.
    EXPECT_LE(internal::Partition(by_order[i - 1]),
              internal::Partition(by_order[i]));
  }
}

TEST(StableHash64Test, IsFnv1a64) {
  EXPECT_EQ(StableHash64(""), 0xcbf29ce484222325u);
  EXPECT_EQ(StableHash64("a"), 0xaf63dc4c8601ec8cu);
}

}  // namespace
}  // namespace georisk::storage
