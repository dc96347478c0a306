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

absl::StatusOr<std::unique_ptr<GraphMirror>> GraphMirror::Open(
    const GraphMirrorOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: must not be empty");
  }
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
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, cfs, &db->handles, &raw);
  if (!s.ok()) {
    return ToAbslStatus(s, absl::StrCat("opening mirror ", options.path));
  }
  db->db.reset(raw);
  db->records = db->handles[1];
  db->meta = db->handles[2];

  int64_t applied = 0;
  std::string value;
  s = db->db->Get(rocksdb::ReadOptions(), db->meta, kAppliedKey, &value);
  if (s.ok()) {
    absl::StatusOr<int64_t> decoded = DecodeSequence(value);
    if (!decoded.ok()) return decoded.status();
    applied = *decoded;
  } else if (!s.IsNotFound()) {
    return ToAbslStatus(s, "reading applied_sequence");
  }
  s = db->db->Get(rocksdb::ReadOptions(), db->meta, kReplacingKey, &value);
  bool replacing = s.ok();
  if (!s.ok() && !s.IsNotFound()) {
    return ToAbslStatus(s, "reading the replacement marker");
  }
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
      replacing = true;
    } else {
      s = db->db->Put(rocksdb::WriteOptions(), db->meta, kLayoutKey,
                      internal::EncodeFixed64BE(kLayout));
      RETURN_IF_ERROR(ToAbslStatus(s, "writing the mirror's layout"));
    }
  } else if (internal::DecodeFixed64BE(value).value_or(0) != kLayout) {
    replacing = true;
  }
  std::string graph_id;
  s = db->db->Get(rocksdb::ReadOptions(), db->meta, kGraphIdKey, &graph_id);
  if (!s.ok() && !s.IsNotFound()) return ToAbslStatus(s, "reading graph_id");
  return std::unique_ptr<GraphMirror>(new GraphMirror(
      options, std::move(db), applied, replacing, std::move(graph_id)));
}

GraphMirror::GraphMirror(GraphMirrorOptions options, std::unique_ptr<Db> db,
                         int64_t applied, bool replacing, std::string graph_id)
    : options_(std::move(options)),
      db_(std::move(db)),
      applied_(applied),
      replacing_(replacing),
      graph_id_(std::move(graph_id)) {}

GraphMirror::~GraphMirror() = default;

int64_t GraphMirror::applied_sequence() const {
  absl::MutexLock lock(&mu_);
  return replacing_ ? 0 : applied_;
}

std::string GraphMirror::graph_id() const {
  absl::MutexLock lock(&mu_);
  return replacing_ ? "" : graph_id_;
}

absl::Status GraphMirror::SetGraphId(absl::string_view graph_id) {
  absl::MutexLock lock(&mu_);
  if (replacing_) {
    return absl::FailedPreconditionError("SetGraphId during a replacement");
  }
  if (!graph_id_.empty() && graph_id_ != graph_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("mirror: holds graph ", graph_id_, "; another graph (",
                     graph_id, ") needs a replacement"));
  }
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::Status s =
      db_->db->Put(write, db_->meta, kGraphIdKey, ToSlice(graph_id));
  if (!s.ok()) return ToAbslStatus(s, "writing graph_id");
  graph_id_ = std::string(graph_id);
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

absl::Status GraphMirror::BeginReplace() {
  absl::MutexLock lock(&mu_);
  rocksdb::WriteBatch batch;
  // Everything under "A".."Z" covers the four record prefixes.
  batch.DeleteRange(db_->records, "A", "Z");
  batch.Put(db_->meta, kReplacingKey, "1");
  batch.Delete(db_->meta, kGraphIdKey);
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "starting a replacement");
  replacing_ = true;
  return absl::OkStatus();
}

absl::Status GraphMirror::AddChunk(absl::Span<const v1::Entity> entities,
                                   absl::Span<const v1::Edge> edges,
                                   absl::Span<const v1::Signal> signals,
                                   absl::Span<const v1::Link> links) {
  absl::MutexLock lock(&mu_);
  if (!replacing_) {
    return absl::FailedPreconditionError("AddChunk outside a replacement");
  }
  rocksdb::WriteBatch batch;
  for (const auto& e : entities) {
    batch.Put(db_->records, EntityKey(e.id()), e.SerializeAsString());
  }
  for (const auto& e : edges) {
    batch.Put(db_->records, EdgeKey(KeyOf(e)), e.SerializeAsString());
  }
  for (const auto& s : signals) {
    batch.Put(db_->records, SignalKey(s.id()), s.SerializeAsString());
  }
  for (const auto& l : links) {
    batch.Put(db_->records, LinkKey(l.entity_a(), l.entity_b()),
              l.SerializeAsString());
  }
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  return ToAbslStatus(db_->db->Write(write, &batch), "writing a chunk");
}

absl::Status GraphMirror::FinishReplace(int64_t sequence,
                                        absl::string_view graph_id) {
  absl::MutexLock lock(&mu_);
  if (!replacing_) {
    return absl::FailedPreconditionError("FinishReplace without BeginReplace");
  }
  rocksdb::WriteBatch batch;
  batch.Put(db_->meta, kAppliedKey, EncodeSequence(sequence));
  batch.Put(db_->meta, kLayoutKey, internal::EncodeFixed64BE(kLayout));
  batch.Delete(db_->meta, kReplacingKey);
  if (!graph_id.empty()) batch.Put(db_->meta, kGraphIdKey, ToSlice(graph_id));
  rocksdb::WriteOptions write;
  write.sync = true;  // Rare, and it makes the whole copy count.
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "finishing a replacement");
  applied_ = sequence;
  replacing_ = false;
  graph_id_ = std::string(graph_id);
  return absl::OkStatus();
}

absl::Status GraphMirror::ApplyChanges(absl::Span<const v1::Change> changes) {
  if (changes.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (replacing_) {
    return absl::FailedPreconditionError("ApplyChanges during a replacement");
  }
  rocksdb::WriteBatch batch;
  int64_t expect = applied_ + 1;
  for (const v1::Change& change : changes) {
    if (change.sequence() != expect) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mirror: expected change ", expect, ", got ", change.sequence()));
    }
    ++expect;
    for (const v1::Mutation& m : change.mutations()) {
      switch (m.kind_case()) {
        case v1::Mutation::kUpsertEntity:
          batch.Put(db_->records, EntityKey(m.upsert_entity().id()),
                    m.upsert_entity().SerializeAsString());
          break;
        case v1::Mutation::kUpsertEdge:
          batch.Put(db_->records, EdgeKey(KeyOf(m.upsert_edge())),
                    m.upsert_edge().SerializeAsString());
          break;
        case v1::Mutation::kUpsertSignal:
          batch.Put(db_->records, SignalKey(m.upsert_signal().id()),
                    m.upsert_signal().SerializeAsString());
          break;
        case v1::Mutation::kDeleteEntityId:
          // The change log lists the cascaded edge deletes explicitly.
          batch.Delete(db_->records, EntityKey(m.delete_entity_id()));
          break;
        case v1::Mutation::kDeleteEdge:
          batch.Delete(db_->records, EdgeKey(m.delete_edge()));
          break;
        case v1::Mutation::kDeleteSignalId:
          batch.Delete(db_->records, SignalKey(m.delete_signal_id()));
          break;
        case v1::Mutation::kUpsertLink:
          batch.Put(
              db_->records,
              LinkKey(m.upsert_link().entity_a(), m.upsert_link().entity_b()),
              m.upsert_link().SerializeAsString());
          break;
        case v1::Mutation::kDeleteLink:
          batch.Delete(db_->records, LinkKey(m.delete_link().entity_a(),
                                             m.delete_link().entity_b()));
          break;
        case v1::Mutation::KIND_NOT_SET:
          return absl::DataLossError(absl::StrCat(
              "mirror: change ", change.sequence(), " has an empty mutation"));
      }
    }
  }
  batch.Put(db_->meta, kAppliedKey, EncodeSequence(expect - 1));
  rocksdb::WriteOptions write;
  write.sync = options_.sync;
  rocksdb::Status s = db_->db->Write(write, &batch);
  if (!s.ok()) return ToAbslStatus(s, "applying changes");
  applied_ = expect - 1;
  return absl::OkStatus();
}

}  // namespace georisk::storage
