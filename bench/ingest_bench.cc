// ingest_bench: the measurements behind bench/ingest_run.sh (issue 4's
// benchmark). Each --mode prints its figures as "RESULT <name>=<value>" lines
// on stdout (progress goes to stderr) and exits non-zero on any error, after
// stopping every process it started (tests/testing/process.h: port files,
// PR_SET_PDEATHSIG).
//
//   --mode=generate  writes --records georisk JSON Lines records
//                    (docs/formats.md) to --out, deterministically: 40%
//                    entities (companies and facilities, bench/supply_graph.h),
//                    then 55% SUPPLIES edges between them with 5% signals
//                    (export controls, tariffs, tension) spread among them.
//   --mode=apply     graphstore's own Apply throughput: parses --file (before
//                    timing) into GraphStore.Apply batches of --batch records
//                    in file order and sends them, one call at a time, over
//                    loopback gRPC to a fresh `graphstore --sync=false`.
//   --mode=import    end to end: a fresh `graphstore --sync=false` and an
//                    `ingest` in front of it, then `georiskctl import --file`
//                    timed as a whole (process start to exit, parsing
//                    included); its summary must say every record was
//                    accepted and none rejected. With --shards=N (N > 1):
//                    N graphstore shards under the even partition map
//                    (docs/scale-out.md), ingest routing to them
//                    (--graphstore_shards), the counts summed over the
//                    shards, and each shard's figures reported.
//
// --entities and --edges (generate): a graph of that size (the bench graph
// of the other benchmarks, 100k/500k or 1M/5M) with 5% signals added,
// instead of --records' 40/55/5 shares.
//
// Both timed modes check graphstore's counts afterwards and report where the
// time went: CPU seconds of each process over the timed part, and the time
// graphstore spent inside Apply (its grpc_server_handling_seconds).
//
// Not a test: bench/ingest_run.sh runs it with the right flags.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "bench/bench_output.h"
#include "bench/supply_graph.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "services/common/grpc_probe.h"
#include "services/common/grpc_status.h"
#include "storage/partition_map.h"
#include "tests/testing/process.h"

ABSL_FLAG(std::string, mode, "", "generate, apply or import.");
ABSL_FLAG(int64_t, records, 1'000'000, "generate: records to write.");
ABSL_FLAG(int64_t, entities, 0,
          "generate: entities to write (with --edges; 0: --records' share).");
ABSL_FLAG(int64_t, edges, 0,
          "generate: SUPPLIES edges to write (with --entities).");
ABSL_FLAG(int, shards, 1,
          "import: graphstore shards behind ingest (1: one unpartitioned "
          "graphstore, as before).");
ABSL_FLAG(std::string, out, "", "generate: the JSON Lines file to write.");
ABSL_FLAG(std::string, file, "", "apply, import: the JSON Lines file.");
ABSL_FLAG(std::string, dir, "", "Scratch directory, which must exist.");
ABSL_FLAG(std::string, graphstore, "", "Path of the graphstore binary.");
ABSL_FLAG(std::string, ingest, "", "import: path of the ingest binary.");
ABSL_FLAG(std::string, georiskctl, "", "import: path of georiskctl.");
ABSL_FLAG(int, batch, 1000, "apply: records per Apply call.");
ABSL_FLAG(std::string, graphstore_flags, "--sync=false",
          "Flags of graphstore (space-separated), besides --data_dir.");
ABSL_FLAG(std::string, ingest_flags, "",
          "import: more flags of ingest (space-separated), e.g. "
          "--batch_size=2000.");
ABSL_FLAG(std::string, import_flags, "",
          "import: more flags of `georiskctl import` (space-separated), e.g. "
          "--records_per_message=1000.");

namespace georisk::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ServiceProcess;

constexpr absl::Duration kStartTimeout = absl::Minutes(2);
constexpr absl::Duration kStopTimeout = absl::Minutes(2);
constexpr absl::Duration kImportTimeout = absl::Minutes(60);
constexpr int kMaxMessageBytes = 64 << 20;

// Shares of the generated file, in percent; edges get the rest.
constexpr int64_t kEntityPercent = 40;
constexpr int64_t kSignalPercent = 5;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Progress(absl::string_view message) {
  georisk::bench::Progress("ingest_bench", message);
}

std::vector<std::string> SplitFlags(const std::string& flags) {
  return absl::StrSplit(flags, ' ', absl::SkipEmpty());
}

// CPU seconds (user + system, all threads) a running process has used.
double ProcessCpuSeconds(pid_t pid) {
  std::string stat =
      testing::ReadFile(absl::StrCat("/proc/", pid, "/stat")).value_or("");
  // Fields after the command name, which is in parentheses: state is field
  // 3, utime 14, stime 15.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  if (fields.size() < 13) return 0;
  int64_t utime = 0, stime = 0;
  (void)absl::SimpleAtoi(fields[11], &utime);
  (void)absl::SimpleAtoi(fields[12], &stime);
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of the children reaped so far.
double ReapedChildrenCpuSeconds() {
  struct rusage usage;
  if (getrusage(RUSAGE_CHILDREN, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The value of the Prometheus sample `name` whose labels contain `label`
// (e.g. grpc_method="Apply"), from the process's /metrics; 0 if absent.
double MetricValue(const ServiceProcess& process, absl::string_view name,
                   absl::string_view label) {
  absl::StatusOr<testing::HttpResult> page =
      testing::HttpGet(process.metrics_port(), "/metrics");
  if (!page.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(page->body, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    const absl::string_view rest = line.substr(name.size());
    if (!rest.empty() && rest[0] != ' ' && rest[0] != '{') continue;
    if (!label.empty() && !absl::StrContains(rest, label)) continue;
    double value = 0;
    (void)absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value);
    return value;
  }
  return 0;
}

// Seconds graphstore spent inside Apply calls, its own view.
double GraphstoreApplySeconds(const ServiceProcess& graphstore) {
  return MetricValue(graphstore, "grpc_server_handling_seconds_sum",
                     "grpc_method=\"Apply\"");
}

// --mode=generate ---------------------------------------------------------

struct Plan {
  int64_t entities;
  int64_t edges;
  int64_t signals;
};

Plan PlanOf(int64_t records) {
  Plan plan;
  plan.entities = records * kEntityPercent / 100;
  plan.signals = records * kSignalPercent / 100;
  plan.edges = records - plan.entities - plan.signals;
  return plan;
}

constexpr const char* kAuthorities[] = {"US-BIS", "US-OFAC", "EU", "UK-OFSI",
                                        "JP-METI"};
constexpr const char* kLists[] = {"EL", "SDN", "MEU", "UVL"};
constexpr const char* kCountries[] = {"CN", "RU", "IR", "KP", "VN", "MY"};
constexpr const char* kHsPrefixes[] = {"8541", "8542", "854231", "8486",
                                       "850760"};

// Entity `index` of the file: supply_graph's, with some of the optional
// fields real data carries.
v1::Entity FileEntity(int64_t index) {
  v1::Entity e = MakeEntity(index);
  if (IsFacilityIndex(index)) {
    e.mutable_location()->set_latitude(-60 + (index * 37 % 12000) / 100.0);
    e.mutable_location()->set_longitude(-180 + (index * 53 % 36000) / 100.0);
    e.add_product_codes(kHsPrefixes[index % 5]);
  } else {
    if (index % 3 == 0) e.add_aliases(absl::StrCat("SynCo ", index));
    if (index % 4 == 1) {
      (*e.mutable_identifiers())["lei"] = absl::StrFormat("5493%014dXX", index);
    }
  }
  return e;
}

// Signal `n` of the file; export controls target entities of the file.
v1::Signal FileSignal(int64_t n, int64_t entities) {
  v1::Signal s;
  s.set_id(absl::StrFormat("signal/s%07d", n));
  const int64_t target = (n * 7919 + 13) % entities;
  const int pick = static_cast<int>(n % 20);
  s.mutable_effective_from()->set_seconds(1'700'000'000 + n * 3600);
  if (pick < 14) {  // 70%: a listing.
    v1::ExportControl* c = s.mutable_export_control();
    c->set_authority(kAuthorities[n % 5]);
    c->set_kind(v1::ExportControl::ENTITY_LISTING);
    c->add_target_ids(EntityId(target));
    c->set_severity(0.5 + (n % 50) / 100.0);
    c->set_list(kLists[n % 4]);
    s.set_title(absl::StrCat("Listing of ", EntityId(target)));
  } else if (pick < 16) {  // 10%: a facility authorization revoked.
    v1::ExportControl* c = s.mutable_export_control();
    c->set_authority("US-BIS");
    c->set_kind(v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED);
    c->add_target_ids(EntityId(target - target % 5));  // A facility.
    c->set_severity(0.7);
    c->set_list("VEU");
  } else if (pick < 17) {  // 5%: a destination control.
    v1::ExportControl* c = s.mutable_export_control();
    c->set_authority(kAuthorities[n % 5]);
    c->set_kind(v1::ExportControl::DESTINATION_CONTROL);
    c->add_destination_countries(kCountries[n % 6]);
    c->add_product_codes(kHsPrefixes[n % 5]);
    c->set_severity(0.6);
  } else if (pick < 19) {  // 10%: a tariff.
    v1::Tariff* t = s.mutable_tariff();
    t->set_programme(n % 2 ? "Section 301" : "IEEPA");
    t->set_importer_country("US");
    t->set_origin_country(kCountries[n % 6]);
    t->set_hs_prefix(kHsPrefixes[n % 5]);
    t->set_rate((n % 100) / 100.0);
  } else {  // 5%: a tension reading.
    v1::Tension* t = s.mutable_tension();
    t->set_theatre("cross_strait");
    t->set_level((n % 100) / 100.0);
    (*t->mutable_country_weights())["TW"] = 1.0;
    (*t->mutable_country_weights())["CN"] = 0.5;
  }
  s.set_source(absl::StrCat("https://data.example/signals/", n % 97));
  return s;
}

absl::Status AppendJson(const v1::Mutation& m, std::string* out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string line;
  const auto status =
      google::protobuf::util::MessageToJsonString(m, &line, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("MessageToJsonString: ", status.message().ToString()));
  }
  absl::StrAppend(out, line, "\n");
  return absl::OkStatus();
}

absl::Status RunGenerate() {
  int64_t records = absl::GetFlag(FLAGS_records);
  const std::string path = absl::GetFlag(FLAGS_out);
  if (path.empty()) return absl::InvalidArgumentError("--out: required");
  Plan plan = PlanOf(records);
  const int64_t want_entities = absl::GetFlag(FLAGS_entities);
  const int64_t want_edges = absl::GetFlag(FLAGS_edges);
  if ((want_entities > 0) != (want_edges > 0)) {
    return absl::InvalidArgumentError("--entities and --edges: give both");
  }
  if (want_entities > 0) {
    // The signals are kSignalPercent of all records.
    plan = {
        want_entities, want_edges,
        (want_entities + want_edges) * kSignalPercent / (100 - kSignalPercent)};
    records = plan.entities + plan.edges + plan.signals;
  }
  if (plan.entities < 10) {
    return absl::InvalidArgumentError("--records: at least 25");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  std::string chunk;
  auto flush = [&]() -> absl::Status {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.clear();
    if (!out) return absl::InternalError(absl::StrCat("writing ", path));
    return absl::OkStatus();
  };
  v1::Mutation m;
  for (int64_t i = 0; i < plan.entities; ++i) {
    *m.mutable_upsert_entity() = FileEntity(i);
    RETURN_IF_ERROR(AppendJson(m, &chunk));
    if (chunk.size() > (1 << 20)) RETURN_IF_ERROR(flush());
  }
  // The rest: edges, with the signals spread evenly among them.
  SupplyGraph graph({.entities = plan.entities,
                     .edges = plan.edges,
                     .owns_share = 0,
                     .operates_share = 0,
                     .fanout_degree = 0,
                     .seed = 4});
  std::vector<v1::Edge> edges;
  size_t next_edge = 0;
  const int64_t tail = plan.edges + plan.signals;
  int64_t signals = 0, edges_written = 0;
  for (int64_t j = 0; j < tail; ++j) {
    m.Clear();
    if ((j + 1) * plan.signals / tail > j * plan.signals / tail) {
      m.set_idempotency_key(absl::StrFormat("s%07d-v1", signals));
      *m.mutable_upsert_signal() = FileSignal(signals++, plan.entities);
    } else {
      if (next_edge == edges.size()) {
        next_edge = 0;
        if (!graph.NextEdges(10'000, &edges)) {
          return absl::InternalError("the graph ran out of edges");
        }
      }
      *m.mutable_upsert_edge() = std::move(edges[next_edge++]);
      ++edges_written;
    }
    RETURN_IF_ERROR(AppendJson(m, &chunk));
    if (chunk.size() > (1 << 20)) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  out.close();
  if (signals != plan.signals || edges_written != plan.edges) {
    return absl::InternalError("generated counts differ from the plan");
  }
  Result("generated_records", static_cast<double>(records));
  Result("generated_entities", static_cast<double>(plan.entities));
  Result("generated_edges", static_cast<double>(plan.edges));
  Result("generated_signals", static_cast<double>(plan.signals));
  Result("generated_bytes",
         static_cast<double>(std::filesystem::file_size(path)));
  return absl::OkStatus();
}

// Helpers of the timed modes -----------------------------------------------

// Counts of each kind of record in the file, by the line's first key.
absl::StatusOr<Plan> CountFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  Plan plan{0, 0, 0};
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "{\"upsert_entity\"")) {
      ++plan.entities;
    } else if (absl::StartsWith(line, "{\"upsert_edge\"")) {
      ++plan.edges;
    } else if (absl::StrContains(line.substr(0, 40), "\"upsert_signal\"")) {
      ++plan.signals;
    } else if (!absl::StripAsciiWhitespace(line).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": not a file of --mode=generate: ", line.substr(0, 80)));
    }
  }
  return plan;
}

std::unique_ptr<v1::GraphStore::Stub> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  return v1::GraphStore::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

// Prints the command line a ServiceProcess runs, for the record.
void PrintCommand(const std::string& binary,
                  const std::vector<std::string>& args, bool port_flags) {
  std::string line = absl::StrCat("$ ", binary);
  if (port_flags) {
    absl::StrAppend(&line,
                    " --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 "
                    "--port_file=...");
  }
  for (const std::string& a : args) absl::StrAppend(&line, " ", a);
  Progress(line);
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> StartService(
    const std::string& binary, const std::string& work_dir,
    std::vector<std::string> args) {
  args.push_back("--log_level=warning");
  PrintCommand(binary, args, /*port_flags=*/true);
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> p,
                   ServiceProcess::Start({.binary = binary,
                                          .args = args,
                                          .work_dir = work_dir,
                                          .start_timeout = kStartTimeout}));
  absl::Status serving =
      common::WaitForServing(p->address(), "", absl::Seconds(60));
  if (!serving.ok()) {
    return absl::Status(serving.code(),
                        absl::StrCat(serving.message(), "; log:\n", p->Log()));
  }
  return p;
}

// A fresh graphstore on `dir`/`data` with --graphstore_flags and `extra`.
absl::StatusOr<std::unique_ptr<ServiceProcess>> StartGraphstore(
    const std::string& dir, const std::string& data = "data",
    std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--data_dir=" + dir + "/" + data};
  for (std::string& f : SplitFlags(absl::GetFlag(FLAGS_graphstore_flags))) {
    args.push_back(std::move(f));
  }
  for (std::string& f : extra) args.push_back(std::move(f));
  return StartService(absl::GetFlag(FLAGS_graphstore), dir, std::move(args));
}

// The even map of `shards` shards in the flags' syntax: "0=0-341;1=...".
absl::StatusOr<std::string> EvenMapSpec(int shards) {
  ASSIGN_OR_RETURN(const storage::PartitionMap map,
                   storage::PartitionMap::Even(shards));
  std::vector<std::string> lines;
  for (int i = 0; i < shards; ++i) {
    lines.push_back(
        absl::StrCat(i, "=", storage::FormatPartitionRanges(map.RangesOf(i))));
  }
  return absl::StrJoin(lines, ";");
}

absl::Status Stop(ServiceProcess& p, absl::string_view name) {
  ASSIGN_OR_RETURN(int code, p.Stop(SIGTERM, kStopTimeout));
  if (code != 0) {
    return absl::InternalError(absl::StrCat(name, " exited with ", code,
                                            " on SIGTERM; log:\n", p.Log()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetStatsResponse> Stats(const ServiceProcess& graphstore) {
  std::unique_ptr<v1::GraphStore::Stub> stub = Connect(graphstore.address());
  grpc::ClientContext context;
  v1::GetStatsResponse stats;
  RETURN_IF_ERROR(common::FromGrpcStatus(
      stub->GetStats(&context, v1::GetStatsRequest(), &stats)));
  return stats;
}

// Checks the graphstores (the shards, or the one) hold exactly the file's
// records: each edge is counted once, on its out-copy's shard.
absl::Status CheckCounts(
    const std::vector<std::unique_ptr<ServiceProcess>>& graphstores,
    const Plan& plan) {
  v1::GetStatsResponse stats;
  for (const auto& graphstore : graphstores) {
    ASSIGN_OR_RETURN(const v1::GetStatsResponse one, Stats(*graphstore));
    stats.set_entity_count(stats.entity_count() + one.entity_count());
    stats.set_edge_count(stats.edge_count() + one.edge_count());
    stats.set_signal_count(stats.signal_count() + one.signal_count());
    stats.set_disk_bytes(stats.disk_bytes() + one.disk_bytes());
  }
  if (stats.entity_count() != plan.entities ||
      stats.edge_count() != plan.edges ||
      stats.signal_count() != plan.signals) {
    return absl::InternalError(
        absl::StrCat("graphstore holds ", stats.entity_count(), " entities, ",
                     stats.edge_count(), " edges, ", stats.signal_count(),
                     " signals; the file has ", plan.entities, ", ", plan.edges,
                     ", ", plan.signals));
  }
  Result("graph_disk_mib", static_cast<double>(stats.disk_bytes()) / (1 << 20));
  return absl::OkStatus();
}

void ReportPlan(const Plan& plan) {
  Result("records",
         static_cast<double>(plan.entities + plan.edges + plan.signals));
  Result("entities", static_cast<double>(plan.entities));
  Result("edges", static_cast<double>(plan.edges));
  Result("signals", static_cast<double>(plan.signals));
}

// --mode=apply ------------------------------------------------------------

absl::Status RunApply(const std::string& dir) {
  const std::string path = absl::GetFlag(FLAGS_file);
  const int batch = absl::GetFlag(FLAGS_batch);
  if (batch < 1) return absl::InvalidArgumentError("--batch: at least 1");
  // Parse the whole file first: this mode times Apply alone.
  const Clock::time_point parse_start = Clock::now();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<v1::ApplyRequest> requests;
  Plan plan{0, 0, 0};
  google::protobuf::util::JsonParseOptions json_options;
  json_options.ignore_unknown_fields = false;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (requests.empty() || requests.back().mutations_size() >= batch) {
      requests.emplace_back().set_origin("ingest_bench");
    }
    v1::Mutation* m = requests.back().add_mutations();
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, m, json_options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_number, ": ", status.message().ToString()));
    }
    plan.entities += m->has_upsert_entity();
    plan.edges += m->has_upsert_edge();
    plan.signals += m->has_upsert_signal();
  }
  const int64_t records = plan.entities + plan.edges + plan.signals;
  Result("parse_seconds", SecondsSince(parse_start));
  ReportPlan(plan);

  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> graphstore,
                   StartGraphstore(dir));
  std::unique_ptr<v1::GraphStore::Stub> stub = Connect(graphstore->address());
  Progress(absl::StrFormat("apply: timing %d records in %d calls", records,
                           requests.size()));
  std::vector<double> call_ms;
  call_ms.reserve(requests.size());
  int64_t applied = 0;
  const double server_apply_before = GraphstoreApplySeconds(*graphstore);
  const double graphstore_cpu_before = ProcessCpuSeconds(graphstore->pid());
  struct rusage self_before;
  getrusage(RUSAGE_SELF, &self_before);
  const Clock::time_point start = Clock::now();
  for (const v1::ApplyRequest& request : requests) {
    const Clock::time_point t = Clock::now();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(5)));
    v1::ApplyResponse response;
    RETURN_IF_ERROR(
        common::FromGrpcStatus(stub->Apply(&context, request, &response)));
    call_ms.push_back(SecondsSince(t) * 1000);
    applied +=
        std::count(response.outcomes().begin(), response.outcomes().end(),
                   v1::MUTATION_OUTCOME_APPLIED);
  }
  const double seconds = SecondsSince(start);
  const double graphstore_cpu =
      ProcessCpuSeconds(graphstore->pid()) - graphstore_cpu_before;
  struct rusage self_after;
  getrusage(RUSAGE_SELF, &self_after);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  const double client_cpu = tv(self_after.ru_utime) + tv(self_after.ru_stime) -
                            tv(self_before.ru_utime) - tv(self_before.ru_stime);
  const double server_apply =
      GraphstoreApplySeconds(*graphstore) - server_apply_before;
  if (applied != records) {
    return absl::InternalError(
        absl::StrCat(applied, " of ", records, " records APPLIED"));
  }
  std::vector<std::unique_ptr<ServiceProcess>> one;
  one.push_back(std::move(graphstore));
  RETURN_IF_ERROR(CheckCounts(one, plan));
  graphstore = std::move(one[0]);
  Result("apply_seconds", seconds);
  Result("apply_records_per_s", static_cast<double>(records) / seconds);
  Result("apply_call_p50_ms", Percentile(call_ms, 50));
  Result("apply_call_p99_ms", Percentile(call_ms, 99));
  Result("apply_graphstore_apply_seconds", server_apply);
  Result("apply_graphstore_cpu_seconds", graphstore_cpu);
  Result("apply_client_cpu_seconds", client_cpu);
  return Stop(*graphstore, "graphstore");
}

// --mode=import -----------------------------------------------------------

// "accepted: 1,234" in georiskctl's summary -> 1234; -1 if absent.
int64_t SummaryValue(const std::string& out, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, absl::StrCat(key, ": "))) continue;
    std::string digits(line.substr(0, line.find(' ')));
    absl::StrReplaceAll({{",", ""}}, &digits);
    int64_t value;
    if (absl::SimpleAtoi(digits, &value)) return value;
  }
  return -1;
}

// "elapsed: 12.34s (81,037 records/s)": the import's own time from connected
// to summary, in seconds; -1 if absent.
double ElapsedSeconds(const std::string& out) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "elapsed: ")) continue;
    double value;
    if (absl::SimpleAtod(line.substr(0, line.find('s')), &value)) return value;
  }
  return -1;
}

absl::Status RunImport(const std::string& dir) {
  const std::string path = absl::GetFlag(FLAGS_file);
  const int shards = absl::GetFlag(FLAGS_shards);
  if (shards < 1) return absl::InvalidArgumentError("--shards: at least 1");
  ASSIGN_OR_RETURN(const Plan plan, CountFile(path));
  const int64_t records = plan.entities + plan.edges + plan.signals;
  ReportPlan(plan);
  Result("shards", shards);

  // One graphstore, or the shards under the even map and ingest routing to
  // them.
  std::vector<std::unique_ptr<ServiceProcess>> graphstores;
  std::vector<std::string> ingest_args;
  if (shards == 1) {
    ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> graphstore,
                     StartGraphstore(dir));
    ingest_args.push_back("--graphstore=" + graphstore->address());
    graphstores.push_back(std::move(graphstore));
  } else {
    ASSIGN_OR_RETURN(const std::string map, EvenMapSpec(shards));
    std::vector<std::string> targets;
    for (int i = 0; i < shards; ++i) {
      ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> shard,
                       StartGraphstore(dir, absl::StrCat("data-", i),
                                       {"--partition_map=" + map,
                                        absl::StrCat("--shard_index=", i)}));
      targets.push_back(shard->address());
      graphstores.push_back(std::move(shard));
    }
    ingest_args.push_back("--graphstore_shards=" + absl::StrJoin(targets, ","));
    ingest_args.push_back("--partition_map=" + map);
  }
  for (std::string& f : SplitFlags(absl::GetFlag(FLAGS_ingest_flags))) {
    ingest_args.push_back(std::move(f));
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> ingest,
      StartService(absl::GetFlag(FLAGS_ingest), dir, std::move(ingest_args)));

  std::vector<std::string> import_args = {"import", path,
                                          "--ingest=" + ingest->address(),
                                          "--progress=none", "--format=jsonl"};
  for (std::string& f : SplitFlags(absl::GetFlag(FLAGS_import_flags))) {
    import_args.push_back(std::move(f));
  }
  Progress(absl::StrFormat("import: timing georiskctl import of %d records",
                           records));
  PrintCommand(absl::GetFlag(FLAGS_georiskctl), import_args,
               /*port_flags=*/false);
  std::vector<double> apply_before, cpu_before;
  for (const auto& graphstore : graphstores) {
    apply_before.push_back(GraphstoreApplySeconds(*graphstore));
    cpu_before.push_back(ProcessCpuSeconds(graphstore->pid()));
  }
  const double ingest_cpu_before = ProcessCpuSeconds(ingest->pid());
  const double children_cpu_before = ReapedChildrenCpuSeconds();
  const Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> cli,
      ServiceProcess::Start({.binary = absl::GetFlag(FLAGS_georiskctl),
                             .args = import_args,
                             .work_dir = dir,
                             .add_port_flags = false}));
  absl::StatusOr<int> code = cli->Wait(kImportTimeout);
  const double seconds = SecondsSince(start);
  if (!code.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "georiskctl import did not finish within ",
        absl::FormatDuration(kImportTimeout), "; output:\n", cli->Log()));
  }
  const double cli_cpu = ReapedChildrenCpuSeconds() - children_cpu_before;
  // The graphstores' figures: all of them together, and each shard's.
  double graphstore_cpu = 0, server_apply = 0, max_shard_cpu = 0;
  for (size_t i = 0; i < graphstores.size(); ++i) {
    const double cpu = ProcessCpuSeconds(graphstores[i]->pid()) - cpu_before[i];
    const double apply =
        GraphstoreApplySeconds(*graphstores[i]) - apply_before[i];
    graphstore_cpu += cpu;
    server_apply += apply;
    max_shard_cpu = std::max(max_shard_cpu, cpu);
    if (shards > 1) {
      ASSIGN_OR_RETURN(const v1::GetStatsResponse stats,
                       Stats(*graphstores[i]));
      Result(absl::StrCat("import_shard", i, "_cpu_seconds"), cpu);
      Result(absl::StrCat("import_shard", i, "_apply_seconds"), apply);
      Result(absl::StrCat("import_shard", i, "_apply_calls"),
             MetricValue(*graphstores[i], "grpc_server_handling_seconds_count",
                         "grpc_method=\"Apply\""));
      Result(absl::StrCat("import_shard", i, "_records"),
             static_cast<double>(stats.entity_count() + stats.edge_count() +
                                 stats.signal_count()));
    }
  }
  const double ingest_cpu =
      ProcessCpuSeconds(ingest->pid()) - ingest_cpu_before;
  const double ingest_apply =
      MetricValue(*ingest, "georisk_ingest_apply_seconds_sum", "");
  const double ingest_batches =
      MetricValue(*ingest, "georisk_ingest_apply_seconds_count", "");
  const std::string output = cli->Log();
  std::fprintf(stderr, "%s", output.c_str());
  const int64_t accepted = SummaryValue(output, "accepted");
  const int64_t rejected = SummaryValue(output, "rejected");
  if (*code != 0 || accepted != records || rejected != 0 ||
      SummaryValue(output, "records") != records) {
    return absl::InternalError(
        absl::StrCat("georiskctl import exited with ", *code, "; accepted ",
                     accepted, " and rejected ", rejected, " of ", records,
                     " records; ingest log:\n", ingest->Log()));
  }
  RETURN_IF_ERROR(CheckCounts(graphstores, plan));
  Result("import_seconds", seconds);
  Result("import_records_per_s", static_cast<double>(records) / seconds);
  Result("import_cli_elapsed_seconds", ElapsedSeconds(output));
  Result("import_graphstore_apply_seconds", server_apply);
  Result("import_ingest_apply_seconds", ingest_apply);
  Result("import_ingest_apply_calls", ingest_batches);
  Result("import_graphstore_cpu_seconds", graphstore_cpu);
  Result("import_max_shard_cpu_seconds", max_shard_cpu);
  Result("import_ingest_cpu_seconds", ingest_cpu);
  Result("import_cli_cpu_seconds", cli_cpu);
  RETURN_IF_ERROR(Stop(*ingest, "ingest"));
  for (size_t i = 0; i < graphstores.size(); ++i) {
    RETURN_IF_ERROR(Stop(*graphstores[i], absl::StrCat("graphstore ", i)));
  }
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "generate") return RunGenerate();
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--dir: required");
  if (absl::GetFlag(FLAGS_file).empty()) {
    return absl::InvalidArgumentError("--file: required");
  }
  if (absl::GetFlag(FLAGS_graphstore).empty()) {
    return absl::InvalidArgumentError("--graphstore: required");
  }
  if (mode == "apply") return RunApply(dir);
  if (mode == "import") {
    if (absl::GetFlag(FLAGS_ingest).empty() ||
        absl::GetFlag(FLAGS_georiskctl).empty()) {
      return absl::InvalidArgumentError("--ingest, --georiskctl: required");
    }
    return RunImport(dir);
  }
  return absl::InvalidArgumentError("--mode: generate, apply or import");
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status s = georisk::bench::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "ingest_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
