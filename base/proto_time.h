// File: base/proto_time.h
//
// Conversions between absl::Time and google.protobuf.Timestamp.
//
//   google::protobuf::Timestamp ts = ToProtoTime(absl::Now());
//   absl::Time t = FromProtoTime(request.active_at());
#ifndef GEORISK_BASE_PROTO_TIME_H_
#define GEORISK_BASE_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace georisk::base {

// Exact to the nanosecond within Timestamp's range (years 1..9999);
// absl::InfiniteFuture()/InfinitePast() map to the range's ends.
google::protobuf::Timestamp ToProtoTime(absl::Time time);
// Nanoseconds outside [0, 1e9) are normalised, as Timestamp's rules allow.
absl::Time FromProtoTime(const google::protobuf::Timestamp& timestamp);

}  // namespace georisk::base

#endif  // GEORISK_BASE_PROTO_TIME_H_
