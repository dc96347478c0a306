#include "tests/testing/small_disk.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace georisk {
namespace testing {
namespace {

absl::Status WriteProcFile(const char* path, const std::string& text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("open ", path, ": ", std::strerror(errno)));
  }
  const ssize_t n = write(fd, text.data(), text.size());
  const int error = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return absl::PermissionDeniedError(
        absl::StrCat("write ", path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

absl::Status MakeMountsPrivate() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("making / private: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterPrivateMountNamespace() {
  if (unshare(CLONE_NEWNS) == 0) return MakeMountsPrivate();
  const std::string direct = std::strerror(errno);
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot make a private mount namespace: unshare(CLONE_NEWNS): ", direct,
        "; unshare(CLONE_NEWUSER | CLONE_NEWNS): ", std::strerror(errno)));
  }
  if (absl::Status s = WriteProcFile("/proc/self/setgroups", "deny");
      !s.ok() && !absl::IsPermissionDenied(s)) {
    return s;
  }
  if (absl::Status s = WriteProcFile("/proc/self/uid_map",
                                     absl::StrCat(uid, " ", uid, " 1"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteProcFile("/proc/self/gid_map",
                                     absl::StrCat(gid, " ", gid, " 1"));
      !s.ok()) {
    return s;
  }
  return MakeMountsPrivate();
}

absl::Status MountSmallDisk(const std::string& dir, int64_t bytes) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", dir, ": ", error.message()));
  }
  const std::string options = absl::StrCat("size=", bytes, ",mode=0755");
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("mount -t tmpfs -o ", options, " tmpfs ", dir, ": ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteFiller(const std::string& path, int64_t bytes) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("creating ", path, ": ", std::strerror(errno)));
  }
  static const char kZeros[1 << 16] = {};
  int64_t left = bytes;
  while (left > 0) {
    const ssize_t n =
        write(fd, kZeros,
              static_cast<size_t>(std::min<int64_t>(left, sizeof(kZeros))));
    if (n <= 0) {
      const int e = errno;
      close(fd);
      return absl::ResourceExhaustedError(
          absl::StrCat("writing ", path, ": ", std::strerror(e)));
    }
    left -= n;
  }
  close(fd);
  return absl::OkStatus();
}

}  // namespace testing
}  // namespace georisk
