// File: services/graphstore/shard_store.h
//
// ShardStore: the graph store of one graphstore shard. It wraps the store and
// lets through only requests for the partitions this shard owns under the
// partition map (docs/scale-out.md); a request that names an entity, edge,
// signal or link of another shard's partition gets FAILED_PRECONDITION naming
// the field and the owning shard ("graphstore-<i>"). In an Apply batch each
// such mutation is a rejection (InvalidMutations::kReject) or fails the batch
// (kFailBatch), as an invalid mutation does. Calls that name no id (listing
// signals, identifier lookups, exports, the change log, stats) answer for
// this shard's records alone.
//
//   ShardFlags flags;
//   flags.partition_map = "0=0-511;1=512-1023";
//   flags.shard_index = 1;
//   absl::StatusOr<ShardConfig> shard = ShardConfigFromFlags(flags);
//   auto sharded = ShardStore::Create(rocksdb_store.get(), *shard);
//   GraphStoreService service(sharded->get(), {}, &registry);
//
// Ids of a malformed form are not checked here: the store answers them with
// INVALID_ARGUMENT, as before. An edge with both ends on this shard is
// written whole (edge_copy EDGE_COPY_BOTH); an edge across shards only as one
// copy: EDGE_COPY_OUT when from_id is this shard's and to_id another's,
// EDGE_COPY_IN the other way round (anything else is refused, naming the
// field). A link is written the same way: whole when both ends are here,
// else only its copy under this shard's end (EDGE_COPY_OUT: under entity_a,
// EDGE_COPY_IN: under entity_b). GetLink answers when either end is here.
//
// Thread-safe; the wrapped store must outlive the ShardStore.
#ifndef GEORISK_SERVICES_GRAPHSTORE_SHARD_STORE_H_
#define GEORISK_SERVICES_GRAPHSTORE_SHARD_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/graph_store.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {

// Which shard this process is, under which map.
struct ShardConfig {
  storage::PartitionMap map = storage::PartitionMap::Single();
  int shard_index = 0;
};

// The shard flags of graphstore's main.cc.
struct ShardFlags {
  // --partition_map: the map's text inline ("0=0-511;1=512-1023").
  std::string partition_map;
  // --partition_map_file: a file holding the map's text (the ConfigMap's).
  std::string partition_map_file;
  // --shard_index.
  int shard_index = 0;
};

// The configuration the flags give: neither map flag means one shard owning
// every partition (graphstore unpartitioned).
// Errors: INVALID_ARGUMENT naming the flag: both map flags given, a map that
// does not parse ("--partition_map_file /etc/georisk/map: line 3: ..."),
// a shard index outside the map ("--shard_index: 3, but the partition map
// has shards 0 to 2"); NOT_FOUND for a map file that cannot be read.
absl::StatusOr<ShardConfig> ShardConfigFromFlags(const ShardFlags& flags);

class ShardStore final : public storage::GraphStore {
 public:
  // Errors: INVALID_ARGUMENT when config.shard_index is not a shard of the
  // map. `clock` gives the commit time reported for a batch of which no
  // mutation was this shard's (nothing is written).
  static absl::StatusOr<std::unique_ptr<ShardStore>> Create(
      storage::GraphStore* store, ShardConfig config,
      std::function<absl::Time()> clock = absl::Now);

  // OK when this shard owns the partition of `id`; otherwise
  // FAILED_PRECONDITION "<field>: <id> is in partition P, owned by shard
  // graphstore-S, not by this shard (graphstore-I)".
  absl::Status CheckOwned(absl::string_view id, absl::string_view field) const;

  const ShardConfig& config() const { return config_; }

  using storage::GraphStore::Apply;
  absl::StatusOr<storage::ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
      storage::InvalidMutations invalid) override;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<storage::EdgePage> ListEdges(
      const storage::EdgeQuery& query) override;
  absl::StatusOr<storage::TraverseResult> Traverse(
      const storage::TraverseQuery& query) override;
  absl::StatusOr<storage::SignalPage> ListSignals(
      const storage::SignalQuery& query) override;
  absl::StatusOr<storage::LinkPage> ListLinks(
      const storage::LinkQuery& query) override;
  absl::StatusOr<v1::Link> GetLink(absl::string_view entity_a,
                                   absl::string_view entity_b) override;
  absl::StatusOr<std::vector<v1::Change>> ReadChanges(
      int64_t from_sequence, int max_changes, int64_t max_bytes) override;
  int64_t WaitForSequence(int64_t sequence, absl::Time deadline) override;
  absl::StatusOr<storage::IdentifierPage> LookupByIdentifier(
      const storage::IdentifierQuery& query) override;
  absl::Status ExportSnapshot(
      const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
      int chunk_records) override;
  absl::StatusOr<storage::StoreStats> GetStats() override;
  int64_t LastSequence() override;
  CommitWatermark Watermark() override;
  const std::string& GraphId() const override;

 private:
  // A mutation's first id of another shard: the field (relative to the
  // mutation, "upsert_edge.to_id") and the reason.
  struct Unowned {
    std::string field;
    std::string reason;
  };

  ShardStore(storage::GraphStore* store, ShardConfig config,
             std::function<absl::Time()> clock)
      : store_(store), config_(std::move(config)), clock_(std::move(clock)) {}

  // Why this shard does not own `id` (an entity id when `signal` is false),
  // or nullopt when it does or when `id` is malformed (left to the store).
  std::optional<std::string> NotOwnedReason(absl::string_view id,
                                            bool signal) const;
  // The first id of `mutation` on another shard, checking an edge's or a
  // link's ends in order.
  std::optional<Unowned> FindUnowned(const v1::Mutation& mutation) const;

  storage::GraphStore* const store_;
  const ShardConfig config_;
  const std::function<absl::Time()> clock_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_SHARD_STORE_H_
