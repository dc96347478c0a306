// File: tests/testing/sharded_graph.h
//
// ShardedGraph: the partitioned side of a multi-process test (docs/
// scale-out.md): `shards` graphstore processes on free loopback ports under
// one partition map (`dir`/map.txt, data in `dir`/graphstore-<i>,
// --sync=false), shard i = graphstore-<i>, and an ingest routing to them
// (--graphstore_shards). The ports are chosen before the first shard starts,
// so every shard and client is given every address, and a shard started
// again keeps its own.
//
//   ShardedGraphOptions options;
//   options.dir = dir;
//   options.map = "0=0-341;1=342-682;2=683-1023";
//   options.shards = 3;
//   options.route = true;  // every shard is also a router
//   auto graph = ShardedGraph::Start(options);
//   ASSERT_TRUE(graph.ok()) << graph.status();
//   ... (*graph)->targets(), (*graph)->listen(1), (*graph)->ingest() ...
//   (*graph)->shard(1)->Stop(SIGKILL, absl::Seconds(10));
//
// Destroying it stops ingest, then the shards (SIGTERM); a process the test
// stopped itself is skipped.
//
// Thread safety: one thread at a time.
#ifndef GEORISK_TESTS_TESTING_SHARDED_GRAPH_H_
#define GEORISK_TESTS_TESTING_SHARDED_GRAPH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/process.h"

namespace georisk {
namespace testing {

struct ShardedGraphOptions {
  // An existing directory of the test's: the map, the shards' data and logs.
  std::string dir;
  // The partition map (graphstore --partition_map_file syntax) and its shard
  // count.
  std::string map;
  int shards = 3;
  // Every shard is also a router (--route --route_shards, --route_timeout=5s),
  // as every pod in prod.
  bool route = false;
  // Ingest's flags beyond the shards and the map.
  std::vector<std::string> ingest_args = {"--resolve_on_import=false"};
};

class ShardedGraph {
 public:
  // Writes the map, starts every shard and then ingest, each waited for
  // until SERVING. Errors: a process did not start (its log in the message)
  // or did not serve in time.
  static absl::StatusOr<std::unique_ptr<ShardedGraph>> Start(
      ShardedGraphOptions options);

  ~ShardedGraph();
  ShardedGraph(const ShardedGraph&) = delete;
  ShardedGraph& operator=(const ShardedGraph&) = delete;

  // Starts shard i (again, after the test stopped it) on its address with
  // its data, and waits until it serves.
  absl::Status StartShard(int i);

  // "127.0.0.1:<port>" of shard i; every shard's, comma-separated, shard 0
  // first.
  const std::string& listen(int i) const { return listen_[i]; }
  const std::string& targets() const { return targets_; }
  ServiceProcess* shard(int i) { return shards_[i].get(); }
  ServiceProcess* ingest() { return ingest_.get(); }

 private:
  explicit ShardedGraph(ShardedGraphOptions options);

  ShardedGraphOptions options_;
  std::vector<std::string> listen_;
  std::string targets_;
  std::vector<std::unique_ptr<ServiceProcess>> shards_;
  std::unique_ptr<ServiceProcess> ingest_;
};

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_SHARDED_GRAPH_H_
