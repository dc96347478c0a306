#include "base/proto_time.h"

#include "gtest/gtest.h"

namespace georisk::base {
namespace {

TEST(ProtoTimeTest, RoundTripsToTheNanosecond) {
  for (absl::Time t :
       {absl::UnixEpoch(), absl::FromUnixNanos(1767139200123456789),
        absl::FromUnixNanos(-1), absl::FromUnixSeconds(-86400 * 365)}) {
    EXPECT_EQ(FromProtoTime(ToProtoTime(t)), t);
  }
}

TEST(ProtoTimeTest, NegativeTimesKeepNanosNonNegative) {
  google::protobuf::Timestamp ts = ToProtoTime(absl::FromUnixNanos(-1));
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 999999999);
}

TEST(ProtoTimeTest, InfinitiesClampToTheValidRange) {
  EXPECT_EQ(ToProtoTime(absl::InfiniteFuture()).seconds(), 253402300799);
  EXPECT_EQ(ToProtoTime(absl::InfinitePast()).seconds(), -62135596800);
}

}  // namespace
}  // namespace georisk::base
