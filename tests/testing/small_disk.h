// File: tests/testing/small_disk.h
//
// A small real filesystem for tests of what a full disk does: a tmpfs of a
// given size, mounted in a mount namespace private to the test process and
// its children (the services it starts), so that it vanishes with them
// whatever happens. The kernel answers writes past its size with ENOSPC, as
// a full disk does.
//
//   int main(int argc, char** argv) {
//     // First, while the process has one thread.
//     const absl::Status private_mounts = EnterPrivateMountNamespace();
//     ...
//   }
//   ...
//   if (!private_mounts.ok()) GTEST_SKIP() << private_mounts;
//   ASSERT_TRUE(MountSmallDisk(dir + "/disk", 48 << 20).ok());
//
// Privileges: root (CAP_SYS_ADMIN) enters a new mount namespace directly.
// Without it, the process enters a user namespace of its own first (its
// ids mapped to themselves), where mounting a tmpfs is allowed. Where
// neither is possible (a container that forbids both), the error says so.
#ifndef GEORISK_TESTS_TESTING_SMALL_DISK_H_
#define GEORISK_TESTS_TESTING_SMALL_DISK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace georisk {
namespace testing {

// Moves the calling process into a private mount namespace (mounts made
// afterwards are invisible outside it and go away with its last process).
// Must be called before the process starts a second thread.
absl::Status EnterPrivateMountNamespace();

// Creates `dir` if needed and mounts a tmpfs of `bytes` there.
absl::Status MountSmallDisk(const std::string& dir, int64_t bytes);

// Writes a file of `bytes` zero bytes (to take space on a small disk).
absl::Status WriteFiller(const std::string& path, int64_t bytes);

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_SMALL_DISK_H_
