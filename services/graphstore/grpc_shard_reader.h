// File: services/graphstore/grpc_shard_reader.h
//
// GrpcShardReader: a ShardReader (shard_reader.h) over another graphstore
// pod's georisk.v1.GraphStore, for the router (routed_store.h). Each call
// has its own deadline (`timeout`); an ExportSnapshot stream has none but
// ends when the callback fails. Errors the shard answers for the request
// (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE) come back
// as they are, so a client sees what one store would have said; the others
// (UNAVAILABLE, DEADLINE_EXCEEDED...: the shard is down or slow) name the
// shard: "graphstore-2: failed to connect to all addresses".
//
//   auto channel = common::MakeChannel({.target = "graphstore-2...:50051"});
//   GrpcShardReader reader(*channel, 2, absl::Seconds(10));
//
// Thread-safe.
#ifndef GEORISK_SERVICES_GRAPHSTORE_GRPC_SHARD_READER_H_
#define GEORISK_SERVICES_GRAPHSTORE_GRPC_SHARD_READER_H_

#include <memory>

#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/channel.h"
#include "services/graphstore/shard_reader.h"

namespace georisk::graphstore {

class GrpcShardReader final : public ShardReader {
 public:
  GrpcShardReader(std::shared_ptr<grpc::Channel> channel, int shard,
                  absl::Duration timeout);

  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<storage::EdgePage> ListEdges(
      const storage::EdgeQuery& query) override;
  absl::StatusOr<storage::SignalPage> ListSignals(
      const storage::SignalQuery& query) override;
  absl::StatusOr<storage::IdentifierPage> LookupByIdentifier(
      const storage::IdentifierQuery& query) override;
  absl::Status ExportSnapshot(
      const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
      int chunk_records) override;
  absl::StatusOr<int64_t> LastSequence() override;

 private:
  // The shard's answer as the reader's error (see the file comment).
  absl::Status Named(const grpc::Status& status) const;
  // Sets the deadline and asks the peer for its own shard's answer.
  void Prepare(grpc::ClientContext* context) const;

  std::unique_ptr<v1::GraphStore::Stub> stub_;
  const int shard_;
  const absl::Duration timeout_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_GRPC_SHARD_READER_H_
