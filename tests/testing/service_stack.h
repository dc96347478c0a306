// File: tests/testing/service_stack.h
//
// ServiceStack: the georisk services a multi-process test talks to,
// started as processes on port 0, each waited for until its health service
// answers SERVING, and stopped newest first: graphstore (data in
// `dir`/graphstore, --sync=false), ingest following it, and, when asked, the
// scorer following graphstore (data in `dir`/scorer).
//
//   StackOptions options;
//   options.dir = MakeTempDir("t");
//   options.ingest_batch_size = 4;
//   auto stack = ServiceStack::Start(options);
//   ASSERT_TRUE(stack.ok()) << stack.status();
//   ... (*stack)->graphstore()->address(), (*stack)->ingest()->address() ...
//   EXPECT_TRUE((*stack)->Stop().ok());  // in TearDown
//
// A process the test stopped itself is skipped by Stop(); one still running
// when the stack is destroyed is killed (ServiceProcess).
//
// Thread safety: one thread at a time.
#ifndef GEORISK_TESTS_TESTING_SERVICE_STACK_H_
#define GEORISK_TESTS_TESTING_SERVICE_STACK_H_

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/process.h"

namespace georisk {
namespace testing {

struct StackOptions {
  // An existing directory of the test's: the services' data and logs.
  std::string dir;
  // Ingest's --batch_size.
  int ingest_batch_size = 100;
  // More flags for ingest, e.g. {"--sources_config=..."}.
  std::vector<std::string> ingest_args;
  // Also start the scorer.
  bool scorer = false;
  // More flags for the scorer, e.g. {"--console_listen=127.0.0.1:0"}.
  std::vector<std::string> scorer_args;
  // How long each service may take to answer SERVING, and to exit on
  // SIGTERM.
  absl::Duration serving_timeout = absl::Seconds(60);
  absl::Duration stop_timeout = absl::Seconds(30);
};

class ServiceStack {
 public:
  // Starts the services and waits until each serves. Errors: a process did
  // not start (its log in the message) or did not serve in time.
  static absl::StatusOr<std::unique_ptr<ServiceStack>> Start(
      StackOptions options);

  ServiceProcess* graphstore() const { return graphstore_.get(); }
  ServiceProcess* ingest() const { return ingest_.get(); }
  // Null unless options.scorer.
  ServiceProcess* scorer() const { return scorer_.get(); }

  // Stops graphstore (SIGTERM, exit 0 expected) and starts it again over the
  // same data, on a new port; waits until it serves. Ingest and the scorer
  // keep the old address.
  absl::Status RestartGraphstore();

  // Stops ingest with `sig` (SIGTERM: exit 0 expected; SIGKILL: a crash)
  // and starts it again with the same flags, on a new port; waits until it
  // serves.
  absl::Status RestartIngest(int sig = SIGTERM);
  // Starts a scorer over `dir`/scorer, following graphstore, and waits until
  // it serves; replaces scorer(). For a restart after the test stopped or
  // killed the previous one (FAILED_PRECONDITION while it still runs).
  absl::Status StartScorer();

  // SIGTERMs every process still running, scorer, ingest, then graphstore,
  // and waits for each. Error naming the first that did not exit 0 in
  // stop_timeout, with its log; every process is stopped either way.
  absl::Status Stop();

 private:
  explicit ServiceStack(StackOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartGraphstore();
  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartIngest();
  // Stops `*process` with `sig` and replaces it with what `start` starts.
  absl::Status Restart(
      const char* name, int sig, std::unique_ptr<ServiceProcess>* process,
      const std::function<absl::StatusOr<std::unique_ptr<ServiceProcess>>()>&
          start);

  StackOptions options_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<ServiceProcess> scorer_;
};

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_SERVICE_STACK_H_
