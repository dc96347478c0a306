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
// IngestBatch (unary): the same pipeline over one message of at most
// max_batch_records records.
//
// Limits: at most max_concurrent_calls calls at once (RESOURCE_EXHAUSTED
// beyond). Errors, per ingest.proto: INVALID_ARGUMENT for bad options,
// RESOURCE_EXHAUSTED for the limits above and for a stream with more than
// session.max_rejections rejections, UNAVAILABLE when GraphStore stayed
// unreachable past applier.retry_deadline or the server is shutting down;
// each message says from which record index to resend.
//
// Thread-safe. The stub and the registry must outlive the service; destroy
// the service only after the server has stopped.
#ifndef GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
#define GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "services/common/metrics.h"
#include "services/ingest/batch_applier.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/ingest_metrics.h"
#include "services/ingest/ingest_session.h"

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
  // IngestBatch: the most records one request may carry.
  int64_t max_batch_records = 100000;
  // Ingest and IngestBatch calls in progress at once.
  int max_concurrent_calls = 32;
};

class IngestService final : public v1::Ingest::CallbackService {
 public:
  // `graphstore` is the stub records are applied through; `registry` (not
  // owned) receives ingest's metrics (ingest_metrics.h).
  IngestService(std::shared_ptr<v1::GraphStore::StubInterface> graphstore,
                IngestServiceOptions options, common::MetricsRegistry* registry);
  ~IngestService() override;

  // Ends every call in progress with UNAVAILABLE ("shutting down; resend
  // from index N") and refuses new ones. Call from the server's shutdown
  // hook. Idempotent.
  void Shutdown();

  grpc::ServerReadReactor<v1::IngestRequest>* Ingest(
      grpc::CallbackServerContext* context,
      v1::IngestResponse* response) override;
  grpc::ServerUnaryReactor* IngestBatch(
      grpc::CallbackServerContext* context,
      const v1::IngestBatchRequest* request,
      v1::IngestBatchResponse* response) override;

 private:
  class Call;
  class StreamReactor;
  class BatchReactor;

  // Admits a call: UNAVAILABLE when shutting down, RESOURCE_EXHAUSTED at
  // the limit.
  absl::Status Admit(Call* call);
  void Release(Call* call);

  const IngestServiceOptions options_;
  const std::unique_ptr<ingest::GraphStoreClient> client_;
  ingest::IngestMetrics metrics_;

  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Call*> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
