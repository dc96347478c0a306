#include "services/common/main_support.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/log.h"

namespace georisk::common {

std::vector<std::string> RepeatedFlags(
    int argc, char** argv, absl::Span<const absl::string_view> names) {
  std::set<std::string> seen;
  std::vector<std::string> repeated;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "-")) continue;
    absl::ConsumePrefix(&arg, "-");
    const size_t eq = arg.find('=');
    const absl::string_view name = arg.substr(0, eq);
    if (!absl::c_linear_search(names, name)) continue;
    if (eq == absl::string_view::npos) ++i;  // "--name value".
    if (!seen.insert(std::string(name)).second &&
        !absl::c_linear_search(repeated, name)) {
      repeated.emplace_back(name);
    }
  }
  return repeated;
}

bool IsOwnFlagFile(absl::string_view program_name, absl::string_view file) {
  if (program_name.empty()) return false;
  if (absl::EndsWith(file, "services/common/server_flags.cc") ||
      absl::EndsWith(file, "services/common/client_flags.cc")) {
    return true;
  }
  const size_t slash = file.rfind('/');
  absl::string_view base =
      slash == absl::string_view::npos ? file : file.substr(slash + 1);
  absl::string_view dir =
      slash == absl::string_view::npos ? "" : file.substr(0, slash);
  const size_t dir_slash = dir.rfind('/');
  if (dir_slash != absl::string_view::npos) dir = dir.substr(dir_slash + 1);
  if (dir == program_name) return true;
  // absl's default rule: <program>.cc, <program>-main.cc, <program>_main.cc.
  if (!absl::ConsumePrefix(&base, program_name)) return false;
  return absl::StartsWith(base, ".") || absl::StartsWith(base, "-main.") ||
         absl::StartsWith(base, "_main.");
}

void ConfigureFlagsUsage(absl::string_view program_name) {
  const std::string program(program_name);
  absl::FlagsUsageConfig config;
  auto own = [program](absl::string_view file) {
    return IsOwnFlagFile(program, file);
  };
  config.contains_help_flags = own;
  config.contains_helpshort_flags = own;
  absl::SetFlagsUsageConfig(config);
}

void InitMain(absl::string_view service_name, absl::string_view description,
              int argc, char** argv) {
  ConfigureFlagsUsage(service_name);
  absl::SetProgramUsageMessage(
      absl::StrCat(description, "\n\nUsage: ", service_name,
                   " [--flag=value...]\nRun with --help for the flags."));
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  log::SetServiceName(service_name);
  if (rest.size() > 1) {
    std::fprintf(stderr, "%s: unexpected argument \"%s\"; see --help\n",
                 std::string(service_name).c_str(), rest[1]);
    std::exit(2);
  }
}

absl::Status EnsureDirectory(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("directory: empty path");
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) {
      return absl::UnavailableError(
          absl::StrCat("mkdir ", partial, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace georisk::common
