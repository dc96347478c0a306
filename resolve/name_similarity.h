// File: resolve/name_similarity.h
//
// Token-based similarity of two normalised names (resolve/normalize_name.h):
// Jaro-Winkler between tokens, soft TF-IDF between token sets, and acronyms.
//
//   auto idf = [&](absl::string_view t) { return index.Idf(t); };
//   double s = SoftTfIdf({"huawei", "technologies"}, {"huawei", "tech"}, idf,
//                        /*threshold=*/0.9);
//   bool a = IsAcronymOf("smic", {"semiconductor", "manufacturing",
//                                 "international"}, {"corp"});  // true
//
// Soft TF-IDF is Cohen, Ravikumar and Fienberg's (2003, "A Comparison of
// String Distance Metrics for Name-Matching Tasks", IIWeb): the cosine of
// the two names' IDF-weighted token vectors where a token also meets its
// closest token of the other name whose Jaro-Winkler similarity is at least
// `threshold`, that pair counting JW times. Before it, a token of one name
// that equals two or three adjacent tokens of the other joined ("aero
// caribbean" / "aerocaribbean", the pinyin syllables "hua wei" / "huawei")
// is merged with them.
//
// Thread safety: pure functions (the idf callback must be safe to call from
// the calling thread).
#ifndef GEORISK_RESOLVE_NAME_SIMILARITY_H_
#define GEORISK_RESOLVE_NAME_SIMILARITY_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace georisk::resolve {

// Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4).
double JaroWinkler(absl::string_view a, absl::string_view b);

// Soft TF-IDF in [0, 1] of two token lists (empty list: 0).
double SoftTfIdf(const std::vector<std::string>& a,
                 const std::vector<std::string>& b,
                 absl::FunctionRef<double(absl::string_view)> idf,
                 double threshold);

// True when `acronym` (one token, 2 to 8 letters) spells the initials of
// `tokens`, optionally followed by the initial of one of `legal_forms` ("smic"
// of semiconductor manufacturing international + corp). Words "and", "of",
// "the" may be skipped.
bool IsAcronymOf(absl::string_view acronym,
                 const std::vector<std::string>& tokens,
                 const std::vector<std::string>& legal_forms);

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_NAME_SIMILARITY_H_
