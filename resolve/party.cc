#include "resolve/party.h"

namespace georisk::resolve {

absl::string_view PartyKindName(PartyKind kind) {
  switch (kind) {
    case PartyKind::kCompany:
      return "company";
    case PartyKind::kFacility:
      return "facility";
    case PartyKind::kPerson:
      return "person";
    case PartyKind::kUnspecified:
      break;
  }
  return "unspecified";
}

}  // namespace georisk::resolve
