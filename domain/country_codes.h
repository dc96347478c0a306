// File: domain/country_codes.h
//
// The ISO 3166-1 alpha-2 country codes officially assigned (249 of them).
//
//   if (!IsIso3166Alpha2(entity.country())) { /* reject */ }
//
// Thread-safe: the table is a constant.
#ifndef GEORISK_DOMAIN_COUNTRY_CODES_H_
#define GEORISK_DOMAIN_COUNTRY_CODES_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace georisk::domain {

// True when `code` is an officially assigned alpha-2 code, in upper case
// ("TW"; not "tw", "UK", "XK" or "EU").
bool IsIso3166Alpha2(absl::string_view code);

// Every officially assigned code, sorted.
absl::Span<const absl::string_view> Iso3166Alpha2Codes();

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_COUNTRY_CODES_H_
