// rpc_bench: the Scorer RPC benchmark (issue 5): GetScore QPS and latency
// under load from a second process, beside a bare gRPC server built the same
// way. bench/rpc_run.sh runs it; see BENCHMARKS.md, "Scorer RPC".
//
//   rpc_bench --mode=echo_server --port_file=F
//       Serves georisk.v1.Scorer/GetScore on 127.0.0.1:0 (--listen to change)
//       through services/common's GrpcServer (the scorer's own server: same
//       health service, reflection, metrics interceptor, /metrics endpoint,
//       server flags). GetScore answers at once with a Score holding only the
//       request's entity_id: the cost of the RPC stack with no scoring work.
//       Every other Scorer method is left unimplemented. Stops on SIGTERM.
//
//   rpc_bench --mode=load --target=HOST:PORT --entity_ids=FILE
//             --concurrency=N --seconds=S [--channels=C] [--warmup_seconds=W]
//       Closed loop: N threads, each with one GetScore in flight at a time
//       (blocking stub, 5 s deadline), ids from FILE (one per line) taken
//       round-robin. Threads share C channels (thread i uses channel i % C;
//       each channel has its own TCP connection). Latencies are recorded after
//       a warm-up and printed as one line of key=value:
//         qps=... p50_us=... p90_us=... p99_us=... max_us=... calls=...
//         errors=...
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "proto/georisk/v1/scorer.grpc.pb.h"
#include "services/common/main_support.h"
#include "services/common/metrics.h"
#include "services/common/server.h"
#include "services/common/server_flags.h"

ABSL_FLAG(std::string, mode, "", "echo_server or load.");
ABSL_FLAG(std::string, target, "", "load: the server (host:port).");
ABSL_FLAG(std::string, entity_ids, "", "load: file of entity ids, one a line.");
ABSL_FLAG(int, concurrency, 8, "load: client threads (calls in flight).");
ABSL_FLAG(int, channels, 4, "load: channels (connections) the threads share.");
ABSL_FLAG(double, seconds, 10, "load: measured seconds.");
ABSL_FLAG(double, warmup_seconds, 1, "load: unmeasured seconds first.");

namespace {

using Clock = std::chrono::steady_clock;

// GetScore with no work: echoes the id back in an otherwise empty Score.
class EchoScorer final : public georisk::v1::Scorer::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetScore(
      grpc::CallbackServerContext* context,
      const georisk::v1::GetScoreRequest* request,
      georisk::v1::Score* response) override {
    response->set_entity_id(request->entity_id());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int EchoServer() {
  absl::StatusOr<georisk::common::ServerOptions> options =
      georisk::common::ServerOptionsFromFlags({"rpc_bench_echo", 0, 0});
  if (!options.ok()) return georisk::common::ExitWithError(options.status());
  georisk::common::MetricsRegistry registry;
  EchoScorer echo;
  auto server = georisk::common::GrpcServer::Start(
      *options, {{&echo, georisk::v1::Scorer::service_full_name()}}, &registry);
  if (!server.ok()) return georisk::common::ExitWithError(server.status());
  (*server)->SetServing(true);
  return georisk::common::ServeUntilShutdownSignal(**server);
}

int Load() {
  std::vector<std::string> ids;
  {
    std::ifstream in(absl::GetFlag(FLAGS_entity_ids));
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view id = absl::StripAsciiWhitespace(line);
      if (!id.empty()) ids.emplace_back(id);
    }
  }
  const std::string target = absl::GetFlag(FLAGS_target);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int num_channels =
      std::max(1, std::min(absl::GetFlag(FLAGS_channels), concurrency));
  if (ids.empty() || target.empty() || concurrency < 1) {
    std::fprintf(stderr,
                 "rpc_bench: --target, --entity_ids (non-empty file) and "
                 "--concurrency>=1 are required\n");
    return 2;
  }
  std::vector<std::unique_ptr<georisk::v1::Scorer::Stub>> stubs;
  for (int c = 0; c < num_channels; ++c) {
    grpc::ChannelArguments args;
    // A distinct argument per channel, so each gets its own connection.
    args.SetInt("georisk.rpc_bench.channel", c);
    auto channel = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   std::chrono::seconds(10))) {
      std::fprintf(stderr, "rpc_bench: cannot connect to %s\n", target.c_str());
      return 1;
    }
    stubs.push_back(georisk::v1::Scorer::NewStub(channel));
  }

  const auto start = Clock::now();
  const auto measure_from =
      start +
      std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup_seconds)));
  const auto measure_to =
      measure_from +
      std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(absl::GetFlag(FLAGS_seconds)));
  std::vector<std::vector<int64_t>> latencies(concurrency);
  std::atomic<int64_t> errors{0};
  std::atomic<bool> first_error_printed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      georisk::v1::Scorer::Stub* stub = stubs[t % num_channels].get();
      std::vector<int64_t>& lat = latencies[t];
      lat.reserve(1 << 16);
      size_t next = static_cast<size_t>(t) % ids.size();
      georisk::v1::GetScoreRequest request;
      while (true) {
        const auto t0 = Clock::now();
        if (t0 >= measure_to) break;
        request.set_entity_id(ids[next]);
        next = (next + 1) % ids.size();
        georisk::v1::Score response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
        grpc::Status status = stub->GetScore(&context, request, &response);
        const auto t1 = Clock::now();
        if (t0 < measure_from) continue;
        if (!status.ok()) {
          errors.fetch_add(1);
          if (!first_error_printed.exchange(true)) {
            std::fprintf(stderr, "rpc_bench: first error: %d %s\n",
                         static_cast<int>(status.error_code()),
                         status.error_message().c_str());
          }
          continue;
        }
        lat.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)
                .count());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    size_t i = static_cast<size_t>(p * (all.size() - 1) + 0.5);
    return all[i] / 1000.0;
  };
  const double seconds = absl::GetFlag(FLAGS_seconds);
  std::printf(
      "qps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f calls=%zu "
      "errors=%lld concurrency=%d channels=%d\n",
      all.size() / seconds, pct(0.50), pct(0.90), pct(0.99),
      all.empty() ? 0.0 : all.back() / 1000.0, all.size(),
      static_cast<long long>(errors.load()), concurrency, num_channels);
  return all.empty() || errors.load() > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::BlockShutdownSignals();
  georisk::common::InitMain(
      "rpc_bench", "Scorer RPC benchmark: --mode=echo_server or --mode=load.",
      argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "echo_server") return EchoServer();
  if (mode == "load") {
    // No server here: let SIGTERM/SIGINT end the process as usual.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return Load();
  }
  std::fprintf(stderr, "rpc_bench: --mode must be echo_server or load\n");
  return 2;
}
