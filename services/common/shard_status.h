// File: services/common/shard_status.h
//
// Which graphstore shard an error came from, carried by the absl::Status
// itself (a payload), so that it survives the layers that reword a message
// on its way to the RPC edge, where AddRetryHint (rpc_edge.h) turns it into
// the trailing metadata `georisk-unavailable-shard` beside the retry
// pushback: a client told UNAVAILABLE learns which shard to wait for and how
// long, without parsing the message (docs/scale-out.md, "Faults").
//
//   absl::Status s = FromShard(call.status(), "graphstore-2");
//   s = Reworded(s, absl::StrCat("batch 7: ", s.message()));
//   UnavailableShard(s);  // "graphstore-2" when s is UNAVAILABLE
//
// Pure; thread-safe.
#ifndef GEORISK_SERVICES_COMMON_SHARD_STATUS_H_
#define GEORISK_SERVICES_COMMON_SHARD_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace georisk::common {

// The payload's type URL.
inline constexpr char kShardPayloadUrl[] = "type.georisk.dev/shard";

// `status` with its message prefixed by "<shard>: " and the shard recorded;
// OK stays OK.
absl::Status FromShard(const absl::Status& status, absl::string_view shard);

// The shard recorded on an UNAVAILABLE or DEADLINE_EXCEEDED `status` (the
// codes a client retries); nullopt for other codes or none recorded.
std::optional<std::string> UnavailableShard(const absl::Status& status);

// `status` with another message and the same code and payloads.
absl::Status Reworded(const absl::Status& status, absl::string_view message);

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_SHARD_STATUS_H_
