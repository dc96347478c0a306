#include "services/common/shard_status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace georisk::common {

absl::Status FromShard(const absl::Status& status, absl::string_view shard) {
  if (status.ok()) return status;
  absl::Status out =
      Reworded(status, absl::StrCat(shard, ": ", status.message()));
  out.SetPayload(kShardPayloadUrl, absl::Cord(shard));
  return out;
}

std::optional<std::string> UnavailableShard(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded) {
    return std::nullopt;
  }
  absl::optional<absl::Cord> shard = status.GetPayload(kShardPayloadUrl);
  if (!shard.has_value()) return std::nullopt;
  return std::string(*shard);
}

absl::Status Reworded(const absl::Status& status, absl::string_view message) {
  if (status.ok()) return status;
  absl::Status out(status.code(), message);
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) {
        out.SetPayload(url, payload);
      });
  return out;
}

}  // namespace georisk::common
