#include "services/graphstore/routed_store.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "domain/paging.h"
#include "services/graphstore/routed_paging.h"

namespace georisk::graphstore {
namespace {

// An edge's identity, whichever copy it was read from.
std::string EdgeIdentity(const v1::Edge& e) {
  return absl::StrCat(e.from_id(), std::string(1, '\0'), e.kind(),
                      std::string(1, '\0'), e.to_id(), std::string(1, '\0'),
                      e.product_code(), std::string(1, '\0'), e.record_id());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoutedGraphStore>> RoutedGraphStore::Create(
    storage::GraphStore* local, storage::PartitionMap map, int shard_index,
    std::vector<std::unique_ptr<ShardReader>> shards, RouterOptions options) {
  if (static_cast<int>(shards.size()) != map.shard_count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the router has ", shards.size(),
                     " shard targets, but the partition map has ",
                     map.shard_count(), " shards"));
  }
  if (shard_index < 0 || shard_index >= map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard index ", shard_index, " is not a shard of the map"));
  }
  for (const auto& s : shards) {
    if (s == nullptr)
      return absl::InvalidArgumentError("a shard has no reader");
  }
  return std::unique_ptr<RoutedGraphStore>(
      new RoutedGraphStore(local, std::move(map), std::move(shards), options));
}

absl::StatusOr<storage::ApplyResult> RoutedGraphStore::Apply(
    absl::Span<const v1::Mutation* const> mutations, absl::string_view origin,
    storage::InvalidMutations invalid) {
  return local_->Apply(mutations, origin, invalid);
}

absl::StatusOr<v1::Entity> RoutedGraphStore::GetEntity(absl::string_view id) {
  return OwnerOf(id).GetEntity(id);
}

absl::StatusOr<storage::EdgePage> RoutedGraphStore::ListEdges(
    const storage::EdgeQuery& query) {
  // Both copies of every edge of an entity are under its partition.
  return OwnerOf(query.entity_id).ListEdges(query);
}

absl::StatusOr<storage::TraverseResult> RoutedGraphStore::Traverse(
    const storage::TraverseQuery& query) {
  RETURN_IF_ERROR(
      storage::CheckTraverseQuery(query, options_.max_traverse_depth));
  const size_t limit = static_cast<size_t>(
      query.max_entities == 0
          ? options_.max_traverse_entities
          : std::min(query.max_entities, options_.max_traverse_entities));
  std::vector<storage::Direction> phases;
  if (query.direction != storage::Direction::kInbound) {
    phases.push_back(storage::Direction::kOutbound);
  }
  if (query.direction != storage::Direction::kOutbound) {
    phases.push_back(storage::Direction::kInbound);
  }

  storage::TraverseResult result;
  std::set<int> read_shards;
  absl::flat_hash_set<std::string> missing;
  // Reads `ids` from their shards and appends them at `depth`; an id its
  // shard does not hold is an error for a start id, else left out.
  auto fetch = [&](const std::vector<std::string>& ids, int depth,
                   bool start) -> absl::Status {
    for (const std::string& id : ids) {
      read_shards.insert(map_.ShardOf(id));
      absl::StatusOr<v1::Entity> entity = OwnerOf(id).GetEntity(id);
      if (!start && absl::IsNotFound(entity.status())) {
        missing.insert(id);
        continue;
      }
      RETURN_IF_ERROR(entity.status());
      storage::TraversedEntity& t = result.entities.emplace_back();
      t.entity = *std::move(entity);
      t.depth = depth;
    }
    return absl::OkStatus();
  };

  absl::flat_hash_set<std::string> visited;
  std::vector<std::string> level;
  for (const std::string& id : query.start_ids) {
    if (visited.contains(id)) continue;
    if (visited.size() == limit) {
      result.truncated = true;
      break;
    }
    visited.insert(id);
    level.push_back(id);
  }
  RETURN_IF_ERROR(fetch(level, 0, /*start=*/true));

  absl::flat_hash_set<std::string> edges_seen;
  for (int depth = 0;
       depth < query.max_depth && !level.empty() && !result.truncated;
       ++depth) {
    std::vector<std::string> next;
    for (const std::string& id : level) {
      if (missing.contains(id)) continue;
      for (storage::Direction phase : phases) {
        const bool outbound = phase == storage::Direction::kOutbound;
        storage::EdgeQuery edges;
        edges.entity_id = id;
        edges.direction = phase;
        edges.kinds = query.kinds;
        edges.active_at = query.active_at;
        edges.page_size = domain::kMaxPageSize;
        do {
          absl::StatusOr<storage::EdgePage> page = OwnerOf(id).ListEdges(edges);
          // Deleted since it was read: it has no edges to follow.
          if (absl::IsNotFound(page.status())) break;
          RETURN_IF_ERROR(page.status());
          for (v1::Edge& edge : page->edges) {
            const std::string& neighbour =
                outbound ? edge.to_id() : edge.from_id();
            if (!visited.contains(neighbour)) {
              if (visited.size() == limit) {
                result.truncated = true;
                break;
              }
              visited.insert(neighbour);
              next.push_back(neighbour);
            }
            if (query.include_edges &&
                edges_seen.insert(EdgeIdentity(edge)).second) {
              result.edges.push_back(std::move(edge));
            }
          }
          edges.page_token = std::move(page->next_page_token);
        } while (!edges.page_token.empty() && !result.truncated);
        if (result.truncated) break;
      }
      if (result.truncated) break;
    }
    RETURN_IF_ERROR(fetch(next, depth + 1, /*start=*/false));
    level = std::move(next);
  }
  if (!missing.empty()) {
    result.edges.erase(std::remove_if(result.edges.begin(), result.edges.end(),
                                      [&](const v1::Edge& e) {
                                        return missing.contains(e.from_id()) ||
                                               missing.contains(e.to_id());
                                      }),
                       result.edges.end());
  }
  for (int shard : read_shards) {
    ASSIGN_OR_RETURN(int64_t sequence, shards_[shard]->LastSequence());
    result.sequence += sequence;
  }
  return result;
}

absl::StatusOr<storage::SignalPage> RoutedGraphStore::ListSignals(
    const storage::SignalQuery& query) {
  ASSIGN_OR_RETURN(int limit, domain::PageSize(query.page_size));
  const int n = map_.shard_count();
  std::vector<ShardPosition> at = FirstPositions(n);
  if (!query.page_token.empty()) {
    ASSIGN_OR_RETURN(
        at, DecodeRoutedToken(query.page_token, RoutedListing::kSignals, n));
  }
  FetchShardPage<v1::Signal> fetch =
      [&](int shard,
          const std::string& token) -> absl::StatusOr<ShardPage<v1::Signal>> {
    storage::SignalQuery q = query;
    q.page_size = limit;
    q.page_token = token;
    ASSIGN_OR_RETURN(storage::SignalPage page, shards_[shard]->ListSignals(q));
    return ShardPage<v1::Signal>{std::move(page.signals),
                                 std::move(page.next_page_token)};
  };
  ASSIGN_OR_RETURN(
      MergedPage<v1::Signal> merged,
      MergePages<v1::Signal>(at, limit, fetch, [](const v1::Signal& s) {
        return storage::RecordOrder(s.id());
      }));
  storage::SignalPage page;
  page.signals = std::move(merged.records);
  if (!merged.next.empty()) {
    page.next_page_token =
        EncodeRoutedToken(RoutedListing::kSignals, n, merged.next);
  }
  return page;
}

absl::StatusOr<storage::IdentifierPage> RoutedGraphStore::LookupByIdentifier(
    const storage::IdentifierQuery& query) {
  ASSIGN_OR_RETURN(int limit, domain::PageSize(query.page_size));
  const int n = map_.shard_count();
  std::vector<ShardPosition> at = FirstPositions(n);
  if (!query.page_token.empty()) {
    ASSIGN_OR_RETURN(at, DecodeRoutedToken(query.page_token,
                                           RoutedListing::kIdentifiers, n));
  }
  storage::IdentifierPage page;
  std::vector<int64_t> sequences(n, 0);
  FetchShardPage<v1::Entity> fetch =
      [&](int shard,
          const std::string& token) -> absl::StatusOr<ShardPage<v1::Entity>> {
    storage::IdentifierQuery q = query;
    q.page_size = limit;
    q.page_token = token;
    ASSIGN_OR_RETURN(storage::IdentifierPage got,
                     shards_[shard]->LookupByIdentifier(q));
    page.scheme = std::move(got.scheme);
    page.value = std::move(got.value);
    sequences[shard] = got.sequence;
    return ShardPage<v1::Entity>{std::move(got.entities),
                                 std::move(got.next_page_token)};
  };
  ASSIGN_OR_RETURN(
      MergedPage<v1::Entity> merged,
      MergePages<v1::Entity>(at, limit, fetch,
                             [](const v1::Entity& e) { return e.id(); }));
  page.entities = std::move(merged.records);
  if (!merged.next.empty()) {
    page.next_page_token =
        EncodeRoutedToken(RoutedListing::kIdentifiers, n, merged.next);
  }
  for (int64_t s : sequences) page.sequence += s;
  return page;
}

absl::Status RoutedGraphStore::ExportSnapshot(
    const std::function<absl::Status(storage::SnapshotChunk&)>& callback,
    int chunk_records) {
  for (size_t i = 0; i < shards_.size(); ++i) {
    RETURN_IF_ERROR(shards_[i]->ExportSnapshot(
        [&](storage::SnapshotChunk& chunk) {
          chunk.shard = static_cast<int>(i);
          return callback(chunk);
        },
        chunk_records));
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::LinkPage> RoutedGraphStore::ListLinks(
    const storage::LinkQuery& query) {
  return local_->ListLinks(query);
}

absl::StatusOr<v1::Link> RoutedGraphStore::GetLink(absl::string_view entity_a,
                                                   absl::string_view entity_b) {
  return local_->GetLink(entity_a, entity_b);
}

absl::StatusOr<std::vector<v1::Change>> RoutedGraphStore::ReadChanges(
    int64_t from_sequence, int max_changes, int64_t max_bytes) {
  return local_->ReadChanges(from_sequence, max_changes, max_bytes);
}

int64_t RoutedGraphStore::WaitForSequence(int64_t sequence,
                                          absl::Time deadline) {
  return local_->WaitForSequence(sequence, deadline);
}

absl::StatusOr<storage::StoreStats> RoutedGraphStore::GetStats() {
  return local_->GetStats();
}

int64_t RoutedGraphStore::LastSequence() { return local_->LastSequence(); }

storage::GraphStore::CommitWatermark RoutedGraphStore::Watermark() {
  return local_->Watermark();
}

const std::string& RoutedGraphStore::GraphId() const {
  return local_->GraphId();
}

}  // namespace georisk::graphstore
