// File: bench/bench_output.h
//
// What every benchmark binary prints for its run script: "RESULT name=value"
// lines on stdout (the scripts grep them), progress on stderr, and
// nearest-rank percentiles of latencies.
//
//   Progress("apply", "timing");              // [apply] timing
//   Result("apply_p99_ms", Percentile(ms, 99));
#ifndef GEORISK_BENCH_BENCH_OUTPUT_H_
#define GEORISK_BENCH_BENCH_OUTPUT_H_

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace georisk::bench {

// Prints "RESULT name=value" and flushes, so that a script reading the pipe
// sees it even if the run fails later.
inline void Result(absl::string_view name, double value) {
  std::printf("RESULT %s=%.10g\n", std::string(name).c_str(), value);
  std::fflush(stdout);
}

// Prints "[tag] message" to stderr.
inline void Progress(absl::string_view tag, absl::string_view message) {
  std::fprintf(stderr, "[%s] %s\n", std::string(tag).c_str(),
               std::string(message).c_str());
}

// Nearest-rank percentile (p in (0, 100]) of `values`; 0 when empty.
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(
      std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace georisk::bench

#endif  // GEORISK_BENCH_BENCH_OUTPUT_H_
