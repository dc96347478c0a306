// File: services/ingest/ingest_service.h
//
// IngestService: the gRPC face of the ingest pipeline (georisk.v1.Ingest),
// on the callback API. Each call gets an IngestSession (validation,
// batching, summary; ingest_session.h) and a worker thread that applies its
// batches to GraphStore through a BatchApplier (isolation of bad records,
// retries; batch_applier.h), so that a slow GraphStore never blocks gRPC's
// threads.
//
//   auto stub = std::shared_ptr<v1::GraphStore::StubInterface>(
//       v1::GraphStore::NewStub(channel));
//   IngestService service(stub, options, &registry);
//   server->AddShutdownHook([&] { service.Shutdown(); });
//
// Ingest (client stream): records are validated as messages arrive and
// applied in batches of options.session.batch_size while the client keeps
// sending. Flow control: the next message is read only while fewer than
// max_in_flight_records records of the stream await GraphStore, so memory
// per stream is bounded by about max_in_flight_records records plus one
// message; a message with more records than that is refused with
// RESOURCE_EXHAUSTED. The summary is sent once GraphStore acknowledged every
// accepted record (and a snapshot's ends).
//
// Resolution (options.resolve_on_import): after each batch is applied and
// its records acknowledged, the entities it upserted are matched on
// graphstore's Resolution service and their links written (one Apply per
// batch, import_resolver.h); the summary's `resolution` counts them. It
// runs on the call's worker while reading goes on, and never fails a call.
//
// IngestBatch (unary): the same pipeline over one message of at most
// max_batch_records records. It fails fast when graphstore is unreachable
// (batch_unreachable_probe): UNAVAILABLE with the retry hint, saying from
// which record to resend, where a stream keeps retrying.
//
// Limits: at most max_concurrent_calls calls at once, and
// max_calls_per_client of one client (RESOURCE_EXHAUSTED beyond); a stream
// idle for stream_idle_timeout is ended with DEADLINE_EXCEEDED. Errors, per
// ingest.proto: INVALID_ARGUMENT for bad options, RESOURCE_EXHAUSTED for the
// limits above and for a stream with more than session.max_rejections
// rejections, UNAVAILABLE when GraphStore stayed unreachable past
// applier.retry_deadline or the server is shutting down; each message says from
// which record index to resend.
//
// Thread-safe. The stub and the registry must outlive the service; destroy
// the service only after the server has stopped.
#ifndef GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
#define GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "services/common/metrics.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/import_resolver.h"
#include "services/ingest/ingest_metrics.h"
#include "services/ingest/ingest_session.h"
#include "services/ingest/resolution_client.h"
#include "services/ingest/source_scheduler.h"

namespace georisk::ingest {

struct IngestServiceOptions {
  // Batching, record limits, rejections.
  ingest::SessionOptions session;
  // GraphStore calls: deadlines, retries. `origin` is replaced by each
  // call's options.origin (default "ingest").
  ingest::ApplierOptions applier;
  // Ingest: records of one stream received and not yet acknowledged by
  // GraphStore before reading pauses; also the most records one message may
  // carry. Must be >= 1; batch_size is lowered to it if larger.
  int64_t max_in_flight_records = 10000;
  // IngestBatch: when graphstore answers UNAVAILABLE, one probe this long
  // later; if it fails too the call ends at once with UNAVAILABLE (and the
  // retry hint) instead of retrying for applier.retry_deadline while the
  // client waits. Zero: retry as streams do. Default 500 ms.
  absl::Duration batch_unreachable_probe = absl::Milliseconds(500);
  // IngestBatch: the most records one request may carry; more is
  // RESOURCE_EXHAUSTED naming this limit. Default 10,000, the same as one
  // message of a stream (it was 100,000, so a 100,000-record request passed
  // the check while the documented limit was 10,000).
  int64_t max_batch_records = 10000;
  // Ingest and IngestBatch calls in progress at once.
  int max_concurrent_calls = 32;
  // Of those, the most one client may hold at once; more get
  // RESOURCE_EXHAUSTED, so that one client cannot take every slot. A client
  // is its token's principal when the server checks tokens (auth.h), else
  // its peer address without the port ("ipv4:10.0.0.7"). Default 16.
  int max_calls_per_client = 16;
  // An Ingest stream that waits this long for the client's next message
  // (not while ingest itself holds reading back, nor while it applies) is
  // ended with DEADLINE_EXCEEDED ("idle for 1m; resend from index N"),
  // freeing its slot. Zero turns the check off. Default 60 s.
  absl::Duration stream_idle_timeout = absl::Seconds(60);
  // How often the idle check runs (a background thread; zero: never, the
  // test calls CheckIdleStreams() itself). Default 1 s.
  absl::Duration idle_check_interval = absl::Seconds(1);
  // The clock of the idle check; null means absl::Now. Must outlive the
  // service.
  std::function<absl::Time()> clock;
  // Resolve the entities each call upserts (import_resolver.h): after each
  // batch is applied, match them on graphstore's Resolution service and
  // write the links; the summary's `resolution` counts what happened.
  // Needs a Resolution stub (the channel constructor makes one). Default
  // true (ingest's --resolve_on_import).
  bool resolve_on_import = true;
  // Deadlines, candidates per entity, the clock of decided_at.
  ingest::ResolverOptions resolver;
};

class IngestService final : public v1::Ingest::CallbackService {
 public:
  // `graphstore` is the stub records are applied through; `registry` (not
  // owned) receives ingest's metrics (ingest_metrics.h).
  // `resolution`, when given, is graphstore's Resolution service, for
  // options.resolve_on_import; without it nothing is resolved.
  IngestService(
      std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
      IngestServiceOptions options, common::MetricsRegistry* registry,
      std::shared_ptr<v1::Resolution::StubInterface> resolution = nullptr);
  // The same over a channel to graphstore, whose reconnection backoff is
  // reset after each UNAVAILABLE (graphstore_client.h), and to its
  // Resolution service on the same channel.
  IngestService(std::shared_ptr<grpc::Channel> graphstore,
                IngestServiceOptions options,
                common::MetricsRegistry* registry);
  // The same over any GraphStoreClient: over graphstore shards, a
  // ShardedClient (shard_router.h). `resolution` may be null (nothing is
  // resolved).
  IngestService(std::unique_ptr<ingest::GraphStoreClient> client,
                std::unique_ptr<ingest::ResolutionClient> resolution,
                IngestServiceOptions options,
                common::MetricsRegistry* registry);
  ~IngestService() override;

  // Ends every call in progress with UNAVAILABLE ("shutting down; resend
  // from index N") and refuses new ones. Call from the server's shutdown
  // hook. Idempotent.
  void Shutdown();

  // Ends the Ingest streams idle for options.stream_idle_timeout or longer
  // (by options.clock) with DEADLINE_EXCEEDED. The background thread calls
  // it every idle_check_interval; tests call it directly. Returns how many
  // it ended. Thread-safe.
  int CheckIdleStreams();

  grpc::ServerReadReactor<v1::IngestRequest>* Ingest(
      grpc::CallbackServerContext* context,
      v1::IngestResponse* response) override;
  grpc::ServerUnaryReactor* IngestBatch(
      grpc::CallbackServerContext* context,
      const v1::IngestBatchRequest* request,
      v1::IngestBatchResponse* response) override;

  // Scheduled sources (source_scheduler.h): ListSources lists `sources`'
  // states, RunSource runs one on the scheduler's thread. Without a
  // scheduler, an empty list and NOT_FOUND. Set before serving; `sources`
  // (not owned) must outlive the server.
  void SetSources(SourceScheduler* sources) { sources_ = sources; }
  grpc::ServerUnaryReactor* ListSources(
      grpc::CallbackServerContext* context,
      const v1::ListSourcesRequest* request,
      v1::ListSourcesResponse* response) override;
  grpc::ServerUnaryReactor* RunSource(grpc::CallbackServerContext* context,
                                      const v1::RunSourceRequest* request,
                                      v1::RunSourceResponse* response) override;

 private:
  class Call;
  class StreamReactor;
  class BatchReactor;

  // Admits a call of `client`: UNAVAILABLE when shutting down,
  // RESOURCE_EXHAUSTED at either limit.
  absl::Status Admit(Call* call, const std::string& client);
  void Release(Call* call);
  absl::Time Now() const;
  void IdleLoop();

  const IngestServiceOptions options_;
  const std::unique_ptr<ingest::GraphStoreClient> client_;
  const std::unique_ptr<ingest::ResolutionClient> resolution_;
  // Null when resolution is off.
  const std::unique_ptr<ingest::ImportResolver> resolver_;
  ingest::IngestMetrics metrics_;

  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Each call in progress and its client.
  absl::flat_hash_map<Call*, std::string> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> calls_by_client_ ABSL_GUARDED_BY(mu_);
  std::thread idle_thread_;
  SourceScheduler* sources_ = nullptr;
};

// Who a call comes from, for the per-client limit: "token:<principal>"
// when the server checked a bearer token, else "peer:<address>" without the
// port.
std::string ClientIdentity(const grpc::CallbackServerContext& context);

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
