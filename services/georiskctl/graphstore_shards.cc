#include "services/georiskctl/graphstore_shards.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "services/common/grpc_probe.h"
#include "services/common/grpc_status.h"

namespace georisk::cli {
namespace {

ShardRow Probe(const ClientOptions& options, int index,
               const std::string& target, absl::Duration timeout) {
  ShardRow row;
  row.index = index;
  row.name = absl::StrCat("graphstore-", index);
  row.target = target;
  absl::StatusOr<common::HealthState> health =
      common::CheckHealth(target, "", timeout);
  if (!health.ok()) {
    row.health = "UNAVAILABLE";
    row.problem = absl::StrCat(absl::StatusCodeToString(health.status().code()),
                               ": ", health.status().message());
    return row;
  }
  row.health = *health;
  auto channel = ChannelTo(options, target);
  if (!channel.ok()) {
    row.problem = std::string(channel.status().message());
    return row;
  }
  auto stub = v1::GraphStore::NewStub(*channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::Status s = stub->GetStats(&context, v1::GetStatsRequest(), &row.stats);
  if (!s.ok()) {
    const absl::Status status = common::FromGrpcStatus(s);
    row.problem =
        absl::StrCat("GetStats: ", absl::StatusCodeToString(status.code()),
                     ": ", status.message());
    return row;
  }
  row.have_stats = true;
  if (!row.stats.writes_stopped_reason().empty() && row.health == "SERVING") {
    row.health = "DEGRADED";
    row.problem = row.stats.writes_stopped_reason();
  } else if (row.stats.shard_count() > 0 && row.stats.shard_index() != index) {
    // A target listed in the wrong place: its partitions are not the ones
    // the list's order says.
    row.problem = absl::StrCat("answers as graphstore-",
                               row.stats.shard_index(), ", not as ", row.name,
                               ": the shards must be listed in order");
  }
  return row;
}

}  // namespace

bool ShardRow::Healthy() const {
  return health == "SERVING" && have_stats && problem.empty();
}

std::vector<ShardRow> ProbeShards(const ClientOptions& options,
                                  const std::vector<std::string>& targets,
                                  absl::Duration timeout) {
  std::vector<ShardRow> rows(targets.size());
  std::vector<std::thread> threads;
  threads.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      rows[i] = Probe(options, static_cast<int>(i), targets[i], timeout);
    });
  }
  for (std::thread& t : threads) t.join();
  // Every shard should run under a map of as many shards as were listed.
  for (ShardRow& row : rows) {
    if (row.problem.empty() && row.have_stats && row.stats.shard_count() > 0 &&
        row.stats.shard_count() != static_cast<int>(rows.size())) {
      row.problem =
          absl::StrCat("runs under a map of ", row.stats.shard_count(),
                       " shards; ", rows.size(), " are listed");
    }
  }
  return rows;
}

void AttachScorerFeeds(const v1::FeedStatus& feed,
                       std::vector<ShardRow>* rows) {
  for (const v1::ShardFeedStatus& shard : feed.shards()) {
    for (ShardRow& row : *rows) {
      if (row.index != shard.shard()) continue;
      row.have_feed = true;
      row.feed = shard;
    }
  }
}

std::string ScorerFeedCell(const ShardRow& row) {
  if (!row.have_feed) return "-";
  return absl::StrFormat("%d%s, lag %.1fs", row.feed.applied_sequence(),
                         row.feed.connected() ? "" : ", disconnected",
                         row.feed.lag_seconds());
}

void PrintShardTable(const std::vector<ShardRow>& rows, std::FILE* out) {
  const bool feeds = std::any_of(rows.begin(), rows.end(),
                                 [](const ShardRow& r) { return r.have_feed; });
  std::vector<std::string> header = {"SHARD",      "TARGET",   "HEALTH",
                                     "PARTITIONS", "ENTITIES", "EDGES",
                                     "SIGNALS",    "SEQUENCE"};
  if (feeds) header.push_back("SCORER FEED");
  Table t(header);
  for (const ShardRow& row : rows) {
    std::vector<std::string> cells;
    if (!row.have_stats) {
      cells = {row.name, row.target, row.health, "-", "-", "-", "-", "-"};
    } else {
      cells = {row.name,
               row.target,
               row.health,
               row.stats.partitions().empty() ? "-" : row.stats.partitions(),
               absl::StrCat(row.stats.entity_count()),
               absl::StrCat(row.stats.edge_count()),
               absl::StrCat(row.stats.signal_count()),
               absl::StrCat(row.stats.last_sequence())};
    }
    if (feeds) cells.push_back(ScorerFeedCell(row));
    t.Add(cells);
  }
  t.Print(out);
  for (const ShardRow& row : rows) {
    if (!row.problem.empty()) {
      std::fprintf(out, "%s: %s\n", row.name.c_str(), row.problem.c_str());
    }
    if (row.have_feed && !row.feed.last_error().empty()) {
      std::fprintf(out, "%s: scorer feed: %s\n", row.name.c_str(),
                   row.feed.last_error().c_str());
    }
  }
}

namespace {

std::string FeedJson(const ShardRow& row) {
  if (!row.have_feed) return "null";
  const v1::ShardFeedStatus& f = row.feed;
  return absl::StrFormat(
      "{\"applied_sequence\": %d, \"head_sequence\": %d, \"connected\": %s, "
      "\"lag_seconds\": %.3f, \"last_error\": %s}",
      f.applied_sequence(), f.head_sequence(), f.connected() ? "true" : "false",
      f.lag_seconds(), JsonQuoted(f.last_error()));
}

}  // namespace

std::string ShardRowsJson(const std::vector<ShardRow>& rows) {
  std::vector<std::string> objects;
  for (const ShardRow& row : rows) {
    // A shard without stats has null counts, not zeros.
    auto number = [&](int64_t value) {
      return row.have_stats ? absl::StrCat(value) : std::string("null");
    };
    auto text = [&](const std::string& value) {
      return row.have_stats ? JsonQuoted(value) : std::string("null");
    };
    const v1::GetStatsResponse& st = row.stats;
    objects.push_back(absl::StrCat(
        "{\"name\": ", JsonQuoted(row.name), ", \"target\": ",
        JsonQuoted(row.target), ", \"health\": ", JsonQuoted(row.health),
        ", \"healthy\": ", row.Healthy() ? "true" : "false",
        ", \"shard_index\": ", number(st.shard_index()), ", \"shard_count\": ",
        number(st.shard_count()), ", \"partitions\": ", text(st.partitions()),
        ", \"entity_count\": ", number(st.entity_count()),
        ", \"edge_count\": ", number(st.edge_count()),
        ", \"signal_count\": ", number(st.signal_count()),
        ", \"last_sequence\": ", number(st.last_sequence()), ", \"graph_id\": ",
        text(st.graph_id()), ", \"problem\": ", JsonQuoted(row.problem),
        ", \"scorer_feed\": ", FeedJson(row), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(objects, ", "), "]");
}

std::string ShardTotals(const std::vector<ShardRow>& rows) {
  int64_t entities = 0, edges = 0, signals = 0;
  int answering = 0;
  for (const ShardRow& row : rows) {
    if (!row.have_stats) continue;
    ++answering;
    entities += row.stats.entity_count();
    edges += row.stats.edge_count();
    signals += row.stats.signal_count();
  }
  std::string text =
      absl::StrFormat("%d entities, %d edges, %d signals over %d shards",
                      entities, edges, signals, rows.size());
  if (answering < static_cast<int>(rows.size())) {
    absl::StrAppend(&text, ", ", answering, " of ", rows.size(), " answering");
  }
  return text;
}

}  // namespace georisk::cli
