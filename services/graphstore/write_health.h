// File: services/graphstore/write_health.h
//
// WriteHealthRelay: carries the store's write health
// (RocksDbGraphStore::WriteHealth, told through
// RocksDbGraphStoreOptions::on_write_health_change) to the log and to the
// health name kWritesHealthName, which answers NOT_SERVING while writes are
// stopped (a full disk) and SERVING otherwise. The server and the
// "georisk.v1.GraphStore" name stay SERVING meanwhile: reads work.
//
// The store is opened before the server exists, so changes are kept until
// Attach().
//
//   auto writes = std::make_shared<WriteHealthRelay>();
//   store_options.on_write_health_change =
//       [writes](const absl::Status& s) { writes->Set(s); };
//   ... start the server, SetServing(true) ...
//   writes->Attach([&server](bool ok) {
//     server->SetHealth(std::string(kWritesHealthName), ok);
//   });
//
// Thread-safe.
#ifndef GEORISK_SERVICES_GRAPHSTORE_WRITE_HEALTH_H_
#define GEORISK_SERVICES_GRAPHSTORE_WRITE_HEALTH_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace georisk::graphstore {

// The health name of graphstore's writes (grpc.health.v1).
inline constexpr absl::string_view kWritesHealthName =
    "georisk.v1.GraphStore.Apply";

class WriteHealthRelay {
 public:
  // Records the new health: logs "writes stopped" (warning, with the reason)
  // or "writes resumed", and tells the attached sink, if any.
  void Set(const absl::Status& health);

  // From now on, `sink(serving)` is told every change; it is told the
  // current health at once. An empty sink detaches the previous one.
  void Attach(std::function<void(bool serving)> sink);

 private:
  absl::Mutex mu_;
  absl::Status health_ ABSL_GUARDED_BY(mu_);
  std::function<void(bool)> sink_ ABSL_GUARDED_BY(mu_);
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_WRITE_HEALTH_H_
