// File: services/scorer/model/exposure.h
//
// Direct exposure d_f(v): the model's rules for export controls, tariffs and
// cross-strait tension (docs/scoring-model.md, "Direct exposure"), and the
// ownership-rule closure that extends listings to owned companies.
//
//   ExposureCache cache(state, params);      // after signals/rules settle
//   Direct d = ComputeDirect(state, params, v, &cache, /*apps=*/nullptr);
//
// Everything here reads the state at state.as_of_ns and writes nothing.
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_EXPOSURE_H_
#define GEORISK_SERVICES_SCORER_MODEL_EXPOSURE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

// One signal's share of a node's direct exposure to one factor, for
// explanations.
struct App {
  int factor = 0;
  std::string signal_id;
  std::string rule;         // DirectContribution.rule.
  std::string description;  // Contribution.description.
  // Export controls: this signal's exposure, combined by noisy-OR. Tariffs
  // and tension: this part's additive term of d (before the cap at 1).
  double exposure = 0;
  bool additive = false;
};

struct Direct {
  Triple sd;  // 1 - d_f, at least kMinSurvival.
  bool has_listing = false;
  ListingInfo listing;  // up_survival left at 1.
};

// The winning rule of one tariff programme on one line.
struct TariffHit {
  const SignalRec* signal;
};

// Per-phase lookups shared by many ComputeDirect calls. Built from the state
// once its signals and ownership rules are final for the phase; invalid after
// any further change to them. Pointers to signals stay valid until then.
class ExposureCache {
 public:
  // `eager_candidates`: index every listing candidate up front (for passes
  // over many nodes); otherwise each ListingCandidate() looks it up.
  ExposureCache(const State& st, const Params& p, bool eager_candidates = true);

  // The tension signal in force ("cross_strait", latest effective_from,
  // then smallest id), or nullptr.
  const SignalRec* tension() const { return tension_; }
  // Its country weight for `country` (signal's map, else the defaults).
  double TensionWeight(uint16_t country) const;
  const std::vector<const SignalRec*>& destination_controls() const {
    return destination_controls_;
  }
  bool ImporterHasTariffs(uint16_t importer) const {
    return importers_.contains(importer);
  }
  // The winners on (importer, origin, product), one per programme, memoised.
  const std::vector<TariffHit>& TariffHits(uint16_t importer, uint16_t origin,
                                           uint32_t product);
  // Nodes some export control targets, or that belong to a rule closure.
  bool ListingCandidate(Node v) const;

 private:
  const State& st_;
  const Params& p_;
  const SignalRec* tension_ = nullptr;
  std::vector<const SignalRec*> destination_controls_;
  absl::flat_hash_set<uint16_t> importers_;
  absl::flat_hash_map<uint64_t, std::vector<TariffHit>> tariff_memo_;
  const bool eager_;
  absl::flat_hash_set<Node> candidates_;
};

// d_f(v) for the three factors, and the node's listing status. When `apps`
// is not null, also appends one App per signal (per part, for additive
// factors) with its wording. A dead node has no exposure.
Direct ComputeDirect(const State& st, const Params& p, Node v,
                     ExposureCache* cache, std::vector<App>* apps);

// The closure of ownership rule `r` (Params::rules[r]) at st.as_of_ns(): the
// companies listed by the rule's authority and every company owned
// threshold or more, in aggregate and through chains, by members (least
// fixed point: a cycle of companies owning each other does not qualify
// itself). Empty and inactive outside the rule's windows.
RuleState ComputeRule(const State& st, const Params& p, int r);

// True when product code `code` falls under HS prefix `prefix` (every code
// falls under the empty prefix; an empty code only under it).
bool HsMatches(absl::string_view prefix, absl::string_view code);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_EXPOSURE_H_
