// File: domain/country_names.h
//
// CountryCodeFromName: the ISO 3166-1 alpha-2 code of a country written as
// lists and registers write it: a code ("TW", "tw"), an alpha-3 code ("RUS"),
// or a name in any of the common display languages of ICU's CLDR data
// (English, French, German, Spanish, Portuguese, Italian, Dutch, Russian,
// Ukrainian, Polish, Turkish, Arabic, Persian, Chinese, Japanese, Korean,
// Vietnamese, Indonesian), matched after FoldForMatch (text_fold.h), plus a
// small alias table for the names CLDR does not spell that way (kAliases in
// country_names.cc, listed in docs/formats.md):
//
//   CountryCodeFromName("Taiwan")            == "TW"
//   CountryCodeFromName("Brasil")            == "BR"
//   CountryCodeFromName("China (mainland)")  == "CN"
//   CountryCodeFromName("HONG KONG")         == "HK"
//   CountryCodeFromName("PRC")               == "CN"
//   CountryCodeFromName("Korea, South")      == "KR"
//   CountryCodeFromName("Россия")            == "RU"
//   CountryCodeFromName("Gaza Strip, undetermined") == ""  (unknown)
//
// Only officially assigned codes are returned (IsIso3166Alpha2); a name that
// matches nothing gives "". Names are not guessed from parts: "New Mexico"
// is not Mexico.
//
// Thread-safe: the table is built once, on first use, and read-only after.
#ifndef GEORISK_DOMAIN_COUNTRY_NAMES_H_
#define GEORISK_DOMAIN_COUNTRY_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace georisk::domain {

std::string CountryCodeFromName(absl::string_view name);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_COUNTRY_NAMES_H_
