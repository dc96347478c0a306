// File: services/ingest/source_state_store.h
//
// The scheduled sources' state (georisk.v1.SourceStatus per source), in a
// RocksDB of ingest's own (--sources_state_dir), so that last success,
// validators, records, failures and the next run survive a restart.
//
//   auto store = SourceStateStore::Open(dir);
//   RETURN_IF_ERROR((*store)->Put(status));     // synced before it returns
//   absl::StatusOr<std::optional<v1::SourceStatus>> s = (*store)->Get("csl");
//
// Layout: the default column family, key "source/" + name, value the
// serialized SourceStatus. Each Put is one synced write (WAL fsync), so a
// state that Put acknowledged survives kill -9. Thread-safe.
#ifndef GEORISK_SERVICES_INGEST_SOURCE_STATE_STORE_H_
#define GEORISK_SERVICES_INGEST_SOURCE_STATE_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "georisk/v1/ingest.pb.h"

namespace rocksdb {
class DB;
}

namespace georisk::ingest {

class SourceStateStore {
 public:
  // Opens (creating it and its parents) the database in `dir`. Errors: INTERNAL
  // with RocksDB's message (e.g. the directory is locked by another ingest).
  static absl::StatusOr<std::unique_ptr<SourceStateStore>> Open(
      const std::string& dir);
  ~SourceStateStore();

  // The state stored for `name`, or nullopt. DATA_LOSS when the value does
  // not parse.
  absl::StatusOr<std::optional<v1::SourceStatus>> Get(
      const std::string& name) const;
  // Stores `status` under status.name(), synced.
  absl::Status Put(const v1::SourceStatus& status);

 private:
  explicit SourceStateStore(std::unique_ptr<rocksdb::DB> db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace georisk::ingest

#endif  // GEORISK_SERVICES_INGEST_SOURCE_STATE_STORE_H_
