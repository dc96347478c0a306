// File: formats/ftm_parser.h
//
// The parser of FollowTheMoney entities as OpenSanctions publishes them: JSON
// lines {"id", "caption", "schema", "properties": {name: [values]...},
// "datasets"} (docs/formats.md has the whole mapping):
//
//   Company, Organization, LegalEntity, PublicBody -> a COMPANY entity
//       "company/ftm-<slug of id>", name from `caption` (else the first
//       `name`), the other names as aliases, country from jurisdiction,
//       country or mainCountry when one names a country (optional);
//   Person -> a PERSON entity "person/ftm-<slug of id>", country from
//       nationality, citizenship, country (optional), identifiers (tax
//       number, passport, id number, wikidata...);
//   Ownership -> an OWNS edge owner -> asset (a person owner is a person),
//       weight = percentage / 100 (ParsePercent: "51", "51,5", ">50",
//       "50-75%"...), startDate/endDate as its validity window, the FtM id as
//       its record_id: several dated records of one pair are each an edge;
//   Sanction  -> an ENTITY_LISTING export control "signal/ftm-<slug of id>"
//       on the sanctioned entity or person, its authority and measure from
//       authorities.h (every `authority` value, programId, country, dataset).
//
// Any other schema is rejected: "unknown schema \"Address\"". A property
// whose value is not a string or an array of strings ([["x"]]) rejects its
// record. A relation whose endpoint was rejected earlier in the same pass is
// rejected with that endpoint's reason; a repeated id is a warning (the
// later record replaces the earlier). A relation's endpoint not seen before
// it in the file is taken as a company.
//
// Ownerships may come before the companies they link: read the file with
// FtmPass::kNodes, then again with FtmPass::kOwnerships (record_parser.h);
// the second pass reads every record again to learn which ids are persons
// and which were rejected, and reports only Ownerships.
//
//   auto parser = NewFtmParser(&file, {});
//
// Not thread-safe (see record_parser.h).
#ifndef GEORISK_FORMATS_FTM_PARSER_H_
#define GEORISK_FORMATS_FTM_PARSER_H_

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "formats/record_parser.h"

namespace georisk::formats {

std::unique_ptr<RecordParser> NewFtmParser(std::istream* in,
                                           const ParserOptions& options);

// The parser of OpenSanctions delta files (entities.delta.json): JSON lines
// {"op": "ADD" | "MOD" | "DEL", "entity": {...}}. ADD and MOD map the entity
// as NewFtmParser does (fields are reported as "entity.properties...."), and
// are upserts; DEL {"entity": {"id": X}} becomes the deletes of everything X
// can have made: delete_entity_id "company/ftm-<slug>" and
// "person/ftm-<slug>" (with their edges) and delete_signal_id
// "signal/ftm-<slug>", each a no-op when absent. An empty file is a version
// with no change. Limitation: the DEL of an Ownership names no endpoints, so
// its edge is not deleted (needs a lookup of edges by record_id in
// GraphStore).
std::unique_ptr<RecordParser> NewFtmDeltaParser(std::istream* in,
                                                const ParserOptions& options);

// One version of an OpenSanctions delta index (delta.json).
struct DeltaVersion {
  std::string version;  // "20240527194702-wnk": sorts in time order.
  std::string url;      // Its entities.delta.json.
};

// The versions of a delta index {"versions": {version: url}, "updated_at"}
// that come after `after` (all of them when `after` is empty), oldest first:
// what a scheduled source still has to apply. Errors: InvalidArgument
// naming what is malformed.
absl::StatusOr<std::vector<DeltaVersion>> DeltaVersionsAfter(
    absl::string_view index_json, absl::string_view after);

}  // namespace georisk::formats

#endif  // GEORISK_FORMATS_FTM_PARSER_H_
