#include "services/scorer/model/explain.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/proto_time.h"
#include "services/scorer/model/exposure.h"
#include "services/scorer/model/propagate.h"
#include "services/scorer/model/wording.h"

namespace georisk::scorer::internal {
namespace {

// A contribution with the upstream node it came from (kNone if direct).
struct Term {
  v1::Contribution proto;
  Node upstream = kNone;
  // A line with no score (a stake of unknown share): never on a path.
  bool unscored = false;
};

// The direct exposures of v with their wording (every factor's).
std::vector<App> Apps(const State& st, const Params& p, Node v) {
  ExposureCache cache(st, p, /*eager_candidates=*/false);
  std::vector<App> apps;
  ComputeDirect(st, p, v, &cache, &apps);
  return apps;
}

// The terms of factor f at v, given v's Apps().
std::vector<Term> Terms(const State& st, const Params& p, Node v, int f,
                        const std::vector<App>& apps) {
  std::vector<Term> terms;
  double additive_total = 0;
  for (const App& a : apps) {
    if (a.factor == f && a.additive) additive_total += a.exposure;
  }
  const double direct_log = -std::log(st.sd()[v].v[f]);
  for (const App& a : apps) {
    if (a.factor != f) continue;
    const double log_odds =
        a.additive
            ? (additive_total > 0 ? direct_log * a.exposure / additive_total
                                  : 0)
            : -std::log1p(-a.exposure);
    if (!(log_odds > 0)) continue;
    Term t;
    v1::Contribution& c = t.proto;
    c.set_factor(FactorOf(f));
    c.set_log_odds(log_odds);
    c.set_description(a.description);
    v1::DirectContribution* d = c.mutable_direct();
    d->set_signal_id(a.signal_id);
    if (const SignalRec* s = st.signals().Find(a.signal_id)) {
      d->set_signal_title(s->title);
      d->set_source(s->source);
      if (!s->update_origin.empty()) {
        FillProvenance(s->title.empty() ? s->id : s->title, s->update_origin,
                       d->mutable_provenance());
      }
    }
    d->set_rule(a.rule);
    d->set_exposure(std::min(a.exposure, 1.0));
    terms.push_back(std::move(t));
  }
  for (const PropIn& e : st.pin().List(v)) {
    const double su =
        f == 0 ? SurvivalSeenBy(st, e.src, v) : st.s()[e.src].v[f];
    const double x = e.w * (1 - su);
    const double log_odds = -std::log1p(-x);
    if (!(log_odds > 0)) continue;
    const EdgeRec& edge = st.edges()[e.slot];
    const EntityRec& u = st.entities()[e.src];
    Term t;
    t.upstream = e.src;
    v1::Contribution& c = t.proto;
    c.set_factor(FactorOf(f));
    c.set_log_odds(log_odds);
    v1::UpstreamContribution* up = c.mutable_upstream();
    up->set_entity_id(u.id);
    up->set_entity_name(u.name);
    up->set_weight(e.w);
    up->set_upstream_score(1 - su);
    if (edge.kind == kLinkEdge) {
      // A member mirrors its party's primary (parties.h); the hop has no v1
      // edge kind.
      c.set_description(SamePartyDescription(st, st.entities()[v].id, u.id));
      terms.push_back(std::move(t));
      continue;
    }
    up->set_edge_kind(edge.kind);
    // The edge's key, by which the service reads its provenance.
    v1::EdgeKey* key = up->mutable_edge();
    key->set_from_id(st.entities()[edge.from].id);
    key->set_kind(edge.kind);
    key->set_to_id(st.entities()[edge.to].id);
    key->set_product_code(st.ProductCode(edge.product));
    key->set_record_id(edge.record_id.get());
    switch (edge.kind) {
      case v1::Edge::SUPPLIES:
        c.set_description(
            SupplierDescription(st.ProductCode(edge.product), edge.weight));
        break;
      case v1::Edge::OPERATES:
        c.set_description(
            OperatedFacilityDescription(st.entities()[v].name, edge.weight));
        break;
      case v1::Edge::OWNS:
        c.set_description(OwnsDescription(u.name, edge.weight));
        break;
      default:
        break;
    }
    terms.push_back(std::move(t));
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const Term& a, const Term& b) {
                     if (a.proto.log_odds() != b.proto.log_odds()) {
                       return a.proto.log_odds() > b.proto.log_odds();
                     }
                     return a.proto.description() < b.proto.description();
                   });
  double total = 0;
  for (const Term& t : terms) total += t.proto.log_odds();
  for (Term& t : terms) t.proto.set_fraction(t.proto.log_odds() / total);
  // Stakes of unknown share held by an exposed owner: lines with no score
  // (log_odds 0, fraction 0), after the scored ones, largest owner score
  // first. They count in no aggregate (docs/scoring-model.md, "Unknown
  // shares"), but a compliance officer must see that the owner holds some.
  std::vector<Term> unknown;
  for (Slot slot : st.in_slots().List(v)) {
    const EdgeRec& edge = st.edges()[slot];
    if (edge.kind != v1::Edge::OWNS || !edge.share_unknown ||
        !edge.ActiveAt(st.as_of_ns()) || edge.from == v) {
      continue;
    }
    const double owner_score = 1 - st.s()[edge.from].v[f];
    if (!(owner_score > 0)) continue;
    const EntityRec& u = st.entities()[edge.from];
    Term t;
    t.upstream = edge.from;
    t.unscored = true;
    v1::Contribution& c = t.proto;
    c.set_factor(FactorOf(f));
    c.set_log_odds(0);
    c.set_fraction(0);
    v1::UpstreamContribution* up = c.mutable_upstream();
    up->set_entity_id(u.id);
    up->set_entity_name(u.name);
    up->set_edge_kind(edge.kind);
    v1::EdgeKey* key = up->mutable_edge();
    key->set_from_id(u.id);
    key->set_kind(edge.kind);
    key->set_to_id(st.entities()[edge.to].id);
    key->set_product_code(st.ProductCode(edge.product));
    key->set_record_id(edge.record_id.get());
    up->set_weight(0);
    up->set_upstream_score(owner_score);
    c.set_description(UnknownShareDescription(u.name, u.kind));
    unknown.push_back(std::move(t));
  }
  std::stable_sort(unknown.begin(), unknown.end(),
                   [](const Term& a, const Term& b) {
                     const auto& x = a.proto.upstream();
                     const auto& y = b.proto.upstream();
                     if (x.upstream_score() != y.upstream_score()) {
                       return x.upstream_score() > y.upstream_score();
                     }
                     return x.entity_id() < y.entity_id();
                   });
  for (Term& t : unknown) terms.push_back(std::move(t));
  return terms;
}

std::vector<Term> Terms(const State& st, const Params& p, Node v, int f) {
  return Terms(st, p, v, f, Apps(st, p, v));
}

v1::PathHop Hop(const State& st, Node v, int f) {
  v1::PathHop h;
  h.set_entity_id(st.entities()[v].id);
  h.set_entity_name(st.entities()[v].name);
  h.set_score(1 - st.s()[v].v[f]);
  return h;
}

}  // namespace

v1::Score MakeScore(const State& st, const Params& p, Node v, const Triple& d,
                    const Triple& s, int64_t sequence, int64_t as_of_ns) {
  v1::Score score;
  const EntityRec& e = st.entities()[v];
  score.set_entity_id(e.id);
  score.set_entity_kind(e.kind);
  score.set_entity_name(e.name);
  score.set_country(UnpackCountry(e.country));
  const double composite = Composite(p, s);
  score.set_composite(composite);
  score.set_band(BandOf(p, composite));
  for (int f = 0; f < kNumFactors; ++f) {
    v1::FactorScore* fs = score.add_factors();
    fs->set_factor(FactorOf(f));
    fs->set_direct(1 - d.v[f]);
    fs->set_propagated(1 - s.v[f]);
  }
  score.set_model_version(p.version);
  score.set_graph_sequence(sequence);
  *score.mutable_as_of() = base::ToProtoTime(NsToTime(as_of_ns));
  return score;
}

std::vector<v1::Contribution> Contributions(const State& st, const Params& p,
                                            Node v, int f) {
  std::vector<v1::Contribution> out;
  for (Term& t : Terms(st, p, v, f)) out.push_back(std::move(t.proto));
  return out;
}

v1::Contribution MainReason(const State& st, const Params& p, Node v, int f) {
  // Explain sorts the factors' terms, each list already largest first, by
  // log_odds with a stable sort: its first is the first factor's head whose
  // log_odds no later factor's head exceeds.
  // The direct exposures once for all factors (the profile of a top page
  // of hubs: computing them for each factor was a third of the time).
  const std::vector<App> apps = Apps(st, p, v);
  v1::Contribution best;
  bool found = false;
  for (int factor = 0; factor < kNumFactors; ++factor) {
    if (f >= 0 && factor != f) continue;
    std::vector<Term> terms = Terms(st, p, v, factor, apps);
    if (terms.empty()) continue;
    if (!found || terms[0].proto.log_odds() > best.log_odds()) {
      best = std::move(terms[0].proto);
      found = true;
    }
  }
  return best;
}

v1::Explanation Explain(const State& st, const Params& p, Node v, int f,
                        int max_paths, int max_depth, int64_t sequence) {
  v1::Explanation ex;
  *ex.mutable_score() =
      MakeScore(st, p, v, st.sd()[v], st.s()[v], sequence, st.as_of_ns());
  std::vector<v1::Contribution> all;
  std::vector<v1::ExplanationPath> paths;
  for (int factor = 0; factor < kNumFactors; ++factor) {
    if (f >= 0 && factor != f) continue;
    std::vector<Term> terms = Terms(st, p, v, factor);
    int started = 0;
    for (const Term& first : terms) {
      if (started >= max_paths) break;
      if (first.upstream == kNone || first.unscored) continue;
      ++started;
      v1::ExplanationPath path;
      path.set_factor(FactorOf(factor));
      path.set_fraction(first.proto.fraction());
      *path.add_hops() = Hop(st, v, factor);
      absl::flat_hash_set<Node> on_path{v};
      Node cur = first.upstream;
      v1::PathHop hop = Hop(st, cur, factor);
      hop.set_edge_kind(first.proto.upstream().edge_kind());
      hop.set_weight(first.proto.upstream().weight());
      if (first.proto.upstream().has_edge()) {
        *hop.mutable_edge() = first.proto.upstream().edge();
      }
      *path.add_hops() = hop;
      on_path.insert(cur);
      int depth = 1;
      while (true) {
        const Term* next = nullptr;
        std::vector<Term> here = Terms(st, p, cur, factor);
        for (const Term& t : here) {
          if (t.unscored) continue;
          if (t.upstream == kNone || !on_path.contains(t.upstream)) {
            next = &t;
            break;
          }
        }
        if (next == nullptr) break;
        if (next->upstream == kNone) {
          path.set_signal_id(next->proto.direct().signal_id());
          break;
        }
        if (depth >= max_depth) break;
        cur = next->upstream;
        v1::PathHop h = Hop(st, cur, factor);
        h.set_edge_kind(next->proto.upstream().edge_kind());
        h.set_weight(next->proto.upstream().weight());
        if (next->proto.upstream().has_edge()) {
          *h.mutable_edge() = next->proto.upstream().edge();
        }
        *path.add_hops() = h;
        on_path.insert(cur);
        ++depth;
      }
      std::vector<std::string> names;
      for (const v1::PathHop& h : path.hops()) names.push_back(h.entity_name());
      std::string summary = absl::StrFormat(
          "%s: %s %.2f", absl::StrJoin(names, " <- "), FactorLabel(factor),
          path.hops(path.hops_size() - 1).score());
      if (!path.signal_id().empty()) {
        const SignalRec* s = st.signals().Find(path.signal_id());
        absl::StrAppend(
            &summary, " (",
            s != nullptr && !s->title.empty() ? s->title : path.signal_id(),
            ")");
      }
      path.set_summary(std::move(summary));
      paths.push_back(std::move(path));
    }
    for (Term& t : terms) all.push_back(std::move(t.proto));
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const v1::Contribution& a, const v1::Contribution& b) {
                     return a.log_odds() > b.log_odds();
                   });
  for (v1::Contribution& c : all) *ex.add_contributions() = std::move(c);
  std::stable_sort(
      paths.begin(), paths.end(),
      [](const v1::ExplanationPath& a, const v1::ExplanationPath& b) {
        return a.fraction() > b.fraction();
      });
  for (v1::ExplanationPath& path : paths) *ex.add_paths() = std::move(path);
  return ex;
}

}  // namespace georisk::scorer::internal
