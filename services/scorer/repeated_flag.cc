#include "services/scorer/repeated_flag.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace georisk::scorer {

std::vector<char*> MergeRepeatedFlag(int argc, char** argv,
                                     absl::string_view name,
                                     std::string* merged) {
  std::vector<char*> out;
  std::vector<absl::string_view> values;
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 0; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, prefix)) {
      values.push_back(arg.substr(prefix.size()));
    } else {
      out.push_back(argv[i]);
    }
  }
  if (!values.empty()) {
    *merged = prefix + absl::StrJoin(values, ",");
    out.push_back(merged->data());
  }
  return out;
}

}  // namespace georisk::scorer
