#include "storage/internal/info_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace georisk::storage::internal {
namespace {

class InfoLog final : public rocksdb::Logger {
 public:
  InfoLog(int fd, rocksdb::InfoLogLevel level)
      : rocksdb::Logger(level), fd_(fd) {}
  ~InfoLog() override { CloseFile(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    // "2026/12/07-00:26:46.387306 14724 <message>\n", as RocksDB's own.
    char line[4096];
    const absl::Time now = absl::Now();
    int n = std::snprintf(
        line, sizeof(line), "%s %ld ",
        absl::FormatTime("%Y/%m/%d-%H:%M:%E6S", now, absl::UTCTimeZone())
            .c_str(),
        static_cast<long>(syscall(SYS_gettid)));
    if (n < 0) return;
    va_list copy;
    va_copy(copy, ap);
    const int m = std::vsnprintf(line + n, sizeof(line) - n, format, copy);
    va_end(copy);
    if (m < 0) return;
    size_t size = std::min(sizeof(line) - 1, static_cast<size_t>(n + m));
    if (size == 0 || line[size - 1] != '\n') line[size++] = '\n';
    // One write per line: O_APPEND keeps concurrent lines whole.
    const ssize_t written = write(fd_, line, size);
    if (written != static_cast<ssize_t>(size)) ++dropped_;
  }

  void Flush() override {}  // Every line is written at once.

  int64_t dropped() const { return dropped_; }

 protected:
  rocksdb::Status CloseImpl() override {
    CloseFile();
    return rocksdb::Status::OK();
  }

 private:
  void CloseFile() {
    const int fd = fd_.exchange(-1);
    if (fd >= 0) close(fd);
  }

  std::atomic<int> fd_;
  std::atomic<int64_t> dropped_{0};
};

}  // namespace

absl::StatusOr<std::shared_ptr<rocksdb::Logger>> NewInfoLog(
    const std::string& file, rocksdb::InfoLogLevel level) {
  const int fd =
      open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("opening the info log ", file, ": ",
                                            std::strerror(errno)));
  }
  return std::make_shared<InfoLog>(fd, level);
}

absl::StatusOr<std::shared_ptr<rocksdb::Logger>> OpenInfoLog(
    const std::string& db_dir, rocksdb::InfoLogLevel level) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(db_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", db_dir, ": ", error.message()));
  }
  const fs::path log = fs::path(db_dir) / "LOG";
  if (fs::exists(log, error)) {
    const int64_t micros = absl::ToUnixMicros(absl::Now());
    fs::rename(log, fs::path(db_dir) / absl::StrCat("LOG.old.", micros), error);
    // A failed rename appends to the old LOG; nothing worse.
  }
  std::vector<std::string> old;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(db_dir, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, "LOG.old.")) old.push_back(name);
  }
  // Equal-length decimal suffixes sort by time; sort by length first.
  std::sort(old.begin(), old.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() != b.size() ? a.size() < b.size() : a < b;
            });
  for (size_t i = 0; i + kKeptOldInfoLogs < old.size(); ++i) {
    fs::remove(fs::path(db_dir) / old[i], error);
  }
  return NewInfoLog(log.string(), level);
}

int64_t DroppedInfoLogLines(const rocksdb::Logger& logger) {
  const auto* log = dynamic_cast<const InfoLog*>(&logger);
  return log == nullptr ? 0 : log->dropped();
}

}  // namespace georisk::storage::internal
