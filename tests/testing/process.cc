#include "tests/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace georisk {
namespace testing {

CommandResult RunCommand(const std::string& dir, const std::string& binary,
                         const std::vector<std::string>& args,
                         absl::Duration timeout) {
  static std::atomic<int> n{0};
  const int id = n++;
  const std::string out_path = absl::StrCat(dir, "/command", id, ".out");
  const std::string err_path = absl::StrCat(dir, "/command", id, ".err");
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CommandResult result;
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  rusage usage{};
  bool timed_out = false;
  while (wait4(pid, &status, WNOHANG, &usage) != pid) {
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &usage);
      timed_out = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  result.code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.max_rss_kb = usage.ru_maxrss;
  result.out = ReadFile(out_path).value_or("");
  result.err = ReadFile(err_path).value_or("");
  if (timed_out)
    absl::StrAppend(&result.err, "\ntimed_out after ",
                    absl::FormatDuration(timeout));
  return result;
}

std::string Runfile(absl::string_view workspace_path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return std::string(workspace_path);
  return absl::StrCat(srcdir, "/", workspace ? workspace : "georisk", "/",
                      workspace_path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<HttpResult> HttpGet(int port, absl::string_view path,
                                   absl::Duration timeout) {
  httplib::Client client("127.0.0.1", port);
  const timeval tv = absl::ToTimeval(timeout);
  client.set_connection_timeout(tv.tv_sec, tv.tv_usec);
  client.set_read_timeout(tv.tv_sec, tv.tv_usec);
  client.set_write_timeout(tv.tv_sec, tv.tv_usec);
  httplib::Result response = client.Get(std::string(path));
  if (!response) {
    return absl::UnavailableError(
        absl::StrCat("GET 127.0.0.1:", port, path, ": ",
                     httplib::to_string(response.error())));
  }
  HttpResult result;
  result.status = response->status;
  for (const auto& [name, value] : response->headers) {
    absl::StrAppend(&result.headers, name, ": ", value, "\r\n");
  }
  result.body = response->body;
  return result;
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    ProcessOptions options) {
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  std::string base = options.binary.substr(options.binary.rfind('/') + 1);
  p->log_path_ = absl::StrCat(options.work_dir, "/", base, ".log");
  std::string port_file = absl::StrCat(options.work_dir, "/", base, ".ports");
  unlink(port_file.c_str());

  std::vector<std::string> args = {options.binary};
  if (options.add_port_flags) {
    args.push_back("--listen=127.0.0.1:0");
    args.push_back("--metrics_listen=127.0.0.1:0");
    args.push_back("--port_file=" + port_file);
  }
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd = open(p->log_path_.c_str(),
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("cannot open " + p->log_path_);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  p->pid_ = pid;
  p->running_ = true;
  if (!options.add_port_flags) return p;

  const absl::Time deadline = absl::Now() + options.start_timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> ports = ReadFile(port_file);
    if (ports.ok()) {
      for (absl::string_view line : absl::StrSplit(*ports, '\n')) {
        std::pair<std::string, std::string> kv = absl::StrSplit(line, '=');
        int port = 0;
        if (absl::EndsWith(kv.first, "_port") &&
            absl::SimpleAtoi(kv.second, &port)) {
          p->ports_[kv.first] = port;
        }
        if (absl::ConsumePrefix(&line, "grpc_port=")) {
          (void)absl::SimpleAtoi(line, &p->grpc_port_);
        } else if (absl::ConsumePrefix(&line, "metrics_port=")) {
          (void)absl::SimpleAtoi(line, &p->metrics_port_);
        }
      }
      return p;
    }
    absl::StatusOr<int> exited = p->Wait(absl::Milliseconds(20));
    if (exited.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(base, " exited with ", *exited,
                       " before listening; log:\n", p->Log()));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      base, " did not listen within ",
      absl::FormatDuration(options.start_timeout), "; log:\n", p->Log()));
}

ServiceProcess::~ServiceProcess() {
  if (running_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::string ServiceProcess::address() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string ServiceProcess::Log() const {
  absl::StatusOr<std::string> log = ReadFile(log_path_);
  return log.ok() ? *log : "";
}

absl::Status ServiceProcess::Signal(int sig) {
  if (!running_) return absl::FailedPreconditionError("not running");
  if (kill(pid_, sig) != 0) return absl::InternalError("kill failed");
  return absl::OkStatus();
}

absl::StatusOr<int> ServiceProcess::Wait(absl::Duration timeout) {
  if (!running_) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      running_ = false;
      exit_code_ =
          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("process still running");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<int> ServiceProcess::Stop(int sig, absl::Duration timeout) {
  if (absl::Status s = Signal(sig); !s.ok()) return s;
  return Wait(timeout);
}

int ServiceProcess::Port(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? 0 : it->second;
}

}  // namespace testing
}  // namespace georisk
