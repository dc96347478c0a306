#include "services/scorer/model/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "domain/paging.h"
#include "domain/validation.h"
#include "services/scorer/model/explain.h"
#include "services/scorer/model/exposure.h"
#include "services/scorer/model/model_config.h"
#include "services/scorer/model/neighbours.h"
#include "services/scorer/model/parallel.h"
#include "services/scorer/model/propagate.h"
#include "services/scorer/model/state.h"
#include "services/scorer/model/top_index.h"
#include "services/scorer/model/update.h"

namespace georisk::scorer {

using internal::Node;
using internal::State;
using internal::Triple;

namespace {

inline constexpr int kMaxExplainLimit = 20;
inline constexpr int kMaxScenarioResults = 1000;
inline constexpr int kTopReasons = 3;

internal::RankValues Ranks(const internal::Params& p, const Triple& s) {
  return {internal::Composite(p, s), 100 * (1 - s.v[0]), 100 * (1 - s.v[1]),
          100 * (1 - s.v[2])};
}

// Whether two survivals give the same reported scores (R = 1 - s).
bool SameRisk(const Triple& a, const Triple& b) {
  for (int f = 0; f < internal::kNumFactors; ++f) {
    if (1 - a.v[f] != 1 - b.v[f]) return false;
  }
  return true;
}

uint32_t CountKey(const internal::EntityRec& e) {
  return (static_cast<uint32_t>(e.kind) << 16) | e.country;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    const v1::ModelConfig& config) {
  absl::StatusOr<v1::ModelConfig> normalized = NormalizeModelConfig(config);
  if (!normalized.ok()) return normalized.status();
  auto params =
      std::make_unique<internal::Params>(internal::MakeParams(*normalized));
  std::unique_ptr<Engine> engine(
      new Engine(*std::move(normalized), std::move(params)));
  engine->Load({}, {}, {}, 0, absl::UnixEpoch());
  return engine;
}

Engine::Engine(v1::ModelConfig config, std::unique_ptr<internal::Params> params)
    : config_(std::move(config)),
      params_(std::move(params)),
      scratch_(std::make_unique<internal::PropagationScratch>()) {}

Engine::~Engine() = default;

void Engine::Load(std::vector<v1::Entity> entities, std::vector<v1::Edge> edges,
                  std::vector<v1::Signal> signals, int64_t sequence,
                  absl::Time as_of, std::vector<v1::Link> links) {
  ++generation_;
  state_ = std::make_unique<State>();
  int64_t skipped = 0;
  const internal::PropagationStats ps =
      internal::BuildState(state_.get(), *params_, std::move(entities),
                           std::move(edges), std::move(signals), sequence,
                           internal::ToNs(as_of), &skipped, std::move(links));
  stats_.skipped_records += skipped;
  RecordRescore(ps, /*same_entities=*/false);
}

void Engine::RecordRescore(const internal::PropagationStats& ps,
                           bool same_entities) {
  stats_.last_evaluations = ps.evaluations;
  stats_.last_unconverged_comps = ps.unconverged_comps;
  stats_.warm_cycles = ps.warm_cycles;
  stats_.rescore_direct = ps.rules_and_direct;
  stats_.rescore_condensation = ps.condensation;
  stats_.rescore_propagation = ps.propagation;
  stats_.cyclic_entities = 0;
  stats_.largest_cycle = 0;
  for (const auto& [key, c] : state_->comp_by_key()) {
    const int64_t size = static_cast<int64_t>(state_->members()[c].size());
    stats_.cyclic_entities += size;
    stats_.largest_cycle = std::max(stats_.largest_cycle, size);
  }
  const absl::Time start = absl::Now();
  RebuildIndex(same_entities);
  stats_.rescore_index = absl::Now() - start;
}

void Engine::RescoreAll(bool warm) {
  ++generation_;
  RecordRescore(internal::RescoreAll(
                    state_.get(), *params_,
                    warm ? internal::Start::kWarm : internal::Start::kCold),
                /*same_entities=*/true);
}

void Engine::RebuildIndex(bool same_entities) {
  const State& st = *state_;
  const size_t n = st.node_count();
  std::vector<absl::string_view> ids(same_entities ? 0 : n);
  std::vector<internal::RankValues> values(n);
  std::vector<bool> present(n);
  counts_.clear();
  count_key_.assign(n, 0);
  alive_ = 0;
  for (Node v = 0; v < n; ++v) {
    const internal::EntityRec& e = st.entities()[v];
    if (!same_entities) ids[v] = e.id;
    values[v] = Ranks(*params_, st.s()[v]);
    present[v] = e.alive;
    if (e.alive) {
      count_key_[v] = CountKey(e);
      ++counts_[count_key_[v]];
      ++alive_;
    }
  }
  if (same_entities && top_ != nullptr) {
    top_->RebuildValues(values, present);
    return;
  }
  top_ = std::make_unique<internal::TopIndex>();
  top_->Rebuild(ids, values, present);
}

void Engine::Recount(uint32_t v) {
  if (count_key_.size() <= v) count_key_.resize(v + 1, 0);
  const internal::EntityRec& e = state_->entities()[v];
  const uint32_t now = e.alive ? CountKey(e) : 0;
  const uint32_t was = count_key_[v];
  if (now == was) return;
  if (was != 0) {
    if (--counts_[was] == 0) counts_.erase(was);
    --alive_;
  }
  if (now != 0) {
    ++counts_[now];
    ++alive_;
  }
  count_key_[v] = now;
}

ScoreUpdate Engine::Apply(const v1::Change& change, absl::Time as_of) {
  ++generation_;
  ScoreUpdate update;
  update.generation_ = generation_;
  update.graph_sequence_ = state_->sequence();
  update.before_sequence_ = state_->sequence();
  update.before_as_of_ns_ = state_->as_of_ns();
  if (change.sequence() <= state_->sequence()) {
    ++stats_.stale_changes;
    return update;
  }
  const absl::Time start = absl::Now();
  internal::Updater up(state_.get(), *params_, scratch_.get());
  up.SetAsOf(internal::ToNs(as_of));
  std::vector<Node> upserted;
  for (const v1::Mutation& m : change.mutations()) {
    if (!up.Apply(m).ok()) ++stats_.skipped_records;
    if (m.kind_case() == v1::Mutation::kUpsertEntity) {
      if (const Node* v = state_->node_of().Find(m.upsert_entity().id())) {
        upserted.push_back(*v);
      }
    }
  }
  internal::UpdateResult r = up.Finish();
  const absl::Time rescored = absl::Now();
  stats_.last_update_rescore = rescored - start;
  state_->sequence_ = change.sequence();
  update.graph_sequence_ = change.sequence();
  stats_.last_evaluations = r.stats.evaluations;
  stats_.last_unconverged_comps = r.stats.unconverged_comps;

  // Filter counts of entities that appeared, disappeared or moved.
  for (const auto& [v, existed] : r.existed_before) upserted.push_back(v);
  for (Node v : upserted) Recount(v);

  // Nodes whose scores moved, and entities that appeared or disappeared.
  std::vector<ScoreUpdate::Moved>& out = update.moved_;
  out.reserve(r.changed.size() + r.existed_before.size());
  std::vector<Node> inserted, erased;
  std::vector<std::pair<uint32_t, internal::RankValues>> moved;
  moved.reserve(r.changed.size());
  // `s_before` is null when the score did not move.
  auto list = [&](Node v, const Triple* s_before, bool before_exists) {
    const bool after_exists = state_->Alive(v);
    if (!before_exists && !after_exists) return;
    if (before_exists && after_exists &&
        (s_before == nullptr || SameRisk(*s_before, state_->s()[v]))) {
      return;
    }
    if (s_before == nullptr) s_before = &state_->s()[v];
    auto direct = r.direct_before.find(v);
    const Triple& d_before =
        direct != r.direct_before.end() ? direct->second : state_->sd()[v];
    out.push_back({v, before_exists, after_exists, s_before->v, d_before.v});
    if (!after_exists) {
      erased.push_back(v);
    } else if (top_->Contains(v)) {
      moved.emplace_back(v, Ranks(*params_, state_->s()[v]));
    } else {
      inserted.push_back(v);
    }
  };
  absl::flat_hash_map<Node, const Triple*> existing_moved;
  for (const auto& [v, s] : r.changed) {
    if (r.existed_before.contains(v)) {
      existing_moved.emplace(v, &s);
    } else {
      list(v, &s, /*before_exists=*/true);
    }
  }
  for (const auto& [v, existed] : r.existed_before) {
    auto it = existing_moved.find(v);
    list(v, it != existing_moved.end() ? it->second : nullptr, existed);
  }
  for (Node v : erased) top_->Erase(v);
  for (Node v : inserted) {
    top_->Insert(v, state_->entities()[v].id, Ranks(*params_, state_->s()[v]));
  }
  top_->UpdateMany(moved, internal::Workers(moved.size()));
  // In entity id order, by the index's order keys: every entity listed is
  // or was indexed (the inserts above gave new ones their key).
  std::sort(out.begin(), out.end(),
            [this](const ScoreUpdate::Moved& a, const ScoreUpdate::Moved& b) {
              return top_->IdOrder(a.node) < top_->IdOrder(b.node);
            });
  stats_.last_update_publish = absl::Now() - rescored;
  return update;
}

ScoreUpdate Engine::Advance(absl::Time as_of) {
  v1::Change none;
  none.set_sequence(state_->sequence() + 1);
  const int64_t sequence = state_->sequence();
  ScoreUpdate update = Apply(none, as_of);
  // Time alone does not make a new graph commit.
  state_->sequence_ = sequence;
  update.graph_sequence_ = sequence;
  return update;
}

absl::StatusOr<std::vector<v1::ScoreChange>> Engine::ScoreChanges(
    const ScoreUpdate& update) const {
  if (update.generation_ != generation_) {
    return absl::FailedPreconditionError(
        "score update is stale: the engine changed since");
  }
  return BuildScoreChanges(update);
}

std::vector<v1::ScoreChange> Engine::BuildScoreChanges(
    const ScoreUpdate& update) const {
  // Each proto goes to its own slot, so the output is the same whatever
  // the threads.
  std::vector<v1::ScoreChange> out(update.moved_.size());
  auto build = [&](size_t i) {
    const ScoreUpdate::Moved& x = update.moved_[i];
    v1::ScoreChange& c = out[i];
    c.set_graph_sequence(update.graph_sequence_);
    if (x.before_exists) {
      Triple s, d;
      s.v = x.s_before;
      d.v = x.d_before;
      *c.mutable_before() =
          internal::MakeScore(*state_, *params_, x.node, d, s,
                              update.before_sequence_, update.before_as_of_ns_);
    }
    if (x.after_exists) {
      *c.mutable_after() = internal::MakeScore(
          *state_, *params_, x.node, state_->sd()[x.node], state_->s()[x.node],
          update.graph_sequence_, state_->as_of_ns());
    }
  };
  internal::ParallelRanges(out.size(), internal::Workers(out.size()),
                           [&](size_t begin, size_t end, int) {
                             for (size_t i = begin; i < end; ++i) build(i);
                           });
  return out;
}

std::vector<v1::ScoreChange> Engine::ApplyChange(const v1::Change& change,
                                                 absl::Time as_of) {
  return BuildScoreChanges(Apply(change, as_of));
}

std::vector<v1::ScoreChange> Engine::AdvanceTime(absl::Time as_of) {
  return BuildScoreChanges(Advance(as_of));
}

absl::StatusOr<v1::Score> Engine::GetScore(absl::string_view entity_id) const {
  const Node* v = state_->node_of().Find(entity_id);
  if (v == nullptr || !state_->Alive(*v)) {
    return absl::NotFoundError(
        absl::StrCat("entity ", entity_id, " not found"));
  }
  return internal::MakeScore(*state_, *params_, *v, state_->sd()[*v],
                             state_->s()[*v], state_->sequence(),
                             state_->as_of_ns());
}

std::unique_ptr<internal::State> Engine::AsOfOverlay(absl::Time as_of) const {
  std::unique_ptr<State> overlay = State::Overlay(state_.get());
  internal::Updater up(overlay.get(), *params_, /*scratch=*/nullptr);
  up.SetAsOf(internal::ToNs(as_of));
  up.Finish();
  return overlay;
}

std::vector<absl::StatusOr<v1::Score>> Engine::GetScores(
    const std::vector<std::string>& entity_ids,
    std::optional<absl::Time> as_of) const {
  std::unique_ptr<State> overlay;
  if (as_of.has_value()) overlay = AsOfOverlay(*as_of);
  const State& st = overlay != nullptr ? *overlay : *state_;
  std::vector<absl::StatusOr<v1::Score>> out;
  out.reserve(entity_ids.size());
  for (const std::string& id : entity_ids) {
    const Node* v = state_->node_of().Find(id);
    if (v == nullptr || !st.Alive(*v)) {
      out.push_back(
          absl::NotFoundError(absl::StrCat("entity ", id, " not found")));
      continue;
    }
    out.push_back(internal::MakeScore(st, *params_, *v, st.sd()[*v], st.s()[*v],
                                      state_->sequence(), st.as_of_ns()));
  }
  return out;
}

namespace {

// ListTopRisks' kind filter: unspecified ranks companies and facilities, the
// supply chain; persons only when asked for by kind (scorer.proto,
// ListTopRisksRequest.entity_kind).
bool KindMatches(v1::Entity::Kind entity, v1::Entity::Kind wanted) {
  if (wanted == v1::Entity::KIND_UNSPECIFIED) {
    return entity != v1::Entity::PERSON;
  }
  return entity == wanted;
}

}  // namespace

bool Engine::Matches(uint32_t v, v1::Entity::Kind kind,
                     uint16_t country) const {
  const internal::EntityRec& e = state_->entities()[v];
  return KindMatches(e.kind, kind) && (country == 0 || e.country == country);
}

absl::StatusOr<v1::ListTopRisksResponse> Engine::ListTopRisks(
    const TopQuery& q) const {
  if (!v1::Factor_IsValid(q.factor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("factor: unknown value ", q.factor));
  }
  if (!v1::Entity::Kind_IsValid(q.kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat("entity_kind: unknown value ", q.kind));
  }
  if (!q.country.empty() &&
      (q.country.size() != 2 || !absl::ascii_isupper(q.country[0]) ||
       !absl::ascii_isupper(q.country[1]))) {
    return absl::InvalidArgumentError(
        absl::StrCat("country: must be an ISO 3166-1 alpha-2 code, got \"",
                     q.country, "\""));
  }
  if (!(q.min_score >= 0)) {
    return absl::InvalidArgumentError("min_score: must be >= 0");
  }
  const uint16_t country = internal::PackCountry(q.country);
  internal::TopIndex::Query tq;
  tq.ranking = static_cast<int>(q.factor);
  uint64_t min_bits;
  std::memcpy(&min_bits, &q.min_score, sizeof(min_bits));
  tq.filter_fingerprint = absl::StrCat(static_cast<int>(q.kind), ".", q.country,
                                       ".", absl::Hex(min_bits));
  tq.min_score = q.min_score;
  tq.page_size = std::clamp(q.page_size, 1, domain::kMaxPageSize);
  tq.page_token = q.page_token;
  // The live entities of the filter's kinds and country, from the filter
  // counts: total_size without min_score, and a bound that ends the ranking
  // walk (at once when nothing matches).
  int64_t of_filter = 0;
  for (const auto& [key, n] : counts_) {
    const auto kind = static_cast<v1::Entity::Kind>(key >> 16);
    const uint16_t c = static_cast<uint16_t>(key & 0xffff);
    if (KindMatches(kind, q.kind) && (country == 0 || c == country)) {
      of_filter += n;
    }
  }
  tq.max_matches = of_filter;
  auto matches = [&](uint32_t v) { return Matches(v, q.kind, country); };
  absl::StatusOr<internal::TopIndex::Page> page = top_->List(tq, matches);
  if (!page.ok()) return page.status();
  v1::ListTopRisksResponse response;
  const int reason_factor =
      q.factor == v1::FACTOR_UNSPECIFIED ? -1 : internal::FactorIndex(q.factor);
  for (uint32_t v : page->nodes) {
    *response.add_scores() = internal::MakeScore(
        *state_, *params_, v, state_->sd()[v], state_->s()[v],
        state_->sequence(), state_->as_of_ns());
    if (q.include_reasons) {
      *response.add_main_reasons() =
          internal::MainReason(*state_, *params_, v, reason_factor);
    }
  }
  response.set_next_page_token(page->next_page_token);
  const int64_t total = q.min_score <= 0 ? of_filter
                                         : top_->Count(tq.ranking, q.min_score,
                                                       matches, of_filter);
  response.set_total_size(total);
  return response;
}

absl::StatusOr<v1::ListNeighboursResponse> Engine::ListNeighbours(
    absl::string_view entity_id, v1::Direction direction,
    const std::vector<v1::Edge::Kind>& kinds, int page_size,
    absl::string_view page_token) const {
  const Node* v = state_->node_of().Find(entity_id);
  if (v == nullptr || !state_->Alive(*v)) {
    return absl::NotFoundError(
        absl::StrCat("entity ", entity_id, " not found"));
  }
  internal::NeighbourQuery q;
  q.entity_id = std::string(entity_id);
  q.direction = direction;
  q.kinds = kinds;
  q.page_size = std::clamp(page_size, 1, domain::kMaxPageSize);
  q.page_token = std::string(page_token);
  return internal::ListNeighbours(*state_, *params_, *v, q);
}

absl::StatusOr<v1::Explanation> Engine::Explain(absl::string_view entity_id,
                                                v1::Factor factor,
                                                int max_paths,
                                                int max_depth) const {
  return Explain(entity_id, factor, max_paths, max_depth, std::nullopt);
}

absl::StatusOr<v1::Explanation> Engine::Explain(
    absl::string_view entity_id, v1::Factor factor, int max_paths,
    int max_depth, std::optional<absl::Time> as_of) const {
  if (!v1::Factor_IsValid(factor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("factor: unknown value ", factor));
  }
  if (max_paths < 1 || max_paths > kMaxExplainLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_paths: must be in [1, ", kMaxExplainLimit, "], got ", max_paths));
  }
  if (max_depth < 1 || max_depth > kMaxExplainLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_depth: must be in [1, ", kMaxExplainLimit, "], got ", max_depth));
  }
  const Node* v = state_->node_of().Find(entity_id);
  if (v == nullptr || !state_->Alive(*v)) {
    return absl::NotFoundError(
        absl::StrCat("entity ", entity_id, " not found"));
  }
  std::unique_ptr<State> overlay;
  if (as_of.has_value()) overlay = AsOfOverlay(*as_of);
  return internal::Explain(
      overlay != nullptr ? *overlay : *state_, *params_, *v,
      factor == v1::FACTOR_UNSPECIFIED ? -1 : internal::FactorIndex(factor),
      max_paths, max_depth, state_->sequence());
}

absl::StatusOr<v1::RunScenarioResponse> Engine::RunScenario(
    const v1::Scenario& scenario, int max_results, double min_delta,
    bool include_reasons) const {
  if (max_results < 1 || max_results > kMaxScenarioResults) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_results: must be in [1, ", kMaxScenarioResults,
                     "], got ", max_results));
  }
  if (!(min_delta >= 0)) {
    return absl::InvalidArgumentError("min_delta: must be >= 0");
  }
  if (scenario.has_as_of()) {
    // 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z: a date a risk question
    // can be about (year 0 parsed as a date and scored, silently).
    constexpr int64_t kMinSeconds = -2208988800;
    constexpr int64_t kMaxSeconds = 253402300799;
    const int64_t seconds = scenario.as_of().seconds();
    const int32_t nanos = scenario.as_of().nanos();
    if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 ||
        nanos > 999999999) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario.as_of: must be a date from 1900-01-01 to 9999-12-31, got ",
          absl::FormatTime("%4Y-%m-%dT%H:%M:%SZ",
                           absl::FromUnixSeconds(seconds), absl::UTCTimeZone()),
          nanos < 0 || nanos > 999999999 ? absl::StrCat(" with nanos ", nanos)
                                         : ""));
    }
  }
  for (int i = 0; i < scenario.overrides_size(); ++i) {
    const std::string path = absl::StrCat("scenario.overrides[", i, "]");
    const v1::Mutation& m = scenario.overrides(i);
    if (absl::Status s = domain::ValidateMutation(m, path); !s.ok()) return s;
    if (m.kind_case() == v1::Mutation::kUpsertEntity) {
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ".upsert_entity: scenarios cannot add or change entities (delete "
          "them, or change signals and edges)"));
    }
  }

  // The overlay: reads through to the live state, which it holds const.
  const State& live = *state_;
  std::unique_ptr<State> overlay = State::Overlay(&live);
  internal::Updater up(overlay.get(), *params_, /*scratch=*/nullptr);
  if (scenario.has_as_of()) {
    up.SetAsOf(internal::ToNs(base::FromProtoTime(scenario.as_of())));
  }
  for (int i = 0; i < scenario.overrides_size(); ++i) {
    absl::Status s = up.Apply(scenario.overrides(i));
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("scenario.overrides[", i, "].", s.message()));
    }
  }
  const internal::UpdateResult r = up.Finish();

  struct Moved {
    Node v;
    double delta;
  };
  std::vector<Moved> moved;
  absl::flat_hash_set<Node> candidates;
  for (const auto& [v, before] : r.changed) candidates.insert(v);
  for (Node v : r.deleted) candidates.insert(v);
  // (Sorted below by |delta|, then id: the set's order does not matter.)
  for (Node v : candidates) {
    const bool before_exists = live.Alive(v);
    const bool after_exists = overlay->Alive(v);
    if (!before_exists && !after_exists) continue;
    const Triple& sb = live.s()[v];
    const Triple& sa = overlay->s()[v];
    bool any = before_exists != after_exists;
    for (int f = 0; f < internal::kNumFactors; ++f) {
      any = any || std::abs(sa.v[f] - sb.v[f]) >= params_->tolerance;
    }
    if (!any) continue;
    const double before =
        before_exists ? internal::Composite(*params_, sb) : 0.0;
    const double after = after_exists ? internal::Composite(*params_, sa) : 0.0;
    const double delta = after - before;
    if (std::abs(delta) < min_delta) continue;
    if (delta == 0 && before_exists == after_exists) continue;
    moved.push_back({v, delta});
  }
  std::sort(moved.begin(), moved.end(), [&](const Moved& a, const Moved& b) {
    if (std::abs(a.delta) != std::abs(b.delta)) {
      return std::abs(a.delta) > std::abs(b.delta);
    }
    return live.entities()[a.v].id < live.entities()[b.v].id;
  });

  v1::RunScenarioResponse response;
  response.set_name(scenario.name());
  response.set_affected_count(static_cast<int64_t>(moved.size()));
  response.set_graph_sequence(live.sequence());
  response.set_model_version(params_->version);
  const size_t n = std::min(moved.size(), static_cast<size_t>(max_results));
  for (size_t i = 0; i < n; ++i) {
    const Node v = moved[i].v;
    v1::ScoreDelta* d = response.add_deltas();
    d->set_entity_id(live.entities()[v].id);
    d->set_delta(moved[i].delta);
    if (live.Alive(v)) {
      *d->mutable_before() =
          internal::MakeScore(live, *params_, v, live.sd()[v], live.s()[v],
                              live.sequence(), live.as_of_ns());
    }
    if (overlay->Alive(v)) {
      *d->mutable_after() = internal::MakeScore(
          *overlay, *params_, v, overlay->sd()[v], overlay->s()[v],
          live.sequence(), overlay->as_of_ns());
      if (include_reasons) {
        // The contributions that carry the most composite points: lambda_f
        // x R_f x fraction.
        std::vector<std::pair<double, v1::Contribution>> reasons;
        for (int f = 0; f < internal::kNumFactors; ++f) {
          const double points = params_->lambda[f] * (1 - overlay->s()[v].v[f]);
          for (v1::Contribution& c :
               internal::Contributions(*overlay, *params_, v, f)) {
            reasons.emplace_back(points * c.fraction(), std::move(c));
          }
        }
        std::stable_sort(
            reasons.begin(), reasons.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
        for (size_t k = 0; k < reasons.size() && k < kTopReasons; ++k) {
          *d->add_top_reasons() = std::move(reasons[k].second);
        }
      }
    }
  }
  return response;
}

absl::Status Engine::CheckConsistency(double tolerance) const {
  const State& st = *state_;
  internal::ExposureCache cache(st, *params_);
  const size_t n = st.node_count();
  absl::flat_hash_map<internal::Comp,
                      std::array<int32_t, internal::kNumFactors>>
      inputs;
  for (Node v = 0; v < n; ++v) {
    const std::string& id = st.entities()[v].id;
    const internal::Direct d =
        internal::ComputeDirect(st, *params_, v, &cache, nullptr);
    if (d.sd != st.sd()[v]) {
      return absl::InternalError(absl::StrCat(id, ": stale direct exposure"));
    }
    const internal::Evaluation e = internal::Evaluate(st, v);
    // The engine's own bound: within the tolerance of the kernel at the
    // node's last evaluation, plus the drift recorded since (a little
    // slack for rounding).
    const double drift = v < st.drift().size() ? st.drift()[v] : 0.0;
    const double bound = (params_->tolerance + drift) * (1 + 1e-9) + 1e-15;
    for (int f = 0; f < internal::kNumFactors; ++f) {
      const double off = std::abs(e.s.v[f] - st.s()[v].v[f]);
      if (off > tolerance) {
        return absl::InternalError(
            absl::StrCat(id, ": factor ", f, " stored survival ",
                         st.s()[v].v[f], " but its inputs give ", e.s.v[f]));
      }
      if (off >= bound) {
        return absl::InternalError(absl::StrCat(
            id, ": factor ", f, " is ", off,
            " off its inputs, beyond the tolerance plus its recorded drift ",
            drift));
      }
    }
    if (drift >= params_->tolerance) {
      return absl::InternalError(
          absl::StrCat(id, ": drift ", drift, " left unpropagated"));
    }
    const internal::Comp c = st.comp_of()[v];
    std::array<int32_t, internal::kNumFactors>& in = inputs[c];
    for (int f = 0; f < internal::kNumFactors; ++f)
      in[f] += st.sd()[v].v[f] < 1;
    for (const internal::PropIn& edge : st.pin().List(v)) {
      const internal::Comp cu = st.comp_of()[edge.src];
      if (cu == c) continue;
      if (st.key()[cu] >= st.key()[c]) {
        return absl::InternalError(
            absl::StrCat("edge ", st.entities()[edge.src].id, " -> ", id,
                         " goes against the comp order"));
      }
      for (int f = 0; f < internal::kNumFactors; ++f) {
        in[f] += st.s()[edge.src].v[f] < 1;
      }
    }
  }
  for (const auto& [c, in] : inputs) {
    if (in != st.inputs()[c]) {
      return absl::InternalError(absl::StrCat(
          "comp of ", st.entities()[st.rep()[c]].id, ": input counters ",
          st.inputs()[c][0], ",", st.inputs()[c][1], ",", st.inputs()[c][2],
          " should be ", in[0], ",", in[1], ",", in[2]));
    }
  }
  return absl::OkStatus();
}

int64_t Engine::sequence() const { return state_->sequence(); }
int64_t Engine::entity_count() const { return alive_; }
absl::Time Engine::as_of() const {
  return internal::NsToTime(state_->as_of_ns());
}

}  // namespace georisk::scorer
