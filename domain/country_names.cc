#include "domain/country_names.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "domain/country_codes.h"
#include "domain/text_fold.h"

namespace georisk::domain {
namespace {

// CLDR display languages whose country names are looked up.
constexpr const char* kDisplayLocales[] = {
    "en", "fr", "de", "es", "pt",      "it", "nl", "ru", "uk", "pl",
    "tr", "ar", "fa", "zh", "zh_Hant", "ja", "ko", "vi", "id",
};

// Names that lists write and CLDR does not (or not for that country), each
// folded before lookup. Kept short: CLDR covers the rest.
struct Alias {
  const char* name;
  const char* code;
};
constexpr Alias kAliases[] = {
    {"PRC", "CN"},
    {"P.R.C.", "CN"},
    {"People's Republic of China", "CN"},
    {"China (mainland)", "CN"},
    {"Mainland China", "CN"},
    {"Hong Kong", "HK"},
    {"Hong Kong SAR", "HK"},
    {"Hong Kong, China", "HK"},
    {"Macao SAR", "MO"},
    {"Macau", "MO"},
    {"Republic of China", "TW"},
    {"Taiwan, Province of China", "TW"},
    {"Korea, South", "KR"},
    {"Republic of Korea", "KR"},
    {"Korea, Republic of", "KR"},
    {"Korea, North", "KP"},
    {"DPRK", "KP"},
    {"Democratic People's Republic of Korea", "KP"},
    {"Korea, Democratic People's Republic of", "KP"},
    {"Russian Federation", "RU"},
    {"Iran, Islamic Republic of", "IR"},
    {"Islamic Republic of Iran", "IR"},
    {"Syrian Arab Republic", "SY"},
    {"Burma", "MM"},
    {"UK", "GB"},
    {"Great Britain", "GB"},
    {"England", "GB"},
    {"Scotland", "GB"},
    {"Wales", "GB"},
    {"Northern Ireland", "GB"},
    {"U.S.A.", "US"},
    {"USA", "US"},
    {"U.S.", "US"},
    {"United States of America", "US"},
    {"UAE", "AE"},
    {"Ivory Coast", "CI"},
    {"Turkiye", "TR"},
    {"Republic of Turkey", "TR"},
    {"Czech Republic", "CZ"},
    {"Holland", "NL"},
    {"Vatican", "VA"},
    {"Vatican City", "VA"},
    {"Palestine", "PS"},
    {"West Bank", "PS"},
    {"Gaza", "PS"},
    {"Gaza Strip", "PS"},
    {"Moldova, Republic of", "MD"},
    {"Lao PDR", "LA"},
    {"Laos", "LA"},
    {"Congo, Democratic Republic of the", "CD"},
    {"Democratic Republic of the Congo", "CD"},
    {"Republic of the Congo", "CG"},
    {"Venezuela, Bolivarian Republic of", "VE"},
    {"Tanzania, United Republic of", "TZ"},
    {"Bolivia, Plurinational State of", "BO"},
    {"Viet Nam", "VN"},
    {"Crimea", "UA"},
    {"Kyrgyz Republic", "KG"},
    {"Swaziland", "SZ"},
    {"Macedonia", "MK"},
    {"East Timor", "TL"},
    {"Cape Verde", "CV"},
};

using NameTable = absl::flat_hash_map<std::string, std::string>;

void Add(NameTable* table, const icu::UnicodeString& name,
         const std::string& code) {
  std::string utf8;
  name.toUTF8String(utf8);
  std::string folded = FoldForMatch(utf8);
  // The first writer wins: English names first, then the other languages,
  // so that a name two countries share in some language keeps its English
  // meaning.
  if (!folded.empty()) table->emplace(std::move(folded), code);
}

const NameTable& Table() {
  static const NameTable* const table = [] {
    auto* t = new NameTable;
    for (const Alias& a : kAliases) {
      t->emplace(FoldForMatch(a.name), a.code);
    }
    for (const char* display : kDisplayLocales) {
      const icu::Locale display_locale(display);
      for (const char* const* c = icu::Locale::getISOCountries(); *c != nullptr;
           ++c) {
        const std::string code = *c;
        if (!IsIso3166Alpha2(code)) continue;
        const icu::Locale country("", code.c_str());
        icu::UnicodeString name;
        country.getDisplayCountry(display_locale, name);
        // ICU falls back to the code itself when it has no name.
        if (name != icu::UnicodeString(code.c_str(), -1, US_INV)) {
          Add(t, name, code);
        }
        if (display == kDisplayLocales[0]) {
          const std::string alpha3 = country.getISO3Country();
          if (alpha3.size() == 3)
            t->emplace(absl::AsciiStrToLower(alpha3), code);
        }
      }
    }
    return t;
  }();
  return *table;
}

}  // namespace

std::string CountryCodeFromName(absl::string_view name) {
  const std::string trimmed(absl::StripAsciiWhitespace(name));
  if (trimmed.size() == 2) {
    const std::string upper = absl::AsciiStrToUpper(trimmed);
    if (IsIso3166Alpha2(upper)) return upper;
  }
  const std::string folded = FoldForMatch(trimmed);
  if (folded.empty()) return "";
  const NameTable& table = Table();
  auto it = table.find(folded);
  if (it != table.end()) return it->second;
  return "";
}

}  // namespace georisk::domain
