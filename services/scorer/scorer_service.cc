#include "services/scorer/scorer_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "domain/country_codes.h"
#include "domain/paging.h"
#include "domain/validation.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_edge.h"
#include "services/scorer/alert_evaluator.h"
#include "services/scorer/record_provenance.h"

namespace georisk::scorer {
namespace {

// Following shards: the per-shard positions the score reflects (none with
// one feed, so its scores are as before).
void AddPositions(const std::vector<v1::GraphPosition>& positions,
                  v1::Score* score) {
  for (const v1::GraphPosition& p : positions) {
    *score->add_graph_positions() = p;
  }
}

constexpr int kMaxBatchIds = 1000;
// ListTopRisks' page_size 0 (scorer.proto).
constexpr int kDefaultTopPageSize = 50;
constexpr int kMaxPaths = 20;
constexpr int kMaxDepth = 20;
constexpr int kDefaultPaths = 3;
constexpr int kDefaultDepth = 6;
constexpr int kDefaultScenarioResults = 20;
constexpr int kMaxScenarioResults = 1000;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// One rule for ids across the services: GraphStore.GetEntity's
// (domain::ValidateId), so a malformed id is INVALID_ARGUMENT here too, never
// NOT_FOUND.
absl::Status CheckEntityId(absl::string_view field, const std::string& id) {
  if (id.empty()) return Invalid(field, "required");
  return domain::ValidateId(id, domain::IdKind::kEntity, field);
}

// An optional as_of: within google.protobuf.Timestamp's range (years 1 to
// 9999), as every timestamp of the graph must be.
absl::Status CheckTime(absl::string_view field, bool has,
                       const google::protobuf::Timestamp& t,
                       std::optional<absl::Time>* as_of) {
  if (!has) return absl::OkStatus();
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return Invalid(field, "must be a valid timestamp between years 1 and 9999");
  }
  *as_of = base::FromProtoTime(t);
  return absl::OkStatus();
}

absl::Status CheckAsOf(bool has, const google::protobuf::Timestamp& t,
                       std::optional<absl::Time>* as_of) {
  return CheckTime("as_of", has, t, as_of);
}

absl::Status CheckFilters(v1::Factor factor, v1::Entity::Kind kind,
                          const std::string& country) {
  if (!v1::Factor_IsValid(factor)) {
    return Invalid("factor", absl::StrCat("unknown value ", factor));
  }
  if (!v1::Entity::Kind_IsValid(kind)) {
    return Invalid("entity_kind", absl::StrCat("unknown value ", kind));
  }
  if (!country.empty() && !domain::IsIso3166Alpha2(country)) {
    return Invalid("country", absl::StrCat("\"", country,
                                           "\" is not an ISO 3166-1 alpha-2 "
                                           "code"));
  }
  return absl::OkStatus();
}

}  // namespace

ScorerService::ScorerService(ScoreState* state, ScorerServiceOptions options,
                             common::MetricsRegistry* registry)
    : state_(state),
      options_(options),
      hub_([state] { return state->change_log().head(); },
           [state](int64_t seq, absl::Time deadline) {
             return state->change_log().WaitForSequence(seq, deadline);
           },
           options.watch_heartbeat),
      scenarios_(options.max_concurrent_scenarios, "RunScenario calls"),
      watchers_(options.max_watchers, "WatchScoreChanges streams") {
  registry->AddCallbackGauge(
      "georisk_scorer_graph_sequence", "The graph sequence the scores reflect.",
      [state] { return static_cast<double>(state->sequence()); });
  registry->AddCallbackGauge(
      "georisk_scorer_feed_lag",
      "Commits the scorer has yet to apply (graphstore head minus the "
      "scores' sequence).",
      [state] {
        return static_cast<double>(
            std::max<int64_t>(0, state->head_sequence() - state->sequence()));
      });
  registry->AddCallbackCounter(
      "georisk_scorer_score_changes_total",
      "Live score changes published since start.",
      [state] { return static_cast<double>(state->change_log().head()); });
}

ScorerService::~ScorerService() { Shutdown(); }

void ScorerService::Shutdown() { hub_.Shutdown(); }

grpc::ServerUnaryReactor* ScorerService::GetScore(
    grpc::CallbackServerContext* context, const v1::GetScoreRequest* request,
    v1::Score* response) {
  std::optional<absl::Time> as_of;
  absl::Status s = CheckEntityId("entity_id", request->entity_id());
  if (s.ok()) s = CheckAsOf(request->has_as_of(), request->as_of(), &as_of);
  if (!s.ok()) return common::FinishUnary(context, s);
  absl::StatusOr<v1::Score> score = state_->ReadWithPositions<v1::Score>(
      [&](const scorer::Engine& e,
          const std::vector<v1::GraphPosition>& positions) {
        absl::StatusOr<v1::Score> s =
            as_of.has_value()
                ? std::move(e.GetScores({request->entity_id()}, as_of)[0])
                : e.GetScore(request->entity_id());
        if (s.ok()) AddPositions(positions, &*s);
        return s;
      });
  if (score.ok()) *response = std::move(*score);
  return common::FinishUnary(context, score.status());
}

grpc::ServerUnaryReactor* ScorerService::BatchGetScores(
    grpc::CallbackServerContext* context,
    const v1::BatchGetScoresRequest* request,
    v1::BatchGetScoresResponse* response) {
  if (request->entity_ids_size() == 0) {
    return common::FinishUnary(
        context, Invalid("entity_ids", "at least one id required"));
  }
  if (request->entity_ids_size() > kMaxBatchIds) {
    return common::FinishUnary(
        context, Invalid("entity_ids",
                         absl::StrCat("at most ", kMaxBatchIds, " ids, got ",
                                      request->entity_ids_size())));
  }
  for (int i = 0; i < request->entity_ids_size(); ++i) {
    if (absl::Status s = CheckEntityId(absl::StrCat("entity_ids[", i, "]"),
                                       request->entity_ids(i));
        !s.ok()) {
      return common::FinishUnary(context, s);
    }
  }
  std::optional<absl::Time> as_of;
  if (absl::Status s =
          CheckAsOf(request->has_as_of(), request->as_of(), &as_of);
      !s.ok()) {
    return common::FinishUnary(context, s);
  }
  const std::vector<std::string> ids(request->entity_ids().begin(),
                                     request->entity_ids().end());
  absl::StatusOr<v1::BatchGetScoresResponse> result =
      state_->ReadWithPositions<v1::BatchGetScoresResponse>(
          [&](const scorer::Engine& e,
              const std::vector<v1::GraphPosition>& positions)
              -> absl::StatusOr<v1::BatchGetScoresResponse> {
            v1::BatchGetScoresResponse out;
            std::vector<absl::StatusOr<v1::Score>> scores =
                e.GetScores(ids, as_of);
            for (int i = 0; i < request->entity_ids_size(); ++i) {
              absl::StatusOr<v1::Score>& score = scores[i];
              if (score.ok()) {
                AddPositions(positions, &*score);
                *out.add_scores() = std::move(*score);
              } else if (score.status().code() == absl::StatusCode::kNotFound &&
                         request->allow_missing()) {
                out.add_missing_ids(request->entity_ids(i));
              } else {
                return absl::Status(score.status().code(),
                                    absl::StrCat("entity_ids[", i, "]: ",
                                                 score.status().message()));
              }
            }
            return out;
          });
  if (result.ok()) *response = std::move(*result);
  return common::FinishUnary(context, result.status());
}

grpc::ServerUnaryReactor* ScorerService::ListTopRisks(
    grpc::CallbackServerContext* context,
    const v1::ListTopRisksRequest* request,
    v1::ListTopRisksResponse* response) {
  absl::Status s = CheckFilters(request->factor(), request->entity_kind(),
                                request->country());
  absl::StatusOr<int> page_size =
      domain::PageSize(request->page_size(), kDefaultTopPageSize);
  if (s.ok() && !page_size.ok()) s = page_size.status();
  if (s.ok() && (request->min_score() < 0 || request->min_score() > 100 ||
                 request->min_score() != request->min_score())) {
    s = Invalid("min_score", "must be in [0, 100]");
  }
  if (!s.ok()) return common::FinishUnary(context, s);
  scorer::Engine::TopQuery query;
  query.factor = request->factor();
  query.kind = request->entity_kind();
  query.country = request->country();
  query.min_score = request->min_score();
  query.page_size = *page_size;
  query.page_token = request->page_token();
  query.include_reasons = request->include_reasons();
  absl::StatusOr<v1::ListTopRisksResponse> page =
      state_->Read<v1::ListTopRisksResponse>(
          [&](const scorer::Engine& e) { return e.ListTopRisks(query); });
  if (page.ok()) *response = std::move(*page);
  return common::FinishUnary(context, page.status());
}

grpc::ServerUnaryReactor* ScorerService::ListNeighbours(
    grpc::CallbackServerContext* context,
    const v1::ListNeighboursRequest* request,
    v1::ListNeighboursResponse* response) {
  absl::Status s = CheckEntityId("entity_id", request->entity_id());
  absl::StatusOr<int> page_size = domain::PageSize(request->page_size());
  if (s.ok() && !page_size.ok()) s = page_size.status();
  if (!s.ok()) return common::FinishUnary(context, s);
  std::vector<v1::Edge::Kind> kinds;
  for (int k : request->kinds())
    kinds.push_back(static_cast<v1::Edge::Kind>(k));
  absl::StatusOr<v1::ListNeighboursResponse> page =
      state_->Read<v1::ListNeighboursResponse>([&](const scorer::Engine& e) {
        return e.ListNeighbours(request->entity_id(), request->direction(),
                                kinds, *page_size, request->page_token());
      });
  if (page.ok()) *response = std::move(*page);
  return common::FinishUnary(context, page.status());
}

grpc::ServerUnaryReactor* ScorerService::ExplainScore(
    grpc::CallbackServerContext* context,
    const v1::ExplainScoreRequest* request, v1::Explanation* response) {
  absl::Status s = CheckEntityId("entity_id", request->entity_id());
  if (s.ok() && !v1::Factor_IsValid(request->factor())) {
    s = Invalid("factor", absl::StrCat("unknown value ", request->factor()));
  }
  if (s.ok() &&
      (request->max_paths() < 0 || request->max_paths() > kMaxPaths)) {
    s = Invalid("max_paths", absl::StrCat("must be in [0, ", kMaxPaths, "]"));
  }
  if (s.ok() &&
      (request->max_depth() < 0 || request->max_depth() > kMaxDepth)) {
    s = Invalid("max_depth", absl::StrCat("must be in [0, ", kMaxDepth, "]"));
  }
  std::optional<absl::Time> as_of;
  if (s.ok()) s = CheckAsOf(request->has_as_of(), request->as_of(), &as_of);
  if (!s.ok()) return common::FinishUnary(context, s);
  int paths = request->max_paths() == 0 ? kDefaultPaths : request->max_paths();
  int depth = request->max_depth() == 0 ? kDefaultDepth : request->max_depth();
  absl::StatusOr<v1::Explanation> explanation =
      state_->Read<v1::Explanation>([&](const scorer::Engine& e) {
        return e.Explain(request->entity_id(), request->factor(), paths, depth,
                         as_of);
      });
  // Outside the engine's lock: entities' and edges' provenance, read from
  // the mirror.
  if (explanation.ok() && options_.mirror != nullptr) {
    s = AddRecordProvenance(*options_.mirror, &*explanation);
    if (!s.ok()) return common::FinishUnary(context, s);
  }
  if (explanation.ok()) *response = std::move(*explanation);
  return common::FinishUnary(context, explanation.status());
}

grpc::ServerUnaryReactor* ScorerService::RunScenario(
    grpc::CallbackServerContext* context, const v1::RunScenarioRequest* request,
    v1::RunScenarioResponse* response) {
  if (!request->has_scenario()) {
    return common::FinishUnary(context, Invalid("scenario", "required"));
  }
  if (request->scenario().overrides_size() > options_.max_scenario_overrides) {
    return common::FinishUnary(
        context,
        absl::ResourceExhaustedError(absl::StrCat(
            "scenario.overrides: at most ", options_.max_scenario_overrides,
            " overrides, got ", request->scenario().overrides_size())));
  }
  if (request->max_results() < 0 ||
      request->max_results() > kMaxScenarioResults) {
    return common::FinishUnary(
        context,
        Invalid("max_results",
                absl::StrCat("must be in [0, ", kMaxScenarioResults, "]")));
  }
  if (!(request->min_delta() >= 0)) {
    return common::FinishUnary(context, Invalid("min_delta", "must be >= 0"));
  }
  absl::StatusOr<common::ConcurrencyLimit::Slot> slot = scenarios_.TryAcquire();
  if (!slot.ok()) return common::FinishUnary(context, slot.status());
  int max_results = request->max_results() == 0 ? kDefaultScenarioResults
                                                : request->max_results();
  absl::StatusOr<v1::RunScenarioResponse> result =
      state_->Read<v1::RunScenarioResponse>([&](const scorer::Engine& e) {
        return e.RunScenario(request->scenario(), max_results,
                             request->min_delta(), request->include_reasons());
      });
  if (result.ok()) *response = std::move(*result);
  return common::FinishUnary(context, result.status());
}

grpc::ServerWriteReactor<v1::WatchScoreChangesResponse>*
ScorerService::WatchScoreChanges(grpc::CallbackServerContext* context,
                                 const v1::WatchScoreChangesRequest* request) {
  absl::Status s = CheckFilters(v1::FACTOR_UNSPECIFIED, request->entity_kind(),
                                request->country());
  if (s.ok() && !(request->min_delta() >= 0)) {
    s = Invalid("min_delta", "must be >= 0");
  }
  for (int i = 0; s.ok() && i < request->entity_ids_size(); ++i) {
    s = CheckEntityId(absl::StrCat("entity_ids[", i, "]"),
                      request->entity_ids(i));
  }
  if (!s.ok()) {
    return common::RefuseStream<v1::WatchScoreChangesResponse>(context, s);
  }

  // The slot is held by the stream until it is done.
  absl::StatusOr<common::ConcurrencyLimit::Slot> taken = watchers_.TryAcquire();
  if (!taken.ok()) {
    return common::RefuseStream<v1::WatchScoreChangesResponse>(context,
                                                               taken.status());
  }
  auto slot =
      std::make_shared<common::ConcurrencyLimit::Slot>(*std::move(taken));
  struct Filter {
    double min_delta;
    absl::flat_hash_set<std::string> ids;
    v1::Entity::Kind kind;
    std::string country;
    bool Matches(const v1::ScoreChange& c) const {
      const v1::Score& s = c.has_after() ? c.after() : c.before();
      if (!ids.empty() && !ids.contains(s.entity_id())) return false;
      if (kind != v1::Entity::KIND_UNSPECIFIED && s.entity_kind() != kind) {
        return false;
      }
      if (!country.empty() && s.country() != country) return false;
      double delta = c.after().composite() - c.before().composite();
      return (delta < 0 ? -delta : delta) >= min_delta;
    }
  };
  auto filter = std::make_shared<Filter>();
  filter->min_delta = request->min_delta();
  filter->ids.insert(request->entity_ids().begin(),
                     request->entity_ids().end());
  filter->kind = request->entity_kind();
  filter->country = request->country();
  ScoreChangeLog* log = &state_->change_log();
  return new common::FollowReactor<v1::WatchScoreChangesResponse>(
      context, &hub_, log->head() + 1,
      [log, filter, slot](int64_t* next, v1::WatchScoreChangesResponse* out)
          -> absl::StatusOr<bool> {
        std::vector<v1::ScoreChange> batch;
        absl::StatusOr<int64_t> after = log->Read(*next, 500, &batch);
        if (!after.ok()) return after.status();
        *next = *after;
        for (v1::ScoreChange& c : batch) {
          if (filter->Matches(c)) *out->add_changes() = std::move(c);
        }
        return out->changes_size() > 0;
      },
      [](v1::WatchScoreChangesResponse*) {});
}

grpc::ServerUnaryReactor* ScorerService::GetModel(
    grpc::CallbackServerContext* context, const v1::GetModelRequest* request,
    v1::ModelConfig* response) {
  // The model is known before any graph is loaded.
  absl::StatusOr<v1::ModelConfig> config = state_->ReadConfig();
  if (config.ok() && config->alert_rules().empty()) {
    // No rules configured: the built-in ones are in force; show them.
    for (v1::AlertRule& rule : AlertEvaluator::DefaultRules()) {
      *config->add_alert_rules() = std::move(rule);
    }
  }
  if (config.ok()) *response = std::move(*config);
  return common::FinishUnary(context, config.status());
}

grpc::ServerUnaryReactor* ScorerService::GetFeedStatus(
    grpc::CallbackServerContext* context,
    const v1::GetFeedStatusRequest* request, v1::FeedStatus* response) {
  if (!options_.feed_status) {
    return common::FinishUnary(
        context, absl::UnavailableError("the feed is not started yet"));
  }
  *response = options_.feed_status();
  return common::FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ScorerService::GetScoreHistory(
    grpc::CallbackServerContext* context,
    const v1::GetScoreHistoryRequest* request,
    v1::GetScoreHistoryResponse* response) {
  std::optional<absl::Time> from, to, as_of;
  absl::Status s = CheckEntityId("entity_id", request->entity_id());
  if (s.ok())
    s = CheckTime("from", request->has_from(), request->from(), &from);
  if (s.ok()) s = CheckTime("to", request->has_to(), request->to(), &to);
  if (s.ok()) s = CheckAsOf(request->has_as_of(), request->as_of(), &as_of);
  if (s.ok() && from.has_value() && to.has_value() && *from > *to) {
    s = Invalid("to", "must not be before from");
  }
  if (s.ok() && as_of.has_value() && (from.has_value() || to.has_value())) {
    s = Invalid("as_of", "not with from or to");
  }
  if (s.ok() && !v1::Factor_IsValid(request->factor())) {
    s = Invalid("factor", absl::StrCat("unknown value ", request->factor()));
  }
  if (s.ok() && request->page_size() < 0) {
    s = Invalid("page_size", "must be >= 0");
  }
  if (s.ok() && options_.history == nullptr) {
    s = absl::UnavailableError("the score history is not open");
  }
  if (!s.ok()) return common::FinishUnary(context, s);
  response->set_entity_id(request->entity_id());
  if (as_of.has_value()) {
    absl::StatusOr<v1::ScoreHistoryPoint> point =
        options_.history->AsOf(request->entity_id(), *as_of);
    if (point.ok()) *response->add_points() = *std::move(point);
    return common::FinishUnary(context, point.status());
  }
  storage::ScoreHistoryQuery query;
  if (from.has_value()) query.from = *from;
  if (to.has_value()) query.to = *to;
  query.factor = request->factor();
  absl::StatusOr<storage::ScoreHistoryPage> page = options_.history->Query(
      request->entity_id(), query, request->page_size(), request->page_token());
  if (page.ok()) {
    for (v1::ScoreHistoryPoint& p : page->points) {
      *response->add_points() = std::move(p);
    }
    response->set_next_page_token(std::move(page->next_page_token));
  }
  return common::FinishUnary(context, page.status());
}

}  // namespace georisk::scorer
