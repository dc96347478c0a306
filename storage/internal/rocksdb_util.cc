#include "storage/internal/rocksdb_util.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "storage/internal/keys.h"

namespace georisk::storage::internal {
namespace {

class EdgePrefixTransform : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "georisk.EdgePrefix.v1"; }

  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const size_t n =
        EdgePrefixLength(absl::string_view(key.data(), key.size()));
    return rocksdb::Slice(key.data(), n);
  }

  bool InDomain(const rocksdb::Slice& key) const override {
    return EdgePrefixLength(absl::string_view(key.data(), key.size())) > 0;
  }

  bool SameResultWhenAppended(const rocksdb::Slice& prefix) const override {
    return InDomain(prefix);
  }
};

}  // namespace

absl::Status ToAbslStatus(const rocksdb::Status& status,
                          absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kIOError:
      if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
      return absl::InternalError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

const rocksdb::SliceTransform* NewEdgePrefixTransform() {
  return new EdgePrefixTransform();
}

}  // namespace georisk::storage::internal
