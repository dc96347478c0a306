// File: services/scorer/model/propagate.h
//
// The propagation kernel (noisy-OR along weighted in-edges) and its two
// drivers: a full pass over every comp in key order, and an incremental pass
// that recomputes only what a change reaches, comp by comp in key order and
// in sweeps over each cycle's members,
// stopping where no factor moves by the tolerance (docs/scoring-model.md,
// "Propagation" and "Incremental rescoring").
//
//   Propagator run(&state, params, &scratch);
//   run.Seed(v);              // v's direct exposure or in-edges changed
//   run.Run();
//   for (const auto& [node, before] : run.TakeChanged()) ...
//
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_
#define GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

struct Evaluation {
  Triple s;             // 1 - R_f(v) from the current inputs.
  double up_ec = 1;     // Export-control product over in-edges...
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
  // Cycles a warm FullPropagate started from the current survivals (the
  // others started cold).
  int64_t warm_cycles = 0;
  // Phases of a full rescore (RescoreAll); zero for incremental updates.
  absl::Duration rules_and_direct;
  absl::Duration condensation;
  absl::Duration propagation;
};

// Where a full propagation starts its cycles' sweeps from.
enum class Start {
  kCold,  // R = 0 everywhere: iterations climb to the least fixed point.
  // The current survivals, wherever the least fixed point is provably the
  // only one the sweeps can reach from there (propagate.cc,
  // WarmStartCycle); cold elsewhere. Needs one survival per node.
  kWarm,
};

// Recomputes every node's survival (from R = 0, or warm from the current
// survivals, converging to the same least fixed point within the
// tolerance) in key order, sweeping each cycle in its members' order until
// it settles, then every comp's input counters. Live state only.
PropagationStats FullPropagate(State* st, const Params& p,
                               Start start = Start::kCold);

// Per-node scratch arrays reused across incremental runs on a live state
// (an overlay's run uses hash maps instead, to stay proportional to what it
// touches). Owned by the engine; one run at a time.
// Queued members of a cycle, as bits by position in its members' order:
// `now` for the sweep under way, `later` for the next one.
struct CycleSweep {
  std::vector<uint64_t> now;
  std::vector<uint64_t> later;
  bool again = false;
};

struct PropagationScratch {
  std::vector<uint8_t> queued;
  std::vector<int32_t> changed_at;  // Index into the run's changed list.
  // Buffers kept from run to run, so that a run allocates nothing large.
  std::vector<CycleSweep> spare_sweeps;
  std::vector<std::pair<int64_t, Node>> heap;
};

class Propagator {
 public:
  // `scratch` may be null (sparse bookkeeping, for overlays).
  Propagator(State* st, const Params& p, PropagationScratch* scratch);

  // Marks v for re-evaluation (its direct exposure, listing or in-edges
  // changed). Before Run(), seeds are only collected: the condensation may
  // still change.
  void Seed(Node v);
  // Seeds every propagation successor of v.
  void SeedSuccessors(Node v);
  // Recomputes until nothing moves by the tolerance.
  void Run();

  // Every node whose survival changed, once, with its survival before the
  // run, in the order they first changed (moved out: call once, after Run).
  std::vector<std::pair<Node, Triple>> TakeChanged() {
    return std::move(changed_);
  }
  const PropagationStats& stats() const { return stats_; }

 private:
  using Sweep = CycleSweep;

  // Queues v: a singleton comp under its key; a member of a cycle as a bit
  // of that cycle's sweep (and the cycle under its key, once).
  void Enqueue(Node v);
  bool Queued(Node v) const;
  void SetQueued(Node v, bool queued);
  // Writes the factors of `e` that moved by the tolerance (or crossed zero,
  // or all when `force`); adjusts counters, seeds successors. Returns whether
  // anything was written.
  bool Commit(Node v, const Evaluation& e, bool force);
  // First visit of comp c in this run: recompute-from-zero for an overlay
  // comp that lost an internal edge, and the least fixed point 0 for a
  // factor without inputs.
  void EnterComp(Comp c);
  // Runs the Gauss-Seidel sweeps of cycle c over its queued members, in
  // their order, until none is queued (or its evaluation budget is spent).
  void SweepComp(Comp c, Sweep sweep);
  // Evaluates v (one unit of the current comp's budget) and commits.
  void Visit(Node v);
  void RecordChange(Node v, const Triple& before);

  State* st_;
  const Params& p_;
  PropagationScratch* scratch_;
  bool running_ = false;
  std::vector<Node> early_seeds_;
  // Min-heap of (comp key, node): singleton comps, and one member of each
  // cycle with queued members (the cycle's queue is its Sweep).
  std::vector<std::pair<int64_t, Node>> heap_;
  absl::flat_hash_map<Comp, Sweep> sweeps_;
  absl::flat_hash_set<Node> queued_sparse_;
  absl::flat_hash_map<Node, size_t> changed_sparse_;
  std::vector<std::pair<Node, Triple>> changed_;
  Comp current_ = kNone;
  // While a cycle is swept: its queue, the position being evaluated (-1
  // before the sweep's first), its members and the first of them (a member
  // v with members[v - first_] == v needs no lookup to find its place).
  Sweep* sweep_ = nullptr;
  int64_t current_pos_ = -1;
  const std::vector<Node>* members_ = nullptr;
  Node first_ = 0;
  size_t size_ = 0;
  int64_t current_evaluations_ = 0;
  int64_t current_limit_ = 0;
  PropagationStats stats_;
};

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_PROPAGATE_H_
