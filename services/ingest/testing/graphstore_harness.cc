#include "services/ingest/testing/graphstore_harness.h"

#include <memory>
#include <utility>

#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

namespace georisk::ingest::testing {

absl::StatusOr<std::unique_ptr<GraphStoreHarness>> GraphStoreHarness::Create(
    const std::string& dir, HarnessOptions harness_options) {
  storage::RocksDbGraphStoreOptions options;
  options.path = dir + "/graph";
  options.sync = false;
  options.partition_map = harness_options.partition_map;
  options.shard_index = harness_options.shard_index;
  absl::StatusOr<std::unique_ptr<storage::RocksDbGraphStore>> store =
      storage::RocksDbGraphStore::Open(options);
  if (!store.ok()) return store.status();
  std::unique_ptr<graphstore::ShardStore> shard;
  if (harness_options.partition_map.shard_count() > 1) {
    absl::StatusOr<std::unique_ptr<graphstore::ShardStore>> made =
        graphstore::ShardStore::Create(
            store->get(),
            {harness_options.partition_map, harness_options.shard_index});
    if (!made.ok()) return made.status();
    shard = *std::move(made);
  }
  std::unique_ptr<GraphStoreHarness> harness(
      new GraphStoreHarness(std::move(*store), std::move(shard)));
  grpc::ServerBuilder builder;
  builder.RegisterService(&harness->service_);
  if (harness_options.resolution) {
    absl::StatusOr<std::unique_ptr<resolve::NameNormalizer>> normalizer =
        resolve::NameNormalizer::Create();
    if (!normalizer.ok()) return normalizer.status();
    graphstore::ResolutionIndexOptions index_options;
    index_options.poll = absl::Milliseconds(20);
    index_options.matcher.max_candidates = graphstore::kMaxMatchLimit;
    harness->resolution_index_ = std::make_unique<graphstore::ResolutionIndex>(
        harness->store_.get(),
        std::shared_ptr<const resolve::NameNormalizer>(*std::move(normalizer)),
        index_options);
    harness->resolution_ = std::make_unique<graphstore::ResolutionService>(
        harness->store_.get(), harness->resolution_index_.get(),
        graphstore::ResolutionServiceOptions());
    builder.RegisterService(harness->resolution_.get());
  }
  harness->server_ = builder.BuildAndStart();
  if (harness->server_ == nullptr) {
    return absl::InternalError("the graphstore test server did not start");
  }
  return harness;
}

GraphStoreHarness::GraphStoreHarness(
    std::unique_ptr<storage::RocksDbGraphStore> store,
    std::unique_ptr<graphstore::ShardStore> shard)
    : store_(std::move(store)),
      shard_(std::move(shard)),
      faults_(shard_ != nullptr
                  ? static_cast<storage::GraphStore*>(shard_.get())
                  : store_.get()),
      service_(&faults_, {}, &registry_) {}

GraphStoreHarness::~GraphStoreHarness() { Shutdown(); }

std::shared_ptr<grpc::Channel> GraphStoreHarness::Channel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

std::unique_ptr<v1::GraphStore::Stub> GraphStoreHarness::NewStub() {
  return v1::GraphStore::NewStub(Channel());
}

std::unique_ptr<GraphStoreClient> GraphStoreHarness::NewClient() {
  return NewGrpcGraphStoreClient(NewStub());
}

std::unique_ptr<v1::Resolution::Stub> GraphStoreHarness::NewResolutionStub() {
  return v1::Resolution::NewStub(Channel());
}

std::unique_ptr<ResolutionClient> GraphStoreHarness::NewResolutionClient() {
  return NewGrpcResolutionClient(NewResolutionStub());
}

void GraphStoreHarness::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  faults_.ReleaseDelays();
  service_.Shutdown();
  if (server_ != nullptr) {
    server_->Shutdown();
    server_->Wait();
  }
}

}  // namespace georisk::ingest::testing
