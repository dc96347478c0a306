// Copy-on-write containers: overlays read through, write aside, and leave the
// live container as it was.
#include "services/scorer/model/cow.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::scorer::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(CowVecTest, OverlayWritesAsideAndAppendsPastTheEnd) {
  CowVec<int> live;
  for (int i = 0; i < 5; ++i) live.PushBack(i * 10);
  CowVec<int> overlay(&live);
  EXPECT_EQ(overlay.size(), 5u);
  overlay.Set(2, 99);
  overlay.PushBack(50);
  EXPECT_EQ(overlay[2], 99);
  EXPECT_EQ(overlay[3], 30);
  EXPECT_EQ(overlay[5], 50);
  EXPECT_EQ(overlay.size(), 6u);
  EXPECT_EQ(live[2], 20);
  EXPECT_EQ(live.size(), 5u);
  std::vector<size_t> written;
  overlay.ForEachOverridden([&](size_t i, int) { written.push_back(i); });
  EXPECT_THAT(written, ElementsAre(2));
}

TEST(CowMapTest, OverlayErasesAndSetsWithoutTouchingLive) {
  CowMap<std::string, int> live;
  live.Set("a", 1);
  live.Set("b", 2);
  CowMap<std::string, int> overlay(&live);
  overlay.Erase("a");
  overlay.Set("c", 3);
  overlay.Set("b", 20);
  EXPECT_EQ(overlay.Find("a"), nullptr);
  EXPECT_EQ(*overlay.Find("b"), 20);
  EXPECT_EQ(*overlay.Find("c"), 3);
  EXPECT_EQ(*live.Find("a"), 1);
  EXPECT_EQ(*live.Find("b"), 2);
  EXPECT_EQ(live.Find("c"), nullptr);
  std::vector<std::string> keys;
  overlay.ForEach([&](const std::string& k, int) { keys.push_back(k); });
  EXPECT_THAT(keys, UnorderedElementsAre("b", "c"));
}

TEST(AdjacencyTest, EditsCompactionAndOverlays) {
  Adjacency<int> live;
  live.Build(3, {{0, 1}, {0, 2}, {2, 7}});
  EXPECT_THAT(live.List(0), ElementsAre(1, 2));
  EXPECT_TRUE(live.List(1).empty());
  live.Add(1, 5);
  EXPECT_TRUE(live.Remove(0, [](int x) { return x == 1; }));
  EXPECT_FALSE(live.Remove(0, [](int x) { return x == 42; }));
  EXPECT_THAT(live.List(0), ElementsAre(2));
  EXPECT_THAT(live.List(1), ElementsAre(5));
  live.Add(3, 9);  // A node past the CSR arrays.
  EXPECT_THAT(live.List(3), ElementsAre(9));

  {
    Adjacency<int> overlay(&live);
    overlay.Add(2, 8);
    overlay.Remove(1, [](int x) { return x == 5; });
    EXPECT_THAT(overlay.List(2), ElementsAre(7, 8));
    EXPECT_TRUE(overlay.List(1).empty());
    EXPECT_THAT(overlay.List(0), ElementsAre(2));
    EXPECT_THAT(live.List(2), ElementsAre(7));
    EXPECT_THAT(live.List(1), ElementsAre(5));
  }  // Overlays end before the live container changes again.

  live.Compact(4);
  EXPECT_THAT(live.List(0), ElementsAre(2));
  EXPECT_THAT(live.List(1), ElementsAre(5));
  EXPECT_THAT(live.List(2), ElementsAre(7));
  EXPECT_THAT(live.List(3), ElementsAre(9));
}

}  // namespace
}  // namespace georisk::scorer::internal
