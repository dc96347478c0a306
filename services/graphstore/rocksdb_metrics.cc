#include "services/graphstore/rocksdb_metrics.h"

namespace georisk::graphstore {

void RegisterRocksDbMetrics(const storage::RocksDbGraphStore* store,
                            common::MetricsRegistry* registry) {
  using Stats = storage::RocksDbGraphStore::EngineStats;
  struct Gauge {
    const char* name;
    const char* help;
    double Stats::*field;
  };
  static constexpr Gauge kGauges[] = {
      {"georisk_rocksdb_sst_bytes", "Bytes of SST files, all column families.",
       &Stats::sst_bytes},
      {"georisk_rocksdb_live_data_bytes", "Estimated live data, bytes.",
       &Stats::live_data_bytes},
      {"georisk_rocksdb_memtable_bytes", "Bytes in memtables.",
       &Stats::memtable_bytes},
      {"georisk_rocksdb_block_cache_bytes", "Bytes in the block cache.",
       &Stats::block_cache_bytes},
      {"georisk_rocksdb_pending_compaction_bytes",
       "Estimated bytes compaction still has to rewrite.",
       &Stats::pending_compaction_bytes},
      {"georisk_rocksdb_running_compactions", "Compactions running now.",
       &Stats::running_compactions},
      {"georisk_rocksdb_running_flushes", "Flushes running now.",
       &Stats::running_flushes},
      {"georisk_rocksdb_write_stopped",
       "1 while RocksDB stops writes (too many files or pending compaction).",
       &Stats::write_stopped},
      {"georisk_rocksdb_delayed_write_rate_bytes",
       "Write rate RocksDB slows writes to, bytes per second (0: no delay).",
       &Stats::delayed_write_rate},
  };
  // Cumulative since the database was opened.
  static constexpr Gauge kCounters[] = {
      {"georisk_rocksdb_background_errors_total",
       "Background errors (flush or compaction failures).",
       &Stats::background_errors},
      {"georisk_rocksdb_write_stall_seconds_total",
       "Time writes spent stalled, seconds.", &Stats::stall_seconds},
      {"georisk_rocksdb_compaction_read_bytes_total",
       "Bytes read by compaction.", &Stats::compaction_read_bytes},
      {"georisk_rocksdb_compaction_write_bytes_total",
       "Bytes written by compaction.", &Stats::compaction_write_bytes},
      {"georisk_rocksdb_flush_write_bytes_total", "Bytes written by flushes.",
       &Stats::flush_write_bytes},
      {"georisk_rocksdb_wal_write_bytes_total",
       "Bytes written to the write-ahead log.", &Stats::wal_bytes},
  };
  registry->AddCallbackGauge(
      "georisk_graphstore_writes_stopped",
      "1 while graphstore refuses writes because it cannot make them durable "
      "(a full disk, a failed write-ahead-log write); reads still work. "
      "GetStats.writes_stopped_reason says why.",
      [store] { return store->WriteHealth().ok() ? 0.0 : 1.0; });
  for (const Gauge& g : kGauges) {
    registry->AddCallbackGauge(g.name, g.help, [store, field = g.field] {
      return store->GetEngineStats().*field;
    });
  }
  for (const Gauge& g : kCounters) {
    registry->AddCallbackCounter(g.name, g.help, [store, field = g.field] {
      return store->GetEngineStats().*field;
    });
  }
}

}  // namespace georisk::graphstore
