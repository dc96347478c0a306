// File: services/ingest/ingest_metrics.h
//
// IngestMetrics: the Prometheus series the ingest pipeline keeps, registered
// once per process and shared by every stream.
//
//   georisk_ingest_records_total{outcome}   records by outcome: applied,
//       duplicate, unchanged, rejected, validated (dry run)
//   georisk_ingest_batches_total{result}    Apply calls: ok, invalid (a
//       record was isolated), error
//   georisk_ingest_apply_retries_total      Apply/ListSignals calls retried
//   georisk_ingest_apply_seconds            Apply latency, per call
//   georisk_ingest_records_in_flight        records received, not yet
//       acknowledged by graphstore
//   georisk_ingest_streams                  Ingest/IngestBatch calls running
//   georisk_ingest_snapshot_ended_total     signals ended by snapshot imports
//
//   MetricsRegistry registry;
//   IngestMetrics metrics(&registry);
//   metrics.records_applied->Increment(n);
//
// Thread-safe (the series are). The registry must outlive the metrics.
#ifndef GEORISK_SERVICES_INGEST_INGEST_METRICS_H_
#define GEORISK_SERVICES_INGEST_INGEST_METRICS_H_

#include "services/common/metrics.h"

namespace georisk::ingest {

struct IngestMetrics {
  explicit IngestMetrics(MetricsRegistry* registry);

  Counter* records_applied;
  Counter* records_duplicate;
  Counter* records_unchanged;
  Counter* records_rejected;
  Counter* records_validated;
  Counter* batches_ok;
  Counter* batches_invalid;
  Counter* batches_error;
  Counter* retries;
  Histogram* apply_seconds;
  Gauge* in_flight;
  Gauge* streams;
  Counter* snapshot_ended;
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_INGEST_METRICS_H_
