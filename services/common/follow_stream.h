// File: services/common/follow_stream.h
//
// Server streams that replay a sequenced log from a position and then follow
// it live — GraphStore.WatchChanges, Alerts.WatchAlerts — on gRPC's callback
// API, without a thread per stream.
//
// A FollowHub watches one log's head sequence on one thread of its own and
// wakes the streams parked on it when the head moves past what they wait for,
// or when they have been idle for a heartbeat interval. A FollowReactor is
// one stream: it reads a batch from the log (ReadFn), writes it, and repeats
// while the client keeps up; when it has caught up it parks on the hub. gRPC
// flow control is respected: at most one write is outstanding per stream.
//
//   FollowHub hub(/*head=*/[&] { return store.LastSequence(); },
//                 /*wait=*/[&](int64_t seq, absl::Time deadline) {
//                   return store.WaitForSequence(seq, deadline);
//                 },
//                 absl::Seconds(10));
//   server.AddShutdownHook([&] { hub.Shutdown(); });
//
//   grpc::ServerWriteReactor<WatchChangesResponse>* WatchChanges(
//       grpc::CallbackServerContext*, const WatchChangesRequest* request)
//       override {
//     return new FollowReactor<WatchChangesResponse>(
//         &hub, request->from_sequence(),
//         [this](int64_t* next, WatchChangesResponse* out)
//             -> absl::StatusOr<bool> { ... fill out, advance *next ... });
//   }
//
// Shutdown() finishes every stream with UNAVAILABLE ("resume from sequence
// N"), so the server's own shutdown does not wait on endless streams.
#ifndef GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_
#define GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"

namespace georisk::common {

class FollowHub {
 public:
  // A stream parked on the hub. Wake() is called with the hub's lock held:
  // it must not call back into the hub, and should only start a write or
  // finish. It returns the sequence to park at again, or nullopt when it is
  // no longer parked (it wrote or finished).
  class Waiter {
   public:
    enum class Reason { kNewData, kHeartbeat, kShutdown };
    virtual std::optional<int64_t> Wake(Reason reason) = 0;

   protected:
    ~Waiter() = default;
  };

  // `head` returns the last sequence of the log; `wait` blocks until the
  // head is >= its first argument or the deadline passes and returns the
  // head. Both must be thread-safe. Streams idle for `heartbeat` are woken
  // with kHeartbeat (zero disables heartbeats).
  FollowHub(std::function<int64_t()> head,
            std::function<int64_t(int64_t, absl::Time)> wait,
            absl::Duration heartbeat);
  ~FollowHub();  // Calls Shutdown().
  FollowHub(const FollowHub&) = delete;
  FollowHub& operator=(const FollowHub&) = delete;

  // Parks `waiter` until the head reaches `wanted`. Returns false, without
  // parking, when the head already reached it (read again) or the hub is
  // shutting down (check shutting_down()).
  bool Park(Waiter* waiter, int64_t wanted);
  // Removes `waiter` if parked. After it returns, the hub will not call the
  // waiter again.
  void Unpark(Waiter* waiter);

  // Wakes every parked stream with kShutdown and refuses new parking;
  // stops the hub's thread. Idempotent.
  void Shutdown();
  bool shutting_down() const;

  int64_t head() const { return head_(); }
  // Streams currently parked (for metrics and tests).
  int parked() const;

 private:
  struct Parked {
    int64_t wanted;
    absl::Time since;
  };
  void Run();

  const std::function<int64_t()> head_;
  const std::function<int64_t(int64_t, absl::Time)> wait_;
  const absl::Duration heartbeat_;

  mutable absl::Mutex mu_;
  std::map<Waiter*, Parked> parked_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// One replay-then-follow stream. Deletes itself when the RPC is done.
//
// `read(next, out)` fills `out` with records starting at *next, advances
// *next past them, and returns true when `out` should be sent; false when
// there was nothing new (the stream then parks until the head reaches *next).
// On error the stream finishes with that status (e.g. OUT_OF_RANGE).
// `heartbeat(out)` fills an empty keep-alive message (e.g. the head sequence).
// Both are called with the stream's lock held, never concurrently for one
// stream, and may be called from the hub's thread: keep them short.
template <typename Response>
class FollowReactor final : public grpc::ServerWriteReactor<Response>,
                            private FollowHub::Waiter {
 public:
  using ReadFn = std::function<absl::StatusOr<bool>(int64_t*, Response*)>;
  using HeartbeatFn = std::function<void(Response*)>;

  // `context` is the stream's: an UNAVAILABLE finish (shutdown) carries the
  // retry hint of rpc_edge.h.
  FollowReactor(grpc::CallbackServerContext* context, FollowHub* hub,
                int64_t from, ReadFn read, HeartbeatFn heartbeat)
      : context_(context),
        hub_(hub),
        next_(from),
        read_(std::move(read)),
        heartbeat_(std::move(heartbeat)) {
    Continue();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      // !ok: the client went away. cancelled_: OnCancel() came while this
      // write was pending, and the write still completed.
      if (!ok || cancelled_) {
        FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
        return;
      }
    }
    Continue();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    // A pending write finishes the stream in OnWriteDone().
    if (!writing_) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int* active) { return *active == 0; }, &active_));
    }
    hub_->Unpark(this);
    delete this;
  }

 private:
  // Reads and writes until a write is outstanding, the stream is finished,
  // or it is parked. Lock order: the hub's lock may be held when the
  // stream's is taken (Wake), never the other way round, so this never calls
  // the hub with mu_ held. `active_` keeps OnDone() from deleting the stream
  // between releasing mu_ and parking.
  void Continue() {
    {
      absl::MutexLock lock(&mu_);
      ++active_;
    }
    while (true) {
      bool shutting_down = hub_->shutting_down();
      int64_t wanted;
      {
        absl::MutexLock lock(&mu_);
        if (finished_ || writing_) break;
        if (cancelled_) {
          FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
          break;
        }
        if (shutting_down) {
          FinishShutdownLocked();
          break;
        }
        if (ReadAndWriteLocked() || finished_) break;
        wanted = next_;
      }
      if (hub_->Park(this, wanted)) break;
      // Not parked: new data arrived meanwhile, or shutting down. Again.
    }
    absl::MutexLock lock(&mu_);
    --active_;
  }

  std::optional<int64_t> Wake(Reason reason) override {
    absl::MutexLock lock(&mu_);
    if (finished_ || writing_) return std::nullopt;
    if (reason == Reason::kShutdown) {
      FinishShutdownLocked();
      return std::nullopt;
    }
    if (ReadAndWriteLocked() || finished_) return std::nullopt;
    if (reason == Reason::kHeartbeat) {
      response_.Clear();
      heartbeat_(&response_);
      writing_ = true;
      this->StartWrite(&response_);
      return std::nullopt;
    }
    return next_;
  }

  // Returns true when a write was started; finishes on a read error.
  bool ReadAndWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    response_.Clear();
    absl::StatusOr<bool> got = read_(&next_, &response_);
    if (!got.ok()) {
      FinishLocked(ToGrpcStatus(got.status()));
      return false;
    }
    if (!*got) return false;
    writing_ = true;
    this->StartWrite(&response_);
    return true;
  }

  void FinishShutdownLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    FinishLocked(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("server shutting down; resume from sequence ", next_)));
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    AddRetryHint(context_, FromGrpcStatus(status));
    this->Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  FollowHub* const hub_;
  absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int active_ ABSL_GUARDED_BY(mu_) = 0;  // Continue() calls in flight.
  Response response_ ABSL_GUARDED_BY(mu_);
  const ReadFn read_;
  const HeartbeatFn heartbeat_;
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_
