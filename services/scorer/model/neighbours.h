// File: services/scorer/model/neighbours.h
//
// An entity's edges in the compiled graph, with the entity at the other end
// of each and whether exposure flows over it now: Scorer.ListNeighbours
// (scorer.proto), which the console's entity page draws.
//
//   absl::StatusOr<v1::ListNeighboursResponse> page = ListNeighbours(
//       state, params, node, {"company/a", v1::DIRECTION_BOTH, {}, 100, ""});
//
// Thread-compatible: reads the state only.
#ifndef GEORISK_SERVICES_SCORER_MODEL_NEIGHBOURS_H_
#define GEORISK_SERVICES_SCORER_MODEL_NEIGHBOURS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/graphstore.pb.h"
#include "georisk/v1/scorer.pb.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

struct NeighbourQuery {
  // The entity's id (the node's), part of every page token.
  std::string entity_id;
  // DIRECTION_UNSPECIFIED means DIRECTION_OUTBOUND (as GraphStore).
  v1::Direction direction = v1::DIRECTION_UNSPECIFIED;
  // Empty: every kind.
  std::vector<v1::Edge::Kind> kinds;
  // 1..1000 (the service applies the default and the maximum).
  int page_size = 100;
  std::string page_token;
};

// One page of node v's live edges (stored direction; a party's link edges
// left out), ordered by direction (inbound first), kind, the other entity's
// id, product code and record id. Tokens are cursors: the next page starts
// strictly after the last edge of this one, so an edge added or removed
// between pages moves no other. Errors: INVALID_ARGUMENT "direction: ...",
// "kinds[i]: ..." (unknown value), "page_token: ..." (corrupt, or from
// another entity, direction or kinds).
absl::StatusOr<v1::ListNeighboursResponse> ListNeighbours(
    const State& st, const Params& p, Node v, const NeighbourQuery& q);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_NEIGHBOURS_H_
