// File: services/georiskctl/graphstore_shards.h
//
// `georiskctl status`'s view of a partitioned graphstore: one row per shard
// (docs/scale-out.md), from each shard's health and GetStats. A shard that
// does not answer is a row saying UNAVAILABLE and why, never a failure of
// the whole command.
//
//   std::vector<ShardRow> rows =
//       ProbeShards(client, GraphstoreShards(client), absl::Seconds(5));
//   PrintShardTable(rows, client.out);     // SHARD TARGET HEALTH ...
//   std::string json = ShardRowsJson(rows);  // [{"name": "graphstore-0", ...}]
//
// Thread-safe: ProbeShards asks the shards at once (a thread each) and
// returns once every one answered or timed out; the rest is pure.
#ifndef GEORISK_SERVICES_GEORISKCTL_GRAPHSTORE_SHARDS_H_
#define GEORISK_SERVICES_GEORISKCTL_GRAPHSTORE_SHARDS_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "georisk/v1/graphstore.pb.h"
#include "services/georiskctl/cli.h"

namespace georisk::cli {

// One shard as status shows it.
struct ShardRow {
  // Its place in the list of targets: shard `index`, pod graphstore-<index>.
  int index = 0;
  std::string name;
  std::string target;
  // SERVING, NOT_SERVING (or another health state it reported), DEGRADED
  // (serving reads, refusing writes: GetStats.writes_stopped_reason), or
  // UNAVAILABLE when it could not be reached.
  std::string health;
  // Whether GetStats answered, and what.
  bool have_stats = false;
  v1::GetStatsResponse stats;
  // Why the shard is not SERVING or has no stats ("" when all is well), and
  // what disagrees with the list (it answers as another shard, or under a
  // map of another shard count).
  std::string problem;

  // SERVING, with stats, and answering as the shard of its place.
  bool Healthy() const;
};

// Asks every target (shard i = targets[i]) for its health and GetStats, each
// call within `timeout`, all shards at once.
std::vector<ShardRow> ProbeShards(const ClientOptions& options,
                                  const std::vector<std::string>& targets,
                                  absl::Duration timeout);

// The shards as a table: SHARD TARGET HEALTH PARTITIONS ENTITIES EDGES
// SIGNALS SEQUENCE, and a line for each shard's problem.
void PrintShardTable(const std::vector<ShardRow>& rows, std::FILE* out);

// The shards as a JSON array: name, target, health, healthy, shard_index,
// shard_count, partitions, entity_count, edge_count, signal_count,
// last_sequence, graph_id, problem (null counts for a shard without stats).
std::string ShardRowsJson(const std::vector<ShardRow>& rows);

// The graph over every shard that answered: "1234 entities, 5678 edges, 90
// signals over 3 shards" (", 2 of 3 answering" when some did not).
std::string ShardTotals(const std::vector<ShardRow>& rows);

// The scorer's per-shard feed (issue 17: the scorer follows every shard)
// belongs beside each row: once FeedStatus carries one entry per shard, add
// its applied and head sequence to ShardRow, a FEED column to
// PrintShardTable and "scorer_applied_sequence" to ShardRowsJson. Until then
// status shows the scorer's one feed on the scorer's row.

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_GRAPHSTORE_SHARDS_H_
