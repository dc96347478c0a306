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
  explicit IngestMetrics(common::MetricsRegistry* registry);

  common::Counter* records_applied;
  common::Counter* records_duplicate;
  common::Counter* records_unchanged;
  common::Counter* records_rejected;
  common::Counter* records_validated;
  common::Counter* batches_ok;
  common::Counter* batches_invalid;
  common::Counter* batches_error;
  common::Counter* retries;
  common::Histogram* apply_seconds;
  common::Gauge* in_flight;
  common::Gauge* streams;
  common::Counter* snapshot_ended;
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_INGEST_METRICS_H_
