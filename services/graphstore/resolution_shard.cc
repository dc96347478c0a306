#include "services/graphstore/resolution_shard.h"

#include "services/common/shard_status.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {

absl::Status ShardAnswer(const absl::Status& status, int shard) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
      return status;
    default:
      return common::FromShard(status, storage::ShardName(shard));
  }
}

}  // namespace georisk::graphstore
