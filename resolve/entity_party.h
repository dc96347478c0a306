// File: resolve/entity_party.h
//
// The bridge from the graph's georisk.v1.Entity to resolve's Party, so that
// graphstore, ingest and the scorer can index and query their entities.
//
//   v1::Entity e = ...;  // company/smic, name, aliases, identifiers
//   Party p = PartyFromEntity(e);
//   RETURN_IF_ERROR(index.Upsert(p));
//
// Mapping: id, name, aliases, country and identifiers are copied; COMPANY
// becomes kCompany, FACILITY kFacility, a PERSON kind (when the proto has
// one) kPerson, anything else kUnspecified.
//
// Thread safety: a pure function.
#ifndef GEORISK_RESOLVE_ENTITY_PARTY_H_
#define GEORISK_RESOLVE_ENTITY_PARTY_H_

#include "georisk/v1/graph.pb.h"
#include "resolve/party.h"

namespace georisk::resolve {

Party PartyFromEntity(const v1::Entity& entity);

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_ENTITY_PARTY_H_
