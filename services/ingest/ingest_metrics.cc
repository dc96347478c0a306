#include "services/ingest/ingest_metrics.h"

namespace georisk::ingest {

IngestMetrics::IngestMetrics(common::MetricsRegistry* registry) {
  common::Family<common::Counter>& records = registry->AddCounter(
      "georisk_ingest_records_total",
      "Ingest records by outcome: applied, duplicate (idempotency key seen), "
      "unchanged (identical to what is stored), rejected, validated (dry "
      "run).",
      {"outcome"});
  records_applied = &records.WithLabels({"applied"});
  records_duplicate = &records.WithLabels({"duplicate"});
  records_unchanged = &records.WithLabels({"unchanged"});
  records_rejected = &records.WithLabels({"rejected"});
  records_validated = &records.WithLabels({"validated"});
  common::Family<common::Counter>& batches = registry->AddCounter(
      "georisk_ingest_batches_total",
      "GraphStore Apply calls by result: ok, invalid (graphstore rejected a "
      "record, which was then isolated), error.",
      {"result"});
  batches_ok = &batches.WithLabels({"ok"});
  batches_invalid = &batches.WithLabels({"invalid"});
  batches_error = &batches.WithLabels({"error"});
  retries = &registry
                 ->AddCounter("georisk_ingest_apply_retries_total",
                              "GraphStore calls retried after UNAVAILABLE or "
                              "DEADLINE_EXCEEDED.")
                 .WithLabels({});
  apply_seconds =
      &registry
           ->AddHistogram("georisk_ingest_apply_seconds",
                          "Latency of GraphStore Apply calls.", {},
                          common::MetricsRegistry::DefaultLatencyBuckets())
           .WithLabels({});
  in_flight = &registry
                   ->AddGauge("georisk_ingest_records_in_flight",
                              "Records received and not yet acknowledged by "
                              "graphstore.")
                   .WithLabels({});
  streams = &registry
                 ->AddGauge("georisk_ingest_streams",
                            "Ingest and IngestBatch calls in progress.")
                 .WithLabels({});
  snapshot_ended =
      &registry
           ->AddCounter("georisk_ingest_snapshot_ended_total",
                        "Signals ended because a snapshot import no longer "
                        "contained them.")
           .WithLabels({});
}

}  // namespace georisk::ingest
