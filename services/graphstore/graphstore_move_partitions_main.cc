// graphstore_move_partitions: moves a range of partitions from one graphstore
// shard's data directory to another's, offline, with both shards stopped
// (docs/scale-out.md, "Adding shards", step 4; storage/partition_move.h):
//
//   graphstore_move_partitions --from_dir=/data/graphstore-0 \
//     --to_dir=/data/graphstore-3 --partitions=256-341 \
//     --old_map_file=old_map.txt --new_map_file=new_map.txt [--dry_run]
//
// The directories are graphstore's --data_dir (the database is <dir>/graph,
// as graphstore opens it). Prints what moved (or, with --dry_run, what would:
// keys and bytes per column family). Run again after a failure: a move that
// stopped midway is completed, a finished one is reported and left alone.
// Exits 0 when the range is where the new map wants it, 1 when the move was
// refused or failed (the message says why), 2 on bad flags or an unreadable
// map file, 3 when a database is locked (its graphstore is running).
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/exit_codes.h"
#include "services/common/main_support.h"
#include "storage/partition_map.h"
#include "storage/partition_move.h"

ABSL_FLAG(std::string, from_dir, "",
          "The source shard's graphstore --data_dir (the database is "
          "<from_dir>/graph). Required.");
ABSL_FLAG(std::string, to_dir, "",
          "The target shard's graphstore --data_dir: a shard started once "
          "under --old_map_file, owning nothing. Required.");
ABSL_FLAG(std::string, partitions, "",
          "The partitions to move: a-b (inclusive) or one partition a, all "
          "the source's in the old map and the target's in the new one. "
          "Required.");
ABSL_FLAG(std::string, old_map_file, "",
          "The partition map the shards ran under (graphstore "
          "--partition_map_file syntax). Required.");
ABSL_FLAG(std::string, new_map_file, "",
          "The map after the move: the old one with --partitions given to the "
          "target shard. Required.");
ABSL_FLAG(bool, dry_run, false,
          "Check every precondition and print what would move; write "
          "nothing.");
ABSL_FLAG(std::string, work_dir, "",
          "Where the table files are built, in its subdirectory "
          "partition-move.tmp (removed afterwards); default <to_dir>/graph "
          "(the target's file system, so that ingestion links them).");

namespace {

constexpr char kName[] = "graphstore_move_partitions";

int Fail(int code, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", kName, status.ToString().c_str());
  return code;
}

absl::StatusOr<georisk::storage::PartitionRange> ParseRange(
    const std::string& text) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('-', 1));
  georisk::storage::PartitionRange range;
  if (!absl::SimpleAtoi(parts.first, &range.first)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--partitions: \"", text, "\" is not a-b or a"));
  }
  range.last = range.first;
  if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &range.last)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--partitions: \"", text, "\" is not a-b or a"));
  }
  return range;
}

const char* OutcomeText(georisk::storage::PartitionMoveResult::Outcome o) {
  using Outcome = georisk::storage::PartitionMoveResult::Outcome;
  switch (o) {
    case Outcome::kMoved:
      return "moved";
    case Outcome::kCompleted:
      return "completed (the target held the range from an interrupted move; "
             "the source's part was done now)";
    case Outcome::kAlreadyMoved:
      return "already moved (both databases record the new map): nothing "
             "done";
    case Outcome::kDryRun:
      return "dry run: nothing written; would move";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  georisk::common::InitMain(
      kName,
      "graphstore_move_partitions: moves a partition range from one stopped "
      "graphstore shard to another (docs/scale-out.md, \"Adding shards\").",
      argc, argv);
  using georisk::common::kExitFailed;
  using georisk::common::kExitOk;
  using georisk::common::kExitUnavailable;
  using georisk::common::kExitUsage;
  const std::string from_dir = absl::GetFlag(FLAGS_from_dir);
  const std::string to_dir = absl::GetFlag(FLAGS_to_dir);
  if (from_dir.empty() || to_dir.empty() ||
      absl::GetFlag(FLAGS_partitions).empty() ||
      absl::GetFlag(FLAGS_old_map_file).empty() ||
      absl::GetFlag(FLAGS_new_map_file).empty()) {
    return Fail(kExitUsage,
                absl::InvalidArgumentError(
                    "--from_dir, --to_dir, --partitions, --old_map_file and "
                    "--new_map_file: required"));
  }
  absl::StatusOr<georisk::storage::PartitionRange> range =
      ParseRange(absl::GetFlag(FLAGS_partitions));
  if (!range.ok()) return Fail(kExitUsage, range.status());
  absl::StatusOr<georisk::storage::PartitionMap> old_map =
      georisk::storage::PartitionMapFromFlags(
          "", absl::GetFlag(FLAGS_old_map_file));
  if (!old_map.ok()) return Fail(kExitUsage, old_map.status());
  absl::StatusOr<georisk::storage::PartitionMap> new_map =
      georisk::storage::PartitionMapFromFlags(
          "", absl::GetFlag(FLAGS_new_map_file));
  if (!new_map.ok()) return Fail(kExitUsage, new_map.status());

  georisk::storage::PartitionMoveOptions options;
  options.from_path = from_dir + "/graph";  // As graphstore's main.cc.
  options.to_path = to_dir + "/graph";
  options.partitions = *range;
  options.old_map = *old_map;
  options.new_map = *new_map;
  options.work_dir = absl::GetFlag(FLAGS_work_dir);
  options.dry_run = absl::GetFlag(FLAGS_dry_run);
  absl::StatusOr<georisk::storage::PartitionMoveResult> moved =
      georisk::storage::MovePartitions(options);
  if (!moved.ok()) {
    const absl::StatusCode code = moved.status().code();
    return Fail(code == absl::StatusCode::kUnavailable       ? kExitUnavailable
                : code == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                             : kExitFailed,
                moved.status());
  }
  std::printf("partitions %d-%d from %s (%s) to %s (%s): %s\n", range->first,
              range->last,
              georisk::storage::ShardName(moved->from_shard).c_str(),
              options.from_path.c_str(),
              georisk::storage::ShardName(moved->to_shard).c_str(),
              options.to_path.c_str(), OutcomeText(moved->outcome));
  for (const georisk::storage::MovedColumnFamily& f : moved->families) {
    std::printf("  %-12s %10lld keys %14lld bytes\n", f.name.c_str(),
                static_cast<long long>(f.keys),
                static_cast<long long>(f.bytes));
  }
  if (!moved->families.empty()) {
    std::printf(
        "  counts moved: %lld entities, %lld edges, %lld signals, %lld links\n",
        static_cast<long long>(moved->entities),
        static_cast<long long>(moved->edges),
        static_cast<long long>(moved->signals),
        static_cast<long long>(moved->links));
  }
  if (!moved->from_graph_id.empty()) {
    std::printf(
        "  new graph ids: %s %s, %s %s (followers rebuild both from their "
        "snapshots)\n",
        georisk::storage::ShardName(moved->from_shard).c_str(),
        moved->from_graph_id.c_str(),
        georisk::storage::ShardName(moved->to_shard).c_str(),
        moved->to_graph_id.c_str());
  }
  return kExitOk;
}
