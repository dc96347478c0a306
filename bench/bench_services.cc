#include "bench/bench_services.h"

#include <signal.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/common/grpc_probe.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::bench {
namespace {
constexpr int kBuildBatch = 10'000;
}  // namespace

using testing::ServiceProcess;

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double PeakRssBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "VmHWM: %lld kB", &kb) == 1) {
      return static_cast<double>(kb) * 1024;
    }
  }
  return 0;
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view rpc) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(rpc, ": ", s.error_message()));
}

absl::Status WriteGraph(const std::string& path, ScorerGraph& g) {
  storage::RocksDbGraphStoreOptions options;
  options.path = path;
  options.sync = false;
  ASSIGN_OR_RETURN(std::unique_ptr<storage::RocksDbGraphStore> store,
                   storage::RocksDbGraphStore::Open(options));
  std::vector<v1::Mutation> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(storage::ApplyResult r, store->Apply(batch, "bench"));
    for (storage::MutationOutcome o : r.outcomes) {
      if (o != storage::MutationOutcome::kApplied) {
        return absl::InternalError("a graph mutation was not applied");
      }
    }
    batch.clear();
    return absl::OkStatus();
  };
  for (v1::Entity& e : g.entities) {
    *batch.emplace_back().mutable_upsert_entity() = std::move(e);
    if (batch.size() == kBuildBatch) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  for (v1::Edge& e : g.edges) {
    *batch.emplace_back().mutable_upsert_edge() = std::move(e);
    if (batch.size() == kBuildBatch) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  for (v1::Signal& s : g.signals) {
    *batch.emplace_back().mutable_upsert_signal() = std::move(s);
    if (batch.size() == kBuildBatch) RETURN_IF_ERROR(flush());
  }
  return flush();
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> StartService(
    const std::string& binary, std::vector<std::string> args,
    const std::string& work_dir, double* ms, absl::Duration serving_timeout) {
  args.push_back("--log_level=warning");
  const Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> p,
                   ServiceProcess::Start({.binary = binary,
                                          .args = args,
                                          .work_dir = work_dir,
                                          .start_timeout = serving_timeout}));
  const absl::Status serving =
      common::WaitForServing(p->address(), "", serving_timeout);
  if (!serving.ok()) {
    return absl::Status(
        serving.code(),
        absl::StrCat(binary, ": ", serving.message(), "; log:\n", p->Log()));
  }
  *ms = MsBetween(start, Clock::now());
  return p;
}

absl::Status StopService(ServiceProcess& p, absl::string_view name) {
  ASSIGN_OR_RETURN(int code, p.Stop(SIGTERM, kStopTimeout));
  if (code != 0) {
    return absl::InternalError(absl::StrCat(name, " exited with ", code,
                                            " on SIGTERM; log:\n", p.Log()));
  }
  return absl::OkStatus();
}

}  // namespace georisk::bench
