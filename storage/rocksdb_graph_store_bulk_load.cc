// File: storage/rocksdb_graph_store_bulk_load.cc
//
// BulkLoader (storage/bulk_load.h): the records of a load are validated and
// encoded as Apply does (domain/record_validation.h, record_codec.h, the
// BatchBuilder's rules for endpoints and links), kept in arenas, sorted per
// column family, written with rocksdb::SstFileWriter and ingested by
// RocksDbGraphStore::IngestBulkLoad in one DB::IngestExternalFiles call.
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>
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
// The blocks are 2 MiB-aligned and marked for transparent huge pages
// (madvise), which takes most of the page faults of first touching them
// away; they are not zeroed, since every byte handed out is written first.
class Arena {
 public:
  absl::string_view Store(absl::string_view bytes) {
    if (blocks_.empty() || bytes.size() > block_bytes_ - used_) {
      const size_t size =
          (std::max(kBlockBytes, bytes.size()) + kHugePage - 1) / kHugePage *
          kHugePage;
      char* block = static_cast<char*>(std::aligned_alloc(kHugePage, size));
      if (block == nullptr) throw std::bad_alloc();
      madvise(block, size, MADV_HUGEPAGE);  // Advice only.
      blocks_.emplace_back(block);
      block_bytes_ = size;
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    used_ += bytes.size();
    return absl::string_view(at, bytes.size());
  }

 private:
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kBlockBytes = size_t{64} << 20;
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<char, Free>> blocks_;
  size_t block_bytes_ = 0;
  size_t used_ = 0;
};

// One record of a column family: its key and value (in an Arena), the
// mutation's index (which one wins when several write one key: the last)
// and, for entities, the slot of its identifier keys. `head` and `head2`
// are the key's bytes [2, 10) and [10, 18) (WordAt), so that most
// comparisons of the sort are integer comparisons.
struct Record {
  uint64_t head;
  uint64_t head2;
  const char* key;
  const char* value;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t index;
  uint32_t aux;

  absl::string_view Key() const { return {key, key_size}; }
  absl::string_view Value() const { return {value, value_size}; }
};

// Bytes [from, from + 8) of `key`, big-endian, zero-padded. Records keep
// bytes [2, 10) and [10, 18): after the 2-byte partition, which SortRecords
// sorts by first, an id's kind ("company/") fills the first word.
uint64_t WordAt(absl::string_view key, size_t from) {
  uint64_t word = 0;
  for (size_t i = from; i < from + 8; ++i) {
    word =
        word << 8 | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0u);
  }
  return word;
}

// The first two bytes of a key (at least 2 bytes long: every key kept as a
// Record starts with its partition).
size_t BucketOf(const Record& r) {
  return static_cast<size_t>(static_cast<unsigned char>(r.key[0])) << 8 |
         static_cast<unsigned char>(r.key[1]);
}

bool KeyLess(const Record& a, const Record& b) {
  if (a.head != b.head) return a.head < b.head;
  if (a.head2 != b.head2) return a.head2 < b.head2;
  const int c = a.Key().compare(b.Key());
  if (c != 0) return c < 0;
  return a.index < b.index;
}

// Sorts by key, then index: first by the keys' first two bytes (the
// partition of every column family kept as Records) with one counting pass,
// then each of the 65,536 buckets on its own with KeyLess (valid within a
// bucket), which is small and fits in the cache.
void SortRecords(std::vector<Record>& records) {
  constexpr size_t kBuckets = 1 << 16;
  std::vector<size_t> start(kBuckets + 1, 0);
  for (const Record& r : records) ++start[BucketOf(r) + 1];
  for (size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
  std::vector<Record> sorted(records.size());
  std::vector<size_t> next(start.begin(), start.end() - 1);
  for (const Record& r : records) sorted[next[BucketOf(r)]++] = r;
  std::vector<Record>().swap(records);
  for (size_t b = 0; b < kBuckets; ++b) {
    if (start[b + 1] - start[b] > 1) {
      std::sort(sorted.begin() + start[b], sorted.begin() + start[b + 1],
                KeyLess);
    }
  }
  records = std::move(sorted);
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
  // What one mutation becomes before the checks that depend on its place in
  // the load (endpoints, idempotency keys, links), which AddBatch makes in
  // order afterwards. Made on any thread, into that thread's arena.
  struct Encoded {
    absl::Status fatal;  // A validation error Apply fails a batch for.
    // Rejected when `reason` is not empty; `late`: only once the mutation
    // is known not to be a duplicate (as BatchBuilder::Add's kind checks).
    std::string field;
    std::string reason;
    bool late = false;
    // Entities and signals: key; edges: key (out_edges) and key2 (in_edges).
    absl::string_view key;
    absl::string_view key2;
    absl::string_view value;
    std::vector<absl::string_view> identifier_keys;
    // Edges: whether from_id and to_id were known to exist before the batch
    // (the set only grows), so that Place need not look them up.
    bool from_known = false;
    bool to_known = false;
  };

  RocksDbGraphStore* store = nullptr;
  BulkLoadOptions options;
  domain::RecordLimits limits;
  absl::Time commit_time;
  std::vector<rocksdb::Options> cf_options;  // By Cf.
  bool finished = false;
  absl::Status spoiled;

  // One arena per encoding thread: they hold every key and value.
  std::vector<std::unique_ptr<Arena>> arenas;
  std::vector<std::string> scratch;  // One per encoding thread.
  std::vector<Encoded> encoded;      // AddBatch's, reused.
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

  // `key` and `value` are in an arena.
  void Keep(Cf which, absl::string_view key, absl::string_view value,
            uint32_t index, uint32_t aux = 0) {
    records[which].push_back({WordAt(key, 2), WordAt(key, 10), key.data(),
                              value.data(), static_cast<uint32_t>(key.size()),
                              static_cast<uint32_t>(value.size()), index, aux});
  }

  void Encode(const v1::Mutation& m, Arena& arena, std::string& scratch,
              Encoded* out) const {
    out->fatal = absl::OkStatus();
    out->field.clear();
    out->reason.clear();
    out->late = false;
    out->identifier_keys.clear();
    out->from_known = out->to_known = false;
    // Apply's front: validation.h's rules and the size cap.
    if (absl::Status s = domain::ValidateRecord(m, limits); !s.ok()) {
      domain::FieldError e = domain::SplitFieldError(s.message());
      if (s.code() != absl::StatusCode::kInvalidArgument) {
        out->fatal = absl::Status(
            s.code(),
            absl::StrCat(e.field.empty() ? "" : ".", e.field, ": ", e.reason));
        return;
      }
      out->field = std::move(e.field);
      out->reason = std::move(e.reason);
      return;
    }
    if (m.edge_copy() != v1::EDGE_COPY_BOTH) {
      out->field = "edge_copy";
      out->reason =
          "a bulk load writes both copies of every edge (an unpartitioned "
          "store)";
      return;
    }
    if (!m.release_idempotency_key().empty()) {
      out->field = "release_idempotency_key";
      out->reason = kUpsertsOnly;
      return;
    }
    scratch.clear();
    switch (m.kind_case()) {
      case v1::Mutation::kUpsertEntity: {
        const v1::Entity& e = m.upsert_entity();
        internal::AppendBody(e, &scratch);
        internal::AppendEntityTail(kBulkSequence, commit_time, options.origin,
                                   &scratch);
        out->value = arena.Store(scratch);
        for (const std::string& k : internal::IdentifierKeysOf(e)) {
          out->identifier_keys.push_back(arena.Store(k));
        }
        out->key = arena.Store(internal::EncodeEntityKey(e.id()));
        return;
      }
      case v1::Mutation::kUpsertEdge: {
        const v1::Edge& e = m.upsert_edge();
        internal::AppendBody(e, &scratch);
        internal::AppendSequenceAndOriginTail(kBulkSequence, options.origin,
                                              &scratch);
        out->value = arena.Store(scratch);
        out->key = arena.Store(internal::EncodeOutEdgeKey(
            e.from_id(), e.kind(), e.to_id(), e.product_code(), e.record_id()));
        out->key2 = arena.Store(internal::EncodeInEdgeKey(
            e.from_id(), e.kind(), e.to_id(), e.product_code(), e.record_id()));
        // Read-only here: Place, the only writer, waits for the encoders.
        out->from_known = entity_ids.contains(e.from_id());
        out->to_known = entity_ids.contains(e.to_id());
        return;
      }
      case v1::Mutation::kUpsertSignal: {
        const v1::Signal& s = m.upsert_signal();
        internal::AppendBody(s, &scratch);
        internal::AppendSequenceAndOriginTail(kBulkSequence, options.origin,
                                              &scratch);
        out->value = arena.Store(scratch);
        out->key = arena.Store(internal::EncodeSignalKey(s.id()));
        return;
      }
      case v1::Mutation::kUpsertLink:
        return;  // In order: AddLink.
      case v1::Mutation::kDeleteEntityId:
        out->field = "delete_entity_id";
        break;
      case v1::Mutation::kDeleteEdge:
        out->field = "delete_edge";
        break;
      case v1::Mutation::kDeleteSignalId:
        out->field = "delete_signal_id";
        break;
      case v1::Mutation::kDeleteLink:
        out->field = "delete_link";
        break;
      case v1::Mutation::KIND_NOT_SET:
        out->field = "kind";
        out->reason = "is required";
        out->late = true;
        return;
    }
    out->reason = kUpsertsOnly;
    out->late = true;
  }

  // The checks of `m` (encoded as `enc`) that depend on the load so far, as
  // BatchBuilder::Add makes them, and keeping its records.
  absl::Status Place(const v1::Mutation& m, const Encoded& enc) {
    if (added == UINT32_MAX) {
      spoiled = absl::ResourceExhaustedError(
          "a bulk load takes at most 4294967295 mutations");
      return spoiled;
    }
    const uint32_t index = added++;
    if (!enc.fatal.ok()) {
      spoiled = absl::Status(
          enc.fatal.code(),
          absl::StrCat("mutations[", index, "]", enc.fatal.message()));
      return spoiled;
    }
    if (!enc.reason.empty() && !enc.late) {
      Reject(index, enc.field, enc.reason);
      return absl::OkStatus();
    }
    const std::string& key = m.idempotency_key();
    if (!key.empty() && idempotency_keys.contains(key)) {
      ++duplicates;
      return absl::OkStatus();
    }
    if (!enc.reason.empty()) {
      Reject(index, enc.field, enc.reason);
      return absl::OkStatus();
    }
    switch (m.kind_case()) {
      case v1::Mutation::kUpsertEntity: {
        identifier_keys.insert(identifier_keys.end(),
                               enc.identifier_keys.begin(),
                               enc.identifier_keys.end());
        const uint32_t aux = static_cast<uint32_t>(identifier_begin.size() - 1);
        identifier_begin.push_back(
            static_cast<uint32_t>(identifier_keys.size()));
        Keep(kEntitiesCf, enc.key, enc.value, index, aux);
        entity_ids.insert(m.upsert_entity().id());
        break;
      }
      case v1::Mutation::kUpsertEdge: {
        const v1::Edge& e = m.upsert_edge();
        for (const std::string* id : {&e.from_id(), &e.to_id()}) {
          const bool known = id == &e.from_id() ? enc.from_known : enc.to_known;
          if (!known && !entity_ids.contains(*id)) {
            Reject(index,
                   absl::StrCat("upsert_edge.",
                                id == &e.from_id() ? "from_id" : "to_id"),
                   absl::StrCat("entity ", *id, " does not exist"));
            return absl::OkStatus();
          }
        }
        Keep(kOutEdgesCf, enc.key, enc.value, index);
        Keep(kInEdgesCf, enc.key2, enc.value, index);
        break;
      }
      case v1::Mutation::kUpsertSignal:
        Keep(kSignalsCf, enc.key, enc.value, index);
        break;
      case v1::Mutation::kUpsertLink: {
        auto [field, reason] = AddLink(m.upsert_link());
        if (!reason.empty()) {
          Reject(index, std::move(field), std::move(reason));
          return absl::OkStatus();
        }
        break;
      }
      default:
        break;  // Rejected above.
    }
    // Only now, as Apply: the key of a rejected mutation is not recorded.
    if (!key.empty()) idempotency_keys.insert(key);
    return absl::OkStatus();
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
    body.clear_update_origin();
    if (body.entity_b() < body.entity_a()) {
      body.mutable_entity_a()->swap(*body.mutable_entity_b());
    }
    std::string value;
    internal::AppendDeterministic(body, &value);
    if (it != links.end() && internal::SameBody(it->second, value)) {
      ++link_unchanged;
      return {};
    }
    internal::AppendSequenceAndOriginTail(kBulkSequence, options.origin,
                                          &value);
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
    SortRecords(recs);
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), cf_options[which],
                                  store->db_->cf(static_cast<Cf>(which)),
                                  /*invalidate_page_cache=*/false);
    out.file = FilePath(which);
    rocksdb::Status s = writer.Open(out.file);
    // Sorted: records of one key are adjacent, the last one wins.
    auto same_key = [](const Record& a, const Record& b) {
      return a.head == b.head && a.head2 == b.head2 && a.Key() == b.Key();
    };
    bool same_as_previous = false;
    for (size_t i = 0; s.ok() && i < recs.size(); ++i) {
      const Record& r = recs[i];
      if (same_as_previous && recs[i - 1].Value() == r.Value()) {
        ++out.unchanged;
      } else {
        ++out.applied;
      }
      same_as_previous = i + 1 < recs.size() && same_key(r, recs[i + 1]);
      if (same_as_previous) continue;
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
  if (options.origin.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "origin: must be at most 256 bytes, got ", options.origin.size()));
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
  for (int t = 0; t < options.threads; ++t) {
    state->arenas.push_back(std::make_unique<Arena>());
  }
  state->scratch.resize(options.threads);
  for (int i = 0; i < kCfCount; ++i) {
    state->cf_options.push_back(
        store->db_->db->GetOptions(store->db_->cf(static_cast<Cf>(i))));
  }
  return std::unique_ptr<BulkLoader>(new BulkLoader(std::move(state)));
}

absl::Status BulkLoader::Add(const v1::Mutation& m) {
  const v1::Mutation* one[1] = {&m};
  return AddBatch(one);
}

absl::Status BulkLoader::AddBatch(
    absl::Span<const v1::Mutation* const> mutations) {
  State& st = *state_;
  if (st.finished) return absl::FailedPreconditionError("the load finished");
  if (!st.spoiled.ok()) return st.spoiled;
  // Validation and encoding do not depend on the order: split across
  // threads, each into its own arena. Batches too small to pay for a
  // thread stay on this one.
  constexpr size_t kMinPerThread = 2048;
  const size_t n = mutations.size();
  const size_t threads = std::max<size_t>(
      1, std::min<size_t>(st.options.threads, n / kMinPerThread));
  st.encoded.resize(std::max(st.encoded.size(), n));
  auto encode = [&st, mutations, n, threads](size_t t) {
    const size_t begin = n * t / threads;
    const size_t end = n * (t + 1) / threads;
    for (size_t i = begin; i < end; ++i) {
      st.Encode(*mutations[i], *st.arenas[t], st.scratch[t], &st.encoded[i]);
    }
  };
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(encode, t);
  encode(0);
  for (std::thread& w : workers) w.join();
  for (size_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(st.Place(*mutations[i], st.encoded[i]));
  }
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
