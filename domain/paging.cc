#include "domain/paging.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace georisk::domain {

absl::StatusOr<int> PageSize(int requested, int default_size) {
  if (requested < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be >= 0, got ", requested));
  }
  return requested == 0 ? default_size : std::min(requested, kMaxPageSize);
}

}  // namespace georisk::domain
