// File: services/common/log.h
//
// Structured one-line logs: each event is one JSON object on one line of
// stderr, so that `kubectl logs`, journald and jq read them as they are.
//
//   log::SetServiceName("graphstore");       // once, in main
//   log::Info("serving", {{"address", addr}, {"port", port}});
//   log::Error("apply failed", {{"error", status.ToString()}});
//
// prints
//   {"ts":"2026-11-21T16:40:01.123456Z","level":"INFO","service":"graphstore",
//    "msg":"serving","address":"127.0.0.1:50051","port":50051}
//
// Thread-safe: lines from concurrent threads never interleave.
#ifndef GEORISK_SERVICES_COMMON_LOG_H_
#define GEORISK_SERVICES_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace georisk::common {
namespace log {

enum class Level { kDebug, kInfo, kWarning, kError };

// One key/value pair of a log line. Strings are JSON-escaped; numbers and
// booleans are written bare.
class Field {
 public:
  Field(absl::string_view key, absl::string_view value);
  Field(absl::string_view key, const char* value);
  Field(absl::string_view key, const std::string& value);
  Field(absl::string_view key, int value);
  Field(absl::string_view key, int64_t value);
  Field(absl::string_view key, uint64_t value);
  Field(absl::string_view key, double value);
  Field(absl::string_view key, bool value);

  absl::string_view key() const { return key_; }
  // The value as a JSON literal (quoted and escaped for strings).
  const std::string& json_value() const { return json_value_; }

 private:
  std::string key_;
  std::string json_value_;
};

// Names the service in every line; call once before other threads start.
void SetServiceName(absl::string_view name);
// Lines below this level are dropped. Default kInfo.
void SetMinLevel(Level level);

// Formats one line (without the trailing newline). Exposed for tests.
std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message,
                       std::initializer_list<Field> fields);

// Escapes a string for use inside a JSON string literal (no quotes added).
std::string JsonEscape(absl::string_view s);

void Write(Level level, absl::string_view message,
           std::initializer_list<Field> fields);

inline void Debug(absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, message, fields);
}
inline void Info(absl::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, message, fields);
}
inline void Warning(absl::string_view message,
                    std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, message, fields);
}
inline void Error(absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, message, fields);
}

}  // namespace log
}  // namespace georisk::common

#endif  // GEORISK_SERVICES_COMMON_LOG_H_
