// File: storage/rocksdb_graph_store.cc
//
// RocksDbGraphStore's life and health: Open (the options checked, RocksDB's
// column families, table factories, cache and statistics, then Recover and
// the identifier index of rocksdb_graph_store_recover.cc, and the trimming
// thread), the destructor's flush, write health (the listener of RocksDB's
// background errors, WriteFailed, MaybeResume), and the stats for /metrics.
// The rest of the store is in the files that rocksdb_graph_store_internal.h
// lists.
#include "storage/rocksdb_graph_store.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "storage/internal/column_families.h"
#include "storage/internal/entity_id_set.h"
#include "storage/internal/info_log.h"
#include "storage/internal/rocksdb_util.h"
#include "storage/internal/shard_record.h"
#include "storage/rocksdb_graph_store_internal.h"

namespace georisk::storage {
namespace {

using internal::kCfCount;
using internal::kCfNames;
using internal::kDefaultCf;
using internal::kEntitiesCf;
using internal::kIdempotencyCf;
using internal::kIdentifiersCf;
using internal::kInEdgesCf;
using internal::kLinksCf;
using internal::kOutEdgesCf;
using internal::kSignalsCf;
using internal::ToAbslStatus;

// What Apply answers while writes are stopped by `cause`, a failed write or
// RocksDB's background error.
absl::Status WritesStopped(absl::string_view path,
                           const rocksdb::Status& cause) {
  if (cause.IsNoSpace()) {
    return absl::UnavailableError(absl::StrCat(
        "writes are stopped: the disk under ", path, " is full (",
        cause.ToString(),
        "); nothing of this batch was written. Reads still work; writes "
        "resume by themselves once space is freed: retry later"));
  }
  return absl::UnavailableError(absl::StrCat(
      "writes are stopped after a storage error (", cause.ToString(),
      "); nothing of this batch was written. Reads still work; writes resume "
      "once RocksDB recovers: retry later"));
}

}  // namespace

// Tells the store when RocksDB stops writes after an error (a failed WAL
// write or flush: a full disk) and when it recovered. Attached once the
// store exists, detached before it goes.
class RocksDbGraphStore::Listener final : public rocksdb::EventListener {
 public:
  explicit Listener(std::string path) : path_(std::move(path)) {}

  void Attach(RocksDbGraphStore* store) {
    absl::MutexLock lock(&mu_);
    store_ = store;
  }

  const char* Name() const override { return "GeoriskGraphStoreListener"; }

  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    // Soft errors (a failed compaction) do not stop writes.
    if (error == nullptr || error->ok() ||
        error->severity() < rocksdb::Status::Severity::kHardError) {
      return;
    }
    absl::MutexLock lock(&mu_);
    if (store_ != nullptr) store_->SetWriteHealth(WritesStopped(path_, *error));
  }

  void OnErrorRecoveryEnd(
      const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (!info.new_bg_error.ok()) return;
    absl::MutexLock lock(&mu_);
    if (store_ != nullptr) store_->SetWriteHealth(absl::OkStatus());
  }

 private:
  const std::string path_;
  absl::Mutex mu_;
  RocksDbGraphStore* store_ ABSL_GUARDED_BY(mu_) = nullptr;
};

absl::StatusOr<std::unique_ptr<RocksDbGraphStore>> RocksDbGraphStore::Open(
    const RocksDbGraphStoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("path: is required");
  }
  if (options.max_mutations_per_batch < 1 || options.max_traverse_depth < 1 ||
      options.max_traverse_entities < 1 ||
      options.changelog_retention_count < 0 ||
      options.changelog_retention_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "max_mutations_per_batch, max_traverse_depth and "
        "max_traverse_entities must be positive, retention limits >= 0");
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(std::max(2, options.background_threads));
  // Bounds the WAL: see RocksDbGraphStoreOptions::max_total_wal_bytes.
  db_options.max_total_wal_size = options.max_total_wal_bytes;
  // Counters for stalls and compaction I/O on /metrics; no timers or
  // histograms on the write path.
  std::shared_ptr<rocksdb::Statistics> statistics =
      rocksdb::CreateDBStatistics();
  statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  db_options.statistics = statistics;
  auto handles = std::make_unique<Handles>();
  if (options.file_system_for_testing != nullptr) {
    handles->env = rocksdb::NewCompositeEnv(options.file_system_for_testing);
    db_options.env = handles->env.get();
  }
  handles->listener = std::make_shared<Listener>(options.path);
  db_options.listeners.push_back(handles->listener);

  // Refuse column families this code does not know (a newer schema).
  std::vector<std::string> existing;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing);
  if (!listed.ok() && !options.create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat("no graph database at ", options.path));
  }
  // A database written before the identifier index: built below.
  const bool identifiers_missing =
      std::find(existing.begin(), existing.end(), kCfNames[kIdentifiersCf]) ==
      existing.end();
  for (const std::string& name : existing) {
    if (std::find(std::begin(kCfNames), std::end(kCfNames), name) ==
        std::end(kCfNames)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database at ", options.path, " has a column family \"", name,
          "\" this binary does not know: it was written by a newer schema"));
    }
  }
  // RocksDB's info log, which a full disk cannot turn into a crash
  // (storage/internal/info_log.h).
  absl::StatusOr<std::shared_ptr<rocksdb::Logger>> info_log =
      internal::OpenInfoLog(options.path, rocksdb::InfoLogLevel::INFO_LEVEL);
  if (!info_log.ok()) return info_log.status();
  db_options.info_log = *std::move(info_log);

  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options.block_cache_bytes);
  auto table_factory = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    if (bloom) {
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.whole_key_filtering = true;
    }
    return std::shared_ptr<rocksdb::TableFactory>(
        rocksdb::NewBlockBasedTableFactory(table));
  };
  std::shared_ptr<rocksdb::TableFactory> bloom_tables = table_factory(true);
  std::shared_ptr<rocksdb::TableFactory> plain_tables = table_factory(false);
  std::shared_ptr<const rocksdb::SliceTransform> edge_prefix(
      internal::NewEdgePrefixTransform());

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = options.write_buffer_bytes;
    cf.table_factory = plain_tables;
    switch (i) {
      case kEntitiesCf:
      case kSignalsCf:
      case kIdempotencyCf:
        cf.table_factory = bloom_tables;  // Point lookups.
        break;
      case kOutEdgesCf:
      case kInEdgesCf:
      case kLinksCf:
        cf.table_factory = bloom_tables;  // Whole keys and prefixes.
        cf.prefix_extractor = edge_prefix;
        cf.memtable_prefix_bloom_size_ratio = 0.05;
        cf.memtable_whole_key_filtering = true;
        break;
      case kDefaultCf:
        cf.write_buffer_size = size_t{4} << 20;  // Unused.
        break;
      default:
        break;
    }
    descriptors.emplace_back(kCfNames[i], cf);
  }

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors,
                                        &handles->cfs, &db);
  if (!s.ok()) {
    if (s.IsIOError() && absl::StrContains(s.ToString(), "lock")) {
      return absl::UnavailableError(
          absl::StrCat("the database at ", options.path,
                       " is locked by another process: ", s.ToString()));
    }
    return ToAbslStatus(s, absl::StrCat("opening ", options.path));
  }
  handles->db.reset(db);
  handles->statistics = statistics;
  handles->block_cache = cache;
  handles->write_options.sync = options.sync;
  handles->write_options.disableWAL = false;

  std::unique_ptr<RocksDbGraphStore> store(
      new RocksDbGraphStore(options, std::move(handles)));
  store->db_->listener->Attach(store.get());
  RETURN_IF_ERROR(store->Recover());
  RETURN_IF_ERROR(store->CountOutbox());
  RETURN_IF_ERROR(internal::RecordShard(
      store->db_->db.get(), store->db_->cf(internal::kMetaCf), options.path,
      options.partition_map, options.shard_index));
  RETURN_IF_ERROR(store->BuildIdentifierIndex(identifiers_missing));
  if (options.changelog_trim_interval > absl::ZeroDuration() &&
      (options.changelog_retention_count > 0 ||
       options.changelog_retention_age > absl::ZeroDuration())) {
    RocksDbGraphStore* raw = store.get();
    store->trim_thread_ = std::thread([raw] { raw->TrimLoop(); });
  }
  return store;
}

RocksDbGraphStore::RocksDbGraphStore(const RocksDbGraphStoreOptions& options,
                                     std::unique_ptr<Handles> handles)
    : options_(options),
      db_(std::move(handles)),
      entity_ids_(options.entity_id_cache_bytes > 0
                      ? std::make_unique<internal::EntityIdSet>()
                      : nullptr) {}

RocksDbGraphStore::~RocksDbGraphStore() {
  {
    absl::MutexLock lock(&state_mu_);
    closing_ = true;
    shutdown_cv_.SignalAll();
    sequence_cv_.SignalAll();
  }
  db_->listener->Attach(nullptr);
  if (trim_thread_.joinable()) trim_thread_.join();
  // With the WAL on, DB::Close() does not flush memtables: the next open
  // would replay every WAL file still live. Flushing here makes a clean
  // restart replay nothing. A failed flush loses nothing: the WAL stays and
  // is replayed. No write can stall: none follows.
  //
  // First wait for the flushes already running (the WAL cap starts some):
  // a column family whose memtable is empty when the manual flush switches
  // to a new WAL file moves on to that file, but one whose flush is still
  // running stays on the old file, which then outlives the close.
  for (int i = 0; i < 10000 && db_->FlushesInProgress(); ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  db_->db->Flush(flush, db_->cfs).PermitUncheckedError();
}

absl::Status RocksDbGraphStore::WriteHealth() const {
  if (!writes_stopped_.load()) return absl::OkStatus();
  absl::MutexLock lock(&health_mu_);
  return write_health_;
}

void RocksDbGraphStore::SetWriteHealth(absl::Status health) {
  absl::MutexLock lock(&health_mu_);
  if (health.ok() && write_health_.ok()) return;
  // A second error while stopped keeps the first cause.
  if (!health.ok() && !write_health_.ok()) return;
  write_health_ = std::move(health);
  writes_stopped_ = !write_health_.ok();
  if (options_.on_write_health_change) {
    options_.on_write_health_change(write_health_);
  }
}

absl::Status RocksDbGraphStore::WriteFailed(const rocksdb::Status& s) {
  if (!s.IsIOError()) return ToAbslStatus(s, "committing");
  absl::Status stopped = WritesStopped(options_.path, s);
  SetWriteHealth(stopped);
  return stopped;
}

void RocksDbGraphStore::MaybeResume() {
  const absl::Time now = absl::Now();
  if (now - last_resume_attempt_ < options_.write_resume_interval) return;
  last_resume_attempt_ = now;
  // Busy: RocksDB's own recovery is under way (it waits for free space).
  rocksdb::Status s = db_->db->Resume();
  if (s.ok()) SetWriteHealth(absl::OkStatus());
}

absl::Time RocksDbGraphStore::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::StatusOr<StoreStats> RocksDbGraphStore::GetStats() {
  StoreStats stats;
  stats.graph_id = graph_id_;
  if (absl::Status health = WriteHealth(); !health.ok()) {
    stats.writes_stopped_reason = std::string(health.message());
  }
  {
    absl::MutexLock lock(&state_mu_);
    stats.entity_count = entity_count_;
    stats.edge_count = edge_count_;
    stats.signal_count = signal_count_;
    stats.link_count = link_count_;
    stats.last_sequence = last_sequence_;
    stats.oldest_retained_sequence =
        changelog_start_ <= last_sequence_ ? changelog_start_ : 0;
  }
  for (rocksdb::ColumnFamilyHandle* cf : db_->cfs) {
    uint64_t bytes = 0;
    if (db_->db->GetIntProperty(cf, "rocksdb.total-sst-files-size", &bytes)) {
      stats.disk_bytes += static_cast<int64_t>(bytes);
    }
  }
  rocksdb::VectorLogPtr wal_files;
  if (db_->db->GetSortedWalFiles(wal_files).ok()) {
    for (const auto& file : wal_files) {
      stats.disk_bytes += static_cast<int64_t>(file->SizeFileBytes());
    }
  }
  return stats;
}

RocksDbGraphStore::EngineStats RocksDbGraphStore::GetEngineStats() const {
  EngineStats stats;
  auto sum = [&](const char* property) {
    uint64_t total = 0;
    for (rocksdb::ColumnFamilyHandle* cf : db_->cfs) {
      uint64_t v = 0;
      if (db_->db->GetIntProperty(cf, property, &v)) total += v;
    }
    return static_cast<double>(total);
  };
  auto db_wide = [&](const char* property) {
    uint64_t v = 0;
    db_->db->GetIntProperty(property, &v);
    return static_cast<double>(v);
  };
  stats.sst_bytes = sum("rocksdb.total-sst-files-size");
  stats.live_data_bytes = sum("rocksdb.estimate-live-data-size");
  stats.memtable_bytes = sum("rocksdb.cur-size-all-mem-tables");
  stats.pending_compaction_bytes =
      sum("rocksdb.estimate-pending-compaction-bytes");
  stats.running_compactions = db_wide("rocksdb.num-running-compactions");
  stats.running_flushes = db_wide("rocksdb.num-running-flushes");
  stats.write_stopped = db_wide("rocksdb.is-write-stopped");
  stats.delayed_write_rate = db_wide("rocksdb.actual-delayed-write-rate");
  stats.background_errors = db_wide("rocksdb.background-errors");
  stats.block_cache_bytes =
      db_->block_cache ? static_cast<double>(db_->block_cache->GetUsage()) : 0;
  stats.entity_id_cache_ids = static_cast<double>(entity_ids_count_.load());
  stats.entity_id_cache_bytes = static_cast<double>(entity_ids_bytes_.load());
  if (db_->statistics) {
    stats.stall_seconds =
        db_->statistics->getTickerCount(rocksdb::STALL_MICROS) / 1e6;
    stats.compaction_read_bytes = static_cast<double>(
        db_->statistics->getTickerCount(rocksdb::COMPACT_READ_BYTES));
    stats.compaction_write_bytes = static_cast<double>(
        db_->statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES));
    stats.flush_write_bytes = static_cast<double>(
        db_->statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES));
    stats.wal_bytes = static_cast<double>(
        db_->statistics->getTickerCount(rocksdb::WAL_FILE_BYTES));
  }
  return stats;
}

absl::StatusOr<int64_t> RocksDbGraphStore::LiveWalBytes() const {
  rocksdb::VectorLogPtr wal_files;
  RETURN_IF_ERROR(ToAbslStatus(db_->db->GetSortedWalFiles(wal_files),
                               "listing the write-ahead log"));
  int64_t bytes = 0;
  for (const auto& file : wal_files) {
    if (file->Type() == rocksdb::kAliveLogFile) {
      bytes += static_cast<int64_t>(file->SizeFileBytes());
    }
  }
  return bytes;
}

int64_t RocksDbGraphStore::LastSequence() {
  absl::MutexLock lock(&state_mu_);
  return last_sequence_;
}

GraphStore::CommitWatermark RocksDbGraphStore::Watermark() {
  absl::MutexLock lock(&state_mu_);
  if (committing_) return {last_sequence_, committing_time_};
  watermark_floor_ = std::max(Now(), watermark_floor_);
  return {last_sequence_, watermark_floor_};
}

}  // namespace georisk::storage
