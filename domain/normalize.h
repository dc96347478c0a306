// File: domain/normalize.h
//
// Normalisation of records before they are validated: what ingest fixes
// instead of rejecting. Every parser applies it to the records it makes, and
// the Ingest service applies it again to every record it receives (it is
// idempotent), so gRPC clients get the same treatment as files.
//
//   v1::Mutation m = ...;            // country "tw ", name "  TSMC "
//   NormalizeMutation(&m);           // country "TW",  name "TSMC"
//
// What it does:
//   - trims ASCII whitespace around names, aliases, titles, sources,
//     identifier values, ids, programmes and theatres, and drops aliases that
//     are blank;
//   - upper-cases country codes (entity country, region, destination
//     countries, tariff importer/origin, tension country weights) and export
//     control authorities;
//   - removes dots and spaces from HS codes ("8542.31" -> "854231").
// It never rejects: validation (domain/validation.h) comes after it.
//
// Thread-safe: pure functions.
#ifndef GEORISK_DOMAIN_NORMALIZE_H_
#define GEORISK_DOMAIN_NORMALIZE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::domain {

// Trimmed and upper-cased: " tw" -> "TW".
std::string NormalizeCountry(absl::string_view code);

// Trimmed, without '.' and ' ': "8542.31" -> "854231". Other characters are
// kept for validation to reject.
std::string NormalizeHsCode(absl::string_view code);

// Normalises one record in place.
void NormalizeMutation(v1::Mutation* mutation);

}  // namespace georisk::domain

#endif  // GEORISK_DOMAIN_NORMALIZE_H_
