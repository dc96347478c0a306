// File: base/status_macros.h
//
// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr,
// which Debian's Abseil 20220623 does not ship.
//
//   absl::StatusOr<Config> Load(absl::string_view path) {
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     RETURN_IF_ERROR(Validate(text));
//     return Parse(text);
//   }
//
// Both evaluate their argument exactly once and return the error status
// unchanged (code, message and payloads).
#ifndef GEORISK_BASE_STATUS_MACROS_H_
#define GEORISK_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    ::absl::Status georisk_status_macro_status_ = (expr); \
    if (!georisk_status_macro_status_.ok()) {             \
      return georisk_status_macro_status_;                \
    }                                                     \
  } while (false)

#define GEORISK_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define GEORISK_STATUS_MACROS_CONCAT_(x, y) \
  GEORISK_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be
// a declaration ("auto x", "std::string s") or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  GEORISK_ASSIGN_OR_RETURN_IMPL_(    \
      GEORISK_STATUS_MACROS_CONCAT_(georisk_statusor_, __LINE__), lhs, rexpr)

#define GEORISK_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) {                                      \
    return std::move(statusor).status();                     \
  }                                                          \
  lhs = std::move(statusor).value()

#endif  // GEORISK_BASE_STATUS_MACROS_H_
