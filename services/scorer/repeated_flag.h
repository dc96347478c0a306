// File: services/scorer/repeated_flag.h
//
// MergeRepeatedFlag: absl keeps only the last occurrence of a flag, but the
// scorer's deployments repeat --alertmanager_url (one per replica; the docs
// promise it). This folds every `--NAME=VALUE` occurrence into one
// `--NAME=V1,V2,...` that absl's std::vector<std::string> flag parses as a
// comma-separated list.
//
//   std::string merged;
//   std::vector<char*> args =
//       MergeRepeatedFlag(argc, argv, "alertmanager_url", &merged);
//   absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
//
// Thread-compatible; pure apart from the output string.
#ifndef GEORISK_SERVICES_SCORER_REPEATED_FLAG_H_
#define GEORISK_SERVICES_SCORER_REPEATED_FLAG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace georisk::scorer {

// Returns argv without the `--name=...` arguments, followed by one merged
// `--name=` argument (the values joined with commas, in order) if there was
// any. Only the `--name=value` form is merged; other arguments are kept in
// order. The returned pointers point into argv and into `*merged` (which
// must outlive them and is overwritten).
std::vector<char*> MergeRepeatedFlag(int argc, char** argv,
                                     absl::string_view name,
                                     std::string* merged);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_REPEATED_FLAG_H_
