#include "services/common/main_support.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace georisk::common {

void InitMain(absl::string_view service_name, absl::string_view description,
              int argc, char** argv) {
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
