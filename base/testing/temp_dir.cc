#include "base/testing/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace georisk::base::testing {

std::string MakeTempDir(absl::string_view prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string tmpl = absl::StrCat(
      base != nullptr && *base != '\0' ? base : "/tmp", "/", prefix, ".XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::fprintf(stderr, "MakeTempDir: cannot create %s: %s\n", tmpl.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  return std::string(buf.data());
}

}  // namespace georisk::base::testing
