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
//
// Bounded memory (FollowLimits). A stream holds at most one message that
// gRPC has not yet handed to its client (the read-ahead), and a hub bounds
// the sum of those messages' bytes over its streams. A stream that falls
// behind is ended with RESOURCE_EXHAUSTED (the status follows the message
// gRPC still holds, so a client that reads again gets the message, then the
// code; one that never reads holds that one message until it goes away):
//   - its message waited longer than stall_timeout for the client to take
//     it (a client that does not read);
//   - its next message would take the hub's buffered bytes past
//     max_buffered_bytes (many slow clients at once).
// A stream created `exempt` (the service's own followers) counts its bytes
// but is never refused for the budget, so outside streams cannot lock it
// out; it is still ended when it stalls. The client resumes from the
// sequence after the last one it received.
#ifndef GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_
#define GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
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

// What a hub's streams may buffer. Defaults suit GraphStore.WatchChanges.
struct FollowLimits {
  // A message that gRPC has not handed to the client after this long ends
  // its stream with RESOURCE_EXHAUSTED. Zero disables. Default: 30 seconds.
  absl::Duration stall_timeout = absl::Seconds(30);
  // The most bytes (encoded messages not yet handed to their clients) all
  // non-exempt streams of the hub may hold; a stream whose next message
  // would pass it ends with RESOURCE_EXHAUSTED. A message larger than the
  // whole budget is still sent when nothing else is buffered. Zero
  // disables. Default: 256 MiB. While it waits, a message is held twice,
  // parsed by the stream and encoded by gRPC, so the memory of slow
  // streams is about twice this.
  int64_t max_buffered_bytes = int64_t{256} << 20;
};

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
    // Called under the hub's lock, for a registered stream that is not
    // parked, about every 100 ms: end the stream if its outstanding write
    // started before `deadline`. Same rules as Wake().
    virtual void EndIfStalledSince(absl::Time deadline) = 0;

   protected:
    ~Waiter() = default;
  };

  // `head` returns the last sequence of the log; `wait` blocks until the
  // head is >= its first argument or the deadline passes and returns the
  // head. Both must be thread-safe. Streams idle for `heartbeat` are woken
  // with kHeartbeat (zero disables heartbeats).
  FollowHub(std::function<int64_t()> head,
            std::function<int64_t(int64_t, absl::Time)> wait,
            absl::Duration heartbeat, FollowLimits limits = {});
  ~FollowHub();  // Calls Shutdown().
  FollowHub(const FollowHub&) = delete;
  FollowHub& operator=(const FollowHub&) = delete;

  // Parks `waiter` until the head reaches `wanted`, or for a heartbeat once
  // it has been parked for `heartbeat` (zero: the hub's interval; the hub
  // looks every 100 ms, so shorter is 100 ms). Returns false, without
  // parking, when the head already reached it (read again) or the hub is
  // shutting down (check shutting_down()).
  bool Park(Waiter* waiter, int64_t wanted,
            absl::Duration heartbeat = absl::ZeroDuration());
  // Removes `waiter` if parked. After it returns, the hub will not call the
  // waiter again.
  void Unpark(Waiter* waiter);

  // A stream's whole life: Register() when it starts, Unregister() when it
  // is done (after it, the hub does not call the waiter again; it also
  // unparks). Registered streams are checked for stalls.
  void Register(Waiter* waiter);
  void Unregister(Waiter* waiter);

  // Accounts `bytes` of a message about to be handed to gRPC. Returns false,
  // accounting nothing, when they would take the buffered bytes past
  // max_buffered_bytes and something is buffered already (unless `exempt`).
  // Thread-safe, lock-free; may be called with a stream's lock held.
  bool TryBuffer(int64_t bytes, bool exempt);
  // Releases what TryBuffer() accounted, once the write completed.
  void Unbuffer(int64_t bytes);
  // Bytes buffered now (for metrics and tests).
  int64_t buffered_bytes() const { return buffered_.load(); }
  // Streams ended for falling behind since the hub started.
  int64_t ended_behind() const { return ended_behind_.load(); }
  void CountEndedBehind() { ended_behind_.fetch_add(1); }

  const FollowLimits& limits() const { return limits_; }

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
    absl::Duration heartbeat;  // Zero: heartbeat_.
  };
  void Run();

  const std::function<int64_t()> head_;
  const std::function<int64_t(int64_t, absl::Time)> wait_;
  const absl::Duration heartbeat_;
  const FollowLimits limits_;
  std::atomic<int64_t> buffered_{0};
  std::atomic<int64_t> ended_behind_{0};

  mutable absl::Mutex mu_;
  std::map<Waiter*, Parked> parked_ ABSL_GUARDED_BY(mu_);
  std::set<Waiter*> streams_ ABSL_GUARDED_BY(mu_);
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
  // retry hint of rpc_edge.h. `exempt`: the hub's byte budget never refuses
  // this stream (FollowLimits). `heartbeat_interval`: this stream's, zero
  // for the hub's (FollowHub::Park).
  FollowReactor(grpc::CallbackServerContext* context, FollowHub* hub,
                int64_t from, ReadFn read, HeartbeatFn heartbeat,
                bool exempt = false,
                absl::Duration heartbeat_interval = absl::ZeroDuration())
      : context_(context),
        hub_(hub),
        exempt_(exempt),
        heartbeat_interval_(heartbeat_interval),
        next_(from),
        read_(std::move(read)),
        heartbeat_(std::move(heartbeat)) {
    hub_->Register(this);
    Continue();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      hub_->Unbuffer(buffered_);
      // A large message's memory goes back now, not when the stream next
      // reads (Clear() keeps a message's capacity: an idle stream would
      // hold its largest message for good).
      if (buffered_ > kKeepCapacityBytes) ReleaseResponseLocked();
      buffered_ = 0;
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
    hub_->Unregister(this);
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
      if (hub_->Park(this, wanted, heartbeat_interval_)) break;
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
      WriteLocked();
      return std::nullopt;
    }
    return next_;
  }

  void EndIfStalledSince(absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    if (finished_ || !writing_ || write_started_ >= deadline) return;
    EndBehindLocked(absl::StrCat(
        "the client fell behind: a message waited more than ",
        absl::FormatDuration(hub_->limits().stall_timeout),
        " for it to read; resume from the sequence after the last one "
        "received"));
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
    return WriteLocked();
  }

  // Starts writing response_ if the hub's budget takes it; otherwise ends
  // the stream. Returns whether a write started.
  bool WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t bytes = static_cast<int64_t>(response_.ByteSizeLong());
    if (!hub_->TryBuffer(bytes, exempt_)) {
      ReleaseResponseLocked();
      EndBehindLocked(absl::StrCat(
          "the server's stream buffers are full (", hub_->buffered_bytes(),
          " bytes held for slow clients, at most ",
          hub_->limits().max_buffered_bytes,
          "): this client fell behind; resume from the sequence after the "
          "last one received"));
      return false;
    }
    buffered_ = bytes;
    writing_ = true;
    write_started_ = absl::Now();
    this->StartWrite(&response_);
    return true;
  }

  // Frees what response_ holds (Clear() would keep its capacity).
  void ReleaseResponseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Response empty;
    response_.Swap(&empty);
  }

  // Ends a stream that fell behind with RESOURCE_EXHAUSTED. Nothing more is
  // read for it; a write still outstanding keeps its bytes in the hub's
  // budget until gRPC completes or drops it.
  void EndBehindLocked(const std::string& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    hub_->CountEndedBehind();
    FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message));
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

  // Messages up to this size keep their memory for the next one.
  static constexpr int64_t kKeepCapacityBytes = 64 << 10;

  grpc::CallbackServerContext* const context_;
  FollowHub* const hub_;
  const bool exempt_;
  const absl::Duration heartbeat_interval_;
  absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // While writing_: when the write started and the bytes it holds in the
  // hub's budget.
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  int64_t buffered_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int active_ ABSL_GUARDED_BY(mu_) = 0;  // Continue() calls in flight.
  Response response_ ABSL_GUARDED_BY(mu_);
  const ReadFn read_;
  const HeartbeatFn heartbeat_;
};

}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_FOLLOW_STREAM_H_
