#include "base/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace georisk::base {
namespace {

absl::Status FailIf(bool fail, int* calls) {
  ++*calls;
  return fail ? absl::NotFoundError("missing") : absl::OkStatus();
}

absl::Status UsesReturnIfError(bool fail, int* calls, bool* reached_end) {
  RETURN_IF_ERROR(FailIf(fail, calls));
  *reached_end = true;
  return absl::OkStatus();
}

TEST(StatusMacrosTest, ReturnIfErrorPassesOkThrough) {
  int calls = 0;
  bool reached_end = false;
  EXPECT_TRUE(UsesReturnIfError(false, &calls, &reached_end).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(reached_end);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheSameStatus) {
  int calls = 0;
  bool reached_end = false;
  absl::Status s = UsesReturnIfError(true, &calls, &reached_end);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "missing");
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(reached_end);
}

absl::StatusOr<std::unique_ptr<std::string>> MakeString(bool fail) {
  if (fail) return absl::InvalidArgumentError("bad");
  return std::make_unique<std::string>("value");
}

absl::StatusOr<size_t> UsesAssignOrReturn(bool fail) {
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> s,
                   MakeString(fail));  // move-only
  size_t n = 0;
  ASSIGN_OR_RETURN(auto t, MakeString(fail));  // twice in one scope
  n = s->size() + t->size();
  return n;
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValue) {
  absl::StatusOr<size_t> n = UsesAssignOrReturn(false);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesTheError) {
  absl::StatusOr<size_t> n = UsesAssignOrReturn(true);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(n.status().message(), "bad");
}

}  // namespace
}  // namespace georisk::base
