#include "storage/internal/entity_id_set.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace georisk::storage::internal {

void EntityIdSet::insert(absl::string_view id) {
  if (ids_.contains(id)) return;
  ids_.insert(Store(id));
  live_bytes_ += id.size();
}

void EntityIdSet::erase(absl::string_view id) {
  auto it = ids_.find(id);
  if (it == ids_.end()) return;
  const size_t size = it->size();
  ids_.erase(it);
  live_bytes_ -= size;
  dead_bytes_ += size;
  if (dead_bytes_ > live_bytes_ && dead_bytes_ > kArenaBytes) Compact();
}

size_t EntityIdSet::MemoryBytes() const {
  size_t bytes = 0;
  for (size_t size : arena_sizes_) bytes += size;
  // flat_hash_set: one slot and one control byte per bucket.
  return bytes + ids_.capacity() * (sizeof(absl::string_view) + 1);
}

size_t EntityIdSet::MemoryBytesAfterInsert(size_t id_size) const {
  size_t bytes = 0;
  for (size_t size : arena_sizes_) bytes += size;
  if (arenas_.empty() || arena_used_ + id_size > arena_sizes_.back()) {
    bytes += std::max(kArenaBytes, id_size);
  }
  size_t capacity = ids_.capacity();
  if (ids_.size() + 1 > capacity - capacity / 8) capacity = capacity * 2 + 1;
  return bytes + capacity * (sizeof(absl::string_view) + 1);
}

absl::string_view EntityIdSet::Store(absl::string_view id) {
  if (arenas_.empty() || arena_used_ + id.size() > arena_sizes_.back()) {
    const size_t size = std::max(kArenaBytes, id.size());
    arenas_.push_back(std::make_unique<char[]>(size));
    arena_sizes_.push_back(size);
    arena_used_ = 0;
  }
  char* copy = arenas_.back().get() + arena_used_;
  if (!id.empty()) std::memcpy(copy, id.data(), id.size());
  arena_used_ += id.size();
  return absl::string_view(copy, id.size());
}

void EntityIdSet::Compact() {
  EntityIdSet fresh;
  fresh.ids_.reserve(ids_.size());
  for (absl::string_view id : ids_) fresh.insert(id);
  *this = std::move(fresh);
}

}  // namespace georisk::storage::internal
