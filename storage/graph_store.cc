#include "storage/graph_store.h"

#include <vector>

namespace georisk::storage {

bool IsGraphId(absl::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::StatusOr<ApplyResult> GraphStore::Apply(
    absl::Span<const v1::Mutation* const> mutations, absl::string_view origin) {
  return Apply(mutations, origin, InvalidMutations::kFailBatch);
}

absl::StatusOr<ApplyResult> GraphStore::Apply(
    absl::Span<const v1::Mutation> mutations, absl::string_view origin) {
  return Apply(mutations, origin, InvalidMutations::kFailBatch);
}

absl::StatusOr<ApplyResult> GraphStore::Apply(
    absl::Span<const v1::Mutation> mutations, absl::string_view origin,
    InvalidMutations invalid) {
  std::vector<const v1::Mutation*> pointers;
  pointers.reserve(mutations.size());
  for (const v1::Mutation& m : mutations) pointers.push_back(&m);
  return Apply(absl::MakeConstSpan(pointers), origin, invalid);
}

}  // namespace georisk::storage
