#include "storage/internal/entity_id_set.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace georisk::storage::internal {
namespace {

TEST(EntityIdSetTest, InsertContainsErase) {
  EntityIdSet ids;
  EXPECT_FALSE(ids.contains("company/a"));
  EXPECT_EQ(ids.MemoryBytes(), 0u);
  ids.insert("company/a");
  ids.insert("company/a");
  ids.insert("company/ab");
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_TRUE(ids.contains("company/a"));
  EXPECT_TRUE(ids.contains("company/ab"));
  EXPECT_FALSE(ids.contains("company/b"));
  EXPECT_FALSE(ids.contains("company/"));
  ids.erase("company/a");
  ids.erase("company/x");
  EXPECT_FALSE(ids.contains("company/a"));
  EXPECT_TRUE(ids.contains("company/ab"));
  ids.insert("company/a");
  EXPECT_TRUE(ids.contains("company/a"));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_GE(ids.MemoryBytes(), EntityIdSet::kArenaBytes);
}

TEST(EntityIdSetTest, DoesNotKeepTheCallersBytes) {
  EntityIdSet ids;
  std::string id = "company/tsmc";
  ids.insert(id);
  id = "company/xxxx";
  EXPECT_TRUE(ids.contains("company/tsmc"));
  EXPECT_FALSE(ids.contains("company/xxxx"));
}

// Many inserts and erases: the arenas are compacted and the set stays equal
// to a std::set doing the same, with memory proportional to the live ids.
TEST(EntityIdSetTest, MatchesStdSetAcrossCompactions) {
  EntityIdSet ids;
  std::set<std::string> expected;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 100000; ++i) {
      const std::string id = absl::StrCat("company/c", round, "-", i);
      ids.insert(id);
      expected.insert(id);
    }
    for (int i = 0; i < 100000; ++i) {
      if (i % 10 == 0) continue;  // Keep one in ten.
      const std::string id = absl::StrCat("company/c", round, "-", i);
      ids.erase(id);
      expected.erase(id);
    }
  }
  ASSERT_EQ(ids.size(), expected.size());
  for (const std::string& id : expected) EXPECT_TRUE(ids.contains(id)) << id;
  EXPECT_FALSE(ids.contains("company/c0-1"));
  EXPECT_TRUE(ids.contains("company/c5-99990"));
  // 60,000 live ids of about 15 bytes: the 9 MB of the 600,000 ids written
  // are not all kept.
  EXPECT_LT(ids.MemoryBytes(), size_t{8} << 20);
}

// The estimate the graph store checks against its limit before an insert
// covers what the insert allocates: table growth and new arenas.
TEST(EntityIdSetTest, MemoryBytesAfterInsertCoversTheInsert) {
  EntityIdSet ids;
  size_t grew = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string id = absl::StrCat("company/c", 1000000 + i);
    const size_t before = ids.MemoryBytes();
    const size_t estimate = ids.MemoryBytesAfterInsert(id.size());
    ids.insert(id);
    ASSERT_GE(estimate, ids.MemoryBytes()) << i;
    if (ids.MemoryBytes() > before) ++grew;
  }
  EXPECT_GT(grew, 10u);  // Arenas and table doublings were covered.
}

TEST(EntityIdSetTest, MoveKeepsTheIds) {
  EntityIdSet ids;
  for (int i = 0; i < 1000; ++i) ids.insert(absl::StrCat("facility/f", i));
  EntityIdSet moved = std::move(ids);
  EXPECT_EQ(moved.size(), 1000u);
  EXPECT_TRUE(moved.contains("facility/f999"));
}

}  // namespace
}  // namespace georisk::storage::internal
