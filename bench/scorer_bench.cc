// Benchmarks of the risk model library (issue 5): on a generated supply
// graph with signals,
//   1. Load (compile + score everything) and full rescores of all factors,
//   2. incremental rescoring after one signal change that moves the scores
//      of about 1% of the entities (p50/p99 over repeated changes),
// and an export of the same propagation graph (binary edge list) for
// igraph's PageRank, run beside it by bench/scorer_run.sh.
//
//   scorer_bench --entities=1000000 --edges=5000000 --edge_list=/tmp/g.bin
//
// Prints human-readable lines and "RESULT name=value" lines for the script.
//
// The graph: six tiers (raw materials -> components -> ... -> end
// customers); every fifth entity a facility operated by one company (5% by
// two) at that company's tier; half the companies owned by a parent in the
// same or the next tier (20% with a minority co-owner anywhere); each
// customer depending on a few suppliers of the tier below with dependency
// shares summing to 0.6..1 (hub suppliers preferred), and 2% of supply edges
// from any tier, which close cycles. Signals: cross-strait tension, US
// tariff programmes that stack on CN lines, a few thousand listings, a
// destination control and VEU-style revocations.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_output.h"
#include "georisk/v1/graph.pb.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/model_config.h"

ABSL_FLAG(int64_t, entities, 1'000'000, "Entities in the generated graph.");
ABSL_FLAG(int64_t, edges, 5'000'000, "Edges in the generated graph.");
ABSL_FLAG(int, rescores, 5, "Full rescores to time (median reported).");
ABSL_FLAG(int, changes, 200, "Incremental signal changes to time.");
ABSL_FLAG(double, touch_min, 0.005,
          "A benchmark change moves at least this share of the entities...");
ABSL_FLAG(double, touch_max, 0.02, "... and at most this share.");
ABSL_FLAG(std::string, edge_list, "",
          "Write the propagation graph here for igraph: int64 n, int64 m, "
          "int32 src[m], int32 dst[m], float64 weight[m].");
ABSL_FLAG(uint64_t, seed, 42, "Generator seed.");
ABSL_FLAG(bool, verbose, false, "Print every probe of the target search.");
ABSL_FLAG(std::vector<std::string>, targets, {},
          "Entities to list and delist in the incremental benchmark, as "
          "printed by an earlier run with the same graph flags (skips the "
          "search for them).");
ABSL_FLAG(double, tolerance, 0,
          "Model convergence_tolerance; 0: the default model's.");

namespace georisk::bench {
namespace {

constexpr int kTiers = 6;
// Share of supply edges from a supplier in any tier (the rest come from the
// tier below): these close cycles.
constexpr double kAnyTier = 0.02;
constexpr double kBeta = 0.85;

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

std::string Id(int64_t i) {
  return i % 5 == 0 ? absl::StrFormat("facility/f%07d", i)
                    : absl::StrFormat("company/c%07d", i);
}

struct Generated {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<int> tier;
};

class Generator {
 public:
  Generator(int64_t n, int64_t m, uint64_t seed) : n_(n), m_(m), rng_(seed) {}

  Generated Make() {
    Generated g;
    g.tier.resize(n_);
    std::vector<std::vector<int64_t>> companies_by_tier(kTiers);
    std::vector<int64_t> companies;
    g.entities.reserve(n_);
    for (int64_t i = 0; i < n_; ++i) {
      v1::Entity e;
      e.set_id(Id(i));
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
    e.set_from_id(Id(from));
    e.set_to_id(Id(to));
    e.set_kind(kind);
    e.set_weight(w);
    e.set_source("bench");
    return e;
  }

  std::vector<v1::Signal> Signals(const Generated& g,
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
      x->add_target_ids(Id(c));
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
        veu->add_target_ids(Id(f));
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

void WriteEdgeList(const std::string& path, const Generated& g) {
  std::vector<int32_t> src, dst;
  std::vector<double> w;
  auto index = [](const std::string& id) {
    return static_cast<int32_t>(std::stoll(id.substr(id.find('/') + 2)));
  };
  for (const v1::Edge& e : g.edges) {
    const int32_t from = index(e.from_id());
    const int32_t to = index(e.to_id());
    if (e.kind() == v1::Edge::SUPPLIES) {
      src.push_back(from);
      dst.push_back(to);
      w.push_back(kBeta * e.weight());
    } else {
      src.push_back(to);
      dst.push_back(from);
      w.push_back(e.weight());
    }
  }
  std::ofstream out(path, std::ios::binary);
  const int64_t n = static_cast<int64_t>(g.entities.size());
  const int64_t m = static_cast<int64_t>(src.size());
  out.write(reinterpret_cast<const char*>(&n), sizeof(n));
  out.write(reinterpret_cast<const char*>(&m), sizeof(m));
  out.write(reinterpret_cast<const char*>(src.data()), m * sizeof(int32_t));
  out.write(reinterpret_cast<const char*>(dst.data()), m * sizeof(int32_t));
  out.write(reinterpret_cast<const char*>(w.data()), m * sizeof(double));
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// CPU time of the whole process (every thread), in milliseconds.
double ProcessCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

// A fingerprint of every entity's reported numbers (composite, direct and
// propagated per factor), to check that a faster build computes exactly the
// same scores as a slower one.
uint64_t ScoreDigest(const scorer::Engine& engine, int64_t n) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](double x) {
    uint64_t b;
    std::memcpy(&b, &x, sizeof(b));
    h = (h ^ b) * 1099511628211ull;
  };
  for (int64_t i = 0; i < n; ++i) {
    absl::StatusOr<v1::Score> s = engine.GetScore(Id(i));
    if (!s.ok()) continue;
    mix(s->composite());
    for (const v1::FactorScore& f : s->factors()) {
      mix(f.direct());
      mix(f.propagated());
    }
  }
  return h;
}

// RESULT <name>_p50_ms and <name>_p99_ms.
void ResultPercentiles(const std::string& name, const std::vector<double>& v) {
  Result(name + "_p50_ms", Percentile(v, 50));
  Result(name + "_p99_ms", Percentile(v, 99));
}

int Main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Progress lines as they come.
  const int64_t n = absl::GetFlag(FLAGS_entities);
  const int64_t m = absl::GetFlag(FLAGS_edges);
  absl::Time t0 = absl::Now();
  Generated g = Generator(n, m, absl::GetFlag(FLAGS_seed)).Make();
  std::printf("generated %zu entities, %zu edges, %zu signals in %.1f s\n",
              g.entities.size(), g.edges.size(), g.signals.size(),
              absl::ToDoubleSeconds(absl::Now() - t0));
  Result("entities", static_cast<double>(g.entities.size()));
  Result("edges", static_cast<double>(g.edges.size()));
  if (!absl::GetFlag(FLAGS_edge_list).empty()) {
    WriteEdgeList(absl::GetFlag(FLAGS_edge_list), g);
  }

  v1::ModelConfig config = scorer::DefaultModelConfig();
  if (absl::GetFlag(FLAGS_tolerance) > 0) {
    config.set_convergence_tolerance(absl::GetFlag(FLAGS_tolerance));
    config.clear_sha256();
  }
  std::printf("model %s, convergence_tolerance %g\n", config.version().c_str(),
              config.convergence_tolerance());
  Result("tolerance", config.convergence_tolerance());
  absl::StatusOr<std::unique_ptr<scorer::Engine>> created =
      scorer::Engine::Create(config);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  scorer::Engine& engine = **created;
  const absl::Time as_of =
      absl::FromCivil(absl::CivilDay(2026, 1, 15), absl::UTCTimeZone());
  t0 = absl::Now();
  engine.Load(std::move(g.entities), std::move(g.edges), std::move(g.signals),
              1, as_of);
  const double load_ms = Ms(absl::Now() - t0);
  std::printf(
      "load (compile + score): %.0f ms, %lld skipped; %lld entities on "
      "cycles, the largest strongly connected component %lld\n",
      load_ms, static_cast<long long>(engine.stats().skipped_records),
      static_cast<long long>(engine.stats().cyclic_entities),
      static_cast<long long>(engine.stats().largest_cycle));
  Result("cyclic_entities",
         static_cast<double>(engine.stats().cyclic_entities));
  Result("largest_cycle", static_cast<double>(engine.stats().largest_cycle));
  Result("load_ms", load_ms);
  // A full rescore after edges or entities came or went rebuilds the
  // condensation first, as Load did: this much more.
  const double load_scc_ms = Ms(engine.stats().rescore_condensation);
  std::printf("  of which strongly connected components: %.0f ms\n",
              load_scc_ms);
  Result("load_scc_ms", load_scc_ms);

  // 1. Full rescores.
  std::vector<double> full, full_cpu, direct, condensation, propagation, index;
  for (int i = 0; i < absl::GetFlag(FLAGS_rescores); ++i) {
    const double cpu0 = ProcessCpuMs();
    t0 = absl::Now();
    engine.RescoreAll();
    full.push_back(Ms(absl::Now() - t0));
    full_cpu.push_back(ProcessCpuMs() - cpu0);
    const scorer::Engine::Stats& s = engine.stats();
    direct.push_back(Ms(s.rescore_direct));
    condensation.push_back(Ms(s.rescore_condensation));
    propagation.push_back(Ms(s.rescore_propagation));
    index.push_back(Ms(s.rescore_index));
  }
  std::printf(
      "full rescore, median of %zu: %.0f ms (rules+direct %.0f, SCC %.0f, "
      "propagation %.0f, index %.0f; %lld evaluations, %lld unconverged)\n",
      full.size(), Percentile(full, 50), Percentile(direct, 50),
      Percentile(condensation, 50), Percentile(propagation, 50),
      Percentile(index, 50),
      static_cast<long long>(engine.stats().last_evaluations),
      static_cast<long long>(engine.stats().last_unconverged_comps));
  std::printf("  CPU time of a full rescore (all threads), median: %.0f ms\n",
              Percentile(full_cpu, 50));
  Result("full_rescore_ms", Percentile(full, 50));
  Result("full_rescore_cpu_ms", Percentile(full_cpu, 50));
  Result("full_direct_ms", Percentile(direct, 50));
  Result("full_scc_ms", Percentile(condensation, 50));
  Result("full_propagation_ms", Percentile(propagation, 50));
  Result("full_index_ms", Percentile(index, 50));
  std::printf("score digest after the full rescores: %016llx\n",
              static_cast<unsigned long long>(ScoreDigest(engine, n)));

  // 2. Incremental: a listing of one company that moves ~1% of the scores.
  //    Candidates are tried once (listed, then delisted) to find such
  //    companies; then listings and delistings are timed.
  const double lo = absl::GetFlag(FLAGS_touch_min) * static_cast<double>(n);
  const double hi = absl::GetFlag(FLAGS_touch_max) * static_cast<double>(n);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) + 1);
  int64_t seq = 1;
  auto listing = [&](const std::string& target, bool add) {
    v1::Change c;
    c.set_sequence(++seq);
    v1::Mutation* mu = c.add_mutations();
    if (add) {
      v1::Signal* s = mu->mutable_upsert_signal();
      s->set_id("signal/bench-listing");
      s->set_source("bench");
      v1::ExportControl* x = s->mutable_export_control();
      x->set_authority("JP-METI");
      x->set_kind(v1::ExportControl::ENTITY_LISTING);
      x->add_target_ids(target);
      x->set_severity(0.6);
    } else {
      mu->set_delete_signal_id("signal/bench-listing");
    }
    return c;
  };
  std::vector<std::string> targets = absl::GetFlag(FLAGS_targets);
  int tried = 0;
  while (absl::GetFlag(FLAGS_targets).empty() && targets.size() < 20 &&
         tried < 3000) {
    ++tried;
    const int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    const std::string id = Id(i);
    absl::Time probe = absl::Now();
    const size_t moved = engine.Apply(listing(id, true), as_of).size();
    if (absl::GetFlag(FLAGS_verbose)) {
      std::printf("probe %s: %zu moved, %lld evaluations, %.1f ms\n",
                  id.c_str(), moved,
                  static_cast<long long>(engine.stats().last_evaluations),
                  Ms(absl::Now() - probe));
      std::fflush(stdout);
    }
    engine.Apply(listing(id, false), as_of);
    if (moved >= lo && moved <= hi) targets.push_back(id);
  }
  std::printf("found %zu targets moving %.0f..%.0f scores in %d tries\n",
              targets.size(), lo, hi, tried);
  std::printf("targets: %s\n", absl::StrJoin(targets, ",").c_str());
  if (targets.empty()) {
    std::fprintf(stderr, "no target moves ~1%% of the scores\n");
    return 1;
  }
  std::vector<double> latency, rescore, publish, protos, with_protos;
  std::vector<double> moved_counts, evaluations;
  const int changes = absl::GetFlag(FLAGS_changes);
  for (int k = 0; k < changes; ++k) {
    const std::string& id = targets[(k / 2) % targets.size()];
    const v1::Change c = listing(id, k % 2 == 0);
    t0 = absl::Now();
    const scorer::ScoreUpdate moved = engine.Apply(c, as_of);
    const absl::Time t1 = absl::Now();
    latency.push_back(Ms(t1 - t0));
    rescore.push_back(Ms(engine.stats().last_update_rescore));
    publish.push_back(Ms(engine.stats().last_update_publish));
    // What the service then does under the shared lock, for subscribers.
    const absl::StatusOr<std::vector<v1::ScoreChange>> built =
        engine.ScoreChanges(moved);
    const absl::Time t2 = absl::Now();
    if (!built.ok() || built->size() != moved.size()) {
      std::fprintf(stderr, "ScoreChanges: %s\n",
                   built.status().ToString().c_str());
      return 1;
    }
    protos.push_back(Ms(t2 - t1));
    with_protos.push_back(Ms(t2 - t0));
    moved_counts.push_back(static_cast<double>(moved.size()));
    evaluations.push_back(static_cast<double>(engine.stats().last_evaluations));
  }
  double mean_moved = 0;
  for (double x : moved_counts) mean_moved += x;
  mean_moved /= static_cast<double>(moved_counts.size());
  double mean_evaluations = 0;
  for (double x : evaluations) mean_evaluations += x;
  mean_evaluations /= static_cast<double>(evaluations.size());
  std::printf(
      "incremental, %d changes moving %.0f scores on average (%.2f%%): p50 "
      "%.2f ms, p99 %.2f ms, max %.2f ms\n",
      changes, mean_moved, 100 * mean_moved / static_cast<double>(n),
      Percentile(latency, 50), Percentile(latency, 99),
      Percentile(latency, 100));
  std::printf(
      "  of which rescoring (rules, exposures, propagation): p50 %.2f ms, p99 "
      "%.2f ms; publishing (moved list, top-risk index): p50 %.2f ms, p99 "
      "%.2f ms\n",
      Percentile(rescore, 50), Percentile(rescore, 99), Percentile(publish, 50),
      Percentile(publish, 99));
  std::printf(
      "  then ScoreChange protos for subscribers (shared lock): p50 %.2f ms, "
      "p99 %.2f ms; update and protos: p50 %.2f ms, p99 %.2f ms\n",
      Percentile(protos, 50), Percentile(protos, 99),
      Percentile(with_protos, 50), Percentile(with_protos, 99));
  ResultPercentiles("incremental_protos", protos);
  ResultPercentiles("incremental_with_protos", with_protos);
  ResultPercentiles("incremental_rescore", rescore);
  ResultPercentiles("incremental_publish", publish);
  Result("incremental_changes", changes);
  Result("incremental_moved_mean", mean_moved);
  Result("incremental_evaluations_mean", mean_evaluations);
  std::printf("  node evaluations per change: %.0f on average\n",
              mean_evaluations);
  Result("incremental_moved_min",
         *std::min_element(moved_counts.begin(), moved_counts.end()));
  Result("incremental_moved_max", Percentile(moved_counts, 100));
  ResultPercentiles("incremental", latency);
  Result("incremental_max_ms", Percentile(latency, 100));
  // 3. ListTopRisks pages after the changes: the top of a ranking, a
  //    filter that matches 0.4% of the entities, and one that matches none
  //    (answered from the filter counts, without a walk; issue 20's target
  //    is < 5 ms at 1M).
  struct Listing {
    const char* name;
    v1::Entity::Kind kind;
    const char* country;
  };
  const Listing listings[] = {{"top", v1::Entity::KIND_UNSPECIFIED, ""},
                              {"sg_facilities", v1::Entity::FACILITY, "SG"},
                              {"no_match", v1::Entity::KIND_UNSPECIFIED, "ZZ"}};
  for (const Listing& l : listings) {
    std::vector<double> took;
    for (int k = 0; k < 11; ++k) {
      scorer::Engine::TopQuery q;
      q.kind = l.kind;
      q.country = l.country;
      q.page_size = 50;
      t0 = absl::Now();
      const absl::StatusOr<v1::ListTopRisksResponse> page =
          engine.ListTopRisks(q);
      took.push_back(Ms(absl::Now() - t0));
      if (!page.ok()) {
        std::fprintf(stderr, "ListTopRisks: %s\n",
                     page.status().ToString().c_str());
        return 1;
      }
    }
    std::printf("ListTopRisks %s, page of 50: median %.2f ms\n", l.name,
                Percentile(took, 50));
    Result(absl::StrCat("list_", l.name, "_ms"), Percentile(took, 50));
  }

  // Stored scores are fixed points to within the tolerance (a change below
  // it is not propagated): check at ten times that.
  const absl::Status ok =
      engine.CheckConsistency(10 * engine.config().convergence_tolerance());
  std::printf("consistency after the run: %s\n", ok.ToString().c_str());
  std::printf("score digest after the changes: %016llx\n",
              static_cast<unsigned long long>(ScoreDigest(engine, n)));
  return ok.ok() ? 0 : 1;
}

}  // namespace
}  // namespace georisk::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return georisk::bench::Main();
}
