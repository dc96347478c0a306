#include "services/common/rpc_edge.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/shard_status.h"

namespace georisk::common {

void AddRetryHint(grpc::ServerContextBase* context,
                  const absl::Status& status) {
  if (context == nullptr || status.code() != absl::StatusCode::kUnavailable) {
    return;
  }
  context->AddTrailingMetadata(
      kRetryPushbackKey,
      absl::StrCat(absl::ToInt64Milliseconds(kRetryPushback)));
  if (std::optional<std::string> shard = UnavailableShard(status)) {
    context->AddTrailingMetadata(kUnavailableShardKey, *shard);
  }
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  AddRetryHint(context, status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

ConcurrencyLimit::Slot& ConcurrencyLimit::Slot::operator=(
    Slot&& other) noexcept {
  if (this != &other) {
    if (limit_ != nullptr) limit_->in_use_.fetch_sub(1);
    limit_ = other.limit_;
    other.limit_ = nullptr;
  }
  return *this;
}

ConcurrencyLimit::Slot::~Slot() {
  if (limit_ != nullptr) limit_->in_use_.fetch_sub(1);
}

absl::StatusOr<ConcurrencyLimit::Slot> ConcurrencyLimit::TryAcquire() {
  if (in_use_.fetch_add(1) >= max_) {
    in_use_.fetch_sub(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", max_, " ", what_, " at once; retry later"));
  }
  return Slot(this);
}

}  // namespace georisk::common
