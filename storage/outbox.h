// File: storage/outbox.h
//
// The outbox of a graphstore shard (docs/scale-out.md, "The outbox"): the
// copies of edges and links that this shard's commits still owe to other
// shards. A commit that writes one copy of an edge or link across shards
// writes, in the same RocksDB WriteBatch, an entry holding the mutation of
// the other copy for the shard that holds it (storage/internal/
// batch_builder.h says which mutations do); the forwarder
// (services/graphstore/outbox_forwarder.h) reads the entries of each peer in
// commit order, delivers them, and acknowledges them once the peer has
// answered, which deletes them in one WriteBatch. An entry survives restarts
// and kill -9 until it is acknowledged.
//
//   absl::StatusOr<std::vector<OutboxEntry>> pending =
//       outbox->ReadOutbox(/*peer=*/2, /*limit=*/500);
//   ... deliver (*pending)[i].mutation to graphstore-2 ...
//   RETURN_IF_ERROR(outbox->AcknowledgeOutbox(keys));
//
// Thread-safe.
#ifndef GEORISK_STORAGE_OUTBOX_H_
#define GEORISK_STORAGE_OUTBOX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::storage {

// One pending entry.
struct OutboxEntry {
  // Its key in the outbox (opaque), for AcknowledgeOutbox().
  std::string key;
  // The shard it is for.
  int peer = 0;
  // The commit that wrote it, and that commit's time.
  int64_t sequence = 0;
  absl::Time enqueued;
  // The mutation to apply on `peer`: one copy of an edge or link
  // (edge_copy EDGE_COPY_OUT or EDGE_COPY_IN).
  v1::Mutation mutation;
};

// Pending entries of one peer.
struct OutboxPeerStats {
  int peer = 0;
  int64_t pending = 0;
  // The commit time of the oldest pending entry; InfinitePast when none.
  absl::Time oldest = absl::InfinitePast();
};

class Outbox {
 public:
  virtual ~Outbox() = default;

  // Up to `limit` (>= 1) pending entries for `peer`, oldest first.
  // Errors: INVALID_ARGUMENT for a peer outside 0..65535 or limit < 1;
  // DATA_LOSS for an entry that does not decode; storage errors.
  virtual absl::StatusOr<std::vector<OutboxEntry>> ReadOutbox(int peer,
                                                              int limit) = 0;

  // Deletes the entries of these keys (OutboxEntry::key), in one WriteBatch
  // written with the store's sync option. A key already deleted or never
  // written is ignored. Errors: storage errors (nothing is deleted).
  virtual absl::Status AcknowledgeOutbox(
      absl::Span<const std::string> keys) = 0;

  // The pending count and the oldest entry of every peer with entries, by
  // peer. Cheap: counts are kept in memory, the oldest is one seek per peer.
  virtual std::vector<OutboxPeerStats> OutboxStats() = 0;

  // Returns once an entry is pending for any peer, or at `deadline`; true
  // when some are.
  virtual bool WaitForOutbox(absl::Time deadline) = 0;
};

}  // namespace georisk::storage

#endif  // GEORISK_STORAGE_OUTBOX_H_
