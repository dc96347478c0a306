#include "storage/graph_mirror.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/info_log.h"
#include "storage/internal/keys.h"
#include "storage/internal/rocksdb_util.h"

namespace georisk::storage {
namespace {

using internal::ToAbslStatus;

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

constexpr char kAppliedKey[] = "applied_sequence";
constexpr char kReplacingKey[] = "replacing";
constexpr char kGraphIdKey[] = "graph_id";
// The record layout: 2 keys an edge with its record_id; 3 also carries
// links (a layout-2 mirror was written by code that dropped upsert_link and
// delete_link mutations). Absent in mirrors written before layouts.
constexpr char kLayoutKey[] = "layout";
constexpr uint64_t kLayout = 3;
// The shard count a mirror was written for; absent: 1.
constexpr char kShardsKey[] = "shards";
constexpr int kMaxShards = 1024;

// The applied sequence, stored as the change log's key encoding.
std::string EncodeSequence(int64_t sequence) {
  return internal::EncodeChangeLogKey(static_cast<uint64_t>(sequence));
}

absl::StatusOr<int64_t> DecodeSequence(absl::string_view bytes) {
  absl::StatusOr<uint64_t> v = internal::DecodeChangeLogKey(bytes);
  if (!v.ok()) return absl::DataLossError("mirror: malformed applied_sequence");
  return static_cast<int64_t>(*v);
}

v1::EdgeKey KeyOf(const v1::Edge& edge) {
  v1::EdgeKey key;
  key.set_from_id(edge.from_id());
  key.set_kind(edge.kind());
  key.set_to_id(edge.to_id());
  key.set_product_code(edge.product_code());
  key.set_record_id(edge.record_id());
  return key;
}

}  // namespace

struct GraphMirror::Db {
  // Declared first, so destroyed last: the database uses it until closed.
  std::unique_ptr<rocksdb::Env> env;  // Null: the default Env.
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  // With shards only (GraphMirrorOptions::shards > 1), else null.
  rocksdb::ColumnFamilyHandle* owners = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  ~Db() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

std::string GraphMirror::EntityKey(absl::string_view id) {
  return absl::StrCat("E", id);
}

std::string GraphMirror::EdgeKey(const v1::EdgeKey& key) {
  std::string out = absl::StrCat("X", key.from_id());
  out.push_back('\0');
  out.push_back(static_cast<char>(key.kind()));
  absl::StrAppend(&out, key.to_id());
  out.push_back('\0');
  absl::StrAppend(&out, key.product_code());
  if (!key.record_id().empty()) {
    out.push_back('\0');
    absl::StrAppend(&out, key.record_id());
  }
  return out;
}

std::string GraphMirror::SignalKey(absl::string_view id) {
  return absl::StrCat("S", id);
}

std::string GraphMirror::LinkKey(absl::string_view entity_a,
                                 absl::string_view entity_b) {
  if (entity_b < entity_a) std::swap(entity_a, entity_b);
  std::string out = absl::StrCat("L", entity_a);
  out.push_back('\0');
  absl::StrAppend(&out, entity_b);
  return out;
}

std::string GraphMirror::MetaKey(absl::string_view name, int shard) {
  if (shard == 0) return std::string(name);
  return absl::StrCat(name, "/", shard);
}

std::string GraphMirror::OwnerKey(int shard, absl::string_view record_key) {
  std::string out;
  out.push_back(static_cast<char>((shard >> 8) & 0xff));
  out.push_back(static_cast<char>(shard & 0xff));
  absl::StrAppend(&out, record_key);
  return out;
}

absl::StatusOr<std::unique_ptr<GraphMirror>> GraphMirror::Open(
    const GraphMirrorOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: must not be empty");
  }
  if (options.shards < 1 || options.shards > kMaxShards) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shards: must be 1..", kMaxShards, ", got ", options.shards));
  }
  const int shards = options.shards;
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // RocksDB's info log, which a full disk cannot turn into a crash
  // (storage/internal/info_log.h).
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> info_log =
      internal::OpenInfoLog(options.path, rocksdb::InfoLogLevel::INFO_LEVEL);
  if (!info_log.ok()) return info_log.status();
  db_options.info_log = *std::move(info_log);
  rocksdb::ColumnFamilyOptions cf_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {"records", cf_options},
      {"meta", cf_options},
  };
  auto db = std::make_unique<Db>();
  if (options.file_system_for_testing != nullptr) {
    db->env = rocksdb::NewCompositeEnv(options.file_system_for_testing);
    db_options.env = db->env.get();
  }
  // `owners` is opened when the mirror follows shards or was written by one
  // that did (RocksDB refuses to open a database without all its families);
  // a one-shard mirror never gets it.
  bool has_owners = shards > 1;
  if (!has_owners) {
    std::vector<std::string> names;
    rocksdb::Status listed =
        rocksdb::DB::ListColumnFamilies(db_options, options.path, &names);
    has_owners = listed.ok() &&
                 std::find(names.begin(), names.end(), "owners") != names.end();
  }
  if (has_owners) cfs.push_back({"owners", cf_options});
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, cfs, &db->handles, &raw);
  if (!s.ok()) {
    return ToAbslStatus(s, absl::StrCat("opening mirror ", options.path));
  }
  db->db.reset(raw);
  db->records = db->handles[1];
  db->meta = db->handles[2];
  if (shards > 1) db->owners = db->handles[3];

  std::vector<Cursor> cursors(shards);
  std::string value;
  for (int i = 0; i < shards; ++i) {
    s = db->db->Get(rocksdb::ReadOptions(), db->meta, MetaKey(kAppliedKey, i),
                    &value);
    if (s.ok()) {
      absl::StatusOr<int64_t> decoded = DecodeSequence(value);
      if (!decoded.ok()) return decoded.status();
      cursors[i].applied = *decoded;
    } else if (!s.IsNotFound()) {
      return ToAbslStatus(s, "reading applied_sequence");
    }
    s = db->db->Get(rocksdb::ReadOptions(), db->meta, MetaKey(kReplacingKey, i),
                    &value);
    cursors[i].replacing = s.ok();
    if (!s.ok() && !s.IsNotFound()) {
      return ToAbslStatus(s, "reading the replacement marker");
    }
    s = db->db->Get(rocksdb::ReadOptions(), db->meta, MetaKey(kGraphIdKey, i),
                    &cursors[i].graph_id);
    if (!s.ok() && !s.IsNotFound()) return ToAbslStatus(s, "reading graph_id");
  }
  bool stale_layout = false;
  s = db->db->Get(rocksdb::ReadOptions(), db->meta, kLayoutKey, &value);
  if (!s.ok() && !s.IsNotFound()) {
    return ToAbslStatus(s, "reading the mirror's layout");
  }
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->db->NewIterator(rocksdb::ReadOptions(), db->records));
    it->SeekToFirst();
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the mirror"));
    if (it->Valid()) {
      // Written before record_id keys: handled like an unfinished
      // replacement, so the owner re-reads the graph.
      stale_layout = true;
    } else {
      s = db->db->Put(rocksdb::WriteOptions(), db->meta, kLayoutKey,
                      internal::EncodeFixed64BE(kLayout));
      RETURN_IF_ERROR(ToAbslStatus(s, "writing the mirror's layout"));
    }
  } else if (internal::DecodeFixed64BE(value).value_or(0) != kLayout) {
    stale_layout = true;
  }
  uint64_t written_for = 1;
  s = db->db->Get(rocksdb::ReadOptions(), db->meta, kShardsKey, &value);
  if (s.ok()) {
    written_for = internal::DecodeFixed64BE(value).value_or(0);
  } else if (!s.IsNotFound()) {
    return ToAbslStatus(s, "reading the mirror's shard count");
  }
  if (written_for != static_cast<uint64_t>(shards) ||
      (shards > 1 && stale_layout)) {
    // Another shard count (or a layout without owners): its records cannot
    // be told apart by shard. Start empty; every shard bootstraps.
    rocksdb::WriteBatch batch;
    batch.DeleteRange(db->records, "A", "Z");
    if (has_owners) {
      batch.DeleteRange(db->handles[3], std::string(2, '\0'),
                        std::string(3, '\xff'));
    }
    const int old = static_cast<int>(
        std::min<uint64_t>(std::max<uint64_t>(written_for, 1), kMaxShards));
    for (int i = 0; i < std::max(old, shards); ++i) {
      for (const char* name : {kAppliedKey, kReplacingKey, kGraphIdKey}) {
        batch.Delete(db->meta, MetaKey(name, i));
      }
    }
    if (shards > 1) {
      batch.Put(db->meta, kShardsKey, internal::EncodeFixed64BE(shards));
    } else {
      batch.Delete(db->meta, kShardsKey);
    }
    batch.Put(db->meta, kLayoutKey, internal::EncodeFixed64BE(kLayout));
    rocksdb::WriteOptions write;
    write.sync = true;
    RETURN_IF_ERROR(
        ToAbslStatus(db->db->Write(write, &batch), "emptying the mirror"));
    cursors.assign(shards, Cursor{});
    stale_layout = false;
  }
  if (stale_layout) {
    for (Cursor& c : cursors) c.replacing = true;
  }
  return std::unique_ptr<GraphMirror>(
      new GraphMirror(options, std::move(db), std::move(cursors)));
}

GraphMirror::GraphMirror(GraphMirrorOptions options, std::unique_ptr<Db> db,
                         std::vector<Cursor> cursors)
    : options_(std::move(options)),
      shards_(static_cast<int>(cursors.size())),
      db_(std::move(db)),
      cursors_(std::move(cursors)) {}

GraphMirror::~GraphMirror() = default;

absl::Status GraphMirror::CheckShard(int shard) const {
  if (shard < 0 || shard >= shards_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard: ", shard, " is not one of the mirror's ", shards_));
  }
  return absl::OkStatus();
}

int64_t GraphMirror::applied_sequence(int shard) const {
  if (!CheckShard(shard).ok()) return 0;
  absl::MutexLock lock(&mu_);
  const Cursor& c = cursors_[shard];
  return c.replacing ? 0 : c.applied;
}

std::string GraphMirror::graph_id(int shard) const {
  if (!CheckShard(shard).ok()) return "";
  absl::MutexLock lock(&mu_);
  const Cursor& c = cursors_[shard];
  return c.replacing ? "" : c.graph_id;
}

absl::Status GraphMirror::SetGraphId(int shard, absl::string_view graph_id) {
  RETURN_IF_ERROR(CheckShard(shard));
  absl::MutexLock lock(&mu_);
  Cursor& c = cursors_[shard];
  if (c.replacing) {
    return absl::FailedPreconditionError("SetGraphId during a replacement");
  }
  if (!c.graph_id.empty() && c.graph_id != graph_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("mirror: holds graph ", c.graph_id, "; another graph (",
                     graph_id, ") needs a replacement"));
  }
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::Status s = db_->db->Put(
      write, db_->meta, MetaKey(kGraphIdKey, shard), ToSlice(graph_id));
  if (!s.ok()) return ToAbslStatus(s, "writing graph_id");
  c.graph_id = std::string(graph_id);
  return absl::OkStatus();
}

absl::Status GraphMirror::ReadAll(std::vector<v1::Entity>* entities,
                                  std::vector<v1::Edge>* edges,
                                  std::vector<v1::Signal>* signals,
                                  std::vector<v1::Link>* links) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db->NewIterator(rocksdb::ReadOptions(), db_->records));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    rocksdb::Slice value = it->value();
    bool ok = false;
    switch (key.empty() ? '\0' : key[0]) {
      case 'E':
        ok =
            entities->emplace_back().ParseFromArray(value.data(), value.size());
        break;
      case 'X':
        ok = edges->emplace_back().ParseFromArray(value.data(), value.size());
        break;
      case 'S':
        ok = signals->emplace_back().ParseFromArray(value.data(), value.size());
        break;
      case 'L':
        ok = links == nullptr ||
             links->emplace_back().ParseFromArray(value.data(), value.size());
        break;
      default:
        break;
    }
    if (!ok) {
      return absl::DataLossError(
          absl::StrCat("mirror: unreadable record ", key.ToString(true)));
    }
  }
  return ToAbslStatus(it->status(), "reading the mirror");
}

namespace {

// Reads and parses the record under `key` of `cf`; `what` names it in
// errors.
template <typename Record>
absl::StatusOr<Record> GetRecord(rocksdb::DB* db,
                                 rocksdb::ColumnFamilyHandle* cf,
                                 const std::string& key,
                                 absl::string_view what) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("mirror: no ", what));
  }
  if (!s.ok()) return ToAbslStatus(s, absl::StrCat("mirror: reading ", what));
  Record record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("mirror: unreadable ", what));
  }
  return record;
}

}  // namespace

absl::StatusOr<v1::Entity> GraphMirror::GetEntity(absl::string_view id) const {
  return GetRecord<v1::Entity>(db_->db.get(), db_->records, EntityKey(id),
                               absl::StrCat("entity ", id));
}

absl::StatusOr<v1::Edge> GraphMirror::GetEdge(const v1::EdgeKey& key) const {
  return GetRecord<v1::Edge>(
      db_->db.get(), db_->records, EdgeKey(key),
      absl::StrCat("edge ", key.from_id(), " -",
                   v1::Edge::Kind_Name(key.kind()), "-> ", key.to_id()));
}

absl::Status GraphMirror::BeginReplace(int shard) {
  RETURN_IF_ERROR(CheckShard(shard));
  absl::MutexLock lock(&mu_);
  rocksdb::WriteBatch batch;
  if (shards_ == 1) {
    // Everything under "A".."Z" covers the four record prefixes.
    batch.DeleteRange(db_->records, "A", "Z");
  } else {
    // The records this shard wrote, unless another shard wrote them too
    // (the other copy of an edge across two shards).
    const std::string prefix = OwnerKey(shard, "");
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(rocksdb::ReadOptions(), db_->owners));
    std::string ignored;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      batch.Delete(db_->owners, it->key());
      const absl::string_view record(it->key().data() + prefix.size(),
                                     it->key().size() - prefix.size());
      bool shared = false;
      for (int other = 0; other < shards_ && !shared; ++other) {
        if (other == shard) continue;
        rocksdb::Status got = db_->db->Get(rocksdb::ReadOptions(), db_->owners,
                                           OwnerKey(other, record), &ignored);
        if (!got.ok() && !got.IsNotFound()) {
          return ToAbslStatus(got, "reading the mirror's owners");
        }
        shared = got.ok();
      }
      if (!shared) batch.Delete(db_->records, ToSlice(record));
    }
    RETURN_IF_ERROR(ToAbslStatus(it->status(), "reading the mirror's owners"));
  }
  batch.Put(db_->meta, MetaKey(kReplacingKey, shard), "1");
  batch.Delete(db_->meta, MetaKey(kGraphIdKey, shard));
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "starting a replacement");
  cursors_[shard].replacing = true;
  return absl::OkStatus();
}

absl::Status GraphMirror::AddChunk(int shard,
                                   absl::Span<const v1::Entity> entities,
                                   absl::Span<const v1::Edge> edges,
                                   absl::Span<const v1::Signal> signals,
                                   absl::Span<const v1::Link> links) {
  RETURN_IF_ERROR(CheckShard(shard));
  absl::MutexLock lock(&mu_);
  if (!cursors_[shard].replacing) {
    return absl::FailedPreconditionError("AddChunk outside a replacement");
  }
  rocksdb::WriteBatch batch;
  auto put = [&](const std::string& key, const std::string& value) {
    batch.Put(db_->records, key, value);
    if (shards_ > 1) batch.Put(db_->owners, OwnerKey(shard, key), "");
  };
  for (const auto& e : entities) put(EntityKey(e.id()), e.SerializeAsString());
  for (const auto& e : edges) put(EdgeKey(KeyOf(e)), e.SerializeAsString());
  for (const auto& s : signals) put(SignalKey(s.id()), s.SerializeAsString());
  for (const auto& l : links) {
    put(LinkKey(l.entity_a(), l.entity_b()), l.SerializeAsString());
  }
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return ToAbslStatus(db_->db->Write(write, &batch), "writing a chunk");
}

absl::Status GraphMirror::FinishReplace(int shard, int64_t sequence,
                                        absl::string_view graph_id) {
  RETURN_IF_ERROR(CheckShard(shard));
  absl::MutexLock lock(&mu_);
  Cursor& c = cursors_[shard];
  if (!c.replacing) {
    return absl::FailedPreconditionError("FinishReplace without BeginReplace");
  }
  rocksdb::WriteBatch batch;
  batch.Put(db_->meta, MetaKey(kAppliedKey, shard), EncodeSequence(sequence));
  batch.Put(db_->meta, kLayoutKey, internal::EncodeFixed64BE(kLayout));
  batch.Delete(db_->meta, MetaKey(kReplacingKey, shard));
  if (!graph_id.empty()) {
    batch.Put(db_->meta, MetaKey(kGraphIdKey, shard), ToSlice(graph_id));
  }
  rocksdb::WriteOptions write;
  write.sync = true;  // Rare, and it makes the whole copy count.
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "finishing a replacement");
  c.applied = sequence;
  c.replacing = false;
  c.graph_id = std::string(graph_id);
  return absl::OkStatus();
}

absl::Status GraphMirror::ApplyChanges(int shard,
                                       absl::Span<const v1::Change> changes) {
  if (changes.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(CheckShard(shard));
  absl::MutexLock lock(&mu_);
  Cursor& c = cursors_[shard];
  if (c.replacing) {
    return absl::FailedPreconditionError("ApplyChanges during a replacement");
  }
  rocksdb::WriteBatch batch;
  auto put = [&](const std::string& key, const std::string& value) {
    batch.Put(db_->records, key, value);
    if (shards_ > 1) batch.Put(db_->owners, OwnerKey(shard, key), "");
  };
  auto erase = [&](const std::string& key) {
    batch.Delete(db_->records, key);
    // Every shard's claim: the first copy deleted deletes the record.
    for (int i = 0; i < shards_ && shards_ > 1; ++i) {
      batch.Delete(db_->owners, OwnerKey(i, key));
    }
  };
  int64_t expect = c.applied + 1;
  for (const v1::Change& change : changes) {
    if (change.sequence() != expect) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mirror: expected change ", expect, ", got ", change.sequence()));
    }
    ++expect;
    for (const v1::Mutation& m : change.mutations()) {
      switch (m.kind_case()) {
        case v1::Mutation::kUpsertEntity:
          put(EntityKey(m.upsert_entity().id()),
              m.upsert_entity().SerializeAsString());
          break;
        case v1::Mutation::kUpsertEdge:
          put(EdgeKey(KeyOf(m.upsert_edge())),
              m.upsert_edge().SerializeAsString());
          break;
        case v1::Mutation::kUpsertSignal:
          put(SignalKey(m.upsert_signal().id()),
              m.upsert_signal().SerializeAsString());
          break;
        case v1::Mutation::kDeleteEntityId:
          // The change log lists the cascaded edge deletes explicitly.
          erase(EntityKey(m.delete_entity_id()));
          break;
        case v1::Mutation::kDeleteEdge:
          erase(EdgeKey(m.delete_edge()));
          break;
        case v1::Mutation::kDeleteSignalId:
          erase(SignalKey(m.delete_signal_id()));
          break;
        case v1::Mutation::kUpsertLink:
          put(LinkKey(m.upsert_link().entity_a(), m.upsert_link().entity_b()),
              m.upsert_link().SerializeAsString());
          break;
        case v1::Mutation::kDeleteLink:
          erase(
              LinkKey(m.delete_link().entity_a(), m.delete_link().entity_b()));
          break;
        case v1::Mutation::KIND_NOT_SET:
          return absl::DataLossError(absl::StrCat(
              "mirror: change ", change.sequence(), " has an empty mutation"));
      }
    }
  }
  batch.Put(db_->meta, MetaKey(kAppliedKey, shard), EncodeSequence(expect - 1));
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "applying changes");
  c.applied = expect - 1;
  return absl::OkStatus();
}

}  // namespace georisk::storage
