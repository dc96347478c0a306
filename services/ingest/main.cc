// ingest: validates, normalises and de-duplicates records and applies them
// to graphstore in batches.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "services/common/channel.h"
#include "services/common/client_flags.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"
#include "services/ingest/graphstore_client.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/resolution_client.h"
#include "services/ingest/shard_router.h"
#include "services/ingest/sharded_resolution_client.h"
#include "services/ingest/source_config.h"
#include "services/ingest/source_runner.h"
#include "services/ingest/source_scheduler.h"
#include "services/ingest/source_state_store.h"
#include "storage/partition_map.h"

// --graphstore and its TLS/token flags: services/common/client_flags.h.
ABSL_FLAG(int, batch_size, 1000, "Records per GraphStore.Apply call.");
ABSL_FLAG(int64_t, max_in_flight_records, 10000,
          "Records of one stream awaiting graphstore before ingest stops "
          "reading it; also the most records one message may carry.");
ABSL_FLAG(int64_t, max_batch_records, 10000,
          "The most records one IngestBatch request may carry; more get "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, apply_deadline, absl::Seconds(30),
          "Deadline of each graphstore call.");
ABSL_FLAG(absl::Duration, retry_deadline, absl::Seconds(60),
          "How long a graphstore call is retried while graphstore is "
          "unavailable before the stream fails with UNAVAILABLE.");
ABSL_FLAG(int, max_concurrent_calls, 32,
          "Ingest/IngestBatch calls at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_calls_per_client, 16,
          "Of those, calls one client (token principal, else peer address) "
          "may hold at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, stream_idle_timeout, absl::Seconds(60),
          "An Ingest stream with no message from its client for this long is "
          "ended with DEADLINE_EXCEEDED; 0 turns this off.");
ABSL_FLAG(absl::Duration, batch_unreachable_probe, absl::Milliseconds(500),
          "IngestBatch: after an UNAVAILABLE from graphstore, one retry this "
          "long later; if it fails too, answer UNAVAILABLE at once (0: retry "
          "for --retry_deadline as streams do).");

ABSL_FLAG(bool, resolve_on_import, true,
          "Resolve the entities each import upserts: after a batch is "
          "applied, match them on graphstore's Resolution service and write "
          "the links (automatic identifier matches POSITIVE, name matches "
          "UNSURE, waiting for review); the summary counts them. Never fails "
          "an import.");

ABSL_FLAG(std::string, sources_config, "",
          "Scheduled sources: a text proto of georisk.v1.SourcesConfig "
          "(docs/scheduled-sources.md). Empty: none.");
ABSL_FLAG(std::string, sources_state_dir, "",
          "The sources' state (RocksDB; required with --sources_config): "
          "last success, validators, records, next run. Fetched bodies are "
          "written beside it.");

ABSL_FLAG(std::string, graphstore_shards, "",
          "Partitioned graphstore (docs/scale-out.md): the shards' gRPC "
          "targets, comma-separated, shard 0 first (graphstore-0, ...); with "
          "--partition_map or --partition_map_file, the map they run under. "
          "Each mutation goes to the shard of its partition, an edge across "
          "shards as its two copies. Empty (the default): --graphstore alone. "
          "The TLS and token flags of --graphstore apply to every shard, "
          "and imports are resolved against every shard's Resolution "
          "index.");
ABSL_FLAG(std::string, partition_map, "",
          "With --graphstore_shards: the partition map, inline "
          "(\"0=0-341;1=342-682;2=683-1023\").");
ABSL_FLAG(std::string, partition_map_file, "",
          "With --graphstore_shards: a file holding the partition map.");

namespace {

// What ingest needs of a partitioned graphstore (--graphstore_shards): the
// ShardedClient for writes and, over the same channels, the
// ShardedResolutionClient that resolves imports against every shard.
struct ShardClients {
  std::unique_ptr<georisk::ingest::GraphStoreClient> graphstore;
  std::unique_ptr<georisk::ingest::ResolutionClient> resolution;
};

// The clients of --graphstore_shards over `base`'s channel options.
absl::StatusOr<ShardClients> ShardClientsFromFlags(
    const georisk::common::ChannelOptions& base) {
  absl::StatusOr<georisk::storage::PartitionMap> map =
      georisk::storage::PartitionMapFromFlags(
          absl::GetFlag(FLAGS_partition_map),
          absl::GetFlag(FLAGS_partition_map_file));
  if (!map.ok()) return map.status();
  std::vector<std::unique_ptr<georisk::ingest::GraphStoreClient>> shards;
  std::vector<std::unique_ptr<georisk::ingest::ResolutionClient>> resolvers;
  for (absl::string_view target :
       absl::StrSplit(absl::GetFlag(FLAGS_graphstore_shards), ',')) {
    georisk::common::ChannelOptions options = base;
    options.target = std::string(target);
    auto channel = georisk::common::MakeChannel(options);
    if (!channel.ok()) return channel.status();
    shards.push_back(georisk::ingest::NewGrpcGraphStoreClient(
        georisk::v1::GraphStore::NewStub(*channel), *channel));
    resolvers.push_back(georisk::ingest::NewGrpcResolutionClient(
        georisk::v1::Resolution::NewStub(*channel)));
  }
  absl::StatusOr<std::unique_ptr<georisk::ingest::ShardedClient>> client =
      georisk::ingest::ShardedClient::Create(*std::move(map),
                                             std::move(shards));
  if (!client.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--graphstore_shards: ", client.status().message()));
  }
  auto resolution =
      georisk::ingest::ShardedResolutionClient::Create(std::move(resolvers));
  if (!resolution.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--graphstore_shards: ", resolution.status().message()));
  }
  ShardClients out;
  out.graphstore = *std::move(client);
  out.resolution = *std::move(resolution);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::BlockShutdownSignals();
  georisk::common::InitMain(
      "ingest", "georisk ingest: the front door for data.", argc, argv);
  absl::StatusOr<georisk::common::ServerOptions> options =
      georisk::common::ServerOptionsFromFlags({"ingest", 50052, 9465});
  if (!options.ok()) return georisk::common::ExitWithError(options.status());

  georisk::ingest::IngestServiceOptions ingest_options;
  ingest_options.session.batch_size = absl::GetFlag(FLAGS_batch_size);
  ingest_options.max_in_flight_records =
      absl::GetFlag(FLAGS_max_in_flight_records);
  ingest_options.max_batch_records = absl::GetFlag(FLAGS_max_batch_records);
  ingest_options.applier.call_deadline = absl::GetFlag(FLAGS_apply_deadline);
  ingest_options.applier.retry_deadline = absl::GetFlag(FLAGS_retry_deadline);
  ingest_options.max_concurrent_calls =
      absl::GetFlag(FLAGS_max_concurrent_calls);
  ingest_options.max_calls_per_client =
      absl::GetFlag(FLAGS_max_calls_per_client);
  ingest_options.stream_idle_timeout = absl::GetFlag(FLAGS_stream_idle_timeout);
  ingest_options.batch_unreachable_probe =
      absl::GetFlag(FLAGS_batch_unreachable_probe);
  ingest_options.resolve_on_import = absl::GetFlag(FLAGS_resolve_on_import);
  if (ingest_options.session.batch_size < 1 ||
      ingest_options.max_in_flight_records < 1 ||
      ingest_options.max_batch_records < 1 ||
      ingest_options.max_concurrent_calls < 1 ||
      ingest_options.max_calls_per_client < 1) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        "--batch_size, --max_in_flight_records, --max_batch_records, "
        "--max_concurrent_calls and --max_calls_per_client must be >= 1"));
  }
  if (ingest_options.stream_idle_timeout < absl::ZeroDuration() ||
      ingest_options.batch_unreachable_probe < absl::ZeroDuration()) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        "--stream_idle_timeout and --batch_unreachable_probe must be >= 0"));
  }
  if (ingest_options.applier.call_deadline <= absl::ZeroDuration() ||
      ingest_options.applier.retry_deadline < absl::ZeroDuration()) {
    return georisk::common::ExitWithError(absl::InvalidArgumentError(
        "--apply_deadline must be > 0 and --retry_deadline >= 0"));
  }

  absl::StatusOr<georisk::common::ChannelOptions> channel_options =
      georisk::common::GraphstoreChannelOptionsFromFlags();
  if (!channel_options.ok()) {
    return georisk::common::ExitWithError(channel_options.status());
  }
  // Scheduled sources: read and checked before serving.
  std::vector<georisk::ingest::Source> sources;
  std::unique_ptr<georisk::ingest::SourceStateStore> source_state;
  if (const std::string config = absl::GetFlag(FLAGS_sources_config);
      !config.empty()) {
    auto loaded = georisk::ingest::LoadSourcesConfig(config);
    if (!loaded.ok()) return georisk::common::ExitWithError(loaded.status());
    sources = std::move(*loaded);
    const std::string dir = absl::GetFlag(FLAGS_sources_state_dir);
    if (dir.empty()) {
      return georisk::common::ExitWithError(absl::InvalidArgumentError(
          "--sources_state_dir is required with --sources_config"));
    }
    auto store = georisk::ingest::SourceStateStore::Open(dir + "/state");
    if (!store.ok()) return georisk::common::ExitWithError(store.status());
    source_state = std::move(*store);
  }

  georisk::common::MetricsRegistry registry;
  std::unique_ptr<georisk::ingest::IngestService> service_holder;
  if (!absl::GetFlag(FLAGS_graphstore_shards).empty()) {
    auto clients = ShardClientsFromFlags(*channel_options);
    if (!clients.ok()) return georisk::common::ExitWithError(clients.status());
    service_holder = std::make_unique<georisk::ingest::IngestService>(
        std::move(clients->graphstore), std::move(clients->resolution),
        ingest_options, &registry);
  } else {
    auto channel = georisk::common::MakeChannel(*channel_options);
    if (!channel.ok()) return georisk::common::ExitWithError(channel.status());
    service_holder = std::make_unique<georisk::ingest::IngestService>(
        *channel, ingest_options, &registry);
  }
  georisk::ingest::IngestService& service = *service_holder;
  auto server = georisk::common::GrpcServer::Start(
      *options, {{&service, georisk::v1::Ingest::service_full_name()}},
      &registry);
  if (!server.ok()) return georisk::common::ExitWithError(server.status());
  std::unique_ptr<georisk::ingest::SourceRunner> runner;
  std::unique_ptr<georisk::ingest::SourceScheduler> scheduler;
  if (source_state != nullptr) {
    georisk::ingest::SourceRunnerOptions runner_options;
    runner_options.ingest = (*server)->InProcessChannel();
    runner_options.work_dir = absl::GetFlag(FLAGS_sources_state_dir);
    runner = std::make_unique<georisk::ingest::SourceRunner>(runner_options);
    georisk::ingest::SourceSchedulerOptions scheduler_options;
    scheduler_options.registry = &registry;
    scheduler = std::make_unique<georisk::ingest::SourceScheduler>(
        sources, source_state.get(),
        [r = runner.get()](const georisk::ingest::Source& source,
                           const georisk::v1::SourceStatus& previous) {
          return r->Run(source, previous);
        },
        scheduler_options);
    if (absl::Status st = scheduler->Load(); !st.ok()) {
      return georisk::common::ExitWithError(st);
    }
    service.SetSources(scheduler.get());
  }
  // Streams end first (a scheduled import in progress fails and is redone
  // at the next start), then the scheduler stops.
  (*server)->AddShutdownHook([&service, s = scheduler.get()] {
    service.Shutdown();
    if (s != nullptr) s->Shutdown();
  });
  (*server)->SetServing(true);
  if (scheduler != nullptr) scheduler->Start();
  return georisk::common::ServeUntilShutdownSignal(**server);
}
