// File: storage/partition_move.h
//
// MovePartitions: moves a contiguous range of partitions from one graphstore
// shard's database (S) to another's (N), offline, while neither shard runs
// (docs/scale-out.md, "Adding shards"). The range's keys of every column
// family keyed by partition (entities, out_edges, in_edges, signals, links)
// and the identifier index entries of the moved entities are written into
// table files (rocksdb::SstFileWriter, each with its column family's options)
// and ingested into N in one DB::IngestExternalFiles call, together with N's
// new `meta` (the new map, its counts, a new graph id); only then is the
// range deleted from S, in one synced WriteBatch that also writes S's new
// `meta`. A crash therefore leaves the old state or the records in both
// databases, never in neither, and running the move again completes it (the
// databases' recorded maps say how far it got).
//
// Example:
//
//   PartitionMoveOptions options;
//   options.from_path = "/data/graphstore-0/graph";
//   options.to_path = "/data/graphstore-3/graph";
//   options.partitions = {256, 341};
//   options.old_map = *PartitionMap::Parse("0=0-341;1=342-682;2=683-1023;3=");
//   options.new_map = *PartitionMap::Parse("0=0-255;1=342-682;2=683-1023;"
//                                          "3=256-341");
//   absl::StatusOr<PartitionMoveResult> moved = MovePartitions(options);
//   // moved->families: the keys and bytes of each column family moved.
//
// Thread safety: MovePartitions opens both databases itself (so no other
// process may hold them: a running graphstore makes it fail UNAVAILABLE)
// and closes them before it returns; concurrent calls on other databases are
// fine.
#ifndef GEORISK_STORAGE_PARTITION_MOVE_H_
#define GEORISK_STORAGE_PARTITION_MOVE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/partition_map.h"

namespace georisk::storage {

struct PartitionMoveOptions {
  // Required. The source shard's database (graphstore --data_dir + "/graph"),
  // recorded as shard S of old_map (or of new_map once a move finished).
  std::string from_path;
  // Required. The target shard's database: an existing one (the shard was
  // started once, owning nothing: "Adding shards", step 1), recorded as shard
  // N of old_map, or new, or already of new_map after an interrupted move.
  std::string to_path;
  // Required. The partitions to move, inclusive.
  PartitionRange partitions;
  // The map the shards run under now, and the map after the move: the same
  // shard count, the same owner for every partition outside `partitions`,
  // S owning all of `partitions` in old_map and N all of them in new_map.
  PartitionMap old_map = PartitionMap::Single();
  PartitionMap new_map = PartitionMap::Single();
  // Where the table files are written before N ingests them, in a
  // subdirectory "partition-move.tmp" of it (emptied first, removed when the
  // move returns; nothing else in work_dir is touched). Default (empty):
  // to_path, N's file system, so that ingestion links the files instead of
  // copying them.
  std::string work_dir;
  // Checks every precondition and reports what would move, writing nothing.
  bool dry_run = false;
  // Testing only: called once N's ingestion succeeded and before S's range is
  // deleted; a non-OK status stops the move there and is returned (the crash
  // the move must survive).
  std::function<absl::Status()> after_ingest_for_testing;
};

// The keys of one column family in the range, and their bytes (keys and
// values).
struct MovedColumnFamily {
  std::string name;  // "entities", "out_edges", ..., "identifiers".
  int64_t keys = 0;
  int64_t bytes = 0;
};

struct PartitionMoveResult {
  enum class Outcome {
    kMoved,         // The range was copied to N and deleted from S.
    kCompleted,     // N held the range from an interrupted move: S's part
                    // (the delete and S's meta) was done now.
    kAlreadyMoved,  // Both databases record new_map already: nothing done.
    kDryRun,        // Nothing written; `families` says what would move.
  };
  Outcome outcome = Outcome::kMoved;
  int from_shard = 0;
  int to_shard = 0;
  // entities, out_edges, in_edges, signals, links, identifiers (the index
  // entries of the moved entities, moved with them).
  std::vector<MovedColumnFamily> families;
  // What the counts in `meta` moved: entities, edges (out-copies), signals,
  // links (primary copies, the one under the smaller id).
  int64_t entities = 0;
  int64_t edges = 0;
  int64_t signals = 0;
  int64_t links = 0;
  // The graph ids after the move (new random ones on both; empty for a dry
  // run or kAlreadyMoved).
  std::string from_graph_id;
  std::string to_graph_id;
};

// Moves `options.partitions` from S to N as the file comment says. Every
// precondition is checked before anything is written, and a failed one
// writes nothing:
//  - INVALID_ARGUMENT: a path missing, both the same, a range outside
//    0..1023, maps of different shard counts, maps that differ outside the
//    range, a range not wholly S's in old_map or not wholly N's in new_map,
//    S == N;
//  - NOT_FOUND: no database at a path;
//  - UNAVAILABLE: a database is locked (its graphstore is running);
//  - FAILED_PRECONDITION: a database recorded under another map or shard than
//    the move expects; S's or N's outbox not empty (an entry queued under the
//    old map would be delivered to the old owner; the message names the
//    count); N holds keys in the range (it names the column family and the
//    count); after an interrupted move, N's copy of the range differs from
//    S's;
//  - the errors of RocksDbGraphStore::Open (DATA_LOSS...) and of RocksDB.
absl::StatusOr<PartitionMoveResult> MovePartitions(
    const PartitionMoveOptions& options);

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_PARTITION_MOVE_H_
