#include "base/proto_time.h"

#include <cstdint>

namespace georisk::base {
namespace {
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, Timestamp's valid range.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;
}  // namespace

google::protobuf::Timestamp ToProtoTime(absl::Time time) {
  google::protobuf::Timestamp ts;
  if (time <= absl::FromUnixSeconds(kMinSeconds)) {
    ts.set_seconds(kMinSeconds);
    return ts;
  }
  if (time >= absl::FromUnixSeconds(kMaxSeconds + 1)) {
    ts.set_seconds(kMaxSeconds);
    ts.set_nanos(999999999);
    return ts;
  }
  int64_t seconds = absl::ToUnixSeconds(time);  // Rounds down.
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return ts;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

}  // namespace georisk::base
