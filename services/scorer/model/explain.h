// File: services/scorer/model/explain.h
//
// Scores and exact explanations built from a State (live or overlay).
//
// For factor f at entity v,
//   -ln(1 - R_f(v)) = sum over v's signals of their share of -ln(1 - d_f(v))
//                   + sum over in-edges (u -> v, w) of -ln(1 - w R_f(u)),
// so every contribution is an additive share of the score
// (docs/scoring-model.md, "Explanations").
//
// Thread-compatible: reads the state only.
#ifndef GEORISK_SERVICES_SCORER_MODEL_EXPLAIN_H_
#define GEORISK_SERVICES_SCORER_MODEL_EXPLAIN_H_

#include <cstdint>
#include <vector>

#include "georisk/v1/score.pb.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

// The Score of node v with direct survivals `d` and propagated survivals
// `s` (usually st.sd()[v] and st.s()[v]) at `sequence` and `as_of_ns`.
v1::Score MakeScore(const State& st, const Params& p, Node v, const Triple& d,
                    const Triple& s, int64_t sequence, int64_t as_of_ns);

// The contributions of factor index f (0..2) at v, largest log_odds first,
// fractions of the factor's total.
std::vector<v1::Contribution> Contributions(const State& st, const Params& p,
                                            Node v, int f);

// The contribution Explain(st, p, v, f, ...) lists first: the largest
// log_odds of factor f, or of all factors when f < 0 (ties: the lower
// factor), computed without the paths. Empty (no source) when nothing
// contributes.
v1::Contribution MainReason(const State& st, const Params& p, Node v, int f);

// The explanation of v: all factors when f < 0, else factor f. Paths follow
// the largest upstream share from each of the top `max_paths` upstream
// contributions, never revisiting an entity, for at most `max_depth` hops.
v1::Explanation Explain(const State& st, const Params& p, Node v, int f,
                        int max_paths, int max_depth, int64_t sequence);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_EXPLAIN_H_
