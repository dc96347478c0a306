// File: formats/csl_parser.h
//
// The parsers of the US Consolidated Screening List (trade.gov), in its CSV
// and JSON shapes (columns in docs/formats.md). Each row becomes two records:
//
//   - the listed party: a PERSON "person/csl-<list>-<slug>" for rows of type
//     `Individual`, else a COMPANY "company/csl-<list>-<slug>" (BIS and
//     State rows have an empty type and stay COMPANY, GAPS.md §1). The slug
//     is the entity_number (Treasury), trade.gov's `_id` (given, or derived
//     as trade.gov derives it for the older layout: "id-<sha224>"), or a
//     stable hash of the row ("h-<32 hex>", MEU and DTC whose `_id` is random
//     at every build); see CslRowId in csl_parser.cc and docs/formats.md.
//     Its country is the first of its addresses' countries (codes or names
//     in any common language, domain/country_names.h; trailing postal codes
//     ignored), the JSON row's `country`, nationalities, citizenships; none
//     known is a warning and the party is imported without a country. Its
//     identifiers are csl_entity_number, csl_id and those of the `ids`
//     column (LEI, registration and tax numbers, SWIFT/BIC, ISIN, IMO...,
//     formats/csl_ids.h), which entity resolution links by;
//   - its listing, an ENTITY_LISTING export control
//     "signal/csl-<list>-<slug>" on that entity, with the authority,
//     severity and measure of its list (CslList below, CslListMeasure in
//     authorities.h), start_date/end_date as its validity window, and source
//     "trade.gov/csl:<list>" (one source per list, so a list can be imported
//     as a snapshot).
//
// The list comes from the `source` column, either its code ("EL") or the
// name trade.gov writes ("Entity List (EL) - Bureau of Industry and
// Security"). Unknown columns are ignored (the CSL grows columns); rows of an
// unknown list are rejected.
//
// JSON: a top-level array of rows, an object whose "results" member is that
// array (the API's shape), or one row per line.
//
//   auto parser = NewCslParser(CslShape::kCsv, &file, {});
//
// Not thread-safe (see record_parser.h).
#ifndef GEORISK_FORMATS_CSL_PARSER_H_
#define GEORISK_FORMATS_CSL_PARSER_H_

#include <istream>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "formats/record_parser.h"

namespace georisk::formats {

enum class CslShape { kCsv, kJson };

std::unique_ptr<RecordParser> NewCslParser(CslShape shape, std::istream* in,
                                           const ParserOptions& options);

// One of the CSL's source lists.
struct CslList {
  absl::string_view code;       // "EL"
  absl::string_view name;       // "Entity List"
  absl::string_view authority;  // "US-BIS"
  double severity;              // (0, 1]; see docs/formats.md.
};

// The 13 lists, in the order of docs/formats.md's table.
absl::Span<const CslList> CslLists();

// The list of a `source` cell ("EL", "el", "Entity List (EL) - Bureau of
// Industry and Security"), or null.
const CslList* FindCslList(absl::string_view source);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_CSL_PARSER_H_
