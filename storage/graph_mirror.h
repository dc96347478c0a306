// File: storage/graph_mirror.h
//
// GraphMirror: a consumer's durable copy of the graph, fed by GraphStore's
// change feed, with the sequence of the last change applied. The scorer keeps
// one on its own disk so that a restart resumes from where it was instead of
// re-reading the whole graph.
//
//   auto mirror = GraphMirror::Open({.path = dir + "/mirror"});
//   if ((*mirror)->applied_sequence() == 0) {            // Never loaded.
//     RETURN_IF_ERROR((*mirror)->BeginReplace());
//     for (chunk : ExportSnapshot()) RETURN_IF_ERROR((*mirror)->AddChunk(...));
//     RETURN_IF_ERROR((*mirror)->FinishReplace(snapshot_sequence));
//   }
//   ... (*mirror)->ReadAll(&entities, &edges, &signals) ...
//   for (changes : WatchChanges(applied + 1)) (*mirror)->ApplyChanges(changes);
//
// Layout (RocksDB, column families `records` and `meta`): records are keyed
// "E" + entity id, "X" + from_id + 0x00 + kind byte + to_id + 0x00 +
// product_code [+ 0x00 + record_id, when the edge has one], "S" + signal
// id and "L" + entity_a + 0x00 + entity_b (a link, entity_a < entity_b),
// valued by the serialized proto as the change log carried it.
// `meta` holds "applied_sequence" (8 bytes, big-endian), "graph_id" (the
// GraphStore graph id the sequence belongs to, ASCII; absent in mirrors
// written before graph ids), "layout" (8 bytes, big-endian: 3 since edges are
// keyed with their record_id and links are kept) and, while a replacement is
// under way, "replacing". A mirror with records but no "layout" (written
// before record_id keys: one edge per pair) or an older one (2: written by
// code that dropped link mutations) opens as if a replacement had not
// finished (applied_sequence() 0, ApplyChanges() refused), so its owner
// re-reads the graph once.
//
// Shards (docs/scale-out.md, "The scorer follows every shard"): a mirror
// opened with `shards` = N > 1 follows N feeds, one cursor each. Shard 0's
// cursor is the keys above, so a one-shard mirror opens unchanged; shard
// i > 0 has "applied_sequence/<i>", "graph_id/<i>" and "replacing/<i>".
// `meta` also holds "shards" (8 bytes, big-endian; absent: 1), and the
// column family `owners` (present only in mirrors opened with N > 1) holds
// one empty value per (shard, record) the shard's snapshot or feed wrote,
// keyed by the shard (2 bytes, big-endian) + the record's key, so that
// replacing shard S (BeginReplace(S)) removes the records only S wrote and
// keeps those another shard also wrote: an edge across two shards is its
// out-copy on one and its in-copy on the other, one record here, indexed
// once either copy was seen. A delete removes the record and every owner
// of it (the first copy deleted deletes the edge, as the first written
// creates it), so the mirror is, as the engine, last writer wins per key.
// A mirror opened with another shard count than it was written with (or a
// multi-shard mirror of an older layout) is emptied at open: every cursor 0,
// so its owner bootstraps every shard.
//
// Durability: each ApplyChanges() is one WriteBatch with the new applied
// sequence, so the copy and its sequence never disagree. Writes go to the WAL
// without fsync by default: a process crash loses nothing, and what a power
// loss drops is re-read from GraphStore (the sequence goes back with it).
//
// Thread safety: all methods are thread-safe; writes are serialised.
#ifndef GEORISK_STORAGE_GRAPH_MIRROR_H_
#define GEORISK_STORAGE_GRAPH_MIRROR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "georisk/v1/graph.pb.h"
#include "rocksdb/file_system.h"

namespace georisk::storage {

struct GraphMirrorOptions {
  // Required. The database directory; created when missing.
  std::string path;
  // fsync each write. Default false (see Durability above).
  bool sync = false;
  // Testing only: the file system RocksDB writes through
  // (storage/testing/full_disk_file_system.h). Default (null): the
  // operating system's.
  std::shared_ptr<rocksdb::FileSystem> file_system_for_testing = nullptr;
  // The number of feeds (graphstore shards) the mirror follows, 1..1024.
  // Default 1: one feed, the layout of mirrors before shards.
  int shards = 1;
};

class GraphMirror {
 public:
  // Opens or creates the mirror. Errors: INVALID_ARGUMENT (empty path),
  // UNAVAILABLE (locked by another process), INTERNAL/DATA_LOSS.
  static absl::StatusOr<std::unique_ptr<GraphMirror>> Open(
      const GraphMirrorOptions& options);
  ~GraphMirror();
  GraphMirror(const GraphMirror&) = delete;
  GraphMirror& operator=(const GraphMirror&) = delete;

  // The number of shards (options.shards).
  int shards() const { return shards_; }

  // The sequence of the last change applied; 0 when the mirror holds nothing
  // usable (new, a replacement did not finish, or an older layout). Every
  // method without a shard is shard 0's.
  int64_t applied_sequence() const { return applied_sequence(0); }
  int64_t applied_sequence(int shard) const;

  // The graph id (GraphStore::GraphId()) that applied_sequence() belongs
  // to; empty when unknown (a mirror written before graph ids, or during a
  // replacement).
  std::string graph_id() const { return graph_id(0); }
  std::string graph_id(int shard) const;

  // Records the graph id of a mirror that has none (adopting the id of the
  // graph it follows, for mirrors written before graph ids); a no-op when
  // it is already this id. Errors: FAILED_PRECONDITION when the mirror holds
  // another graph id (that graph needs BeginReplace...FinishReplace) or a
  // replacement is under way.
  absl::Status SetGraphId(absl::string_view graph_id) {
    return SetGraphId(0, graph_id);
  }
  absl::Status SetGraphId(int shard, absl::string_view graph_id);

  // Reads every record; links only when `links` is not null (they are
  // skipped otherwise).
  absl::Status ReadAll(std::vector<v1::Entity>* entities,
                       std::vector<v1::Edge>* edges,
                       std::vector<v1::Signal>* signals,
                       std::vector<v1::Link>* links = nullptr) const;

  // One record as the mirror holds it (as the change log carried it, with
  // its update_sequence and update_origin), read without a lock: the
  // scorer's explanations read entities' and edges' provenance here rather
  // than keep it in memory. Errors: NOT_FOUND when the mirror has no such
  // record (also while a replacement is under way, until its chunk is
  // added), DATA_LOSS for a record that does not parse, INTERNAL for a read
  // error.
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) const;
  absl::StatusOr<v1::Edge> GetEdge(const v1::EdgeKey& key) const;

  // Replacing the whole content (bootstrap from a snapshot): BeginReplace()
  // deletes everything and marks the mirror unusable (applied_sequence() 0)
  // until FinishReplace(sequence), so a crash half-way is noticed at the
  // next start. AddChunk() may be called any number of times in between.
  // With shards, BeginReplace(shard) deletes only the records that shard
  // alone wrote and marks only its cursor unusable; the other shards' feeds
  // go on meanwhile. Errors: INVALID_ARGUMENT for a shard out of range.
  absl::Status BeginReplace() { return BeginReplace(0); }
  absl::Status BeginReplace(int shard);
  absl::Status AddChunk(absl::Span<const v1::Entity> entities,
                        absl::Span<const v1::Edge> edges,
                        absl::Span<const v1::Signal> signals,
                        absl::Span<const v1::Link> links = {}) {
    return AddChunk(0, entities, edges, signals, links);
  }
  absl::Status AddChunk(int shard, absl::Span<const v1::Entity> entities,
                        absl::Span<const v1::Edge> edges,
                        absl::Span<const v1::Signal> signals,
                        absl::Span<const v1::Link> links = {});
  // FinishReplace also records `graph_id`, the snapshot's graph (empty:
  // none, from a server older than graph ids).
  absl::Status FinishReplace(int64_t sequence,
                             absl::string_view graph_id = "") {
    return FinishReplace(0, sequence, graph_id);
  }
  absl::Status FinishReplace(int shard, int64_t sequence,
                             absl::string_view graph_id);

  // Applies consecutive changes of one shard's feed, the first being
  // applied_sequence(shard) + 1, and the shard's new applied sequence in one
  // atomic write. Errors: FAILED_PRECONDITION on a gap, a change out of
  // order, or during a replacement of that shard.
  absl::Status ApplyChanges(absl::Span<const v1::Change> changes) {
    return ApplyChanges(0, changes);
  }
  absl::Status ApplyChanges(int shard, absl::Span<const v1::Change> changes);

  // Keys, exposed for tests.
  static std::string EntityKey(absl::string_view id);
  static std::string EdgeKey(const v1::EdgeKey& key);
  static std::string SignalKey(absl::string_view id);
  // Either order of the pair gives the same key.
  static std::string LinkKey(absl::string_view entity_a,
                             absl::string_view entity_b);
  // A cursor's meta key: `name` for shard 0, `name`/<shard> for the others.
  static std::string MetaKey(absl::string_view name, int shard);

  // One shard's position.
  struct Cursor {
    int64_t applied = 0;
    bool replacing = false;
    std::string graph_id;
  };

 private:
  struct Db;
  GraphMirror(GraphMirrorOptions options, std::unique_ptr<Db> db,
              std::vector<Cursor> cursors);
  absl::Status CheckShard(int shard) const;
  // The owner key of `record_key` for `shard` (with shards only).
  static std::string OwnerKey(int shard, absl::string_view record_key);

  const GraphMirrorOptions options_;
  const int shards_;
  std::unique_ptr<Db> db_;
  mutable absl::Mutex mu_;
  // One per shard; the size never changes.
  std::vector<Cursor> cursors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_GRAPH_MIRROR_H_
