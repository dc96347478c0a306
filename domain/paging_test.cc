#include "domain/paging.h"

#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

TEST(PageSizeTest, ZeroIsTheDefaultAndLargeIsTheMaximum) {
  EXPECT_EQ(*PageSize(0), kDefaultPageSize);
  EXPECT_EQ(*PageSize(0, 50), 50);
  EXPECT_EQ(*PageSize(1), 1);
  EXPECT_EQ(*PageSize(kMaxPageSize), kMaxPageSize);
  EXPECT_EQ(*PageSize(kMaxPageSize + 1), kMaxPageSize);
  EXPECT_EQ(*PageSize(1 << 30, 50), kMaxPageSize);
}

TEST(PageSizeTest, NegativeIsInvalidArgumentNamingTheField) {
  absl::StatusOr<int> size = PageSize(-3);
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(size.status().message(), "page_size: must be >= 0, got -3");
}

}  // namespace
}  // namespace georisk::domain
