// File: storage/rocksdb_graph_store.h
//
// RocksDbGraphStore: the GraphStore on an embedded RocksDB database, with the
// column families, keys and values of docs/storage.md, and its options.
//
// Example:
//
//   RocksDbGraphStoreOptions options;
//   options.path = "/var/lib/georisk/graph";
//   options.changelog_retention_count = 10'000'000;
//   absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> store =
//       RocksDbGraphStore::Open(options);
//   if (!store.ok()) return store.status();
//   absl::StatusOr<ApplyResult> applied = (*store)->Apply(batch, "ingest");
//
// Thread-safe, as every GraphStore. Destroying the store stops its background
// trimming thread, flushes every memtable to a table file (so that the next
// open has no write-ahead log to replay) and closes the database; no call may
// be in progress then.
#ifndef GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_H_
#define GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/record_validation.h"
#include "rocksdb/db.h"
#include "rocksdb/file_system.h"
#include "storage/graph_store.h"
#include "storage/outbox.h"
#include "storage/partition_map.h"

namespace georisk::storage {
namespace internal {
class EntityIdSet;
}  // namespace internal

// The on-disk schema version this code reads and writes (meta key
// "schema_version"). See docs/storage.md for the policy. Version 2 keys an
// edge with its record_id (several dated records of one pair); Open upgrades
// a version-1 database in place.
inline constexpr uint64_t kSchemaVersion = 2;

struct RocksDbGraphStoreOptions {
  // Required. The database directory.
  std::string path;

  // Create the database when `path` holds none. Default: true. When false,
  // opening a missing database fails with NOT_FOUND.
  bool create_if_missing = true;

  // Whether each commit's write-ahead-log record is fsync'ed before Apply()
  // returns. Default: true.
  //  - true: an acknowledged commit survives a crash of the process (kill -9)
  //    and of the machine (power loss).
  //  - false: an acknowledged commit survives a crash of the process: the WAL
  //    record is handed to the operating system (write(2)) before Apply()
  //    returns, and the kernel writes it out even if the process dies. A
  //    power loss or kernel crash may lose the last commits (never part of
  //    one: the log is replayed up to its last complete record).
  // The WAL itself is always on.
  bool sync = true;

  // Largest batch Apply() accepts. Default: 100,000 mutations.
  int max_mutations_per_batch = 100000;

  // Per-record limits of Apply(), the front door's (ingest's) rules reused:
  // a mutation whose encoding is larger than record_limits.max_record_bytes
  // (default 1 MiB, as ingest) is INVALID_ARGUMENT, "mutations[3]: record
  // is N bytes encoded, more than 1048576", and nothing of the batch is
  // written. A change carries its records, so this also bounds what one
  // record adds to a WatchChanges message. reject_unknown_fields: default
  // false (ingest rejects them; graphstore stores what it is sent).
  domain::RecordLimits record_limits;

  // Largest max_depth Traverse() accepts. Default: 8.
  int max_traverse_depth = 8;
  // Largest (and default) max_entities of Traverse(). Default: 10,000.
  int max_traverse_entities = 10000;

  // Change-log retention: keep at most this many most recent changes.
  // 0 (the default) keeps every change.
  int64_t changelog_retention_count = 0;
  // Change-log retention: drop changes committed longer ago than this.
  // Zero (the default) keeps changes whatever their age. Both limits apply
  // when both are set.
  absl::Duration changelog_retention_age = absl::ZeroDuration();
  // How often a background thread trims the change log by the two limits
  // above. Zero or a negative value starts no thread (TrimChangeLog() still
  // works). Default: 60 seconds. No thread is started when neither limit is
  // set.
  absl::Duration changelog_trim_interval = absl::Seconds(60);

  // Block cache shared by every column family. Default: 128 MiB.
  size_t block_cache_bytes = size_t{128} << 20;
  // Memtable size per column family. Default: 16 MiB: random-key inserts
  // into a smaller skiplist are cheaper (BENCHMARKS.md: Apply +18%, the
  // 5M-edge build 10% faster, reads no slower, for 6% more background CPU).
  size_t write_buffer_bytes = size_t{16} << 20;
  // RocksDB background compaction and flush threads. Default: 2.
  int background_threads = 2;

  // Cap on the total size of the live write-ahead-log files, in bytes
  // (RocksDB's max_total_wal_size). A WAL file can be deleted only once every
  // column family with data in it has flushed its memtable, and `meta`,
  // `entities`, `signals` and `idempotency` take few bytes per commit, so
  // their memtables rarely fill. When the WAL grows past this cap, RocksDB
  // flushes the column families that still hold data from the oldest WAL
  // file, which can then be deleted. The cap bounds what a restart after a
  // crash replays (about 0.35 s per 100 MiB on the benchmark machine) and the
  // WAL's share of the disk. 0 leaves the choice to RocksDB: 4 times the sum
  // of all memtables, 2 GiB with the defaults here. Default: 256 MiB.
  uint64_t max_total_wal_bytes = uint64_t{256} << 20;

  // Apply checks that both endpoints of every upserted edge exist. It keeps
  // the ids of entities known to exist in memory (internal::EntityIdSet,
  // under the commit mutex): every id a commit creates or finds by reading
  // `entities`; a deletion removes its id. An endpoint in the cache needs no
  // read; any other is read from `entities` as before, and then cached. The
  // cache starts empty at Open. It stops taking ids when it would grow past
  // this many bytes (50 MiB holds a million 16-character ids); deletions
  // still remove theirs. 0 disables it. Default: 256 MiB (about 5 million
  // such ids).
  size_t entity_id_cache_bytes = size_t{256} << 20;

  // Called with WriteHealth()'s new value each time it changes: an
  // UNAVAILABLE status when writes stop (the disk is full, a write or a
  // background flush failed), OK when they resume. Called from Apply's
  // thread or from one of RocksDB's, one call at a time, in order; it must
  // be quick and must not call the store. Default: none.
  std::function<void(const absl::Status&)> on_write_health_change;

  // While writes are stopped, Apply asks RocksDB to resume them
  // (DB::Resume(), which flushes the memtables to new files) at most this
  // often. After a full disk, RocksDB also resumes on its own once the disk
  // has room for a memtable again (it checks every 5 s). Default: 1 s.
  absl::Duration write_resume_interval = absl::Seconds(1);

  // Testing only: the file system RocksDB writes through
  // (storage/testing/full_disk_file_system.h). Default (null): the
  // operating system's.
  std::shared_ptr<rocksdb::FileSystem> file_system_for_testing;

  // The clock for commit times and retention by age. Default (empty):
  // absl::Now. Commit times never go backwards even if the clock does.
  std::function<absl::Time()> clock;

  // The partition map this database is written under and its shard in it
  // (docs/scale-out.md): Open records both in `meta`, and refuses, with
  // FAILED_PRECONDITION, a map or index under which this shard would no
  // longer own a partition the recorded ones gave it
  // (internal::RecordShard). Default: one shard owning every partition.
  PartitionMap partition_map = PartitionMap::Single();
  int shard_index = 0;

  // Testing only: called by ListEdges, Traverse, LookupByIdentifier and
  // ExportSnapshot right after they take their snapshot, with nothing locked.
  // Default: none.
  std::function<void()> after_snapshot_for_testing;
  // Testing only: called by Apply after its batch is written to RocksDB and
  // before the commit is published (LastSequence()), with nothing locked but
  // the commit order. Default: none.
  std::function<void()> after_write_for_testing;
};

class RocksDbGraphStore final : public GraphStore, public Outbox {
 public:
  // Opens (or creates) the database at options.path. The column families
  // are entities, out_edges, in_edges, signals, changelog, meta,
  // idempotency, identifiers and links (created empty in a database written
  // before links); the last sequence and the counts are recovered from meta.
  // A new database gets a fresh random graph id (GraphId()); a database
  // written before graph ids existed gets one at its first open. A version-1
  // database is upgraded to version 2 first, in one synced batch
  // (docs/storage.md, "Schema version"): its edge keys are verified, edges
  // whose stored record carries a record_id are re-keyed with it, and the
  // version is recorded. The identifier index (LookupByIdentifier) is built
  // from the entities when meta/identifier_index is absent or names other
  // rules, or the identifiers column family was missing (a database written
  // before it): one pass over `entities` before Open returns.
  // Errors: INVALID_ARGUMENT (empty path, bad option), NOT_FOUND (no database
  //   and !create_if_missing), FAILED_PRECONDITION (the database has a
  //   schema version other than 1 or 2, no schema version, or column
  //   families this code does not know), DATA_LOSS (meta and change log
  //   disagree; a version-1 database whose edge keys or counts are not what
  //   version 1 writes), UNAVAILABLE (the database is locked by another
  //   process).
  static absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> Open(
      const RocksDbGraphStoreOptions& options);

  ~RocksDbGraphStore() override;

  using GraphStore::Apply;
  absl::StatusOr<ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
      InvalidMutations invalid) override;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<EdgePage> ListEdges(const EdgeQuery& query) override;
  absl::StatusOr<TraverseResult> Traverse(const TraverseQuery& query) override;
  absl::StatusOr<SignalPage> ListSignals(const SignalQuery& query) override;
  absl::StatusOr<IdentifierPage> LookupByIdentifier(
      const IdentifierQuery& query) override;
  absl::StatusOr<LinkPage> ListLinks(const LinkQuery& query) override;
  absl::StatusOr<v1::Link> GetLink(absl::string_view entity_a,
                                   absl::string_view entity_b) override;
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(
      int64_t from_sequence, int max_changes, int64_t max_bytes) override;
  int64_t WaitForSequence(int64_t sequence, absl::Time deadline) override;
  absl::Status ExportSnapshot(
      const std::function<absl::Status(SnapshotChunk&)>& callback,
      int chunk_records) override;
  absl::StatusOr<StoreStats> GetStats() override;
  int64_t LastSequence() override;
  // Atomic with the commits: the commit in flight, if any, has the time
  // returned; otherwise the time is the store's clock now (at least the last
  // handed out), and the next commit takes at least that time.
  CommitWatermark Watermark() override;
  const std::string& GraphId() const override { return graph_id_; }

  // OK while the store accepts writes. Otherwise UNAVAILABLE, naming the
  // cause: "writes are stopped: the disk under <path> is full (IO error: No
  // space left on device...)". Apply answers the same status, at once and
  // without writing anything, until writes resume; every read keeps working.
  // A write that fails is never acknowledged, and never half-applied: the
  // store's sequence, counts and caches move only after RocksDB wrote the
  // whole batch to its write-ahead log. Thread-safe and cheap.
  absl::Status WriteHealth() const;

  // What RocksDB itself reports, for operators (/metrics). Sizes in bytes;
  // the *_bytes of compaction/flush/WAL and stall_seconds are cumulative
  // since open. Thread-safe and cheap (property reads, no I/O).
  struct EngineStats {
    double sst_bytes = 0;
    double live_data_bytes = 0;
    double memtable_bytes = 0;
    double block_cache_bytes = 0;
    double pending_compaction_bytes = 0;
    double running_compactions = 0;
    double running_flushes = 0;
    double write_stopped = 0;       // 1 while writes are stopped.
    double delayed_write_rate = 0;  // Bytes/s while writes are slowed, else 0.
    double background_errors = 0;
    double stall_seconds = 0;
    double compaction_read_bytes = 0;
    double compaction_write_bytes = 0;
    double flush_write_bytes = 0;
    double wal_bytes = 0;
    // The entity id cache (RocksDbGraphStoreOptions::entity_id_cache_bytes):
    // ids held and bytes allocated.
    double entity_id_cache_ids = 0;
    double entity_id_cache_bytes = 0;
  };
  EngineStats GetEngineStats() const;

  // The sum of the sizes of the live write-ahead-log files (GetSortedWalFiles:
  // lists the WAL directory): at most what the next open replays. Bounded by
  // about max_total_wal_bytes plus the writes of one flush. Thread-safe.
  absl::StatusOr<int64_t> LiveWalBytes() const;

  // The outbox (storage/outbox.h): the copies this shard's commits owe to
  // other shards. Empty on an unpartitioned store.
  absl::StatusOr<std::vector<OutboxEntry>> ReadOutbox(int peer,
                                                      int limit) override;
  absl::Status AcknowledgeOutbox(absl::Span<const std::string> keys) override;
  std::vector<OutboxPeerStats> OutboxStats() override;
  bool WaitForOutbox(absl::Time deadline) override;

  // Trims the change log now by the retention options, as the background
  // thread does, taking `now` as the current time. Returns the number of
  // changes removed. Thread-safe; trims are serialised with each other but
  // not with commits (they touch disjoint keys).
  absl::StatusOr<int64_t> TrimChangeLog(absl::Time now);

 private:
  struct Handles;
  // storage/bulk_load.h: builds its table files with the column families'
  // options and hands them to IngestBulkLoad.
  friend class BulkLoader;
  // storage/partition_move.h: reads a range of keys of each column family,
  // ingests table files and rewrites `meta`, on a store nothing else uses.
  friend class PartitionMover;

  // Ingests a bulk load's table files (column family index, path), all in
  // one DB::IngestExternalFiles call, if the store is still at sequence 0,
  // and publishes sequence 1 with the given counts. FAILED_PRECONDITION
  // when the store committed meanwhile (nothing is ingested).
  absl::Status IngestBulkLoad(
      const std::vector<std::pair<int, std::string>>& files,
      absl::Time commit_time, int64_t entities, int64_t edges, int64_t signals,
      int64_t links) ABSL_LOCKS_EXCLUDED(commit_mu_, state_mu_);

  RocksDbGraphStore(const RocksDbGraphStoreOptions& options,
                    std::unique_ptr<Handles> handles);

  class Listener;

  absl::Status Recover();
  // Counts the outbox's entries per peer into outbox_pending_ (on open).
  absl::Status CountOutbox();
  // Records the outcome of a write or of RocksDB's error handling, and tells
  // options_.on_write_health_change when it changed.
  void SetWriteHealth(absl::Status health) ABSL_LOCKS_EXCLUDED(health_mu_);
  // The status Apply answers for a failed RocksDB write: UNAVAILABLE for an
  // I/O error (a full disk, a failed WAL write: writes stop), else the
  // mapped error.
  absl::Status WriteFailed(const rocksdb::Status& s);
  // While writes are stopped, at most once per write_resume_interval:
  // DB::Resume().
  void MaybeResume() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  // Reads meta/graph_id into graph_id_, minting and writing one when absent.
  absl::Status RecoverGraphId();
  // Builds the identifier index from `entities` unless meta says it is
  // complete and of this code's rules (see Open()).
  absl::Status BuildIdentifierIndex(bool column_family_was_missing);
  // Upgrades a version-1 database to version 2 (see Open()).
  absl::Status UpgradeFromVersion1();
  void TrimLoop();
  absl::Time Now() const;
  // The last commit sequence `read`'s snapshot holds, once Apply has
  // published it (LastSequence()). A commit is in RocksDB, and so in a new
  // snapshot, a moment before it is published; a read that answers with a
  // sequence waits for that moment, so it never names a sequence a follower
  // could not yet resume after (WatchChanges refuses a position past
  // LastSequence() + 1). No I/O happens in the wait.
  absl::StatusOr<int64_t> PublishedSequenceAt(const rocksdb::ReadOptions& read);

  const RocksDbGraphStoreOptions options_;
  const std::unique_ptr<Handles> db_;
  // meta/graph_id; set by Recover() during Open(), constant afterwards.
  std::string graph_id_;

  // Serialises commits: held from the first read of a batch's state to the
  // publication of its sequence.
  absl::Mutex commit_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  // Last commit time handed out, so commit times never go backwards.
  absl::Time last_commit_time_ ABSL_GUARDED_BY(commit_mu_) =
      absl::InfinitePast();
  // The last DB::Resume() attempt of MaybeResume().
  absl::Time last_resume_attempt_ ABSL_GUARDED_BY(commit_mu_) =
      absl::InfinitePast();

  // Whether writes are stopped (WriteHealth()), and why.
  mutable absl::Mutex health_mu_;
  std::atomic<bool> writes_stopped_{false};
  absl::Status write_health_ ABSL_GUARDED_BY(health_mu_);

  // Ids of entities known to exist, for edge endpoint checks; null when
  // disabled. See RocksDbGraphStoreOptions::entity_id_cache_bytes.
  const std::unique_ptr<internal::EntityIdSet> entity_ids_
      ABSL_GUARDED_BY(commit_mu_);
  // Its size, for GetEngineStats(), which takes no lock.
  std::atomic<size_t> entity_ids_count_{0};
  std::atomic<size_t> entity_ids_bytes_{0};

  // Serialises change-log trims.
  absl::Mutex trim_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);

  // The published state: what readers and waiters see.
  absl::Mutex state_mu_;
  absl::CondVar sequence_cv_;  // Signalled on every commit.
  absl::CondVar shutdown_cv_;  // Signalled when closing_ is set.
  int64_t last_sequence_ ABSL_GUARDED_BY(state_mu_) = 0;
  // The first sequence that may still be in the change log: everything
  // before it was trimmed. last_sequence_ + 1 when the log is empty.
  int64_t changelog_start_ ABSL_GUARDED_BY(state_mu_) = 1;
  int64_t entity_count_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t edge_count_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t signal_count_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t link_count_ ABSL_GUARDED_BY(state_mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(state_mu_) = false;
  // The commit between taking its time and publishing its sequence (or
  // giving up), and that time; the least time the next commit may take
  // (raised by Watermark()).
  bool committing_ ABSL_GUARDED_BY(state_mu_) = false;
  absl::Time committing_time_ ABSL_GUARDED_BY(state_mu_);
  absl::Time watermark_floor_ ABSL_GUARDED_BY(state_mu_) = absl::InfinitePast();
  // Pending outbox entries by peer (no zero counts), and their sum: what
  // commits counted less what AcknowledgeOutbox deleted. A count is below
  // zero while a commit whose entries were already acknowledged has not yet
  // counted them (OutboxStats leaves it out).
  absl::flat_hash_map<int, int64_t> outbox_pending_ ABSL_GUARDED_BY(state_mu_);
  int64_t outbox_total_ ABSL_GUARDED_BY(state_mu_) = 0;
  // Serialises AcknowledgeOutbox calls (their read of which keys exist and
  // their delete).
  absl::Mutex outbox_ack_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);

  std::thread trim_thread_;
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_ROCKSDB_GRAPH_STORE_H_
