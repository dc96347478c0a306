// File: storage/internal/entity_id_set.h
//
// EntityIdSet: an exact in-memory set of entity ids, compact enough to hold
// millions. The graph store keeps the ids of entities known to exist in one,
// so that Apply can check most edge endpoints without reading RocksDB
// (docs/storage.md, "Edge endpoint checks").
//
// The ids' bytes live in 1 MiB arenas and the hash table holds string_views
// into them: 17 bytes per slot (a string_view and a control byte), at a load
// between 44% and 87%, plus the id's own length. A million 16-character ids
// take 50 MiB (34 MiB of table at 2^21 slots, 16 MiB of arenas).
// MemoryBytes() reports the exact allocation. Erasing an id leaves its bytes in
// the arena until the dead bytes outweigh the live ones; the set then copies
// the live ids into fresh arenas.
//
// Example:
//
//   EntityIdSet ids;
//   ids.insert("company/tsmc");
//   ids.contains("company/tsmc");  // true
//   ids.erase("company/tsmc");
//
// Not thread-safe: the graph store guards it with its commit mutex.
#ifndef GEORISK_STORAGE_INTERNAL_ENTITY_ID_SET_H_
#define GEORISK_STORAGE_INTERNAL_ENTITY_ID_SET_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace georisk::storage::internal {

class EntityIdSet {
 public:
  // Bytes per arena.
  static constexpr size_t kArenaBytes = size_t{1} << 20;

  EntityIdSet() = default;
  EntityIdSet(EntityIdSet&&) = default;
  EntityIdSet& operator=(EntityIdSet&&) = default;
  EntityIdSet(const EntityIdSet&) = delete;
  EntityIdSet& operator=(const EntityIdSet&) = delete;

  bool contains(absl::string_view id) const { return ids_.contains(id); }
  // Adds `id` (copied); no-op when present.
  void insert(absl::string_view id);
  // Removes `id`; no-op when absent.
  void erase(absl::string_view id);
  size_t size() const { return ids_.size(); }
  // Bytes allocated: the arenas and the hash table's slots and control
  // bytes.
  size_t MemoryBytes() const;
  // MemoryBytes() after inserting a new id of `id_size` bytes, counting the
  // hash table's growth (it doubles when 7/8 full) and a new arena.
  size_t MemoryBytesAfterInsert(size_t id_size) const;

 private:
  // Copies `id` into an arena; returns the copy.
  absl::string_view Store(absl::string_view id);
  // Rebuilds the arenas with the live ids only.
  void Compact();

  absl::flat_hash_set<absl::string_view> ids_;
  std::vector<std::unique_ptr<char[]>> arenas_;
  std::vector<size_t> arena_sizes_;  // Bytes of each arena.
  size_t arena_used_ = 0;            // Bytes used in arenas_.back().
  size_t live_bytes_ = 0;            // Bytes of the ids in the set.
  size_t dead_bytes_ = 0;            // Bytes of erased ids in the arenas.
};

}  // namespace georisk::storage::internal

#endif  // GEORISK_STORAGE_INTERNAL_ENTITY_ID_SET_H_
