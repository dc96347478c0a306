// File: storage/internal/batch_builder.h
//
// BatchBuilder turns one commit's validated mutations into a RocksDB
// WriteBatch: the final state of every entity, signal, edge and link it
// touches (both copies of an edge, out_edges and in_edges; both copies of a
// link in `links`), the edges and links cascaded by entity deletes, the
// entries of the identifier index that the entities' changes add and remove
// (identifier_index.h), the idempotency keys, the meta counters and the
// change-log record. It holds the state of every key the batch touches, as it
// is after the mutations processed so far, so that each mutation sees the
// effect of the ones before it without reading back. Used by
// RocksDbGraphStore::Apply().
//
// Example:
//
//   BatchBuilder builder(db, cfs, sequence, commit_time, entity_ids);
//   RETURN_IF_ERROR(builder.Load(mutations));
//   for (int i = 0; i < n; ++i) {
//     ASSIGN_OR_RETURN(MutationOutcome o, builder.Add(i, *mutations[i]));
//   }
//   const bool commit = builder.applied_count() > 0;
//   builder.Finish(commit, commit ? sequence : previous, origin, &entities,
//                  &edges, &signals, &links);
//   db->Write(write_options, builder.batch());
//
// Partitioned stores (docs/scale-out.md): given `shard_of` (the shard of an
// entity id) and this store's shard, a mutation with edge_copy OUT or IN
// writes and checks only that copy of its edge (the caller, ShardStore, has
// checked that the copy is this shard's and the other end another's; a batch
// does not mix copies of one edge), and an entity delete deletes the copies
// held here of the edges whose other end is on another shard and lists the
// other copies in remote_copies(). A link whose ends are on two shards is
// written the same way, one copy per shard: edge_copy EDGE_COPY_OUT is the
// copy under the mutation's entity_a, EDGE_COPY_IN the one under entity_b;
// the copy under the smaller id (the primary) counts the link.
// Unpartitioned (no `shard_of`): every edge and link has both copies here,
// as before.
//
// The outbox (docs/scale-out.md, "The outbox"): partitioned, every one-copy
// mutation that changes this shard's copy, and every delete of another
// shard's copy that an entity delete cascades, also puts in the same
// WriteBatch an `outbox` entry for the shard holding the other copy: the
// mutation that writes that copy (edge_copy flipped, idempotency keys
// "<k>/out" and "<k>/in" swapped, other keys dropped). outbox() lists them.
//
// Thread safety: a builder is used by one thread; the caller serialises
// commits (it reads the database without a snapshot). Ownership: the builder
// owns its WriteBatch and borrows the database, handles and id set. Errors:
// Load() returns the storage errors of its reads; Add() INVALID_ARGUMENT for a
// mutation without a kind or an edge whose endpoint does not exist at that
// point of the batch, DATA_LOSS for a corrupt stored edge key or entity
// record.
#ifndef GEORISK_STORAGE_INTERNAL_BATCH_BUILDER_H_
#define GEORISK_STORAGE_INTERNAL_BATCH_BUILDER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "georisk/v1/graph.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/graph_store.h"
#include "storage/internal/column_families.h"
#include "storage/internal/entity_id_set.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {

class BatchBuilder {
 public:
  // `entity_ids`, when not null, holds ids of stored entities (a subset):
  // edge endpoints found there are not read. `db` and `cfs` (indexed by Cf)
  // must outlive the builder. `shard_of`, when set, gives the shard of an
  // entity id, and `shard` is this store's.
  using ShardOf = std::function<int(absl::string_view entity_id)>;
  BatchBuilder(rocksdb::DB* db,
               const std::vector<rocksdb::ColumnFamilyHandle*>& cfs,
               int64_t sequence, absl::Time commit_time,
               const EntityIdSet* entity_ids, ShardOf shard_of = nullptr,
               int shard = 0);
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  // The commit's origin, which each entity, edge, signal and link it writes
  // records as its update_origin (graph.proto). Call before Add(); default
  // none.
  void set_origin(absl::string_view origin) { origin_ = std::string(origin); }

  // Reads the stored state of every key the mutations name, with one
  // MultiGet per column family.
  absl::Status Load(absl::Span<const v1::Mutation* const> mutations);

  // Adds mutation `index` to the batch, or returns why it cannot be added.
  // An INVALID_ARGUMENT leaves the batch as it was (the caller may skip the
  // mutation: its idempotency key is not recorded); any other error means
  // the batch must fail.
  absl::StatusOr<MutationOutcome> Add(int index, const v1::Mutation& m);

  int applied_count() const { return applied_count_; }

  // Calls known(id, exists) for every entity the batch read or named, with
  // whether it exists after the batch.
  template <typename Fn>
  void ForEachKnownEntity(Fn known) const {
    for (const auto& [key, slot] : entities_) {
      known(absl::string_view(key).substr(kPartitionBytes), slot.exists);
    }
  }
  int cascaded_edge_deletes() const { return cascaded_edge_deletes_; }
  int cascaded_link_deletes() const { return cascaded_link_deletes_; }
  // The copies held by other shards of the edges the entity deletes
  // cascaded, in cascade order.
  const std::vector<RemoteEdgeCopy>& remote_copies() const {
    return remote_copies_;
  }

  // The outbox entries the batch writes (see the file comment), in order.
  struct OutboxWrite {
    int peer = 0;
    v1::Mutation mutation;
  };
  const std::vector<OutboxWrite>& outbox() const { return outbox_; }

  // Fills the WriteBatch: idempotency keys (valued `idempotency_sequence`)
  // and, when `commit`, the final state of every key the mutations changed,
  // the change-log record and the meta counters, given the counts before the
  // batch. Keys go in sorted order per column family, which makes the
  // memtable inserts cheaper.
  void Finish(bool commit, int64_t idempotency_sequence,
              absl::string_view origin, int64_t* entity_count,
              int64_t* edge_count, int64_t* signal_count, int64_t* link_count);

  rocksdb::WriteBatch* batch() { return &batch_; }

 private:
  // The state of one key during the batch.
  struct Slot {
    bool existed = false;   // Stored before the batch.
    bool exists = false;    // After the mutations processed so far.
    bool dirty = false;     // Written or deleted by the batch.
    std::string value;      // The current value, when it exists and is known.
    std::string in_key;     // Edges: the in_edges key, once dirty. Links:
                            // the copy under entity_b, once dirty.
    bool out_only = false;  // Edges: the in-copy is another shard's.
                            // Links: the copy under entity_b is.
    // Entities: the stored value, from the mutation that first changes it
    // until Add() has read its identifier keys.
    std::string before;
    // Entities: the identifier index entries of the stored record (once the
    // batch changes it) and of the current value.
    std::vector<std::string> old_identifier_keys;
    std::vector<std::string> identifier_keys;
  };
  // Node-based: Slot pointers and references stay valid as slots are added.
  using Slots = absl::node_hash_map<std::string, Slot>;
  using Entry = Slots::value_type;

  // Writes the final state of the dirty slots, in key order: a Put when the
  // key exists, a Delete when it existed before, nothing when the batch both
  // created and deleted it. For edges, `in_edges` selects the copy.
  void WriteSlots(Cf which, const Slots& slots, bool in_edges);

  static void MarkEdgeDirty(const EdgeKeyParts& parts, Slot* slot);
  // Deletes the index entries of the changed entities that their final
  // state no longer has and puts the ones it gained, in key order.
  void WriteIdentifierKeys();
  // Reads slot.before's identifier keys into slot.old_identifier_keys.
  static absl::Status TakeOldIdentifierKeys(Slot& slot);
  static int64_t CountDelta(const Slots& slots);
  absl::Status MultiGet(Cf which, Slots* slots);

  bool UpsertEntity(const v1::Mutation& m, Slot& slot);
  // Whether entity `id` exists after the mutations processed so far: its
  // slot when the batch names or Load() read it, else Load() found it in
  // the cache.
  bool EntityExists(absl::string_view id) const;
  absl::StatusOr<bool> UpsertEdge(int index, const v1::Mutation& m,
                                  Entry& entry);
  bool UpsertSignal(const v1::Mutation& m, Slot& slot);
  bool DeleteEdge(const v1::Mutation& m, Slot& slot);
  // Whether `id` is another shard's (never, unpartitioned).
  bool IsRemote(absl::string_view id) const {
    return shard_of_ != nullptr && shard_of_(id) != shard_;
  }
  // Records `m` (a mutation of this shard's copy) in the outbox of the
  // shard holding the other copy, `peer`, as that copy's mutation.
  void EnqueueOtherCopy(int peer, const v1::Mutation& m);
  // The slot of a link mutation's copy: links_ for both copies or the
  // primary one, link_copies_ for the copy under the larger id alone.
  Entry* LinkEntry(const std::string& a, const std::string& b,
                   v1::EdgeCopy copy);
  // Records the copy of edge `parts` on `id`'s shard as one to delete there
  // (remote_copies() and the outbox).
  void AddRemoteCopy(const EdgeKeyParts& parts, v1::EdgeCopy copy,
                     absl::string_view id);
  bool DeleteSignal(const v1::Mutation& m, Slot& slot);
  // Upserts a link (key: the copy under entity_a, the smaller id) unless
  // an endpoint does not exist (INVALID_ARGUMENT) or the stored link is
  // NEGATIVE or a reviewer's and the new one is not a reviewer's (then
  // unchanged: false).
  absl::StatusOr<bool> UpsertLink(int index, const v1::Mutation& m,
                                  Entry& entry);
  bool DeleteLink(const v1::Mutation& m, Slot& slot);
  static void MarkLinkDirty(absl::string_view key, Slot* slot);
  // Deletes the entity and every edge touching it: those stored (found by
  // scanning both edge column families) and those upserted earlier in the
  // batch, unless already deleted; and its links but the NEGATIVE ones.
  absl::StatusOr<bool> DeleteEntity(const v1::Mutation& m, Slot& slot);
  absl::Status CascadeLinks(absl::string_view id);

  rocksdb::ColumnFamilyHandle* handle(Cf which) const { return cfs_[which]; }

  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& cfs_;
  const int64_t sequence_;
  const absl::Time commit_time_;
  const EntityIdSet* const entity_ids_;
  const ShardOf shard_of_;
  const int shard_;

  Slots entities_;
  Slots edges_;  // By out-edge key.
  // Partitioned: in-copies whose out-copy is another shard's, by in-edge key.
  Slots in_copies_;
  Slots signals_;
  Slots links_;  // By the key of the copy under entity_a.
  // Partitioned: copies under the larger id of links whose copy under the
  // smaller id is another shard's, by their own key. Not counted.
  Slots link_copies_;
  Slots idempotency_;
  // The slot of each mutation, by index; null for KIND_NOT_SET.
  std::vector<Entry*> slots_;
  // Whether the batch deletes an entity; only then does it need
  // batch_edges_by_entity_.
  bool track_created_edges_ = false;
  // Out-edge keys of the edges this batch created, by endpoint id.
  absl::node_hash_map<std::string, std::vector<std::string>>
      batch_edges_by_entity_;
  // Link keys of the links this batch created, by entity id.
  absl::node_hash_map<std::string, std::vector<std::string>>
      batch_links_by_entity_;
  // Keys of the link_copies_ this batch created, by owner id.
  absl::node_hash_map<std::string, std::vector<std::string>>
      batch_link_copies_by_entity_;
  // In-edge keys of the in-copies (in_copies_) this batch created, by to_id.
  absl::node_hash_map<std::string, std::vector<std::string>>
      batch_in_copies_by_entity_;
  // Keys of this batch's non-duplicate mutations, to record.
  absl::flat_hash_set<std::string> new_idempotency_keys_;
  // Keys the batch's mutations release (Mutation.release_idempotency_key).
  absl::flat_hash_set<std::string> released_idempotency_keys_;
  std::vector<RemoteEdgeCopy> remote_copies_;
  std::vector<OutboxWrite> outbox_;

  rocksdb::WriteBatch batch_;
  std::string origin_;       // set_origin().
  std::string change_body_;  // Change.mutations, encoded.
  int applied_count_ = 0;
  int cascaded_edge_deletes_ = 0;
  int cascaded_link_deletes_ = 0;
};

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_BATCH_BUILDER_H_
