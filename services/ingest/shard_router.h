// File: services/ingest/shard_router.h
//
// Writes across graphstore shards (docs/scale-out.md, "Writes across
// shards"). SplitByShard() is the pure routing: which shard each mutation of
// a batch goes to, an edge across shards as its two copies. ShardedClient is
// a GraphStoreClient over one client per shard that applies a batch through
// that split, so BatchApplier, sessions and IngestService work unchanged
// over N shards.
//
//   absl::StatusOr<storage::PartitionMap> map =
//       storage::PartitionMap::Parse("0=0-341;1=342-682;2=683-1023");
//   std::vector<std::unique_ptr<GraphStoreClient>> shards = ...;  // 0..2
//   auto client = ShardedClient::Create(*map, std::move(shards));
//   BatchApplier applier(client->get(), options, &metrics);
//
// Routing: an entity, an entity delete, a signal and a signal delete go to
// the shard of their id's partition; an edge whose ends are on one shard
// goes there whole; an edge from shard S to shard T is two mutations, its
// out-copy (edge_copy EDGE_COPY_OUT) on S and its in-copy (EDGE_COPY_IN) on
// T, with the idempotency keys "<key>/out" and "<key>/in" when the record has
// a key. A link is routed the same way by its ends, entity_a and entity_b:
// whole on their shard when it is one, else its copy under entity_a
// (EDGE_COPY_OUT) on entity_a's shard and its copy under entity_b
// (EDGE_COPY_IN) on entity_b's. A record's outcome is its shard's; a
// split record's is APPLIED when either copy was, DUPLICATE when both were,
// else UNCHANGED, and REJECTED (with the copy's field and reason) when
// either copy was rejected, in which case the other copy, if it was
// accepted, is deleted again with release_idempotency_key set to its key,
// so that the batch sent again later writes both.
//
// Both copies are written by this client for low latency; what makes the
// pair converge when this process dies between the two commits is each
// shard's outbox (docs/scale-out.md, "The outbox"): the shard that commits
// one copy also commits, in the same WriteBatch, the other copy for its
// shard, and delivers it there itself.
//
// What is atomic: each shard's part of a batch is one Apply, one RocksDB
// WriteBatch on that shard; nothing spans shards. The parts go to the
// shards at once; until every part is committed, a reader can see one
// shard's part and not another's, e.g. an edge's out-copy without its
// in-copy. Apply() answers OK only once every part (and every undo and
// cascade below) is committed, so acknowledged means durable on every shard
// it touches. When a shard fails, Apply() fails with that shard's error
// ("graphstore-2: ..."): parts other shards committed stay committed, and
// sending the same batch again (BatchApplier does, for UNAVAILABLE)
// completes it, the committed parts answering DUPLICATE (with keys) or
// UNCHANGED.
//
// Without reject_invalid (ingest always sets it), a mutation that breaks a
// rule fails its shard's part with that shard's error, its index renamed to
// the batch's ("graphstore-1: mutations[7].upsert_edge.weight: ..."), but
// other shards' parts may have been committed: the batch is not all or
// nothing across shards.
//
// Entity deletes: a shard that deletes an entity deletes the copies it holds
// of the entity's edges and names, in ApplyResponse.remote_edge_copies, the
// copies other shards hold; ShardedClient deletes those before it goes on.
// A batch is therefore applied in segments, each ending at an entity delete,
// so that later mutations of the batch see the cascade as on one store.
// Remote deletes that fail are kept (in memory) and retried first by every
// later Apply until they succeed; Apply() fails meanwhile. If ingest itself
// dies first they are not lost: the shard that cascaded them put the same
// deletes in its outbox, which delivers them. A link's copy on another shard
// is deleted by the outbox alone (ApplyResponse names no remote links).
//
// The sequence answered is the sum over shards of the highest commit
// sequence each answered this client, so it never goes backwards.
//
// ListSignals pages through shard 0, then 1, ...; its page token carries
// the shard and that shard's token ("<shard>:<token>"); a token that does not
// parse is INVALID_ARGUMENT naming page_token. ExportSnapshot concatenates
// the shards' exports, each at its own snapshot (an edge across shards is
// exported once, by its out-copy's shard).
//
// Cancellation: `cancel` is checked before each round of calls; a call to
// one shard is cancelled with it, calls to several at once run to their
// deadline (a Cancellation holds one hook).
//
// Thread-safe: calls may run concurrently (each shard's client is).
#ifndef GEORISK_SERVICES_INGEST_SHARD_ROUTER_H_
#define GEORISK_SERVICES_INGEST_SHARD_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/graphstore.pb.h"
#include "services/ingest/cancellation.h"
#include "services/ingest/graphstore_client.h"
#include "storage/partition_map.h"

namespace georisk::ingest {

// One mutation of a shard's part of a batch, and where it came from.
struct RoutedMutation {
  // Its index in the batch.
  int index = 0;
  // EDGE_COPY_BOTH for a mutation sent whole; the copy for a split edge.
  v1::EdgeCopy copy = v1::EDGE_COPY_BOTH;
  v1::Mutation mutation;
};

// `mutations` split by shard: result[s] is shard s's part, in batch order.
// Pure.
std::vector<std::vector<RoutedMutation>> SplitByShard(
    const storage::PartitionMap& map,
    absl::Span<const v1::Mutation* const> mutations);
std::vector<std::vector<RoutedMutation>> SplitByShard(
    const storage::PartitionMap& map, absl::Span<const v1::Mutation> mutations);

// The shard a mutation is routed to by its `end` (for an edge: from_id when
// `end` is EDGE_COPY_OUT or BOTH, to_id when EDGE_COPY_IN).
int ShardOfMutation(const storage::PartitionMap& map, const v1::Mutation& m,
                    v1::EdgeCopy end = v1::EDGE_COPY_BOTH);

// Merges the outcomes of a split edge's two copies (see the file comment).
v1::MutationOutcome MergeCopyOutcomes(v1::MutationOutcome out,
                                      v1::MutationOutcome in);

class ShardedClient final : public GraphStoreClient {
 public:
  // `shards[i]` is the client of shard i (graphstore-i).
  // Errors: INVALID_ARGUMENT when there is not one client per shard of
  // `map`.
  static absl::StatusOr<std::unique_ptr<ShardedClient>> Create(
      storage::PartitionMap map,
      std::vector<std::unique_ptr<GraphStoreClient>> shards);

  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request,
                                          absl::Time deadline,
                                          Cancellation* cancel) override;
  absl::StatusOr<v1::ListSignalsResponse> ListSignals(
      const v1::ListSignalsRequest& request, absl::Time deadline,
      Cancellation* cancel) override;
  absl::Status ExportSnapshot(
      const std::function<void(v1::ExportSnapshotResponse&)>& on_chunk,
      absl::Time deadline, Cancellation* cancel) override;

  // Remote copies still to delete (see the file comment).
  int pending_remote_deletes() const;

 private:
  ShardedClient(storage::PartitionMap map,
                std::vector<std::unique_ptr<GraphStoreClient>> shards);

  // Applies `requests[s]` to each shard s with mutations, at once; the
  // answers by shard. Errors: the first failed shard's (a non-retryable
  // code before UNAVAILABLE/DEADLINE_EXCEEDED), naming it.
  absl::StatusOr<std::vector<v1::ApplyResponse>> ApplyToShards(
      const std::vector<v1::ApplyRequest>& requests, absl::Time deadline,
      Cancellation* cancel);
  // Applies one segment of a batch: mutations [begin, end) of `request`,
  // filling their outcomes and rejections in `response` and the copies its
  // entity deletes cascaded into `cascades` (one request per shard).
  absl::Status ApplySegment(const v1::ApplyRequest& request, int begin, int end,
                            absl::Time deadline, Cancellation* cancel,
                            v1::ApplyResponse* response,
                            std::vector<v1::ApplyRequest>* cascades);
  // Deletes the pending remote copies; OK when none is left.
  absl::Status FlushRemoteDeletes(absl::Time deadline, Cancellation* cancel);
  void NoteSequence(int shard, int64_t sequence);
  int64_t SequenceSum() const;

  const storage::PartitionMap map_;
  const std::vector<std::unique_ptr<GraphStoreClient>> shards_;
  // The highest sequence each shard answered.
  std::vector<std::atomic<int64_t>> sequences_;
  mutable absl::Mutex pending_mu_;
  // Remote copies to delete, one request per shard (empty: none).
  std::vector<v1::ApplyRequest> pending_ ABSL_GUARDED_BY(pending_mu_);
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SHARD_ROUTER_H_
