// Ranking: walks in (value descending, order key ascending) order, from the
// top or strictly after a position, agree with an ordered set while nodes
// are inserted, moved (within a bucket, across buckets, to and from 0),
// erased and their order keys renumbered.
#include "services/scorer/model/ranking.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace georisk::scorer::internal {
namespace {

class RankingTest : public ::testing::Test {
 protected:
  // (−value, order, node): std::set's order is the ranking's.
  using Entry = std::tuple<double, uint64_t, uint32_t>;

  double RandomValue() {
    switch (rng_() % 6) {
      case 0:
        return 0;
      case 1:  // Ties.
        return static_cast<double>(rng_() % 4);
      case 2:  // Tiny, below the bucketed range.
        return 1e-20 * static_cast<double>(1 + rng_() % 100);
      case 3:  // Above it.
        return 1e3 + static_cast<double>(rng_() % 100);
      default:
        return 100.0 * static_cast<double>(rng_() % 1'000'000) / 1e6;
    }
  }

  // Walks with no floor and every node kept, and with a floor and every
  // third node kept.
  void ExpectSameWalk(const Ranking::Position* after) {
    for (const double floor : {0.0, 1.5}) {
      auto keep = [floor](uint32_t node) {
        return floor == 0 || node % 3 == 0;
      };
      std::vector<uint32_t> got;
      ranking_.ForEach(after, floor, keep, [&](double value, uint32_t node) {
        EXPECT_EQ(value, value_[node]);
        got.push_back(node);
        return true;
      });
      std::vector<uint32_t> want;
      auto it = set_.begin();
      if (after != nullptr) {
        it = set_.upper_bound({-after->value, after->order, after->node});
      }
      for (; it != set_.end(); ++it) {
        const uint32_t node = std::get<2>(*it);
        if (-std::get<0>(*it) >= floor && keep(node)) want.push_back(node);
      }
      ASSERT_EQ(got, want) << "floor " << floor;
    }
  }

  // Distinct order keys (as ids' places are), with gaps, in random order.
  void RandomOrders() {
    std::vector<uint64_t> keys(order_.size());
    for (size_t i = 0; i < keys.size(); ++i) keys[i] = 8 * i + 3;
    std::shuffle(keys.begin(), keys.end(), rng_);
    order_ = keys;
  }

  void Move(uint32_t node, double value) {
    set_.erase({-value_[node], order_[node], node});
    value_[node] = value;
    set_.insert({-value, order_[node], node});
    ranking_.Move(node, value);
  }

  std::mt19937_64 rng_{11};
  std::vector<uint64_t> order_;
  std::vector<double> value_;
  Ranking ranking_{&order_};
  std::set<Entry> set_;
};

TEST_F(RankingTest, WalksAgreeWithAnOrderedSet) {
  constexpr uint32_t kNodes = 3000;
  order_.resize(kNodes);
  value_.resize(kNodes);
  RandomOrders();
  std::vector<bool> in(kNodes, false);
  for (int round = 0; round < 8; ++round) {
    for (int k = 0; k < 2000; ++k) {
      const uint32_t v = static_cast<uint32_t>(rng_() % kNodes);
      const int op = static_cast<int>(rng_() % 4);
      if (!in[v]) {
        value_[v] = RandomValue();
        ranking_.Insert(v, value_[v]);
        set_.insert({-value_[v], order_[v], v});
        in[v] = true;
      } else if (op == 0) {
        set_.erase({-value_[v], order_[v], v});
        ranking_.Erase(v);
        in[v] = false;
      } else if (op == 1) {
        Move(v, value_[v] + 1e-9 * static_cast<double>(rng_() % 3));  // Small.
      } else {
        Move(v, RandomValue());
      }
    }
    ASSERT_EQ(ranking_.size(), set_.size());
    ExpectSameWalk(nullptr);
    // From strictly after existing entries and after positions in between.
    for (int k = 0; k < 50; ++k) {
      const uint32_t v = static_cast<uint32_t>(rng_() % kNodes);
      Ranking::Position at{value_[v], order_[v], v};
      if (k % 2 == 1) at = {RandomValue(), rng_() % (8 * kNodes), v};
      ExpectSameWalk(&at);
    }
    // Renumber every order key (ids inserted between neighbours).
    set_.clear();
    RandomOrders();
    for (uint32_t v = 0; v < kNodes; ++v) {
      if (in[v]) set_.insert({-value_[v], order_[v], v});
    }
    ranking_.Reorder();
    ExpectSameWalk(nullptr);
  }
}

TEST_F(RankingTest, StopsWhenTheCallbackSaysSo) {
  order_ = {3, 1, 2};
  ranking_.Insert(0, 5);
  ranking_.Insert(1, 5);
  ranking_.Insert(2, 0);
  std::vector<uint32_t> seen;
  ranking_.ForEach(
      nullptr, 0, [](uint32_t) { return true; },
      [&](double, uint32_t node) {
        seen.push_back(node);
        return seen.size() < 2;
      });
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 0}));
}

}  // namespace
}  // namespace georisk::scorer::internal
