#include "bench/scorer_graph.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace georisk::bench {
namespace {

constexpr int kTiers = 6;
// Share of supply edges from a supplier in any tier (the rest come from the
// tier below): these close cycles.
constexpr double kAnyTier = 0.02;

struct Country {
  const char* code;
  double share;
};
constexpr Country kCountries[] = {
    {"CN", 0.25}, {"US", 0.18}, {"TW", 0.08}, {"JP", 0.08}, {"DE", 0.07},
    {"KR", 0.06}, {"VN", 0.05}, {"MY", 0.04}, {"MX", 0.04}, {"IN", 0.04},
    {"NL", 0.03}, {"FR", 0.03}, {"GB", 0.03}, {"SG", 0.02}};
constexpr const char* kProducts[] = {"854231", "854232", "854239", "8486",
                                     "854140", "850760", "847130", "903082",
                                     "381800", "280461"};

}  // namespace

std::string ScorerGraphId(int64_t i) {
  return i % 5 == 0 ? absl::StrFormat("facility/f%07d", i)
                    : absl::StrFormat("company/c%07d", i);
}

namespace {

class Generator {
 public:
  Generator(int64_t n, int64_t m, uint64_t seed) : n_(n), m_(m), rng_(seed) {}

  ScorerGraph Make() {
    ScorerGraph g;
    g.tier.resize(n_);
    std::vector<std::vector<int64_t>> companies_by_tier(kTiers);
    std::vector<int64_t> companies;
    g.entities.reserve(n_);
    for (int64_t i = 0; i < n_; ++i) {
      v1::Entity e;
      e.set_id(ScorerGraphId(i));
      const bool facility = i % 5 == 0;
      e.set_kind(facility ? v1::Entity::FACILITY : v1::Entity::COMPANY);
      e.set_name(absl::StrCat(facility ? "Facility " : "Company ", i));
      e.set_country(PickCountry());
      if (facility) e.set_facility_type(v1::Entity::PLANT);
      e.set_source("bench");
      g.entities.push_back(std::move(e));
      g.tier[i] = static_cast<int>(Uniform(kTiers));
      if (!facility) {
        companies_by_tier[g.tier[i]].push_back(i);
        companies.push_back(i);
      }
    }
    // Facilities: one operator (5% a second, joint-venture one), producing
    // at the operator's tier; capacity shares per operator sum to 1.
    std::vector<std::pair<int64_t, int64_t>> operates;  // (company, facility)
    for (int64_t f = 0; f < n_; f += 5) {
      const int64_t op = Skewed(companies);
      g.tier[f] = g.tier[op];
      operates.emplace_back(op, f);
      if (Unit() < 0.05) operates.emplace_back(Skewed(companies), f);
    }
    std::vector<std::vector<int64_t>> by_tier(kTiers);
    for (int64_t i = 0; i < n_; ++i) by_tier[g.tier[i]].push_back(i);
    std::sort(operates.begin(), operates.end());
    for (size_t i = 0; i < operates.size();) {
      size_t j = i;
      while (j < operates.size() && operates[j].first == operates[i].first) ++j;
      std::vector<double> w(j - i);
      double sum = 0;
      for (double& x : w) sum += (x = 0.2 + Unit());
      for (size_t k = i; k < j; ++k) {
        if (k > i && operates[k].second == operates[k - 1].second) continue;
        g.edges.push_back(Edge(operates[k].first, operates[k].second,
                               v1::Edge::OPERATES, Round(w[k - i] / sum)));
      }
      i = j;
    }
    // Ownership: half the companies have a parent in the same tier or one
    // downstream (vertical integration), 20% also a minority co-owner
    // anywhere.
    for (int64_t c : companies) {
      if (Unit() >= 0.5) continue;
      const int parent_tier =
          std::min(kTiers - 1, g.tier[c] + (Unit() < 0.5 ? 0 : 1));
      const int64_t parent = Skewed(companies_by_tier[parent_tier]);
      if (parent == c) continue;
      const double share = Round(0.5 + 0.5 * Unit());
      g.edges.push_back(Edge(parent, c, v1::Edge::OWNS, share));
      if (Unit() < 0.2) {
        const int64_t minority = Skewed(companies);
        if (minority != c && minority != parent) {
          g.edges.push_back(
              Edge(minority, c, v1::Edge::OWNS, Round((1 - share) * Unit())));
        }
      }
    }
    // Supply: the rest of the edge budget.
    const int64_t budget = m_ - static_cast<int64_t>(g.edges.size());
    int64_t customers = 0;
    for (int t = 1; t < kTiers; ++t) customers += by_tier[t].size();
    const double per_customer =
        static_cast<double>(budget) / static_cast<double>(customers);
    std::vector<int64_t> chosen;
    int64_t made = 0;
    for (int t = 1; t < kTiers && made < budget; ++t) {
      for (int64_t c : by_tier[t]) {
        if (made >= budget) break;
        // 1 + Poisson-ish around the mean.
        int k = 1 + static_cast<int>(std::poisson_distribution<int>(
                        std::max(0.0, per_customer - 1))(rng_));
        chosen.clear();
        std::vector<double> w;
        for (int a = 0; a < k * 2 && static_cast<int>(chosen.size()) < k; ++a) {
          const int from_tier =
              Unit() < kAnyTier ? static_cast<int>(Uniform(kTiers)) : t - 1;
          const int64_t s = Skewed(by_tier[from_tier]);
          if (s == c ||
              std::find(chosen.begin(), chosen.end(), s) != chosen.end()) {
            continue;
          }
          chosen.push_back(s);
        }
        double sum = 0;
        w.resize(chosen.size());
        for (double& x : w) sum += (x = 0.1 + Unit());
        const double total = 0.6 + 0.4 * Unit();
        for (size_t i = 0; i < chosen.size(); ++i) {
          v1::Edge e =
              Edge(chosen[i], c, v1::Edge::SUPPLIES, Round(total * w[i] / sum));
          e.set_product_code(kProducts[(chosen[i] * 7 + c) % 10]);
          e.set_annual_value_usd(std::round(1e6 * (1 + 99 * Unit())));
          g.edges.push_back(std::move(e));
          ++made;
        }
      }
    }
    g.signals = Signals(g, companies);
    return g;
  }

 private:
  v1::Edge Edge(int64_t from, int64_t to, v1::Edge::Kind kind, double w) {
    v1::Edge e;
    e.set_from_id(ScorerGraphId(from));
    e.set_to_id(ScorerGraphId(to));
    e.set_kind(kind);
    e.set_weight(w);
    e.set_source("bench");
    return e;
  }

  std::vector<v1::Signal> Signals(const ScorerGraph& g,
                                  const std::vector<int64_t>& companies) {
    std::vector<v1::Signal> out;
    auto signal = [&](const std::string& id) -> v1::Signal& {
      v1::Signal& s = out.emplace_back();
      s.set_id(absl::StrCat("signal/", id));
      s.set_title(id);
      s.set_source("bench");
      return s;
    };
    v1::Tension* t = signal("cross-strait").mutable_tension();
    t->set_theatre("cross_strait");
    t->set_level(0.55);
    auto tariff = [&](const std::string& id, const std::string& programme,
                      const std::string& origin, const std::string& prefix,
                      double rate) {
      v1::Tariff* x = signal(id).mutable_tariff();
      x->set_programme(programme);
      x->set_importer_country("US");
      x->set_origin_country(origin);
      x->set_hs_prefix(prefix);
      x->set_rate(rate);
    };
    tariff("301-8541", "Section 301", "CN", "8541", 0.5);
    tariff("301-8542", "Section 301", "CN", "8542", 0.5);
    tariff("ieepa-cn", "IEEPA", "CN", "", 0.10);
    tariff("reciprocal", "Reciprocal", "*", "", 0.10);
    tariff("us-kr-deal", "Reciprocal", "KR", "", 0.15);
    // Listings: 2,000 by BIS, 300 by OFAC, mostly of companies in CN.
    for (int i = 0; i < 2300; ++i) {
      int64_t c = companies[Uniform(companies.size())];
      for (int a = 0; a < 5 && g.entities[c].country() != "CN"; ++a) {
        c = companies[Uniform(companies.size())];
      }
      v1::ExportControl* x = signal(absl::StrCat(i < 2000 ? "el-" : "sdn-", i))
                                 .mutable_export_control();
      x->set_authority(i < 2000 ? "US-BIS" : "US-OFAC");
      x->set_kind(v1::ExportControl::ENTITY_LISTING);
      x->add_target_ids(ScorerGraphId(c));
      x->set_severity(i < 2000 ? 0.8 : 0.9);
      x->set_list(i < 2000 ? "EL" : "SDN");
    }
    v1::ExportControl* dc = signal("dc-cn-8486").mutable_export_control();
    dc->set_authority("US-BIS");
    dc->set_kind(v1::ExportControl::DESTINATION_CONTROL);
    dc->add_destination_countries("CN");
    dc->add_product_codes("8486");
    dc->set_severity(0.7);
    v1::ExportControl* veu = signal("veu").mutable_export_control();
    veu->set_authority("US-BIS");
    veu->set_kind(v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED);
    for (int64_t f = 0, k = 0; f < n_ && k < 5; f += 5) {
      if (g.entities[f].country() == "CN") {
        veu->add_target_ids(ScorerGraphId(f));
        ++k;
      }
    }
    veu->set_severity(0.5);
    return out;
  }

  const char* PickCountry() {
    double u = Unit();
    for (const Country& c : kCountries) {
      if ((u -= c.share) < 0) return c.code;
    }
    return "SG";
  }
  int64_t Skewed(const std::vector<int64_t>& pool) {
    const double u = Unit();
    const size_t i = static_cast<size_t>(static_cast<double>(pool.size()) *
                                         std::pow(u, 2.5));
    return pool[std::min(i, pool.size() - 1)];
  }
  double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  size_t Uniform(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  static double Round(double x) { return std::round(x * 1e4) / 1e4; }

  const int64_t n_;
  const int64_t m_;
  std::mt19937_64 rng_;
};

}  // namespace

ScorerGraph GenerateScorerGraph(int64_t entities, int64_t edges,
                                uint64_t seed) {
  return Generator(entities, edges, seed).Make();
}

}  // namespace georisk::bench
