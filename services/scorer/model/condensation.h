// File: services/scorer/model/condensation.h
//
// The condensation of the propagation graph: strongly connected components
// ("comps") with integer keys that increase along every edge, kept up to
// date as edges come and go, and each comp's input counters (state.h).
//
//   BuildCondensation(&state);          // Tarjan over everything (live)
//   AddPropEdge(&state, u, v, slot, w);  // Pearce-Kelly reorder / merge
//   RemovePropEdge(&state, u, v, slot);  // may mark a comp kCompNeedsSplit
//   SplitMarkedComps(&state, &seeds);    // live: exact re-split
//
// Tarjan's algorithm is iterative (an explicit stack), so a chain of a
// million nodes cannot overflow the call stack.
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_CONDENSATION_H_
#define GEORISK_SERVICES_SCORER_MODEL_CONDENSATION_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

// Strongly connected components of the subgraph of st.pout() induced by
// `nodes` (every node when `all` is true), emitted in reverse topological
// order: an SCC is emitted after every SCC it reaches. Each SCC's nodes come
// in reverse postorder of the search.
void StronglyConnected(const State& st, absl::Span<const Node> nodes, bool all,
                       const std::function<void(std::vector<Node>&)>& emit);

// Reorders the members of one strongly connected component so that few of
// its internal edges point backwards (Eades, Lin and Smyth's greedy
// heuristic for feedback arc sets, linear time): sweeping a cycle in this
// order settles it in few passes. `local` must hold -1 for every node (size
// node_count()); it is restored before returning. Leaves small SCCs alone.
void OrderForFewBackEdges(const State& st, std::vector<Node>* scc,
                          std::vector<int32_t>* local);

// Live state: recomputes every comp and key from scratch; input counters
// are zeroed (ComputeAllInputs fills them once scores are known).
void BuildCondensation(State* st);

// Recounts every comp's inputs (O(nodes + edges)).
void ComputeAllInputs(State* st);

// Adds a propagation edge u -> v (slot, weight w) to st->pin()/pout and keeps
// the condensation and counters valid: a cross-comp edge against the key
// order reorders the affected comps (Pearce-Kelly) and merges those it puts
// on a cycle.
void AddPropEdge(State* st, Node u, Node v, Slot slot, double w);

// Removes that edge. An edge inside a comp marks it kCompNeedsSplit.
void RemovePropEdge(State* st, Node u, Node v, Slot slot);

// Changes the weight of an existing propagation edge u -> v (both stay > 0).
void ReweightPropEdge(State* st, Node u, Node v, Slot slot, double w);

// Live state: splits every comp marked kCompNeedsSplit into its strongly
// connected components (Tarjan over its members), with keys in its gap.
void SplitMarkedComps(State* st);

// A new singleton comp for a new node (live), keyed after every other.
void AddSingletonComp(State* st, Node v);

// Adds `delta` to the input counter of factor f of comp(v) for every
// propagation out-edge of u whose target is in another comp.
void AdjustOutInputs(State* st, Node u, int f, int delta);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_CONDENSATION_H_
