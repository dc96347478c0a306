// File: services/scorer/model/test_graphs.h
//
// Small builders for the model's tests: entities, edges, signals and
// changes written in one line each, and readers of an engine's scores.
//
//   Graph g;
//   g.entities = {Company("company/a", "TW"), Facility("facility/f", "CN")};
//   g.edges = {Supplies("facility/f", "company/a", 0.4, "8542")};
//   g.signals = {Listing("signal/l", "US-BIS", {"company/a"}, 0.9)};
//   std::unique_ptr<Engine> e = g.Load(TestConfig());
//   EXPECT_NEAR(R(*e, "company/a", v1::FACTOR_EXPORT_CONTROLS), 0.9, 1e-12);
#ifndef GEORISK_SERVICES_SCORER_MODEL_TEST_GRAPHS_H_
#define GEORISK_SERVICES_SCORER_MODEL_TEST_GRAPHS_H_

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/model.pb.h"
#include "services/scorer/model/engine.h"

namespace georisk::scorer::testing {

absl::Time Date(int year, int month, int day);
// 2026-01-15, after the VEU revocations, during BIS's suspension.
absl::Time DefaultAsOf();

// The default model with a tighter tolerance (1e-13), for exact checks.
v1::ModelConfig TestConfig();

// Record and mutation builders (domain/testing/builders.h).
using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::DeleteLink;
using ::georisk::domain::testing::DeleteSignal;
using ::georisk::domain::testing::Destination;
using ::georisk::domain::testing::Facility;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::Operates;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Person;
using ::georisk::domain::testing::Revoked;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tariff;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::Window;
using ::georisk::domain::testing::WithRecordId;

// Builders only the model's tests need.
// An export-control signal `s` with its measure set (any number: values
// beyond the enum stand for measures a newer writer knows).
v1::Signal WithMeasure(v1::Signal s, int measure);

v1::Change MakeChange(int64_t sequence, std::vector<v1::Mutation> mutations);

// A link between `a` and `b` (parties.h): IDENTIFIER with evidence
// "lei <a>" decided by "rule:identifier" unless changed.
v1::Link Link(const std::string& a, const std::string& b,
              v1::Link::Judgement judgement = v1::Link::POSITIVE);

struct Graph {
  std::vector<v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::vector<v1::Signal> signals;
  std::vector<v1::Link> links;

  // A new engine (TestConfig() unless given) loaded with this graph at
  // `as_of`, sequence 1.
  std::unique_ptr<Engine> Load(absl::Time as_of = DefaultAsOf()) const;
  std::unique_ptr<Engine> Load(const v1::ModelConfig& config,
                               absl::Time as_of = DefaultAsOf()) const;
};

// A random world of entities, edges (supply loops, ownership loops,
// self-ownership, windows) and signals of every kind, and random changes to
// it applied the way GraphStore applies them. Deterministic for a seed;
// copyable (a copy continues independently).
class RandomWorld {
 public:
  // With `links`, RandomMutations() also upserts links (every judgement)
  // between entities of one kind and deletes them, and entity deletes
  // cascade to their POSITIVE and UNSURE links, as GraphStore does.
  explicit RandomWorld(uint64_t seed, bool links = false);

  // Fills the world and returns it.
  Graph Initial(int entities, int edges, int signals);
  Graph Snapshot() const;
  // 1 to 4 mutations, already applied to the world (entity deletes are
  // followed by their cascaded edge deletes). Without `entity_upserts`, no
  // entity is created, revived or changed (what a scenario may do).
  std::vector<v1::Mutation> RandomMutations(bool entity_upserts = true);
  // One of a few dates around the BIS suspension and the windows in use.
  absl::Time RandomDate();
  int Uniform(size_t n);

 private:
  using EdgeKey = std::tuple<std::string, int, std::string, std::string>;
  static EdgeKey Key(const v1::Edge& e);
  template <typename Map>
  const typename Map::value_type& Pick(const Map& m);
  double Weight();
  void MaybeWindow(v1::Edge* e);
  v1::Entity NewEntity();
  std::optional<v1::Edge> RandomEdge();
  v1::Signal RandomSignal();

  std::mt19937_64 rng_;
  int next_entity_ = 0;
  int next_signal_ = 0;
  std::map<std::string, v1::Entity> entities_;
  // Ids of entities_ (all, companies, facilities) for RandomEdge(), valid
  // until entities_ changes.
  bool id_lists_valid_ = false;
  std::vector<std::string> all_ids_, companies_, facilities_;
  std::map<EdgeKey, v1::Edge> edges_;
  std::map<std::string, v1::Signal> signals_;
  std::vector<v1::Entity> dead_;
  const bool with_links_;
  std::map<std::pair<std::string, std::string>, v1::Link> links_;
};

// R_f and d_f of an entity (fails the test when it is unknown).
double R(const Engine& e, const std::string& id, v1::Factor f);
double D(const Engine& e, const std::string& id, v1::Factor f);
double Composite(const Engine& e, const std::string& id);

inline constexpr v1::Factor kEC = v1::FACTOR_EXPORT_CONTROLS;
inline constexpr v1::Factor kTariffs = v1::FACTOR_TARIFFS;
inline constexpr v1::Factor kCS = v1::FACTOR_CROSS_STRAIT;

}  // namespace georisk::scorer::testing

#endif  // GEORISK_SERVICES_SCORER_MODEL_TEST_GRAPHS_H_
