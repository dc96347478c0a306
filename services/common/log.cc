#include "services/common/log.h"

#include <atomic>
#include <cmath>
#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace georisk::common {
namespace log {
namespace {

absl::Mutex g_mu;
std::string* g_service ABSL_GUARDED_BY(g_mu) = nullptr;
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARNING";
    case Level::kError:
      return "ERROR";
  }
  return "INFO";
}

std::string Quote(absl::string_view s) {
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

}  // namespace

std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

Field::Field(absl::string_view key, absl::string_view value)
    : key_(key), json_value_(Quote(value)) {}
Field::Field(absl::string_view key, const char* value)
    : Field(key, absl::string_view(value)) {}
Field::Field(absl::string_view key, const std::string& value)
    : Field(key, absl::string_view(value)) {}
Field::Field(absl::string_view key, int value)
    : key_(key), json_value_(absl::StrCat(value)) {}
Field::Field(absl::string_view key, int64_t value)
    : key_(key), json_value_(absl::StrCat(value)) {}
Field::Field(absl::string_view key, uint64_t value)
    : key_(key), json_value_(absl::StrCat(value)) {}
Field::Field(absl::string_view key, double value)
    : key_(key),
      json_value_(std::isfinite(value) ? absl::StrCat(value)
                                       : Quote(absl::StrCat(value))) {}
Field::Field(absl::string_view key, bool value)
    : key_(key), json_value_(value ? "true" : "false") {}

void SetServiceName(absl::string_view name) {
  absl::MutexLock lock(&g_mu);
  delete g_service;
  g_service = new std::string(name);
}

void SetMinLevel(Level level) {
  g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message,
                       std::initializer_list<Field> fields) {
  std::string line =
      absl::StrCat("{\"ts\":",
                   Quote(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time,
                                          absl::UTCTimeZone())),
                   ",\"level\":\"", LevelName(level), "\"");
  if (!service.empty()) absl::StrAppend(&line, ",\"service\":", Quote(service));
  absl::StrAppend(&line, ",\"msg\":", Quote(message));
  for (const Field& f : fields) {
    absl::StrAppend(&line, ",", Quote(f.key()), ":", f.json_value());
  }
  line += "}";
  return line;
}

void Write(Level level, absl::string_view message,
           std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) {
    return;
  }
  absl::Time now = absl::Now();
  absl::MutexLock lock(&g_mu);
  std::string line =
      FormatLine(now, level, g_service ? *g_service : "", message, fields);
  line += "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace log
}  // namespace georisk::common
