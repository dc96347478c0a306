#include "tests/testing/import_output.h"

#include <cctype>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace georisk {
namespace testing {

int64_t SummaryValue(const std::string& out, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, absl::StrCat(key, ": "))) continue;
    std::string digits(line.substr(0, line.find(' ')));
    absl::StrReplaceAll({{",", ""}}, &digits);
    int64_t value;
    if (absl::SimpleAtoi(digits, &value)) return value;
  }
  return -1;
}

int64_t ResumeFrom(const std::string& err) {
  const std::string kMarker = "resume with --resume_from=";
  const size_t at = err.find(kMarker);
  if (at == std::string::npos) return -1;
  std::string digits;
  for (size_t i = at + kMarker.size();
       i < err.size() && std::isdigit(static_cast<unsigned char>(err[i]));
       ++i) {
    digits += err[i];
  }
  int64_t n = -1;
  return absl::SimpleAtoi(digits, &n) ? n : -1;
}

}  // namespace testing
}  // namespace georisk
