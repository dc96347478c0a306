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
#include "georisk/v1/scorer.pb.h"
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
  // The scorer's feed of this shard (FeedStatus.shards), when the scorer
  // follows every shard and answered GetFeedStatus.
  bool have_feed = false;
  v1::ShardFeedStatus feed;

  // SERVING, with stats, and answering as the shard of its place.
  bool Healthy() const;
};

// Asks every target (shard i = targets[i]) for its health and GetStats, each
// call within `timeout`, all shards at once.
std::vector<ShardRow> ProbeShards(const ClientOptions& options,
                                  const std::vector<std::string>& targets,
                                  absl::Duration timeout);

// The shards as a table: SHARD TARGET HEALTH PARTITIONS ENTITIES EDGES
// SIGNALS SEQUENCE, and SCORER FEED (the last of the shard's changes the
// scorer applied and how stale its copy may be) when any row has a feed;
// then a line for each shard's problem and each feed's last error.
void PrintShardTable(const std::vector<ShardRow>& rows, std::FILE* out);

// The shards as a JSON array: name, target, health, healthy, shard_index,
// shard_count, partitions, entity_count, edge_count, signal_count,
// last_sequence, graph_id, problem (null counts for a shard without stats),
// scorer_feed ({applied_sequence, head_sequence, connected, lag_seconds,
// last_error}, null without a feed).
std::string ShardRowsJson(const std::vector<ShardRow>& rows);

// The graph over every shard that answered: "1234 entities, 5678 edges, 90
// signals over 3 shards" (", 2 of 3 answering" when some did not).
std::string ShardTotals(const std::vector<ShardRow>& rows);

// Puts each entry of the scorer's FeedStatus.shards on the row of its shard
// (by index). A row whose shard the scorer does not follow keeps have_feed
// false, and so does every row of a scorer on one feed.
void AttachScorerFeeds(const v1::FeedStatus& feed, std::vector<ShardRow>* rows);

// The scorer's feed of a row as PrintShardTable shows it: "42, lag 0.3s",
// "42, disconnected, lag 35.2s", or "-" without a feed.
std::string ScorerFeedCell(const ShardRow& row);

}  // namespace georisk::cli

#endif  // GEORISK_SERVICES_GEORISKCTL_GRAPHSTORE_SHARDS_H_
