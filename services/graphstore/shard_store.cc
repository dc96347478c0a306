#include "services/graphstore/shard_store.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "domain/validation.h"

namespace georisk::graphstore {
absl::StatusOr<ShardConfig> ShardConfigFromFlags(const ShardFlags& flags) {
  ShardConfig config;
  ASSIGN_OR_RETURN(config.map,
                   storage::PartitionMapFromFlags(flags.partition_map,
                                                  flags.partition_map_file));
  if (flags.shard_index < 0 || flags.shard_index >= config.map.shard_count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard_index: ", flags.shard_index,
                     ", but the partition map has shards 0 to ",
                     config.map.shard_count() - 1));
  }
  config.shard_index = flags.shard_index;
  return config;
}

absl::StatusOr<std::unique_ptr<ShardStore>> ShardStore::Create(
    storage::GraphStore* store, ShardConfig config,
    std::function<absl::Time()> clock) {
  if (config.shard_index < 0 ||
      config.shard_index >= config.map.shard_count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard_index: ", config.shard_index,
                     ", but the partition map has shards 0 to ",
                     config.map.shard_count() - 1));
  }
  return std::unique_ptr<ShardStore>(
      new ShardStore(store, std::move(config), std::move(clock)));
}

std::optional<std::string> ShardStore::NotOwnedReason(absl::string_view id,
                                                      bool signal) const {
  if (!domain::ValidateId(
           id, signal ? domain::IdKind::kSignal : domain::IdKind::kEntity, "")
           .ok()) {
    return std::nullopt;  // The store names what is wrong with it.
  }
  const int partition = storage::PartitionOf(id);
  const int owner = config_.map.ShardOf(partition);
  if (owner == config_.shard_index) return std::nullopt;
  return absl::StrCat(id, " is in partition ", partition, ", owned by shard ",
                      storage::ShardName(owner), ", not by this shard (",
                      storage::ShardName(config_.shard_index), ")");
}

absl::Status ShardStore::CheckOwned(absl::string_view id,
                                    absl::string_view field) const {
  std::optional<std::string> reason = NotOwnedReason(id, /*signal=*/false);
  if (!reason.has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(field, ": ", *reason));
}

std::optional<ShardStore::Unowned> ShardStore::FindUnowned(
    const v1::Mutation& m) const {
  auto single = [this](absl::string_view field, absl::string_view id,
                       bool signal) -> std::optional<Unowned> {
    std::optional<std::string> reason = NotOwnedReason(id, signal);
    if (!reason.has_value()) return std::nullopt;
    return Unowned{std::string(field), *std::move(reason)};
  };
  // An edge (ends from_id, to_id) or a link (entity_a, entity_b), `kind`
  // "upsert_edge"...: EDGE_COPY_BOTH needs both ends here; a one-copy
  // mutation its end here (the first for EDGE_COPY_OUT, the second for
  // EDGE_COPY_IN) and the other end on another shard.
  auto copies = [&](absl::string_view kind, absl::string_view first_name,
                    const std::string& first, absl::string_view second_name,
                    const std::string& second) -> std::optional<Unowned> {
    const v1::EdgeCopy copy = m.edge_copy();
    const std::string first_field = absl::StrCat(kind, ".", first_name);
    const std::string second_field = absl::StrCat(kind, ".", second_name);
    if (copy == v1::EDGE_COPY_BOTH) {
      std::optional<std::string> a = NotOwnedReason(first, false);
      std::optional<std::string> b = NotOwnedReason(second, false);
      if (!a.has_value() && !b.has_value()) return std::nullopt;
      Unowned u{a.has_value() ? first_field : second_field,
                a.has_value() ? *std::move(a) : *std::move(b)};
      if (!a.has_value() || !b.has_value()) {
        absl::StrAppend(&u.reason, "; ",
                        absl::EndsWith(kind, "_edge") ? "an edge" : "a link",
                        " across shards is written as two copies, edge_copy "
                        "EDGE_COPY_OUT on the shard of ",
                        first_name, " and EDGE_COPY_IN on the shard of ",
                        second_name, " (docs/scale-out.md)");
      }
      return u;
    }
    const bool out = copy == v1::EDGE_COPY_OUT;
    const std::string& here = out ? first : second;
    const std::string& there = out ? second : first;
    if (std::optional<Unowned> u =
            single(out ? first_field : second_field, here, false)) {
      return u;
    }
    if (domain::ValidateId(there, domain::IdKind::kEntity, "").ok() &&
        !NotOwnedReason(there, false).has_value()) {
      return Unowned{
          "edge_copy",
          absl::StrCat(v1::EdgeCopy_Name(copy),
                       " writes one copy of a record across "
                       "shards, but both ",
                       first, " and ", second, " are on this shard (",
                       storage::ShardName(config_.shard_index),
                       "): write it with EDGE_COPY_BOTH")};
    }
    return std::nullopt;
  };
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      return single("upsert_entity.id", m.upsert_entity().id(), false);
    case v1::Mutation::kDeleteEntityId:
      return single("delete_entity_id", m.delete_entity_id(), false);
    case v1::Mutation::kUpsertEdge:
      return copies("upsert_edge", "from_id", m.upsert_edge().from_id(),
                    "to_id", m.upsert_edge().to_id());
    case v1::Mutation::kDeleteEdge:
      return copies("delete_edge", "from_id", m.delete_edge().from_id(),
                    "to_id", m.delete_edge().to_id());
    case v1::Mutation::kUpsertSignal:
      return single("upsert_signal.id", m.upsert_signal().id(), true);
    case v1::Mutation::kDeleteSignalId:
      return single("delete_signal_id", m.delete_signal_id(), true);
    case v1::Mutation::kUpsertLink:
      return copies("upsert_link", "entity_a", m.upsert_link().entity_a(),
                    "entity_b", m.upsert_link().entity_b());
    case v1::Mutation::kDeleteLink:
      return copies("delete_link", "entity_a", m.delete_link().entity_a(),
                    "entity_b", m.delete_link().entity_b());
    case v1::Mutation::KIND_NOT_SET:
      return std::nullopt;  // The store refuses it.
  }
  return std::nullopt;
}

absl::StatusOr<storage::ApplyResult> ShardStore::Apply(
    absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
    storage::InvalidMutations invalid) {
  const bool reject = invalid == storage::InvalidMutations::kReject;
  std::vector<storage::MutationRejection> refused;
  std::vector<const v1::Mutation*> kept;
  std::vector<int> kept_index;
  for (size_t i = 0; i < mutations.size(); ++i) {
    std::optional<Unowned> unowned = FindUnowned(*mutations[i]);
    if (!unowned.has_value()) continue;
    if (!reject) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mutations[", i, "].", unowned->field, ": ", unowned->reason));
    }
    refused.push_back({static_cast<int>(i), std::move(unowned->field),
                       std::move(unowned->reason)});
  }
  if (refused.empty()) return store_->Apply(mutations, origin, invalid);

  // The others go to the store without the refused ones; their outcomes and
  // rejections are mapped back to their indices in `mutations`.
  kept.reserve(mutations.size() - refused.size());
  kept_index.reserve(mutations.size() - refused.size());
  for (size_t i = 0, r = 0; i < mutations.size(); ++i) {
    if (r < refused.size() && refused[r].index == static_cast<int>(i)) {
      ++r;
      continue;
    }
    kept.push_back(mutations[i]);
    kept_index.push_back(static_cast<int>(i));
  }
  storage::ApplyResult result;
  if (kept.empty()) {
    result.sequence = store_->LastSequence();
    result.commit_time = clock_();
  } else {
    ASSIGN_OR_RETURN(result, store_->Apply(kept, origin, invalid));
    for (storage::MutationRejection& r : result.rejections) {
      r.index = kept_index[r.index];
    }
  }
  std::vector<storage::MutationOutcome> outcomes(
      mutations.size(), storage::MutationOutcome::kRejected);
  for (size_t j = 0; j < result.outcomes.size(); ++j) {
    outcomes[kept_index[j]] = result.outcomes[j];
  }
  result.outcomes = std::move(outcomes);
  // Both lists are in index order: merge them.
  std::vector<storage::MutationRejection> rejections;
  rejections.reserve(refused.size() + result.rejections.size());
  size_t a = 0, b = 0;
  while (a < refused.size() || b < result.rejections.size()) {
    if (b == result.rejections.size() ||
        (a < refused.size() && refused[a].index < result.rejections[b].index)) {
      rejections.push_back(std::move(refused[a++]));
    } else {
      rejections.push_back(std::move(result.rejections[b++]));
    }
  }
  result.rejections = std::move(rejections);
  return result;
}

absl::StatusOr<v1::Entity> ShardStore::GetEntity(absl::string_view id) {
  RETURN_IF_ERROR(CheckOwned(id, "id"));
  return store_->GetEntity(id);
}

absl::StatusOr<storage::EdgePage> ShardStore::ListEdges(
    const storage::EdgeQuery& query) {
  RETURN_IF_ERROR(CheckOwned(query.entity_id, "entity_id"));
  return store_->ListEdges(query);
}

absl::StatusOr<storage::TraverseResult> ShardStore::Traverse(
    const storage::TraverseQuery& query) {
  for (size_t i = 0; i < query.start_ids.size(); ++i) {
    RETURN_IF_ERROR(
        CheckOwned(query.start_ids[i], absl::StrCat("start_ids[", i, "]")));
  }
  return store_->Traverse(query);
}

absl::StatusOr<storage::SignalPage> ShardStore::ListSignals(
    const storage::SignalQuery& query) {
  return store_->ListSignals(query);
}

absl::StatusOr<storage::LinkPage> ShardStore::ListLinks(
    const storage::LinkQuery& query) {
  if (!query.entity_id.empty()) {
    RETURN_IF_ERROR(CheckOwned(query.entity_id, "entity_id"));
  }
  return store_->ListLinks(query);
}

absl::StatusOr<v1::Link> ShardStore::GetLink(absl::string_view entity_a,
                                             absl::string_view entity_b) {
  // Either end's shard holds the link (a copy under each end).
  absl::Status a = CheckOwned(entity_a, "entity_a");
  if (!a.ok() && !CheckOwned(entity_b, "entity_b").ok()) return a;
  return store_->GetLink(entity_a, entity_b);
}

absl::StatusOr<std::vector<v1::Change>> ShardStore::ReadChanges(
    int64_t from_sequence, int max_changes, int64_t max_bytes) {
  return store_->ReadChanges(from_sequence, max_changes, max_bytes);
}

int64_t ShardStore::WaitForSequence(int64_t sequence, absl::Time deadline) {
  return store_->WaitForSequence(sequence, deadline);
}

absl::StatusOr<storage::IdentifierPage> ShardStore::LookupByIdentifier(
    const storage::IdentifierQuery& query) {
  return store_->LookupByIdentifier(query);
}

absl::Status ShardStore::ExportSnapshot(
    const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
    int chunk_records) {
  return store_->ExportSnapshot(callback, chunk_records);
}

absl::StatusOr<storage::StoreStats> ShardStore::GetStats() {
  return store_->GetStats();
}

int64_t ShardStore::LastSequence() { return store_->LastSequence(); }

storage::GraphStore::CommitWatermark ShardStore::Watermark() {
  return store_->Watermark();
}

const std::string& ShardStore::GraphId() const { return store_->GraphId(); }

}  // namespace georisk::graphstore
