// File: tests/testing/process.h
//
// Helpers for multi-process tests: locate binaries in Bazel runfiles, make
// private temporary directories, start a georisk service on port 0 and learn
// its ports from its port file, signal it, and always stop it.
//
//   std::string dir = MakeTempDir("graphstore");
//   auto gs = ServiceProcess::Start({
//       .binary = Runfile("services/graphstore/graphstore"),
//       .args = {"--data_dir=" + dir + "/data"},
//       .work_dir = dir});
//   ASSERT_TRUE(gs.ok()) << gs.status();
//   ... (*gs)->address() ...
//   EXPECT_EQ((*gs)->Stop(SIGTERM, absl::Seconds(15)).value(), 0);
//
// A process still running when its ServiceProcess is destroyed is killed
// (SIGKILL) and reaped, and every child also gets SIGKILL if the test process
// dies (PR_SET_PDEATHSIG), so no test leaves a server behind.
#ifndef GEORISK_TESTS_TESTING_PROCESS_H_
#define GEORISK_TESTS_TESTING_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/testing/free_port.h"
#include "base/testing/temp_dir.h"

namespace georisk {
namespace testing {

// The absolute path of a file of this workspace in the test's runfiles, e.g.
// Runfile("services/graphstore/graphstore").
std::string Runfile(absl::string_view workspace_path);

// A new, empty directory under TEST_TMPDIR (or /tmp), named after `prefix`
// (base/testing/temp_dir.h).
using ::georisk::base::testing::MakeTempDir;

// Reads a whole file. NotFound if it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// A loopback port that was free a moment ago, for the rare peer (a
// third-party server) that cannot report the port it bound itself
// (base/testing/free_port.h).
using ::georisk::base::testing::PickFreePort;

// GET http://127.0.0.1:port/path (cpp-httplib); returns the status code,
// the headers ("Name: value\r\n" each) and the body. Unavailable when no
// answer came within `timeout`.
struct HttpResult {
  int status = 0;
  std::string headers;
  std::string body;
};
absl::StatusOr<HttpResult> HttpGet(int port, absl::string_view path,
                                   absl::Duration timeout = absl::Seconds(5));

// What a command run to completion did.
struct CommandResult {
  // The exit code, or 128 + the signal number that ended it.
  int code = -1;
  std::string out;
  std::string err;
  // Its peak resident memory in KiB (wait4's ru_maxrss).
  int64_t max_rss_kb = 0;
};

// Runs `binary args...` to completion, its stdout and stderr captured in
// files under `dir`, and its peak memory measured. A command still running
// after `timeout` is killed (SIGKILL) and its result has code 128 + 9 and
// timed_out in `err`.
CommandResult RunCommand(const std::string& dir, const std::string& binary,
                         const std::vector<std::string>& args,
                         absl::Duration timeout = absl::Seconds(180));

struct ProcessOptions {
  // Absolute path of the executable.
  std::string binary;
  // Arguments after argv[0]. ServiceProcess adds --listen, --metrics_listen
  // and --port_file unless `add_port_flags` is false.
  std::vector<std::string> args;
  // Where the port file and the combined stdout/stderr log go.
  std::string work_dir;
  bool add_port_flags = true;
  // Time to wait for the port file (and so for the server to listen).
  absl::Duration start_timeout = absl::Seconds(30);
};

class ServiceProcess {
 public:
  // Starts the process and, with add_port_flags, waits until it has written
  // its port file. Errors: the process exited early (its log is in the
  // message) or did not listen within start_timeout.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      ProcessOptions options);

  ~ServiceProcess();  // SIGKILLs and reaps the process if still running.
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  pid_t pid() const { return pid_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // Any "<name>=<port>" line of the port file, e.g. Port("console_port");
  // 0 if there is none.
  int Port(const std::string& name) const;
  // "127.0.0.1:<grpc_port>".
  std::string address() const;
  // The combined stdout and stderr of the process so far.
  std::string Log() const;

  // Sends `sig`.
  absl::Status Signal(int sig);
  // Waits up to `timeout` for the process to exit; returns its exit code, or
  // 128 + signal number if a signal killed it. DeadlineExceeded if it is
  // still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Signal(sig) then Wait(timeout).
  absl::StatusOr<int> Stop(int sig, absl::Duration timeout);
  bool running() const { return running_; }

 private:
  ServiceProcess() = default;

  pid_t pid_ = -1;
  bool running_ = false;
  int exit_code_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::map<std::string, int> ports_;
  std::string log_path_;
};

}  // namespace testing
}  // namespace georisk

#endif  // GEORISK_TESTS_TESTING_PROCESS_H_
