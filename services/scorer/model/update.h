// File: services/scorer/model/update.h
//
// Changing a State: bulk loading, and the incremental path that applies
// mutations and moves the evaluation date, then recomputes only what they
// reach (docs/scoring-model.md, "Incremental rescoring").
//
//   Updater up(&state, params);
//   up.SetAsOf(t);                         // windows that open or close
//   for (const v1::Mutation& m : change.mutations()) up.Apply(m);
//   UpdateResult r = up.Finish();          // rules, exposures, propagation
//
// The same code runs on a live state and on an overlay (scenarios).
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_UPDATE_H_
#define GEORISK_SERVICES_SCORER_MODEL_UPDATE_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "georisk/v1/graph.pb.h"
#include "services/scorer/model/exposure.h"
#include "services/scorer/model/propagate.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

struct UpdateResult {
  // Nodes whose survivals changed, once each, with their survivals before.
  std::vector<std::pair<Node, Triple>> changed;
  // Entities that did not exist (or were deleted) before.
  std::vector<Node> created;
  // Entities deleted.
  std::vector<Node> deleted;
  // For nodes created, revived or deleted: whether they existed before.
  absl::flat_hash_map<Node, bool> existed_before;
  // Direct survivals before, for nodes whose direct exposure changed.
  absl::flat_hash_map<Node, Triple> direct_before;
  PropagationStats stats;
};

class Updater {
 public:
  // `scratch`: reusable per-node arrays for a live state; null for an
  // overlay (its bookkeeping stays proportional to what it touches).
  Updater(State* st, const Params& p, PropagationScratch* scratch);

  // Moves the evaluation date: edges and signals whose windows open or
  // close between the old and the new date, and ownership rules that start,
  // stop or are suspended, are re-evaluated. Call before Apply().
  void SetAsOf(int64_t as_of_ns);

  // Applies one mutation as GraphStore did. A delete of something absent is
  // a no-op. Errors (nothing applied): FAILED_PRECONDITION when an upserted
  // edge names an entity that does not exist, INVALID_ARGUMENT when the
  // mutation has no kind or (overlays) upserts an entity.
  absl::Status Apply(const v1::Mutation& m);

  // Recomputes ownership rules, direct exposures and propagated scores for
  // what the calls above touched.
  UpdateResult Finish();

 private:
  void UpsertEntity(const v1::Entity& e);
  void DeleteEntity(Node v);
  // An edge record as GraphStore holds it: through the parties
  // (parties.h) when an end is a linked entity, else as it is.
  absl::Status UpsertRawEdge(const v1::Edge& e);
  void DeleteRawEdge(const v1::EdgeKey& k);
  // The model's (effective) records: ends are party primaries.
  absl::Status UpsertEdge(const v1::Edge& e);
  absl::Status UpsertEdgeRec(EdgeRec rec);
  void DeleteEdgeKey(const v1::EdgeKey& k);
  // Links: a change of the positive links regroups the parties of the
  // entities involved (Regroup), moving their edge records, listings and
  // link edges to the new primaries.
  void UpsertLink(const v1::Link& l);
  void DeleteLink(const v1::LinkKey& k);
  void Regroup(const std::vector<std::string>& seeds);
  // `raw` with its ends replaced by their primaries.
  v1::Edge Effective(const v1::Edge& raw) const;
  // Re-emits the effective record of key `effective` from the held raw
  // records that map to it (the greatest weight, then the smallest raw
  // key), or deletes it when none is left.
  void Reemit(const v1::Edge& effective);
  void DeleteEdgeSlot(Slot slot);
  // Recomputes which records of `key`'s pair outrank which (EdgeRec::
  // shadows), keeping propagation and events in step.
  void ResolvePair(const EdgeRec& key);
  void UpsertSignal(const v1::Signal& s);
  void DeleteSignal(const std::string& id);

  // Propagation weight of `e` at `t`, 0 when it carries nothing.
  double PropWeight(const EdgeRec& e, int64_t t) const;
  // Keeps pin/pout in step with a change of an edge's propagation weight.
  void OnPropChange(Slot slot, const EdgeRec& e, double before, double after);
  void AddEvents(Slot slot, const EdgeRec& e);
  void RemoveEvents(Slot slot, const EdgeRec& e);

  void Dirty(Node v) { dirty_.insert(v); }
  void DirtyFacilitiesOf(Node v);
  void DirtyEdge(const EdgeRec& e);
  void DirtySignal(const SignalRec& r);
  void DirtyRulesOfOwner(Node owner);

  State* st_;
  const Params& p_;
  const int64_t start_as_of_;
  Propagator prop_;
  absl::flat_hash_set<Node> dirty_;
  std::vector<bool> rules_dirty_;
  UpdateResult result_;
};

// Adds `r` to (or removes it from) the signal indexes of `st`.
void IndexSignal(State* st, const SignalRec& r, bool add);

// Fills a fresh live state with these records, evaluated at
// `as_of_ns`, and scores everything. Records that cannot apply (an edge to
// an unknown entity, a POSITIVE link naming one) are skipped and counted in
// `*skipped`. Links are applied after the rest, as one incremental update
// (parties.h).
PropagationStats BuildState(State* st, const Params& p,
                            std::vector<v1::Entity> entities,
                            std::vector<v1::Edge> edges,
                            std::vector<v1::Signal> signals, int64_t sequence,
                            int64_t as_of_ns, int64_t* skipped,
                            std::vector<v1::Link> links = {});

// Recomputes everything on the current live state: rules, direct exposures,
// the condensation and a full propagation, cold or warm from the current
// survivals (FullPropagate).
PropagationStats RescoreAll(State* st, const Params& p,
                            Start start = Start::kCold);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_UPDATE_H_
