// graphstore_bench: the measurements behind bench/run.sh. Each --mode prints
// its figures as "RESULT <name>=<value>" lines on stdout (progress goes to
// stderr) and exits non-zero on any error, after stopping what it started.
//
//   --mode=sizes   encoded size of the apply workload's edges (key, value),
//                  so that db_bench can write records of the same size.
//   --mode=apply   Apply throughput: --edges SUPPLIES edges between
//                  --entities pre-created entities, in batches of --batch,
//                  WAL on, sync off, through the library
//                  (--transport=library) or through GraphStore.Apply of a
//                  `graphstore --sync=false` process (--transport=grpc).
//   --mode=lookup  --entities companies, each with an LEI and a CSL entity
//                  number, through the library; then LookupByIdentifier of
//                  --queries random LEIs (the index) against the same
//                  question answered by a scan of every entity
//                  (ExportSnapshot, each LEI normalised and compared), what a
//                  client without the index must do; and the time Open takes
//                  to build the index for a database written without it.
//   --mode=bulkload  the skewed supply graph of --mode=graph (--entities,
//                  --edges), built in memory first, loaded into an empty
//                  store with storage::BulkLoader (SST files ingested),
//                  timed from Start to the end of Finish; prints the keys
//                  it wrote and their mean sizes, so that db_bench
//                  fillbatch can write as many keys of the same size. The
//                  store is then reopened and its counts checked.
//   --mode=graph   builds the skewed supply graph through the library, serves
//                  it with the graphstore binary, times ListEdges of the
//                  1,000-neighbour entity and 3-hop Traverse over loopback
//                  gRPC, then restarts the binary --restarts times.
//
// Not a test: bench/run.sh runs it with the right flags.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "bench/bench_output.h"
#include "bench/supply_graph.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "resolve/identifiers.h"
#include "rocksdb/db.h"
#include "services/common/grpc_probe.h"
#include "services/common/grpc_status.h"
#include "storage/bulk_load.h"
#include "storage/rocksdb_graph_store.h"
#include "tests/testing/process.h"

ABSL_FLAG(std::string, mode, "", "sizes, apply, bulkload, graph or lookup.");
ABSL_FLAG(std::string, dir, "", "Scratch directory, which must exist.");
ABSL_FLAG(std::string, graphstore, "", "Path of the graphstore binary.");
ABSL_FLAG(std::string, transport, "library", "apply: library or grpc.");
ABSL_FLAG(int64_t, entities, 100'000, "Entities of the graph.");
ABSL_FLAG(int64_t, edges, 1'000'000, "Edges of the graph.");
ABSL_FLAG(int, batch, 1000, "apply: edges per Apply.");
ABSL_FLAG(int, build_batch, 10'000,
          "Mutations per Apply when creating entities and building the graph.");
ABSL_FLAG(int, queries, 300, "graph: timed calls of each query.");
ABSL_FLAG(int, warmup, 10, "graph: untimed calls of each query first.");
ABSL_FLAG(int, restarts, 5, "graph: timed restarts.");
ABSL_FLAG(int, scans, 5, "lookup: timed full scans.");

namespace georisk::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ServiceProcess;

constexpr absl::Duration kStartTimeout = absl::Minutes(10);
constexpr absl::Duration kStopTimeout = absl::Minutes(2);
constexpr int kMaxMessageBytes = 64 << 20;
constexpr int kTraverseDepth = 3;

// CPU time (user + system) in seconds of the calling thread (who =
// RUSAGE_THREAD) or of the whole process, RocksDB's threads included
// (RUSAGE_SELF).
double CpuSeconds(int who) {
  struct rusage usage;
  if (getrusage(who, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

void Progress(absl::string_view message) {
  georisk::bench::Progress("bench", message);
}

void ReportLatencies(absl::string_view name, const std::vector<double>& ms) {
  Result(absl::StrCat(name, "_calls"), static_cast<double>(ms.size()));
  Result(absl::StrCat(name, "_p50_ms"), Percentile(ms, 50));
  Result(absl::StrCat(name, "_p99_ms"), Percentile(ms, 99));
  Result(absl::StrCat(name, "_max_ms"), Percentile(ms, 100));
}

// The status of an RPC, its message prefixed with the RPC's name.
absl::Status FromGrpc(const grpc::Status& s, absl::string_view rpc) {
  absl::Status status = common::FromGrpcStatus(s);
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(rpc, ": ", status.message()));
}

absl::StatusOr<std::unique_ptr<storage::RocksDbGraphStore>> OpenStore(
    const std::string& path) {
  storage::RocksDbGraphStoreOptions options;
  options.path = path;
  options.sync = false;  // WAL on, no fsync: as `graphstore --sync=false`.
  return storage::RocksDbGraphStore::Open(options);
}

// The mutations upserting entities [first, first + count).
std::vector<v1::Mutation> EntityBatch(int64_t first, int64_t count) {
  std::vector<v1::Mutation> batch(count);
  for (int64_t i = 0; i < count; ++i) {
    *batch[i].mutable_upsert_entity() = MakeEntity(first + i);
  }
  return batch;
}

// Checks that every mutation of a batch was applied.
absl::Status CheckApplied(int applied, size_t expected,
                          absl::string_view what) {
  if (applied != static_cast<int>(expected)) {
    return absl::InternalError(absl::StrCat(what, ": ", applied, " of ",
                                            expected, " mutations applied"));
  }
  return absl::OkStatus();
}

// Upserts entities [0, entities) in batches; `decorate`, when set, adds to
// each entity (its index given) before it is sent.
absl::Status CreateEntities(
    storage::GraphStore& store, int64_t entities,
    const std::function<void(int64_t, v1::Entity*)>& decorate = nullptr) {
  const int64_t step = absl::GetFlag(FLAGS_build_batch);
  for (int64_t first = 0; first < entities; first += step) {
    std::vector<v1::Mutation> batch =
        EntityBatch(first, std::min(step, entities - first));
    if (decorate) {
      for (size_t i = 0; i < batch.size(); ++i) {
        decorate(first + static_cast<int64_t>(i),
                 batch[i].mutable_upsert_entity());
      }
    }
    ASSIGN_OR_RETURN(storage::ApplyResult r, store.Apply(batch, "bench"));
    RETURN_IF_ERROR(
        CheckApplied(std::count(r.outcomes.begin(), r.outcomes.end(),
                                storage::MutationOutcome::kApplied),
                     batch.size(), "creating entities"));
  }
  return absl::OkStatus();
}

// The apply workload: distinct SUPPLIES edges between uniformly chosen
// pre-created entities, in batches.
std::vector<std::vector<v1::Edge>> ApplyWorkload(int64_t entities,
                                                 int64_t edges, int batch) {
  SupplyGraph graph({.entities = entities,
                     .edges = edges,
                     .owns_share = 0,
                     .operates_share = 0,
                     .skew = 1.0,
                     .fanout_degree = 0,
                     .seed = 7});
  std::vector<std::vector<v1::Edge>> batches;
  std::vector<v1::Edge> next;
  while (graph.NextEdges(batch, &next)) batches.push_back(std::move(next));
  return batches;
}

std::unique_ptr<v1::GraphStore::Stub> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  return v1::GraphStore::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

// Starts the graphstore binary on `data_dir` and waits until it is SERVING;
// `*ms` receives the time from just before exec to SERVING.
absl::StatusOr<std::unique_ptr<ServiceProcess>> StartServer(
    const std::string& work_dir, const std::string& data_dir,
    std::vector<std::string> extra_args, double* ms) {
  std::vector<std::string> args = {"--data_dir=" + data_dir,
                                   "--log_level=warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> server,
      ServiceProcess::Start({.binary = absl::GetFlag(FLAGS_graphstore),
                             .args = args,
                             .work_dir = work_dir,
                             .start_timeout = kStartTimeout}));
  absl::Status serving =
      common::WaitForServing(server->address(), "", absl::Seconds(60));
  if (!serving.ok()) {
    return absl::Status(
        serving.code(),
        absl::StrCat(serving.message(), "; log:\n", server->Log()));
  }
  *ms = MillisSince(start);
  return server;
}

// SIGTERM, and checks the exit code; `*ms` receives the time to exit.
absl::Status StopServer(ServiceProcess& server, double* ms) {
  const Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(int code, server.Stop(SIGTERM, kStopTimeout));
  *ms = MillisSince(start);
  if (code != 0) {
    return absl::InternalError(absl::StrCat(
        "graphstore exited with ", code, " on SIGTERM; log:\n", server.Log()));
  }
  return absl::OkStatus();
}

// --mode=sizes -------------------------------------------------------------

absl::Status RunSizes() {
  const int64_t entities = absl::GetFlag(FLAGS_entities);
  const std::vector<std::vector<v1::Edge>> batches = ApplyWorkload(
      entities, std::min<int64_t>(absl::GetFlag(FLAGS_edges), 10'000),
      absl::GetFlag(FLAGS_batch));
  // The sequences the edges get: after the entity batches, about 1,000.
  const int64_t sequence = 1000;
  double key_bytes = 0, value_bytes = 0, n = 0;
  for (const auto& batch : batches) {
    for (v1::Edge e : batch) {
      // docs/storage.md: partition | from | 0 | kind | to | 0 | product.
      key_bytes += 2 + e.from_id().size() + 1 + 1 + e.to_id().size() + 1 +
                   e.product_code().size();
      e.set_update_sequence(sequence);  // The stored tail (field 20).
      value_bytes += static_cast<double>(e.ByteSizeLong());
      ++n;
    }
  }
  Result("edge_key_bytes", key_bytes / n);
  Result("edge_value_bytes", value_bytes / n);
  return absl::OkStatus();
}

// --mode=apply -------------------------------------------------------------

absl::Status RunApplyLibrary(const std::string& dir, int64_t entities,
                             const std::vector<std::vector<v1::Edge>>& edges) {
  ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                   OpenStore(dir + "/graph"));
  RETURN_IF_ERROR(CreateEntities(*store, entities));
  std::vector<std::vector<v1::Mutation>> batches;
  batches.reserve(edges.size());
  for (const std::vector<v1::Edge>& batch : edges) {
    std::vector<v1::Mutation>& m = batches.emplace_back(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      *m[i].mutable_upsert_edge() = batch[i];
    }
  }
  Progress("apply/library: timing");
  std::vector<double> batch_ms;
  batch_ms.reserve(batches.size());
  int64_t applied = 0, sent = 0;
  const double thread_cpu = CpuSeconds(RUSAGE_THREAD);
  const double process_cpu = CpuSeconds(RUSAGE_SELF);
  const Clock::time_point start = Clock::now();
  for (const std::vector<v1::Mutation>& batch : batches) {
    const Clock::time_point t = Clock::now();
    ASSIGN_OR_RETURN(storage::ApplyResult r, store->Apply(batch, "bench"));
    batch_ms.push_back(MillisSince(t));
    sent += static_cast<int64_t>(batch.size());
    applied += std::count(r.outcomes.begin(), r.outcomes.end(),
                          storage::MutationOutcome::kApplied);
  }
  const double seconds = MillisSince(start) / 1000;
  // CPU per edge: unlike edges/s, barely moved by other work on the machine.
  // The commit thread's share is what bounds one writer on an idle machine.
  const double thread_cpu_us =
      (CpuSeconds(RUSAGE_THREAD) - thread_cpu) * 1e6 / applied;
  const double process_cpu_us =
      (CpuSeconds(RUSAGE_SELF) - process_cpu) * 1e6 / applied;
  RETURN_IF_ERROR(CheckApplied(static_cast<int>(applied),
                               static_cast<size_t>(sent), "apply"));
  Result("apply_library_edges", static_cast<double>(applied));
  Result("apply_library_commit_thread_cpu_us_per_edge", thread_cpu_us);
  Result("apply_library_process_cpu_us_per_edge", process_cpu_us);
  Result("apply_library_seconds", seconds);
  Result("apply_library_edges_per_s", static_cast<double>(applied) / seconds);
  Result("apply_library_batch_p50_ms", Percentile(batch_ms, 50));
  Result("apply_library_batch_p99_ms", Percentile(batch_ms, 99));
  return absl::OkStatus();
}

absl::Status RunApplyGrpc(const std::string& dir, int64_t entities,
                          const std::vector<std::vector<v1::Edge>>& edges) {
  double start_ms = 0;
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> server,
      StartServer(dir, dir + "/data", {"--sync=false"}, &start_ms));
  std::unique_ptr<v1::GraphStore::Stub> stub = Connect(server->address());
  auto apply = [&](const v1::ApplyRequest& request,
                   v1::ApplyResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
    return FromGrpc(stub->Apply(&context, request, response), "Apply");
  };
  const int64_t step = absl::GetFlag(FLAGS_build_batch);
  for (int64_t first = 0; first < entities; first += step) {
    v1::ApplyRequest request;
    request.set_origin("bench");
    for (v1::Mutation& m :
         EntityBatch(first, std::min(step, entities - first))) {
      *request.add_mutations() = std::move(m);
    }
    v1::ApplyResponse response;
    RETURN_IF_ERROR(apply(request, &response));
  }
  std::vector<v1::ApplyRequest> requests(edges.size());
  for (size_t b = 0; b < edges.size(); ++b) {
    requests[b].set_origin("bench");
    for (const v1::Edge& e : edges[b]) {
      *requests[b].add_mutations()->mutable_upsert_edge() = e;
    }
  }
  Progress("apply/grpc: timing");
  std::vector<double> batch_ms;
  batch_ms.reserve(requests.size());
  int64_t applied = 0, sent = 0;
  const Clock::time_point start = Clock::now();
  for (const v1::ApplyRequest& request : requests) {
    const Clock::time_point t = Clock::now();
    v1::ApplyResponse response;
    RETURN_IF_ERROR(apply(request, &response));
    batch_ms.push_back(MillisSince(t));
    sent += request.mutations_size();
    applied +=
        std::count(response.outcomes().begin(), response.outcomes().end(),
                   v1::MUTATION_OUTCOME_APPLIED);
  }
  const double seconds = MillisSince(start) / 1000;
  RETURN_IF_ERROR(CheckApplied(static_cast<int>(applied),
                               static_cast<size_t>(sent), "apply"));
  Result("apply_grpc_edges", static_cast<double>(applied));
  Result("apply_grpc_seconds", seconds);
  Result("apply_grpc_edges_per_s", static_cast<double>(applied) / seconds);
  Result("apply_grpc_batch_p50_ms", Percentile(batch_ms, 50));
  Result("apply_grpc_batch_p99_ms", Percentile(batch_ms, 99));
  double stop_ms = 0;
  return StopServer(*server, &stop_ms);
}

absl::Status RunApply(const std::string& dir) {
  const int64_t entities = absl::GetFlag(FLAGS_entities);
  const std::vector<std::vector<v1::Edge>> edges = ApplyWorkload(
      entities, absl::GetFlag(FLAGS_edges), absl::GetFlag(FLAGS_batch));
  const std::string transport = absl::GetFlag(FLAGS_transport);
  if (transport == "library") return RunApplyLibrary(dir, entities, edges);
  if (transport == "grpc") return RunApplyGrpc(dir, entities, edges);
  return absl::InvalidArgumentError("--transport: library or grpc");
}

// --mode=graph -------------------------------------------------------------

// Bytes of the files in `dir` whose names end in `suffix` (".log": the
// write-ahead log; ".sst": tables).
double MiBOfFiles(const std::string& dir, absl::string_view suffix) {
  std::error_code error;
  uintmax_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(),
                     std::string(suffix)) == 0) {
      bytes += entry.file_size(error);
    }
  }
  return static_cast<double>(bytes) / (1 << 20);
}

// Builds the graph through the library; leaves the out-degrees in `graph`.
absl::Status BuildGraph(const std::string& path, SupplyGraph& graph) {
  ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                   OpenStore(path));
  const int64_t entities = graph.options().entities;
  const Clock::time_point start = Clock::now();
  RETURN_IF_ERROR(CreateEntities(*store, entities));
  const double entities_s = MillisSince(start) / 1000;
  Progress(
      absl::StrFormat("graph: %d entities in %.1f s", entities, entities_s));

  const Clock::time_point edges_start = Clock::now();
  std::vector<v1::Edge> edges;
  std::vector<v1::Mutation> batch;
  double apply_s = 0;
  int64_t done = 0, next_report = 1'000'000;
  while (graph.NextEdges(absl::GetFlag(FLAGS_build_batch), &edges)) {
    batch.resize(edges.size());
    for (size_t i = 0; i < edges.size(); ++i) {
      *batch[i].mutable_upsert_edge() = std::move(edges[i]);
    }
    const Clock::time_point t = Clock::now();
    ASSIGN_OR_RETURN(storage::ApplyResult r, store->Apply(batch, "bench"));
    apply_s += MillisSince(t) / 1000;
    RETURN_IF_ERROR(
        CheckApplied(std::count(r.outcomes.begin(), r.outcomes.end(),
                                storage::MutationOutcome::kApplied),
                     batch.size(), "building edges"));
    done += static_cast<int64_t>(batch.size());
    if (done >= next_report) {
      Progress(absl::StrFormat("graph: %d edges, %.0f s", done,
                               MillisSince(edges_start) / 1000));
      next_report += 1'000'000;
    }
  }
  const double edges_s = MillisSince(edges_start) / 1000;
  ASSIGN_OR_RETURN(storage::StoreStats stats, store->GetStats());
  const Clock::time_point close_start = Clock::now();
  store.reset();
  const double close_s = MillisSince(close_start) / 1000;
  Result("graph_entities", static_cast<double>(stats.entity_count));
  Result("graph_edges", static_cast<double>(stats.edge_count));
  Result("graph_build_entities_s", entities_s);
  Result("graph_build_edges_s", edges_s);
  Result("graph_build_edges_apply_s", apply_s);
  Result("graph_build_close_s", close_s);
  Result("graph_build_total_s", MillisSince(start) / 1000);
  Result("graph_disk_mib", static_cast<double>(stats.disk_bytes) / (1 << 20));
  // What the next open has to replay, and what is already in tables.
  Result("graph_wal_mib_at_close", MiBOfFiles(path, ".log"));
  Result("graph_sst_mib_at_close", MiBOfFiles(path, ".sst"));
  const auto& degree = graph.out_degree();
  Result("graph_max_out_degree",
         *std::max_element(degree.begin(), degree.end()));
  if (stats.entity_count != entities ||
      stats.edge_count != graph.options().edges) {
    return absl::InternalError(absl::StrCat(
        "built ", stats.entity_count, " entities and ", stats.edge_count,
        " edges; wanted ", entities, " and ", graph.options().edges));
  }
  return absl::OkStatus();
}

absl::Status CheckServedCounts(v1::GraphStore::Stub& stub,
                               const SupplyGraphOptions& options) {
  grpc::ClientContext context;
  v1::GetStatsResponse stats;
  RETURN_IF_ERROR(FromGrpc(
      stub.GetStats(&context, v1::GetStatsRequest(), &stats), "GetStats"));
  if (stats.entity_count() != options.entities ||
      stats.edge_count() != options.edges) {
    return absl::InternalError(
        absl::StrCat("the server reports ", stats.entity_count(),
                     " entities and ", stats.edge_count(), " edges; built ",
                     options.entities, " and ", options.edges));
  }
  return absl::OkStatus();
}

// Every page of the fan-out entity's outbound edges; returns how many.
absl::StatusOr<int> ListAllEdges(v1::GraphStore::Stub& stub,
                                 const std::string& id) {
  v1::ListEdgesRequest request;
  request.set_entity_id(id);
  request.set_direction(v1::DIRECTION_OUTBOUND);
  request.set_page_size(1000);
  int total = 0;
  do {
    grpc::ClientContext context;
    v1::ListEdgesResponse response;
    RETURN_IF_ERROR(
        FromGrpc(stub.ListEdges(&context, request, &response), "ListEdges"));
    total += response.edges_size();
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return total;
}

absl::Status TimeQueries(v1::GraphStore::Stub& stub, const SupplyGraph& graph) {
  const int queries = absl::GetFlag(FLAGS_queries);
  const int warmup = absl::GetFlag(FLAGS_warmup);

  std::vector<double> list_ms;
  for (int i = 0; i < warmup + queries; ++i) {
    const Clock::time_point t = Clock::now();
    ASSIGN_OR_RETURN(int n, ListAllEdges(stub, graph.fanout_entity_id()));
    if (i >= warmup) list_ms.push_back(MillisSince(t));
    if (n != graph.options().fanout_degree) {
      return absl::InternalError(absl::StrCat(
          "ListEdges of ", graph.fanout_entity_id(), " gave ", n, " edges"));
    }
  }
  ReportLatencies("list_edges_1000", list_ms);

  // Start entities: uniform over those with at least one out-edge.
  std::vector<int64_t> candidates;
  const auto& degree = graph.out_degree();
  for (size_t i = 0; i < degree.size(); ++i) {
    if (degree[i] > 0) candidates.push_back(static_cast<int64_t>(i));
  }
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<size_t> pick(0, candidates.size() - 1);
  std::vector<double> traverse_ms, reached;
  int truncated = 0;
  for (int i = 0; i < warmup + queries; ++i) {
    v1::TraverseRequest request;
    request.add_start_ids(EntityId(candidates[pick(rng)]));
    request.set_direction(v1::DIRECTION_OUTBOUND);
    request.set_max_depth(kTraverseDepth);  // max_entities: the default.
    grpc::ClientContext context;
    v1::TraverseResponse response;
    const Clock::time_point t = Clock::now();
    RETURN_IF_ERROR(
        FromGrpc(stub.Traverse(&context, request, &response), "Traverse"));
    if (i < warmup) continue;
    traverse_ms.push_back(MillisSince(t));
    reached.push_back(response.entities_size());
    truncated += response.truncated();
  }
  ReportLatencies("traverse_3hop", traverse_ms);
  Result("traverse_3hop_entities_p50", Percentile(reached, 50));
  Result("traverse_3hop_entities_p99", Percentile(reached, 99));
  Result("traverse_3hop_truncated", truncated);
  return absl::OkStatus();
}

absl::Status RunGraph(const std::string& dir) {
  SupplyGraph graph({.entities = absl::GetFlag(FLAGS_entities),
                     .edges = absl::GetFlag(FLAGS_edges)});
  const std::string data_dir = dir + "/data";
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", data_dir, ": ", error.message()));
  }
  RETURN_IF_ERROR(BuildGraph(data_dir + "/graph", graph));

  double ms = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> server,
                   StartServer(dir, data_dir, {}, &ms));
  Result("first_start_to_serving_ms", ms);
  {
    std::unique_ptr<v1::GraphStore::Stub> stub = Connect(server->address());
    RETURN_IF_ERROR(CheckServedCounts(*stub, graph.options()));
    RETURN_IF_ERROR(TimeQueries(*stub, graph));
  }

  std::vector<double> start_ms, stop_ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_restarts); ++i) {
    RETURN_IF_ERROR(StopServer(*server, &ms));
    stop_ms.push_back(ms);
    ASSIGN_OR_RETURN(server, StartServer(dir, data_dir, {}, &ms));
    start_ms.push_back(ms);
    Progress(
        absl::StrFormat("restart %d: stop %.0f ms, start to SERVING %.0f ms",
                        i + 1, stop_ms.back(), ms));
  }
  std::unique_ptr<v1::GraphStore::Stub> stub = Connect(server->address());
  RETURN_IF_ERROR(CheckServedCounts(*stub, graph.options()));
  Result("restarts", static_cast<double>(start_ms.size()));
  Result("restart_to_serving_median_ms", Percentile(start_ms, 50));
  Result("restart_to_serving_min_ms",
         *std::min_element(start_ms.begin(), start_ms.end()));
  Result("restart_to_serving_max_ms", Percentile(start_ms, 100));
  Result("stop_median_ms", Percentile(stop_ms, 50));
  return StopServer(*server, &ms);
}

// --mode=bulkload ----------------------------------------------------------

absl::Status RunBulkLoad(const std::string& dir) {
  SupplyGraph graph({.entities = absl::GetFlag(FLAGS_entities),
                     .edges = absl::GetFlag(FLAGS_edges)});
  const int64_t entities = graph.options().entities;
  Progress("bulkload: building the mutations in memory");
  std::vector<v1::Mutation> load;
  load.reserve(entities + graph.options().edges);
  for (int64_t i = 0; i < entities; ++i) {
    *load.emplace_back().mutable_upsert_entity() = MakeEntity(i);
  }
  std::vector<v1::Edge> edges;
  while (graph.NextEdges(100'000, &edges)) {
    for (v1::Edge& e : edges) {
      *load.emplace_back().mutable_upsert_edge() = std::move(e);
    }
  }
  const std::string path = dir + "/graph";
  ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                   OpenStore(path));
  Progress("bulkload: timing");
  const double process_cpu = CpuSeconds(RUSAGE_SELF);
  const Clock::time_point start = Clock::now();
  storage::BulkLoadOptions options;
  options.work_dir = dir + "/bulkload";
  ASSIGN_OR_RETURN(std::unique_ptr<storage::BulkLoader> loader,
                   storage::BulkLoader::Start(store.get(), options));
  std::vector<const v1::Mutation*> batch;
  for (size_t first = 0; first < load.size(); first += 100'000) {
    batch.clear();
    for (size_t i = first; i < std::min(load.size(), first + 100'000); ++i) {
      batch.push_back(&load[i]);
    }
    RETURN_IF_ERROR(loader->AddBatch(batch));
  }
  const double add_s = MillisSince(start) / 1000;
  ASSIGN_OR_RETURN(storage::BulkLoadResult result, loader->Finish());
  const double seconds = MillisSince(start) / 1000;
  const double cpu_s = CpuSeconds(RUSAGE_SELF) - process_cpu;
  loader.reset();
  if (!result.rejections.empty() ||
      result.applied != static_cast<int64_t>(load.size())) {
    return absl::InternalError(absl::StrCat(
        "bulkload: ", result.applied, " of ", load.size(),
        " mutations applied, ", result.rejections.size(), " rejected"));
  }
  ASSIGN_OR_RETURN(storage::StoreStats stats, store->GetStats());
  store.reset();
  // What a restart sees.
  ASSIGN_OR_RETURN(store, OpenStore(path));
  ASSIGN_OR_RETURN(storage::StoreStats reopened, store->GetStats());
  if (stats.entity_count != entities ||
      stats.edge_count != graph.options().edges ||
      reopened.entity_count != entities ||
      reopened.edge_count != graph.options().edges ||
      reopened.last_sequence != 1) {
    return absl::InternalError(absl::StrCat(
        "bulkload: the store holds ", reopened.entity_count, " entities and ",
        reopened.edge_count, " edges at sequence ", reopened.last_sequence,
        "; wanted ", entities, " and ", graph.options().edges, " at 1"));
  }
  const double keys = static_cast<double>(result.keys);
  Result("bulkload_mutations", static_cast<double>(result.mutations));
  Result("bulkload_entities", static_cast<double>(reopened.entity_count));
  Result("bulkload_edges", static_cast<double>(reopened.edge_count));
  Result("bulkload_keys", keys);
  Result("bulkload_key_bytes", static_cast<double>(result.key_bytes) / keys);
  Result("bulkload_value_bytes",
         static_cast<double>(result.value_bytes) / keys);
  Result("bulkload_file_mib",
         static_cast<double>(result.file_bytes) / (1 << 20));
  Result("bulkload_add_s", add_s);
  Result("bulkload_write_s", absl::ToDoubleSeconds(result.write_time));
  Result("bulkload_ingest_s", absl::ToDoubleSeconds(result.ingest_time));
  Result("bulkload_seconds", seconds);
  Result("bulkload_process_cpu_s", cpu_s);
  Result("bulkload_keys_per_s", keys / seconds);
  Result("bulkload_mutations_per_s",
         static_cast<double>(result.mutations) / seconds);
  return absl::OkStatus();
}

// A valid LEI for `index`: "5493" (a real LOU prefix), the index as 14
// digits, then the ISO 7064 MOD 97-10 check digits.
std::string SyntheticLei(int64_t index) {
  const std::string body = absl::StrFormat("5493%014d", index);
  int remainder = 0;
  for (char c : body + "00") remainder = (remainder * 10 + (c - '0')) % 97;
  return absl::StrFormat("%s%02d", body, 98 - remainder);
}

// Entities [0, entities), each with SyntheticLei(index) and a CSL entity
// number.
absl::Status CreateIdentifiedEntities(storage::GraphStore& store,
                                      int64_t entities) {
  return CreateEntities(store, entities, [](int64_t i, v1::Entity* e) {
    (*e->mutable_identifiers())["lei"] = SyntheticLei(i);
    (*e->mutable_identifiers())["csl_entity_number"] = absl::StrCat(i + 1);
  });
}

// The ids of the entities whose LEI is `lei`, by reading every entity: the
// question LookupByIdentifier answers, without the index.
absl::StatusOr<std::vector<std::string>> ScanForLei(storage::GraphStore& store,
                                                    const std::string& lei) {
  ASSIGN_OR_RETURN(resolve::Identifier wanted,
                   resolve::NormalizeIdentifier("lei", lei, ""));
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store.ExportSnapshot(
      [&](storage::SnapshotChunk& chunk) {
        for (const v1::Entity& e : chunk.entities) {
          auto it = e.identifiers().find("lei");
          if (it == e.identifiers().end()) continue;
          absl::StatusOr<resolve::Identifier> id =
              resolve::NormalizeIdentifier("lei", it->second, e.country());
          if (id.ok() && id->value == wanted.value) ids.push_back(e.id());
        }
        return absl::OkStatus();
      },
      0));
  return ids;
}

// Drops the `identifiers` column family and its meta key, as a database
// written before the index.
absl::Status DropIdentifierIndex(const std::string& path) {
  std::vector<std::string> names;
  rocksdb::Status s =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &raw);
  if (!s.ok()) return absl::InternalError(s.ToString());
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() == "identifiers" && s.ok()) s = raw->DropColumnFamily(h);
    if (h->GetName() == "meta" && s.ok()) {
      s = raw->Delete(rocksdb::WriteOptions(), h, "identifier_index");
    }
  }
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    raw->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  delete raw;
  return s.ok() ? absl::OkStatus() : absl::InternalError(s.ToString());
}

absl::Status RunLookup(const std::string& dir) {
  const int64_t entities = absl::GetFlag(FLAGS_entities);
  const std::string path = dir + "/graph";
  {
    ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                     OpenStore(path));
    Progress(absl::StrCat("creating ", entities, " entities with an LEI"));
    RETURN_IF_ERROR(CreateIdentifiedEntities(*store, entities));
  }
  // Open with the index present, then with it dropped: the difference is
  // the build.
  auto time_open = [&]() -> absl::StatusOr<double> {
    const Clock::time_point start = Clock::now();
    ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                     OpenStore(path));
    const double ms = MillisSince(start);
    return ms;
  };
  ASSIGN_OR_RETURN(const double open_ms, time_open());
  RETURN_IF_ERROR(DropIdentifierIndex(path));
  Progress("opening a database without the index: Open builds it");
  ASSIGN_OR_RETURN(const double build_open_ms, time_open());
  Result("lookup_entities", static_cast<double>(entities));
  Result("lookup_open_ms", open_ms);
  Result("lookup_open_building_index_ms", build_open_ms);

  ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                   OpenStore(path));
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> pick(0, entities - 1);
  const int queries = absl::GetFlag(FLAGS_queries);
  std::vector<double> indexed_ms;
  for (int q = 0; q < absl::GetFlag(FLAGS_warmup) + queries; ++q) {
    const int64_t i = pick(rng);
    storage::IdentifierQuery query;
    query.scheme = "lei";
    query.value = SyntheticLei(i);
    const Clock::time_point start = Clock::now();
    ASSIGN_OR_RETURN(storage::IdentifierPage page,
                     store->LookupByIdentifier(query));
    const double ms = MillisSince(start);
    if (page.entities.size() != 1 || page.entities[0].id() != EntityId(i)) {
      return absl::InternalError(absl::StrCat("lookup of ", query.value,
                                              " did not find ", EntityId(i)));
    }
    if (q >= absl::GetFlag(FLAGS_warmup)) indexed_ms.push_back(ms);
  }
  ReportLatencies("lookup_indexed", indexed_ms);

  std::vector<double> scan_ms;
  for (int round = 0; round < absl::GetFlag(FLAGS_scans); ++round) {
    const int64_t i = pick(rng);
    const Clock::time_point start = Clock::now();
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     ScanForLei(*store, SyntheticLei(i)));
    scan_ms.push_back(MillisSince(start));
    if (ids.size() != 1 || ids[0] != EntityId(i)) {
      return absl::InternalError("the scan did not find its entity");
    }
  }
  ReportLatencies("lookup_scan", scan_ms);
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (mode == "sizes") return RunSizes();
  if (dir.empty()) return absl::InvalidArgumentError("--dir: required");
  if ((mode == "graph" || absl::GetFlag(FLAGS_transport) == "grpc") &&
      absl::GetFlag(FLAGS_graphstore).empty()) {
    return absl::InvalidArgumentError("--graphstore: required");
  }
  if (absl::GetFlag(FLAGS_queries) < 1 || absl::GetFlag(FLAGS_restarts) < 1) {
    return absl::InvalidArgumentError("--queries, --restarts: at least 1");
  }
  if (mode == "apply") return RunApply(dir);
  if (mode == "graph") return RunGraph(dir);
  if (mode == "lookup") return RunLookup(dir);
  if (mode == "bulkload") return RunBulkLoad(dir);
  return absl::InvalidArgumentError(
      "--mode: sizes, apply, bulkload, graph or lookup");
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status s = georisk::bench::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "graphstore_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
