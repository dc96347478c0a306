#include "services/ingest/source_state_store.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace georisk::ingest {
namespace {

std::string Key(const std::string& name) {
  return absl::StrCat("source/", name);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SourceStateStore>> SourceStateStore::Open(
    const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", dir, ": ", error.message()));
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("opening sources state in ", dir, ": ", s.ToString()));
  }
  return std::unique_ptr<SourceStateStore>(
      new SourceStateStore(std::unique_ptr<rocksdb::DB>(raw)));
}

SourceStateStore::SourceStateStore(std::unique_ptr<rocksdb::DB> db)
    : db_(std::move(db)) {}

SourceStateStore::~SourceStateStore() = default;

absl::StatusOr<std::optional<v1::SourceStatus>> SourceStateStore::Get(
    const std::string& name) const {
  std::string value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key(name), &value);
  if (s.IsNotFound()) return std::optional<v1::SourceStatus>();
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("reading source ", name, ": ", s.ToString()));
  }
  v1::SourceStatus status;
  if (!status.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("source ", name, ": stored state does not parse"));
  }
  return std::optional<v1::SourceStatus>(std::move(status));
}

absl::Status SourceStateStore::Put(const v1::SourceStatus& status) {
  rocksdb::WriteOptions write;
  write.sync = true;
  const rocksdb::Status s =
      db_->Put(write, Key(status.name()), status.SerializeAsString());
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("storing source ", status.name(), ": ", s.ToString()));
  }
  return absl::OkStatus();
}

}  // namespace georisk::ingest
