// graphstore: the supply-chain graph on RocksDB, with an atomic change feed.
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "resolve/normalize_name.h"
#include "services/common/channel.h"
#include "services/common/grpc_status.h"
#include "services/common/log.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/graphstore/graphstore_service.h"
#include "services/graphstore/grpc_resolution_shard.h"
#include "services/graphstore/grpc_shard_reader.h"
#include "services/graphstore/outbox_forwarder.h"
#include "services/graphstore/resolution_service.h"
#include "services/graphstore/rocksdb_metrics.h"
#include "services/graphstore/routed_resolution.h"
#include "services/graphstore/routed_store.h"
#include "services/graphstore/shard_store.h"
#include "services/graphstore/write_health.h"
#include "storage/partition_map.h"
#include "storage/rocksdb_graph_store.h"

ABSL_FLAG(std::string, data_dir, "",
          "Directory of the graph's RocksDB database. Required.");
ABSL_FLAG(bool, sync, true,
          "fsync each commit before acknowledging it (survives power loss). "
          "false still survives kill -9 of the process.");
ABSL_FLAG(int64_t, changelog_retention_count, 0,
          "Keep at most this many recent changes in the change log (0: all).");
ABSL_FLAG(absl::Duration, changelog_retention_age, absl::ZeroDuration(),
          "Drop changes older than this from the change log (0: keep).");
ABSL_FLAG(int, max_mutations_per_batch, 100000,
          "Largest Apply batch accepted.");
ABSL_FLAG(int, max_traverse_depth, 8, "Largest Traverse max_depth accepted.");
ABSL_FLAG(int64_t, block_cache_mb, 128, "RocksDB block cache, MiB.");
ABSL_FLAG(int, max_watch_streams, 256,
          "WatchChanges streams at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, reserved_watch_streams, 16,
          "Further WatchChanges streams reserved for georisk's own followers "
          "(FOLLOWER_CLASS_SERVICE: the scorer).");
ABSL_FLAG(absl::Duration, watch_stall_timeout, absl::Seconds(30),
          "End a WatchChanges stream (RESOURCE_EXHAUSTED) whose message waits "
          "longer than this for its client to read (0: never).");
ABSL_FLAG(int64_t, watch_max_buffered_mb, 256,
          "MiB of WatchChanges messages held for slow outside streams, all "
          "together; past it a stream ends with RESOURCE_EXHAUSTED (0: no "
          "limit).");
ABSL_FLAG(int64_t, max_record_bytes, 1 << 20,
          "Largest encoded record (mutation) Apply accepts.");
ABSL_FLAG(int, max_concurrent_exports, 4,
          "ExportSnapshot streams at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(bool, resolution, true,
          "Serve georisk.v1.Resolution (entity matching, the review queue, "
          "links) from an in-memory index of every entity's names and "
          "identifiers, loaded in the background at start (about 1.1 GB and "
          "15 s of CPU per million entities, docs/resolution.md). false: the "
          "service is not registered (UNIMPLEMENTED).");
ABSL_FLAG(bool, resolution_auto_link_names, false,
          "Let a name-only match at score >= 0.98 count as an automatic link "
          "(default: name-only matches wait for review).");

ABSL_FLAG(std::string, partition_map, "",
          "The partition map, inline: \"0=0-341;1=342-682;2=683-1023\" (shard "
          "= ranges of the 1,024 partitions; docs/scale-out.md). Neither this "
          "nor --partition_map_file: one shard owning every partition.");
ABSL_FLAG(std::string, partition_map_file, "",
          "A file holding the partition map (the StatefulSet's ConfigMap): one "
          "shard per line, '#' comments.");
ABSL_FLAG(int, shard_index, 0,
          "Which shard of the partition map this process is (pod "
          "graphstore-<i>); it serves only that shard's partitions.");

ABSL_FLAG(bool, route, false,
          "Answer GetEntity, ListEdges, ListSignals, LookupByIdentifier, "
          "Traverse, ExportSnapshot and the Resolution service (matches, the "
          "review queue, links, reviews) for the whole graph: forward to the "
          "shard of an id, or ask every shard and merge "
          "(docs/scale-out.md). Needs --route_shards. Writes, WatchChanges "
          "and GetStats stay this shard's.");
ABSL_FLAG(std::string, route_shards, "",
          "With --route: the gRPC target of every shard of the map, "
          "comma-separated, shard 0 first (this shard's own entry is read "
          "locally).");
ABSL_FLAG(absl::Duration, route_timeout, absl::Seconds(10),
          "With --route or --shard_peers: the deadline of each call to another "
          "shard.");
ABSL_FLAG(std::string, shard_peers, "",
          "The gRPC target of every shard of the map, comma-separated, shard 0 "
          "first (this shard's own entry is not called): where the outbox "
          "delivers the copies of edges and links across shards "
          "(docs/scale-out.md, \"The outbox\"). Empty: --route_shards's. "
          "Neither, with more than one shard: the outbox is kept but not "
          "delivered. TLS and token: the --route_tls_* and --route_token_file "
          "flags; deadline: --route_timeout.");
ABSL_FLAG(std::string, route_tls_ca, "",
          "With --route or --shard_peers: the CA bundle (PEM) of the other "
          "shards' TLS; empty: plaintext.");
ABSL_FLAG(std::string, route_tls_server_name, "",
          "With --route or --shard_peers: the TLS server name to expect of the "
          "other shards.");
ABSL_FLAG(std::string, route_token_file, "",
          "With --route or --shard_peers: a file holding the bearer token sent "
          "to the other shards.");

namespace {

// The channel to shard `i` at `target`, with the --route_tls_* flags.
absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannel(
    const std::string& flag, size_t i, const std::string& target) {
  georisk::common::ChannelOptions channel;
  channel.target = target;
  channel.tls_ca_file = absl::GetFlag(FLAGS_route_tls_ca);
  channel.tls_server_name = absl::GetFlag(FLAGS_route_tls_server_name);
  channel.token_file = absl::GetFlag(FLAGS_route_token_file);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
      georisk::common::MakeChannel(channel);
  if (!made.ok()) {
    return absl::Status(
        made.status().code(),
        absl::StrCat(flag, ": shard ", i, ": ", made.status().message()));
  }
  return made;
}

// The Resolution router over `service` and `local` (this shard) and a gRPC
// client of every other shard's Resolution and GraphStore, from the
// --route flags (RouterFromFlags checked them).
absl::StatusOr<std::unique_ptr<georisk::graphstore::RoutedResolution>>
ResolutionRouterFromFlags(const georisk::graphstore::ResolutionService* service,
                          georisk::storage::GraphStore* local,
                          const georisk::graphstore::ShardConfig& config) {
  std::vector<std::string> list =
      absl::StrSplit(absl::GetFlag(FLAGS_route_shards), ',');
  std::vector<std::unique_ptr<georisk::graphstore::ResolutionShard>> shards;
  for (size_t i = 0; i < list.size(); ++i) {
    if (static_cast<int>(i) == config.shard_index) {
      shards.push_back(
          std::make_unique<georisk::graphstore::LocalResolutionShard>(
              service, local, config.shard_index));
      continue;
    }
    absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
        PeerChannel("--route_shards", i, list[i]);
    if (!made.ok()) return made.status();
    shards.push_back(std::make_unique<georisk::graphstore::GrpcResolutionShard>(
        *std::move(made), static_cast<int>(i),
        absl::GetFlag(FLAGS_route_timeout)));
  }
  return georisk::graphstore::RoutedResolution::Create(config.map,
                                                       std::move(shards), {});
}

// The router over `local` (this shard) and a gRPC reader of every other
// shard, from the --route flags.
absl::StatusOr<std::unique_ptr<georisk::graphstore::RoutedGraphStore>>
RouterFromFlags(georisk::storage::GraphStore* local,
                const georisk::graphstore::ShardConfig& config,
                int max_traverse_depth) {
  const std::string targets = absl::GetFlag(FLAGS_route_shards);
  if (targets.empty()) {
    return absl::InvalidArgumentError("--route_shards: required with --route");
  }
  std::vector<std::string> list = absl::StrSplit(targets, ',');
  if (static_cast<int>(list.size()) != config.map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--route_shards: ", list.size(), " targets, but the partition map has ",
        config.map.shard_count(), " shards"));
  }
  std::vector<std::unique_ptr<georisk::graphstore::ShardReader>> readers;
  for (size_t i = 0; i < list.size(); ++i) {
    if (static_cast<int>(i) == config.shard_index) {
      readers.push_back(
          std::make_unique<georisk::graphstore::StoreShardReader>(local));
      continue;
    }
    absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
        PeerChannel("--route_shards", i, list[i]);
    if (!made.ok()) return made.status();
    readers.push_back(std::make_unique<georisk::graphstore::GrpcShardReader>(
        *std::move(made), static_cast<int>(i),
        absl::GetFlag(FLAGS_route_timeout)));
  }
  georisk::graphstore::RouterOptions options;
  options.max_traverse_depth = max_traverse_depth;
  return georisk::graphstore::RoutedGraphStore::Create(
      local, config.map, config.shard_index, std::move(readers), options);
}

// The outbox forwarder of this shard, delivering over gRPC to the targets
// of --shard_peers (or --route_shards); null when neither is given.
absl::StatusOr<std::unique_ptr<georisk::graphstore::OutboxForwarder>>
ForwarderFromFlags(georisk::storage::Outbox* outbox,
                   const georisk::graphstore::ShardConfig& config,
                   georisk::common::MetricsRegistry* registry) {
  std::string flag = "--shard_peers";
  std::string targets = absl::GetFlag(FLAGS_shard_peers);
  if (targets.empty()) {
    flag = "--route_shards";
    targets = absl::GetFlag(FLAGS_route_shards);
  }
  if (targets.empty()) return nullptr;
  std::vector<std::string> list = absl::StrSplit(targets, ',');
  if (static_cast<int>(list.size()) != config.map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": ", list.size(), " targets, but the partition map has ",
        config.map.shard_count(), " shards"));
  }
  auto stubs = std::make_shared<
      std::vector<std::unique_ptr<georisk::v1::GraphStore::Stub>>>(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    if (static_cast<int>(i) == config.shard_index) continue;
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        PeerChannel(flag, i, list[i]);
    if (!channel.ok()) return channel.status();
    (*stubs)[i] = georisk::v1::GraphStore::NewStub(*std::move(channel));
  }
  const absl::Duration timeout = absl::GetFlag(FLAGS_route_timeout);
  auto deliver = [stubs, timeout](int peer,
                                  const georisk::v1::ApplyRequest& request)
      -> absl::StatusOr<georisk::v1::ApplyResponse> {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    georisk::v1::ApplyResponse response;
    const grpc::Status s = (*stubs)[peer]->Apply(&context, request, &response);
    if (!s.ok()) return georisk::common::FromGrpcStatus(s);
    return response;
  };
  georisk::graphstore::OutboxForwarderOptions options;
  options.shard = config.shard_index;
  options.shard_count = config.map.shard_count();
  return std::make_unique<georisk::graphstore::OutboxForwarder>(
      outbox, std::move(deliver), options, registry);
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::BlockShutdownSignals();
  georisk::common::InitMain(
      "graphstore", "georisk graphstore: the supply-chain graph on RocksDB.",
      argc, argv);
  absl::StatusOr<georisk::common::ServerOptions> options =
      georisk::common::ServerOptionsFromFlags({"graphstore", 50051, 9464});
  if (!options.ok()) return georisk::common::ExitWithError(options.status());
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    return georisk::common::ExitWithError(
        absl::InvalidArgumentError("--data_dir: required"));
  }
  if (absl::Status s =
          georisk::common::EnsureDirectory(absl::GetFlag(FLAGS_data_dir));
      !s.ok()) {
    return georisk::common::ExitWithError(s);
  }

  georisk::graphstore::ShardFlags shard_flags;
  shard_flags.partition_map = absl::GetFlag(FLAGS_partition_map);
  shard_flags.partition_map_file = absl::GetFlag(FLAGS_partition_map_file);
  shard_flags.shard_index = absl::GetFlag(FLAGS_shard_index);
  absl::StatusOr<georisk::graphstore::ShardConfig> shard_config =
      georisk::graphstore::ShardConfigFromFlags(shard_flags);
  if (!shard_config.ok()) {
    return georisk::common::ExitWithError(shard_config.status());
  }

  georisk::storage::RocksDbGraphStoreOptions store_options;
  store_options.path = absl::GetFlag(FLAGS_data_dir) + "/graph";
  // Recorded in the schema; a map that would orphan this shard's data is
  // refused at open.
  store_options.partition_map = shard_config->map;
  store_options.shard_index = shard_config->shard_index;
  store_options.sync = absl::GetFlag(FLAGS_sync);
  store_options.changelog_retention_count =
      absl::GetFlag(FLAGS_changelog_retention_count);
  store_options.changelog_retention_age =
      absl::GetFlag(FLAGS_changelog_retention_age);
  store_options.max_mutations_per_batch =
      absl::GetFlag(FLAGS_max_mutations_per_batch);
  store_options.max_traverse_depth = absl::GetFlag(FLAGS_max_traverse_depth);
  store_options.record_limits.max_record_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_record_bytes));
  store_options.block_cache_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_block_cache_mb)) << 20;
  // Whether writes are stopped (a full disk): logged, and reported as the
  // health of kWritesHealthName once the server exists.
  auto writes = std::make_shared<georisk::graphstore::WriteHealthRelay>();
  store_options.on_write_health_change = [writes](const absl::Status& s) {
    writes->Set(s);
  };
  auto store = georisk::storage::RocksDbGraphStore::Open(store_options);
  if (!store.ok()) return georisk::common::ExitWithError(store.status());
  // Every service reads and writes through the shard's view of the store.
  auto sharded =
      georisk::graphstore::ShardStore::Create(store->get(), *shard_config);
  if (!sharded.ok()) return georisk::common::ExitWithError(sharded.status());

  georisk::common::MetricsRegistry registry;
  georisk::graphstore::RegisterRocksDbMetrics(store->get(), &registry);
  // The outbox's delivery to the other shards (docs/scale-out.md).
  std::unique_ptr<georisk::graphstore::OutboxForwarder> forwarder;
  if (shard_config->map.shard_count() > 1) {
    auto made = ForwarderFromFlags(store->get(), *shard_config, &registry);
    if (!made.ok()) return georisk::common::ExitWithError(made.status());
    forwarder = *std::move(made);
    if (forwarder == nullptr) {
      georisk::common::log::Warning(
          "no --shard_peers (nor --route_shards): copies of edges and links "
          "across shards are kept in the outbox but not delivered",
          {{"shard", georisk::storage::ShardName(shard_config->shard_index)}});
    }
  }
  georisk::graphstore::GraphStoreServiceOptions service_options;
  service_options.max_watch_streams = absl::GetFlag(FLAGS_max_watch_streams);
  service_options.reserved_watch_streams =
      absl::GetFlag(FLAGS_reserved_watch_streams);
  service_options.watch_stall_timeout =
      absl::GetFlag(FLAGS_watch_stall_timeout);
  service_options.watch_max_buffered_bytes =
      absl::GetFlag(FLAGS_watch_max_buffered_mb) << 20;
  service_options.max_concurrent_exports =
      absl::GetFlag(FLAGS_max_concurrent_exports);
  // GetStats says which shard this is and what it owns (georiskctl status).
  service_options.shard_index = shard_config->shard_index;
  service_options.shard_count = shard_config->map.shard_count();
  service_options.shard_partitions = georisk::storage::FormatPartitionRanges(
      shard_config->map.RangesOf(shard_config->shard_index));
  // With --route the GraphStore and Resolution services answer for the whole
  // graph.
  std::unique_ptr<georisk::graphstore::RoutedGraphStore> routed;
  if (absl::GetFlag(FLAGS_route)) {
    auto made = RouterFromFlags(sharded->get(), *shard_config,
                                store_options.max_traverse_depth);
    if (!made.ok()) return georisk::common::ExitWithError(made.status());
    routed = *std::move(made);
    service_options.shard_local_store = sharded->get();
  }
  georisk::storage::GraphStore* served =
      routed != nullptr
          ? static_cast<georisk::storage::GraphStore*>(routed.get())
          : sharded->get();
  georisk::graphstore::GraphStoreService service(served, service_options,
                                                 &registry);
  std::unique_ptr<georisk::graphstore::ResolutionIndex> resolution_index;
  std::unique_ptr<georisk::graphstore::ResolutionService> resolution;
  std::unique_ptr<georisk::graphstore::RoutedResolution> resolution_router;
  std::vector<georisk::common::ServiceEntry> services = {
      {&service, georisk::v1::GraphStore::service_full_name()}};
  if (absl::GetFlag(FLAGS_resolution)) {
    auto normalizer = georisk::resolve::NameNormalizer::Create();
    if (!normalizer.ok()) {
      return georisk::common::ExitWithError(normalizer.status());
    }
    georisk::graphstore::ResolutionIndexOptions index_options;
    index_options.matcher.max_candidates = georisk::graphstore::kMaxMatchLimit;
    index_options.matcher.auto_link_name_matches =
        absl::GetFlag(FLAGS_resolution_auto_link_names);
    resolution_index = std::make_unique<georisk::graphstore::ResolutionIndex>(
        sharded->get(),
        std::shared_ptr<const georisk::resolve::NameNormalizer>(
            *std::move(normalizer)),
        index_options);
    georisk::graphstore::ResolutionServiceOptions resolution_options;
    if (shard_config->map.shard_count() > 1) {
      // A shard-local review queue is this shard's part of the whole.
      resolution_options.owns =
          [map = shard_config->map, shard = shard_config->shard_index](
              absl::string_view id) { return map.ShardOf(id) == shard; };
    }
    resolution = std::make_unique<georisk::graphstore::ResolutionService>(
        sharded->get(), resolution_index.get(), resolution_options);
    if (routed != nullptr) {
      auto made = ResolutionRouterFromFlags(resolution.get(), sharded->get(),
                                            *shard_config);
      if (!made.ok()) return georisk::common::ExitWithError(made.status());
      resolution_router = *std::move(made);
      resolution->RouteThrough(resolution_router.get());
    }
    services.push_back(
        {resolution.get(), georisk::v1::Resolution::service_full_name()});
  }
  auto server =
      georisk::common::GrpcServer::Start(*options, services, &registry);
  if (!server.ok()) return georisk::common::ExitWithError(server.status());
  (*server)->AddShutdownHook([&service] { service.Shutdown(); });
  (*server)->SetServing(true);
  if (forwarder != nullptr) forwarder->Start();
  writes->Attach([server = server->get()](bool serving) {
    server->SetHealth(std::string(georisk::graphstore::kWritesHealthName),
                      serving);
  });
  const int code = georisk::common::ServeUntilShutdownSignal(**server);
  writes->Attach(nullptr);  // The server goes before the store.
  if (forwarder != nullptr) forwarder->Stop();
  return code;
}
