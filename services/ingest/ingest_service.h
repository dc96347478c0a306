// File: services/ingest/ingest_service.h
//
// IngestService: the gRPC face of the ingest pipeline (georisk.v1.Ingest).
//
// Ingest and IngestBatch are filled in by the ingest issue (validation,
// batching into GraphStore.Apply, idempotency); until then they answer
// UNIMPLEMENTED, never a made-up success.
#ifndef GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
#define GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_

#include <memory>

#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"

namespace georisk {

class IngestService final : public v1::Ingest::CallbackService {
 public:
  // `graphstore` is the stub records are applied through.
  explicit IngestService(
      std::shared_ptr<v1::GraphStore::StubInterface> graphstore)
      : graphstore_(std::move(graphstore)) {}

 private:
  std::shared_ptr<v1::GraphStore::StubInterface> graphstore_;
};

}  // namespace georisk

#endif  // GEORISK_SERVICES_INGEST_INGEST_SERVICE_H_
