// File: services/graphstore/shard_reader.h
//
// ShardReader: the reads the router (routed_store.h) asks of one graphstore
// shard, in the store's own types: this pod's shard through its store
// (StoreShardReader), another pod's over gRPC (grpc_shard_reader.h).
//
//   StoreShardReader local(shard_store.get());
//   absl::StatusOr<v1::Entity> e = local.GetEntity("company/tsmc");
//
// Thread-safe when the store is; the store must outlive the reader.
#ifndef GEORISK_SERVICES_GRAPHSTORE_SHARD_READER_H_
#define GEORISK_SERVICES_GRAPHSTORE_SHARD_READER_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/graph_store.h"

namespace georisk::graphstore {

class ShardReader {
 public:
  virtual ~ShardReader() = default;

  // As storage::GraphStore's methods of the same names, with the shard's
  // errors; a shard that cannot be reached answers UNAVAILABLE (or
  // DEADLINE_EXCEEDED) naming it ("graphstore-1: ...").
  virtual absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) = 0;
  virtual absl::StatusOr<storage::EdgePage> ListEdges(
      const storage::EdgeQuery& query) = 0;
  virtual absl::StatusOr<storage::SignalPage> ListSignals(
      const storage::SignalQuery& query) = 0;
  virtual absl::StatusOr<storage::IdentifierPage> LookupByIdentifier(
      const storage::IdentifierQuery& query) = 0;
  virtual absl::Status ExportSnapshot(
      const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
      int chunk_records) = 0;
  // The shard's last committed sequence.
  virtual absl::StatusOr<int64_t> LastSequence() = 0;
};

// A shard read through its store, in this process.
class StoreShardReader final : public ShardReader {
 public:
  explicit StoreShardReader(storage::GraphStore* store) : store_(store) {}

  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override {
    return store_->GetEntity(id);
  }
  absl::StatusOr<storage::EdgePage> ListEdges(
      const storage::EdgeQuery& query) override {
    return store_->ListEdges(query);
  }
  absl::StatusOr<storage::SignalPage> ListSignals(
      const storage::SignalQuery& query) override {
    return store_->ListSignals(query);
  }
  absl::StatusOr<storage::IdentifierPage> LookupByIdentifier(
      const storage::IdentifierQuery& query) override {
    return store_->LookupByIdentifier(query);
  }
  absl::Status ExportSnapshot(
      const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
      int chunk_records) override {
    return store_->ExportSnapshot(callback, chunk_records);
  }
  absl::StatusOr<int64_t> LastSequence() override {
    return store_->LastSequence();
  }

 private:
  storage::GraphStore* const store_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_SHARD_READER_H_
