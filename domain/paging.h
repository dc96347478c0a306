// File: domain/paging.h
//
// The page sizes of every georisk list RPC (AIP-158): a request's page_size
// of 0 means the list's default, anything above kMaxPageSize means
// kMaxPageSize, and a negative one is refused.
//
//   ASSIGN_OR_RETURN(int limit, domain::PageSize(request.page_size()));
//
// Thread-safe: pure functions.
#ifndef GEORISK_DOMAIN_PAGING_H_
#define GEORISK_DOMAIN_PAGING_H_

#include "absl/status/statusor.h"

namespace georisk::domain {

// What page_size 0 means, unless a list documents its own default.
inline constexpr int kDefaultPageSize = 100;
// The largest page any list returns.
inline constexpr int kMaxPageSize = 1000;

// The page size to use for `requested`: `default_size` for 0, at most
// kMaxPageSize. INVALID_ARGUMENT "page_size: must be >= 0, got N" for a
// negative one.
absl::StatusOr<int> PageSize(int requested,
                             int default_size = kDefaultPageSize);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_PAGING_H_
