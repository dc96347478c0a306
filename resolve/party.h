// File: resolve/party.h
//
// Party: what entity resolution compares, a plain struct with no protos
// (resolve/entity_party.h makes one from a georisk.v1.Entity).
//
//   Party p;
//   p.id = "company/smic";
//   p.kind = PartyKind::kCompany;
//   p.name = "Semiconductor Manufacturing International Corporation";
//   p.aliases = {"SMIC", "中芯国际集成电路制造有限公司"};
//   p.country = "CN";
//   p.identifiers = {{"lei", "..."}, {"ticker", "0981.HK"}};
//
// Thread safety: a value type.
#ifndef GEORISK_RESOLVE_PARTY_H_
#define GEORISK_RESOLVE_PARTY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace georisk::resolve {

enum class PartyKind {
  kUnspecified,  // compatible with every kind
  kCompany,
  kFacility,
  kPerson,
};

// "company", "facility", "person", "unspecified".
absl::string_view PartyKindName(PartyKind kind);

struct Party {
  // The party's id in its source ("company/csl-sdn-46001"). Required in an
  // index; ignored in a query.
  std::string id;
  PartyKind kind = PartyKind::kUnspecified;
  // Display name, any script.
  std::string name;
  // Other names, any script.
  std::vector<std::string> aliases;
  // ISO 3166-1 alpha-2, upper case; empty when unknown.
  std::string country;
  // By scheme (resolve/identifiers.h); values as the source wrote them.
  std::map<std::string, std::string> identifiers;
};

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_PARTY_H_
