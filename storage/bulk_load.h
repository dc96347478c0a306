// File: storage/bulk_load.h
//
// BulkLoader: the initial load of a large graph into an empty
// RocksDbGraphStore without going through Apply's write path. The mutations
// are checked by the same record rules as Apply (domain/record_validation.h)
// and the same graph rules (an edge's or link's endpoints exist at that point
// of the load), encoded exactly as Apply encodes them, sorted per column
// family, written offline as RocksDB table files (rocksdb::SstFileWriter, one
// per column family, built with that column family's own options) and then
// ingested in one DB::IngestExternalFiles call across every column family:
// the whole load becomes visible at once, or nothing of it does. The way TiDB
// Lightning's local backend and Cassandra's sstableloader load data.
// docs/storage.md, "Bulk load", says what the load writes and why.
//
// Example:
//
//   ASSIGN_OR_RETURN(std::unique_ptr<BulkLoader> load,
//                    BulkLoader::Start(store.get(), {.work_dir = "/tmp/bl"}));
//   for (const v1::Mutation& m : mutations) RETURN_IF_ERROR(load->Add(m));
//   ASSIGN_OR_RETURN(BulkLoadResult result, load->Finish());
//   // result.rejections: the bad mutations, by index; the good ones loaded.
//
// The load is one commit: sequence 1 (the store must never have committed),
// its commit time the update_time of every entity. It writes no change-log
// record (one would hold the whole graph): the change log starts after it,
// as after a trim, so a follower that asks for sequence 1 gets OUT_OF_RANGE
// and re-reads the graph with ExportSnapshot, as after any trim.
//
// Thread safety: a loader is used by one thread. The store stays usable
// meanwhile (reads, and even Apply: Finish then refuses, because the store is
// no longer empty, and ingests nothing). Ownership: the loader borrows the
// store, which must outlive it, and owns its work directory's files.
#ifndef GEORISK_STORAGE_BULK_LOAD_H_
#define GEORISK_STORAGE_BULK_LOAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "domain/record_validation.h"
#include "georisk/v1/graph.pb.h"
#include "storage/graph_store.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage {

struct BulkLoadOptions {
  // Required. Where the table files are written before they are ingested
  // (created when missing). Ingestion moves them into the database (a hard
  // link when on the same file system, else a copy); whatever is left is
  // removed by Finish() and by the destructor.
  std::string work_dir;
  // The per-record limits, as RocksDbGraphStoreOptions::record_limits.
  // Default: those of the store.
  std::optional<domain::RecordLimits> record_limits;
  // Threads that validate and encode the mutations of an AddBatch() call,
  // and that sort and write the table files (the two edge column families
  // are the largest and are written side by side). Default: 2.
  int threads = 2;
  // What every loaded entity, edge, signal and link keeps as its
  // update_origin (the origin an Apply's records keep), at most 256 bytes as
  // ApplyRequest.origin. georisk-bulkload gives
  // `bulkload:<first file> started <time>` (domain/provenance.h). Default:
  // "bulkload".
  std::string origin = "bulkload";
  // Testing only: called by Finish() once every table file is written,
  // before they are ingested. Default: none.
  std::function<void()> before_ingest_for_testing;
};

struct BulkLoadResult {
  // The load's commit: sequence 1 and its commit time; 0 when the load
  // changed nothing (every mutation rejected, or none added): then, as for
  // an Apply that changes nothing, nothing is written.
  int64_t sequence = 0;
  absl::Time commit_time;
  // Mutations added, and what became of them, as Apply would have reported
  // them for the whole load as one batch: applied (a record written, or
  // overwritten later in the load by a different one), unchanged (identical
  // to the record an earlier mutation of the load wrote, or a link that a
  // NEGATIVE or reviewer's link stands against), duplicate (an idempotency
  // key already seen), rejected (in `rejections`, by index).
  int64_t mutations = 0;
  int64_t applied = 0;
  int64_t unchanged = 0;
  int64_t duplicates = 0;
  std::vector<MutationRejection> rejections;
  // What the store holds after the load.
  int64_t entities = 0;
  int64_t edges = 0;
  int64_t signals = 0;
  int64_t links = 0;
  // RocksDB keys written, in every column family (both copies of edges and
  // links, identifier index entries, idempotency keys, meta counters), and
  // the table files' bytes.
  int64_t keys = 0;
  int64_t key_bytes = 0;
  int64_t value_bytes = 0;
  int64_t file_bytes = 0;
  // Wall time of Finish(): sorting and writing the table files, then the
  // ingestion.
  absl::Duration write_time;
  absl::Duration ingest_time;
};

class BulkLoader {
 public:
  // Starts a load into `store`. Errors: FAILED_PRECONDITION when the store
  // has committed anything (a bulk load is an initial load; merging into a
  // graph is Apply's work: counts, the identifier index and UNCHANGED
  // detection need the stored records) or is a shard of a partitioned
  // store (docs/scale-out.md: the load would have to split edges into
  // copies); INVALID_ARGUMENT for an empty work_dir or threads < 1; the
  // errors of creating work_dir.
  static absl::StatusOr<std::unique_ptr<BulkLoader>> Start(
      RocksDbGraphStore* store, const BulkLoadOptions& options);

  ~BulkLoader();
  BulkLoader(const BulkLoader&) = delete;
  BulkLoader& operator=(const BulkLoader&) = delete;

  // Adds the next mutation of the load (its index is the number added
  // before it). A mutation that breaks a rule is recorded in the result's
  // rejections and skipped, as Apply does under InvalidMutations::kReject:
  // the rules of validation.h and the size cap; an edge or link endpoint
  // that no entity upsert before it in the load created ("upsert_edge.to_id:
  // entity company/x does not exist"); and, particular to a bulk load,
  // deletes, edge_copy and release_idempotency_key ("a bulk load takes
  // upserts only"). Returns OK for those; an error (then the load is
  // spoiled and Finish() refuses) only for a validation error that Apply
  // also fails a whole batch for (a code other than INVALID_ARGUMENT), or
  // after Finish().
  absl::Status Add(const v1::Mutation& mutation);
  // The same as Add() of each, in order; the mutations need only live
  // during the call. Their validation and encoding, which do not depend on
  // the order, run on up to `threads` threads.
  absl::Status AddBatch(absl::Span<const v1::Mutation* const> mutations);

  // Sorts what was added, writes the table files and ingests them all in
  // one IngestExternalFiles call, with the meta counters (last_sequence 1,
  // changelog_start 2, the four counts). Then the store answers with the
  // loaded graph: GetStats, reads, ExportSnapshot, WatchChanges (which
  // wakes waiters). Errors: FAILED_PRECONDITION when the store committed
  // something since Start() (nothing is ingested); the storage errors of
  // writing or ingesting (nothing is ingested: RocksDB's ingestion of
  // several column families is atomic); FAILED_PRECONDITION when called
  // twice or after a failed Add().
  absl::StatusOr<BulkLoadResult> Finish();

 private:
  struct State;
  explicit BulkLoader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_BULK_LOAD_H_
