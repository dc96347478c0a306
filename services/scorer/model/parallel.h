// File: services/scorer/model/parallel.h
//
// Splitting a pass over many nodes between threads without changing its
// result: the range [0, n) is cut into one contiguous piece per worker, each
// worker writes only what belongs to its piece (or to its own output
// buffer), and the caller merges the buffers in worker order afterwards. So
// the result is the same whatever the number of threads; only the wall time
// changes.
//
//   const int workers = Workers(n);
//   std::vector<std::vector<Node>> found(workers);
//   ParallelRanges(n, workers, [&](size_t begin, size_t end, int w) {
//     for (size_t v = begin; v < end; ++v) if (...) found[w].push_back(v);
//   });
//
// Threads are started per call (a pass over a million nodes takes hundreds
// of milliseconds; a thread costs tens of microseconds), so nothing stays
// running between passes.
#ifndef GEORISK_SERVICES_SCORER_MODEL_PARALLEL_H_
#define GEORISK_SERVICES_SCORER_MODEL_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace georisk::scorer::internal {

// Passes over fewer items than this run on the caller's thread.
inline constexpr size_t kMinParallelItems = 4096;
// At most this many threads per pass (the scorer shares its machine).
inline constexpr int kMaxWorkers = 4;

// Tests set it to force a number of workers for every large pass (1: all on
// the caller's thread), to check that the results do not depend on it.
inline std::atomic<int> forced_workers_for_testing{0};

// The number of workers for a pass over `n` items: 1 when it is small,
// else the hardware threads, at most kMaxWorkers.
inline int Workers(size_t n) {
  if (n < kMinParallelItems) return 1;
  if (const int forced = forced_workers_for_testing.load(); forced > 0) {
    return forced;
  }
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(hw, 1, kMaxWorkers);
}

// Calls fn(begin, end, worker) for `workers` contiguous pieces of [0, n),
// worker 0 on the calling thread, and returns when all are done.
template <typename Fn>
void ParallelRanges(size_t n, int workers, Fn fn) {
  workers = std::max(1, workers);
  auto piece = [&](int w) { return n * static_cast<size_t>(w) / workers; };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers - 1));
  for (int w = 1; w < workers; ++w) {
    threads.emplace_back([&fn, &piece, w] { fn(piece(w), piece(w + 1), w); });
  }
  fn(piece(0), piece(1), 0);
  for (std::thread& t : threads) t.join();
}

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_PARALLEL_H_
