#include "services/scorer/model/update.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "services/scorer/model/condensation.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/parallel.h"

namespace georisk::scorer::internal {

// The write access of the full rebuild, the incremental update and the
// regroup of parties to a State (see state.h): the graph, the signals and
// rules, the direct scores, and what an update resets of the rest. Defined
// here only.
class GraphWriter {
 public:
  explicit GraphWriter(State* st) : st_(st) {}
  void SetEntity(Node v, EntityRec rec) { st_->SetEntity(v, std::move(rec)); }
  void AddEntity(EntityRec rec) { st_->AddEntity(std::move(rec)); }
  uint32_t InternProduct(absl::string_view code) {
    return st_->InternProduct(code);
  }
  // The full rebuild fills these in bulk (entities and info in step).
  CowVec<EntityRec>& entities() { return st_->entities_; }
  CowVec<NodeInfo>& info() { return st_->info_; }
  CowVec<std::string>& products() { return st_->products_; }
  // The full rebuild builds the propagation graph, which the condensation
  // then maintains; an update folds its edits back into CSR arrays.
  Adjacency<PropIn>& pin() { return st_->pin_; }
  Adjacency<PropOut>& pout() { return st_->pout_; }
  CowMap<std::string, Node>& node_of() { return st_->node_of_; }
  CowVec<EdgeRec>& edges() { return st_->edges_; }
  Adjacency<Slot>& in_slots() { return st_->in_slots_; }
  Adjacency<Slot>& out_slots() { return st_->out_slots_; }
  CowMap<std::string, SignalRec>& signals() { return st_->signals_; }
  CowMap<std::string, std::vector<std::string>>& by_target() {
    return st_->by_target_;
  }
  CowMap<uint16_t, std::vector<std::string>>& tariffs_by_importer() {
    return st_->tariffs_by_importer_;
  }
  CowMap<std::string, bool>& destination_controls() {
    return st_->destination_controls_;
  }
  CowMap<std::string, bool>& tensions() { return st_->tensions_; }
  CowVec<RuleState>& rules() { return st_->rules_; }
  CowVec<Triple>& sd() { return st_->sd_; }
  CowVec<Triple>& s() { return st_->s_; }
  CowVec<uint8_t>& flags() { return st_->flags_; }
  CowMap<Node, ListingInfo>& listing() { return st_->listing_; }
  CowVec<std::array<int32_t, kNumFactors>>& inputs() { return st_->inputs_; }
  bool& condensation_fresh() { return st_->condensation_fresh_; }
  int64_t& as_of_ns() { return st_->as_of_ns_; }
  int64_t& sequence() { return st_->sequence_; }
  absl::flat_hash_map<uint16_t, std::vector<Node>>& nodes_by_country() {
    return st_->nodes_by_country_;
  }
  absl::btree_multimap<int64_t, Slot>& edge_events() {
    return st_->edge_events_;
  }
  std::vector<Slot>& free_slots() { return st_->free_slots_; }
  Parties& parties() { return st_->parties_; }

 private:
  State* st_;
};

namespace {

bool SameEdge(const EdgeRec& a, const EdgeRec& b) {
  return a.from == b.from && a.to == b.to && a.kind == b.kind &&
         a.product == b.product && a.weight == b.weight &&
         a.value_usd == b.value_usd && a.from_ns == b.from_ns &&
         a.until_ns == b.until_ns && a.alive == b.alive &&
         a.into_person == b.into_person && a.share_unknown == b.share_unknown &&
         a.record_id.get() == b.record_id.get();
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
    const EdgeRec& other = all != nullptr ? (*all)[o] : st->edges()[o];
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
  for (const auto& [from, until] : e.shadows.get()) {
    if (from != kPast) fn(from);
    if (until != kFuture) fn(until);
  }
}

// Propagation endpoints: exposure flows src -> dst (a link edge: primary
// -> member).
bool FlowsForward(const EdgeRec& e) {
  return e.kind == v1::Edge::SUPPLIES || e.kind == kLinkEdge;
}
Node PropSrc(const EdgeRec& e) { return FlowsForward(e) ? e.from : e.to; }
Node PropDst(const EdgeRec& e) { return FlowsForward(e) ? e.to : e.from; }

// A member's link edge from its party's primary.
EdgeRec LinkEdgeRec(Node primary, Node member) {
  EdgeRec r;
  r.from = primary;
  r.to = member;
  r.kind = kLinkEdge;
  r.weight = 1;
  r.alive = true;
  return r;
}

// The edge record `e` of `st` as GraphStore would send it.
v1::Edge ToProtoEdge(const State& st, const EdgeRec& e) {
  v1::Edge out;
  out.set_from_id(st.entities()[e.from].id);
  out.set_to_id(st.entities()[e.to].id);
  out.set_kind(e.kind);
  out.set_product_code(st.ProductCode(e.product));
  out.set_weight(e.weight);
  out.set_annual_value_usd(e.value_usd);
  if (e.from_ns != kPast) {
    *out.mutable_effective_from() = base::ToProtoTime(NsToTime(e.from_ns));
  }
  if (e.until_ns != kFuture) {
    *out.mutable_effective_until() = base::ToProtoTime(NsToTime(e.until_ns));
  }
  out.set_record_id(e.record_id.get());
  return out;
}

// Is raw record `a` (key `ka`) preferred to `b` (key `kb`) for one effective
// key? The greatest weight, then the smallest raw key.
bool Preferred(const v1::Edge& a, const std::string& ka, const v1::Edge& b,
               const std::string& kb) {
  if (a.weight() != b.weight()) return a.weight() > b.weight();
  return ka < kb;
}

// `raw` with its ends replaced by their primaries in `parties`.
v1::Edge EffectiveOf(const Parties& parties, const v1::Edge& raw) {
  v1::Edge e = raw;
  if (const std::string* p = parties.PrimaryOf(raw.from_id())) {
    e.set_from_id(*p);
  }
  if (const std::string* p = parties.PrimaryOf(raw.to_id())) e.set_to_id(*p);
  return e;
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
      return e.kind == kLinkEdge ? 1 : 0;
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
  GraphWriter wr(st);
  switch (r.kind) {
    case v1::SIGNAL_KIND_EXPORT_CONTROL:
      if (r.ec_kind == v1::ExportControl::DESTINATION_CONTROL) {
        if (add) {
          wr.destination_controls().Set(r.id, true);
        } else {
          wr.destination_controls().Erase(r.id);
        }
      } else {
        // Indexed under the party's primary (parties.h).
        const Parties& parties = st->live().parties();
        for (const std::string& target : r.targets) {
          EditIdList(&wr.by_target(), parties.EffectiveId(target), r.id, add);
        }
      }
      break;
    case v1::SIGNAL_KIND_TARIFF: {
      std::vector<std::string> ids;
      if (const auto* found = st->tariffs_by_importer().Find(r.importer)) {
        ids = *found;
      }
      auto it = std::find(ids.begin(), ids.end(), r.id);
      if (add && it == ids.end()) ids.push_back(r.id);
      if (!add && it != ids.end()) ids.erase(it);
      if (ids.empty()) {
        wr.tariffs_by_importer().Erase(r.importer);
      } else {
        wr.tariffs_by_importer().Set(r.importer, std::move(ids));
      }
      break;
    }
    case v1::SIGNAL_KIND_TENSION:
      if (add) {
        wr.tensions().Set(r.id, true);
      } else {
        wr.tensions().Erase(r.id);
      }
      break;
    default:
      break;
  }
}

Updater::Updater(State* st, const Params& p, PropagationScratch* scratch)
    : st_(st),
      p_(p),
      start_as_of_(st->as_of_ns()),
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
  GraphWriter wr(st_);
  if (st_->is_overlay()) return;  // Overlays move the date before editing.
  ForEachBoundary(e, [&](int64_t t) { wr.edge_events().emplace(t, slot); });
}

void Updater::RemoveEvents(Slot slot, const EdgeRec& e) {
  GraphWriter wr(st_);
  if (st_->is_overlay()) return;
  ForEachBoundary(e, [&](int64_t t) {
    auto [lo, hi] = st_->edge_events().equal_range(t);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == slot) {
        wr.edge_events().erase(it);
        break;
      }
    }
  });
}

void Updater::ResolvePair(const EdgeRec& key) {
  GraphWriter wr(st_);
  const std::vector<Slot> slots =
      st_->PairRecords(key.from, key.kind, key.to, key.product);
  if (slots.size() == 1 && st_->edges()[slots[0]].shadows.empty()) return;
  const int64_t now = st_->as_of_ns();
  for (Slot slot : slots) {
    const EdgeRec e = st_->edges()[slot];
    std::vector<std::pair<int64_t, int64_t>> shadows =
        ShadowsOf(e, slot, slots, nullptr, st_);
    if (shadows == e.shadows.get()) continue;
    EdgeRec next = e;
    next.shadows = std::move(shadows);
    RemoveEvents(slot, e);
    wr.edges().Set(slot, next);
    AddEvents(slot, next);
    OnPropChange(slot, next, PropWeight(e, now), PropWeight(next, now));
    DirtyEdge(next);
  }
}

void Updater::DirtyFacilitiesOf(Node v) {
  for (Slot slot : st_->out_slots().List(v)) {
    const EdgeRec& e = st_->edges()[slot];
    if (e.kind == v1::Edge::OPERATES) Dirty(e.to);
  }
}

void Updater::DirtyRulesOfOwner(Node owner) {
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (st_->rules()[r].members.contains(owner)) rules_dirty_[r] = true;
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
  if (!r.ActiveAt(start_as_of_) && !r.ActiveAt(st_->as_of_ns())) return;
  const State& live = st_->live();
  auto for_country = [&](uint16_t country, auto fn) {
    auto it = live.nodes_by_country().find(country);
    if (it == live.nodes_by_country().end()) return;
    for (Node v : it->second) {
      const NodeInfo& e = st_->info()[v];
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
        const Node* v =
            st_->node_of().Find(st_->live().parties().EffectiveId(target));
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
        for (Slot slot : st_->in_slots().List(v)) {
          const EdgeRec& e = st_->edges()[slot];
          if (e.kind != v1::Edge::SUPPLIES) continue;
          const NodeInfo& u = st_->info()[e.from];
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
  GraphWriter wr(st_);
  const int64_t old = st_->as_of_ns();
  if (as_of_ns == old) return;
  wr.as_of_ns() = as_of_ns;
  const int64_t lo = std::min(old, as_of_ns);
  const int64_t hi = std::max(old, as_of_ns);
  // Edges whose window starts or ends in (lo, hi].
  std::vector<Slot> flipped;
  const State& live = st_->live();
  for (auto it = live.edge_events().upper_bound(lo);
       it != live.edge_events().end() && it->first <= hi; ++it) {
    flipped.push_back(it->second);
  }
  std::sort(flipped.begin(), flipped.end());
  flipped.erase(std::unique(flipped.begin(), flipped.end()), flipped.end());
  for (Slot slot : flipped) {
    const EdgeRec e = st_->edges()[slot];
    if (!e.alive || e.ActiveAt(old) == e.ActiveAt(as_of_ns)) continue;
    OnPropChange(slot, e, PropWeight(e, old), PropWeight(e, as_of_ns));
    DirtyEdge(e);
  }
  // Signals whose window opens or closes (thousands: a scan is cheap).
  std::vector<SignalRec> flipped_signals;
  st_->signals().ForEach([&](const std::string&, const SignalRec& r) {
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
  GraphWriter wr(st_);
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      if (st_->is_overlay() &&
          st_->node_of().Find(m.upsert_entity().id()) == nullptr) {
        return absl::InvalidArgumentError(
            "upsert_entity: scenarios cannot add entities");
      }
      UpsertEntity(m.upsert_entity());
      return absl::OkStatus();
    case v1::Mutation::kUpsertEdge:
      return UpsertRawEdge(m.upsert_edge());
    case v1::Mutation::kUpsertSignal:
      UpsertSignal(m.upsert_signal());
      return absl::OkStatus();
    case v1::Mutation::kDeleteEntityId: {
      const std::string& id = m.delete_entity_id();
      const Node* v = st_->node_of().Find(id);
      if (v == nullptr) return absl::OkStatus();
      if (st_->is_overlay() || st_->parties().empty()) {
        DeleteEntity(*v);
        return absl::OkStatus();
      }
      // GraphStore deletes the entity's edges and its POSITIVE and UNSURE
      // links with it.
      Parties& parties = wr.parties();
      std::vector<std::string> seeds{id};
      if (const std::string* p = parties.PrimaryOf(id)) {
        seeds = parties.MembersOf(*p);
      }
      const bool regroup = parties.PrimaryOf(id) != nullptr;
      if (!regroup) {
        // Its held records map to effective ones at its own node, which
        // DeleteEntity removes.
        for (const std::string& key : parties.RawEdgesOf(id)) {
          parties.EraseRawEdge(key);
        }
      }
      parties.RemovePositiveAndUnsureLinksOf(id);
      DeleteEntity(*v);
      // Regroup takes out the effective records of its raw ones, wherever
      // they were carried, and drops them.
      if (regroup) Regroup(seeds);
      return absl::OkStatus();
    }
    case v1::Mutation::kDeleteEdge:
      DeleteRawEdge(m.delete_edge());
      return absl::OkStatus();
    case v1::Mutation::kDeleteSignalId:
      DeleteSignal(m.delete_signal_id());
      return absl::OkStatus();
    case v1::Mutation::kUpsertLink:
      if (st_->is_overlay()) {
        return absl::InvalidArgumentError(
            "upsert_link: scenarios cannot change links");
      }
      UpsertLink(m.upsert_link());
      return absl::OkStatus();
    case v1::Mutation::kDeleteLink:
      if (st_->is_overlay()) {
        return absl::InvalidArgumentError(
            "delete_link: scenarios cannot change links");
      }
      DeleteLink(m.delete_link());
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("mutation: no kind set");
  }
}

void Updater::UpsertEntity(const v1::Entity& e) {
  GraphWriter wr(st_);
  const uint16_t country = PackCountry(e.country());
  const Node* found = st_->node_of().Find(e.id());
  auto rules_of_targets = [&](const std::string& id) {
    const std::vector<std::string>* sigs = st_->SignalsTargeting(id);
    if (sigs == nullptr) return;
    for (const std::string& sid : *sigs) {
      const SignalRec* s = st_->signals().Find(sid);
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
    wr.AddEntity(std::move(rec));
    wr.sd().PushBack(Triple());
    wr.s().PushBack(Triple());
    wr.flags().PushBack(0);
    AddSingletonComp(st_, v);  // Also sets comp_of and pos.
    wr.node_of().Set(e.id(), v);
    wr.nodes_by_country()[country].push_back(v);
    result_.created.push_back(v);
    result_.existed_before.try_emplace(v, false);
    Dirty(v);
    rules_of_targets(e.id());
    return;
  }
  const Node v = *found;
  EntityRec rec = st_->entities()[v];
  const bool revived = !rec.alive;
  const bool moved = rec.country != country;
  rec.name = e.name();
  rec.kind = e.kind();
  rec.country = country;
  rec.alive = true;
  wr.SetEntity(v, std::move(rec));
  if (moved && !st_->is_overlay()) wr.nodes_by_country()[country].push_back(v);
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
    for (Slot slot : st_->in_slots().List(v)) {
      const EdgeRec& edge = st_->edges()[slot];
      if (edge.kind == v1::Edge::SUPPLIES) Dirty(edge.from);
    }
    for (Slot slot : st_->out_slots().List(v)) {
      const EdgeRec& edge = st_->edges()[slot];
      if (edge.kind == v1::Edge::SUPPLIES) Dirty(edge.to);
    }
  }
}

void Updater::DeleteEntity(Node v) {
  GraphWriter wr(st_);
  if (!st_->Alive(v)) return;
  std::vector<Slot> slots;
  for (Slot s : st_->in_slots().List(v)) slots.push_back(s);
  for (Slot s : st_->out_slots().List(v)) slots.push_back(s);
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  for (Slot s : slots) DeleteEdgeSlot(s);
  DirtyRulesOfOwner(v);
  EntityRec rec = st_->entities()[v];
  rec.alive = false;
  wr.SetEntity(v, std::move(rec));
  result_.deleted.push_back(v);
  result_.existed_before.try_emplace(v, true);
  Dirty(v);
  prop_.Seed(v);
}

absl::Status Updater::UpsertEdge(const v1::Edge& e) {
  GraphWriter wr(st_);
  const Node* from = st_->node_of().Find(e.from_id());
  if (from == nullptr || !st_->Alive(*from)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upsert_edge.from_id: entity ", e.from_id(), " does not exist"));
  }
  const Node* to = st_->node_of().Find(e.to_id());
  if (to == nullptr || !st_->Alive(*to)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upsert_edge.to_id: entity ", e.to_id(), " does not exist"));
  }
  const Node f = *from;
  const Node t = *to;
  const uint32_t product = wr.InternProduct(e.product_code());
  return UpsertEdgeRec(
      ToEdgeRec(e, f, t, product, st_->info()[f].kind == v1::Entity::PERSON));
}

absl::Status Updater::UpsertEdgeRec(EdgeRec rec) {
  GraphWriter wr(st_);
  const Node f = rec.from;
  const Node t = rec.to;
  const int64_t now = st_->as_of_ns();
  Slot slot = st_->FindEdge(f, rec.kind, t, rec.product, rec.record_id.get());
  if (slot != kNone) {
    const EdgeRec old = st_->edges()[slot];
    if (SameEdge(old, rec)) return absl::OkStatus();
    RemoveEvents(slot, old);
    wr.edges().Set(slot, rec);
    AddEvents(slot, rec);
    OnPropChange(slot, rec, PropWeight(old, now), PropWeight(rec, now));
    DirtyEdge(old);
    DirtyEdge(rec);
    ResolvePair(rec);
    return absl::OkStatus();
  }
  if (!st_->is_overlay() && !st_->free_slots().empty()) {
    slot = st_->free_slots().back();
    wr.free_slots().pop_back();
    wr.edges().Set(slot, rec);
  } else {
    slot = static_cast<Slot>(st_->edges().size());
    wr.edges().PushBack(rec);
  }
  wr.in_slots().Add(t, slot);
  wr.out_slots().Add(f, slot);
  AddEvents(slot, rec);
  OnPropChange(slot, rec, 0, PropWeight(rec, now));
  DirtyEdge(rec);
  ResolvePair(rec);
  return absl::OkStatus();
}

void Updater::DeleteEdgeSlot(Slot slot) {
  GraphWriter wr(st_);
  const EdgeRec rec = st_->edges()[slot];
  if (!rec.alive) return;
  OnPropChange(slot, rec, PropWeight(rec, st_->as_of_ns()), 0);
  wr.in_slots().Remove(rec.to, [slot](Slot s) { return s == slot; });
  wr.out_slots().Remove(rec.from, [slot](Slot s) { return s == slot; });
  RemoveEvents(slot, rec);
  EdgeRec dead = rec;
  dead.alive = false;
  wr.edges().Set(slot, dead);
  if (!st_->is_overlay()) wr.free_slots().push_back(slot);
  DirtyEdge(rec);
  if (!st_->PairRecords(rec.from, rec.kind, rec.to, rec.product).empty()) {
    ResolvePair(rec);
  }
}

void Updater::DeleteEdgeKey(const v1::EdgeKey& k) {
  const Node* from = st_->node_of().Find(k.from_id());
  const Node* to = st_->node_of().Find(k.to_id());
  const uint32_t* product = k.product_code().empty()
                                ? nullptr
                                : st_->product_of().Find(k.product_code());
  if (from == nullptr || to == nullptr ||
      (!k.product_code().empty() && product == nullptr)) {
    return;
  }
  const Slot slot = st_->FindEdge(*from, k.kind(), *to, product ? *product : 0,
                                  k.record_id());
  if (slot != kNone) DeleteEdgeSlot(slot);
}

v1::Edge Updater::Effective(const v1::Edge& raw) const {
  return EffectiveOf(st_->live().parties(), raw);
}

absl::Status Updater::UpsertRawEdge(const v1::Edge& e) {
  GraphWriter wr(st_);
  const Parties& parties = st_->live().parties();
  if (parties.PrimaryOf(e.from_id()) == nullptr &&
      parties.PrimaryOf(e.to_id()) == nullptr) {
    return UpsertEdge(e);
  }
  for (const std::string* id : {&e.from_id(), &e.to_id()}) {
    const Node* v = st_->node_of().Find(*id);
    if (v == nullptr || !st_->Alive(*v)) {
      return absl::FailedPreconditionError(absl::StrCat(
          id == &e.from_id() ? "upsert_edge.from_id" : "upsert_edge.to_id",
          ": entity ", *id, " does not exist"));
    }
  }
  // An overlay (scenario) edits the effective record directly: it holds no
  // raw records of its own.
  if (st_->is_overlay()) return UpsertEdge(Effective(e));
  wr.parties().PutRawEdge(e);
  Reemit(Effective(e));
  return absl::OkStatus();
}

void Updater::DeleteRawEdge(const v1::EdgeKey& k) {
  GraphWriter wr(st_);
  const Parties& parties = st_->live().parties();
  if (parties.PrimaryOf(k.from_id()) == nullptr &&
      parties.PrimaryOf(k.to_id()) == nullptr) {
    DeleteEdgeKey(k);
    return;
  }
  v1::Edge raw;
  raw.set_from_id(k.from_id());
  raw.set_to_id(k.to_id());
  raw.set_kind(k.kind());
  raw.set_product_code(k.product_code());
  raw.set_record_id(k.record_id());
  const v1::Edge effective = Effective(raw);
  if (st_->is_overlay()) {
    v1::EdgeKey ek = k;
    ek.set_from_id(effective.from_id());
    ek.set_to_id(effective.to_id());
    DeleteEdgeKey(ek);
    return;
  }
  if (wr.parties().EraseRawEdge(Parties::RawKey(k))) Reemit(effective);
}

void Updater::Reemit(const v1::Edge& effective) {
  const Parties& parties = st_->parties();
  const std::string key = Parties::RawKey(effective);
  const v1::Edge* best = nullptr;
  std::string best_key;
  std::vector<std::string> ends{effective.from_id()};
  if (!parties.MembersOf(effective.from_id()).empty()) {
    ends = parties.MembersOf(effective.from_id());
  }
  for (const std::string& id : ends) {
    for (const std::string& raw_key : parties.RawEdgesOf(id)) {
      const v1::Edge* raw = parties.FindRawEdge(raw_key);
      if (raw == nullptr || raw->from_id() != id ||
          Parties::RawKey(Effective(*raw)) != key) {
        continue;
      }
      if (best == nullptr || Preferred(*raw, raw_key, *best, best_key)) {
        best = raw;
        best_key = raw_key;
      }
    }
  }
  if (best != nullptr) {
    const v1::Edge chosen = Effective(*best);
    (void)UpsertEdge(chosen);  // Both ends exist (checked when received).
    return;
  }
  v1::EdgeKey k;
  k.set_from_id(effective.from_id());
  k.set_to_id(effective.to_id());
  k.set_kind(effective.kind());
  k.set_product_code(effective.product_code());
  k.set_record_id(effective.record_id());
  DeleteEdgeKey(k);
}

void Updater::UpsertLink(const v1::Link& l) {
  GraphWriter wr(st_);
  const v1::Link::Judgement before = wr.parties().SetLink(l);
  if ((before == v1::Link::POSITIVE) != (l.judgement() == v1::Link::POSITIVE)) {
    Regroup({l.entity_a(), l.entity_b()});
  }
}

void Updater::DeleteLink(const v1::LinkKey& k) {
  GraphWriter wr(st_);
  if (wr.parties().RemoveLink(k.entity_a(), k.entity_b()) ==
      v1::Link::POSITIVE) {
    Regroup({k.entity_a(), k.entity_b()});
  }
}

void Updater::Regroup(const std::vector<std::string>& seeds) {
  GraphWriter wr(st_);
  Parties& parties = wr.parties();
  // The ids whose party may change: the seeds' old parties and the
  // components the links now make.
  absl::btree_set<std::string> ids;
  for (const std::string& id : seeds) {
    ids.insert(id);
    if (const std::string* p = parties.PrimaryOf(id)) {
      for (const std::string& m : parties.MembersOf(*p)) ids.insert(m);
    }
  }
  for (const std::string& id : parties.Component(seeds)) ids.insert(id);
  const std::vector<std::string> all(ids.begin(), ids.end());

  // 1. Their raw edge records: held ones, and those the state holds as
  //    they are (both ends in no party).
  absl::btree_map<std::string, v1::Edge> raw;
  for (const std::string& id : all) {
    for (const std::string& key : parties.RawEdgesOf(id)) {
      raw[key] = *parties.FindRawEdge(key);
    }
    if (parties.PrimaryOf(id) != nullptr) continue;
    const Node* v = st_->node_of().Find(id);
    if (v == nullptr || !st_->Alive(*v)) continue;
    for (const Adjacency<Slot>* adj : {&st_->in_slots(), &st_->out_slots()}) {
      for (Slot slot : adj->List(*v)) {
        const EdgeRec& e = st_->edges()[slot];
        if (!e.alive || e.kind == kLinkEdge) continue;
        const Node other = e.from == *v ? e.to : e.from;
        if (parties.PrimaryOf(st_->entities()[other].id) != nullptr) continue;
        v1::Edge pe = ToProtoEdge(*st_, e);
        raw[Parties::RawKey(pe)] = std::move(pe);
      }
    }
  }

  // 2. Take out their effective records, the old link edges and the
  //    listings indexed under the old primaries.
  absl::btree_set<std::string> sig_ids;
  for (const std::string& id : all) {
    if (const auto* sigs = st_->SignalsTargeting(parties.EffectiveId(id))) {
      sig_ids.insert(sigs->begin(), sigs->end());
    }
  }
  std::vector<SignalRec> sigs;
  for (const std::string& id : sig_ids) {
    const SignalRec* r = st_->signals().Find(id);
    if (r == nullptr) continue;
    sigs.push_back(*r);
    DirtySignal(*r);
    IndexSignal(st_, *r, false);
  }
  for (const auto& [key, e] : raw) {
    const v1::Edge eff = Effective(e);
    v1::EdgeKey k;
    k.set_from_id(eff.from_id());
    k.set_to_id(eff.to_id());
    k.set_kind(eff.kind());
    k.set_product_code(eff.product_code());
    k.set_record_id(eff.record_id());
    DeleteEdgeKey(k);
  }
  for (const std::string& id : all) {
    const std::string* p = parties.PrimaryOf(id);
    if (p == nullptr || *p == id) continue;
    const Node* from = st_->node_of().Find(*p);
    const Node* to = st_->node_of().Find(id);
    if (from == nullptr || to == nullptr) continue;
    const Slot slot = st_->FindEdge(*from, kLinkEdge, *to, 0, "");
    if (slot != kNone) DeleteEdgeSlot(slot);
  }

  // Records of deleted entities go (GraphStore deleted them with it).
  auto alive = [&](const std::string& id) {
    const Node* v = st_->node_of().Find(id);
    return v != nullptr && st_->Alive(*v);
  };
  for (auto it = raw.begin(); it != raw.end();) {
    if (alive(it->second.from_id()) && alive(it->second.to_id())) {
      ++it;
      continue;
    }
    parties.EraseRawEdge(it->first);
    it = raw.erase(it);
  }

  // 3. The new parties.
  parties.Regroup(all, alive);
  for (const auto& [key, e] : raw) {
    if (parties.PrimaryOf(e.from_id()) != nullptr ||
        parties.PrimaryOf(e.to_id()) != nullptr) {
      parties.PutRawEdge(e);
    } else {
      parties.EraseRawEdge(key);
    }
  }

  // 4. Their effective records, one per effective key, link edges and
  //    listings under the new primaries.
  absl::btree_map<std::string, std::pair<std::string, const v1::Edge*>> best;
  for (const auto& [key, e] : raw) {
    auto [it, inserted] =
        best.try_emplace(Parties::RawKey(Effective(e)), key, &e);
    if (!inserted && Preferred(e, key, *it->second.second, it->second.first)) {
      it->second = {key, &e};
    }
  }
  for (const auto& [ekey, chosen] : best) {
    (void)UpsertEdge(Effective(*chosen.second));
  }
  for (const std::string& id : all) {
    const std::string* p = parties.PrimaryOf(id);
    const Node* v = st_->node_of().Find(id);
    if (v != nullptr) {
      Dirty(*v);
      DirtyFacilitiesOf(*v);
    }
    if (p == nullptr || *p == id || v == nullptr || !st_->Alive(*v)) continue;
    const Node* from = st_->node_of().Find(*p);
    if (from == nullptr || !st_->Alive(*from)) continue;
    (void)UpsertEdgeRec(LinkEdgeRec(*from, *v));
  }
  for (const SignalRec& r : sigs) {
    IndexSignal(st_, r, true);
    DirtySignal(r);
  }
  std::fill(rules_dirty_.begin(), rules_dirty_.end(), true);
}

void Updater::UpsertSignal(const v1::Signal& s) {
  GraphWriter wr(st_);
  SignalRec rec = ToSignalRec(s, p_);
  if (const SignalRec* found = st_->signals().Find(rec.id)) {
    const SignalRec old = *found;
    DirtySignal(old);
    IndexSignal(st_, old, false);
  }
  wr.signals().Set(rec.id, rec);
  IndexSignal(st_, rec, true);
  DirtySignal(rec);
}

void Updater::DeleteSignal(const std::string& id) {
  GraphWriter wr(st_);
  const SignalRec* found = st_->signals().Find(id);
  if (found == nullptr) return;
  const SignalRec old = *found;
  DirtySignal(old);
  IndexSignal(st_, old, false);
  wr.signals().Erase(id);
}

UpdateResult Updater::Finish() {
  GraphWriter wr(st_);
  // 1. Ownership rules whose inputs changed; members that moved are dirty,
  //    with their facilities.
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    if (!rules_dirty_[r]) continue;
    RuleState next = ComputeRule(*st_, p_, static_cast<int>(r));
    const RuleState& prev = st_->rules()[r];
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
    wr.rules().Set(r, std::move(next));
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
    const Triple old = st_->sd()[v];
    if (d.sd != old) {
      const Comp c = st_->comp_of()[v];
      std::array<int32_t, kNumFactors> in = st_->inputs()[c];
      for (int f = 0; f < kNumFactors; ++f) {
        in[f] += (d.sd.v[f] < 1 ? 1 : 0) - (old.v[f] < 1 ? 1 : 0);
      }
      wr.inputs().Set(c, in);
      result_.direct_before.try_emplace(v, old);
      wr.sd().Set(v, d.sd);
      prop_.Seed(v);
    }
    const bool had = st_->flags()[v] & kHasListing;
    const ListingInfo* info = had ? st_->listing().Find(v) : nullptr;
    if (d.has_listing) {
      if (info == nullptr || info->status != d.listing.status ||
          info->derived != d.listing.derived ||
          info->base_survival != d.listing.base_survival) {
        ListingInfo next = d.listing;
        next.up_survival =
            info != nullptr ? info->up_survival : Evaluate(*st_, v).up_ec;
        wr.listing().Set(v, std::move(next));
        wr.flags().Set(
            v, kHasListing | (d.listing.derived.empty() ? 0 : kHasDerived));
        prop_.Seed(v);
        prop_.SeedSuccessors(v);
      }
    } else if (had) {
      wr.listing().Erase(v);
      wr.flags().Set(v, 0);
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
    if (st_->in_slots().ShouldCompact()) wr.in_slots().Compact(n);
    if (st_->out_slots().ShouldCompact()) wr.out_slots().Compact(n);
    if (st_->pin().ShouldCompact()) wr.pin().Compact(n);
    if (st_->pout().ShouldCompact()) wr.pout().Compact(n);
  }
  return std::move(result_);
}

PropagationStats RescoreAll(State* st, const Params& p, Start from) {
  GraphWriter wr(st);
  const absl::Time start = absl::Now();
  wr.rules().live().clear();
  for (size_t r = 0; r < p.rules.size(); ++r) {
    wr.rules().live().push_back(ComputeRule(*st, p, static_cast<int>(r)));
  }
  const size_t n = st->node_count();
  // A warm start keeps the survivals, and the export-control products over
  // in-edges of the nodes with derived listings (what their listed
  // successors see, SurvivalSeenBy), as the last evaluations left them.
  const bool warm = from == Start::kWarm && st->s().live().size() == n;
  absl::flat_hash_map<Node, double> up;
  if (warm) {
    for (Node v = 0; v < n; ++v) {
      if (!(st->flags()[v] & kHasDerived)) continue;
      if (const ListingInfo* info = st->listing().Find(v)) {
        up[v] = info->up_survival;
      }
    }
  }
  wr.listing().Clear();
  wr.flags().live().assign(n, 0);
  wr.sd().live().assign(n, Triple());
  if (!warm) wr.s().live().assign(n, Triple());
  // Direct exposures only read the state (rules and signals are final), so
  // the nodes are split between threads; each has its own cache (it
  // memoises) and collects its listings, which go into the map in node
  // order afterwards.
  const int workers = Workers(n);
  std::vector<std::vector<std::pair<Node, ListingInfo>>> listings(workers);
  Triple* sd = wr.sd().live().data();
  uint8_t* flags = wr.flags().live().data();
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
    for (auto& [v, info] : part) {
      if (auto it = up.find(v); it != up.end() && !info.derived.empty()) {
        info.up_survival = it->second;
      }
      wr.listing().Set(v, std::move(info));
    }
  }
  const absl::Time direct_done = absl::Now();
  // The condensation depends only on the propagation edges: after a change
  // of signals, weights or nothing at all it is still the one a rebuild
  // would make.
  if (!st->condensation_fresh()) BuildCondensation(st);
  const absl::Time condensed = absl::Now();
  PropagationStats stats = FullPropagate(st, p, from);
  stats.rules_and_direct = direct_done - start;
  stats.condensation = condensed - direct_done;
  stats.propagation = absl::Now() - condensed;
  return stats;
}

PropagationStats BuildState(State* st, const Params& p,
                            std::vector<v1::Entity> entities,
                            std::vector<v1::Edge> edges,
                            std::vector<v1::Signal> signals, int64_t sequence,
                            int64_t as_of_ns, int64_t* skipped,
                            std::vector<v1::Link> links) {
  GraphWriter wr(st);
  *skipped = 0;
  wr.as_of_ns() = as_of_ns;
  wr.sequence() = sequence;
  wr.products().PushBack("");
  std::vector<EntityRec>& ents = wr.entities().live();
  ents.reserve(entities.size());
  for (v1::Entity& e : entities) {
    EntityRec rec;
    rec.id = std::move(*e.mutable_id());
    rec.name = std::move(*e.mutable_name());
    rec.kind = e.kind();
    rec.country = PackCountry(e.country());
    rec.alive = true;
    if (const Node* v = st->node_of().Find(rec.id)) {
      ents[*v] = std::move(rec);  // A repeated id: the last one wins.
      continue;
    }
    const Node v = static_cast<Node>(ents.size());
    wr.node_of().Set(rec.id, v);
    ents.push_back(std::move(rec));
  }
  entities.clear();
  entities.shrink_to_fit();
  const size_t n = ents.size();

  // Links, then the parties they make (before signals are indexed under
  // their primaries); edge records touching a party are held and collapse
  // to one per effective key, as Updater::Regroup makes them.
  // (GraphStore keeps a deleted entity's NEGATIVE links: they are held and
  // join nothing; a positive link naming an unknown entity is skipped.)
  std::vector<std::string> linked;
  for (const v1::Link& l : links) {
    const bool known = st->node_of().Find(l.entity_a()) != nullptr &&
                       st->node_of().Find(l.entity_b()) != nullptr;
    if (l.judgement() == v1::Link::POSITIVE) {
      if (!known) {
        ++*skipped;
        continue;
      }
      linked.push_back(l.entity_a());
      linked.push_back(l.entity_b());
    }
    wr.parties().SetLink(l);
  }
  links.clear();
  if (!linked.empty()) {
    linked = st->parties().Component(linked);
    wr.parties().Regroup(linked, [](const std::string&) { return true; });
    std::vector<v1::Edge> kept;
    kept.reserve(edges.size());
    absl::btree_map<std::string, std::pair<std::string, v1::Edge>> best;
    for (v1::Edge& e : edges) {
      if ((st->parties().PrimaryOf(e.from_id()) == nullptr &&
           st->parties().PrimaryOf(e.to_id()) == nullptr) ||
          st->node_of().Find(e.from_id()) == nullptr ||
          st->node_of().Find(e.to_id()) == nullptr) {
        kept.push_back(std::move(e));
        continue;
      }
      wr.parties().PutRawEdge(e);
      std::string raw_key = Parties::RawKey(e);
      v1::Edge eff = EffectiveOf(st->parties(), e);
      auto [it, inserted] =
          best.try_emplace(Parties::RawKey(eff), raw_key, eff);
      if (!inserted &&
          Preferred(e, raw_key, it->second.second, it->second.first)) {
        it->second = {std::move(raw_key), std::move(eff)};
      }
    }
    for (auto& [key, chosen] : best) kept.push_back(std::move(chosen.second));
    edges = std::move(kept);
  }

  for (const v1::Signal& s : signals) {
    SignalRec rec = ToSignalRec(s, p);
    if (const SignalRec* old = st->signals().Find(rec.id)) {
      const SignalRec copy = *old;
      IndexSignal(st, copy, false);
    }
    wr.signals().Set(rec.id, rec);
    IndexSignal(st, rec, true);
  }

  std::vector<EdgeRec>& recs = wr.edges().live();
  recs.reserve(edges.size());
  for (const v1::Edge& e : edges) {
    const Node* from = st->node_of().Find(e.from_id());
    const Node* to = st->node_of().Find(e.to_id());
    if (from == nullptr || to == nullptr) {
      ++*skipped;
      continue;
    }
    recs.push_back(ToEdgeRec(e, *from, *to, wr.InternProduct(e.product_code()),
                             ents[*from].kind == v1::Entity::PERSON));
  }
  edges.clear();
  edges.shrink_to_fit();
  for (const std::string& id : linked) {
    const std::string* primary = st->parties().PrimaryOf(id);
    if (primary == nullptr || *primary == id) continue;
    recs.push_back(
        LinkEdgeRec(*st->node_of().Find(*primary), *st->node_of().Find(id)));
  }
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
  wr.pin().Build(n, pin_pairs);
  wr.pout().Build(n, pout_pairs);
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
  wr.node_of().RemapValues([&](Node v) { return renumber[v]; });
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
    ForEachBoundary(r, [&](int64_t t) { wr.edge_events().emplace(t, slot); });
  }
  propagation_pairs();
  std::vector<NodeInfo>& info = wr.info().live();
  info.resize(n);
  for (Node v = 0; v < n; ++v) {
    info[v] = State::InfoOf(ents[v]);
    wr.nodes_by_country()[ents[v].country].push_back(v);
  }
  wr.in_slots().Build(n, in_pairs);
  wr.out_slots().Build(n, out_pairs);
  wr.pin().Build(n, pin_pairs);
  wr.pout().Build(n, pout_pairs);
  wr.condensation_fresh() = false;
  return RescoreAll(st, p);
}

}  // namespace georisk::scorer::internal
