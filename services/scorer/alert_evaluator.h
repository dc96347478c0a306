// File: services/scorer/alert_evaluator.h
//
// AlertEvaluator turns live score changes into alert records. An alert is
// identified by (entity, rule); it FIRES, may be UPDATED (a new FIRING record
// with the latest scores), and RESOLVES. Rules (georisk.v1.AlertRule, from
// the model config):
//
//   - band crossing: fires when the watched score enters `min_band` or above
//     (a change from below the band's threshold, from outside the rule's
//     scope, or a new entity: a score already in the band that moves inside
//     it, e.g. one in the band at the scorer's first full score, does not);
//     resolves only when it falls more than `hysteresis` points below that
//     band's threshold, so a score hovering at a boundary does not flap;
//     updates when the band changes while firing.
//   - jump: fires when the watched score moves by at least `min_points` in
//     one change (either direction); further jumps update it; resolves after
//     `resolve_after` without a jump.
//
// The watched score is the composite (0..100) or, for a rule with a factor,
// that factor's propagated score × 100. A rule's scope (entity kinds,
// countries, an explicit watch list) limits the entities it watches.
//
// Coalescing: fires and resolutions are emitted at once; updates to one alert
// within the rule's `coalesce_window` of its last record are held and the
// latest one is emitted when the window ends (Tick), so a burst of changes
// yields one fire and at most one update per window. The caller stores what
// is held (TakeHeld) with the records, and hands it back to Restore after a
// restart, so a held update is emitted even when the scorer restarts within
// the window.
//
// The evaluator holds no clock: every call takes `now`. Not thread-safe; the
// caller serialises calls.
//
//   AlertEvaluator evaluator(rules, bands);
//   evaluator.Restore(log.Active(), log.Held()); // after a restart
//   auto records = evaluator.OnScoreChanges(changes, seq, now, reasons);
//   log.Append(records, evaluator.TakeHeld());
//   records = evaluator.Tick(now);              // every second or so
#ifndef GEORISK_SERVICES_SCORER_ALERT_EVALUATOR_H_
#define GEORISK_SERVICES_SCORER_ALERT_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "georisk/v1/alert.pb.h"
#include "georisk/v1/model.pb.h"
#include "georisk/v1/score.pb.h"

namespace georisk::scorer {

class AlertEvaluator {
 public:
  // The top reasons of an entity's score, readable; called only for alerts
  // about to be emitted.
  using ReasonsFn = std::function<std::vector<std::string>(
      const std::string& entity_id, v1::Factor factor)>;

  // The rules used when the model config has none: composite enters high,
  // composite enters critical, composite jumps by 10 points.
  static std::vector<v1::AlertRule> DefaultRules();

  // Checks names (unique, [a-z0-9_]{1,64}), conditions, thresholds and
  // scopes. Errors are INVALID_ARGUMENT naming the field, e.g.
  // "alert_rules[1].band_crossing.hysteresis: must be >= 0".
  static absl::Status ValidateRules(const std::vector<v1::AlertRule>& rules);

  // `rules` must be valid; empty means DefaultRules().
  AlertEvaluator(std::vector<v1::AlertRule> rules, v1::BandThresholds bands,
                 std::string model_version);

  const std::vector<v1::AlertRule>& rules() const { return rules_; }

  // Re-creates the state of alerts that were firing (their last records in
  // the log) and the updates they held (TakeHeld's, as stored), so that a
  // restart neither re-fires nor forgets them. A held update is due when its
  // rule's coalesce window after the alert's last record ends (at once if
  // that is past); one whose alert is not in `firing` is ignored.
  void Restore(const std::vector<v1::Alert>& firing,
               const std::vector<v1::Alert>& held = {});

  // Evaluates every rule on every change. Returns the records to write, in
  // order.
  std::vector<v1::Alert> OnScoreChanges(
      const std::vector<v1::ScoreChange>& changes, int64_t graph_sequence,
      absl::Time now, const ReasonsFn& reasons);

  // Emits held updates whose window ended and resolves jump alerts idle for
  // their rule's resolve_after.
  std::vector<v1::Alert> Tick(absl::Time now);

  // The updates held since the last call (by OnScoreChanges) and still
  // held now: the latest held record of each such alert, sorted by
  // alert_id. An alert whose held update was emitted or dropped since has a
  // record among those returned meanwhile, which ends its held update.
  std::vector<v1::Alert> TakeHeld();

  // Alerts currently firing.
  int firing() const { return static_cast<int>(states_.size()); }

 private:
  struct State {
    v1::Alert last;        // The last record emitted.
    bool pending = false;  // An update is held...
    v1::Alert held;        // ...with these values...
    absl::Time due;        // ...to be emitted then.
    absl::Time last_jump;  // Jump rules: the last qualifying move.
  };

  double Watched(const v1::Score& score, const v1::AlertRule& rule) const;
  double Threshold(v1::Band band) const;
  v1::Band BandOf(double score) const;
  bool InScope(const v1::Score& score, const v1::AlertRule& rule) const;
  v1::Alert MakeRecord(const v1::AlertRule& rule, const v1::ScoreChange& c,
                       v1::Alert::State state, int64_t graph_sequence,
                       absl::Time now, const ReasonsFn& reasons) const;
  void Evaluate(const v1::AlertRule& rule, const v1::ScoreChange& change,
                int64_t graph_sequence, absl::Time now,
                const ReasonsFn& reasons, std::vector<v1::Alert>* out);

  std::vector<v1::AlertRule> rules_;
  v1::BandThresholds bands_;
  std::string model_version_;
  // Firing alerts by alert_id ("<entity_id>|<rule_name>").
  std::map<std::string, State> states_;
  // Alerts whose held update changed since the last TakeHeld().
  std::set<std::string> held_changed_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_ALERT_EVALUATOR_H_
