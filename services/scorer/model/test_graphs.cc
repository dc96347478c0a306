#include "services/scorer/model/test_graphs.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "gtest/gtest.h"
#include "services/scorer/model/model_config.h"

namespace georisk::scorer::testing {

absl::Time Date(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

absl::Time DefaultAsOf() { return Date(2026, 1, 15); }

v1::ModelConfig TestConfig() {
  v1::ModelConfig c = DefaultModelConfig();
  c.set_convergence_tolerance(1e-13);
  c.clear_sha256();
  return c;
}

v1::Signal WithMeasure(v1::Signal s, int measure) {
  s.mutable_export_control()->set_measure(
      static_cast<v1::ExportControl::Measure>(measure));
  return s;
}

v1::Change MakeChange(int64_t sequence, std::vector<v1::Mutation> mutations) {
  v1::Change c;
  c.set_sequence(sequence);
  for (v1::Mutation& m : mutations) *c.add_mutations() = std::move(m);
  return c;
}

std::unique_ptr<Engine> Graph::Load(absl::Time as_of) const {
  return Load(TestConfig(), as_of);
}

std::unique_ptr<Engine> Graph::Load(const v1::ModelConfig& config,
                                    absl::Time as_of) const {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return nullptr;
  (*engine)->Load(entities, edges, signals, 1, as_of, links);
  return *std::move(engine);
}

namespace {
const v1::FactorScore* Factor(const v1::Score& s, v1::Factor f) {
  for (const v1::FactorScore& fs : s.factors()) {
    if (fs.factor() == f) return &fs;
  }
  return nullptr;
}
}  // namespace

double R(const Engine& e, const std::string& id, v1::Factor f) {
  absl::StatusOr<v1::Score> s = e.GetScore(id);
  EXPECT_TRUE(s.ok()) << id << ": " << s.status();
  if (!s.ok()) return -1;
  return Factor(*s, f)->propagated();
}

double D(const Engine& e, const std::string& id, v1::Factor f) {
  absl::StatusOr<v1::Score> s = e.GetScore(id);
  EXPECT_TRUE(s.ok()) << id << ": " << s.status();
  if (!s.ok()) return -1;
  return Factor(*s, f)->direct();
}

double Composite(const Engine& e, const std::string& id) {
  absl::StatusOr<v1::Score> s = e.GetScore(id);
  EXPECT_TRUE(s.ok()) << id << ": " << s.status();
  if (!s.ok()) return -1;
  return s->composite();
}

namespace {
const std::vector<std::string> kCountries = {"TW", "CN", "US",
                                             "KR", "JP", "DE"};
const std::vector<std::string> kProducts = {"8542",   "854231", "8486",
                                            "848620", "8541",   ""};
const std::vector<std::string> kAuthorities = {"US-OFAC", "US-BIS", "EU",
                                               "JP-METI"};
// Dates around the BIS suspension and the edge/signal windows used below.
const std::vector<absl::Time> kDates = {
    Date(2025, 9, 1), Date(2025, 10, 1),  Date(2025, 11, 10), Date(2026, 1, 15),
    Date(2026, 6, 1), Date(2026, 11, 10), Date(2027, 3, 1)};

}  // namespace

RandomWorld::RandomWorld(uint64_t seed, bool links)
    : rng_(seed), with_links_(links) {}

RandomWorld::EdgeKey RandomWorld::Key(const v1::Edge& e) {
  return {e.from_id(), e.kind(), e.to_id(), e.product_code()};
}

template <typename Map>
const typename Map::value_type& RandomWorld::Pick(const Map& m) {
  auto it = m.begin();
  std::advance(it, Uniform(m.size()));
  return *it;
}

Graph RandomWorld::Initial(int entities, int edges, int signals) {
  for (int i = 0; i < entities; ++i) {
    v1::Entity e = NewEntity();
    entities_[e.id()] = e;
    id_lists_valid_ = false;
  }
  for (int i = 0; i < edges; ++i) {
    if (auto e = RandomEdge()) edges_[Key(*e)] = *e;
  }
  for (int i = 0; i < signals; ++i) {
    v1::Signal s = RandomSignal();
    signals_[s.id()] = s;
  }
  return Snapshot();
}

v1::Link Link(const std::string& a, const std::string& b,
              v1::Link::Judgement judgement) {
  v1::Link l;
  l.set_entity_a(a);
  l.set_entity_b(b);
  l.set_judgement(judgement);
  l.set_method(v1::Link::IDENTIFIER);
  l.set_score(1);
  l.add_evidence(absl::StrCat("lei ", a));
  l.set_decided_by("rule:identifier");
  l.set_source("test");
  return l;
}

Graph RandomWorld::Snapshot() const {
  Graph g;
  for (const auto& [id, e] : entities_) g.entities.push_back(e);
  for (const auto& [k, e] : edges_) g.edges.push_back(e);
  for (const auto& [id, s] : signals_) g.signals.push_back(s);
  for (const auto& [pair, l] : links_) g.links.push_back(l);
  return g;
}

std::vector<v1::Mutation> RandomWorld::RandomMutations(bool entity_upserts) {
  std::vector<v1::Mutation> out;
  // Mutation kinds, weighted: edges come and go most, entities least, so
  // the graph keeps its size and its cycles.
  static const std::vector<int> kMix = {0, 0, 1, 1, 2, 3, 3, 3, 4, 4,
                                        4, 5, 5, 6, 6, 7, 7, 8, 9};
  const int n = 1 + Uniform(4);
  for (int i = 0; i < n; ++i) {
    // Links, when enabled: a fifth of the mutations.
    if (with_links_ && Uniform(5) == 0) {
      if (!links_.empty() && Uniform(3) == 0) {
        const auto pair = Pick(links_).first;
        links_.erase(pair);
        out.push_back(DeleteLink(pair.second, pair.first));
        continue;
      }
      if (entities_.size() < 2) continue;
      const v1::Entity& a = Pick(entities_).second;
      const v1::Entity& b = Pick(entities_).second;
      if (a.id() == b.id() || a.kind() != b.kind()) continue;
      static const v1::Link::Judgement kJudgements[] = {
          v1::Link::POSITIVE, v1::Link::POSITIVE, v1::Link::POSITIVE,
          v1::Link::NEGATIVE, v1::Link::UNSURE};
      v1::Link l = Link(a.id(), b.id(), kJudgements[Uniform(5)]);
      links_[std::minmax(a.id(), b.id())] = l;
      out.push_back(Upsert(l));
      continue;
    }
    switch (kMix[Uniform(kMix.size())]) {
      case 0:
      case 1: {  // Upsert a signal (new or changed).
        v1::Signal s = RandomSignal();
        if (!signals_.empty() && Uniform(2) == 0) {
          s.set_id(Pick(signals_).first);
        }
        signals_[s.id()] = s;
        out.push_back(Upsert(s));
        break;
      }
      case 2:  // Delete a signal.
        if (!signals_.empty()) {
          const std::string id = Pick(signals_).first;
          signals_.erase(id);
          out.push_back(DeleteSignal(id));
        }
        break;
      case 3:
      case 4: {  // New edge.
        if (auto e = RandomEdge()) {
          edges_[Key(*e)] = *e;
          out.push_back(Upsert(*e));
        }
        break;
      }
      case 5: {  // Reweight or re-window an edge.
        if (edges_.empty()) break;
        v1::Edge e = Pick(edges_).second;
        e.set_weight(Weight());
        MaybeWindow(&e);
        edges_[Key(e)] = e;
        out.push_back(Upsert(e));
        break;
      }
      case 6: {  // Delete an edge.
        if (edges_.empty()) break;
        const v1::Edge e = Pick(edges_).second;
        edges_.erase(Key(e));
        out.push_back(DeleteEdge(e));
        break;
      }
      case 7: {  // An entity moves country, or a new one appears.
        if (!entity_upserts) break;
        if (Uniform(2) == 0 && !entities_.empty()) {
          v1::Entity e = Pick(entities_).second;
          e.set_country(kCountries[Uniform(kCountries.size())]);
          entities_[e.id()] = e;
          id_lists_valid_ = false;
          out.push_back(Upsert(e));
        } else {
          v1::Entity e = NewEntity();
          entities_[e.id()] = e;
          id_lists_valid_ = false;
          out.push_back(Upsert(e));
        }
        break;
      }
      case 8: {  // Delete an entity (and, as the store does, its edges).
        if (entities_.size() < 5) break;
        const std::string id = Pick(entities_).first;
        entities_.erase(id);
        id_lists_valid_ = false;
        out.push_back(DeleteEntity(id));
        for (auto it = edges_.begin(); it != edges_.end();) {
          if (it->second.from_id() == id || it->second.to_id() == id) {
            out.push_back(DeleteEdge(it->second));
            it = edges_.erase(it);
          } else {
            ++it;
          }
        }
        for (auto it = links_.begin(); it != links_.end();) {
          if ((it->first.first == id || it->first.second == id) &&
              it->second.judgement() != v1::Link::NEGATIVE) {
            out.push_back(DeleteLink(it->first.first, it->first.second));
            it = links_.erase(it);
          } else {
            ++it;
          }
        }
        break;
      }
      case 9: {  // Revive a deleted entity.
        if (!entity_upserts) break;
        if (dead_.empty()) break;
        v1::Entity e = dead_.back();
        dead_.pop_back();
        if ((entities_.count(e.id()) > 0)) break;
        entities_[e.id()] = e;
        id_lists_valid_ = false;
        out.push_back(Upsert(e));
        break;
      }
    }
  }
  // Remember deleted entities for revival.
  for (const v1::Mutation& m : out) {
    if (m.kind_case() == v1::Mutation::kDeleteEntityId) {
      v1::Entity e;
      e.set_id(m.delete_entity_id());
      e.set_kind(m.delete_entity_id().rfind("facility/", 0) == 0
                     ? v1::Entity::FACILITY
                     : v1::Entity::COMPANY);
      e.set_name("revived");
      e.set_country(kCountries[Uniform(kCountries.size())]);
      e.set_source("test");
      dead_.push_back(e);
    }
  }
  return out;
}

absl::Time RandomWorld::RandomDate() { return kDates[Uniform(kDates.size())]; }

int RandomWorld::Uniform(size_t n) {
  return static_cast<int>(
      std::uniform_int_distribution<size_t>(0, n - 1)(rng_));
}

double RandomWorld::Weight() {
  // Mostly moderate, sometimes 0 or 1 (edge cases).
  switch (Uniform(10)) {
    case 0:
      return 0;
    case 1:
      return 1;
    default:
      return std::round(std::uniform_real_distribution<double>(0, 1)(rng_) *
                        100) /
             100;
  }
}

void RandomWorld::MaybeWindow(v1::Edge* e) {
  e->clear_effective_from();
  e->clear_effective_until();
  if (Uniform(3) != 0) return;
  const absl::Time a = RandomDate();
  const absl::Time b = RandomDate();
  *e = Window(
      *e,
      std::min(a, b) == std::max(a, b) ? absl::InfinitePast() : std::min(a, b),
      std::max(a, b));
}

v1::Entity RandomWorld::NewEntity() {
  const int i = next_entity_++;
  const bool facility = Uniform(3) == 0;
  const std::string country = kCountries[Uniform(kCountries.size())];
  return facility ? Facility(absl::StrCat("facility/f", i), country)
                  : Company(absl::StrCat("company/c", i), country);
}

std::optional<v1::Edge> RandomWorld::RandomEdge() {
  // The id lists, rebuilt only after the entities changed: building them
  // for every edge made a world of thousands of entities quadratic.
  if (!id_lists_valid_) {
    companies_.clear();
    facilities_.clear();
    all_ids_.clear();
    for (const auto& [id, e] : entities_) {
      all_ids_.push_back(id);
      (e.kind() == v1::Entity::COMPANY ? companies_ : facilities_)
          .push_back(id);
    }
    id_lists_valid_ = true;
  }
  const std::vector<std::string>& companies = companies_;
  const std::vector<std::string>& facilities = facilities_;
  const std::vector<std::string>& all = all_ids_;
  if (companies.size() < 2) return std::nullopt;
  auto pick = [&](const std::vector<std::string>& v) {
    return v[Uniform(v.size())];
  };
  v1::Edge e;
  switch (Uniform(3)) {
    case 0: {
      const std::string a = pick(companies);
      // Self-ownership now and then.
      const std::string b = Uniform(8) == 0 ? a : pick(companies);
      e = Owns(a, b, Weight());
      break;
    }
    case 1:
      if (facilities.empty()) return std::nullopt;
      e = Operates(pick(companies), pick(facilities), Weight());
      break;
    default: {
      const std::string a = pick(all);
      const std::string b = pick(all);
      if (a == b) return std::nullopt;
      e = Supplies(a, b, Weight(), kProducts[Uniform(kProducts.size())]);
      break;
    }
  }
  MaybeWindow(&e);
  return e;
}

v1::Signal RandomWorld::RandomSignal() {
  const std::string id = absl::StrCat("signal/s", next_signal_++);
  std::vector<std::string> ids;
  for (const auto& [eid, e] : entities_) ids.push_back(eid);
  auto some_targets = [&](bool facilities_only) {
    std::vector<std::string> t;
    for (int i = 0; i < 3 && !ids.empty(); ++i) {
      const std::string& x = ids[Uniform(ids.size())];
      if (!facilities_only || x.rfind("facility/", 0) == 0) t.push_back(x);
    }
    if (t.empty())
      t.push_back(facilities_only ? "facility/unknown" : "company/unknown");
    return t;
  };
  const double severity = 0.05 + 0.95 * Weight();
  v1::Signal s;
  switch (Uniform(7)) {
    case 0:
    case 1:
      s = Listing(id, kAuthorities[Uniform(kAuthorities.size())],
                  some_targets(false), std::min(1.0, severity));
      break;
    case 2:
      s = Revoked(id, "US-BIS", some_targets(true), std::min(1.0, severity));
      break;
    case 3:
      s = Destination(id, "US-BIS", {kCountries[Uniform(kCountries.size())]},
                      Uniform(2) ? std::vector<std::string>{"8486"}
                                 : std::vector<std::string>{},
                      std::min(1.0, severity));
      break;
    case 4:
    case 5: {
      const std::vector<std::string> programmes = {"Section 301", "IEEPA"};
      s = Tariff(id, programmes[Uniform(2)],
                 kCountries[Uniform(kCountries.size())],
                 Uniform(3) == 0 ? "*" : kCountries[Uniform(kCountries.size())],
                 kProducts[Uniform(kProducts.size())], Weight() * 0.6);
      break;
    }
    default:
      s = Tension(id, Weight());
      break;
  }
  if (Uniform(3) == 0) {
    const absl::Time a = RandomDate();
    const absl::Time b = RandomDate();
    if (a != b) s = Window(s, std::min(a, b), std::max(a, b));
  }
  return s;
}

}  // namespace georisk::scorer::testing
