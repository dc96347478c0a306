// Signal-to-alert latency and restart times through the real services
// (issue 20), run by bench/alert_run.sh:
//
//   1. writes the scorer benchmarks' supply graph (bench/scorer_graph.h,
//      with its signals) into a graphstore data directory through the
//      library, then starts graphstore, a real Prometheus Alertmanager (when
//      --alertmanager names one), the scorer (following graphstore, posting
//      to Alertmanager) and ingest, each on port 0 (tests/testing/process.h);
//   2. opens Alerts.WatchAlerts on the scorer and, --changes times, sends one
//      signal change through Ingest.IngestBatch: a new entity listing on a
//      company whose composite is low, so that its score jumps and the
//      default rules fire. Measured from the IngestBatch answer (graphstore
//      has acknowledged it durably) to the first FIRING alert of that
//      company on the stream, and to Alertmanager receiving it (its
//      `updatedAt`, the time its API took the POST, on the same clock). The
//      reference beside it: the IngestBatch round trip of the same call.
//      One change at a time: the next is sent once the alert has arrived;
//   3. restarts the scorer --restarts times (SIGTERM, exec, SERVING) and
//      then, with the scorer and ingest stopped, graphstore as many times.
//
//   alert_bench --dir=/tmp/x --graphstore=... --ingest=... --scorer=...
//       [--alertmanager=/usr/bin/prometheus-alertmanager]
//       --entities=1000000 --edges=5000000 --changes=100
//
// Prints progress on stderr and "RESULT name=value" lines on stdout. Every
// process it starts dies with it (PR_SET_PDEATHSIG).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "bench/bench_output.h"
#include "bench/bench_services.h"
#include "bench/scorer_graph.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "httplib.h"
#include "services/common/grpc_probe.h"
#include "storage/rocksdb_graph_store.h"
#include "tests/testing/alertmanager.h"
#include "tests/testing/process.h"

ABSL_FLAG(std::string, dir, "", "Scratch directory, which must exist.");
ABSL_FLAG(std::string, graphstore, "", "Path of the graphstore binary.");
ABSL_FLAG(std::string, ingest, "", "Path of the ingest binary.");
ABSL_FLAG(std::string, scorer, "", "Path of the scorer binary.");
ABSL_FLAG(std::string, alertmanager, "",
          "Path of a Prometheus Alertmanager binary; empty: none.");
ABSL_FLAG(int64_t, entities, 1'000'000, "Entities of the graph.");
ABSL_FLAG(int64_t, edges, 5'000'000, "Edges of the graph.");
ABSL_FLAG(uint64_t, seed, 42, "Graph generator seed.");
ABSL_FLAG(int, changes, 100, "Timed signal changes.");
ABSL_FLAG(int, warmup, 3, "Untimed signal changes first.");
ABSL_FLAG(int, restarts, 3, "Timed restarts of the scorer and graphstore.");
ABSL_FLAG(absl::Duration, alert_timeout, absl::Minutes(5),
          "How long one change may take to alert before the run fails.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Minutes(30),
          "How long the scorer may take to post the alerts of its first full "
          "score to Alertmanager before the timed changes start.");
ABSL_FLAG(absl::Duration, serving_timeout, georisk::bench::kServingTimeout,
          "How long the scorer's first start (the first full score) may "
          "take to SERVING.");
ABSL_FLAG(std::string, graph_cache, "",
          "A directory holding the graphstore data of this very graph "
          "(--entities, --edges, --seed): copied instead of generating and "
          "writing the graph again. When it does not exist, the graph is "
          "written and then copied there for the next run. Empty: always "
          "write.");
ABSL_FLAG(double, max_composite, 10,
          "Listed companies have a composite below this before the change.");

namespace georisk::bench {
namespace {

using testing::ServiceProcess;

// The FIRING alerts of each entity seen on a WatchAlerts stream: the graph
// sequence that made each, and its arrival time. A target can have fired
// before its own listing (an earlier listing moved it into a band), so a
// listing's alert is the first FIRING record at or after its commit.
class AlertWatcher {
 public:
  explicit AlertWatcher(const std::string& scorer) {
    stub_ = v1::Alerts::NewStub(
        grpc::CreateChannel(scorer, grpc::InsecureChannelCredentials()));
  }
  ~AlertWatcher() { Stop(); }

  // Opens the stream (new records only) and waits for its first message.
  absl::Status Start() {
    v1::WatchAlertsRequest request;
    reader_ = stub_->WatchAlerts(&context_, request);
    thread_ = std::thread([this] { Read(); });
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(30),
                      [this] { return opened_ || ended_; }) ||
        !opened_) {
      return absl::UnavailableError("WatchAlerts: no first message in 30 s");
    }
    return absl::OkStatus();
  }

  // The arrival of the first FIRING alert of `entity_id` made at graph
  // sequence `min_sequence` or later, waiting up to `timeout`.
  absl::StatusOr<Clock::time_point> WaitFor(const std::string& entity_id,
                                            int64_t min_sequence,
                                            absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<Clock::time_point> arrival;
    auto find = [&] {
      auto it = firing_.find(entity_id);
      if (it == firing_.end()) return false;
      for (const auto& [sequence, at] : it->second) {
        if (sequence >= min_sequence) {
          arrival = at;
          return true;
        }
      }
      return false;
    };
    const bool found = cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                                    [&] { return ended_ || find(); });
    if (!found || !arrival.has_value()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no FIRING alert of ", entity_id, " at graph sequence ", min_sequence,
          " or later on WatchAlerts in ", absl::FormatDuration(timeout),
          ended_ ? " (the stream ended)" : ""));
    }
    return *arrival;
  }

  int64_t alerts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return alerts_;
  }

  void Stop() {
    if (!thread_.joinable()) return;
    context_.TryCancel();
    thread_.join();
  }

 private:
  void Read() {
    v1::WatchAlertsResponse response;
    while (reader_->Read(&response)) {
      const Clock::time_point now = Clock::now();
      std::lock_guard<std::mutex> lock(mu_);
      opened_ = true;
      for (const v1::Alert& a : response.alerts()) {
        ++alerts_;
        if (a.state() == v1::Alert::FIRING) {
          firing_[a.entity_id()].emplace_back(a.graph_sequence(), now);
        }
      }
      cv_.notify_all();
    }
    reader_->Finish().IgnoreError();
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  std::unique_ptr<v1::Alerts::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchAlertsResponse>> reader_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool opened_ = false;
  bool ended_ = false;
  int64_t alerts_ = 0;
  absl::flat_hash_map<std::string,
                      std::vector<std::pair<int64_t, Clock::time_point>>>
      firing_;
};

// The time Alertmanager took the POST of `entity_id`'s alert (its
// `updatedAt`), at `not_before` or later (an earlier one is an alert of an
// earlier change), polling its API up to `timeout`.
absl::StatusOr<absl::Time> AlertmanagerReceived(const std::string& url,
                                                const std::string& entity_id,
                                                absl::Time not_before,
                                                absl::Duration timeout) {
  // filter=entity_id="<id>", percent-encoded (ids are [a-z0-9/_-]).
  std::string encoded;
  for (char c : entity_id) {
    if (c == '/') {
      encoded += "%2F";
    } else {
      encoded += c;
    }
  }
  const std::string query =
      absl::StrCat("?filter=entity_id%3D%22", encoded, "%22");
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::vector<google::protobuf::Struct>> listed =
        testing::ListAlerts(url, query);
    if (listed.ok()) {
      const google::protobuf::Struct* a =
          testing::FindAlert(*listed, entity_id);
      if (a != nullptr) {
        absl::Time t;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full,
                             testing::Field(*a, "updatedAt"), &t, &error)) {
          return absl::InternalError(
              absl::StrCat("Alertmanager updatedAt: ", error));
        }
        if (t >= not_before) return t;
      }
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("Alertmanager did not list ", entity_id, " in ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// A gauge or counter without labels from a service's /metrics (-1 when
// absent or unreadable).
double Metric(int metrics_port, absl::string_view name) {
  httplib::Client client("127.0.0.1", metrics_port);
  client.set_read_timeout(10, 0);
  httplib::Result response = client.Get("/metrics");
  if (!response || response->status != 200) return -1;
  for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    double v = 0;
    if (kv.first == name && absl::SimpleAtod(kv.second, &v)) return v;
  }
  return -1;
}

// Companies whose composite is below --max_composite: the targets of the
// listings, drawn in a fixed order.
absl::StatusOr<std::vector<std::string>> PickTargets(const std::string& scorer,
                                                     int64_t entities,
                                                     int count) {
  auto stub = v1::Scorer::NewStub(
      grpc::CreateChannel(scorer, grpc::InsecureChannelCredentials()));
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) + 1);
  std::uniform_int_distribution<int64_t> pick(0, entities - 1);
  std::vector<std::string> out;
  for (int tries = 0; static_cast<int>(out.size()) < count; ++tries) {
    if (tries > 100 * count + 1000) {
      return absl::FailedPreconditionError(
          absl::StrCat("only ", out.size(), " of ", count,
                       " companies with a composite below ",
                       absl::GetFlag(FLAGS_max_composite)));
    }
    const int64_t i = pick(rng);
    if (i % 5 == 0) continue;  // A facility.
    const std::string id = ScorerGraphId(i);
    if (std::find(out.begin(), out.end(), id) != out.end()) continue;
    grpc::ClientContext context;
    v1::GetScoreRequest request;
    request.set_entity_id(id);
    v1::Score score;
    RETURN_IF_ERROR(
        FromGrpc(stub->GetScore(&context, request, &score), "Scorer.GetScore"));
    if (score.composite() < absl::GetFlag(FLAGS_max_composite)) {
      out.push_back(id);
    }
  }
  return out;
}

v1::IngestBatchRequest Listing(int k, const std::string& target) {
  v1::IngestBatchRequest request;
  v1::Mutation* m = request.add_records();
  m->set_idempotency_key(absl::StrCat("alert-bench-", k));
  v1::Signal* s = m->mutable_upsert_signal();
  s->set_id(absl::StrCat("signal/alert-bench-", k));
  s->set_title(absl::StrCat("Alert bench listing ", k));
  s->set_source("bench");
  v1::ExportControl* x = s->mutable_export_control();
  x->set_authority("US-BIS");
  x->set_kind(v1::ExportControl::ENTITY_LISTING);
  x->set_list("EL");
  x->add_target_ids(target);
  x->set_severity(0.9);
  return request;
}

void ResultLatencies(const std::string& name, const std::vector<double>& ms) {
  Result(name + "_p50_ms", Percentile(ms, 50));
  Result(name + "_p99_ms", Percentile(ms, 99));
  Result(name + "_max_ms", Percentile(ms, 100));
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--dir is required");
  const int64_t n = absl::GetFlag(FLAGS_entities);
  const int changes = absl::GetFlag(FLAGS_changes);
  const int warmup = absl::GetFlag(FLAGS_warmup);

  // 1. The graph and the services.
  Clock::time_point t = Clock::now();
  ScorerGraph g = GenerateScorerGraph(n, absl::GetFlag(FLAGS_edges),
                                      absl::GetFlag(FLAGS_seed));
  const size_t edges = g.edges.size();
  Progress("graph", absl::StrFormat("%d entities, %d edges, %d signals "
                                    "generated in %.1f s",
                                    g.entities.size(), edges, g.signals.size(),
                                    MsBetween(t, Clock::now()) / 1000));
  Result("entities", static_cast<double>(g.entities.size()));
  Result("edges", static_cast<double>(edges));
  const std::string gs_data = dir + "/graphstore";
  const std::string cache = absl::GetFlag(FLAGS_graph_cache);
  namespace fs = std::filesystem;
  t = Clock::now();
  std::error_code error;
  if (!cache.empty() && fs::exists(cache)) {
    // The graph only decides which companies the changes list; its data
    // comes from the cache.
    fs::copy(cache, gs_data, fs::copy_options::recursive, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("copying ", cache, ": ", error.message()));
    }
    Progress("graph", absl::StrFormat("copied from %s in %.1f s", cache,
                                      MsBetween(t, Clock::now()) / 1000));
  } else {
    RETURN_IF_ERROR(WriteGraph(gs_data + "/graph", g));
    Result("graph_write_s", MsBetween(t, Clock::now()) / 1000);
    Progress("graph", absl::StrFormat("written in %.1f s",
                                      MsBetween(t, Clock::now()) / 1000));
    if (!cache.empty()) {
      fs::copy(gs_data, cache, fs::copy_options::recursive, error);
      if (error) {
        return absl::InternalError(
            absl::StrCat("copying to ", cache, ": ", error.message()));
      }
    }
  }
  g = ScorerGraph();

  double ms = 0;
  const std::vector<std::string> gs_args = {"--data_dir=" + gs_data};
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> gs,
                   StartService(absl::GetFlag(FLAGS_graphstore), gs_args,
                                absl::GetFlag(FLAGS_dir), &ms));
  Result("graphstore_first_start_ms", ms);

  std::string am_url;
  testing::Alertmanager am;
  if (!absl::GetFlag(FLAGS_alertmanager).empty()) {
    ASSIGN_OR_RETURN(am, testing::StartAlertmanager("alertmanager"));
    am_url = am.url;
  }
  std::vector<std::string> scorer_args = {"--data_dir=" + dir + "/scorer",
                                          "--graphstore=" + gs->address()};
  if (!am_url.empty()) scorer_args.push_back("--alertmanager_url=" + am_url);
  Progress("scorer", "first start: loads and scores the graph");
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> scorer,
                   StartService(absl::GetFlag(FLAGS_scorer), scorer_args,
                                absl::GetFlag(FLAGS_dir), &ms,
                                absl::GetFlag(FLAGS_serving_timeout)));
  Result("scorer_first_start_ms", ms);
  Result("scorer_first_start_vmhwm_mib",
         PeakRssBytes(scorer->pid()) / (1 << 20));
  Progress("scorer", absl::StrFormat("SERVING after %.0f ms", ms));
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> ingest,
                   StartService(absl::GetFlag(FLAGS_ingest),
                                {"--graphstore=" + gs->address()},
                                absl::GetFlag(FLAGS_dir), &ms));

  // Alerts firing at SERVING: those restored from the alert log (none on a
  // first start: the full score is no change, and a band alert fires only
  // when a change takes a score into the band). The timed changes start
  // once the scorer has posted them all to Alertmanager (its queue is FIFO:
  // a new alert would wait behind them).
  Result("alerts_firing_at_start",
         Metric(scorer->metrics_port(), "georisk_alerts_firing"));
  if (!am_url.empty()) {
    t = Clock::now();
    const absl::Time deadline =
        absl::Now() + absl::GetFlag(FLAGS_drain_timeout);
    double queued = 0;
    while ((queued = Metric(scorer->metrics_port(),
                            "georisk_alertmanager_queue_length")) != 0) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "the scorer still had ", queued,
            " alerts to post to Alertmanager after --drain_timeout"));
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
    Result("alertmanager_drain_s", MsBetween(t, Clock::now()) / 1000);
    Progress("alertmanager",
             absl::StrFormat("the alerts firing at start posted after %.1f s",
                             MsBetween(t, Clock::now()) / 1000));
  }

  // 2. Signal changes, one at a time.
  ASSIGN_OR_RETURN(std::vector<std::string> targets,
                   PickTargets(scorer->address(), n, warmup + changes));
  AlertWatcher watcher(scorer->address());
  RETURN_IF_ERROR(watcher.Start());
  auto ingest_stub = v1::Ingest::NewStub(grpc::CreateChannel(
      ingest->address(), grpc::InsecureChannelCredentials()));
  auto scorer_stub = v1::Scorer::NewStub(grpc::CreateChannel(
      scorer->address(), grpc::InsecureChannelCredentials()));
  std::vector<double> ack_ms, alert_ms, am_ms;
  for (int k = 0; k < warmup + changes; ++k) {
    const v1::IngestBatchRequest request = Listing(k, targets[k]);
    grpc::ClientContext context;
    v1::IngestBatchResponse response;
    const Clock::time_point sent = Clock::now();
    const absl::Time sent_wall = absl::Now();
    const grpc::Status status =
        ingest_stub->IngestBatch(&context, request, &response);
    const Clock::time_point acked = Clock::now();
    const absl::Time acked_wall = absl::Now();
    RETURN_IF_ERROR(FromGrpc(status, "Ingest.IngestBatch"));
    if (response.summary().accepted() != 1) {
      return absl::InternalError(absl::StrCat(
          "IngestBatch did not accept the listing: ", response.DebugString()));
    }
    absl::StatusOr<Clock::time_point> arrived =
        watcher.WaitFor(targets[k], response.summary().last_sequence(),
                        absl::GetFlag(FLAGS_alert_timeout));
    if (!arrived.ok()) {
      // What the scorer says of the target now, for the message.
      grpc::ClientContext score_context;
      v1::GetScoreRequest score_request;
      score_request.set_entity_id(targets[k]);
      v1::Score score;
      const grpc::Status got =
          scorer_stub->GetScore(&score_context, score_request, &score);
      return absl::Status(
          arrived.status().code(),
          absl::StrCat(
              arrived.status().message(), "; its score now: ",
              got.ok() ? score.ShortDebugString() : got.error_message(),
              "; the listing was acknowledged at graph sequence ",
              response.summary().last_sequence()));
    }
    absl::Time received;
    if (!am_url.empty()) {
      ASSIGN_OR_RETURN(
          received, AlertmanagerReceived(am_url, targets[k], sent_wall,
                                         absl::GetFlag(FLAGS_alert_timeout)));
    }
    if (k < warmup) continue;
    ack_ms.push_back(MsBetween(sent, acked));
    alert_ms.push_back(MsBetween(acked, *arrived));
    if (!am_url.empty()) {
      am_ms.push_back(absl::ToDoubleMilliseconds(received - acked_wall));
    }
    if ((k - warmup + 1) % 20 == 0) {
      Progress("alerts", absl::StrFormat("%d changes, last %.1f ms",
                                         k - warmup + 1, alert_ms.back()));
    }
  }
  watcher.Stop();
  Result("changes", changes);
  Result("alerts_seen", static_cast<double>(watcher.alerts()));
  ResultLatencies("ingest_ack", ack_ms);
  ResultLatencies("signal_to_watch", alert_ms);
  if (!am_url.empty()) ResultLatencies("signal_to_alertmanager", am_ms);
  const double peak = PeakRssBytes(scorer->pid());
  Result("scorer_vmhwm_mib", peak / (1 << 20));
  Result("scorer_bytes_per_edge", peak / static_cast<double>(edges));

  // 3. Restarts: the scorer, then (scorer and ingest stopped, so that
  //    nothing follows an old port) graphstore.
  std::vector<double> scorer_ms, gs_ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_restarts); ++i) {
    RETURN_IF_ERROR(StopService(*scorer, "scorer"));
    ASSIGN_OR_RETURN(scorer,
                     StartService(absl::GetFlag(FLAGS_scorer), scorer_args,
                                  absl::GetFlag(FLAGS_dir), &ms));
    scorer_ms.push_back(ms);
    Progress("restart",
             absl::StrFormat("scorer %d: SERVING after %.0f ms", i + 1, ms));
  }
  // What a restarted scorer holds, at SERVING (the last restart).
  const double restart_peak = PeakRssBytes(scorer->pid());
  Result("scorer_restart_vmhwm_mib", restart_peak / (1 << 20));
  Result("scorer_restart_bytes_per_edge",
         restart_peak / static_cast<double>(edges));
  RETURN_IF_ERROR(StopService(*ingest, "ingest"));
  RETURN_IF_ERROR(StopService(*scorer, "scorer"));
  for (int i = 0; i < absl::GetFlag(FLAGS_restarts); ++i) {
    RETURN_IF_ERROR(StopService(*gs, "graphstore"));
    ASSIGN_OR_RETURN(gs, StartService(absl::GetFlag(FLAGS_graphstore), gs_args,
                                      absl::GetFlag(FLAGS_dir), &ms));
    gs_ms.push_back(ms);
    Progress("restart", absl::StrFormat("graphstore %d: SERVING after %.0f ms",
                                        i + 1, ms));
  }
  Result("restarts", static_cast<double>(scorer_ms.size()));
  Result("scorer_restart_median_ms", Percentile(scorer_ms, 50));
  Result("scorer_restart_max_ms", Percentile(scorer_ms, 100));
  Result("graphstore_restart_median_ms", Percentile(gs_ms, 50));
  Result("graphstore_restart_max_ms", Percentile(gs_ms, 100));
  RETURN_IF_ERROR(StopService(*gs, "graphstore"));
  if (am.process != nullptr) {
    RETURN_IF_ERROR(StopService(*am.process, "alertmanager"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = georisk::bench::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "alert_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
