// File: services/scorer/record_provenance.h
//
// The provenance of the entities and edges an explanation names: who wrote
// the explained entity's current record and each edge's on its paths and in
// its largest upstream contributions (Entity.update_origin,
// Edge.update_origin), read from the scorer's copy of the graph
// (storage::GraphMirror) when the explanation is asked for. The model keeps
// no origin in memory (its 72-byte EdgeRec, issue 20): an explanation costs
// one RocksDB point read per record it names, at most
// 1 + kMaxUpstreamProvenance + paths x depth. Signals' provenance is the
// model's (DirectContribution.provenance).
//
//   absl::StatusOr<v1::Explanation> e = engine.Explain(...);
//   RETURN_IF_ERROR(AddRecordProvenance(*mirror, &*e));
//   // e->entity_provenance().summary(): "SME BANK via csl-ssi, fetched ..."
//
// The mirror may be a change or two ahead of the engine (the feed follower
// writes it first): a record changed meanwhile names the newer write. A
// record the mirror does not hold (during a replacement) gets none.
//
// Thread-safe: reads only; the mirror's reads take no lock.
#ifndef GEORISK_SERVICES_SCORER_RECORD_PROVENANCE_H_
#define GEORISK_SERVICES_SCORER_RECORD_PROVENANCE_H_

#include "absl/status/status.h"
#include "georisk/v1/score.pb.h"
#include "storage/graph_mirror.h"

namespace georisk::scorer {

// The upstream contributions, largest first, that get edge_provenance.
inline constexpr int kMaxUpstreamProvenance = 100;

// Sets explanation->entity_provenance and the edge_provenance of the first
// kMaxUpstreamProvenance upstream contributions and of every path hop that
// has an edge key, for each record whose mirror copy has an update_origin.
// Errors: the mirror's, but NOT_FOUND (a record it does not hold is left
// without provenance).
absl::Status AddRecordProvenance(const storage::GraphMirror& mirror,
                                 v1::Explanation* explanation);

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_RECORD_PROVENANCE_H_
