// File: formats/csl_ids.h
//
// The identifiers a Consolidated Screening List row carries in its `ids`
// column (CSV) or `ids` array (JSON), mapped to the identifier schemes of
// resolve/identifiers.h, so that entity resolution can link a listing to the
// party it names by LEI, registration or tax number, SWIFT/BIC, ISIN, IMO
// number and the like. The table of id types and what each becomes is in
// docs/formats.md, "CSL ids column".
//
//   std::vector<CslIdEntry> ids = ParseCslIdsCell(
//       "Legal Entity Number, 253400V1H6ART1UQ0N98, RU; Website, www.vtb.com");
//   // ids[0] = {"Legal Entity Number", "253400V1H6ART1UQ0N98", "RU"}
//   CslIdentifiers mapped = MapCslIds(ids);
//   // mapped.identifiers = {{"lei", "253400V1H6ART1UQ0N98"}}
//   // mapped.ignored = 1 (the website)
//
// Layouts: trade.gov's CSV writes each entry "type, number[, country]",
// entries separated by "; "; the 2019 layout wrote "[country, ]number, type";
// the JSON writes objects {type, number, country, ...}. Only entries whose
// type is in the table become identifiers; sanctions remarks, directive
// determinations, websites, e-mail addresses, dates and the like, which
// the same column carries, are counted as ignored. The first value of each
// scheme is kept (Entity.identifiers holds one value per scheme). CMIC rows'
// "Issuer Name" entries are names of the issuer: they become aliases.
//
// Thread safety: pure functions.
#ifndef GEORISK_FORMATS_CSL_IDS_H_
#define GEORISK_FORMATS_CSL_IDS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace georisk::formats {

// One entry of a row's ids, trimmed, as written.
struct CslIdEntry {
  std::string type;
  std::string number;
  std::string country;  // as written: usually ISO alpha-2; may be empty
};

// Splits a CSV `ids` cell into entries, in either layout.
std::vector<CslIdEntry> ParseCslIdsCell(absl::string_view cell);

struct CslIdentifiers {
  // scheme -> value as resolve::NormalizeIdentifier reads it: registration
  // and tax numbers are written "CC:NUMBER" when the entry names its
  // country (otherwise the party's country applies at resolution), IMO
  // numbers without their "IMO" prefix; the rest as written (resolve
  // normalises tickers such as "00981 HK").
  std::map<std::string, std::string> identifiers;
  // Names the entries give the party ("Issuer Name"), in order.
  std::vector<std::string> aliases;
  // One line per entry of a known type whose number is unusable, e.g.
  // "ids: Tax ID No. \"\" has no number; not kept". (Further values of a
  // scheme already given are not kept and not noted: see above.)
  std::vector<std::string> notes;
  // Entries whose type is not an identifier georisk uses.
  int ignored = 0;
};

// Maps entries to identifiers (the table in docs/formats.md).
CslIdentifiers MapCslIds(const std::vector<CslIdEntry>& entries);

// The scheme an id type maps to ("" if none), e.g. "Tax ID No." ->
// "tax_number". Case, spacing and trailing ".:#" do not matter.
std::string CslIdTypeScheme(absl::string_view type);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_CSL_IDS_H_
