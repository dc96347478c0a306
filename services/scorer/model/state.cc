#include "services/scorer/model/state.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"

namespace georisk::scorer::internal {

uint16_t PackCountry(absl::string_view code) {
  if (code.size() != 2) return 0;
  return static_cast<uint16_t>((static_cast<unsigned char>(code[0]) << 8) |
                               static_cast<unsigned char>(code[1]));
}

std::string UnpackCountry(uint16_t code) {
  if (code == 0) return "";
  return std::string{static_cast<char>(code >> 8),
                     static_cast<char>(code & 0xff)};
}

int64_t ToNs(absl::Time t) {
  if (t == absl::InfinitePast()) return kPast;
  if (t == absl::InfiniteFuture()) return kFuture;
  // ToUnixNanos saturates outside int64's range (years 1678..2262).
  return absl::ToUnixNanos(t);
}

int64_t FromNs(const google::protobuf::Timestamp& ts, bool has, int64_t unset) {
  if (!has) return unset;
  return ToNs(base::FromProtoTime(ts));
}

absl::Time NsToTime(int64_t ns) {
  if (ns == kPast) return absl::InfinitePast();
  if (ns == kFuture) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

SignalRec ToSignalRec(const v1::Signal& s, const Params& p) {
  SignalRec r;
  r.id = s.id();
  r.title = s.title();
  r.source = s.source();
  r.update_origin = s.update_origin();
  r.from_ns = FromNs(s.effective_from(), s.has_effective_from(), kPast);
  r.until_ns = FromNs(s.effective_until(), s.has_effective_until(), kFuture);
  switch (s.detail_case()) {
    case v1::Signal::kExportControl: {
      const v1::ExportControl& c = s.export_control();
      r.kind = v1::SIGNAL_KIND_EXPORT_CONTROL;
      r.authority = c.authority();
      r.ec_kind = c.kind();
      r.targets.assign(c.target_ids().begin(), c.target_ids().end());
      std::sort(r.targets.begin(), r.targets.end());
      r.targets.erase(std::unique(r.targets.begin(), r.targets.end()),
                      r.targets.end());
      for (const std::string& d : c.destination_countries()) {
        r.destinations.push_back(PackCountry(d));
      }
      r.product_prefixes.assign(c.product_codes().begin(),
                                c.product_codes().end());
      r.measure = c.measure();
      const v1::MeasurePolicy& policy = p.MeasurePolicyOf(c.measure());
      r.severity = c.severity() > 0 ? c.severity() : policy.default_severity();
      r.counts = policy.counts();
      r.rules_apply = policy.ownership_rules_apply();
      r.list = c.list();
      break;
    }
    case v1::Signal::kTariff: {
      const v1::Tariff& t = s.tariff();
      r.kind = v1::SIGNAL_KIND_TARIFF;
      r.programme = t.programme();
      r.importer = PackCountry(t.importer_country());
      r.origin =
          t.origin_country() == "*" ? 0 : PackCountry(t.origin_country());
      r.hs_prefix = t.hs_prefix();
      r.rate = t.rate();
      break;
    }
    case v1::Signal::kTension: {
      const v1::Tension& t = s.tension();
      r.kind = v1::SIGNAL_KIND_TENSION;
      r.theatre = t.theatre();
      r.level = t.level();
      for (const auto& [country, weight] : t.country_weights()) {
        r.weights.emplace_back(PackCountry(country), weight);
      }
      std::sort(r.weights.begin(), r.weights.end());
      break;
    }
    default:
      break;
  }
  return r;
}

bool ListingInfo::HasStatus(absl::string_view authority) const {
  return std::binary_search(status.begin(), status.end(), authority);
}

Params MakeParams(const v1::ModelConfig& c) {
  Params p;
  p.version = c.version();
  p.beta = c.tier_attenuation();
  p.tariff_cap = c.tariff_cap();
  for (const v1::FactorWeight& fw : c.factor_weights()) {
    p.lambda[FactorIndex(fw.factor())] = fw.lambda();
  }
  p.band_medium = c.bands().medium();
  p.band_high = c.bands().high();
  p.band_critical = c.bands().critical();
  p.tolerance = c.convergence_tolerance();
  p.max_iterations = c.max_iterations();
  for (const auto& [country, weight] : c.tension_country_weights()) {
    p.default_tension_weights.emplace_back(PackCountry(country), weight);
  }
  std::sort(p.default_tension_weights.begin(), p.default_tension_weights.end());
  for (const v1::OwnershipRule& r : c.ownership_rules()) {
    RuleParams rp;
    rp.authority = r.authority();
    rp.threshold = r.threshold();
    rp.more_than = r.more_than();
    rp.proto = r;
    rp.percent = absl::StrCat(std::round(r.threshold() * 1000) / 10, "%");
    p.rules.push_back(std::move(rp));
  }
  p.measures.assign(c.measure_policies().begin(), c.measure_policies().end());
  p.unknown_measure = c.unknown_measure();
  return p;
}

double Composite(const Params& p, const Triple& s) {
  double keep = 1;
  for (int f = 0; f < kNumFactors; ++f) keep *= 1 - p.lambda[f] * (1 - s.v[f]);
  return 100 * (1 - keep);
}

v1::Band BandOf(const Params& p, double composite) {
  if (composite >= p.band_critical) return v1::BAND_CRITICAL;
  if (composite >= p.band_high) return v1::BAND_HIGH;
  if (composite >= p.band_medium) return v1::BAND_MEDIUM;
  return v1::BAND_LOW;
}

std::unique_ptr<State> State::Overlay(const State* live) {
  auto o = std::make_unique<State>();
  o->live_ = live;
  o->entities_ = CowVec<EntityRec>(&live->entities_);
  o->info_ = CowVec<NodeInfo>(&live->info_);
  o->node_of_ = CowMap<std::string, Node>(&live->node_of_);
  o->edges_ = CowVec<EdgeRec>(&live->edges_);
  o->products_ = CowVec<std::string>(&live->products_);
  o->product_of_ = CowMap<std::string, uint32_t>(&live->product_of_);
  o->in_slots_ = Adjacency<Slot>(&live->in_slots_);
  o->out_slots_ = Adjacency<Slot>(&live->out_slots_);
  o->pin_ = Adjacency<PropIn>(&live->pin_);
  o->pout_ = Adjacency<PropOut>(&live->pout_);
  o->signals_ = CowMap<std::string, SignalRec>(&live->signals_);
  o->by_target_ =
      CowMap<std::string, std::vector<std::string>>(&live->by_target_);
  o->tariffs_by_importer_ =
      CowMap<uint16_t, std::vector<std::string>>(&live->tariffs_by_importer_);
  o->destination_controls_ =
      CowMap<std::string, bool>(&live->destination_controls_);
  o->tensions_ = CowMap<std::string, bool>(&live->tensions_);
  o->rules_ = CowVec<RuleState>(&live->rules_);
  o->sd_ = CowVec<Triple>(&live->sd_);
  o->s_ = CowVec<Triple>(&live->s_);
  o->flags_ = CowVec<uint8_t>(&live->flags_);
  o->listing_ = CowMap<Node, ListingInfo>(&live->listing_);
  o->comp_of_ = CowVec<Comp>(&live->comp_of_);
  o->key_ = CowVec<int64_t>(&live->key_);
  o->inputs_ = CowVec<std::array<int32_t, kNumFactors>>(&live->inputs_);
  o->members_ = CowVec<std::vector<Node>>(&live->members_);
  o->pos_ = CowVec<uint32_t>(&live->pos_);
  o->rep_ = CowVec<Node>(&live->rep_);
  o->comp_flags_ = CowVec<uint8_t>(&live->comp_flags_);
  o->as_of_ns_ = live->as_of_ns_;
  o->sequence_ = live->sequence_;
  return o;
}

uint32_t State::InternProduct(absl::string_view code) {
  if (code.empty()) return 0;
  if (const uint32_t* p = product_of_.Find(code)) return *p;
  const uint32_t id = static_cast<uint32_t>(products_.size());
  products_.PushBack(std::string(code));
  product_of_.Set(std::string(code), id);
  return id;
}

Slot State::FindEdge(Node from, v1::Edge::Kind kind, Node to, uint32_t product,
                     absl::string_view record_id) const {
  for (Slot slot : in_slots_.List(to)) {
    const EdgeRec& e = edges_[slot];
    if (e.from == from && e.kind == kind && e.product == product &&
        e.record_id.get() == record_id) {
      return slot;
    }
  }
  return kNone;
}

std::vector<Slot> State::PairRecords(Node from, v1::Edge::Kind kind, Node to,
                                     uint32_t product) const {
  std::vector<Slot> out;
  for (Slot slot : in_slots_.List(to)) {
    const EdgeRec& e = edges_[slot];
    if (e.from == from && e.kind == kind && e.product == product) {
      out.push_back(slot);
    }
  }
  return out;
}

}  // namespace georisk::scorer::internal
