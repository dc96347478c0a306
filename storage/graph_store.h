// File: storage/graph_store.h
//
// GraphStore is the durable home of the supply-chain graph: entities, edges,
// signals and links (georisk/v1/graph.proto), changed only by atomic batches of
// mutations, each of which appends one record to a change log so that every
// commit has a sequence number (1, 2, 3... with no gaps) and can be replayed.
// The RocksDB implementation is RocksDbGraphStore (rocksdb_graph_store.h).
//
// Example:
//
//   std::unique_ptr<GraphStore> store = ...;  // RocksDbGraphStore::Open(...)
//
//   std::vector<v1::Mutation> batch(2);
//   *batch[0].mutable_upsert_entity() = tsmc;
//   *batch[1].mutable_upsert_edge() = tsmc_supplies_apple;
//   absl::StatusOr<ApplyResult> applied = store->Apply(batch, "georiskctl");
//   if (!applied.ok()) return applied.status();  // Nothing was written.
//
//   EdgeQuery query;
//   query.entity_id = "company/tsmc";
//   do {
//     absl::StatusOr<EdgePage> page = store->ListEdges(query);
//     if (!page.ok()) return page.status();
//     Use(page->edges);
//     query.page_token = page->next_page_token;
//   } while (!query.page_token.empty());
//
//   // Follow the change log live.
//   int64_t next = 1;
//   while (running) {
//     absl::StatusOr<std::vector<v1::Change>> changes =
//         store->ReadChanges(next, /*max_changes=*/100, /*max_bytes=*/0);
//     ...; next = changes->back().sequence() + 1;
//     store->WaitForSequence(next, absl::Now() + absl::Seconds(1));
//   }
//
// Thread safety: every method may be called concurrently from any number of
// threads. Commits are serialised; reads never block commits and each read
// call sees one consistent snapshot. The store must outlive every call in
// progress.
//
// Errors are absl::Status values with the most specific code; each method
// lists the codes it returns besides INTERNAL/DATA_LOSS (storage failures or
// corruption) and UNAVAILABLE (the store is busy or shutting down; retry).
#ifndef GEORISK_STORAGE_GRAPH_STORE_H_
#define GEORISK_STORAGE_GRAPH_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "domain/paging.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::storage {

// Limits of the list and traverse calls (graphstore.proto).
using domain::kDefaultPageSize;
using domain::kMaxPageSize;

// What Apply() did with one mutation (graphstore.proto's MutationOutcome,
// converted at the RPC edge).
enum class MutationOutcome {
  // Written: the batch commits.
  kApplied,
  // Its idempotency key was applied before, in an earlier commit or earlier in
  // the same batch: skipped.
  kDuplicate,
  // An upsert identical to the stored record (output-only fields aside), or a
  // delete of something absent: nothing to write.
  kUnchanged,
  // Broke a rule and was skipped (InvalidMutations::kReject only): see
  // ApplyResult::rejections.
  kRejected,
};

// Which edges of an entity a query reads (graphstore.proto's Direction, whose
// UNSPECIFIED the RPC edge maps to kOutbound).
enum class Direction {
  // Edges whose from_id is the entity (out_edges).
  kOutbound,
  // Edges whose to_id is the entity (in_edges).
  kInbound,
  // Outbound ones, then inbound ones; a self-loop only once.
  kBoth,
};

// What Apply() does with a mutation that breaks a rule (validation.h, or an
// upserted edge whose endpoint does not exist at that point of the batch).
enum class InvalidMutations {
  // The whole batch fails with INVALID_ARGUMENT; nothing is written.
  kFailBatch,
  // That mutation alone is skipped: outcome MUTATION_OUTCOME_REJECTED and an
  // entry in ApplyResult::rejections. The others commit together, in one
  // WriteBatch, each seeing the graph as left by the valid ones before it.
  kReject,
};

// A mutation Apply() skipped under InvalidMutations::kReject.
struct MutationRejection {
  // Its index in the batch.
  int index = 0;
  // The field at fault, relative to the mutation ("upsert_edge.to_id");
  // empty when the mutation as a whole is at fault.
  std::string field;
  // Why, e.g. "entity company/x does not exist".
  std::string reason;
};

// Whether `id` has the form of a graph id (GraphStore::GraphId()): 32
// lowercase hex characters. Thread-safe; pure.
bool IsGraphId(absl::string_view id);

// A new graph id: 128 bits from a nondeterministically seeded generator, as
// 32 lowercase hex characters. Thread-safe.
std::string MintGraphId();

// A copy of an edge that another shard holds (ApplyResult).
struct RemoteEdgeCopy {
  v1::EdgeKey key;
  // EDGE_COPY_OUT (on the shard of key.from_id) or EDGE_COPY_IN (on the
  // shard of key.to_id).
  v1::EdgeCopy copy = v1::EDGE_COPY_OUT;
  int shard = 0;
};

// What Apply() did.
struct ApplyResult {
  // The commit sequence of the batch or, when nothing changed, the last
  // sequence committed before it (0 for an empty store).
  int64_t sequence = 0;
  // The commit time, also the update_time of the entities written. When
  // nothing changed: the time of the call.
  absl::Time commit_time;
  // One per mutation, in order.
  std::vector<MutationOutcome> outcomes;
  // Edges deleted because an entity they touch was deleted.
  int cascaded_edge_deletes = 0;
  // POSITIVE and UNSURE links deleted because an entity they name was
  // deleted (NEGATIVE ones are kept).
  int cascaded_link_deletes = 0;
  // Under InvalidMutations::kReject: the mutations skipped, by index.
  std::vector<MutationRejection> rejections;
  // On a shard of a partitioned store: the copies, held by other shards, of
  // the edges that this batch's entity deletes cascaded (docs/scale-out.md,
  // "Deleting an entity"), in the order of the cascade.
  std::vector<RemoteEdgeCopy> remote_edge_copies;
};

// A ListEdges() request.
struct EdgeQuery {
  // Required: the entity whose edges to list.
  std::string entity_id;
  // See Direction.
  Direction direction = Direction::kOutbound;
  // Only these kinds; empty means all.
  std::vector<v1::Edge::Kind> kinds;
  // Only edges in effect at this time (effective_from <= t <
  // effective_until); unset means every edge.
  std::optional<absl::Time> active_at;
  // 0 means kDefaultPageSize; larger than kMaxPageSize means kMaxPageSize.
  int page_size = 0;
  // From a previous page's next_page_token, with every other field unchanged;
  // empty for the first page.
  std::string page_token;
};

struct EdgePage {
  // In key order: by direction (outbound first), then kind, then the other
  // endpoint's id, then product code.
  std::vector<v1::Edge> edges;
  // Empty on the last page.
  std::string next_page_token;
};

// A Traverse() request.
struct TraverseQuery {
  // Required, at least one; each must exist.
  std::vector<std::string> start_ids;
  // Which edges to follow.
  Direction direction = Direction::kOutbound;
  // Follow only these kinds; empty means all.
  std::vector<v1::Edge::Kind> kinds;
  // Required: 1 to the store's maximum (8 by default). Depth 1 returns the
  // start entities and their neighbours.
  int max_depth = 1;
  // Stop after this many entities; 0 means, and larger values are lowered to,
  // the store's maximum (10,000 by default).
  int max_entities = 0;
  // Follow only edges in effect at this time.
  std::optional<absl::Time> active_at;
  // Also return the edges followed.
  bool include_edges = false;
};

// The checks of a Traverse() request that need no data, in order, with the
// store's messages: start_ids (at least one, each an entity id), max_depth
// (1 to `max_traverse_depth`), max_entities (>= 0), direction, kinds.
// INVALID_ARGUMENT naming the field. Shared by every implementation.
absl::Status CheckTraverseQuery(const TraverseQuery& query,
                                int max_traverse_depth);

struct TraversedEntity {
  v1::Entity entity;
  int depth = 0;  // 0 for start entities.
};

struct TraverseResult {
  // Breadth-first order; each entity once, at its smallest depth.
  std::vector<TraversedEntity> entities;
  // When include_edges: every edge followed from an expanded entity to an
  // entity in `entities`, once each.
  std::vector<v1::Edge> edges;
  // True when max_entities stopped the traversal early.
  bool truncated = false;
  // The commit sequence of the snapshot read.
  int64_t sequence = 0;
};

// A ListSignals() request. The filters combine with AND; empty means none.
struct SignalQuery {
  std::vector<v1::SignalKind> kinds;
  // Export controls that name this entity among their targets.
  std::string target_id;
  // Signals whose source equals this.
  std::string source;
  // Export controls of this authority.
  std::string authority;
  // Signals in effect at this time.
  std::optional<absl::Time> active_at;
  // As for EdgeQuery.
  int page_size = 0;
  std::string page_token;
};

struct SignalPage {
  // In key order (partition, then id): stable, but not alphabetical.
  std::vector<v1::Signal> signals;
  std::string next_page_token;
};

// A LookupByIdentifier() request (graphstore.proto's
// LookupByIdentifierRequest).
struct IdentifierQuery {
  // Required: a scheme of resolve/identifiers.h's table ("lei",
  // "csl_entity_number"...), any case.
  std::string scheme;
  // Required: the identifier, as written anywhere; normalised by the
  // scheme's rule (resolve::NormalizeIdentifier).
  std::string value;
  // Optional: the jurisdiction (ISO 3166-1 alpha-2, any case) of a
  // registration or tax number written without "CC:"; other schemes ignore
  // it.
  std::string country;
  // Also match the same identifier under another scheme: today OFAC's uid,
  // which the CSL writes as csl_entity_number N and OpenSanctions as the id
  // or referent "ofac-N". Changes nothing for other schemes.
  bool include_equivalent = false;
  // As for EdgeQuery.
  int page_size = 0;
  std::string page_token;
};

struct IdentifierPage {
  // The entities that carry the identifier, by id, read at one snapshot.
  std::vector<v1::Entity> entities;
  // Empty on the last page.
  std::string next_page_token;
  // The identifier looked up, normalised: "lei", "549300617UK8WPPT6W46".
  std::string scheme;
  std::string value;
  // The commit sequence of the snapshot read.
  int64_t sequence = 0;
};

// A ListLinks() request.
struct LinkQuery {
  // The entity whose links to list (it need not exist: the NEGATIVE links of
  // a deleted entity are kept); empty lists every link once.
  std::string entity_id;
  // Only links with this judgement; JUDGEMENT_UNSPECIFIED means all.
  v1::Link::Judgement judgement = v1::Link::JUDGEMENT_UNSPECIFIED;
  // As for EdgeQuery.
  int page_size = 0;
  std::string page_token;
};

struct LinkPage {
  // For an entity: by the other entity's id. For every link: in key order
  // (partition of entity_a, then the pair): stable, not alphabetical.
  std::vector<v1::Link> links;
  std::string next_page_token;
};

// One piece of ExportSnapshot()'s output.
struct SnapshotChunk {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  // Each link once (entity_a < entity_b), after every signal.
  std::vector<v1::Link> links;
  // The commit sequence of the snapshot; the same in every chunk.
  int64_t sequence = 0;
  // The graph's identity (GraphStore::GraphId()); the same in every chunk.
  std::string graph_id;
  // The shard whose snapshot the chunk is: 0 for one store; through the
  // router (services/graphstore/routed_store.h), each shard's export in turn,
  // `sequence` and `graph_id` being that shard's.
  int shard = 0;
};

struct StoreStats {
  int64_t entity_count = 0;
  int64_t edge_count = 0;
  int64_t signal_count = 0;
  // Each link once.
  int64_t link_count = 0;
  // 0 for an empty store.
  int64_t last_sequence = 0;
  // The oldest sequence still in the change log; 0 when it is empty.
  int64_t oldest_retained_sequence = 0;
  // Approximate bytes on disk: SST files of every column family plus the
  // live write-ahead log.
  int64_t disk_bytes = 0;
  // The graph's identity (GraphStore::GraphId()).
  std::string graph_id;
  // Empty while the store accepts writes; otherwise why it does not, e.g.
  // "writes are stopped: the disk under /var/lib/georisk/graph is full
  // (...)". Reads work either way.
  std::string writes_stopped_reason;
};

// The longest origin Apply() takes (every record a commit writes keeps it).
inline constexpr size_t kMaxOriginBytes = 256;

class GraphStore {
 public:
  GraphStore() = default;
  GraphStore(const GraphStore&) = delete;
  GraphStore& operator=(const GraphStore&) = delete;
  virtual ~GraphStore() = default;

  // Applies `mutations` atomically, in order, as one commit: each sees the
  // graph as left by the ones before it. `origin` ("ingest", "georiskctl
  // import ...", at most kMaxOriginBytes) is recorded in the change log and
  // by every entity, edge, signal and link the commit writes (their
  // update_origin; an upsert that changes nothing writes nothing and keeps
  // the origin it had). The store does not keep the pointers.
  //
  // Each mutation's outcome is kApplied, kDuplicate (its idempotency key was
  // applied before, in an earlier commit or earlier in this batch: skipped)
  // or kUnchanged (an upsert identical to the stored record, output-only
  // fields aside, or a delete of something absent). A batch with at least
  // one kApplied mutation gets the next sequence and one change-log record;
  // one without gets neither. Deleting an entity deletes every edge touching
  // it, both copies, in the same commit; the change log lists those edge
  // deletes right after the entity delete. The store sets update_sequence,
  // update_origin and an entity's update_time, and ignores the values
  // sent.
  //
  // Returns only once the commit is durable as configured (see
  // RocksDbGraphStoreOptions::sync).
  //
  // `invalid` says what a mutation that breaks a rule does: fail the batch
  // (kFailBatch, the two-argument overloads) or be skipped alone (kReject:
  // outcome REJECTED, listed in rejections; validating a batch against the
  // graph once instead of bisecting it).
  //
  // Errors (nothing of the batch is written):
  //   INVALID_ARGUMENT: no mutations, an origin longer than
  //     kMaxOriginBytes, or (kFailBatch only) a mutation breaks
  //     a rule of validation.h, or an upserted edge names an entity that does
  //     not exist at that point of the batch (neither stored nor upserted
  //     earlier in it, or deleted in between). The message starts with the
  //     field path:
  //     "mutations[3].upsert_edge.to_id: entity company/x does not exist".
  //   RESOURCE_EXHAUSTED: more mutations than the store's maximum per batch.
  //   UNAVAILABLE: the store cannot make a write durable now (its disk is
  //     full, a write-ahead-log write failed): writes are stopped until the
  //     storage recovers, reads go on. The message names the cause. Retry
  //     later; the batch was not applied.
  virtual absl::StatusOr<ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
      InvalidMutations invalid) = 0;

  // Apply(mutations, origin, InvalidMutations::kFailBatch).
  absl::StatusOr<ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations,
      absl::string_view origin);

  // Convenience overloads for a contiguous array (std::vector, braces).
  // (A google::protobuf::RepeatedPtrField<v1::Mutation> converts to the span
  // of pointers above directly.)
  absl::StatusOr<ApplyResult> Apply(absl::Span<const v1::Mutation> mutations,
                                    absl::string_view origin);
  absl::StatusOr<ApplyResult> Apply(absl::Span<const v1::Mutation> mutations,
                                    absl::string_view origin,
                                    InvalidMutations invalid);

  // Returns the entity with this id.
  // Errors: INVALID_ARGUMENT (malformed id), NOT_FOUND.
  virtual absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) = 0;

  // Returns one page of an entity's edges, read at one snapshot per call.
  // Pages of one listing may come from different snapshots: an edge written
  // or deleted between calls may or may not appear, but no edge appears
  // twice and none that existed throughout is missed.
  // Errors: INVALID_ARGUMENT (malformed entity_id, negative page_size,
  //   unknown kind, a page token that is corrupt or from another query),
  //   NOT_FOUND (no such entity).
  virtual absl::StatusOr<EdgePage> ListEdges(const EdgeQuery& query) = 0;

  // Breadth-first traversal from query.start_ids, every read at one snapshot.
  // Cycle-safe: each entity is visited once, at its smallest depth.
  // Errors: INVALID_ARGUMENT (no start ids, a malformed one, max_depth out of
  //   range, negative max_entities, unknown kind), NOT_FOUND (a start id does
  //   not exist).
  virtual absl::StatusOr<TraverseResult> Traverse(
      const TraverseQuery& query) = 0;

  // Returns one page of the signals that pass the query's filters, read at
  // one snapshot. This scans the signals column family in key order and
  // filters as it goes (the signal set is small: thousands, not millions),
  // so a selective filter may read many signals for one page.
  // Errors: INVALID_ARGUMENT (a malformed filter value, negative page_size,
  //   a corrupt page token).
  virtual absl::StatusOr<SignalPage> ListSignals(const SignalQuery& query) = 0;

  // Returns one page of links, read at one snapshot (pages as ListEdges).
  // Errors: INVALID_ARGUMENT (malformed entity_id, unknown judgement,
  //   negative page_size, a page token that is corrupt or from another
  //   query).
  virtual absl::StatusOr<LinkPage> ListLinks(const LinkQuery& query) = 0;

  // Returns the link of this pair (either order).
  // Errors: INVALID_ARGUMENT (malformed or equal ids, or of two kinds:
  //   "entity_b: ..."), NOT_FOUND.
  virtual absl::StatusOr<v1::Link> GetLink(absl::string_view entity_a,
                                           absl::string_view entity_b) = 0;

  // Returns consecutive change-log records starting at `from_sequence` (0:
  // the oldest retained), at most `max_changes` of them (0: 1,000) and, past
  // the first, at most `max_bytes` of encoded records (0: 4 MiB). Empty when
  // `from_sequence` is past the last commit: wait with WaitForSequence().
  // Errors: INVALID_ARGUMENT (negative arguments), OUT_OF_RANGE
  //   (`from_sequence` was trimmed by retention: re-read the graph with
  //   ExportSnapshot() and continue from its sequence + 1).
  virtual absl::StatusOr<std::vector<v1::Change>> ReadChanges(
      int64_t from_sequence, int max_changes, int64_t max_bytes) = 0;

  // Blocks until the last committed sequence is >= `sequence` or `deadline`
  // passes, and returns the last committed sequence (which is < `sequence`
  // on timeout). Long waits should use short deadlines and loop, so that a
  // shutting-down server can stop its streams.
  virtual int64_t WaitForSequence(int64_t sequence, absl::Time deadline) = 0;

  // Returns one page of the entities whose identifiers include
  // (query.scheme, query.value), both normalised as resolve/identifiers.h
  // says, in id order, from the identifier index (no scan of the entities).
  // A stored identifier that fails its scheme's check is not indexed.
  // Errors: INVALID_ARGUMENT with the field at fault: "scheme: ..." (empty,
  //   or not in resolve's table), "value: ..." (empty, or malformed for its
  //   scheme: an LEI whose check digits fail, a registration number without
  //   a jurisdiction), "country: ..." (not two letters), "page_size: ..."
  //   (negative), "page_token: ..." (corrupt, or from another query).
  virtual absl::StatusOr<IdentifierPage> LookupByIdentifier(
      const IdentifierQuery& query) = 0;

  // Calls `callback` with chunks of every entity, edge (once each), signal
  // and link (once each) at one snapshot, at most `chunk_records` records per
  // chunk (0: 1,000), entities first, then edges, then signals, then links;
  // an empty store gives one empty
  // chunk. The callback may move the records out. A non-OK status from the
  // callback stops the export and is returned.
  virtual absl::Status ExportSnapshot(
      const std::function<absl::Status(SnapshotChunk&)>& callback,
      int chunk_records) = 0;

  // Counts, sequences and size. Counts and sequences are exact and O(1).
  virtual absl::StatusOr<StoreStats> GetStats() = 0;

  // The last committed sequence, 0 for an empty store.
  virtual int64_t LastSequence() = 0;

  // A promise about the commits to come: every commit after `sequence` will
  // carry a commit time at or after `time` (a watermark, in stream-processing
  // terms). A follower of several stores' change logs merges them in one
  // order, the same on every follower, with it (docs/scale-out.md, "Replicas
  // that agree"). `time` is InfinitePast when the store promises nothing;
  // the default promises nothing.
  struct CommitWatermark {
    int64_t sequence = 0;
    absl::Time time = absl::InfinitePast();
  };
  virtual CommitWatermark Watermark() { return {LastSequence()}; }

  // The graph's identity: 32 lowercase hex characters (128 random bits)
  // minted when the database was created, fixed for its lifetime. Sequences
  // are meaningful only together with it: a store rebuilt from scratch, or
  // a different database, has another id, so a follower can tell that the
  // position it holds belongs to another history. Never fails; constant.
  virtual const std::string& GraphId() const = 0;
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_GRAPH_STORE_H_
