// File: storage/rocksdb_graph_store_reads.cc
//
// The graph reads of RocksDbGraphStore, each at one RocksDB snapshot:
// GetEntity, ListEdges (paged by page_token.h), Traverse (breadth first over
// the edge column families), ListSignals and LookupByIdentifier (the
// identifier index of identifier_index.h), with the query checks they share.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "domain/validation.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "storage/internal/column_families.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/keys.h"
#include "storage/internal/page_token.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::ActiveAt;
using internal::Cf;
using internal::DecodePageToken;
using internal::EncodeEntityKey;
using internal::EncodePageToken;
using internal::kEntitiesCf;
using internal::kIdentifiersCf;
using internal::kInEdgesCf;
using internal::kInEdgesTag;
using internal::kOutEdgesCf;
using internal::kOutEdgesTag;
using internal::kSignalsCf;
using internal::kSignalsTag;
using internal::ParseRecord;
using internal::ScopedSnapshot;
using internal::ToAbslStatus;
using internal::View;

// Page tokens of LookupByIdentifier (the other tags: page_token.h).
constexpr char kIdentifiersTag = 'x';

absl::Status CheckDirection(Direction direction) {
  switch (direction) {
    case Direction::kOutbound:
    case Direction::kInbound:
    case Direction::kBoth:
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "direction: unknown direction ", static_cast<int>(direction)));
}

// The distinct kind bytes of `kinds`, sorted; empty means every kind.
absl::Status KindBytes(const std::vector<v1::Edge::Kind>& kinds,
                       std::vector<uint8_t>* bytes) {
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == v1::Edge::KIND_UNSPECIFIED ||
        !v1::Edge::Kind_IsValid(kinds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: unknown edge kind ", kinds[i]));
    }
    bytes->push_back(static_cast<uint8_t>(kinds[i]));
  }
  std::sort(bytes->begin(), bytes->end());
  bytes->erase(std::unique(bytes->begin(), bytes->end()), bytes->end());
  return absl::OkStatus();
}

// The edge column families to read for a direction, with their token tags.
struct EdgePhase {
  Cf cf;
  char tag;
};

std::vector<EdgePhase> PhasesOf(Direction direction) {
  switch (direction) {
    case Direction::kInbound:
      return {{kInEdgesCf, kInEdgesTag}};
    case Direction::kBoth:
      return {{kOutEdgesCf, kOutEdgesTag}, {kInEdgesCf, kInEdgesTag}};
    default:
      return {{kOutEdgesCf, kOutEdgesTag}};
  }
}

}  // namespace

absl::StatusOr<int64_t> RocksDbGraphStore::PublishedSequenceAt(
    const rocksdb::ReadOptions& read) {
  ASSIGN_OR_RETURN(const int64_t sequence,
                   db_->ReadMeta(read, internal::kMetaLastSequence, 0));
  WaitForSequence(sequence, absl::InfiniteFuture());
  return sequence;
}

absl::StatusOr<v1::Entity> RocksDbGraphStore::GetEntity(absl::string_view id) {
  RETURN_IF_ERROR(domain::ValidateId(id, domain::IdKind::kEntity, "id"));
  const std::string key = EncodeEntityKey(id);
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->db->Get(rocksdb::ReadOptions(), db_->cf(kEntitiesCf), key, &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("entity ", id, " not found"));
  }
  RETURN_IF_ERROR(ToAbslStatus(s, absl::StrCat("reading entity ", id)));
  v1::Entity entity;
  RETURN_IF_ERROR(ParseRecord(View(value), "entity", key, &entity));
  return entity;
}

absl::StatusOr<EdgePage> RocksDbGraphStore::ListEdges(const EdgeQuery& query) {
  RETURN_IF_ERROR(domain::ValidateId(query.entity_id, domain::IdKind::kEntity,
                                     "entity_id"));
  RETURN_IF_ERROR(CheckDirection(query.direction));
  const Direction direction = query.direction;
  std::vector<uint8_t> kinds;
  RETURN_IF_ERROR(KindBytes(query.kinds, &kinds));
  int limit;
  ASSIGN_OR_RETURN(limit, domain::PageSize(query.page_size));
  const std::vector<EdgePhase> phases = PhasesOf(direction);
  char token_tag = 0;
  std::string resume;
  if (!query.page_token.empty()) {
    RETURN_IF_ERROR(DecodePageToken(query.page_token, &token_tag, &resume));
    const bool tag_ok =
        std::any_of(phases.begin(), phases.end(),
                    [&](const EdgePhase& p) { return p.tag == token_tag; });
    if (!tag_ok ||
        !absl::StartsWith(resume, internal::EdgePrefix(query.entity_id))) {
      return absl::InvalidArgumentError(
          "page_token: does not belong to this query");
    }
  }

  ScopedSnapshot snapshot(db_->db.get());
  if (options_.after_snapshot_for_testing) {
    options_.after_snapshot_for_testing();
  }
  const rocksdb::ReadOptions read = snapshot.ReadOptions();
  rocksdb::PinnableSlice ignored;
  rocksdb::Status s = db_->db->Get(read, db_->cf(kEntitiesCf),
                                   EncodeEntityKey(query.entity_id), &ignored);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("entity ", query.entity_id, " not found"));
  }
  RETURN_IF_ERROR(ToAbslStatus(s, "reading the entity"));

  EdgePage page;
  bool started = token_tag == 0;
  for (const EdgePhase& phase : phases) {
    absl::string_view from;
    if (!started) {
      if (phase.tag != token_tag) continue;
      started = true;
      from = resume;
    }
    const bool skip_self_loops =
        direction == Direction::kBoth && phase.cf == kInEdgesCf;
    RETURN_IF_ERROR(db_->ScanEdges(
        read, phase.cf, query.entity_id, kinds, from, query.active_at,
        [&](absl::string_view key, v1::Edge& edge) {
          if (skip_self_loops && edge.from_id() == edge.to_id()) return true;
          if (page.edges.size() == static_cast<size_t>(limit)) {
            page.next_page_token = EncodePageToken(phase.tag, key);
            return false;
          }
          page.edges.push_back(std::move(edge));
          return true;
        }));
    if (!page.next_page_token.empty()) break;
  }
  return page;
}

absl::StatusOr<TraverseResult> RocksDbGraphStore::Traverse(
    const TraverseQuery& query) {
  RETURN_IF_ERROR(CheckTraverseQuery(query, options_.max_traverse_depth));
  const Direction direction = query.direction;
  std::vector<uint8_t> kinds;
  RETURN_IF_ERROR(KindBytes(query.kinds, &kinds));
  const size_t limit = static_cast<size_t>(
      query.max_entities == 0
          ? options_.max_traverse_entities
          : std::min(query.max_entities, options_.max_traverse_entities));
  const std::vector<EdgePhase> phases = PhasesOf(direction);

  ScopedSnapshot snapshot(db_->db.get());
  if (options_.after_snapshot_for_testing) {
    options_.after_snapshot_for_testing();
  }
  const rocksdb::ReadOptions read = snapshot.ReadOptions();
  TraverseResult result;
  ASSIGN_OR_RETURN(result.sequence, PublishedSequenceAt(read));

  // Reads `ids` at the snapshot and appends them at `depth`.
  auto fetch = [&](const std::vector<std::string>& ids, int depth,
                   bool missing_is_not_found) -> absl::Status {
    std::vector<std::string> keys;
    keys.reserve(ids.size());
    for (const std::string& id : ids) keys.push_back(EncodeEntityKey(id));
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->db->MultiGet(read, db_->cf(kEntitiesCf), slices.size(), slices.data(),
                      values.data(), statuses.data());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        if (missing_is_not_found) {
          return absl::NotFoundError(
              absl::StrCat("entity ", ids[i], " not found"));
        }
        return absl::DataLossError(absl::StrCat("an edge names entity ", ids[i],
                                                ", which does not exist"));
      }
      RETURN_IF_ERROR(ToAbslStatus(statuses[i], "reading entities"));
      TraversedEntity& t = result.entities.emplace_back();
      t.depth = depth;
      RETURN_IF_ERROR(
          ParseRecord(View(values[i]), "entity", keys[i], &t.entity));
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
  RETURN_IF_ERROR(fetch(level, 0, /*missing_is_not_found=*/true));

  absl::flat_hash_set<std::string> edges_seen;  // Out-edge keys.
  for (int depth = 0;
       depth < query.max_depth && !level.empty() && !result.truncated;
       ++depth) {
    std::vector<std::string> next;
    for (const std::string& id : level) {
      for (const EdgePhase& phase : phases) {
        const bool outbound = phase.cf == kOutEdgesCf;
        RETURN_IF_ERROR(db_->ScanEdges(
            read, phase.cf, id, kinds, absl::string_view(), query.active_at,
            [&](absl::string_view key, v1::Edge& edge) {
              const std::string& neighbour =
                  outbound ? edge.to_id() : edge.from_id();
              if (!visited.contains(neighbour)) {
                if (visited.size() == limit) {
                  result.truncated = true;
                  return false;
                }
                visited.insert(neighbour);
                next.push_back(neighbour);
              }
              if (query.include_edges) {
                std::string out_key =
                    outbound
                        ? std::string(key)
                        : internal::EncodeOutEdgeKey(internal::PartsOf(edge));
                if (edges_seen.insert(std::move(out_key)).second) {
                  result.edges.push_back(edge);
                }
              }
              return true;
            }));
        if (result.truncated) break;
      }
      if (result.truncated) break;
    }
    RETURN_IF_ERROR(fetch(next, depth + 1, /*missing_is_not_found=*/false));
    level = std::move(next);
  }
  return result;
}

absl::StatusOr<SignalPage> RocksDbGraphStore::ListSignals(
    const SignalQuery& query) {
  for (size_t i = 0; i < query.kinds.size(); ++i) {
    if (query.kinds[i] == v1::SIGNAL_KIND_UNSPECIFIED ||
        !v1::SignalKind_IsValid(query.kinds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: unknown signal kind ", query.kinds[i]));
    }
  }
  if (!query.target_id.empty()) {
    RETURN_IF_ERROR(domain::ValidateId(query.target_id, domain::IdKind::kEntity,
                                       "target_id"));
  }
  int limit;
  ASSIGN_OR_RETURN(limit, domain::PageSize(query.page_size));
  std::string resume;
  if (!query.page_token.empty()) {
    char tag;
    RETURN_IF_ERROR(DecodePageToken(query.page_token, &tag, &resume));
    if (tag != kSignalsTag) {
      return absl::InvalidArgumentError(
          "page_token: does not belong to this query");
    }
  }
  auto wanted_kind = [&](const v1::Signal& sig) {
    if (query.kinds.empty()) return true;
    v1::SignalKind kind = v1::SIGNAL_KIND_UNSPECIFIED;
    switch (sig.detail_case()) {
      case v1::Signal::kExportControl:
        kind = v1::SIGNAL_KIND_EXPORT_CONTROL;
        break;
      case v1::Signal::kTariff:
        kind = v1::SIGNAL_KIND_TARIFF;
        break;
      case v1::Signal::kTension:
        kind = v1::SIGNAL_KIND_TENSION;
        break;
      case v1::Signal::DETAIL_NOT_SET:
        break;
    }
    return std::find(query.kinds.begin(), query.kinds.end(), kind) !=
           query.kinds.end();
  };
  auto matches = [&](const v1::Signal& sig) {
    if (!wanted_kind(sig)) return false;
    if (!query.source.empty() && sig.source() != query.source) return false;
    if (!query.authority.empty() &&
        (!sig.has_export_control() ||
         sig.export_control().authority() != query.authority)) {
      return false;
    }
    if (!query.target_id.empty()) {
      if (!sig.has_export_control()) return false;
      const auto& targets = sig.export_control().target_ids();
      if (std::find(targets.begin(), targets.end(), query.target_id) ==
          targets.end()) {
        return false;
      }
    }
    return !query.active_at.has_value() || ActiveAt(sig, *query.active_at);
  };

  ScopedSnapshot snapshot(db_->db.get());
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(snapshot.ReadOptions(), db_->cf(kSignalsCf)));
  SignalPage page;
  v1::Signal sig;
  for (resume.empty() ? it->SeekToFirst() : it->Seek(resume); it->Valid();
       it->Next()) {
    sig.Clear();
    RETURN_IF_ERROR(
        ParseRecord(View(it->value()), "signal", View(it->key()), &sig));
    if (!matches(sig)) continue;
    if (page.signals.size() == static_cast<size_t>(limit)) {
      page.next_page_token = EncodePageToken(kSignalsTag, View(it->key()));
      break;
    }
    page.signals.push_back(std::move(sig));
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "scanning signals"));
  return page;
}

absl::StatusOr<IdentifierPage> RocksDbGraphStore::LookupByIdentifier(
    const IdentifierQuery& query) {
  ASSIGN_OR_RETURN(
      const internal::IdentifierLookup lookup,
      internal::ParseIdentifierLookup(query.scheme, query.value, query.country,
                                      query.include_equivalent));
  int limit;
  ASSIGN_OR_RETURN(limit, domain::PageSize(query.page_size));
  const std::string prefix = internal::IdentifierPrefix(lookup.index_key);
  std::string resume = prefix;
  if (!query.page_token.empty()) {
    char tag;
    RETURN_IF_ERROR(DecodePageToken(query.page_token, &tag, &resume));
    if (tag != kIdentifiersTag || !absl::StartsWith(resume, prefix) ||
        resume.size() == prefix.size()) {
      return absl::InvalidArgumentError(
          "page_token: does not belong to this query");
    }
  }

  ScopedSnapshot snapshot(db_->db.get());
  if (options_.after_snapshot_for_testing) {
    options_.after_snapshot_for_testing();
  }
  const rocksdb::ReadOptions read = snapshot.ReadOptions();
  IdentifierPage page;
  page.scheme = lookup.scheme;
  page.value = lookup.value;
  ASSIGN_OR_RETURN(page.sequence, PublishedSequenceAt(read));
  const std::string upper = internal::PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions scan = read;
  scan.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(scan, db_->cf(kIdentifiersCf)));
  std::vector<std::string> keys;  // Entity keys, in id order.
  for (it->Seek(resume); it->Valid(); it->Next()) {
    const absl::string_view key = View(it->key());
    if (keys.size() == static_cast<size_t>(limit)) {
      page.next_page_token = EncodePageToken(kIdentifiersTag, key);
      break;
    }
    absl::StatusOr<std::string> id =
        internal::EntityIdOfIdentifierKey(key, prefix);
    if (!id.ok()) return absl::DataLossError(id.status().message());
    keys.push_back(EncodeEntityKey(*id));
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the identifier index"));
  if (keys.empty()) return page;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->db->MultiGet(read, db_->cf(kEntitiesCf), slices.size(), slices.data(),
                    values.data(), statuses.data());
  page.entities.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return absl::DataLossError(absl::StrCat(
          "the identifier index names entity ",
          absl::string_view(keys[i]).substr(internal::kPartitionBytes),
          " under ", lookup.index_key, ", which does not exist"));
    }
    RETURN_IF_ERROR(ToAbslStatus(statuses[i], "reading entities"));
    RETURN_IF_ERROR(
        ParseRecord(View(values[i]), "entity", keys[i], &page.entities[i]));
  }
  return page;
}

}  // namespace georisk::storage
