// File: services/common/rpc_edge.h
//
// How every georisk service answers at the RPC edge, written once:
//
//   - FinishUnary(context, status): finishes a unary callback RPC;
//   - RefuseStream<Response>(context, status): the reactor of a server
//     stream refused before it starts (bad request, too many streams);
//   - AddRetryHint(context, status): every UNAVAILABLE answer, unary or
//     stream, carries the same `grpc-retry-pushback-ms` trailing metadata
//     (kRetryPushback), which gRPC's retry policy honours and people read,
//     and, when the status names the graphstore shard that is down
//     (shard_status.h), `georisk-unavailable-shard: graphstore-<i>`;
//   - ConcurrencyLimit: at most N holders of a slot at once; a refused
//     caller gets RESOURCE_EXHAUSTED naming the limit.
//
//   grpc::ServerUnaryReactor* Service::GetEntity(
//       grpc::CallbackServerContext* context, const Request* request,
//       Response* response) {
//     absl::StatusOr<v1::Entity> e = store_->GetEntity(request->id());
//     if (e.ok()) *response->mutable_entity() = *std::move(e);
//     return common::FinishUnary(context, e.status());
//   }
//
//   absl::StatusOr<ConcurrencyLimit::Slot> slot = watchers_.TryAcquire();
//   if (!slot.ok()) return common::RefuseStream<Response>(context,
//                                                         slot.status());
//
// Thread-safe: the functions are; a ConcurrencyLimit is; a Slot is owned by
// one holder at a time.
#ifndef GEORISK_SERVICES_COMMON_RPC_EDGE_H_
#define GEORISK_SERVICES_COMMON_RPC_EDGE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"

namespace georisk::common {

// What an UNAVAILABLE answer asks a client to wait before it retries.
inline constexpr absl::Duration kRetryPushback = absl::Seconds(2);
// The trailing metadata key gRPC's retry policy reads (gRFC A6).
inline constexpr char kRetryPushbackKey[] = "grpc-retry-pushback-ms";

// The trailing metadata key naming the shard an UNAVAILABLE answer waits
// for (services/common/shard_status.h).
inline constexpr char kUnavailableShardKey[] = "georisk-unavailable-shard";

// The client metadata (any value) that asks a routing graphstore for its own
// shard's answer.
inline constexpr char kShardLocalMetadata[] = "georisk-shard-local";

// Adds the retry hint to `context`'s trailing metadata when `status` is
// UNAVAILABLE (the pushback, and the shard when the status names one);
// nothing otherwise. Call it before the RPC finishes.
void AddRetryHint(grpc::ServerContextBase* context, const absl::Status& status);

// Finishes a unary callback RPC with `status` (and the retry hint) and
// returns the reactor to hand back to gRPC.
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

// A server-streaming reactor that finishes at once with `status` (which
// should not be OK) and deletes itself when gRPC is done with it.
template <typename Response>
grpc::ServerWriteReactor<Response>* RefuseStream(
    grpc::CallbackServerContext* context, const absl::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const grpc::Status& status) { this->Finish(status); }
    void OnDone() override { delete this; }
  };
  AddRetryHint(context, status);
  return new Refused(ToGrpcStatus(status));
}

// At most `max` slots held at once.
class ConcurrencyLimit {
 public:
  // A held slot, released when it is destroyed. Move-only.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limit_(other.limit_) {
      other.limit_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    friend class ConcurrencyLimit;
    explicit Slot(ConcurrencyLimit* limit) : limit_(limit) {}
    ConcurrencyLimit* limit_;
  };

  // `what` names what is limited, in the plural, for the refusal:
  // "WatchChanges streams" -> "more than 64 WatchChanges streams at once;
  // retry later". The limit must outlive its slots.
  ConcurrencyLimit(int max, std::string what)
      : max_(max), what_(std::move(what)) {}

  // A slot, or RESOURCE_EXHAUSTED when `max` are held.
  absl::StatusOr<Slot> TryAcquire();

  int max() const { return max_; }
  // Slots held now.
  int in_use() const { return in_use_.load(); }

 private:
  const int max_;
  const std::string what_;
  std::atomic<int> in_use_{0};
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_RPC_EDGE_H_
