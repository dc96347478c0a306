#include "services/scorer/model/update.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/scorer/model/condensation.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/parallel.h"

namespace georisk::scorer::internal {
namespace {

bool SameEdge(const EdgeRec& a, const EdgeRec& b) {
  return a.from == b.from && a.to == b.to && a.kind == b.kind &&
         a.product == b.product && a.weight == b.weight &&
         a.value_usd == b.value_usd && a.from_ns == b.from_ns &&
         a.until_ns == b.until_ns && a.alive == b.alive &&
         a.into_person == b.into_person &&
         a.share_unknown == b.share_unknown && a.record_id == b.record_id;
}

bool SameMember(const RuleMember& a, const RuleMember& b) {
  return a.severity == b.severity && a.signal_id == b.signal_id &&
         a.listed == b.listed;
}

EdgeRec ToEdgeRec(const v1::Edge& e, Node from, Node to, uint32_t product,
                  bool from_person) {
  EdgeRec r;
  r.from = from;
  r.to = to;
  r.kind = e.kind();
  r.product = product;
  r.weight = e.weight();
  r.value_usd = e.annual_value_usd();
  r.from_ns = FromNs(e.effective_from(), e.has_effective_from(), kPast);
  r.until_ns = FromNs(e.effective_until(), e.has_effective_until(), kFuture);
  r.alive = true;
  r.into_person = from_person && e.kind() == v1::Edge::OWNS;
  r.share_unknown = e.share_unknown();
  r.record_id = e.record_id();
  return r;
}

// The windows of the records of `e`'s pair (in `slots`) that outrank it.
std::vector<std::pair<int64_t, int64_t>> ShadowsOf(
    const EdgeRec& e, Slot self, const std::vector<Slot>& slots,
    const std::vector<EdgeRec>* all, const State* st) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (Slot o : slots) {
    if (o == self) continue;
    const EdgeRec& other = all != nullptr ? (*all)[o] : st->edges[o];
    if (other.alive && other.Outranks(e)) {
      out.emplace_back(other.from_ns, other.until_ns);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every window boundary of `e`: its own and its shadows'.
template <typename Fn>
void ForEachBoundary(const EdgeRec& e, Fn fn) {
  if (e.from_ns != kPast) fn(e.from_ns);
  if (e.until_ns != kFuture) fn(e.until_ns);
  for (const auto& [from, until] : e.shadows) {
    if (from != kPast) fn(from);
    if (until != kFuture) fn(until);
  }
}

// Propagation endpoints: exposure flows src -> dst.
Node PropSrc(const EdgeRec& e) {
  return e.kind == v1::Edge::SUPPLIES ? e.from : e.to;
}
Node PropDst(const EdgeRec& e) {
  return e.kind == v1::Edge::SUPPLIES ? e.to : e.from;
}

double WeightAt(const Params& p, const EdgeRec& e, int64_t t) {
  if (!e.ActiveAt(t) || e.from == e.to || e.weight <= 0 || e.into_person) {
    return 0;
  }
  switch (e.kind) {
    case v1::Edge::SUPPLIES:
      return std::min(1.0, p.beta * e.weight);
    case v1::Edge::OPERATES:
    case v1::Edge::OWNS:
      return std::min(1.0, e.weight);
    default:
      return 0;
  }
}

void EditIdList(CowMap<std::string, std::vector<std::string>>* map,
                const std::string& key, const std::string& id, bool add) {
  std::vector<std::string> ids;
  if (const std::vector<std::string>* found = map->Find(key)) ids = *found;
  auto it = std::find(ids.begin(), ids.end(), id);
  if (add) {
    if (it != ids.end()) return;
    ids.push_back(id);
  } else {
    if (it == ids.end()) return;
    ids.erase(it);
  }
  if (ids.empty()) {
    map->Erase(key);
  } else {
    map->Set(key, std::move(ids));
  }
}

}  // namespace

void IndexSignal(State* st, const SignalRec& r, bool add) {
  switch (r.kind) {
    case v1::SIGNAL_KIND_EXPORT_CONTROL:
      if (r.ec_kind == v1::ExportControl::DESTINATION_CONTROL) {
        if (add) {
          st->destination_controls.Set(r.id, true);
        } else {
          st->destination_controls.Erase(r.id);
        }
      } else {
        for (const std::string& target : r.targets) {
          EditIdList(&st->by_target, target, r.id, add);
        }
      }
      break;
    case v1::SIGNAL_KIND_TARIFF: {
      std::vector<std::string> ids;
      if (const auto* found = st->tariffs_by_importer.Find(r.importer)) {
        ids = *found;
      }
      auto it = std::find(ids.begin(), ids.end(), r.id);
      if (add && it == ids.end()) ids.push_back(r.id);
      if (!add && it != ids.end()) ids.erase(it);
      if (ids.empty()) {
        st->tariffs_by_importer.Erase(r.importer);
      } else {
        st->tariffs_by_importer.Set(r.importer, std::move(ids));
      }
      break;
    }
    case v1::SIGNAL_KIND_TENSION:
      if (add) {
        st->tensions.Set(r.id, true);
      } else {
        st->tensions.Erase(r.id);
      }
      break;
    default:
      break;
  }
}

Updater::Updater(State* st, const Params& p, PropagationScratch* scratch)
    : st_(st),
      p_(p),
      start_as_of_(st->as_of_ns),
      prop_(st, p, scratch),
      rules_dirty_(p.rules.size(), false) {}

double Updater::PropWeight(const EdgeRec& e, int64_t t) const {
  return WeightAt(p_, e, t);
}

void Updater::OnPropChange(Slot slot, const EdgeRec& e, double before,
                           double after) {
  if (before == after) return;
  const Node src = PropSrc(e);
  const Node dst = PropDst(e);
  if (before > 0 && after > 0) {
    ReweightPropEdge(st_, src, dst, slot, after);
  } else if (before > 0) {
    RemovePropEdge(st_, src, dst, slot);
  } else {
    AddPropEdge(st_, src, dst, slot, after);
  }
  prop_.Seed(dst);
}

void Updater::AddEvents(Slot slot, const EdgeRec& e) {
  if (st_->is_overlay()) return;  // Overlays move the date before editing.
  ForEachBoundary(e, [&](int64_t t) { st_->edge_events.emplace(t, slot); });
}

void Updater::RemoveEvents(Slot slot, const EdgeRec& e) {
  if (st_->is_overlay()) return;
  ForEachBoundary(e, [&](int64_t t) {
    auto [lo, hi] = st_->edge_events.equal_range(t);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == slot) {
        st_->edge_events.erase(it);
        break;
      }
    }
  });
}

void Updater::ResolvePair(const EdgeRec& key) {
  const std::vector<Slot> slots =
      st_->PairRecords(key.from, key.kind, key.to, key.product);
  if (slots.size() == 1 && st_->edges[slots[0]].shadows.empty()) return;
  const int64_t now = st_->as_of_ns;
  for (Slot slot : slots) {
    const EdgeRec e = st_->edges[slot];
    std::vector<std::pair<int64_t, int64_t>> shadows =
        ShadowsOf(e, slot, slots, nullptr, st_);
    if (shadows == e.shadows) continue;
    EdgeRec next = e;
    next.shadows = std::move(shadows);
    RemoveEvents(slot, e);
    st_->edges.Set(slot, next);
    AddEvents(slot, next);
    OnPropChange(slot, next, PropWeight(e, now), PropWeight(next, now));
    DirtyEdge(next);
  }
}

void Updater::DirtyFacilitiesOf(Node v) {
  for (Slot slot : st_->out_slots.List(v)) {
    const EdgeRec& e = st_->edges[slot];
    if (e.kind == v1::Edge::OPERATES) Dirty(e.to);
  }
}

void Updater::DirtyRulesOfOwner(Node owner) {
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (st_->rules[r].members.contains(owner)) rules_dirty_[r] = true;
  }
}

void Updater::DirtyEdge(const EdgeRec& e) {
  switch (e.kind) {
    case v1::Edge::SUPPLIES:
      Dirty(e.to);    // Inbound tariffs, crossing, destination controls.
      Dirty(e.from);  // Outbound tariffs (output shares).
      break;
    case v1::Edge::OPERATES:
      Dirty(e.to);  // Listings of operators reach facilities.
      break;
    case v1::Edge::OWNS:
      DirtyRulesOfOwner(e.from);
      break;
    default:
      break;
  }
}

void Updater::DirtySignal(const SignalRec& r) {
  if (!r.ActiveAt(start_as_of_) && !r.ActiveAt(st_->as_of_ns)) return;
  const State& live = st_->live();
  auto for_country = [&](uint16_t country, auto fn) {
    auto it = live.nodes_by_country.find(country);
    if (it == live.nodes_by_country.end()) return;
    for (Node v : it->second) {
      const NodeInfo& e = st_->info[v];
      if (e.alive && e.country == country) fn(v, e);
    }
  };
  switch (r.kind) {
    case v1::SIGNAL_KIND_EXPORT_CONTROL:
      if (r.ec_kind == v1::ExportControl::DESTINATION_CONTROL) {
        for (uint16_t c : r.destinations) {
          for_country(c, [&](Node v, const NodeInfo& e) {
            if (e.kind == v1::Entity::FACILITY) Dirty(v);
          });
        }
        return;
      }
      for (const std::string& target : r.targets) {
        const Node* v = st_->node_of.Find(target);
        if (v == nullptr) continue;
        Dirty(*v);
        DirtyFacilitiesOf(*v);
      }
      if (r.ec_kind == v1::ExportControl::ENTITY_LISTING) {
        for (size_t i = 0; i < p_.rules.size(); ++i) {
          if (p_.rules[i].authority == r.authority) rules_dirty_[i] = true;
        }
      }
      return;
    case v1::SIGNAL_KIND_TARIFF:
      for_country(r.importer, [&](Node v, const NodeInfo& customer) {
        for (Slot slot : st_->in_slots.List(v)) {
          const EdgeRec& e = st_->edges[slot];
          if (e.kind != v1::Edge::SUPPLIES) continue;
          const NodeInfo& u = st_->info[e.from];
          if (u.country == customer.country) continue;
          if (r.origin != 0 && u.country != r.origin) continue;
          if (!HsMatches(r.hs_prefix, st_->ProductCode(e.product))) continue;
          Dirty(v);
          Dirty(e.from);
        }
      });
      return;
    case v1::SIGNAL_KIND_TENSION: {
      if (r.theatre != "cross_strait") return;
      std::vector<uint16_t> countries{kTW, kCN};
      for (const auto& [c, w] : r.weights) countries.push_back(c);
      for (const auto& [c, w] : p_.default_tension_weights) {
        countries.push_back(c);
      }
      std::sort(countries.begin(), countries.end());
      countries.erase(std::unique(countries.begin(), countries.end()),
                      countries.end());
      for (uint16_t c : countries) {
        for_country(c, [&](Node v, const NodeInfo&) { Dirty(v); });
      }
      return;
    }
    default:
      return;
  }
}

void Updater::SetAsOf(int64_t as_of_ns) {
  const int64_t old = st_->as_of_ns;
  if (as_of_ns == old) return;
  st_->as_of_ns = as_of_ns;
  const int64_t lo = std::min(old, as_of_ns);
  const int64_t hi = std::max(old, as_of_ns);
  // Edges whose window starts or ends in (lo, hi].
  std::vector<Slot> flipped;
  const State& live = st_->live();
  for (auto it = live.edge_events.upper_bound(lo);
       it != live.edge_events.end() && it->first <= hi; ++it) {
    flipped.push_back(it->second);
  }
  std::sort(flipped.begin(), flipped.end());
  flipped.erase(std::unique(flipped.begin(), flipped.end()), flipped.end());
  for (Slot slot : flipped) {
    const EdgeRec e = st_->edges[slot];
    if (!e.alive || e.ActiveAt(old) == e.ActiveAt(as_of_ns)) continue;
    OnPropChange(slot, e, PropWeight(e, old), PropWeight(e, as_of_ns));
    DirtyEdge(e);
  }
  // Signals whose window opens or closes (thousands: a scan is cheap).
  std::vector<SignalRec> flipped_signals;
  st_->signals.ForEach([&](const std::string&, const SignalRec& r) {
    if (r.ActiveAt(old) != r.ActiveAt(as_of_ns)) flipped_signals.push_back(r);
  });
  for (const SignalRec& r : flipped_signals) DirtySignal(r);
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (OwnershipRuleActiveAt(p_.rules[r].proto, NsToTime(old)) !=
        OwnershipRuleActiveAt(p_.rules[r].proto, NsToTime(as_of_ns))) {
      rules_dirty_[r] = true;
    }
  }
}

absl::Status Updater::Apply(const v1::Mutation& m) {
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      if (st_->is_overlay() &&
          st_->node_of.Find(m.upsert_entity().id()) == nullptr) {
        return absl::InvalidArgumentError(
            "upsert_entity: scenarios cannot add entities");
      }
      UpsertEntity(m.upsert_entity());
      return absl::OkStatus();
    case v1::Mutation::kUpsertEdge:
      return UpsertEdge(m.upsert_edge());
    case v1::Mutation::kUpsertSignal:
      UpsertSignal(m.upsert_signal());
      return absl::OkStatus();
    case v1::Mutation::kDeleteEntityId: {
      const Node* v = st_->node_of.Find(m.delete_entity_id());
      if (v != nullptr) DeleteEntity(*v);
      return absl::OkStatus();
    }
    case v1::Mutation::kDeleteEdge: {
      const v1::EdgeKey& k = m.delete_edge();
      const Node* from = st_->node_of.Find(k.from_id());
      const Node* to = st_->node_of.Find(k.to_id());
      const uint32_t* product = k.product_code().empty()
                                    ? nullptr
                                    : st_->product_of.Find(k.product_code());
      if (from == nullptr || to == nullptr ||
          (!k.product_code().empty() && product == nullptr)) {
        return absl::OkStatus();
      }
      const Slot slot = st_->FindEdge(*from, k.kind(), *to,
                                      product ? *product : 0, k.record_id());
      if (slot != kNone) DeleteEdgeSlot(slot);
      return absl::OkStatus();
    }
    case v1::Mutation::kDeleteSignalId:
      DeleteSignal(m.delete_signal_id());
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("mutation: no kind set");
  }
}

void Updater::UpsertEntity(const v1::Entity& e) {
  const uint16_t country = PackCountry(e.country());
  const Node* found = st_->node_of.Find(e.id());
  auto rules_of_targets = [&](const std::string& id) {
    const std::vector<std::string>* sigs = st_->SignalsTargeting(id);
    if (sigs == nullptr) return;
    for (const std::string& sid : *sigs) {
      const SignalRec* s = st_->signals.Find(sid);
      if (s == nullptr || s->ec_kind != v1::ExportControl::ENTITY_LISTING) {
        continue;
      }
      for (size_t r = 0; r < p_.rules.size(); ++r) {
        if (p_.rules[r].authority == s->authority) rules_dirty_[r] = true;
      }
    }
  };
  if (found == nullptr) {
    // Live only (Apply refuses new entities in overlays).
    const Node v = static_cast<Node>(st_->node_count());
    EntityRec rec;
    rec.id = e.id();
    rec.name = e.name();
    rec.kind = e.kind();
    rec.country = country;
    rec.alive = true;
    st_->AddEntity(std::move(rec));
    st_->sd.PushBack(Triple());
    st_->s.PushBack(Triple());
    st_->flags.PushBack(0);
    AddSingletonComp(st_, v);  // Also sets comp_of and pos.
    st_->node_of.Set(e.id(), v);
    st_->nodes_by_country[country].push_back(v);
    result_.created.push_back(v);
    result_.existed_before.try_emplace(v, false);
    Dirty(v);
    rules_of_targets(e.id());
    return;
  }
  const Node v = *found;
  EntityRec rec = st_->entities[v];
  const bool revived = !rec.alive;
  const bool moved = rec.country != country;
  rec.name = e.name();
  rec.kind = e.kind();
  rec.country = country;
  rec.alive = true;
  st_->SetEntity(v, std::move(rec));
  if (moved && !st_->is_overlay()) st_->nodes_by_country[country].push_back(v);
  if (revived) {
    result_.created.push_back(v);
    result_.existed_before.try_emplace(v, false);
    Dirty(v);
    rules_of_targets(e.id());
    return;
  }
  if (moved) {
    // Location, and both sides of every supply edge (tariffs, crossing).
    Dirty(v);
    for (Slot slot : st_->in_slots.List(v)) {
      const EdgeRec& edge = st_->edges[slot];
      if (edge.kind == v1::Edge::SUPPLIES) Dirty(edge.from);
    }
    for (Slot slot : st_->out_slots.List(v)) {
      const EdgeRec& edge = st_->edges[slot];
      if (edge.kind == v1::Edge::SUPPLIES) Dirty(edge.to);
    }
  }
}

void Updater::DeleteEntity(Node v) {
  if (!st_->Alive(v)) return;
  std::vector<Slot> slots;
  for (Slot s : st_->in_slots.List(v)) slots.push_back(s);
  for (Slot s : st_->out_slots.List(v)) slots.push_back(s);
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  for (Slot s : slots) DeleteEdgeSlot(s);
  DirtyRulesOfOwner(v);
  EntityRec rec = st_->entities[v];
  rec.alive = false;
  st_->SetEntity(v, std::move(rec));
  result_.deleted.push_back(v);
  result_.existed_before.try_emplace(v, true);
  Dirty(v);
  prop_.Seed(v);
}

absl::Status Updater::UpsertEdge(const v1::Edge& e) {
  const Node* from = st_->node_of.Find(e.from_id());
  if (from == nullptr || !st_->Alive(*from)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upsert_edge.from_id: entity ", e.from_id(), " does not exist"));
  }
  const Node* to = st_->node_of.Find(e.to_id());
  if (to == nullptr || !st_->Alive(*to)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upsert_edge.to_id: entity ", e.to_id(), " does not exist"));
  }
  const Node f = *from;
  const Node t = *to;
  const uint32_t product = st_->InternProduct(e.product_code());
  const EdgeRec rec =
      ToEdgeRec(e, f, t, product, st_->info[f].kind == v1::Entity::PERSON);
  const int64_t now = st_->as_of_ns;
  Slot slot = st_->FindEdge(f, e.kind(), t, product, e.record_id());
  if (slot != kNone) {
    const EdgeRec old = st_->edges[slot];
    if (SameEdge(old, rec)) return absl::OkStatus();
    RemoveEvents(slot, old);
    st_->edges.Set(slot, rec);
    AddEvents(slot, rec);
    OnPropChange(slot, rec, PropWeight(old, now), PropWeight(rec, now));
    DirtyEdge(old);
    DirtyEdge(rec);
    ResolvePair(rec);
    return absl::OkStatus();
  }
  if (!st_->is_overlay() && !st_->free_slots.empty()) {
    slot = st_->free_slots.back();
    st_->free_slots.pop_back();
    st_->edges.Set(slot, rec);
  } else {
    slot = static_cast<Slot>(st_->edges.size());
    st_->edges.PushBack(rec);
  }
  st_->in_slots.Add(t, slot);
  st_->out_slots.Add(f, slot);
  AddEvents(slot, rec);
  OnPropChange(slot, rec, 0, PropWeight(rec, now));
  DirtyEdge(rec);
  ResolvePair(rec);
  return absl::OkStatus();
}

void Updater::DeleteEdgeSlot(Slot slot) {
  const EdgeRec rec = st_->edges[slot];
  if (!rec.alive) return;
  OnPropChange(slot, rec, PropWeight(rec, st_->as_of_ns), 0);
  st_->in_slots.Remove(rec.to, [slot](Slot s) { return s == slot; });
  st_->out_slots.Remove(rec.from, [slot](Slot s) { return s == slot; });
  RemoveEvents(slot, rec);
  EdgeRec dead = rec;
  dead.alive = false;
  st_->edges.Set(slot, dead);
  if (!st_->is_overlay()) st_->free_slots.push_back(slot);
  DirtyEdge(rec);
  if (!st_->PairRecords(rec.from, rec.kind, rec.to, rec.product).empty()) {
    ResolvePair(rec);
  }
}

void Updater::UpsertSignal(const v1::Signal& s) {
  SignalRec rec = ToSignalRec(s, p_);
  if (const SignalRec* found = st_->signals.Find(rec.id)) {
    const SignalRec old = *found;
    DirtySignal(old);
    IndexSignal(st_, old, false);
  }
  st_->signals.Set(rec.id, rec);
  IndexSignal(st_, rec, true);
  DirtySignal(rec);
}

void Updater::DeleteSignal(const std::string& id) {
  const SignalRec* found = st_->signals.Find(id);
  if (found == nullptr) return;
  const SignalRec old = *found;
  DirtySignal(old);
  IndexSignal(st_, old, false);
  st_->signals.Erase(id);
}

UpdateResult Updater::Finish() {
  // 1. Ownership rules whose inputs changed; members that moved are dirty,
  //    with their facilities.
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (!rules_dirty_[r]) continue;
    RuleState next = ComputeRule(*st_, p_, static_cast<int>(r));
    const RuleState& prev = st_->rules[r];
    for (const auto& [v, m] : prev.members) {
      auto it = next.members.find(v);
      if (it == next.members.end() || !SameMember(m, it->second)) {
        Dirty(v);
        DirtyFacilitiesOf(v);
      }
    }
    for (const auto& [v, m] : next.members) {
      if (!prev.members.contains(v)) {
        Dirty(v);
        DirtyFacilitiesOf(v);
      }
    }
    st_->rules.Set(r, std::move(next));
  }
  // 2. Comps that lost internal edges (live: split exactly).
  if (!st_->is_overlay()) SplitMarkedComps(st_);
  // 3. Direct exposures of dirty nodes.
  std::vector<Node> dirty(dirty_.begin(), dirty_.end());
  std::sort(dirty.begin(), dirty.end());
  // Indexing every listing candidate up front pays only for many nodes.
  ExposureCache cache(*st_, p_, /*eager_candidates=*/dirty.size() > 4096);
  for (Node v : dirty) {
    const Direct d = ComputeDirect(*st_, p_, v, &cache, nullptr);
    const Triple old = st_->sd[v];
    if (d.sd != old) {
      const Comp c = st_->comp_of[v];
      std::array<int32_t, kNumFactors> in = st_->inputs[c];
      for (int f = 0; f < kNumFactors; ++f) {
        in[f] += (d.sd.v[f] < 1 ? 1 : 0) - (old.v[f] < 1 ? 1 : 0);
      }
      st_->inputs.Set(c, in);
      result_.direct_before.try_emplace(v, old);
      st_->sd.Set(v, d.sd);
      prop_.Seed(v);
    }
    const bool had = st_->flags[v] & kHasListing;
    const ListingInfo* info = had ? st_->listing.Find(v) : nullptr;
    if (d.has_listing) {
      if (info == nullptr || info->status != d.listing.status ||
          info->derived != d.listing.derived ||
          info->base_survival != d.listing.base_survival) {
        ListingInfo next = d.listing;
        next.up_survival =
            info != nullptr ? info->up_survival : Evaluate(*st_, v).up_ec;
        st_->listing.Set(v, std::move(next));
        st_->flags.Set(
            v, kHasListing | (d.listing.derived.empty() ? 0 : kHasDerived));
        prop_.Seed(v);
        prop_.SeedSuccessors(v);
      }
    } else if (had) {
      st_->listing.Erase(v);
      st_->flags.Set(v, 0);
      prop_.Seed(v);
      prop_.SeedSuccessors(v);
    }
  }
  // 4. Propagate.
  prop_.Run();
  result_.changed = prop_.TakeChanged();
  result_.stats = prop_.stats();
  // 5. Live: fold edited adjacency lists back into CSR arrays now and then.
  if (!st_->is_overlay()) {
    const size_t n = st_->node_count();
    if (st_->in_slots.ShouldCompact()) st_->in_slots.Compact(n);
    if (st_->out_slots.ShouldCompact()) st_->out_slots.Compact(n);
    if (st_->pin.ShouldCompact()) st_->pin.Compact(n);
    if (st_->pout.ShouldCompact()) st_->pout.Compact(n);
  }
  return std::move(result_);
}

PropagationStats RescoreAll(State* st, const Params& p) {
  const absl::Time start = absl::Now();
  st->rules.live().clear();
  for (size_t r = 0; r < p.rules.size(); ++r) {
    st->rules.live().push_back(ComputeRule(*st, p, static_cast<int>(r)));
  }
  const size_t n = st->node_count();
  st->listing.Clear();
  st->flags.live().assign(n, 0);
  st->sd.live().assign(n, Triple());
  st->s.live().assign(n, Triple());
  // Direct exposures only read the state (rules and signals are final), so
  // the nodes are split between threads; each has its own cache (it
  // memoises) and collects its listings, which go into the map in node
  // order afterwards.
  const int workers = Workers(n);
  std::vector<std::vector<std::pair<Node, ListingInfo>>> listings(workers);
  Triple* sd = st->sd.live().data();
  uint8_t* flags = st->flags.live().data();
  ParallelRanges(n, workers, [&](size_t begin, size_t end, int w) {
    ExposureCache cache(*st, p);
    for (Node v = static_cast<Node>(begin); v < end; ++v) {
      Direct d = ComputeDirect(*st, p, v, &cache, nullptr);
      sd[v] = d.sd;
      if (d.has_listing) {
        flags[v] = kHasListing | (d.listing.derived.empty() ? 0 : kHasDerived);
        listings[w].emplace_back(v, std::move(d.listing));
      }
    }
  });
  for (auto& part : listings) {
    for (auto& [v, info] : part) st->listing.Set(v, std::move(info));
  }
  const absl::Time direct_done = absl::Now();
  // The condensation depends only on the propagation edges: after a change
  // of signals, weights or nothing at all it is still the one a rebuild
  // would make.
  if (!st->condensation_fresh) BuildCondensation(st);
  const absl::Time condensed = absl::Now();
  PropagationStats stats = FullPropagate(st, p);
  stats.rules_and_direct = direct_done - start;
  stats.condensation = condensed - direct_done;
  stats.propagation = absl::Now() - condensed;
  return stats;
}

PropagationStats BuildState(State* st, const Params& p,
                            std::vector<v1::Entity> entities,
                            std::vector<v1::Edge> edges,
                            std::vector<v1::Signal> signals, int64_t sequence,
                            int64_t as_of_ns, int64_t* skipped) {
  *skipped = 0;
  st->as_of_ns = as_of_ns;
  st->sequence = sequence;
  st->products.PushBack("");
  std::vector<EntityRec>& ents = st->entities.live();
  ents.reserve(entities.size());
  for (v1::Entity& e : entities) {
    EntityRec rec;
    rec.id = std::move(*e.mutable_id());
    rec.name = std::move(*e.mutable_name());
    rec.kind = e.kind();
    rec.country = PackCountry(e.country());
    rec.alive = true;
    if (const Node* v = st->node_of.Find(rec.id)) {
      ents[*v] = std::move(rec);  // A repeated id: the last one wins.
      continue;
    }
    const Node v = static_cast<Node>(ents.size());
    st->node_of.Set(rec.id, v);
    ents.push_back(std::move(rec));
  }
  entities.clear();
  entities.shrink_to_fit();
  const size_t n = ents.size();

  for (const v1::Signal& s : signals) {
    SignalRec rec = ToSignalRec(s, p);
    if (const SignalRec* old = st->signals.Find(rec.id)) {
      const SignalRec copy = *old;
      IndexSignal(st, copy, false);
    }
    st->signals.Set(rec.id, rec);
    IndexSignal(st, rec, true);
  }

  std::vector<EdgeRec>& recs = st->edges.live();
  recs.reserve(edges.size());
  for (const v1::Edge& e : edges) {
    const Node* from = st->node_of.Find(e.from_id());
    const Node* to = st->node_of.Find(e.to_id());
    if (from == nullptr || to == nullptr) {
      ++*skipped;
      continue;
    }
    recs.push_back(ToEdgeRec(e, *from, *to, st->InternProduct(e.product_code()),
                             ents[*from].kind == v1::Entity::PERSON));
  }
  edges.clear();
  edges.shrink_to_fit();
  // Several dated records of one pair: each learns which windows outrank it.
  {
    std::vector<Slot> order(recs.size());
    for (Slot i = 0; i < recs.size(); ++i) order[i] = i;
    auto pair_key = [&](Slot i) {
      const EdgeRec& r = recs[i];
      return std::make_tuple(r.to, r.from, static_cast<int>(r.kind), r.product);
    };
    std::sort(order.begin(), order.end(),
              [&](Slot a, Slot b) { return pair_key(a) < pair_key(b); });
    std::vector<Slot> group;
    for (size_t i = 0; i < order.size();) {
      size_t j = i + 1;
      while (j < order.size() && pair_key(order[j]) == pair_key(order[i])) ++j;
      if (j - i > 1) {
        group.assign(order.begin() + i, order.begin() + j);
        for (Slot g : group) {
          recs[g].shadows = ShadowsOf(recs[g], g, group, &recs, nullptr);
        }
      }
      i = j;
    }
  }

  std::vector<std::pair<uint32_t, Slot>> in_pairs, out_pairs;
  std::vector<std::pair<uint32_t, PropIn>> pin_pairs;
  std::vector<std::pair<uint32_t, PropOut>> pout_pairs;
  auto propagation_pairs = [&] {
    pin_pairs.clear();
    pout_pairs.clear();
    for (Slot slot = 0; slot < recs.size(); ++slot) {
      const EdgeRec& r = recs[slot];
      const double w = WeightAt(p, r, as_of_ns);
      if (w > 0) {
        pin_pairs.emplace_back(PropDst(r), PropIn{PropSrc(r), slot, w});
        pout_pairs.emplace_back(PropSrc(r),
                                PropOut{PropDst(r), slot, WeightBound(w)});
      }
    }
  };

  // Number the nodes in the order propagation visits them (comps in
  // topological order, each cycle's members with few edges backwards), so
  // that a full pass walks the arrays mostly forward and neighbours sit
  // close.
  propagation_pairs();
  st->pin.Build(n, pin_pairs);
  st->pout.Build(n, pout_pairs);
  std::vector<std::vector<Node>> sccs;  // Reverse topological order.
  {
    std::vector<int32_t> local(n, -1);
    StronglyConnected(*st, {}, true, [&](std::vector<Node>& scc) {
      OrderForFewBackEdges(*st, &scc, &local);
      sccs.push_back(scc);
    });
  }
  std::vector<Node> renumber(n);
  Node next = 0;
  for (auto it = sccs.rbegin(); it != sccs.rend(); ++it) {
    for (Node v : *it) renumber[v] = next++;
  }
  sccs.clear();
  sccs.shrink_to_fit();
  std::vector<EntityRec> ordered(n);
  for (Node v = 0; v < n; ++v) ordered[renumber[v]] = std::move(ents[v]);
  ents = std::move(ordered);
  st->node_of.RemapValues([&](Node v) { return renumber[v]; });
  // Edge records in the order of their targets, so that a node's inbound
  // edges sit together.
  for (EdgeRec& r : recs) {
    r.from = renumber[r.from];
    r.to = renumber[r.to];
  }
  std::stable_sort(
      recs.begin(), recs.end(),
      [](const EdgeRec& a, const EdgeRec& b) { return a.to < b.to; });
  in_pairs.reserve(recs.size());
  out_pairs.reserve(recs.size());
  for (Slot slot = 0; slot < recs.size(); ++slot) {
    const EdgeRec& r = recs[slot];
    in_pairs.emplace_back(r.to, slot);
    out_pairs.emplace_back(r.from, slot);
    ForEachBoundary(r, [&](int64_t t) { st->edge_events.emplace(t, slot); });
  }
  propagation_pairs();
  std::vector<NodeInfo>& info = st->info.live();
  info.resize(n);
  for (Node v = 0; v < n; ++v) {
    info[v] = State::InfoOf(ents[v]);
    st->nodes_by_country[ents[v].country].push_back(v);
  }
  st->in_slots.Build(n, in_pairs);
  st->out_slots.Build(n, out_pairs);
  st->pin.Build(n, pin_pairs);
  st->pout.Build(n, pout_pairs);
  st->condensation_fresh = false;
  return RescoreAll(st, p);
}

}  // namespace georisk::scorer::internal
