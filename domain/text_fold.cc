#include "domain/text_fold.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace georisk::domain {

std::string FoldForMatch(absl::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold =
      icu::Normalizer2::getNFKCCasefoldInstance(status);
  UErrorCode nfd_status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(nfd_status);
  if (U_FAILURE(status) || U_FAILURE(nfd_status)) return std::string();
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString folded = fold->normalize(input, status);
  if (U_FAILURE(status)) return std::string();
  const icu::UnicodeString decomposed = nfd->normalize(folded, status);
  if (U_FAILURE(status)) return std::string();
  icu::UnicodeString out;
  bool separator = false;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (u_isalnum(c)) {
      if (separator && !out.isEmpty()) out.append(static_cast<UChar>(' '));
      separator = false;
      out.append(c);
    } else {
      separator = true;
    }
  }
  std::string utf8;
  out.toUTF8String(utf8);
  return utf8;
}

bool ContainsFoldedWords(absl::string_view haystack, absl::string_view needle) {
  if (needle.empty()) return false;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    const size_t end = at + needle.size();
    if ((at == 0 || haystack[at - 1] == ' ') &&
        (end == haystack.size() || haystack[end] == ' ')) {
      return true;
    }
  }
  return false;
}

}  // namespace georisk::domain
