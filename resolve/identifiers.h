// File: resolve/identifiers.h
//
// The identifier schemes georisk knows (the keys of graph.proto's
// `Entity.identifiers` map), how each value is normalised and validated, and
// the index keys under which two records that name the same party meet.
//
//   absl::StatusOr<Identifier> lei =
//       NormalizeIdentifier("lei", " 5493 0061 7UK8WPPT6W46 ", "CN");
//   // lei->value == "549300617UK8WPPT6W46" (ISO 7064 check passed)
//   absl::StatusOr<Identifier> t =
//       NormalizeIdentifier("ticker", "0981.HK", "");
//   // t->value == "HK:981"
//   std::vector<std::string> keys = IndexKeys(*lei);  // {"lei:5493..."}
//
// The canonical schemes (scheme: what; format and check; strength):
//
//   lei:               Legal Entity Identifier, ISO 17442; 20 [A-Z0-9],
//                      ISO 7064 MOD 97-10; strong, one per party
//   isin:              security of the party, ISO 6166; 2 letters,
//                      9 [A-Z0-9], Luhn digit; strong
//   imo:               IMO ship number; 7 digits, weighted check digit;
//                      strong, one per party
//   imo_company:       IMO company/registered owner number; 7 digits (no
//                      check digit); strong, one per party
//   wikidata:          Wikidata item; Q[1-9][0-9]*, URL prefix removed;
//                      strong, one per party
//   opensanctions:     OpenSanctions entity id or referent; "ofac-46001",
//                      "NK-...", "Q42", as given; strong
//   csl_entity_number: CSL entity number (= OFAC's uid); digits; strong,
//                      one per party
//   csl_id:            CSL row id; as given; strong, one per party
//   registration:      company registration number; "CC:NUMBER"
//                      (jurisdiction, then [A-Z0-9]); strong
//   tax_number:        tax identification number; "CC:NUMBER" as
//                      registration; strong
//   inn:               Russian taxpayer number (ИНН); 10 or 12 digits, check
//                      digits; strong, one per party
//   ogrn:              Russian state registration (ОГРН); 13 or 15 digits,
//                      check digit; strong, one per party
//   duns:              Dun & Bradstreet D-U-N-S; 9 digits (dashes dropped;
//                      no check); strong, one per party
//   swift_bic:         SWIFT/BIC, ISO 9362; 8 or 11, "XXX" branch dropped;
//                      strong
//   perm_id:           Refinitiv PermID; digits; strong, one per party
//   ticker:            listing symbol; "EXCHANGE:SYMBOL" or bare SYMBOL,
//                      leading zeros of numeric symbols dropped; weak
//
// Strong identifiers may link two records automatically; weak ones (tickers,
// which exchanges reuse, and every scheme not in the table) only add to a
// name match. "One per party": two different valid values under that scheme
// are evidence of two different parties.
//
// Cross-scheme keys: the CSL's entity number for OFAC's lists is OFAC's uid,
// which OpenSanctions writes as the id or referent "ofac-<uid>"; both give
// the index key "ofac:<uid>", so a CSL record and an FtM record of the same
// SDN entry meet. Likewise a Russian registration or tax number that is a
// valid OGRN or INN meets the ogrn or inn identifier of the same value.
//
// Thread safety: pure functions over constant tables.
#ifndef GEORISK_RESOLVE_IDENTIFIERS_H_
#define GEORISK_RESOLVE_IDENTIFIERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace georisk::resolve {

inline constexpr char kSchemeLei[] = "lei";
inline constexpr char kSchemeIsin[] = "isin";
inline constexpr char kSchemeImo[] = "imo";
inline constexpr char kSchemeImoCompany[] = "imo_company";
inline constexpr char kSchemeWikidata[] = "wikidata";
inline constexpr char kSchemeOpenSanctions[] = "opensanctions";
inline constexpr char kSchemeCslEntityNumber[] = "csl_entity_number";
inline constexpr char kSchemeCslId[] = "csl_id";
inline constexpr char kSchemeRegistration[] = "registration";
inline constexpr char kSchemeTaxNumber[] = "tax_number";
inline constexpr char kSchemeInn[] = "inn";
inline constexpr char kSchemeOgrn[] = "ogrn";
inline constexpr char kSchemeDuns[] = "duns";
inline constexpr char kSchemeSwiftBic[] = "swift_bic";
inline constexpr char kSchemePermId[] = "perm_id";
inline constexpr char kSchemeTicker[] = "ticker";

enum class IdentifierStrength {
  kWeak,    // corroborates a name; never links alone
  kStrong,  // names one party: may link automatically
};

struct SchemeInfo {
  const char* name;
  IdentifierStrength strength;
  // Two different values under this scheme mean two different parties.
  bool one_per_party;
  const char* description;
};

// The table above, in its order.
absl::Span<const SchemeInfo> KnownSchemes();

// The scheme's row, or nullptr for a scheme not in the table.
const SchemeInfo* FindScheme(absl::string_view scheme);

// A normalised identifier.
struct Identifier {
  std::string scheme;  // lower case, as in the table (or as given if unknown)
  std::string value;   // normalised value
  IdentifierStrength strength = IdentifierStrength::kWeak;
  bool one_per_party = false;

  bool operator==(const Identifier& o) const {
    return scheme == o.scheme && value == o.value;
  }
};

// Normalises and validates `value` under `scheme`. `country` (ISO 3166-1
// alpha-2 of the party, may be empty) is the jurisdiction of a registration
// or tax number written without one. A scheme not in the table is kept,
// trimmed, as a weak identifier.
// Errors: INVALID_ARGUMENT when the scheme or value is empty, or the value
// has the wrong shape or check digit for its scheme (the message says which).
absl::StatusOr<Identifier> NormalizeIdentifier(absl::string_view scheme,
                                               absl::string_view value,
                                               absl::string_view country);

// The keys under which the index files this identifier: "scheme:value", and
// the cross-scheme keys: "ofac:<uid>" for csl_entity_number and for
// opensanctions "ofac-<uid>"; "ogrn:<v>" for a registration "RU:<v>" that is
// a valid OGRN, and "inn:<v>" for a tax number "RU:<v>" that is a valid INN
// (the CSL writes Russian OGRNs and INNs as registration and tax numbers).
std::vector<std::string> IndexKeys(const Identifier& id);

// Check-digit helpers, exposed for tests. Each takes the normalised value.
bool LeiChecksumValid(absl::string_view lei);    // ISO 7064 MOD 97-10
bool IsinChecksumValid(absl::string_view isin);  // Luhn on expanded digits
bool ImoChecksumValid(absl::string_view imo);    // weights 7..2, mod 10
bool InnChecksumValid(absl::string_view inn);    // FNS weights, mod 11
bool OgrnChecksumValid(absl::string_view ogrn);  // mod 11 (13) / mod 13 (15)

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_IDENTIFIERS_H_
