#include "services/graphstore/grpc_shard_reader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"
#include "services/common/shard_status.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {
namespace {

v1::Direction DirectionToProto(storage::Direction direction) {
  switch (direction) {
    case storage::Direction::kOutbound:
      return v1::DIRECTION_OUTBOUND;
    case storage::Direction::kInbound:
      return v1::DIRECTION_INBOUND;
    case storage::Direction::kBoth:
      return v1::DIRECTION_BOTH;
  }
  return v1::DIRECTION_UNSPECIFIED;
}

// Moves the records of a response's repeated field into `to`.
template <typename Repeated, typename Record>
void MoveAll(Repeated* from, std::vector<Record>* to) {
  to->assign(std::make_move_iterator(from->begin()),
             std::make_move_iterator(from->end()));
}

}  // namespace

GrpcShardReader::GrpcShardReader(std::shared_ptr<grpc::Channel> channel,
                                 int shard, absl::Duration timeout)
    : stub_(v1::GraphStore::NewStub(std::move(channel))),
      shard_(shard),
      timeout_(timeout) {}

absl::Status GrpcShardReader::Named(const grpc::Status& status) const {
  absl::Status s = common::FromGrpcStatus(status);
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return s;
    default:
      // Named, and recorded on the status, so that the RPC edge's retry hint
      // names the shard (georisk-unavailable-shard).
      return common::FromShard(s, storage::ShardName(shard_));
  }
}

void GrpcShardReader::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  // The peer answers for its shard alone instead of routing again.
  context->AddMetadata(common::kShardLocalMetadata, "1");
}

absl::StatusOr<v1::Entity> GrpcShardReader::GetEntity(absl::string_view id) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::GetEntityRequest request;
  request.set_id(std::string(id));
  v1::Entity entity;
  grpc::Status status = stub_->GetEntity(&context, request, &entity);
  if (!status.ok()) return Named(status);
  return entity;
}

absl::StatusOr<storage::EdgePage> GrpcShardReader::ListEdges(
    const storage::EdgeQuery& query) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::ListEdgesRequest request;
  request.set_entity_id(query.entity_id);
  request.set_direction(DirectionToProto(query.direction));
  for (v1::Edge::Kind k : query.kinds) request.add_kinds(k);
  if (query.active_at.has_value()) {
    *request.mutable_active_at() = base::ToProtoTime(*query.active_at);
  }
  request.set_page_size(query.page_size);
  request.set_page_token(query.page_token);
  v1::ListEdgesResponse response;
  grpc::Status status = stub_->ListEdges(&context, request, &response);
  if (!status.ok()) return Named(status);
  storage::EdgePage page;
  MoveAll(response.mutable_edges(), &page.edges);
  page.next_page_token = std::move(*response.mutable_next_page_token());
  return page;
}

absl::StatusOr<storage::SignalPage> GrpcShardReader::ListSignals(
    const storage::SignalQuery& query) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::ListSignalsRequest request;
  for (v1::SignalKind k : query.kinds) request.add_kinds(k);
  request.set_target_id(query.target_id);
  request.set_source(query.source);
  request.set_authority(query.authority);
  if (query.active_at.has_value()) {
    *request.mutable_active_at() = base::ToProtoTime(*query.active_at);
  }
  request.set_page_size(query.page_size);
  request.set_page_token(query.page_token);
  v1::ListSignalsResponse response;
  grpc::Status status = stub_->ListSignals(&context, request, &response);
  if (!status.ok()) return Named(status);
  storage::SignalPage page;
  MoveAll(response.mutable_signals(), &page.signals);
  page.next_page_token = std::move(*response.mutable_next_page_token());
  return page;
}

absl::StatusOr<storage::IdentifierPage> GrpcShardReader::LookupByIdentifier(
    const storage::IdentifierQuery& query) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::LookupByIdentifierRequest request;
  request.set_scheme(query.scheme);
  request.set_value(query.value);
  request.set_country(query.country);
  request.set_include_equivalent(query.include_equivalent);
  request.set_page_size(query.page_size);
  request.set_page_token(query.page_token);
  v1::LookupByIdentifierResponse response;
  grpc::Status status = stub_->LookupByIdentifier(&context, request, &response);
  if (!status.ok()) return Named(status);
  storage::IdentifierPage page;
  MoveAll(response.mutable_entities(), &page.entities);
  page.next_page_token = std::move(*response.mutable_next_page_token());
  page.scheme = std::move(*response.mutable_scheme());
  page.value = std::move(*response.mutable_value());
  page.sequence = response.sequence();
  return page;
}

absl::Status GrpcShardReader::ExportSnapshot(
    const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
    int chunk_records) {
  grpc::ClientContext context;
  context.AddMetadata(common::kShardLocalMetadata, "1");
  auto reader = stub_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
  v1::ExportSnapshotResponse message;
  absl::Status failed;
  while (reader->Read(&message)) {
    storage::SnapshotChunk chunk;
    MoveAll(message.mutable_entities(), &chunk.entities);
    MoveAll(message.mutable_edges(), &chunk.edges);
    MoveAll(message.mutable_signals(), &chunk.signals);
    MoveAll(message.mutable_links(), &chunk.links);
    chunk.sequence = message.sequence();
    chunk.graph_id = message.graph_id();
    chunk.shard = shard_;
    failed = callback(chunk);
    if (!failed.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!failed.ok()) return failed;
  return Named(status);
}

absl::StatusOr<int64_t> GrpcShardReader::LastSequence() {
  grpc::ClientContext context;
  Prepare(&context);
  v1::GetStatsResponse response;
  grpc::Status status =
      stub_->GetStats(&context, v1::GetStatsRequest(), &response);
  if (!status.ok()) return Named(status);
  return response.last_sequence();
}

}  // namespace georisk::graphstore
