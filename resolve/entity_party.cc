#include "resolve/entity_party.h"

#include <string>

namespace georisk::resolve {

Party PartyFromEntity(const v1::Entity& entity) {
  Party p;
  p.id = entity.id();
  switch (entity.kind()) {
    case v1::Entity::COMPANY:
      p.kind = PartyKind::kCompany;
      break;
    case v1::Entity::FACILITY:
      p.kind = PartyKind::kFacility;
      break;
    case v1::Entity::PERSON:
      p.kind = PartyKind::kPerson;
      break;
    default:
      p.kind = PartyKind::kUnspecified;
      break;
  }
  p.name = entity.name();
  p.aliases.assign(entity.aliases().begin(), entity.aliases().end());
  p.country = entity.country();
  for (const auto& [scheme, value] : entity.identifiers()) {
    p.identifiers.emplace(scheme, value);
  }
  return p;
}

}  // namespace georisk::resolve
