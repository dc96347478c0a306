// The web console's page server time and the score history's disk use on
// the scorer benchmarks' graph (issue 19), run by bench/console_run.sh:
//
//   1. writes the supply graph (bench/scorer_graph.h, with its signals) into
//      a graphstore data directory, starts graphstore and the scorer with
//      --console_listen on loopback (port 0), and waits until the scorer has
//      scored the whole graph (its first full score writes every entity's
//      first history point);
//   2. loads each page as its scripts do, over HTTP/1.1 keep-alive with up
//      to 6 connections at once (Chromium's per-host limit) and TCP_NODELAY
//      (as Chromium sets it), and times the
//      load from the first request to the last answer: the page, app.js, its
//      script, style.css and its API calls. Entity page: ListNeighbours
//      (both directions, page_size 1000), GetScore and ExplainScore
//      (max_paths 20) at once, then GetScoreHistory (page_size
//      1000), for --samples entities (half the riskiest, whose explanations
//      are the deepest, half drawn at random). Top page: ListTopRisks
//      (page_size 25, include_reasons: the rows' main reasons in the same
//      answer), with no filter and with entity_kind COMPANY, --samples
//      times each; and, beside it, the page as it was before
//      include_reasons (ListTopRisks, then each row's ExplainScore with
//      max_paths 1), checking on the way that each main reason is the
//      explanation's first contribution. The
//      reference beside each, in the same run: the same RPCs over gRPC to
//      the scorer directly, in the same order (what the console adds is the
//      JSON mapping, HTTP and the in-process hop);
//   3. stops the scorer and measures its history database (<data_dir>/
//      history): its files as the scorer left them and after a full
//      compaction, over the number of points in it (every key is a point,
//      docs/storage.md).
//
//   console_bench --dir=/tmp/x --graphstore=... --scorer=...
//       --entities=1000000 --edges=5000000 --samples=40
//
// Prints progress on stderr and "RESULT name=value" lines on stdout. Every
// process it starts dies with it (PR_SET_PDEATHSIG).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "bench/bench_output.h"
#include "bench/bench_services.h"
#include "bench/scorer_graph.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "httplib.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

ABSL_FLAG(std::string, dir, "", "Scratch directory, which must exist.");
ABSL_FLAG(std::string, graphstore, "", "Path of the graphstore binary.");
ABSL_FLAG(std::string, scorer, "", "Path of the scorer binary.");
ABSL_FLAG(int64_t, entities, 1'000'000, "Entities of the graph.");
ABSL_FLAG(int64_t, edges, 5'000'000, "Edges of the graph.");
ABSL_FLAG(uint64_t, seed, 42, "Graph generator seed.");
ABSL_FLAG(int, samples, 40, "Page loads timed per page.");
ABSL_FLAG(absl::Duration, serving_timeout, georisk::bench::kServingTimeout,
          "How long the scorer's first start (the first full score) may "
          "take to SERVING.");

namespace georisk::bench {
namespace {

using testing::ServiceProcess;

constexpr int kConnections = 6;  // Chromium's connections per host.

// One request of a page load: GET `path`, or POST `body` to it.
struct Request {
  std::string path;
  std::string body;  // Empty: GET.
};

// Loads pages from the console as a browser would: up to kConnections
// requests at once, each connection kept alive between loads.
class PageLoader {
 public:
  explicit PageLoader(int port) {
    for (int i = 0; i < kConnections; ++i) {
      auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
      c->set_keep_alive(true);
      // As browsers do: without it a POST's body waits for the ACK of its
      // headers, which the server delays (~40 ms a call).
      c->set_tcp_nodelay(true);
      c->set_read_timeout(60, 0);
      clients_.push_back(std::move(c));
    }
  }

  // Runs `waves` one after the other (a wave's requests at once, as the
  // page's scripts issue them together), each answer checked 200; returns
  // the milliseconds from the first request to the last answer.
  absl::StatusOr<double> Load(const std::vector<std::vector<Request>>& waves) {
    const Clock::time_point start = Clock::now();
    for (const std::vector<Request>& wave : waves) {
      RETURN_IF_ERROR(RunWave(wave));
    }
    return MsBetween(start, Clock::now());
  }

  // One request (its answer's body), outside any timing.
  absl::StatusOr<std::string> Fetch(const Request& r) {
    return Send(*clients_[0], r);
  }

 private:
  static absl::StatusOr<std::string> Send(httplib::Client& c,
                                          const Request& r) {
    httplib::Result res =
        r.body.empty() ? c.Get(r.path.c_str())
                       : c.Post(r.path.c_str(), r.body, "application/json");
    if (!res) {
      return absl::UnavailableError(
          absl::StrCat(r.path, ": ", httplib::to_string(res.error())));
    }
    if (res->status != 200) {
      return absl::InternalError(
          absl::StrCat(r.path, ": HTTP ", res->status, ": ", res->body));
    }
    return res->body;
  }

  absl::Status RunWave(const std::vector<Request>& wave) {
    std::mutex mu;
    size_t next = 0;
    absl::Status status;
    auto work = [&](httplib::Client* c) {
      for (;;) {
        size_t i;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (next >= wave.size() || !status.ok()) return;
          i = next++;
        }
        absl::StatusOr<std::string> r = Send(*c, wave[i]);
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          status = r.status();
        }
      }
    };
    const size_t n = std::min<size_t>(wave.size(), clients_.size());
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n; ++i)
      threads.emplace_back(work, clients_[i].get());
    work(clients_[0].get());
    for (std::thread& t : threads) t.join();
    return status;
  }

  std::vector<std::unique_ptr<httplib::Client>> clients_;
};

std::string ScorerPath(absl::string_view method) {
  return absl::StrCat("/api/v1/scorer/", method);
}

std::vector<Request> Assets(absl::string_view page, absl::string_view script) {
  return {{std::string(page), ""},
          {"/app.js", ""},
          {std::string(script), ""},
          {"/style.css", ""}};
}

// The requests of the entity page for `id` (entity.js's load()).
std::vector<std::vector<Request>> EntityPage(const std::string& id) {
  const std::string entity = absl::StrCat("{\"entityId\": \"", id, "\"");
  return {
      Assets("/entity.html?id=" + id, "/entity.js"),
      {{ScorerPath("ListNeighbours"),
        entity + ", \"direction\": \"DIRECTION_BOTH\", \"pageSize\": 1000}"},
       {ScorerPath("GetScore"), entity + "}"},
       {ScorerPath("ExplainScore"), entity + ", \"maxPaths\": 20}"}},
      {{ScorerPath("GetScoreHistory"), entity + ", \"pageSize\": 1000}"}}};
}

// The same over gRPC, directly: the reference.
absl::StatusOr<double> EntityPageGrpc(v1::Scorer::Stub& stub,
                                      const std::string& id) {
  const Clock::time_point start = Clock::now();
  v1::ListNeighboursRequest links;
  links.set_entity_id(id);
  links.set_direction(v1::DIRECTION_BOTH);
  links.set_page_size(1000);
  v1::ListNeighboursResponse neighbours;
  grpc::ClientContext c0;
  RETURN_IF_ERROR(
      FromGrpc(stub.ListNeighbours(&c0, links, &neighbours), "ListNeighbours"));
  v1::GetScoreRequest get;
  get.set_entity_id(id);
  v1::Score score;
  grpc::ClientContext c1;
  RETURN_IF_ERROR(FromGrpc(stub.GetScore(&c1, get, &score), "GetScore"));
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(id);
  explain.set_max_paths(20);
  v1::Explanation e;
  grpc::ClientContext c2;
  RETURN_IF_ERROR(FromGrpc(stub.ExplainScore(&c2, explain, &e), "Explain"));
  v1::GetScoreHistoryRequest history;
  history.set_entity_id(id);
  history.set_page_size(1000);
  v1::GetScoreHistoryResponse h;
  grpc::ClientContext c3;
  RETURN_IF_ERROR(
      FromGrpc(stub.GetScoreHistory(&c3, history, &h), "GetScoreHistory"));
  return MsBetween(start, Clock::now());
}

absl::StatusOr<v1::ListTopRisksResponse> Top(v1::Scorer::Stub& stub,
                                             v1::Entity::Kind kind,
                                             int page_size,
                                             bool include_reasons = false) {
  v1::ListTopRisksRequest request;
  request.set_page_size(page_size);
  request.set_entity_kind(kind);
  request.set_include_reasons(include_reasons);
  v1::ListTopRisksResponse top;
  grpc::ClientContext context;
  RETURN_IF_ERROR(
      FromGrpc(stub.ListTopRisks(&context, request, &top), "ListTopRisks"));
  return top;
}

// The top page's requests (top.js's load()): the page, then ListTopRisks
// with include_reasons.
std::vector<std::vector<Request>> TopPage(const std::string& list_body) {
  return {Assets("/", "/top.js"), {{ScorerPath("ListTopRisks"), list_body}}};
}

absl::StatusOr<double> TopPageGrpc(v1::Scorer::Stub& stub,
                                   v1::Entity::Kind kind) {
  const Clock::time_point start = Clock::now();
  RETURN_IF_ERROR(Top(stub, kind, 25, /*include_reasons=*/true).status());
  return MsBetween(start, Clock::now());
}

// The top page as it was before include_reasons: the page, ListTopRisks,
// then each row's ExplainScore for its reason; `rows` are the ids it lists.
std::vector<std::vector<Request>> TopPagePerRow(
    const std::string& list_body, const std::vector<std::string>& rows) {
  std::vector<Request> reasons;
  for (const std::string& id : rows) {
    reasons.push_back(
        {ScorerPath("ExplainScore"),
         absl::StrCat("{\"entityId\": \"", id, "\", \"maxPaths\": 1}")});
  }
  return {Assets("/", "/top.js"),
          {{ScorerPath("ListTopRisks"), list_body}},
          reasons};
}

absl::StatusOr<double> TopPagePerRowGrpc(v1::Scorer::Stub& stub,
                                         v1::Entity::Kind kind) {
  const Clock::time_point start = Clock::now();
  ASSIGN_OR_RETURN(v1::ListTopRisksResponse top, Top(stub, kind, 25));
  for (const v1::Score& s : top.scores()) {
    v1::ExplainScoreRequest explain;
    explain.set_entity_id(s.entity_id());
    explain.set_max_paths(1);
    v1::Explanation e;
    grpc::ClientContext context;
    RETURN_IF_ERROR(
        FromGrpc(stub.ExplainScore(&context, explain, &e), "ExplainScore"));
  }
  return MsBetween(start, Clock::now());
}

// Each main reason of `top` is the first contribution of the row's
// ExplainScore (the console showed that before include_reasons).
absl::Status CheckMainReasons(v1::Scorer::Stub& stub,
                              const v1::ListTopRisksResponse& top) {
  if (top.main_reasons_size() != top.scores_size()) {
    return absl::InternalError(absl::StrCat(top.main_reasons_size(),
                                            " main reasons for ",
                                            top.scores_size(), " scores"));
  }
  for (int i = 0; i < top.scores_size(); ++i) {
    v1::ExplainScoreRequest explain;
    explain.set_entity_id(top.scores(i).entity_id());
    explain.set_max_paths(1);
    v1::Explanation e;
    grpc::ClientContext context;
    RETURN_IF_ERROR(
        FromGrpc(stub.ExplainScore(&context, explain, &e), "ExplainScore"));
    const std::string want =
        e.contributions_size() > 0 ? e.contributions(0).description() : "";
    if (top.main_reasons(i).description() != want) {
      return absl::InternalError(
          absl::StrCat(explain.entity_id(), ": main reason \"",
                       top.main_reasons(i).description(),
                       "\", ExplainScore's first \"", want, "\""));
    }
  }
  return absl::OkStatus();
}

void ResultTimes(const std::string& name, const std::vector<double>& ms) {
  Result(name + "_p50_ms", Percentile(ms, 50));
  Result(name + "_p90_ms", Percentile(ms, 90));
  Result(name + "_max_ms", *std::max_element(ms.begin(), ms.end()));
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) total += f.file_size();
  }
  return total;
}

// The history database: points (keys), bytes as left, bytes compacted.
absl::Status MeasureHistory(const std::string& path) {
  Result("history_bytes_as_left", static_cast<double>(DirBytes(path)));
  rocksdb::Options options;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return absl::InternalError("history: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  uint64_t points = 0, key_bytes = 0, value_bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++points;
    key_bytes += it->key().size();
    value_bytes += it->value().size();
  }
  if (!it->status().ok()) {
    return absl::InternalError("history: " + it->status().ToString());
  }
  it.reset();
  s = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  if (!s.ok()) return absl::InternalError("compact: " + s.ToString());
  uint64_t sst = 0;
  db->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  db.reset();
  Result("history_points", static_cast<double>(points));
  Result("history_key_bytes", static_cast<double>(key_bytes));
  Result("history_value_bytes", static_cast<double>(value_bytes));
  Result("history_sst_bytes_compacted", static_cast<double>(sst));
  Result("history_bytes_compacted", static_cast<double>(DirBytes(path)));
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) return absl::InvalidArgumentError("--dir is required");
  const int samples = absl::GetFlag(FLAGS_samples);
  if (samples < 2) return absl::InvalidArgumentError("--samples: at least 2");

  // 1. The graph and the services.
  Clock::time_point t = Clock::now();
  ScorerGraph g = GenerateScorerGraph(absl::GetFlag(FLAGS_entities),
                                      absl::GetFlag(FLAGS_edges),
                                      absl::GetFlag(FLAGS_seed));
  const int64_t n = static_cast<int64_t>(g.entities.size());
  Result("entities", static_cast<double>(n));
  Result("edges", static_cast<double>(g.edges.size()));
  const std::string gs_data = dir + "/graphstore";
  RETURN_IF_ERROR(WriteGraph(gs_data + "/graph", g));
  g = ScorerGraph();
  Progress("graph", absl::StrFormat("%d entities generated and written in "
                                    "%.1f s",
                                    n, MsBetween(t, Clock::now()) / 1000));
  double ms = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> gs,
                   StartService(absl::GetFlag(FLAGS_graphstore),
                                {"--data_dir=" + gs_data}, dir, &ms));
  const std::string scorer_data = dir + "/scorer";
  ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceProcess> scorer,
      StartService(
          absl::GetFlag(FLAGS_scorer),
          {"--data_dir=" + scorer_data, "--graphstore=" + gs->address(),
           "--console_listen=127.0.0.1:0"},
          dir, &ms, absl::GetFlag(FLAGS_serving_timeout)));
  Progress("scorer", absl::StrFormat("SERVING after %.0f ms", ms));
  const int port = scorer->Port("console_port");
  if (port <= 0) return absl::InternalError("the scorer wrote no console_port");
  auto stub = v1::Scorer::NewStub(grpc::CreateChannel(
      scorer->address(), grpc::InsecureChannelCredentials()));

  // The entities: half the riskiest, half at random.
  ASSIGN_OR_RETURN(v1::ListTopRisksResponse riskiest,
                   Top(*stub, v1::Entity::KIND_UNSPECIFIED, samples / 2));
  std::vector<std::string> ids;
  for (const v1::Score& s : riskiest.scores()) ids.push_back(s.entity_id());
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  while (static_cast<int>(ids.size()) < samples) {
    ids.push_back(ScorerGraphId(pick(rng)));
  }
  Result("samples", static_cast<double>(ids.size()));

  // 2. The pages; one untimed load of each first (connections, caches).
  PageLoader loader(port);
  std::vector<double> entity_ms, entity_grpc_ms;
  RETURN_IF_ERROR(loader.Load(EntityPage(ids[0])).status());
  RETURN_IF_ERROR(EntityPageGrpc(*stub, ids[0]).status());
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(double a, loader.Load(EntityPage(id)));
    ASSIGN_OR_RETURN(double b, EntityPageGrpc(*stub, id));
    entity_ms.push_back(a);
    entity_grpc_ms.push_back(b);
  }
  ResultTimes("entity_page", entity_ms);
  ResultTimes("entity_grpc", entity_grpc_ms);
  Progress("entity page", absl::StrFormat("p50 %.1f ms (gRPC %.1f ms)",
                                          Percentile(entity_ms, 50),
                                          Percentile(entity_grpc_ms, 50)));

  for (const auto& [name, kind] :
       std::vector<std::pair<std::string, v1::Entity::Kind>>{
           {"top_page", v1::Entity::KIND_UNSPECIFIED},
           {"top_page_company", v1::Entity::COMPANY}}) {
    ASSIGN_OR_RETURN(v1::ListTopRisksResponse top,
                     Top(*stub, kind, 25, /*include_reasons=*/true));
    RETURN_IF_ERROR(CheckMainReasons(*stub, top));
    std::vector<std::string> rows;
    for (const v1::Score& s : top.scores()) rows.push_back(s.entity_id());
    const std::string body =
        absl::StrCat("{\"pageSize\": 25, \"entityKind\": \"",
                     v1::Entity::Kind_Name(kind), "\"");
    const std::string with_reasons = body + ", \"includeReasons\": true}";
    std::vector<double> page_ms, grpc_ms, per_row_ms, per_row_grpc_ms;
    RETURN_IF_ERROR(loader.Load(TopPage(with_reasons)).status());
    RETURN_IF_ERROR(loader.Load(TopPagePerRow(body + "}", rows)).status());
    // The two ways in turn, so that both see the same load.
    for (int i = 0; i < samples; ++i) {
      ASSIGN_OR_RETURN(double a, loader.Load(TopPage(with_reasons)));
      ASSIGN_OR_RETURN(double b, TopPageGrpc(*stub, kind));
      ASSIGN_OR_RETURN(double c, loader.Load(TopPagePerRow(body + "}", rows)));
      ASSIGN_OR_RETURN(double d, TopPagePerRowGrpc(*stub, kind));
      page_ms.push_back(a);
      grpc_ms.push_back(b);
      per_row_ms.push_back(c);
      per_row_grpc_ms.push_back(d);
    }
    ResultTimes(name, page_ms);
    ResultTimes(name + "_grpc", grpc_ms);
    ResultTimes(name + "_per_row", per_row_ms);
    ResultTimes(name + "_per_row_grpc", per_row_grpc_ms);
    Progress(name,
             absl::StrFormat("p50 %.1f ms (gRPC %.1f ms); a call per row's "
                             "reason: p50 %.1f ms (gRPC %.1f ms)",
                             Percentile(page_ms, 50), Percentile(grpc_ms, 50),
                             Percentile(per_row_ms, 50),
                             Percentile(per_row_grpc_ms, 50)));
  }
  Result("scorer_peak_rss_bytes", PeakRssBytes(scorer->pid()));

  // 3. The history, with the scorer stopped.
  RETURN_IF_ERROR(StopService(*scorer, "scorer"));
  RETURN_IF_ERROR(MeasureHistory(scorer_data + "/history"));
  return StopService(*gs, "graphstore");
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = georisk::bench::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "console_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
