// File: services/graphstore/rocksdb_metrics.h
//
// Registers RocksDB's own state (size, memtables, compaction, stalls, write
// stops) as georisk_rocksdb_* gauges, sampled at each /metrics scrape.
//
//   RegisterRocksDbMetrics(store.get(), &registry);
#ifndef GEORISK_SERVICES_GRAPHSTORE_ROCKSDB_METRICS_H_
#define GEORISK_SERVICES_GRAPHSTORE_ROCKSDB_METRICS_H_

#include "services/common/metrics.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {

// `store` and `registry` must outlive each other's use (the registry calls
// the store at every scrape).
void RegisterRocksDbMetrics(const storage::RocksDbGraphStore* store,
                            common::MetricsRegistry* registry);

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_ROCKSDB_METRICS_H_
