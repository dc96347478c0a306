// File: tests/testing/import_output.h
//
// Reading what `georiskctl import` printed, for multi-process tests.
//
//   CommandResult r = RunCommand(dir, georiskctl, {"import", file, ...});
//   EXPECT_EQ(SummaryValue(r.out, "accepted"), 1234);
//   const int64_t resume = ResumeFrom(r.err);  // -1 if it did not say.
#ifndef GEORISK_TESTS_TESTING_IMPORT_OUTPUT_H_
#define GEORISK_TESTS_TESTING_IMPORT_OUTPUT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace georisk {
namespace testing {

// The number after "<key>: " in the summary ("accepted: 1,234" -> 1234);
// -1 if absent.
int64_t SummaryValue(const std::string& out, absl::string_view key);

// N of "resume with --resume_from=N" in `err`; -1 if absent.
int64_t ResumeFrom(const std::string& err);

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_IMPORT_OUTPUT_H_
