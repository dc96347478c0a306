// File: services/scorer/model/propagate.h
//
// The propagation kernel (noisy-OR along weighted in-edges) and its two
// drivers: a full pass over every comp in key order, and an incremental pass
// that recomputes only what a change reaches, comp by comp in key order,
// stopping where no factor moves by the tolerance (docs/scoring-model.md,
// "Propagation" and "Incremental rescoring").
//
//   Propagator run(&state, params);
//   run.Seed(v);              // v's direct exposure or in-edges changed
//   run.Run();
//   for (auto& [node, before] : run.changed()) ...
//
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_
#define GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_

#include <cstdint>
#include <queue>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

struct Evaluation {
  Triple s;           // 1 - R_f(v) from the current inputs.
  double up_ec = 1;   // Export-control product over in-edges...
  bool has_up = false;  // ... when computed from them.
};

// R(v) from sd(v) and the current survivals of v's propagation in-edges:
//   s_f(v) = sd_f(v) * prod over in-edges (1 - w (1 - s_f(u))),
// held at kMinSurvival or above. For export controls, an in-edge from a node
// with derived listings drops those of authorities v is itself listed by
// ("Listings are not counted twice").
Evaluation Evaluate(const State& st, Node v);

// The export-control survival of u as seen by v (see Evaluate).
double SurvivalSeenBy(const State& st, Node u, Node v);

struct PropagationStats {
  int64_t evaluations = 0;
  // Comps whose fixed-point iteration hit max_iterations * size.
  int64_t unconverged_comps = 0;
  // Phases of a full rescore (RescoreAll); zero for incremental updates.
  absl::Duration rules_and_direct;
  absl::Duration condensation;
  absl::Duration propagation;
};

// Recomputes every node's survival from scratch (starting from R = 0, i.e.
// the least fixed point) in key order, then every comp's input counters.
// Live state only.
PropagationStats FullPropagate(State* st, const Params& p);

class Propagator {
 public:
  Propagator(State* st, const Params& p) : st_(st), p_(p) {}

  // Marks v for re-evaluation (its direct exposure, listing or in-edges
  // changed). Before Run(), seeds are only collected: the condensation may
  // still change.
  void Seed(Node v);
  // Seeds every propagation successor of v.
  void SeedSuccessors(Node v);
  // Recomputes until nothing moves by the tolerance.
  void Run();

  // Sets v's survivals to 1 (no risk) at once, as for a deleted entity.
  void Clear(Node v);

  // Every node whose survival changed, with its survival before the run.
  const absl::flat_hash_map<Node, Triple>& changed() const { return changed_; }
  const PropagationStats& stats() const { return stats_; }

 private:
  // Writes the factors of `e` that moved by the tolerance (or crossed zero,
  // or all when `force`); adjusts counters, seeds successors. Returns whether
  // anything was written.
  bool Commit(Node v, const Evaluation& e, bool force);
  void SolveComp(Comp c);

  // Queues v under its comp (during Run()).
  void Enqueue(Node v);

  State* st_;
  const Params& p_;
  bool running_ = false;
  std::vector<Node> early_seeds_;
  std::priority_queue<std::pair<int64_t, Comp>,
                      std::vector<std::pair<int64_t, Comp>>,
                      std::greater<std::pair<int64_t, Comp>>>
      heap_;
  absl::flat_hash_map<Comp, std::vector<Node>> pending_;
  absl::flat_hash_set<Node> in_pending_;
  absl::flat_hash_set<Comp> reset_;  // Overlay comps recomputed from zero.
  absl::flat_hash_map<Node, Triple> changed_;
  PropagationStats stats_;
};

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_
