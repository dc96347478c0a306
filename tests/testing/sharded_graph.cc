#include "tests/testing/sharded_graph.h"

#include <csignal>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/testing/free_port.h"
#include "services/common/grpc_probe.h"

namespace georisk {
namespace testing {
namespace {

// Waits until `process` serves; its log in the error.
absl::Status Serving(const ServiceProcess& process, absl::string_view what) {
  absl::Status s =
      common::WaitForServing(process.address(), "", absl::Seconds(30));
  if (s.ok()) return s;
  return absl::Status(
      s.code(), absl::StrCat(what, ": ", s.message(), "\n", process.Log()));
}

}  // namespace

ShardedGraph::ShardedGraph(ShardedGraphOptions options)
    : options_(std::move(options)), shards_(options_.shards) {
  for (int i = 0; i < options_.shards; ++i) {
    listen_.push_back(
        absl::StrCat("127.0.0.1:", base::testing::PickFreePort()));
  }
  targets_ = absl::StrJoin(listen_, ",");
}

absl::StatusOr<std::unique_ptr<ShardedGraph>> ShardedGraph::Start(
    ShardedGraphOptions options) {
  std::unique_ptr<ShardedGraph> graph(new ShardedGraph(std::move(options)));
  const ShardedGraphOptions& o = graph->options_;
  std::ofstream(o.dir + "/map.txt") << o.map << "\n";
  for (int i = 0; i < o.shards; ++i) {
    if (absl::Status s = graph->StartShard(i); !s.ok()) return s;
  }
  std::vector<std::string> args = {
      "--graphstore=" + graph->listen_[0],
      "--graphstore_shards=" + graph->targets_,
      "--partition_map_file=" + o.dir + "/map.txt"};
  args.insert(args.end(), o.ingest_args.begin(), o.ingest_args.end());
  absl::StatusOr<std::unique_ptr<ServiceProcess>> in =
      ServiceProcess::Start({Runfile("services/ingest/ingest"), args, o.dir});
  if (!in.ok()) return in.status();
  graph->ingest_ = *std::move(in);
  if (absl::Status s = Serving(*graph->ingest_, "ingest"); !s.ok()) return s;
  return graph;
}

absl::Status ShardedGraph::StartShard(int i) {
  const ShardedGraphOptions& o = options_;
  std::vector<std::string> args = {
      absl::StrCat("--data_dir=", o.dir, "/graphstore-", i), "--sync=false",
      "--listen=" + listen_[i], "--partition_map_file=" + o.dir + "/map.txt",
      absl::StrCat("--shard_index=", i)};
  if (o.route) {
    args.insert(args.end(), {"--route", "--route_shards=" + targets_,
                             "--route_timeout=5s"});
  }
  absl::StatusOr<std::unique_ptr<ServiceProcess>> gs = ServiceProcess::Start(
      {Runfile("services/graphstore/graphstore"), args, o.dir});
  if (!gs.ok()) return gs.status();
  shards_[i] = *std::move(gs);
  return Serving(*shards_[i], absl::StrCat("graphstore-", i));
}

ShardedGraph::~ShardedGraph() {
  if (ingest_ != nullptr && ingest_->running()) {
    ingest_->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
  }
  for (auto& s : shards_) {
    if (s != nullptr && s->running()) {
      s->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
    }
  }
}

}  // namespace testing
}  // namespace georisk
