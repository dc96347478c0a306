// File: storage/rocksdb_graph_store_bulk_load.cc
//
// BulkLoader (storage/bulk_load.h): the records of a load are validated and
// encoded as Apply does (domain/record_validation.h, record_codec.h, the
// BatchBuilder's rules for endpoints and links), kept in arenas, sorted per
// column family, written with rocksdb::SstFileWriter and ingested by
// RocksDbGraphStore::IngestBulkLoad in one DB::IngestExternalFiles call.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "domain/record_validation.h"
#include "domain/validation.h"
#include "rocksdb/sst_file_writer.h"
#include "storage/bulk_load.h"
#include "storage/internal/column_families.h"
#include "storage/internal/entity_id_set.h"
#include "storage/internal/identifier_index.h"
#include "storage/internal/keys.h"
#include "storage/internal/record_codec.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::Cf;
using internal::EncodeFixed64BE;
using internal::kCfCount;
using internal::kCfNames;
using internal::kEntitiesCf;
using internal::kIdempotencyCf;
using internal::kIdentifiersCf;
using internal::kInEdgesCf;
using internal::kLinksCf;
using internal::kMetaCf;
using internal::kOutEdgesCf;
using internal::kSignalsCf;
using internal::ToAbslStatus;

// The sequence of a bulk load: the store's first commit.
constexpr int64_t kBulkSequence = 1;

// Append-only bytes in fixed blocks, so that what was stored never moves.
class Arena {
 public:
  absl::string_view Store(absl::string_view bytes) {
    if (bytes.size() > kBlockBytes - used_ || blocks_.empty()) {
      blocks_.push_back(std::make_unique<char[]>(
          std::max(kBlockBytes, static_cast<size_t>(bytes.size()))));
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    used_ += bytes.size();
    if (used_ > kBlockBytes) used_ = kBlockBytes;  // An oversized block.
    return absl::string_view(at, bytes.size());
  }

 private:
  static constexpr size_t kBlockBytes = size_t{64} << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
};

// One record of a column family: its key and value (in an Arena), the
// mutation's index (which one wins when several write one key: the last)
// and, for entities, the slot of its identifier keys. `head` is the key's
// first 8 bytes, big-endian and zero-padded, so that most comparisons of
// the sort are one integer comparison.
struct Record {
  uint64_t head;
  const char* key;
  const char* value;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t index;
  uint32_t aux;

  absl::string_view Key() const { return {key, key_size}; }
  absl::string_view Value() const { return {value, value_size}; }
};

uint64_t HeadOf(absl::string_view key) {
  uint64_t head = 0;
  for (size_t i = 0; i < 8; ++i) {
    head =
        head << 8 | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0u);
  }
  return head;
}

bool KeyLess(const Record& a, const Record& b) {
  if (a.head != b.head) return a.head < b.head;
  const int c = a.Key().compare(b.Key());
  if (c != 0) return c < 0;
  return a.index < b.index;
}

// Encodes `record` with its output-only fields cleared (as BatchBuilder).
template <typename Message>
void EncodeBody(const Message& record, bool has_output_fields,
                std::string* value) {
  if (!has_output_fields) {
    internal::AppendDeterministic(record, value);
    return;
  }
  Message copy = record;
  copy.clear_update_sequence();
  if constexpr (std::is_same_v<Message, v1::Entity>) copy.clear_update_time();
  internal::AppendDeterministic(copy, value);
}

// What writing one column family's records produced.
struct TableOutcome {
  absl::Status status;
  std::string file;  // Empty: no records.
  int64_t distinct = 0;
  int64_t applied = 0;
  int64_t unchanged = 0;
  int64_t key_bytes = 0;
  int64_t value_bytes = 0;
  int64_t file_bytes = 0;
};

}  // namespace

struct BulkLoader::State {
  RocksDbGraphStore* store = nullptr;
  BulkLoadOptions options;
  domain::RecordLimits limits;
  absl::Time commit_time;
  std::vector<rocksdb::Options> cf_options;  // By Cf.
  bool finished = false;
  absl::Status spoiled;

  Arena arena;
  std::vector<Record> records[kCfCount];
  // Entities: identifier keys of entity record `aux` are
  // identifier_keys[identifier_begin[aux] .. identifier_begin[aux + 1]).
  std::vector<absl::string_view> identifier_keys;
  std::vector<uint32_t> identifier_begin{0};
  internal::EntityIdSet entity_ids;
  // Links are few and their rules need the current one: kept whole.
  std::map<std::string, std::string> links;  // Key under entity_a -> value.
  absl::flat_hash_set<std::string> idempotency_keys;

  uint32_t added = 0;
  int64_t link_applied = 0;
  int64_t link_unchanged = 0;
  int64_t duplicates = 0;
  std::vector<MutationRejection> rejections;
  std::string scratch;

  ~State() {
    if (!options.work_dir.empty()) {
      std::error_code ignored;
      for (int i = 0; i < kCfCount; ++i) {
        std::filesystem::remove(FilePath(i), ignored);
      }
    }
  }

  std::string FilePath(int cf) const {
    return absl::StrCat(options.work_dir, "/", kCfNames[cf], ".sst");
  }

  void Reject(uint32_t index, std::string field, std::string reason) {
    rejections.push_back(
        {static_cast<int>(index), std::move(field), std::move(reason)});
  }

  void Keep(Cf which, absl::string_view key, absl::string_view value,
            uint32_t index, uint32_t aux = 0) {
    const absl::string_view k = arena.Store(key);
    records[which].push_back({HeadOf(key), k.data(), value.data(),
                              static_cast<uint32_t>(key.size()),
                              static_cast<uint32_t>(value.size()), index, aux});
  }

  // Returns the reason a graph rule refuses `m`, as BatchBuilder words it,
  // with the field; empty when it is kept.
  std::pair<std::string, std::string> AddRecord(uint32_t index,
                                                const v1::Mutation& m) {
    scratch.clear();
    switch (m.kind_case()) {
      case v1::Mutation::kUpsertEntity: {
        const v1::Entity& e = m.upsert_entity();
        EncodeBody(e, e.update_sequence() != 0 || e.has_update_time(),
                   &scratch);
        internal::AppendSequenceAndTimeTail(kBulkSequence, commit_time,
                                            &scratch);
        const absl::string_view value = arena.Store(scratch);
        for (const std::string& k : internal::IdentifierKeysOf(e)) {
          identifier_keys.push_back(arena.Store(k));
        }
        const uint32_t aux = static_cast<uint32_t>(identifier_begin.size() - 1);
        identifier_begin.push_back(
            static_cast<uint32_t>(identifier_keys.size()));
        Keep(kEntitiesCf, internal::EncodeEntityKey(e.id()), value, index, aux);
        entity_ids.insert(e.id());
        return {};
      }
      case v1::Mutation::kUpsertEdge: {
        const v1::Edge& e = m.upsert_edge();
        for (const std::string* id : {&e.from_id(), &e.to_id()}) {
          if (!entity_ids.contains(*id)) {
            return {absl::StrCat("upsert_edge.",
                                 id == &e.from_id() ? "from_id" : "to_id"),
                    absl::StrCat("entity ", *id, " does not exist")};
          }
        }
        EncodeBody(e, e.update_sequence() != 0, &scratch);
        internal::AppendSequenceTail(kBulkSequence, &scratch);
        const absl::string_view value = arena.Store(scratch);
        const internal::EdgeKeyParts parts = internal::PartsOf(e);
        Keep(kOutEdgesCf, internal::EncodeOutEdgeKey(parts), value, index);
        Keep(kInEdgesCf, internal::EncodeInEdgeKey(parts), value, index);
        return {};
      }
      case v1::Mutation::kUpsertSignal: {
        const v1::Signal& s = m.upsert_signal();
        EncodeBody(s, s.update_sequence() != 0, &scratch);
        internal::AppendSequenceTail(kBulkSequence, &scratch);
        Keep(kSignalsCf, internal::EncodeSignalKey(s.id()),
             arena.Store(scratch), index);
        return {};
      }
      case v1::Mutation::kUpsertLink:
        return AddLink(m.upsert_link());
      case v1::Mutation::kDeleteEntityId:
        return {"delete_entity_id", kUpsertsOnly};
      case v1::Mutation::kDeleteEdge:
        return {"delete_edge", kUpsertsOnly};
      case v1::Mutation::kDeleteSignalId:
        return {"delete_signal_id", kUpsertsOnly};
      case v1::Mutation::kDeleteLink:
        return {"delete_link", kUpsertsOnly};
      case v1::Mutation::KIND_NOT_SET:
        break;
    }
    return {"kind", "is required"};
  }

  // BatchBuilder::UpsertLink's rules against the load's earlier links.
  std::pair<std::string, std::string> AddLink(const v1::Link& l) {
    for (const std::string* id : {&l.entity_a(), &l.entity_b()}) {
      if (!entity_ids.contains(*id)) {
        return {absl::StrCat("upsert_link.",
                             id == &l.entity_a() ? "entity_a" : "entity_b"),
                absl::StrCat("entity ", *id, " does not exist")};
      }
    }
    const std::string key =
        l.entity_a() < l.entity_b()
            ? internal::EncodeLinkKey(l.entity_a(), l.entity_b())
            : internal::EncodeLinkKey(l.entity_b(), l.entity_a());
    auto it = links.find(key);
    if (it != links.end() && !domain::IsReviewerDecision(l.decided_by())) {
      v1::Link stored;
      if (stored.ParseFromString(it->second) &&
          (stored.judgement() == v1::Link::NEGATIVE ||
           domain::IsReviewerDecision(stored.decided_by()))) {
        ++link_unchanged;
        return {};
      }
    }
    v1::Link body = l;
    body.clear_update_sequence();
    if (body.entity_b() < body.entity_a()) {
      body.mutable_entity_a()->swap(*body.mutable_entity_b());
    }
    std::string value;
    internal::AppendDeterministic(body, &value);
    if (it != links.end() && internal::SameBody(it->second, value)) {
      ++link_unchanged;
      return {};
    }
    internal::AppendSequenceTail(kBulkSequence, &value);
    links[key] = std::move(value);
    ++link_applied;
    return {};
  }

  static constexpr const char* kUpsertsOnly =
      "a bulk load takes upserts only (it loads an empty store); delete "
      "through Apply";

  // Sorts `which`'s records and writes the last record of each key, in key
  // order, to its table file.
  TableOutcome WriteTable(int which) {
    TableOutcome out;
    std::vector<Record>& recs = records[which];
    if (recs.empty()) return out;
    std::sort(recs.begin(), recs.end(), KeyLess);
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), cf_options[which],
                                  store->db_->cf(static_cast<Cf>(which)),
                                  /*invalidate_page_cache=*/false);
    out.file = FilePath(which);
    rocksdb::Status s = writer.Open(out.file);
    for (size_t i = 0; s.ok() && i < recs.size(); ++i) {
      const Record& r = recs[i];
      const bool first = i == 0 || recs[i - 1].Key() != r.Key();
      if (first) {
        ++out.applied;
      } else if (recs[i - 1].Value() == r.Value()) {
        ++out.unchanged;
      } else {
        ++out.applied;
      }
      if (i + 1 < recs.size() && recs[i + 1].Key() == r.Key()) continue;
      ++out.distinct;
      out.key_bytes += r.key_size;
      out.value_bytes += r.value_size;
      s = writer.Put(internal::ToSlice(r.Key()), internal::ToSlice(r.Value()));
    }
    // The sorted, de-duplicated records are no longer needed.
    if (which != kEntitiesCf) std::vector<Record>().swap(recs);
    rocksdb::ExternalSstFileInfo info;
    if (s.ok()) s = writer.Finish(&info);
    out.file_bytes = static_cast<int64_t>(info.file_size);
    out.status = ToAbslStatus(
        s, absl::StrCat("writing the bulk load's ", kCfNames[which], " table"));
    return out;
  }

  // Writes sorted (key, value) pairs of a small column family.
  TableOutcome WritePairs(
      int which, const std::vector<std::pair<std::string, std::string>>& kv) {
    TableOutcome out;
    if (kv.empty()) return out;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), cf_options[which],
                                  store->db_->cf(static_cast<Cf>(which)),
                                  /*invalidate_page_cache=*/false);
    out.file = FilePath(which);
    rocksdb::Status s = writer.Open(out.file);
    for (size_t i = 0; s.ok() && i < kv.size(); ++i) {
      s = writer.Put(kv[i].first, kv[i].second);
      ++out.distinct;
      out.key_bytes += kv[i].first.size();
      out.value_bytes += kv[i].second.size();
    }
    rocksdb::ExternalSstFileInfo info;
    if (s.ok()) s = writer.Finish(&info);
    out.file_bytes = static_cast<int64_t>(info.file_size);
    out.status = ToAbslStatus(
        s, absl::StrCat("writing the bulk load's ", kCfNames[which], " table"));
    return out;
  }
};

BulkLoader::BulkLoader(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

BulkLoader::~BulkLoader() = default;

absl::StatusOr<std::unique_ptr<BulkLoader>> BulkLoader::Start(
    RocksDbGraphStore* store, const BulkLoadOptions& options) {
  if (options.work_dir.empty()) {
    return absl::InvalidArgumentError("work_dir: is required");
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads: must be at least 1, got ", options.threads));
  }
  if (store->options_.partition_map.shard_count() > 1) {
    return absl::FailedPreconditionError(
        "a bulk load goes into an unpartitioned store; this one is a shard "
        "of a partitioned graph (docs/scale-out.md)");
  }
  if (const int64_t last = store->LastSequence(); last != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a bulk load goes into an empty store that never committed; this "
        "one is at sequence ",
        last, ": load into a new data directory, or use Apply"));
  }
  std::error_code error;
  std::filesystem::create_directories(options.work_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating the bulk load's work directory ",
                     options.work_dir, ": ", error.message()));
  }
  auto state = std::make_unique<State>();
  state->store = store;
  state->options = options;
  state->limits = options.record_limits.value_or(store->options_.record_limits);
  state->commit_time = store->Now();
  for (int i = 0; i < kCfCount; ++i) {
    state->cf_options.push_back(
        store->db_->db->GetOptions(store->db_->cf(static_cast<Cf>(i))));
  }
  return std::unique_ptr<BulkLoader>(new BulkLoader(std::move(state)));
}

absl::Status BulkLoader::Add(const v1::Mutation& m) {
  State& st = *state_;
  if (st.finished) return absl::FailedPreconditionError("the load finished");
  if (!st.spoiled.ok()) return st.spoiled;
  if (st.added == UINT32_MAX) {
    st.spoiled = absl::ResourceExhaustedError(
        "a bulk load takes at most 4294967295 mutations");
    return st.spoiled;
  }
  const uint32_t index = st.added++;
  // Apply's front: validation.h's rules and the size cap.
  if (absl::Status s = domain::ValidateRecord(m, st.limits); !s.ok()) {
    domain::FieldError e = domain::SplitFieldError(s.message());
    if (s.code() != absl::StatusCode::kInvalidArgument) {
      st.spoiled =
          absl::Status(s.code(), absl::StrCat("mutations[", index, "]",
                                              e.field.empty() ? "" : ".",
                                              e.field, ": ", e.reason));
      return st.spoiled;
    }
    st.Reject(index, std::move(e.field), std::move(e.reason));
    return absl::OkStatus();
  }
  if (m.edge_copy() != v1::EDGE_COPY_BOTH) {
    st.Reject(index, "edge_copy",
              "a bulk load writes both copies of every edge (an "
              "unpartitioned store)");
    return absl::OkStatus();
  }
  if (!m.release_idempotency_key().empty()) {
    st.Reject(index, "release_idempotency_key",
              std::string(State::kUpsertsOnly));
    return absl::OkStatus();
  }
  const std::string& key = m.idempotency_key();
  if (!key.empty() && st.idempotency_keys.contains(key)) {
    ++st.duplicates;
    return absl::OkStatus();
  }
  auto [field, reason] = st.AddRecord(index, m);
  if (!reason.empty()) {
    st.Reject(index, std::move(field), std::move(reason));
    return absl::OkStatus();
  }
  // Only now, as Apply: the key of a rejected mutation is not recorded.
  if (!key.empty()) st.idempotency_keys.insert(key);
  return absl::OkStatus();
}

absl::StatusOr<BulkLoadResult> BulkLoader::Finish() {
  State& st = *state_;
  if (st.finished) return absl::FailedPreconditionError("the load finished");
  if (!st.spoiled.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the load failed: ", st.spoiled.message()));
  }
  st.finished = true;
  const absl::Time start = absl::Now();
  TableOutcome tables[kCfCount];
  // The edge column families are the big ones: side by side when allowed.
  {
    std::vector<std::thread> threads;
    for (int which : {kOutEdgesCf, kInEdgesCf, kEntitiesCf, kSignalsCf}) {
      if (static_cast<int>(threads.size()) + 1 < st.options.threads) {
        threads.emplace_back(
            [&st, &tables, which] { tables[which] = st.WriteTable(which); });
      } else {
        tables[which] = st.WriteTable(which);
      }
    }
    for (std::thread& t : threads) t.join();
  }
  for (const TableOutcome& t : tables) RETURN_IF_ERROR(t.status);

  // The identifier index entries of each entity's last record.
  {
    std::vector<std::pair<std::string, std::string>> kv;
    const std::vector<Record>& entities = st.records[kEntitiesCf];
    for (size_t i = 0; i < entities.size(); ++i) {
      if (i + 1 < entities.size() &&
          entities[i + 1].Key() == entities[i].Key()) {
        continue;
      }
      const uint32_t aux = entities[i].aux;
      for (uint32_t k = st.identifier_begin[aux];
           k < st.identifier_begin[aux + 1]; ++k) {
        kv.emplace_back(std::string(st.identifier_keys[k]), std::string());
      }
    }
    std::vector<Record>().swap(st.records[kEntitiesCf]);
    std::sort(kv.begin(), kv.end());
    kv.erase(std::unique(kv.begin(), kv.end()), kv.end());
    tables[kIdentifiersCf] = st.WritePairs(kIdentifiersCf, kv);
  }
  {
    std::vector<std::pair<std::string, std::string>> kv;
    for (const auto& [key, value] : st.links) {
      absl::StatusOr<internal::LinkKeyParts> parts =
          internal::DecodeLinkKey(key);
      if (!parts.ok()) return parts.status();
      kv.emplace_back(key, value);
      kv.emplace_back(internal::EncodeLinkKey(parts->other_id, parts->owner_id),
                      value);
    }
    std::sort(kv.begin(), kv.end());
    tables[kLinksCf] = st.WritePairs(kLinksCf, kv);
  }
  {
    std::vector<std::pair<std::string, std::string>> kv;
    const std::string sequence = EncodeFixed64BE(kBulkSequence);
    for (const std::string& key : st.idempotency_keys) {
      kv.emplace_back(key, sequence);
    }
    std::sort(kv.begin(), kv.end());
    tables[kIdempotencyCf] = st.WritePairs(kIdempotencyCf, kv);
  }
  BulkLoadResult result;
  result.sequence = kBulkSequence;
  result.commit_time = st.commit_time;
  result.mutations = st.added;
  result.entities = tables[kEntitiesCf].distinct;
  result.edges = tables[kOutEdgesCf].distinct;
  result.signals = tables[kSignalsCf].distinct;
  result.links = static_cast<int64_t>(st.links.size());
  {
    std::vector<std::pair<std::string, std::string>> kv = {
        {std::string(internal::kMetaLastSequence),
         EncodeFixed64BE(kBulkSequence)},
        {std::string(internal::kMetaChangeLogStart),
         EncodeFixed64BE(kBulkSequence + 1)},
        {std::string(internal::kMetaEntityCount),
         EncodeFixed64BE(result.entities)},
        {std::string(internal::kMetaEdgeCount), EncodeFixed64BE(result.edges)},
        {std::string(internal::kMetaSignalCount),
         EncodeFixed64BE(result.signals)},
        {std::string(internal::kMetaLinkCount), EncodeFixed64BE(result.links)},
    };
    std::sort(kv.begin(), kv.end());
    tables[kMetaCf] = st.WritePairs(kMetaCf, kv);
  }
  for (const TableOutcome& t : tables) RETURN_IF_ERROR(t.status);
  result.applied = tables[kEntitiesCf].applied + tables[kOutEdgesCf].applied +
                   tables[kSignalsCf].applied + st.link_applied;
  result.unchanged = tables[kEntitiesCf].unchanged +
                     tables[kOutEdgesCf].unchanged +
                     tables[kSignalsCf].unchanged + st.link_unchanged;
  result.duplicates = st.duplicates;
  result.rejections = std::move(st.rejections);
  std::vector<std::pair<int, std::string>> files;
  for (int i = 0; i < kCfCount; ++i) {
    if (tables[i].file.empty()) continue;
    files.emplace_back(i, tables[i].file);
    result.keys += tables[i].distinct;
    result.key_bytes += tables[i].key_bytes;
    result.value_bytes += tables[i].value_bytes;
    result.file_bytes += tables[i].file_bytes;
  }
  const absl::Time written = absl::Now();
  result.write_time = written - start;
  if (result.applied == 0) {
    result.sequence = 0;  // No commit, as Apply.
    result.keys = result.key_bytes = result.value_bytes = 0;
    result.file_bytes = 0;
    return result;
  }
  if (st.options.before_ingest_for_testing) {
    st.options.before_ingest_for_testing();
  }
  RETURN_IF_ERROR(st.store->IngestBulkLoad(files, st.commit_time,
                                           result.entities, result.edges,
                                           result.signals, result.links));
  result.ingest_time = absl::Now() - written;
  return result;
}

absl::Status RocksDbGraphStore::IngestBulkLoad(
    const std::vector<std::pair<int, std::string>>& files,
    absl::Time commit_time, int64_t entities, int64_t edges, int64_t signals,
    int64_t links) {
  absl::MutexLock commit_lock(&commit_mu_);
  {
    absl::MutexLock lock(&state_mu_);
    if (closing_) return absl::UnavailableError("the store is closing");
    if (last_sequence_ != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("the store committed sequence ", last_sequence_,
                       " while the bulk load was built; nothing was ingested"));
    }
  }
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const auto& [which, file] : files) {
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = db_->cf(static_cast<Cf>(which));
    arg.external_files = {file};
    arg.options.move_files = true;
    args.push_back(std::move(arg));
  }
  // One call: RocksDB ingests the files of several column families
  // atomically (all or none), and syncs them and the MANIFEST first.
  rocksdb::Status s = db_->db->IngestExternalFiles(args);
  if (!s.ok()) return WriteFailed(s);
  last_commit_time_ = commit_time;
  absl::MutexLock lock(&state_mu_);
  last_sequence_ = kBulkSequence;
  changelog_start_ = kBulkSequence + 1;
  entity_count_ = entities;
  edge_count_ = edges;
  signal_count_ = signals;
  link_count_ = links;
  sequence_cv_.SignalAll();
  return absl::OkStatus();
}

}  // namespace georisk::storage
