// File: domain/text_fold.h
//
// FoldForMatch: a form of a name in which spellings that mean the same match,
// in every script, for lookups in tables of names (country names, issuing
// authorities). It applies Unicode NFKC case folding (ICU), drops combining
// marks, and turns every run of characters that are neither letters nor
// digits (spaces, punctuation, every kind of dash or hyphen, "&") into one
// space:
//
//   FoldForMatch("Directorate\u2011General for Financial Stability")
//       == "directorate general for financial stability"
//   FoldForMatch("Direction Générale du Trésor") ==
//       "direction generale du tresor"
//   FoldForMatch("  Korea, South ") == "korea south"
//   FoldForMatch("ГУР МО України") == FoldForMatch("гур мо украіни")
//       (Cyrillic and every other script fold the same way; marks are
//       dropped on both sides of a lookup)
//
// Invalid UTF-8 is folded byte by byte as far as ICU can decode it (bad
// sequences become separators). Thread-safe: pure function.
#ifndef GEORISK_DOMAIN_TEXT_FOLD_H_
#define GEORISK_DOMAIN_TEXT_FOLD_H_

#include <string>

#include "absl/strings/string_view.h"

namespace georisk::domain {

std::string FoldForMatch(absl::string_view text);

// True when the folded `needle` occurs in the folded `haystack` as whole
// words ("seco" is in "state seco office", not in "second"). Both arguments
// must already be folded.
bool ContainsFoldedWords(absl::string_view haystack, absl::string_view needle);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_TEXT_FOLD_H_
