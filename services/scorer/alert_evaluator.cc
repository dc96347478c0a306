#include "services/scorer/alert_evaluator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "domain/country_codes.h"

namespace georisk::scorer {
namespace {

absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(d));
}

constexpr absl::Duration kDefaultResolveAfter = absl::Hours(1);

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<v1::AlertRule> AlertEvaluator::DefaultRules() {
  std::vector<v1::AlertRule> rules(3);
  rules[0].set_name("risk_band_high");
  rules[0].mutable_band_crossing()->set_min_band(v1::BAND_HIGH);
  rules[0].mutable_band_crossing()->set_hysteresis(2);
  rules[0].set_severity(v1::SEVERITY_WARNING);
  SetDuration(absl::Seconds(30), rules[0].mutable_coalesce_window());
  rules[1].set_name("risk_band_critical");
  rules[1].mutable_band_crossing()->set_min_band(v1::BAND_CRITICAL);
  rules[1].mutable_band_crossing()->set_hysteresis(2);
  rules[1].set_severity(v1::SEVERITY_CRITICAL);
  SetDuration(absl::Seconds(30), rules[1].mutable_coalesce_window());
  rules[2].set_name("risk_jump");
  rules[2].mutable_jump()->set_min_points(10);
  SetDuration(absl::Hours(1), rules[2].mutable_jump()->mutable_resolve_after());
  rules[2].set_severity(v1::SEVERITY_INFO);
  SetDuration(absl::Seconds(30), rules[2].mutable_coalesce_window());
  return rules;
}

absl::Status AlertEvaluator::ValidateRules(
    const std::vector<v1::AlertRule>& rules) {
  std::set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    const v1::AlertRule& r = rules[i];
    std::string at = absl::StrCat("alert_rules[", i, "]");
    auto bad = [&](absl::string_view field, absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".", field, ": ", why));
    };
    if (!ValidName(r.name())) return bad("name", "must match [a-z0-9_]{1,64}");
    if (!names.insert(r.name()).second) return bad("name", "duplicate");
    if (!v1::Factor_IsValid(r.factor())) return bad("factor", "unknown value");
    if (!v1::Severity_IsValid(r.severity())) {
      return bad("severity", "unknown value");
    }
    if (r.coalesce_window().seconds() < 0) {
      return bad("coalesce_window", "must not be negative");
    }
    switch (r.condition_case()) {
      case v1::AlertRule::kBandCrossing: {
        const auto& b = r.band_crossing();
        if (b.min_band() == v1::BAND_UNSPECIFIED ||
            b.min_band() == v1::BAND_LOW || !v1::Band_IsValid(b.min_band())) {
          return bad("band_crossing.min_band",
                     "must be BAND_MEDIUM, BAND_HIGH or BAND_CRITICAL");
        }
        if (!(b.hysteresis() >= 0 && b.hysteresis() < 100)) {
          return bad("band_crossing.hysteresis", "must be in [0, 100)");
        }
        break;
      }
      case v1::AlertRule::kJump:
        if (!(r.jump().min_points() > 0 && r.jump().min_points() <= 100)) {
          return bad("jump.min_points", "must be in (0, 100]");
        }
        if (r.jump().resolve_after().seconds() < 0) {
          return bad("jump.resolve_after", "must not be negative");
        }
        break;
      case v1::AlertRule::CONDITION_NOT_SET:
        return bad("condition", "band_crossing or jump required");
    }
    for (int k = 0; k < r.scope().entity_kinds_size(); ++k) {
      if (!v1::Entity::Kind_IsValid(r.scope().entity_kinds(k)) ||
          r.scope().entity_kinds(k) == v1::Entity::KIND_UNSPECIFIED) {
        return bad(absl::StrCat("scope.entity_kinds[", k, "]"),
                   "unknown value");
      }
    }
    for (int k = 0; k < r.scope().countries_size(); ++k) {
      if (!domain::IsIso3166Alpha2(r.scope().countries(k))) {
        return bad(absl::StrCat("scope.countries[", k, "]"),
                   "not an ISO 3166-1 alpha-2 code");
      }
    }
  }
  return absl::OkStatus();
}

AlertEvaluator::AlertEvaluator(std::vector<v1::AlertRule> rules,
                               v1::BandThresholds bands,
                               std::string model_version)
    : rules_(rules.empty() ? DefaultRules() : std::move(rules)),
      bands_(std::move(bands)),
      model_version_(std::move(model_version)) {
  if (bands_.medium() == 0 && bands_.high() == 0 && bands_.critical() == 0) {
    bands_.set_medium(30);
    bands_.set_high(60);
    bands_.set_critical(80);
  }
}

void AlertEvaluator::Restore(const std::vector<v1::Alert>& firing,
                             const std::vector<v1::Alert>& held) {
  for (const v1::Alert& a : firing) {
    State& s = states_[a.alert_id()];
    s.last = a;
    s.last_jump = base::FromProtoTime(a.update_time());
  }
  std::map<std::string, const v1::AlertRule*> by_name;
  for (const v1::AlertRule& r : rules_) by_name[r.name()] = &r;
  for (const v1::Alert& h : held) {
    auto it = states_.find(h.alert_id());
    if (it == states_.end()) continue;
    State& s = it->second;
    auto rule = by_name.find(s.last.rule_name());
    absl::Duration window =
        rule == by_name.end()
            ? absl::ZeroDuration()
            : FromProtoDuration(rule->second->coalesce_window());
    s.pending = true;
    s.held = h;
    s.due = base::FromProtoTime(s.last.update_time()) + window;
    // A held jump counts as the alert's last jump.
    if (rule != by_name.end() && rule->second->has_jump()) {
      s.last_jump = std::max(s.last_jump, base::FromProtoTime(h.update_time()));
    }
  }
}

std::vector<v1::Alert> AlertEvaluator::TakeHeld() {
  std::vector<v1::Alert> out;
  for (const std::string& id : held_changed_) {
    auto it = states_.find(id);
    if (it != states_.end() && it->second.pending) {
      out.push_back(it->second.held);
    }
  }
  held_changed_.clear();
  return out;
}

double AlertEvaluator::Threshold(v1::Band band) const {
  switch (band) {
    case v1::BAND_MEDIUM:
      return bands_.medium();
    case v1::BAND_HIGH:
      return bands_.high();
    case v1::BAND_CRITICAL:
      return bands_.critical();
    default:
      return 0;
  }
}

v1::Band AlertEvaluator::BandOf(double score) const {
  if (score >= bands_.critical()) return v1::BAND_CRITICAL;
  if (score >= bands_.high()) return v1::BAND_HIGH;
  if (score >= bands_.medium()) return v1::BAND_MEDIUM;
  return v1::BAND_LOW;
}

double AlertEvaluator::Watched(const v1::Score& score,
                               const v1::AlertRule& rule) const {
  if (rule.factor() == v1::FACTOR_UNSPECIFIED) return score.composite();
  for (const v1::FactorScore& f : score.factors()) {
    if (f.factor() == rule.factor()) return 100.0 * f.propagated();
  }
  return 0;
}

bool AlertEvaluator::InScope(const v1::Score& score,
                             const v1::AlertRule& rule) const {
  const v1::AlertScope& scope = rule.scope();
  if (scope.entity_kinds_size() > 0) {
    bool hit = false;
    for (int k : scope.entity_kinds()) hit |= k == score.entity_kind();
    if (!hit) return false;
  }
  if (scope.countries_size() > 0) {
    bool hit = false;
    for (const auto& c : scope.countries()) hit |= c == score.country();
    if (!hit) return false;
  }
  if (scope.entity_ids_size() > 0) {
    bool hit = false;
    for (const auto& id : scope.entity_ids()) hit |= id == score.entity_id();
    if (!hit) return false;
  }
  return true;
}

v1::Alert AlertEvaluator::MakeRecord(const v1::AlertRule& rule,
                                     const v1::ScoreChange& c,
                                     v1::Alert::State state,
                                     int64_t graph_sequence, absl::Time now,
                                     const ReasonsFn& reasons) const {
  const v1::Score& who = c.has_after() ? c.after() : c.before();
  v1::Alert a;
  a.set_entity_id(who.entity_id());
  a.set_entity_name(who.entity_name());
  a.set_entity_kind(who.entity_kind());
  a.set_country(who.country());
  a.set_rule_name(rule.name());
  a.set_alert_id(absl::StrCat(who.entity_id(), "|", rule.name()));
  a.set_state(state);
  v1::Severity severity = rule.severity();
  if (severity == v1::SEVERITY_UNSPECIFIED) {
    severity = rule.has_band_crossing() &&
                       rule.band_crossing().min_band() == v1::BAND_CRITICAL
                   ? v1::SEVERITY_CRITICAL
                   : v1::SEVERITY_WARNING;
  }
  a.set_severity(severity);
  // The factor that moved most (or the rule's own).
  v1::Factor factor = rule.factor();
  if (factor == v1::FACTOR_UNSPECIFIED) {
    double best = -1;
    for (const v1::FactorScore& after : c.after().factors()) {
      double before = 0;
      for (const v1::FactorScore& b : c.before().factors()) {
        if (b.factor() == after.factor()) before = b.propagated();
      }
      double moved = std::fabs(after.propagated() - before);
      if (moved > best) {
        best = moved;
        factor = after.factor();
      }
    }
  }
  a.set_factor(factor);
  a.set_score_before(c.has_before() ? Watched(c.before(), rule) : 0);
  a.set_score_after(c.has_after() ? Watched(c.after(), rule) : 0);
  a.set_band_before(c.has_before() ? BandOf(c.before().composite())
                                   : v1::BAND_UNSPECIFIED);
  a.set_band_after(c.has_after() ? BandOf(c.after().composite())
                                 : v1::BAND_UNSPECIFIED);
  if (c.has_after() && reasons) {
    for (std::string& r : reasons(who.entity_id(), rule.factor())) {
      a.add_reasons(std::move(r));
    }
  }
  a.set_graph_sequence(graph_sequence);
  *a.mutable_start_time() = base::ToProtoTime(now);
  *a.mutable_update_time() = base::ToProtoTime(now);
  if (state == v1::Alert::RESOLVED)
    *a.mutable_end_time() = base::ToProtoTime(now);
  a.set_model_version(model_version_);
  return a;
}

void AlertEvaluator::Evaluate(const v1::AlertRule& rule,
                              const v1::ScoreChange& change,
                              int64_t graph_sequence, absl::Time now,
                              const ReasonsFn& reasons,
                              std::vector<v1::Alert>* out) {
  const v1::Score& who = change.has_after() ? change.after() : change.before();
  const std::string id = absl::StrCat(who.entity_id(), "|", rule.name());
  auto it = states_.find(id);
  const bool firing = it != states_.end();

  auto fire = [&] {
    v1::Alert a = MakeRecord(rule, change, v1::Alert::FIRING, graph_sequence,
                             now, reasons);
    State& s = states_[id];
    s.last = a;
    s.pending = false;
    s.last_jump = now;
    out->push_back(std::move(a));
  };
  auto resolve = [&] {
    v1::Alert a = MakeRecord(rule, change, v1::Alert::RESOLVED, graph_sequence,
                             now, reasons);
    *a.mutable_start_time() = it->second.last.start_time();
    a.set_score_before(it->second.last.score_after());
    states_.erase(it);
    out->push_back(std::move(a));
  };
  auto update = [&] {
    State& s = it->second;
    v1::Alert a = MakeRecord(rule, change, v1::Alert::FIRING, graph_sequence,
                             now, reasons);
    *a.mutable_start_time() = s.last.start_time();
    a.set_score_before(s.last.score_after());
    absl::Duration window = FromProtoDuration(rule.coalesce_window());
    absl::Time last = base::FromProtoTime(s.last.update_time());
    if (now - last >= window) {
      s.last = a;
      s.pending = false;
      out->push_back(std::move(a));
    } else {
      s.pending = true;
      s.held = std::move(a);
      s.due = last + window;
      held_changed_.insert(id);
    }
  };

  if (!change.has_after() || !InScope(who, rule)) {
    // Deleted, or no longer watched: a firing alert resolves.
    if (firing) resolve();
    return;
  }
  const double after = Watched(change.after(), rule);
  if (rule.has_band_crossing()) {
    const double threshold = Threshold(rule.band_crossing().min_band());
    if (!firing) {
      // Only an entry fires: from below the threshold, from outside the
      // rule's scope, or a new entity. A score already in the band when the
      // scorer started (the full score is no change) stays quiet when it
      // moves inside the band. (Firing on any move of such a score made the
      // first listing after a start on the 100k bench graph fire 50,902
      // alerts such as "92.4 -> 92.4, critical -> critical": issue 20.)
      const bool entered = !change.has_before() ||
                           !InScope(change.before(), rule) ||
                           Watched(change.before(), rule) < threshold;
      if (entered && after >= threshold) fire();
    } else if (after < threshold - rule.band_crossing().hysteresis()) {
      resolve();
    } else {
      // Update when the band escalates, or falls by more than the margin
      // (so hovering at a boundary does not flap), and keep a held update
      // current with the latest values.
      const double h = rule.band_crossing().hysteresis();
      const v1::Band shown = it->second.pending ? it->second.held.band_after()
                                                : it->second.last.band_after();
      const double composite = change.after().composite();
      if (BandOf(composite) > shown || BandOf(composite + h) < shown ||
          it->second.pending) {
        update();
      }
    }
    return;
  }
  // Jump.
  if (!change.has_before()) return;  // A new entity has not moved.
  const double before = Watched(change.before(), rule);
  if (std::fabs(after - before) < rule.jump().min_points()) return;
  if (!firing) {
    fire();
  } else {
    it->second.last_jump = now;
    update();
  }
}

std::vector<v1::Alert> AlertEvaluator::OnScoreChanges(
    const std::vector<v1::ScoreChange>& changes, int64_t graph_sequence,
    absl::Time now, const ReasonsFn& reasons) {
  std::vector<v1::Alert> out;
  for (const v1::ScoreChange& change : changes) {
    if (!change.has_after() && !change.has_before()) continue;
    for (const v1::AlertRule& rule : rules_) {
      Evaluate(rule, change, graph_sequence, now, reasons, &out);
    }
  }
  return out;
}

std::vector<v1::Alert> AlertEvaluator::Tick(absl::Time now) {
  std::vector<v1::Alert> out;
  std::map<std::string, const v1::AlertRule*> by_name;
  for (const v1::AlertRule& r : rules_) by_name[r.name()] = &r;
  for (auto it = states_.begin(); it != states_.end();) {
    State& s = it->second;
    auto rule = by_name.find(s.last.rule_name());
    if (rule == by_name.end()) {
      // The rule is gone from the config: its alerts resolve.
      v1::Alert a = s.last;
      a.set_state(v1::Alert::RESOLVED);
      *a.mutable_update_time() = base::ToProtoTime(now);
      *a.mutable_end_time() = base::ToProtoTime(now);
      out.push_back(std::move(a));
      it = states_.erase(it);
      continue;
    }
    if (s.pending && now >= s.due) {
      s.last = s.held;
      *s.last.mutable_update_time() = base::ToProtoTime(now);
      s.pending = false;
      out.push_back(s.last);
    }
    if (rule->second->has_jump()) {
      absl::Duration idle =
          rule->second->jump().has_resolve_after()
              ? FromProtoDuration(rule->second->jump().resolve_after())
              : kDefaultResolveAfter;
      if (idle <= absl::ZeroDuration()) idle = kDefaultResolveAfter;
      if (now - s.last_jump >= idle) {
        v1::Alert a = s.last;
        a.set_state(v1::Alert::RESOLVED);
        a.set_score_before(s.last.score_after());
        *a.mutable_update_time() = base::ToProtoTime(now);
        *a.mutable_end_time() = base::ToProtoTime(now);
        out.push_back(std::move(a));
        it = states_.erase(it);
        continue;
      }
    }
    ++it;
  }
  return out;
}

}  // namespace georisk::scorer
