// File: base/testing/temp_dir.h
//
// MakeTempDir() gives a test a new, empty directory of its own under
// TEST_TMPDIR (Bazel's per-test scratch directory; /tmp outside Bazel), so
// that tests and test cases never share files. Test-only.
//
// Example:
//
//   RocksDbGraphStoreOptions options;
//   options.path = base::testing::MakeTempDir("graph_store") + "/db";
//
// Thread safety: may be called from any thread; every call creates a
// different directory (mkdtemp). The directory is not removed: Bazel removes
// TEST_TMPDIR after the test.
#ifndef GEORISK_BASE_TESTING_TEMP_DIR_H_
#define GEORISK_BASE_TESTING_TEMP_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace georisk::base::testing {

// Creates TEST_TMPDIR/<prefix>.XXXXXX (mode 0700) and returns its path.
// `prefix` must not contain '/'. A test cannot go on without its directory:
// when it cannot be created, this prints why to stderr and aborts.
std::string MakeTempDir(absl::string_view prefix = "test");

}  // namespace georisk::base::testing

#endif  // GEORISK_BASE_TESTING_TEMP_DIR_H_
