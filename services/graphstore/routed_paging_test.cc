#include "services/graphstore/routed_paging.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::graphstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RoutedTokenTest, RoundTrips) {
  std::vector<ShardPosition> at = {{0, "", "a"}, {2, "tok\0en", ""}};
  at[1].page_token = std::string("tok\0en", 6);
  std::string token = EncodeRoutedToken(RoutedListing::kSignals, 3, at);
  auto back = DecodeRoutedToken(token, RoutedListing::kSignals, 3);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, at);
}

TEST(RoutedTokenTest, EveryTamperedCharacterIsRefused) {
  std::string token = EncodeRoutedToken(RoutedListing::kSignals, 3,
                                        {{1, "inner", "key"}, {2, "", ""}});
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = alphabet[(alphabet.find(bad[i]) + 1) % alphabet.size()];
    auto decoded = DecodeRoutedToken(bad, RoutedListing::kSignals, 3);
    // Changing the last character may only touch base64 padding bits.
    if (decoded.ok() && i + 1 == token.size()) continue;
    ASSERT_FALSE(decoded.ok()) << "character " << i;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(decoded.status().message(), HasSubstr("page_token"));
  }
  for (size_t n = 0; n < token.size(); ++n) {
    EXPECT_FALSE(
        DecodeRoutedToken(token.substr(0, n), RoutedListing::kSignals, 3).ok())
        << "truncated to " << n;
  }
  EXPECT_EQ(DecodeRoutedToken("not base64!", RoutedListing::kSignals, 3)
                .status()
                .message(),
            "page_token: malformed");
}

TEST(RoutedTokenTest, RefusesAnotherListingOrMapOrBadShards) {
  std::string token =
      EncodeRoutedToken(RoutedListing::kSignals, 3, {{1, "", ""}});
  EXPECT_EQ(DecodeRoutedToken(token, RoutedListing::kIdentifiers, 3)
                .status()
                .message(),
            "page_token: does not belong to this query");
  EXPECT_EQ(
      DecodeRoutedToken(token, RoutedListing::kSignals, 4).status().message(),
      "page_token: was issued by a router over 3 shards, this one routes to "
      "4");
  // Checksummed but inconsistent: out of order, repeated, out of range.
  for (const std::vector<ShardPosition>& bad :
       std::vector<std::vector<ShardPosition>>{{{2, "", ""}, {1, "", ""}},
                                               {{1, "", ""}, {1, "", ""}},
                                               {{3, "", ""}},
                                               {}}) {
    EXPECT_EQ(
        DecodeRoutedToken(EncodeRoutedToken(RoutedListing::kSignals, 3, bad),
                          RoutedListing::kSignals, 3)
            .status()
            .message(),
        "page_token: malformed");
  }
}

TEST(RoutedTokenTest, AQueryBoundTokenRoundTripsAndRefusesOtherFilters) {
  const std::vector<ShardPosition> at = {{0, "inner", "k"}, {1, "", ""}};
  const std::string token =
      EncodeRoutedToken(RoutedListing::kReviewQueue, 3, at, "filters-1");
  auto back =
      DecodeRoutedToken(token, RoutedListing::kReviewQueue, 3, "filters-1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, at);
  EXPECT_EQ(
      DecodeRoutedToken(token, RoutedListing::kReviewQueue, 3, "filters-2")
          .status()
          .message(),
      "page_token: belongs to other filters");
  EXPECT_EQ(DecodeRoutedToken(token, RoutedListing::kSignals, 3, "filters-1")
                .status()
                .message(),
            "page_token: does not belong to this query");
  // An unbound token read as bound (and the reverse) does not parse.
  const std::string unbound =
      EncodeRoutedToken(RoutedListing::kReviewQueue, 3, at);
  EXPECT_EQ(
      DecodeRoutedToken(unbound, RoutedListing::kReviewQueue, 3, "filters-1")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodeRoutedToken(token, RoutedListing::kReviewQueue, 3).ok());
  // Without a query the bytes are what they were before queries existed.
  EXPECT_EQ(EncodeRoutedToken(RoutedListing::kSignals, 3, at, ""),
            EncodeRoutedToken(RoutedListing::kSignals, 3, at));
}

// Shards as sorted lists of keys, paged `page` at a time with tokens that
// are the resume key, as a store's are.
class FakeShards {
 public:
  FakeShards(std::vector<std::vector<std::string>> shards, int page)
      : shards_(std::move(shards)), page_(page) {}

  FetchShardPage<std::string> Fetch() {
    return [this](int shard, const std::string& token)
               -> absl::StatusOr<ShardPage<std::string>> {
      ++fetches_;
      if (fail_shard_ == shard) return absl::UnavailableError("down");
      const std::vector<std::string>& keys = shards_[shard];
      auto it = std::lower_bound(keys.begin(), keys.end(), token);
      ShardPage<std::string> out;
      for (; it != keys.end(); ++it) {
        if (out.records.size() == static_cast<size_t>(page_)) {
          out.next_page_token = *it;
          break;
        }
        out.records.push_back(*it);
      }
      return out;
    };
  }

  std::vector<std::vector<std::string>> shards_;
  int page_;
  int fetches_ = 0;
  int fail_shard_ = -1;
};

std::string Identity(const std::string& s) { return s; }

// Every page of the merged listing, `limit` at a time, through tokens.
std::vector<std::vector<std::string>> AllPages(FakeShards& shards, int limit) {
  std::vector<std::vector<std::string>> pages;
  std::vector<ShardPosition> at =
      FirstPositions(static_cast<int>(shards.shards_.size()));
  while (true) {
    auto page = MergePages<std::string>(at, limit, shards.Fetch(), Identity);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    pages.push_back(page->records);
    if (page->next.empty()) break;
    const int n = static_cast<int>(shards.shards_.size());
    std::string token =
        EncodeRoutedToken(RoutedListing::kSignals, n, page->next);
    auto decoded = DecodeRoutedToken(token, RoutedListing::kSignals, n);
    EXPECT_TRUE(decoded.ok());
    at = *decoded;
  }
  return pages;
}

TEST(MergePagesTest, PagesAreThoseOfTheMergedListing) {
  std::vector<std::vector<std::string>> shards = {
      {"a", "d", "e", "f", "m"}, {"b", "c", "g"}, {}, {"h", "i", "j", "k"}};
  std::vector<std::string> all;
  for (const auto& s : shards) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  for (int shard_page : {1, 2, 3, 100}) {
    for (int limit = 1; limit <= 14; ++limit) {
      FakeShards fake(shards, shard_page);
      std::vector<std::vector<std::string>> pages = AllPages(fake, limit);
      std::vector<std::string> got;
      for (size_t i = 0; i < pages.size(); ++i) {
        // Full pages but the last; the last is not empty unless all is.
        if (i + 1 < pages.size()) {
          EXPECT_EQ(pages[i].size(), static_cast<size_t>(limit));
        }
        got.insert(got.end(), pages[i].begin(), pages[i].end());
      }
      EXPECT_EQ(got, all) << "shard page " << shard_page << ", limit " << limit;
      EXPECT_EQ(pages.size(), (all.size() + limit - 1) / limit);
    }
  }
}

TEST(MergePagesTest, EmptyShards) {
  FakeShards fake({{}, {}, {}}, 2);
  auto page =
      MergePages<std::string>(FirstPositions(3), 5, fake.Fetch(), Identity);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->records.empty());
  EXPECT_TRUE(page->next.empty());
}

TEST(MergePagesTest, ChangesBetweenPagesNeitherRepeatNorLoseRecords) {
  FakeShards fake({{"a", "c", "e", "g"}, {"b", "d", "f", "h"}}, 10);
  auto first =
      MergePages<std::string>(FirstPositions(2), 3, fake.Fetch(), Identity);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(first->records, ElementsAre("a", "b", "c"));
  // Shard 0 loses "a" and "c" (returned) and gains "bb" (before the
  // position: not returned); shard 1 loses "d" (not yet returned).
  fake.shards_ = {{"bb", "e", "g"}, {"b", "f", "h"}};
  auto second =
      MergePages<std::string>(first->next, 10, fake.Fetch(), Identity);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(second->records, ElementsAre("e", "f", "g", "h"));
  EXPECT_TRUE(second->next.empty());
}

TEST(MergePagesTest, AFetchErrorIsReturned) {
  FakeShards fake({{"a"}, {"b"}}, 10);
  fake.fail_shard_ = 1;
  auto page =
      MergePages<std::string>(FirstPositions(2), 3, fake.Fetch(), Identity);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable);
}

TEST(MergePagesTest, ReadsNoPageItDoesNotNeed) {
  // Two full shard pages of 2 answer a merged page of 2 from shard 0 alone:
  // one fetch per shard, none ahead.
  FakeShards fake({{"a", "b", "c"}, {"x", "y"}}, 2);
  auto page =
      MergePages<std::string>(FirstPositions(2), 2, fake.Fetch(), Identity);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->records, ElementsAre("a", "b"));
  EXPECT_EQ(fake.fetches_, 2);
  ASSERT_EQ(page->next.size(), 2u);
  EXPECT_EQ(page->next[0], (ShardPosition{0, "c", ""}));
  EXPECT_EQ(page->next[1], (ShardPosition{1, "", ""}));
}

}  // namespace
}  // namespace georisk::graphstore
