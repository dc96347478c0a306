#include "bench/supply_graph.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace georisk::bench {
namespace {

constexpr const char* kCountries[] = {"TW", "CN", "US", "JP", "KR",
                                      "DE", "NL", "MY", "VN", "MX"};
constexpr const char* kProductCodes[] = {"854231", "854232", "854239",
                                         "8486",   "381800", "280461",
                                         "850760", "903082"};
constexpr const char* kSource = "https://data.example/supply-chain/2025";
// Scatters target indices: a prime that divides no benchmark graph size.
constexpr uint64_t kScatterPrime = 1'000'003;

}  // namespace

bool IsFacilityIndex(int64_t index) { return index % 5 == 0; }

std::string EntityId(int64_t index) {
  return IsFacilityIndex(index) ? absl::StrFormat("facility/f%07d", index)
                                : absl::StrFormat("company/c%07d", index);
}

v1::Entity MakeEntity(int64_t index) {
  v1::Entity e;
  e.set_id(EntityId(index));
  const bool facility = IsFacilityIndex(index);
  e.set_kind(facility ? v1::Entity::FACILITY : v1::Entity::COMPANY);
  e.set_name(
      absl::StrCat(facility ? "Synthetic Facility " : "Synthetic Co ", index));
  e.set_country(kCountries[index % 10]);
  if (facility) {
    e.set_facility_type(static_cast<v1::Entity::FacilityType>(1 + index % 9));
  }
  e.set_source(kSource);
  return e;
}

SupplyGraph::SupplyGraph(const SupplyGraphOptions& options)
    : options_(options), rng_(options.seed) {
  const int64_t min_entities =
      options.fanout_degree > 0 ? options.fanout_degree + 2 : 10;
  if (options.entities < min_entities ||
      options.edges < options.fanout_degree || options.skew < 1.0 ||
      options.owns_share < 0 || options.operates_share < 0 ||
      options.owns_share + options.operates_share > 1.0 ||
      static_cast<uint64_t>(options.entities) % kScatterPrime == 0) {
    std::fprintf(stderr, "SupplyGraph: bad options\n");
    std::abort();
  }
  out_degree_.assign(options.entities, 0);
  seen_.reserve(options.edges);
  if (options.fanout_degree > 0) {
    fanout_entity_ = options.entities / 2 + 1;
    while (IsFacilityIndex(fanout_entity_)) ++fanout_entity_;
  }
}

int64_t SupplyGraph::SkewedIndex() {
  const double u = unit_(rng_);
  const int64_t i = static_cast<int64_t>(
      static_cast<double>(options_.entities) * std::pow(u, options_.skew));
  return std::min(i, options_.entities - 1);
}

int64_t SupplyGraph::SourceIndex() { return SkewedIndex(); }

int64_t SupplyGraph::TargetIndex() {
  return static_cast<int64_t>(
      (static_cast<uint64_t>(SkewedIndex()) * kScatterPrime + 7919) %
      static_cast<uint64_t>(options_.entities));
}

bool SupplyGraph::Emit(int64_t from, v1::Edge::Kind kind, int64_t to,
                       std::vector<v1::Edge>* out) {
  const uint64_t n = static_cast<uint64_t>(options_.entities);
  const uint64_t key =
      (static_cast<uint64_t>(from) * n + static_cast<uint64_t>(to)) * 4 +
      static_cast<uint64_t>(kind);
  if (!seen_.insert(key).second) return false;
  v1::Edge& e = out->emplace_back();
  e.set_from_id(EntityId(from));
  e.set_to_id(EntityId(to));
  e.set_kind(kind);
  e.set_weight(std::round(unit_(rng_) * 100.0) / 100.0);
  if (kind == v1::Edge::SUPPLIES) {
    e.set_product_code(kProductCodes[(from * 31 + to) % 8]);
    e.set_annual_value_usd(std::round(unit_(rng_) * 1e8));
  }
  e.set_source(kSource);
  ++out_degree_[from];
  ++produced_;
  return true;
}

bool SupplyGraph::NextEdges(int max, std::vector<v1::Edge>* out) {
  out->clear();
  while (static_cast<int>(out->size()) < max && produced_ < options_.edges) {
    if (produced_ < options_.fanout_degree) {
      int64_t to = static_cast<int64_t>(unit_(rng_) *
                                        static_cast<double>(options_.entities));
      to = std::min(to, options_.entities - 1);
      if (to != fanout_entity_)
        Emit(fanout_entity_, v1::Edge::SUPPLIES, to, out);
      continue;
    }
    const double k = unit_(rng_);
    const v1::Edge::Kind kind =
        k < options_.owns_share ? v1::Edge::OWNS
        : k < options_.owns_share + options_.operates_share
            ? v1::Edge::OPERATES
            : v1::Edge::SUPPLIES;
    int64_t from = SourceIndex();
    if (kind != v1::Edge::SUPPLIES) {
      while (IsFacilityIndex(from)) from = SourceIndex();
    }
    int64_t to = TargetIndex();
    if (kind == v1::Edge::OWNS) {
      while (IsFacilityIndex(to)) to = TargetIndex();
    } else if (kind == v1::Edge::OPERATES) {
      while (!IsFacilityIndex(to)) to = TargetIndex();
    }
    if (from == to || from == fanout_entity_ || to == fanout_entity_) continue;
    Emit(from, kind, to, out);
  }
  return !out->empty();
}

}  // namespace georisk::bench
