// File: services/graphstore/routed_store.h
//
// RoutedGraphStore: the graph store a graphstore pod serves with --route
// (docs/scale-out.md, "Reads across shards"). Reads of any id are answered
// for the whole graph, from the shard that owns the id or from every shard:
//
//   GetEntity, ListEdges     the owner of the id (its edges' copies are all
//                            under its partition)
//   ListSignals,             every shard's pages merged in the order one
//   LookupByIdentifier       store lists them (key order; id order), the page
//                            token carrying one position per shard
//                            (routed_paging.h)
//   Traverse                 breadth first, level by level, each entity's
//                            edges from its owner
//   ExportSnapshot           every shard's export in turn (chunk.shard)
//
// Everything else is this pod's shard's alone, as without --route: Apply
// (ingest routes writes), the change log (each shard has its own; the
// scorer follows every shard), GetStats, and the links of the store
// interface (ListLinks, GetLink: this shard's copies). A link across shards
// has a copy on each end's shard; the Resolution service routes its link
// reads and reviews itself (routed_resolution.h).
//
//   std::vector<std::unique_ptr<ShardReader>> shards = ...;  // index i: i
//   auto routed = RoutedGraphStore::Create(local.get(), map, shard_index,
//                                          std::move(shards), {});
//   GraphStoreService service(routed->get(), {}, &registry);
//
// A read across shards is not one snapshot: each shard is read at its own
// moment. Thread-safe; `local` must outlive the router.
#ifndef GEORISK_SERVICES_GRAPHSTORE_ROUTED_STORE_H_
#define GEORISK_SERVICES_GRAPHSTORE_ROUTED_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/graphstore/shard_reader.h"
#include "storage/graph_store.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {

struct RouterOptions {
  // Traverse's limits, as the store's (RocksDbGraphStoreOptions).
  int max_traverse_depth = 8;
  int max_traverse_entities = 10000;
};

class RoutedGraphStore final : public storage::GraphStore {
 public:
  // `shards[i]` reads shard i of `map`; `local` is shard `shard_index`.
  // Errors: INVALID_ARGUMENT when the readers are not one per shard of the
  // map, or `shard_index` is not a shard of it.
  static absl::StatusOr<std::unique_ptr<RoutedGraphStore>> Create(
      storage::GraphStore* local, storage::PartitionMap map, int shard_index,
      std::vector<std::unique_ptr<ShardReader>> shards, RouterOptions options);

  using storage::GraphStore::Apply;
  absl::StatusOr<storage::ApplyResult> Apply(
      absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
      storage::InvalidMutations invalid) override;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<storage::EdgePage> ListEdges(
      const storage::EdgeQuery& query) override;
  // As the store's, but that an entity an edge names and its shard does not
  // hold (deleted there, its edges' remote copies not yet: docs/scale-out.md)
  // is left out with its edges instead of failing the call; `sequence` is
  // the sum of the shards' last sequences.
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
  // `sequence` is the sum of the sequences of the shards' pages read.
  absl::StatusOr<storage::IdentifierPage> LookupByIdentifier(
      const storage::IdentifierQuery& query) override;
  absl::Status ExportSnapshot(
      const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
      int chunk_records) override;
  absl::StatusOr<storage::StoreStats> GetStats() override;
  int64_t LastSequence() override;
  // This pod's shard's, as its change log.
  CommitWatermark Watermark() override;
  const std::string& GraphId() const override;

 private:
  RoutedGraphStore(storage::GraphStore* local, storage::PartitionMap map,
                   std::vector<std::unique_ptr<ShardReader>> shards,
                   RouterOptions options)
      : local_(local),
        map_(std::move(map)),
        shards_(std::move(shards)),
        options_(options) {}

  ShardReader& OwnerOf(absl::string_view id) const {
    return *shards_[map_.ShardOf(id)];
  }

  storage::GraphStore* const local_;
  const storage::PartitionMap map_;
  const std::vector<std::unique_ptr<ShardReader>> shards_;
  const RouterOptions options_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_ROUTED_STORE_H_
