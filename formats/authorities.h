// File: formats/authorities.h
//
// Who issued a measure and what kind of measure it is, for the sanctions and
// export-control records of the parsers (FollowTheMoney Sanctions, CSL
// lists). Both come from documented tables (docs/formats.md, "Who issued it"
// and "What a measure is"), matched after FoldForMatch (domain/text_fold.h):
// NFKC case folding, marks dropped, every dash, hyphen and punctuation mark
// one separator, in every script.
//
//   SanctionFacts facts;
//   facts.authorities = {"Directorate\u2011General for Financial Stability, "
//                        "Financial Services and Capital Markets Union"};
//   facts.program_id = "EU-UKR";
//   facts.dataset = "eu_fsf";
//   SanctionClass c = ClassifySanction(facts);
//   // c.authority == "EU", c.measure == MEASURE_BLOCKING_SANCTION,
//   // c.warnings empty.
//
// The authority is, in order: the first `authorities` value in the table;
// the issuer named by the programme id's prefix ("GB-RUS" -> "UK"); the
// sanction's jurisdiction (`country`: "eu", "ch"); else the authority name
// as an upper-case ASCII code when it has one, or "UNKNOWN", with a warning.
// A programme number ("761/2024") is never made an authority.
//
// The measure is, in order: from the OpenSanctions dataset; from the
// programme id; from words of the provisions ("Block", "Targeted financial
// sanction", "Prohibition/Restriction" of an exclusion list...); else
// MEASURE_OTHER with a warning (never promoted to an export-control listing).
//
// Thread-safe: pure functions over constant tables.
#ifndef GEORISK_FORMATS_AUTHORITIES_H_
#define GEORISK_FORMATS_AUTHORITIES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::formats {

// What a sanction record says about itself.
struct SanctionFacts {
  // The issuer's names as written (FtM `authority`, every value in order).
  std::vector<std::string> authorities;
  // FtM `programId` ("EU-UKR", "US-BIS-EL"), may be empty.
  std::string program_id;
  // FtM `country` of the Sanction: the issuing jurisdiction ("eu", "gb").
  std::string country;
  // The OpenSanctions dataset the record comes from ("us_ofac_sdn").
  std::string dataset;
  // FtM `provisions` and `program` texts, for the last-resort word rules.
  std::vector<std::string> provisions;
};

struct SanctionClass {
  // [A-Z0-9-]{2,32}: "US-OFAC", "EU", "UK", "UNKNOWN"...
  std::string authority;
  v1::ExportControl::Measure measure = v1::ExportControl::MEASURE_OTHER;
  // Why the authority or the measure is a guess, for the caller to report.
  std::vector<std::string> warnings;
};

SanctionClass ClassifySanction(const SanctionFacts& facts);

// The code of one issuer name in the table ("Office of Foreign Assets
// Control" -> "US-OFAC"), or "" when the name is not in it. `country` (the
// sanction's jurisdiction, may be empty) tells apart names several countries
// use ("Ministry of Finance" of "jp" -> "JP-MOF").
std::string AuthorityCodeForName(absl::string_view name,
                                 absl::string_view country);

// The measure a CSL list ("EL", "SDN"...) is (docs/formats.md), or
// MEASURE_OTHER for an unknown code.
v1::ExportControl::Measure CslListMeasure(absl::string_view code);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_AUTHORITIES_H_
