// File: tests/testing/alert_watch.h
//
// Reading a scorer's alert log in multi-process tests: a WatchAlerts stream
// collected into a vector, and the part of a record two replicas must agree
// on (docs/alerts.md, "Numbering").
//
//   absl::Mutex mu;
//   std::vector<v1::Alert> seen;
//   grpc::Status s = WatchAlertsInto(stub.get(), 1, 10, absl::Seconds(30),
//                                    &mu, &seen);
//   EXPECT_EQ(AlertKey(seen[0]), AlertKey(other[0]));
//
// Thread-safe: `*out` is appended under `*mu`, so another thread may read it
// while the stream runs.
#ifndef GEORISK_TESTS_TESTING_ALERT_WATCH_H_
#define GEORISK_TESTS_TESTING_ALERT_WATCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/testing/process.h"

namespace georisk::testing {

// What replicas must agree on: everything but the times, which are each
// replica's clock (with shards, the per-shard cursors too).
std::string AlertKey(const v1::Alert& a);

// A stub of the Alerts service of `p`.
std::unique_ptr<v1::Alerts::Stub> AlertsOf(const ServiceProcess& p);

// Watches from `from` until `n` records in all are in `*out`, the stream
// breaks (its status returned) or `timeout` passes.
grpc::Status WatchAlertsInto(v1::Alerts::Stub* alerts, int64_t from, size_t n,
                             absl::Duration timeout, absl::Mutex* mu,
                             std::vector<v1::Alert>* out);

}  // namespace georisk::testing

#endif  // GEORISK_TESTS_TESTING_ALERT_WATCH_H_
