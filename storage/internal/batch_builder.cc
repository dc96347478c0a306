#include "storage/internal/batch_builder.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "domain/validation.h"
#include "rocksdb/options.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/record_codec.h"
#include "storage/internal/rocksdb_util.h"

namespace georisk::storage::internal {
namespace {

// The key of a link: the copy under the smaller id.
std::string PrimaryLinkKey(absl::string_view a, absl::string_view b) {
  return a < b ? EncodeLinkKey(a, b) : EncodeLinkKey(b, a);
}

// The key the other copy of a one-copy mutation carries: "<k>/out" and
// "<k>/in" swapped (SplitByShard's keys), anything else none.
std::string OtherCopyKey(absl::string_view key) {
  if (absl::ConsumeSuffix(&key, "/out")) return absl::StrCat(key, "/in");
  if (absl::ConsumeSuffix(&key, "/in")) return absl::StrCat(key, "/out");
  return "";
}

v1::EdgeCopy Flip(v1::EdgeCopy copy) {
  return copy == v1::EDGE_COPY_OUT ? v1::EDGE_COPY_IN : v1::EDGE_COPY_OUT;
}

}  // namespace

BatchBuilder::BatchBuilder(rocksdb::DB* db,
                           const std::vector<rocksdb::ColumnFamilyHandle*>& cfs,
                           int64_t sequence, absl::Time commit_time,
                           const EntityIdSet* entity_ids, ShardOf shard_of,
                           int shard)
    : db_(db),
      cfs_(cfs),
      sequence_(sequence),
      commit_time_(commit_time),
      entity_ids_(entity_ids),
      shard_of_(std::move(shard_of)),
      shard_(shard) {}

absl::Status BatchBuilder::Load(
    absl::Span<const v1::Mutation* const> mutations) {
  slots_.reserve(mutations.size());
  size_t edge_mutations = 0;
  for (const v1::Mutation* m : mutations) {
    switch (m->kind_case()) {
      case v1::Mutation::kDeleteEntityId:
        track_created_edges_ = true;
        break;
      case v1::Mutation::kUpsertEdge:
      case v1::Mutation::kDeleteEdge:
        ++edge_mutations;
        break;
      default:
        break;
    }
  }
  edges_.reserve(edge_mutations);
  for (const v1::Mutation* m : mutations) {
    if (!m->idempotency_key().empty()) {
      idempotency_.try_emplace(m->idempotency_key());
    }
    Entry* entry = nullptr;
    switch (m->kind_case()) {
      case v1::Mutation::kUpsertEntity:
        entry =
            &*entities_.try_emplace(EncodeEntityKey(m->upsert_entity().id()))
                  .first;
        break;
      case v1::Mutation::kDeleteEntityId:
        entry = &*entities_.try_emplace(EncodeEntityKey(m->delete_entity_id()))
                      .first;
        break;
      case v1::Mutation::kUpsertEdge: {
        const v1::Edge& e = m->upsert_edge();
        const v1::EdgeCopy copy = m->edge_copy();
        // A one-copy mutation names only the end this store holds.
        for (const std::string* id : {&e.from_id(), &e.to_id()}) {
          if (copy ==
              (id == &e.from_id() ? v1::EDGE_COPY_IN : v1::EDGE_COPY_OUT)) {
            continue;
          }
          if (entity_ids_ == nullptr || !entity_ids_->contains(*id)) {
            entities_.try_emplace(EncodeEntityKey(*id));
          }
        }
        entry =
            copy == v1::EDGE_COPY_IN
                ? &*in_copies_.try_emplace(EncodeInEdgeKey(PartsOf(e))).first
                : &*edges_.try_emplace(EncodeOutEdgeKey(PartsOf(e))).first;
        break;
      }
      case v1::Mutation::kDeleteEdge: {
        const v1::EdgeKey& k = m->delete_edge();
        entry =
            m->edge_copy() == v1::EDGE_COPY_IN
                ? &*in_copies_.try_emplace(EncodeInEdgeKey(PartsOf(k))).first
                : &*edges_.try_emplace(EncodeOutEdgeKey(PartsOf(k))).first;
        break;
      }
      case v1::Mutation::kUpsertSignal:
        entry = &*signals_.try_emplace(EncodeSignalKey(m->upsert_signal().id()))
                      .first;
        break;
      case v1::Mutation::kDeleteSignalId:
        entry = &*signals_.try_emplace(EncodeSignalKey(m->delete_signal_id()))
                      .first;
        break;
      case v1::Mutation::kUpsertLink: {
        const v1::Link& l = m->upsert_link();
        const v1::EdgeCopy copy = m->edge_copy();
        // A one-copy mutation names only the end this store holds.
        for (const std::string* id : {&l.entity_a(), &l.entity_b()}) {
          if (copy ==
              (id == &l.entity_a() ? v1::EDGE_COPY_IN : v1::EDGE_COPY_OUT)) {
            continue;
          }
          if (entity_ids_ == nullptr || !entity_ids_->contains(*id)) {
            entities_.try_emplace(EncodeEntityKey(*id));
          }
        }
        entry = LinkEntry(l.entity_a(), l.entity_b(), copy);
        break;
      }
      case v1::Mutation::kDeleteLink: {
        const v1::LinkKey& k = m->delete_link();
        entry = LinkEntry(k.entity_a(), k.entity_b(), m->edge_copy());
        break;
      }
      case v1::Mutation::KIND_NOT_SET:
        break;
    }
    slots_.push_back(entry);
  }
  RETURN_IF_ERROR(MultiGet(kEntitiesCf, &entities_));
  RETURN_IF_ERROR(MultiGet(kOutEdgesCf, &edges_));
  RETURN_IF_ERROR(MultiGet(kInEdgesCf, &in_copies_));
  RETURN_IF_ERROR(MultiGet(kSignalsCf, &signals_));
  RETURN_IF_ERROR(MultiGet(kLinksCf, &links_));
  RETURN_IF_ERROR(MultiGet(kLinksCf, &link_copies_));
  return MultiGet(kIdempotencyCf, &idempotency_);
}

BatchBuilder::Entry* BatchBuilder::LinkEntry(const std::string& a,
                                             const std::string& b,
                                             v1::EdgeCopy copy) {
  if (copy == v1::EDGE_COPY_BOTH) {
    return &*links_.try_emplace(PrimaryLinkKey(a, b)).first;
  }
  const std::string& owner = copy == v1::EDGE_COPY_OUT ? a : b;
  const std::string& other = copy == v1::EDGE_COPY_OUT ? b : a;
  Slots& slots = owner < other ? links_ : link_copies_;
  return &*slots.try_emplace(EncodeLinkKey(owner, other)).first;
}

void BatchBuilder::EnqueueOtherCopy(int peer, const v1::Mutation& m) {
  OutboxWrite& w = outbox_.emplace_back();
  w.peer = peer;
  w.mutation = m;
  w.mutation.set_edge_copy(Flip(m.edge_copy()));
  w.mutation.set_idempotency_key(OtherCopyKey(m.idempotency_key()));
  w.mutation.set_release_idempotency_key(
      OtherCopyKey(m.release_idempotency_key()));
}

absl::StatusOr<MutationOutcome> BatchBuilder::Add(int index,
                                                  const v1::Mutation& m) {
  const std::string& idempotency_key = m.idempotency_key();
  if (!idempotency_key.empty() &&
      (idempotency_.at(idempotency_key).existed ||
       new_idempotency_keys_.contains(idempotency_key))) {
    return MutationOutcome::kDuplicate;
  }
  bool applied = false;
  Entry* entry = slots_[index];  // Set by Load() unless KIND_NOT_SET.
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      applied = UpsertEntity(m, entry->second);
      if (applied) RETURN_IF_ERROR(TakeOldIdentifierKeys(entry->second));
      break;
    case v1::Mutation::kUpsertEdge: {
      ASSIGN_OR_RETURN(applied, UpsertEdge(index, m, *entry));
      break;
    }
    case v1::Mutation::kUpsertSignal:
      applied = UpsertSignal(m, entry->second);
      break;
    case v1::Mutation::kDeleteEntityId: {
      ASSIGN_OR_RETURN(applied, DeleteEntity(m, entry->second));
      if (applied) RETURN_IF_ERROR(TakeOldIdentifierKeys(entry->second));
      break;
    }
    case v1::Mutation::kDeleteEdge:
      applied = DeleteEdge(m, entry->second);
      break;
    case v1::Mutation::kDeleteSignalId:
      applied = DeleteSignal(m, entry->second);
      break;
    case v1::Mutation::kUpsertLink: {
      ASSIGN_OR_RETURN(applied, UpsertLink(index, m, *entry));
      break;
    }
    case v1::Mutation::kDeleteLink:
      applied = DeleteLink(m, entry->second);
      break;
    case v1::Mutation::KIND_NOT_SET:
      return absl::InvalidArgumentError(
          absl::StrCat("mutations[", index, "].kind: is required"));
  }
  // Only now: the key of a mutation that failed is not recorded.
  if (!idempotency_key.empty()) new_idempotency_keys_.insert(idempotency_key);
  if (const std::string& released = m.release_idempotency_key();
      !released.empty()) {
    new_idempotency_keys_.erase(released);
    released_idempotency_keys_.insert(released);
    auto it = idempotency_.find(released);
    if (it != idempotency_.end()) it->second.existed = false;
  }
  if (applied) {
    ++applied_count_;
    return MutationOutcome::kApplied;
  }
  return MutationOutcome::kUnchanged;
}

void BatchBuilder::Finish(bool commit, int64_t idempotency_sequence,
                          absl::string_view origin, int64_t* entity_count,
                          int64_t* edge_count, int64_t* signal_count,
                          int64_t* link_count) {
  const std::string sequence_value = EncodeFixed64BE(idempotency_sequence);
  std::vector<const std::string*> keys;
  keys.reserve(new_idempotency_keys_.size());
  for (const std::string& key : new_idempotency_keys_) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* key : keys) {
    batch_.Put(handle(kIdempotencyCf), *key, sequence_value);
  }
  std::vector<absl::string_view> released(released_idempotency_keys_.begin(),
                                          released_idempotency_keys_.end());
  std::sort(released.begin(), released.end());
  for (absl::string_view key : released) {
    batch_.Delete(handle(kIdempotencyCf), ToSlice(key));
  }
  if (!commit) return;
  WriteSlots(kEntitiesCf, entities_, /*in_edges=*/false);
  WriteIdentifierKeys();
  WriteSlots(kOutEdgesCf, edges_, /*in_edges=*/false);
  WriteSlots(kInEdgesCf, edges_, /*in_edges=*/true);
  WriteSlots(kInEdgesCf, in_copies_, /*in_edges=*/false);
  WriteSlots(kSignalsCf, signals_, /*in_edges=*/false);
  WriteSlots(kLinksCf, links_, /*in_edges=*/false);
  WriteSlots(kLinksCf, links_, /*in_edges=*/true);
  WriteSlots(kLinksCf, link_copies_, /*in_edges=*/false);
  if (!outbox_.empty()) {
    // Keys of one commit: (peer, sequence, ordinal), sorted by peer first.
    std::vector<std::pair<std::string, const OutboxWrite*>> entries;
    entries.reserve(outbox_.size());
    for (size_t i = 0; i < outbox_.size(); ++i) {
      entries.emplace_back(
          EncodeOutboxKey(outbox_[i].peer, sequence_, static_cast<uint32_t>(i)),
          &outbox_[i]);
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    const std::string enqueued = EncodeFixed64BE(
        static_cast<uint64_t>(absl::ToUnixMicros(commit_time_)));
    std::string value;
    for (const auto& [key, write] : entries) {
      value = enqueued;
      write->mutation.AppendToString(&value);
      batch_.Put(handle(kOutboxCf), key, value);
    }
  }
  *entity_count += CountDelta(entities_);
  *edge_count += CountDelta(edges_);
  *signal_count += CountDelta(signals_);
  *link_count += CountDelta(links_);
  rocksdb::ColumnFamilyHandle* meta = handle(kMetaCf);
  batch_.Put(meta, ToSlice(internal::kMetaLastSequence),
             EncodeFixed64BE(sequence_));
  batch_.Put(meta, ToSlice(internal::kMetaEntityCount),
             EncodeFixed64BE(*entity_count));
  batch_.Put(meta, ToSlice(internal::kMetaEdgeCount),
             EncodeFixed64BE(*edge_count));
  batch_.Put(meta, ToSlice(internal::kMetaSignalCount),
             EncodeFixed64BE(*signal_count));
  batch_.Put(meta, ToSlice(internal::kMetaLinkCount),
             EncodeFixed64BE(*link_count));
  const std::string key = EncodeChangeLogKey(sequence_);
  const std::string header =
      internal::EncodeChangeHeader(sequence_, commit_time_);
  const std::string trailer = internal::EncodeChangeOrigin(origin);
  const rocksdb::Slice key_slice(key);
  const rocksdb::Slice parts[3] = {header, change_body_, trailer};
  batch_.Put(handle(kChangeLogCf), rocksdb::SliceParts(&key_slice, 1),
             rocksdb::SliceParts(parts, 3));
}

void BatchBuilder::WriteSlots(Cf which, const Slots& slots, bool in_edges) {
  std::vector<std::pair<absl::string_view, const Slot*>> dirty;
  for (const auto& [key, slot] : slots) {
    if (!slot.dirty || (!slot.exists && !slot.existed)) continue;
    if (in_edges && slot.out_only) continue;
    dirty.emplace_back(
        in_edges ? absl::string_view(slot.in_key) : absl::string_view(key),
        &slot);
  }
  std::sort(dirty.begin(), dirty.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  rocksdb::ColumnFamilyHandle* cf = handle(which);
  for (const auto& [key, slot] : dirty) {
    if (slot->exists) {
      batch_.Put(cf, ToSlice(key), slot->value);
    } else {
      batch_.Delete(cf, ToSlice(key));
    }
  }
}

absl::Status BatchBuilder::TakeOldIdentifierKeys(Slot& slot) {
  if (slot.before.empty()) return absl::OkStatus();
  v1::Entity stored;
  if (!stored.ParseFromString(slot.before)) {
    return absl::DataLossError(
        "an entity record being replaced does not parse");
  }
  slot.old_identifier_keys = IdentifierKeysOf(stored);
  std::string().swap(slot.before);
  return absl::OkStatus();
}

void BatchBuilder::WriteIdentifierKeys() {
  // (key, put?) for every entry that changes.
  std::vector<std::pair<absl::string_view, bool>> changes;
  for (const auto& [key, slot] : entities_) {
    if (!slot.dirty) continue;
    // Both sorted: a merge finds what was removed and what was added.
    const std::vector<std::string>& was = slot.old_identifier_keys;
    const std::vector<std::string>& is = slot.identifier_keys;
    size_t i = 0, j = 0;
    while (i < was.size() || j < is.size()) {
      if (j == is.size() || (i < was.size() && was[i] < is[j])) {
        changes.emplace_back(was[i++], false);
      } else if (i == was.size() || is[j] < was[i]) {
        changes.emplace_back(is[j++], true);
      } else {
        ++i;
        ++j;
      }
    }
  }
  std::sort(changes.begin(), changes.end());
  rocksdb::ColumnFamilyHandle* cf = handle(kIdentifiersCf);
  for (const auto& [key, put] : changes) {
    if (put) {
      batch_.Put(cf, ToSlice(key), rocksdb::Slice());
    } else {
      batch_.Delete(cf, ToSlice(key));
    }
  }
}

void BatchBuilder::MarkEdgeDirty(const EdgeKeyParts& parts, Slot* slot) {
  if (slot->in_key.empty()) slot->in_key = internal::EncodeInEdgeKey(parts);
  slot->dirty = true;
}

int64_t BatchBuilder::CountDelta(const Slots& slots) {
  int64_t delta = 0;
  for (const auto& [key, slot] : slots) {
    delta += static_cast<int>(slot.exists) - static_cast<int>(slot.existed);
  }
  return delta;
}

absl::Status BatchBuilder::MultiGet(Cf which, Slots* slots) {
  if (slots->empty()) return absl::OkStatus();
  std::vector<std::pair<rocksdb::Slice, Slot*>> sorted;
  sorted.reserve(slots->size());
  for (auto& [key, slot] : *slots) sorted.emplace_back(key, &slot);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.first.compare(b.first) < 0;
  });
  std::vector<rocksdb::Slice> keys;
  std::vector<Slot*> targets;
  keys.reserve(sorted.size());
  targets.reserve(sorted.size());
  for (const auto& [key, slot] : sorted) {
    keys.push_back(key);
    targets.push_back(slot);
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), handle(which), keys.size(), keys.data(),
                values.data(), statuses.data(),
                /*sorted_input=*/true);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    RETURN_IF_ERROR(
        ToAbslStatus(statuses[i], absl::StrCat("reading ", kCfNames[which])));
    targets[i]->existed = targets[i]->exists = true;
    targets[i]->value.assign(values[i].data(), values[i].size());
  }
  return absl::OkStatus();
}

bool BatchBuilder::UpsertEntity(const v1::Mutation& m, Slot& slot) {
  const v1::Entity& e = m.upsert_entity();
  std::string value;
  AppendBody(e, &value);
  if (slot.exists && internal::SameBody(slot.value, value)) return false;
  internal::AppendEntityTail(sequence_, commit_time_, origin_, &value);
  if (!slot.dirty && slot.existed) slot.before = std::move(slot.value);
  slot.identifier_keys = IdentifierKeysOf(e);
  slot.dirty = true;
  internal::AppendRecordMutation(v1::Mutation::kUpsertEntityFieldNumber, value,
                                 m.idempotency_key(), &change_body_);
  slot.exists = true;
  slot.value = std::move(value);
  return true;
}

bool BatchBuilder::EntityExists(absl::string_view id) const {
  if (!entities_.empty()) {
    auto it = entities_.find(EncodeEntityKey(id));
    if (it != entities_.end()) return it->second.exists;
  }
  return entity_ids_ != nullptr && entity_ids_->contains(id);
}

absl::StatusOr<bool> BatchBuilder::UpsertEdge(int index, const v1::Mutation& m,
                                              Entry& entry) {
  const v1::Edge& e = m.upsert_edge();
  const v1::EdgeCopy copy = m.edge_copy();
  for (const std::string* id : {&e.from_id(), &e.to_id()}) {
    if (copy == (id == &e.from_id() ? v1::EDGE_COPY_IN : v1::EDGE_COPY_OUT)) {
      continue;  // The other shard checks its end.
    }
    if (!EntityExists(*id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mutations[", index, "].upsert_edge.",
                       id == &e.from_id() ? "from_id" : "to_id", ": entity ",
                       *id, " does not exist"));
    }
  }
  // The out-edge key, or for an in-copy the in-edge key.
  const std::string& key = entry.first;
  Slot& slot = entry.second;
  std::string value;
  AppendBody(e, &value);
  if (slot.exists && internal::SameBody(slot.value, value)) return false;
  internal::AppendSequenceAndOriginTail(sequence_, origin_, &value);
  if (copy == v1::EDGE_COPY_IN) {
    slot.dirty = true;
  } else {
    MarkEdgeDirty(PartsOf(e), &slot);
    if (copy == v1::EDGE_COPY_OUT) slot.out_only = true;
  }
  internal::AppendRecordMutation(v1::Mutation::kUpsertEdgeFieldNumber, value,
                                 m.idempotency_key(), &change_body_, copy);
  if (copy != v1::EDGE_COPY_BOTH && shard_of_ != nullptr) {
    EnqueueOtherCopy(
        shard_of_(copy == v1::EDGE_COPY_OUT ? e.to_id() : e.from_id()), m);
  }
  if (!slot.existed && track_created_edges_) {
    if (copy == v1::EDGE_COPY_IN) {
      batch_in_copies_by_entity_[e.to_id()].push_back(key);
    } else {
      batch_edges_by_entity_[e.from_id()].push_back(key);
      if (copy == v1::EDGE_COPY_BOTH && e.to_id() != e.from_id()) {
        batch_edges_by_entity_[e.to_id()].push_back(key);
      }
    }
  }
  slot.exists = true;
  slot.value = std::move(value);
  return true;
}

bool BatchBuilder::UpsertSignal(const v1::Mutation& m, Slot& slot) {
  const v1::Signal& sig = m.upsert_signal();
  std::string value;
  AppendBody(sig, &value);
  if (slot.exists && internal::SameBody(slot.value, value)) return false;
  internal::AppendSequenceAndOriginTail(sequence_, origin_, &value);
  slot.dirty = true;
  internal::AppendRecordMutation(v1::Mutation::kUpsertSignalFieldNumber, value,
                                 m.idempotency_key(), &change_body_);
  slot.exists = true;
  slot.value = std::move(value);
  return true;
}

bool BatchBuilder::DeleteEdge(const v1::Mutation& m, Slot& slot) {
  const v1::EdgeKey& k = m.delete_edge();
  if (!slot.exists) return false;
  if (m.edge_copy() == v1::EDGE_COPY_IN) {
    slot.dirty = true;
  } else {
    MarkEdgeDirty(PartsOf(k), &slot);
    if (m.edge_copy() == v1::EDGE_COPY_OUT) slot.out_only = true;
  }
  if (m.release_idempotency_key().empty()) {
    internal::AppendMutation(m, &change_body_);
  } else {
    v1::Mutation logged = m;  // The log records what changed, not the key.
    logged.clear_release_idempotency_key();
    internal::AppendMutation(logged, &change_body_);
  }
  if (m.edge_copy() != v1::EDGE_COPY_BOTH && shard_of_ != nullptr) {
    EnqueueOtherCopy(
        shard_of_(m.edge_copy() == v1::EDGE_COPY_OUT ? k.to_id() : k.from_id()),
        m);
  }
  slot.exists = false;
  slot.value.clear();
  return true;
}

bool BatchBuilder::DeleteSignal(const v1::Mutation& m, Slot& slot) {
  if (!slot.exists) return false;
  slot.dirty = true;
  internal::AppendMutation(m, &change_body_);
  slot.exists = false;
  slot.value.clear();
  return true;
}

void BatchBuilder::MarkLinkDirty(absl::string_view key, Slot* slot) {
  if (slot->in_key.empty()) {
    absl::StatusOr<LinkKeyParts> parts = DecodeLinkKey(key);
    // Keys here are built by PrimaryLinkKey or read and decoded already.
    if (parts.ok())
      slot->in_key = EncodeLinkKey(parts->other_id, parts->owner_id);
  }
  slot->dirty = true;
}

absl::StatusOr<bool> BatchBuilder::UpsertLink(int index, const v1::Mutation& m,
                                              Entry& entry) {
  const v1::Link& l = m.upsert_link();
  const v1::EdgeCopy copy = m.edge_copy();
  for (const std::string* id : {&l.entity_a(), &l.entity_b()}) {
    if (copy == (id == &l.entity_a() ? v1::EDGE_COPY_IN : v1::EDGE_COPY_OUT)) {
      continue;  // The other shard checks its end.
    }
    if (!EntityExists(*id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mutations[", index, "].upsert_link.",
                       id == &l.entity_a() ? "entity_a" : "entity_b",
                       ": entity ", *id, " does not exist"));
    }
  }
  Slot& slot = entry.second;
  if (slot.exists && !domain::IsReviewerDecision(l.decided_by())) {
    // A refusal, or any person's decision, stands against automatic ones.
    v1::Link stored;
    if (!stored.ParseFromString(slot.value)) {
      return absl::DataLossError(
          absl::StrCat("unparseable link record between ", l.entity_a(),
                       " and ", l.entity_b()));
    }
    if (stored.judgement() == v1::Link::NEGATIVE ||
        domain::IsReviewerDecision(stored.decided_by())) {
      return false;
    }
  }
  v1::Link body = l;
  body.clear_update_sequence();
  body.clear_update_origin();
  if (body.entity_b() < body.entity_a()) {
    body.mutable_entity_a()->swap(*body.mutable_entity_b());
  }
  std::string value;
  AppendDeterministic(body, &value);
  if (slot.exists && internal::SameBody(slot.value, value)) return false;
  internal::AppendSequenceAndOriginTail(sequence_, origin_, &value);
  // A one-copy mutation: the copy under the smaller id is in links_ (its
  // other copy another shard's), the one under the larger in link_copies_.
  const bool secondary =
      copy != v1::EDGE_COPY_BOTH &&
      (copy == v1::EDGE_COPY_OUT ? l.entity_a() > l.entity_b()
                                 : l.entity_b() > l.entity_a());
  if (secondary) {
    slot.dirty = true;
  } else {
    MarkLinkDirty(entry.first, &slot);
    if (copy != v1::EDGE_COPY_BOTH) slot.out_only = true;
  }
  internal::AppendRecordMutation(v1::Mutation::kUpsertLinkFieldNumber, value,
                                 m.idempotency_key(), &change_body_, copy);
  if (copy != v1::EDGE_COPY_BOTH && shard_of_ != nullptr) {
    EnqueueOtherCopy(
        shard_of_(copy == v1::EDGE_COPY_OUT ? l.entity_b() : l.entity_a()), m);
  }
  if (!slot.existed && track_created_edges_) {
    if (secondary) {
      batch_link_copies_by_entity_[copy == v1::EDGE_COPY_OUT ? l.entity_a()
                                                             : l.entity_b()]
          .push_back(entry.first);
    } else if (copy != v1::EDGE_COPY_BOTH) {
      batch_links_by_entity_[copy == v1::EDGE_COPY_OUT ? l.entity_a()
                                                       : l.entity_b()]
          .push_back(entry.first);
    } else {
      batch_links_by_entity_[body.entity_a()].push_back(entry.first);
      batch_links_by_entity_[body.entity_b()].push_back(entry.first);
    }
  }
  slot.exists = true;
  slot.value = std::move(value);
  return true;
}

bool BatchBuilder::DeleteLink(const v1::Mutation& m, Slot& slot) {
  if (!slot.exists) return false;
  const v1::LinkKey& k = m.delete_link();
  const v1::EdgeCopy copy = m.edge_copy();
  v1::Mutation logged = m;
  logged.clear_release_idempotency_key();
  v1::LinkKey* key = logged.mutable_delete_link();
  if (copy == v1::EDGE_COPY_BOTH) {
    MarkLinkDirty(PrimaryLinkKey(k.entity_a(), k.entity_b()), &slot);
  } else {
    const std::string& owner =
        copy == v1::EDGE_COPY_OUT ? k.entity_a() : k.entity_b();
    const std::string& other =
        copy == v1::EDGE_COPY_OUT ? k.entity_b() : k.entity_a();
    if (owner < other) {
      MarkLinkDirty(EncodeLinkKey(owner, other), &slot);
      slot.out_only = true;
    } else {
      slot.dirty = true;
    }
    if (shard_of_ != nullptr) EnqueueOtherCopy(shard_of_(other), m);
  }
  if (key->entity_b() < key->entity_a()) {
    // Logged in the stored order; the copy names the same end.
    key->mutable_entity_a()->swap(*key->mutable_entity_b());
    if (copy != v1::EDGE_COPY_BOTH) logged.set_edge_copy(Flip(copy));
  }
  internal::AppendMutation(logged, &change_body_);
  slot.exists = false;
  slot.value.clear();
  return true;
}

void BatchBuilder::AddRemoteCopy(const EdgeKeyParts& parts, v1::EdgeCopy copy,
                                 absl::string_view id) {
  RemoteEdgeCopy remote;
  remote.key = ToEdgeKey(parts);
  remote.copy = copy;
  remote.shard = shard_of_(id);
  v1::Mutation deleted;
  *deleted.mutable_delete_edge() = remote.key;
  deleted.set_edge_copy(Flip(copy));  // EnqueueOtherCopy flips it back.
  EnqueueOtherCopy(remote.shard, deleted);
  remote_copies_.push_back(std::move(remote));
}

absl::Status BatchBuilder::CascadeLinks(absl::string_view id) {
  // The keys of the links to delete, sorted, each with the value the scan
  // found (a link not named by the batch is read here, not by Load) and
  // whether it is a copy under the larger id whose primary copy is another
  // shard's (link_copies_). A link between two entities of this store is
  // keyed by its primary copy (links_).
  struct Touching {
    std::string scanned;
    bool secondary = false;
  };
  std::map<std::string, Touching> touching;
  const std::string prefix = LinkPrefix(id);
  const std::string upper = PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  options.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(options, handle(kLinksCf)));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    absl::StatusOr<LinkKeyParts> parts = DecodeLinkKey(View(it->key()));
    if (!parts.ok()) return absl::DataLossError(parts.status().message());
    const bool remote = IsRemote(parts->other_id);
    Touching t{std::string(View(it->value())),
               remote && parts->owner_id > parts->other_id};
    touching.emplace(remote ? std::string(View(it->key()))
                            : PrimaryLinkKey(parts->owner_id, parts->other_id),
                     std::move(t));
  }
  RETURN_IF_ERROR(ToAbslStatus(it->status(), "scanning links"));
  auto in_batch = batch_links_by_entity_.find(id);
  if (in_batch != batch_links_by_entity_.end()) {
    for (const std::string& key : in_batch->second) touching.try_emplace(key);
  }
  auto copies_in_batch = batch_link_copies_by_entity_.find(id);
  if (copies_in_batch != batch_link_copies_by_entity_.end()) {
    for (const std::string& key : copies_in_batch->second) {
      touching.try_emplace(key, Touching{"", true});
    }
  }
  for (const auto& [key, found] : touching) {
    auto [slot_it, inserted] =
        (found.secondary ? link_copies_ : links_).try_emplace(key);
    Slot& link_slot = slot_it->second;
    if (inserted) {
      link_slot.existed = link_slot.exists = true;
      link_slot.value = found.scanned;
    }
    if (!link_slot.exists) continue;
    v1::Link stored;
    if (!stored.ParseFromString(link_slot.value)) {
      return absl::DataLossError(absl::StrCat(
          "unparseable link record under key \"", absl::CHexEscape(key), "\""));
    }
    if (stored.judgement() == v1::Link::NEGATIVE) continue;  // Kept.
    const std::string& other =
        stored.entity_a() == id ? stored.entity_b() : stored.entity_a();
    const bool remote = IsRemote(other);
    if (found.secondary) {
      link_slot.dirty = true;
    } else {
      MarkLinkDirty(key, &link_slot);
      if (remote) link_slot.out_only = true;
    }
    link_slot.exists = false;
    link_slot.value.clear();
    v1::Mutation cascaded;
    cascaded.mutable_delete_link()->set_entity_a(stored.entity_a());
    cascaded.mutable_delete_link()->set_entity_b(stored.entity_b());
    if (remote) {
      // This store's copy; the other's, under `other`, goes to its shard.
      cascaded.set_edge_copy(stored.entity_a() == id ? v1::EDGE_COPY_OUT
                                                     : v1::EDGE_COPY_IN);
      EnqueueOtherCopy(shard_of_(other), cascaded);
    }
    internal::AppendMutation(cascaded, &change_body_);
    ++cascaded_link_deletes_;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> BatchBuilder::DeleteEntity(const v1::Mutation& m,
                                                Slot& slot) {
  const std::string& id = m.delete_entity_id();
  if (!slot.exists) return false;
  if (!slot.dirty && slot.existed) slot.before = std::move(slot.value);
  slot.identifier_keys.clear();
  slot.dirty = true;
  internal::AppendMutation(m, &change_body_);
  slot.exists = false;
  slot.value.clear();

  std::set<std::string> touching;  // Out-edge keys, sorted.
  // Partitioned: in-edge keys of in-copies whose out-copy is another
  // shard's, sorted.
  std::set<std::string> touching_in;
  const std::string prefix = internal::EdgePrefix(id);
  const std::string upper = internal::PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  options.prefix_same_as_start = true;
  for (Cf which : {kOutEdgesCf, kInEdgesCf}) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(options, handle(which)));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      const absl::string_view k = View(it->key());
      if (which == kOutEdgesCf) {
        touching.emplace(k);
      } else {
        absl::StatusOr<EdgeKeyParts> parts = internal::DecodeInEdgeKey(k);
        if (!parts.ok()) return absl::DataLossError(parts.status().message());
        if (IsRemote(parts->from_id)) {
          touching_in.emplace(k);
        } else {
          touching.insert(internal::EncodeOutEdgeKey(*parts));
        }
      }
    }
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "scanning edges"));
  }
  auto in_batch = batch_edges_by_entity_.find(id);
  if (in_batch != batch_edges_by_entity_.end()) {
    touching.insert(in_batch->second.begin(), in_batch->second.end());
  }
  auto in_copies_in_batch = batch_in_copies_by_entity_.find(id);
  if (in_copies_in_batch != batch_in_copies_by_entity_.end()) {
    touching_in.insert(in_copies_in_batch->second.begin(),
                       in_copies_in_batch->second.end());
  }

  for (const std::string& out_key : touching) {
    // Edges found by the scan and not named by the batch are stored.
    auto [it, inserted] = edges_.try_emplace(out_key);
    Slot& edge_slot = it->second;
    if (inserted) edge_slot.existed = edge_slot.exists = true;
    if (!edge_slot.exists) continue;
    absl::StatusOr<EdgeKeyParts> parts = internal::DecodeOutEdgeKey(out_key);
    if (!parts.ok()) return absl::DataLossError(parts.status().message());
    MarkEdgeDirty(*parts, &edge_slot);
    edge_slot.exists = false;
    edge_slot.value.clear();
    v1::Mutation cascaded;
    *cascaded.mutable_delete_edge() = ToEdgeKey(*parts);
    if (IsRemote(parts->to_id)) {
      // Its in-copy is on to_id's shard: deleted there, by the writer.
      edge_slot.out_only = true;
      cascaded.set_edge_copy(v1::EDGE_COPY_OUT);
      AddRemoteCopy(*parts, v1::EDGE_COPY_IN, parts->to_id);
    }
    internal::AppendMutation(cascaded, &change_body_);
    ++cascaded_edge_deletes_;
  }
  for (const std::string& in_key : touching_in) {
    auto [it, inserted] = in_copies_.try_emplace(in_key);
    Slot& copy_slot = it->second;
    if (inserted) copy_slot.existed = copy_slot.exists = true;
    if (!copy_slot.exists) continue;
    absl::StatusOr<EdgeKeyParts> parts = internal::DecodeInEdgeKey(in_key);
    if (!parts.ok()) return absl::DataLossError(parts.status().message());
    copy_slot.dirty = true;
    copy_slot.exists = false;
    copy_slot.value.clear();
    v1::Mutation cascaded;
    *cascaded.mutable_delete_edge() = ToEdgeKey(*parts);
    cascaded.set_edge_copy(v1::EDGE_COPY_IN);
    internal::AppendMutation(cascaded, &change_body_);
    AddRemoteCopy(*parts, v1::EDGE_COPY_OUT, parts->from_id);
    ++cascaded_edge_deletes_;
  }
  RETURN_IF_ERROR(CascadeLinks(id));
  return true;
}

}  // namespace georisk::storage::internal
