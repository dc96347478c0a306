// File: bench/bench_services.h
//
// What the benchmarks that run the real services share (alert_bench,
// console_bench): the bench graph written into a graphstore data directory,
// a service started and stopped, and small helpers.
#ifndef GEORISK_BENCH_BENCH_SERVICES_H_
#define GEORISK_BENCH_BENCH_SERVICES_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/scorer_graph.h"
#include "grpcpp/support/status.h"
#include "tests/testing/process.h"

namespace georisk::bench {

using Clock = std::chrono::steady_clock;

inline constexpr absl::Duration kServingTimeout = absl::Minutes(15);
inline constexpr absl::Duration kStopTimeout = absl::Minutes(2);

double MsBetween(Clock::time_point a, Clock::time_point b);

// VmHWM of a process, in bytes (0 when unreadable).
double PeakRssBytes(pid_t pid);

absl::Status FromGrpc(const grpc::Status& s, absl::string_view rpc);

// Writes the graph (entities, then edges, then signals) into a store at
// `path`, as `graphstore --data_dir=<parent>` opens it.
absl::Status WriteGraph(const std::string& path, ScorerGraph& g);

// Starts a service in `work_dir` and waits until it serves, at most
// `serving_timeout`; `*ms` receives the time from just before the exec to
// SERVING.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartService(
    const std::string& binary, std::vector<std::string> args,
    const std::string& work_dir, double* ms,
    absl::Duration serving_timeout = kServingTimeout);

// SIGTERM; an exit code other than 0 is an error with the service's log.
absl::Status StopService(testing::ServiceProcess& p, absl::string_view name);

}  // namespace georisk::bench

#endif  // GEORISK_BENCH_BENCH_SERVICES_H_
