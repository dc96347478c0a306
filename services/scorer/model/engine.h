// File: services/scorer/model/engine.h
//
// The georisk risk model (v1, docs/scoring-model.md): an in-memory compiled
// graph that scores every company and facility on export controls, tariffs
// and cross-strait tension, propagates exposure along supply, operation and
// ownership edges, explains every score exactly, rescores incrementally as
// the graph changes, and runs what-if scenarios on a copy-on-write overlay.
// No RPC here: the Scorer service wraps it.
//
//   absl::StatusOr<v1::ModelConfig> config = LoadModelConfig(path);
//   absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(*config);
//   (*engine)->Load(entities, edges, signals, snapshot_sequence, absl::Now());
//   for (const v1::Change& c : feed) {
//     ScoreUpdate update = (*engine)->Apply(c, absl::Now());  // exclusive
//     std::vector<v1::ScoreChange> moved =
//         *(*engine)->ScoreChanges(update);  // shared, before the next update
//   }
//   absl::StatusOr<v1::Score> s = (*engine)->GetScore("company/foxconn");
//   absl::StatusOr<v1::Explanation> why =
//       (*engine)->Explain("company/openai", v1::FACTOR_UNSPECIFIED, 3, 6);
//
// Thread safety: not thread-safe. Const methods (GetScore, ListTopRisks,
// Explain, RunScenario, ScoreChanges, the accessors) only read, so any
// number may run at once; a non-const method (Load, Apply, ApplyChange,
// Advance, AdvanceTime, RescoreAll) needs exclusive access. The service
// guards the engine with a reader/writer lock.
//
// Every Score carries the model version, the graph sequence and the as-of
// date it was computed at.
#ifndef GEORISK_SERVICES_SCORER_MODEL_ENGINE_H_
#define GEORISK_SERVICES_SCORER_MODEL_ENGINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/model.pb.h"
#include "georisk/v1/score.pb.h"
#include "georisk/v1/scorer.pb.h"

namespace georisk::scorer {

namespace internal {
class State;
struct Params;
struct PropagationStats;
struct PropagationScratch;
class TopIndex;
}  // namespace internal

// The entities whose scores one update (Engine::Apply or Advance) moved,
// compact: which entity, its scores before, whether it exists before and
// after. Engine::ScoreChanges turns it into ScoreChange protos.
class ScoreUpdate {
 public:
  size_t size() const { return moved_.size(); }
  bool empty() const { return moved_.empty(); }

 private:
  friend class Engine;
  struct Moved {
    uint32_t node;
    bool before_exists;
    bool after_exists;
    std::array<double, 3> s_before;  // Survivals before (when existing).
    std::array<double, 3> d_before;  // Direct survivals before.
  };
  std::vector<Moved> moved_;  // In entity id order.
  uint64_t generation_ = 0;   // Engine::generation_ right after the update.
  int64_t graph_sequence_ = 0;
  int64_t before_sequence_ = 0;
  int64_t before_as_of_ns_ = 0;
};

class Engine {
 public:
  // Counters for metrics and tests.
  struct Stats {
    // Records Load() or ApplyChange() could not apply (an edge naming an
    // unknown entity, a mutation without a kind). GraphStore never sends
    // them; a non-zero value means the feed and the engine disagree.
    int64_t skipped_records = 0;
    // Node evaluations of the last Load/ApplyChange/AdvanceTime/RescoreAll.
    int64_t last_evaluations = 0;
    // Strongly connected components whose fixed-point iteration stopped at
    // max_iterations (their scores are within reach of, not at, the fixed
    // point), in the last update.
    int64_t last_unconverged_comps = 0;
    // Changes ignored because their sequence was not above sequence().
    int64_t stale_changes = 0;
    // The last Apply/Advance: recomputing (rules, direct exposures,
    // propagation) and publishing (the moved entities listed in id order,
    // the top-risk index and counts).
    absl::Duration last_update_rescore;
    absl::Duration last_update_publish;
    // Phases of the last full rescore (Load or RescoreAll): ownership rules
    // and direct exposures, strongly connected components, propagation,
    // top-risk index.
    absl::Duration rescore_direct;
    absl::Duration rescore_condensation;
    absl::Duration rescore_propagation;
    absl::Duration rescore_index;
    // At the last full rescore: entities on cycles (in a strongly connected
    // component of more than one), and the largest such component.
    int64_t cyclic_entities = 0;
    int64_t largest_cycle = 0;
    // Cycles the last full rescore started from the current scores (a warm
    // RescoreAll; 0 after Load and a cold one).
    int64_t warm_cycles = 0;
  };

  // Validates `config` (NormalizeModelConfig: defaults filled) and makes an
  // engine with an empty graph at sequence 0.
  // Errors: INVALID_ARGUMENT naming the config field at fault.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(
      const v1::ModelConfig& config);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replaces the whole graph (a snapshot: unique ids and edge keys; the last
  // record wins on a repeated entity or signal id) and scores everything at
  // `as_of`. Edges and POSITIVE links naming unknown entities are skipped
  // (Stats); NEGATIVE and UNSURE ones are kept and join nothing.
  // POSITIVE links join entities into one party (docs/scoring-model.md,
  // "Linked parties"); upsert_link and delete_link mutations in Apply()
  // regroup them incrementally.
  void Load(std::vector<v1::Entity> entities, std::vector<v1::Edge> edges,
            std::vector<v1::Signal> signals, int64_t sequence, absl::Time as_of,
            std::vector<v1::Link> links = {});

  // Applies one committed change incrementally, evaluated at `as_of` (time
  // moves first, as Advance): scores, rankings and counts are updated when
  // it returns. Returns the entities whose score changed, ordered by entity
  // id. A change whose sequence is not above sequence() is ignored (replays
  // are harmless) and returns nothing.
  ScoreUpdate Apply(const v1::Change& change, absl::Time as_of);

  // Re-evaluates at `as_of` (later or earlier): edges and signals whose
  // windows opened or closed, ownership rules that started, stopped or were
  // suspended. Incremental, like Apply; graph_sequence unchanged.
  ScoreUpdate Advance(absl::Time as_of);

  // The ScoreChange protos of the last update, in its order: `before` is
  // absent for entities that did not exist before, `after` for deleted
  // ones; graph_sequence is the change's. Reads the engine's current
  // records, so it needs no exclusive access (the service builds them under
  // the shared lock, while scores are already served).
  // Errors: FAILED_PRECONDITION when another update came since.
  absl::StatusOr<std::vector<v1::ScoreChange>> ScoreChanges(
      const ScoreUpdate& update) const;

  // Apply or Advance, then ScoreChanges.
  std::vector<v1::ScoreChange> ApplyChange(const v1::Change& change,
                                           absl::Time as_of);
  std::vector<v1::ScoreChange> AdvanceTime(absl::Time as_of);

  // Recomputes every score on the current graph: ownership rules, direct
  // exposures and propagation, as Load does after compiling it. Cold, the
  // propagation starts from 0 (as Load); warm (the default), its cycles'
  // sweeps start from the current scores where that provably reaches the
  // same fixed point (docs/scoring-model.md, "Full rescoring from the
  // current scores"): every score ends within the tolerance of its inputs
  // either way. For benchmarks and consistency checks; normal operation
  // never needs it.
  void RescoreAll(bool warm = true);

  // The current score of an entity.
  // Errors: NOT_FOUND for an unknown (or deleted) entity.
  absl::StatusOr<v1::Score> GetScore(absl::string_view entity_id) const;

  // Scores of `entity_ids`, in order, as of `as_of`: the model evaluated at
  // that date on the current graph (the signals, edges and ownership rules
  // whose windows include it), computed as RunScenario computes a scenario
  // with no overrides and that as_of, on a copy-on-write overlay; live
  // scores are untouched. Without `as_of`, the live scores. Each element is
  // the score or NOT_FOUND (unknown or deleted entity).
  std::vector<absl::StatusOr<v1::Score>> GetScores(
      const std::vector<std::string>& entity_ids,
      std::optional<absl::Time> as_of) const;

  struct TopQuery {
    // FACTOR_UNSPECIFIED ranks by the composite, else by 100 x R_f.
    v1::Factor factor = v1::FACTOR_UNSPECIFIED;
    // KIND_UNSPECIFIED: any.
    v1::Entity::Kind kind = v1::Entity::KIND_UNSPECIFIED;
    // "": any.
    std::string country;
    // Only scores >= this (0..100).
    double min_score = 0;
    // 1..1000 (values outside are clamped; the service applies defaults).
    int page_size = 50;
    std::string page_token;
    // Fill main_reasons: each listed entity's MainReason for `factor`, the
    // contribution Explain(id, factor, ...) lists first.
    bool include_reasons = false;
  };
  // Entities ranked highest first (ties by entity id), filtered; total_size
  // counts every entity matching the filters. Tokens are opaque cursors
  // (score, id) tied to the query's factor, kind, country and min_score.
  // Errors: INVALID_ARGUMENT for an unknown factor or kind, or a bad token
  // ("page_token: ...").
  absl::StatusOr<v1::ListTopRisksResponse> ListTopRisks(
      const TopQuery& query) const;

  // The edges of an entity in the graph the engine scores (stored
  // direction, link edges of parties left out), each with the entity at its
  // other end, its score, and whether exposure flows over it now; ordered by
  // direction (inbound first), kind, other id, product and record id, in
  // pages (page_size already 1..1000; tokens are cursors after the last
  // edge of the page, tied to the request's entity, direction and kinds).
  // Errors: NOT_FOUND (unknown or deleted entity), INVALID_ARGUMENT naming
  // the field ("direction: ...", "kinds[1]: ...", "page_token: ...").
  absl::StatusOr<v1::ListNeighboursResponse> ListNeighbours(
      absl::string_view entity_id, v1::Direction direction,
      const std::vector<v1::Edge::Kind>& kinds, int page_size,
      absl::string_view page_token) const;

  // Why an entity scores what it scores: every direct signal's and upstream
  // edge's additive share of -ln(1 - R_f), and the top paths upstream.
  // FACTOR_UNSPECIFIED explains all three factors. max_paths and max_depth
  // in 1..20.
  // Errors: NOT_FOUND (unknown entity), INVALID_ARGUMENT (factor, limits).
  absl::StatusOr<v1::Explanation> Explain(absl::string_view entity_id,
                                          v1::Factor factor, int max_paths,
                                          int max_depth) const;
  // The same, of the score as of `as_of` (as GetScores; unset: live).
  absl::StatusOr<v1::Explanation> Explain(
      absl::string_view entity_id, v1::Factor factor, int max_paths,
      int max_depth, std::optional<absl::Time> as_of) const;

  // Applies the scenario's overrides (signal upserts and deletes, edge cuts
  // and reweights, entity deletes; idempotency keys ignored) and its as_of
  // on a copy-on-write overlay of the live state, recomputing only what they
  // reach, and returns the entities whose composite moved by at least
  // `min_delta` (and by more than nothing), largest |delta| first, at most
  // `max_results` (1..1000); with `include_reasons`, each delta's top three
  // contributions in the scenario. Live scores are never touched.
  // Errors: INVALID_ARGUMENT naming the override at fault
  // ("scenario.overrides[2].upsert_edge.weight: ..."; upsert_entity is not
  // allowed; an edge to an unknown or deleted entity), or a bad limit.
  absl::StatusOr<v1::RunScenarioResponse> RunScenario(
      const v1::Scenario& scenario, int max_results, double min_delta,
      bool include_reasons) const;

  // Verifies the engine's invariants, for tests and debugging (O(graph)):
  // every direct exposure equals its rules' value, every stored score is a
  // fixed point of the kernel within `tolerance`, and within the model's
  // convergence tolerance plus the node's recorded drift (which is below
  // that tolerance; so within twice it), keys increase along every
  // propagation edge, and every comp's input counters are right.
  // Errors: INTERNAL naming the first entity or comp that breaks one.
  absl::Status CheckConsistency(double tolerance) const;

  // The graph sequence scores reflect (the last Load or ApplyChange).
  int64_t sequence() const;
  // Live entities.
  int64_t entity_count() const;
  // The date scores are evaluated at.
  absl::Time as_of() const;
  // The model in force, defaults filled, with sha256.
  const v1::ModelConfig& config() const { return config_; }
  const Stats& stats() const { return stats_; }

 private:
  Engine(v1::ModelConfig config, std::unique_ptr<internal::Params> params);

  // A copy-on-write overlay of the live state re-evaluated at `as_of` (a
  // scenario with no overrides). Reads through to the live state.
  std::unique_ptr<internal::State> AsOfOverlay(absl::Time as_of) const;

  // Rebuilds the top-risk index and the filter counts from scratch
  // (`same_entities`: the entities and their numbering are those of the
  // last rebuild, only scores moved).
  void RebuildIndex(bool same_entities);
  // The update's protos (generation already checked).
  std::vector<v1::ScoreChange> BuildScoreChanges(
      const ScoreUpdate& update) const;
  // Records a full rescore's statistics, then rebuilds the index.
  void RecordRescore(const internal::PropagationStats& ps, bool same_entities);
  // Moves v between the (kind, country) counts as it appears, disappears
  // or moves.
  void Recount(uint32_t v);
  bool Matches(uint32_t v, v1::Entity::Kind kind, uint16_t country) const;

  const v1::ModelConfig config_;
  const std::unique_ptr<internal::Params> params_;
  std::unique_ptr<internal::State> state_;
  std::unique_ptr<internal::TopIndex> top_;
  std::unique_ptr<internal::PropagationScratch> scratch_;
  // Live entities by (kind, country) (total_size without min_score).
  absl::flat_hash_map<uint32_t, int64_t> counts_;
  std::vector<uint32_t> count_key_;  // Per node; 0 when not counted.
  int64_t alive_ = 0;
  // Bumped by every non-const call: a ScoreUpdate is only valid for the
  // generation it was made at.
  uint64_t generation_ = 0;
  Stats stats_;
};

}  // namespace georisk::scorer

#endif  // GEORISK_SERVICES_SCORER_MODEL_ENGINE_H_
