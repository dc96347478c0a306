// File: formats/ftm_parser.h
//
// The parser of FollowTheMoney entities as OpenSanctions publishes them: JSON
// lines {"id", "schema", "properties": {name: [values]...}} (docs/formats.md
// has the whole mapping):
//
//   Company, Organization, LegalEntity -> a COMPANY entity
//       "company/ftm-<slug of id>", country from jurisdiction, country or
//       mainCountry;
//   Ownership -> an OWNS edge owner -> asset, weight = percentage / 100,
//       startDate/endDate as its validity window;
//   Sanction  -> an ENTITY_LISTING export control "signal/ftm-<slug of id>"
//       on the sanctioned entity, authority from `authority` (or `program`).
//
// Any other schema is rejected: "unknown schema \"Person\"". Ownerships may
// come before the companies they link: read the file with FtmPass::kNodes,
// then again with FtmPass::kOwnerships (record_parser.h).
//
//   auto parser = NewFtmParser(&file, {});
//
// Not thread-safe (see record_parser.h).
#ifndef GEORISK_FORMATS_FTM_PARSER_H_
#define GEORISK_FORMATS_FTM_PARSER_H_

#include <istream>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "formats/record_parser.h"

namespace georisk::formats {

// Severity of every FTM Sanction: FollowTheMoney does not grade measures.
inline constexpr double kFtmSanctionSeverity = 0.9;

std::unique_ptr<RecordParser> NewFtmParser(std::istream* in,
                                           const ParserOptions& options);

// The authority code ([A-Z0-9-]{2,32}) for an issuer's name as sanction data
// writes it: "Office of Foreign Assets Control" -> "US-OFAC", "European
// Union" -> "EU"; an unknown name is upper-cased into a code ("Ministry of
// Defence" -> "MINISTRY-OF-DEFENCE", cut to 32). Empty for a blank name.
std::string AuthorityCode(absl::string_view issuer);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_FTM_PARSER_H_
