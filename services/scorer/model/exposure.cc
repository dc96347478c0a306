#include "services/scorer/model/exposure.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/wording.h"

namespace georisk::scorer::internal {
namespace {

// Shares summed from floating-point inputs count as reaching a threshold
// within this margin (0.3 + 0.2 must reach 0.5).
constexpr double kThresholdEpsilon = 1e-9;

double SurvivalOf(double exposure) {
  return std::max(1.0 - std::min(exposure, 1.0), kMinSurvival);
}

// Is (sev, id) a better attribution than (best_sev, best_id)? Higher
// severity first, then the smaller signal id, for determinism.
bool Better(double sev, absl::string_view id, double best_sev,
            absl::string_view best_id) {
  if (sev != best_sev) return sev > best_sev;
  return best_id.empty() || id < best_id;
}

bool Contains(const std::vector<uint16_t>& v, uint16_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// How an operator's listing status reaches its facilities.
struct OperatorListing {
  double severity = 0;
  std::string signal_id;
  int rule = -1;  // -1: listed in its own right; else the ownership rule.
};

// The listing status of `x` by `authority`, if any: its own listings, else
// its membership of the authority's rule closure.
bool StatusOf(const State& st, const Params& p, Node x,
              absl::string_view authority, OperatorListing* out) {
  bool found = false;
  if (const std::vector<std::string>* sigs =
          st.SignalsTargeting(st.entities()[x].id)) {
    for (const std::string& id : *sigs) {
      const SignalRec* s = st.signals().Find(id);
      if (s == nullptr || !s->counts ||
          s->ec_kind != v1::ExportControl::ENTITY_LISTING ||
          s->authority != authority || !s->ActiveAt(st.as_of_ns())) {
        continue;
      }
      if (!found || Better(s->severity, s->id, out->severity, out->signal_id)) {
        out->severity = s->severity;
        out->signal_id = s->id;
        out->rule = -1;
        found = true;
      }
    }
  }
  if (found) return true;
  for (size_t r = 0; r < p.rules.size(); ++r) {
    if (p.rules[r].authority != authority) continue;
    const RuleState& rs = st.rules()[r];
    auto it = rs.members.find(x);
    if (it == rs.members.end() || it->second.listed) continue;
    out->severity = it->second.severity;
    out->signal_id = it->second.signal_id;
    out->rule = static_cast<int>(r);
    return true;
  }
  return false;
}

// The direct owners of `v` in a rule's closure, largest share first (then
// by name), with their summed shares in effect now.
std::vector<OwnerShare> OwnersInClosure(const State& st, const RuleState& rs,
                                        Node v) {
  absl::flat_hash_map<Node, double> shares;
  for (Slot slot : st.in_slots().List(v)) {
    const EdgeRec& e = st.edges()[slot];
    if (e.kind != v1::Edge::OWNS || !e.ActiveAt(st.as_of_ns()) || e.from == v ||
        e.weight <= 0) {
      continue;
    }
    if (rs.members.contains(e.from)) shares[e.from] += e.weight;
  }
  std::vector<OwnerShare> out;
  for (const auto& [owner, share] : shares) {
    OwnerShare o;
    o.name = st.entities()[owner].name;
    o.kind = st.entities()[owner].kind;
    o.share = share;
    o.listed = rs.members.at(owner).listed;
    out.push_back(std::move(o));
  }
  std::sort(out.begin(), out.end(),
            [](const OwnerShare& a, const OwnerShare& b) {
              if (a.share != b.share) return a.share > b.share;
              return a.name < b.name;
            });
  return out;
}

// Every authority whose listing reaches operator `x`.
void Authorities(const State& st, const Params& p, Node x,
                 std::vector<std::string>* out) {
  if (const std::vector<std::string>* sigs =
          st.SignalsTargeting(st.entities()[x].id)) {
    for (const std::string& id : *sigs) {
      const SignalRec* s = st.signals().Find(id);
      if (s != nullptr && s->counts &&
          s->ec_kind == v1::ExportControl::ENTITY_LISTING &&
          s->ActiveAt(st.as_of_ns())) {
        out->push_back(s->authority);
      }
    }
  }
  for (size_t r = 0; r < p.rules.size(); ++r) {
    const RuleState& rs = st.rules()[r];
    if (rs.members.contains(x)) out->push_back(p.rules[r].authority);
  }
}

// The wording of listing `s` of `entity_id`: as ListedDescription when it
// names the entity, else how the link to the member it names brought it.
std::string ListingDescription(const State& st, const SignalRec& s,
                               const std::string& entity_id) {
  if (std::binary_search(s.targets.begin(), s.targets.end(), entity_id)) {
    return ListedDescription(s);
  }
  const Parties& parties = st.live().parties();
  for (const std::string& target : s.targets) {
    if (parties.EffectiveId(target) == entity_id) {
      return LinkedListedDescription(st, s, target, entity_id);
    }
  }
  return ListedDescription(s);
}

}  // namespace

bool HsMatches(absl::string_view prefix, absl::string_view code) {
  return prefix.empty() || (code.size() >= prefix.size() &&
                            code.substr(0, prefix.size()) == prefix);
}

ExposureCache::ExposureCache(const State& st, const Params& p,
                             bool eager_candidates)
    : st_(st), p_(p), eager_(eager_candidates) {
  const int64_t t = st.as_of_ns();
  st.tensions().ForEach([&](const std::string& id, bool) {
    const SignalRec* s = st.signals().Find(id);
    if (s == nullptr || s->theatre != "cross_strait" || !s->ActiveAt(t)) return;
    if (tension_ == nullptr || s->from_ns > tension_->from_ns ||
        (s->from_ns == tension_->from_ns && s->id < tension_->id)) {
      tension_ = s;
    }
  });
  st.destination_controls().ForEach([&](const std::string& id, bool) {
    const SignalRec* s = st.signals().Find(id);
    if (s != nullptr && s->counts && s->ActiveAt(t)) {
      destination_controls_.push_back(s);
    }
  });
  std::sort(
      destination_controls_.begin(), destination_controls_.end(),
      [](const SignalRec* a, const SignalRec* b) { return a->id < b->id; });
  st.tariffs_by_importer().ForEach(
      [&](uint16_t importer, const std::vector<std::string>& ids) {
        for (const std::string& id : ids) {
          const SignalRec* s = st.signals().Find(id);
          if (s != nullptr && s->ActiveAt(t)) {
            importers_.insert(importer);
            return;
          }
        }
      });
  if (!eager_) return;
  st.by_target().ForEach(
      [&](const std::string& target, const std::vector<std::string>& ids) {
        const Node* v = st.node_of().Find(target);
        if (v == nullptr) return;
        for (const std::string& id : ids) {
          const SignalRec* s = st.signals().Find(id);
          if (s != nullptr && s->ActiveAt(t)) {
            candidates_.insert(*v);
            return;
          }
        }
      });
  for (size_t r = 0; r < p.rules.size(); ++r) {
    for (const auto& [v, m] : st.rules()[r].members) candidates_.insert(v);
  }
}

bool ExposureCache::ListingCandidate(Node v) const {
  if (eager_) return candidates_.contains(v);
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (st_.rules()[r].members.contains(v)) return true;
  }
  const std::vector<std::string>* ids =
      st_.SignalsTargeting(st_.entities()[v].id);
  if (ids == nullptr) return false;
  for (const std::string& id : *ids) {
    const SignalRec* s = st_.signals().Find(id);
    if (s != nullptr && s->ActiveAt(st_.as_of_ns())) return true;
  }
  return false;
}

double ExposureCache::TensionWeight(uint16_t country) const {
  const std::vector<std::pair<uint16_t, double>>& weights =
      tension_ != nullptr && !tension_->weights.empty()
          ? tension_->weights
          : p_.default_tension_weights;
  auto it = std::lower_bound(weights.begin(), weights.end(),
                             std::make_pair(country, -1.0));
  return it != weights.end() && it->first == country ? it->second : 0.0;
}

const std::vector<TariffHit>& ExposureCache::TariffHits(uint16_t importer,
                                                        uint16_t origin,
                                                        uint32_t product) {
  const uint64_t key =
      (uint64_t{importer} << 48) | (uint64_t{origin} << 32) | uint64_t{product};
  auto [it, inserted] = tariff_memo_.try_emplace(key);
  if (!inserted) return it->second;
  std::vector<TariffHit>& hits = it->second;
  const std::vector<std::string>* ids =
      st_.tariffs_by_importer().Find(importer);
  if (ids == nullptr) return hits;
  const std::string& code = st_.ProductCode(product);
  // programme -> the most specific rule so far.
  absl::flat_hash_map<absl::string_view, const SignalRec*> best;
  for (const std::string& id : *ids) {
    const SignalRec* s = st_.signals().Find(id);
    if (s == nullptr || !s->ActiveAt(st_.as_of_ns())) continue;
    if (s->origin != 0 && s->origin != origin) continue;
    if (!HsMatches(s->hs_prefix, code)) continue;
    const SignalRec*& b = best[s->programme];
    if (b == nullptr) {
      b = s;
      continue;
    }
    // Longest prefix, then explicit origin over "*", then the latest rule,
    // then the smallest id.
    auto rank = [](const SignalRec* x) {
      return std::make_tuple(x->hs_prefix.size(), x->origin != 0 ? 1 : 0,
                             x->from_ns);
    };
    if (rank(s) > rank(b) || (rank(s) == rank(b) && s->id < b->id)) b = s;
  }
  for (const auto& [programme, s] : best) hits.push_back({s});
  std::sort(hits.begin(), hits.end(),
            [](const TariffHit& a, const TariffHit& b) {
              return a.signal->id < b.signal->id;
            });
  return hits;
}

Direct ComputeDirect(const State& st, const Params& p, Node v,
                     ExposureCache* cache, std::vector<App>* apps) {
  Direct out;
  const NodeInfo& ent = st.info()[v];
  if (!ent.alive) return out;
  const std::string& entity_id = st.entities()[v].id;
  // A member of a party other than its primary has no exposure of its own:
  // its link edge brings the party's (parties.h).
  if (const std::string* primary = st.live().parties().PrimaryOf(entity_id);
      primary != nullptr && *primary != entity_id) {
    return out;
  }
  const int64_t t = st.as_of_ns();
  const bool facility = ent.kind == v1::Entity::FACILITY;

  // ---- Export controls: noisy-OR of the controls that apply. ----
  double base = 1;  // Survival of the non-derived controls.
  std::vector<std::string>& status = out.listing.status;
  auto add_ec = [&](const SignalRec& s, double exposure, bool derived,
                    absl::string_view rule, std::string description) {
    if (exposure <= 0) return;
    const double survival = SurvivalOf(exposure);
    if (derived) {
      out.listing.derived.emplace_back(s.authority, survival);
    } else {
      base *= survival;
    }
    if (apps != nullptr) {
      App a;
      a.factor = 0;
      a.signal_id = s.id;
      a.rule = std::string(rule);
      a.description = std::move(description);
      a.exposure = std::min(exposure, 1.0 - kMinSurvival);
      apps->push_back(std::move(a));
    }
  };

  if (cache->ListingCandidate(v)) {
    if (const std::vector<std::string>* sigs = st.SignalsTargeting(entity_id)) {
      for (const std::string& id : *sigs) {
        const SignalRec* s = st.signals().Find(id);
        if (s == nullptr || !s->counts || !s->ActiveAt(t)) continue;
        if (s->ec_kind == v1::ExportControl::ENTITY_LISTING) {
          status.push_back(s->authority);
          add_ec(*s, s->severity, false, kRuleListed,
                 apps ? ListingDescription(st, *s, entity_id) : std::string());
        } else if (s->ec_kind ==
                       v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED &&
                   facility) {
          add_ec(*s, s->severity, false, kRuleRevoked,
                 apps ? RevokedDescription(*s) : std::string());
        }
      }
    }
    std::sort(status.begin(), status.end());
    status.erase(std::unique(status.begin(), status.end()), status.end());
    const size_t listed_count = status.size();
    for (size_t r = 0; r < p.rules.size(); ++r) {
      const RuleState& rs = st.rules()[r];
      auto it = rs.members.find(v);
      if (it == rs.members.end() || it->second.listed) continue;
      const std::string& authority = p.rules[r].authority;
      if (std::binary_search(status.begin(), status.begin() + listed_count,
                             authority)) {
        continue;  // Listed by the same authority in its own right.
      }
      const SignalRec* s = st.signals().Find(it->second.signal_id);
      if (s == nullptr) continue;
      SignalRec shown = *s;
      shown.severity = it->second.severity;
      add_ec(shown, it->second.severity, true,
             apps ? OwnedRule(p.rules[r]) : std::string(),
             apps ? OwnedDescription(p.rules[r], OwnersInClosure(st, rs, v))
                  : std::string());
      status.push_back(authority);
    }
    std::sort(status.begin(), status.end());
  }

  if (facility) {
    // Listings of the facility's operators reach the facility, one per
    // authority not already reaching it, at the highest severity.
    struct Best {
      OperatorListing listing;
      Node op = kNone;
    };
    absl::flat_hash_map<std::string, Best> by_authority;
    std::vector<std::string> authorities;
    for (Slot slot : st.in_slots().List(v)) {
      const EdgeRec& e = st.edges()[slot];
      if (e.kind != v1::Edge::OPERATES || !e.ActiveAt(t)) continue;
      const Node x = e.from;
      if (!st.Alive(x) || !cache->ListingCandidate(x)) continue;
      authorities.clear();
      Authorities(st, p, x, &authorities);
      for (const std::string& a : authorities) {
        if (std::binary_search(status.begin(), status.end(), a)) continue;
        OperatorListing ol;
        if (!StatusOf(st, p, x, a, &ol)) continue;
        Best& b = by_authority[a];
        if (b.op == kNone || Better(ol.severity, ol.signal_id,
                                    b.listing.severity, b.listing.signal_id)) {
          b.listing = ol;
          b.op = x;
        }
      }
    }
    std::vector<std::string> keys;
    for (const auto& [a, b] : by_authority) keys.push_back(a);
    std::sort(keys.begin(), keys.end());
    for (const std::string& a : keys) {
      const Best& b = by_authority[a];
      const SignalRec* s = st.signals().Find(b.listing.signal_id);
      if (s == nullptr) continue;
      SignalRec shown = *s;
      shown.authority = a;
      add_ec(shown, b.listing.severity, true, kRuleOperated,
             apps
                 ? OperatedDescription(
                       st.entities()[b.op].name, a,
                       b.listing.rule >= 0 ? &p.rules[b.listing.rule] : nullptr)
                 : std::string());
      status.push_back(a);
    }
    std::sort(status.begin(), status.end());

    // Destination controls, in proportion to the controlled inputs.
    for (const SignalRec* s : cache->destination_controls()) {
      if (!Contains(s->destinations, ent.country)) continue;
      double share = 0;
      for (Slot slot : st.in_slots().List(v)) {
        const EdgeRec& e = st.edges()[slot];
        if (e.kind != v1::Edge::SUPPLIES || !e.ActiveAt(t)) continue;
        const NodeInfo& u = st.info()[e.from];
        if (!u.alive || Contains(s->destinations, u.country)) continue;
        bool controlled = s->product_prefixes.empty();
        for (const std::string& prefix : s->product_prefixes) {
          controlled =
              controlled ||
              (!prefix.empty() && HsMatches(prefix, st.ProductCode(e.product)));
        }
        if (controlled) share += e.weight;
      }
      share = std::min(share, 1.0);
      add_ec(*s, s->severity * share, false, kRuleDestination,
             apps ? DestinationDescription(*s, ent.country, share)
                  : std::string());
    }
  }

  double ec = base;
  for (const auto& [a, survival] : out.listing.derived) ec *= survival;
  out.sd.v[0] = std::max(ec, kMinSurvival);
  out.listing.base_survival = base;
  out.has_listing = !status.empty() || !out.listing.derived.empty();
  if (!out.has_listing) out.listing = ListingInfo();

  // A person is scored on its listings only: it supplies nothing, and its
  // country is a nationality, not a location (docs/scoring-model.md,
  // "Persons").
  if (ent.kind == v1::Entity::PERSON) return out;

  // ---- Tariffs: inbound dependency-weighted + outbound output-weighted. ----
  {
    double total = 0;
    // Per (signal, direction): additive part and the share it covers.
    struct Part {
      const SignalRec* s;
      bool outbound;
      double part;
      double covered;
    };
    std::vector<Part> parts;
    auto add_part = [&](const SignalRec* s, bool outbound, double share) {
      const double part = share * s->rate / p.tariff_cap;
      total += part;
      if (apps == nullptr) return;
      for (Part& x : parts) {
        if (x.s == s && x.outbound == outbound) {
          x.part += part;
          x.covered += share;
          return;
        }
      }
      parts.push_back({s, outbound, part, share});
    };
    if (cache->ImporterHasTariffs(ent.country)) {
      for (Slot slot : st.in_slots().List(v)) {
        const EdgeRec& e = st.edges()[slot];
        if (e.kind != v1::Edge::SUPPLIES || !e.ActiveAt(t)) continue;
        const NodeInfo& u = st.info()[e.from];
        if (!u.alive || u.country == ent.country || e.weight <= 0) continue;
        for (const TariffHit& h :
             cache->TariffHits(ent.country, u.country, e.product)) {
          add_part(h.signal, false, e.weight);
        }
      }
    }
    // Output shares: by annual value when every outbound supply edge has
    // one, else equal.
    int n_out = 0;
    bool all_valued = true;
    double value_sum = 0;
    bool any_taxed_importer = false;
    for (Slot slot : st.out_slots().List(v)) {
      const EdgeRec& e = st.edges()[slot];
      if (e.kind != v1::Edge::SUPPLIES || !e.ActiveAt(t)) continue;
      const NodeInfo& c = st.info()[e.to];
      if (!c.alive) continue;
      ++n_out;
      all_valued = all_valued && e.value_usd > 0;
      value_sum += e.value_usd;
      any_taxed_importer =
          any_taxed_importer ||
          (c.country != ent.country && cache->ImporterHasTariffs(c.country));
    }
    if (n_out > 0 && any_taxed_importer) {
      for (Slot slot : st.out_slots().List(v)) {
        const EdgeRec& e = st.edges()[slot];
        if (e.kind != v1::Edge::SUPPLIES || !e.ActiveAt(t)) continue;
        const NodeInfo& c = st.info()[e.to];
        if (!c.alive || c.country == ent.country ||
            !cache->ImporterHasTariffs(c.country)) {
          continue;
        }
        const double share = all_valued ? e.value_usd / value_sum : 1.0 / n_out;
        for (const TariffHit& h :
             cache->TariffHits(c.country, ent.country, e.product)) {
          add_part(h.signal, true, share);
        }
      }
    }
    out.sd.v[1] = SurvivalOf(total);
    if (apps != nullptr) {
      for (const Part& x : parts) {
        if (x.part <= 0) continue;
        App a;
        a.factor = 1;
        a.signal_id = x.s->id;
        a.rule = x.outbound ? kRuleTariffOut : kRuleTariffIn;
        a.description = TariffDescription(*x.s, x.outbound, x.covered);
        a.exposure = x.part;
        a.additive = true;
        apps->push_back(std::move(a));
      }
    }
  }

  // ---- Cross-strait: level x location weight + level x crossing share. ----
  if (const SignalRec* s = cache->tension(); s != nullptr && s->level > 0) {
    const double weight = cache->TensionWeight(ent.country);
    const double location = s->level * weight;
    double crossing = 0;
    if (ent.country == kTW || ent.country == kCN) {
      const uint16_t other = ent.country == kTW ? kCN : kTW;
      for (Slot slot : st.in_slots().List(v)) {
        const EdgeRec& e = st.edges()[slot];
        if (e.kind != v1::Edge::SUPPLIES || !e.ActiveAt(t)) continue;
        const NodeInfo& u = st.info()[e.from];
        if (u.alive && u.country == other) crossing += e.weight;
      }
    }
    crossing = std::min(crossing, 1.0);
    const double crossing_part = s->level * crossing;
    out.sd.v[2] = SurvivalOf(location + crossing_part);
    if (apps != nullptr) {
      if (location > 0) {
        App a;
        a.factor = 2;
        a.signal_id = s->id;
        a.rule = kRuleLocation;
        a.description = LocationDescription(*s, weight, ent.country);
        a.exposure = location;
        a.additive = true;
        apps->push_back(std::move(a));
      }
      if (crossing_part > 0) {
        App a;
        a.factor = 2;
        a.signal_id = s->id;
        a.rule = kRuleCrossing;
        a.description = CrossingDescription(*s, crossing);
        a.exposure = crossing_part;
        a.additive = true;
        apps->push_back(std::move(a));
      }
    }
  }
  return out;
}

RuleState ComputeRule(const State& st, const Params& p, int r) {
  RuleState out;
  const RuleParams& rule = p.rules[r];
  const int64_t t = st.as_of_ns();
  out.active = OwnershipRuleActiveAt(rule.proto, NsToTime(t));
  if (!out.active) return out;

  // Seeds: every alive entity listed by the authority.
  std::deque<Node> queue;
  st.signals().ForEach([&](const std::string&, const SignalRec& s) {
    if (!s.counts || !s.rules_apply ||
        s.ec_kind != v1::ExportControl::ENTITY_LISTING ||
        s.authority != rule.authority || !s.ActiveAt(t)) {
      return;
    }
    for (const std::string& target : s.targets) {
      const Node* v =
          st.node_of().Find(st.live().parties().EffectiveId(target));
      if (v == nullptr || !st.Alive(*v)) continue;
      auto [it, inserted] = out.members.try_emplace(*v);
      RuleMember& m = it->second;
      if (inserted || Better(s.severity, s.id, m.severity, m.signal_id)) {
        m.severity = s.severity;
        m.signal_id = s.id;
      }
      m.listed = true;
      if (inserted) queue.push_back(*v);
    }
  });

  // Least fixed point: a company joins once the members own, together,
  // at least the threshold of it.
  absl::flat_hash_map<Node, double> owned;
  auto for_each_child = [&](Node owner, auto fn) {
    for (Slot slot : st.out_slots().List(owner)) {
      const EdgeRec& e = st.edges()[slot];
      if (e.kind != v1::Edge::OWNS || !e.ActiveAt(t) || e.to == owner ||
          e.weight <= 0 || !st.Alive(e.to)) {
        continue;
      }
      fn(e.to, e.weight);
    }
  };
  while (!queue.empty()) {
    const Node owner = queue.front();
    queue.pop_front();
    for_each_child(owner, [&](Node child, double share) {
      if (out.members.contains(child)) return;
      double& sum = owned[child];
      sum += share;
      if (rule.more_than ? sum > rule.threshold + kThresholdEpsilon
                         : sum >= rule.threshold - kThresholdEpsilon) {
        out.members.try_emplace(child);  // severity set below
        queue.push_back(child);
      }
    });
  }

  // Severity: the highest among a qualifying company's owners in the
  // closure, through chains (max-propagation; monotone, so it terminates on
  // cycles).
  for (const auto& [v, m] : out.members) {
    if (m.listed) queue.push_back(v);
  }
  while (!queue.empty()) {
    const Node owner = queue.front();
    queue.pop_front();
    const RuleMember from = out.members[owner];
    for_each_child(owner, [&](Node child, double) {
      auto it = out.members.find(child);
      if (it == out.members.end() || it->second.listed) return;
      RuleMember& m = it->second;
      if (m.signal_id.empty() ||
          Better(from.severity, from.signal_id, m.severity, m.signal_id)) {
        m.severity = from.severity;
        m.signal_id = from.signal_id;
        queue.push_back(child);
      }
    });
  }
  return out;
}

}  // namespace georisk::scorer::internal
