#include "storage/graph_store.h"

#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "domain/validation.h"

namespace georisk::storage {

bool IsGraphId(absl::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string MintGraphId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
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

absl::Status CheckTraverseQuery(const TraverseQuery& query,
                                int max_traverse_depth) {
  if (query.start_ids.empty()) {
    return absl::InvalidArgumentError("start_ids: at least one id is required");
  }
  for (size_t i = 0; i < query.start_ids.size(); ++i) {
    absl::Status s =
        domain::ValidateId(query.start_ids[i], domain::IdKind::kEntity,
                           absl::StrCat("start_ids[", i, "]"));
    if (!s.ok()) return s;
  }
  if (query.max_depth < 1 || query.max_depth > max_traverse_depth) {
    return absl::InvalidArgumentError(absl::StrCat("max_depth: must be in [1, ",
                                                   max_traverse_depth,
                                                   "], got ", query.max_depth));
  }
  if (query.max_entities < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_entities: must be >= 0, got ", query.max_entities));
  }
  switch (query.direction) {
    case Direction::kOutbound:
    case Direction::kInbound:
    case Direction::kBoth:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "direction: unknown direction ", static_cast<int>(query.direction)));
  }
  for (size_t i = 0; i < query.kinds.size(); ++i) {
    if (query.kinds[i] == v1::Edge::KIND_UNSPECIFIED ||
        !v1::Edge::Kind_IsValid(query.kinds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: unknown edge kind ", query.kinds[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace georisk::storage
