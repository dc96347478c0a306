#include "services/scorer/history_recorder.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"

namespace georisk::scorer {
namespace {

// The largest contribution of the factor that moved (all factors when only
// the composite did), readable: "<description> (<share>%)".
storage::ScoreHistory::ReasonFn TopReason(const Engine& engine) {
  return [&engine](const std::string& id, v1::Factor factor) -> std::string {
    absl::StatusOr<v1::Explanation> e = engine.Explain(id, factor, 1, 1);
    if (!e.ok() || e->contributions().empty()) return "";
    const v1::Contribution& c = e->contributions(0);
    return absl::StrCat(c.description(), " (",
                        static_cast<int>(c.fraction() * 100 + 0.5), "%)");
  };
}

}  // namespace

v1::ScoreHistoryPoint HistoryPoint(const v1::Score& score, absl::Time time) {
  v1::ScoreHistoryPoint p;
  *p.mutable_time() = base::ToProtoTime(time);
  p.set_graph_sequence(score.graph_sequence());
  p.set_model_version(score.model_version());
  p.set_composite(score.composite());
  p.set_band(score.band());
  *p.mutable_factors() = score.factors();
  return p;
}

absl::Status HistoryRecorder::OnScoreChanges(
    const std::vector<v1::ScoreChange>& changes, const Engine& engine) {
  absl::Time now = clock_();
  std::vector<std::pair<std::string, v1::ScoreHistoryPoint>> points;
  points.reserve(changes.size());
  for (const v1::ScoreChange& c : changes) {
    if (c.has_after()) {
      points.emplace_back(c.after().entity_id(), HistoryPoint(c.after(), now));
    } else if (c.has_before()) {
      v1::ScoreHistoryPoint p;
      *p.mutable_time() = base::ToProtoTime(now);
      p.set_graph_sequence(c.graph_sequence());
      p.set_model_version(c.before().model_version());
      p.set_deleted(true);
      points.emplace_back(c.before().entity_id(), std::move(p));
    }
  }
  return history_->Record(points, TopReason(engine)).status();
}

absl::StatusOr<int64_t> HistoryRecorder::Seed(const Engine& engine,
                                              bool rebuild) {
  absl::Time now = clock_();
  // A baseline point explains nothing (no move): explaining each of a large
  // graph's scores took most of a first start (0.7 ms an entity at 1M).
  storage::ScoreHistory::ReasonFn reason =
      rebuild ? storage::ScoreHistory::ReasonFn() : TopReason(engine);
  int64_t written = 0;
  // Companies and facilities, then persons (ranked apart).
  for (v1::Entity::Kind kind :
       {v1::Entity::KIND_UNSPECIFIED, v1::Entity::PERSON}) {
    Engine::TopQuery query;
    query.kind = kind;
    query.page_size = 1000;
    do {
      absl::StatusOr<v1::ListTopRisksResponse> page =
          engine.ListTopRisks(query);
      if (!page.ok()) return page.status();
      std::vector<std::pair<std::string, v1::ScoreHistoryPoint>> points;
      for (const v1::Score& s : page->scores()) {
        v1::ScoreHistoryPoint p = HistoryPoint(s, now);
        p.set_rebuild(rebuild);
        points.emplace_back(s.entity_id(), std::move(p));
      }
      absl::StatusOr<int> page_written = history_->Record(points, reason);
      if (!page_written.ok()) return page_written.status();
      written += *page_written;
      query.page_token = page->next_page_token();
    } while (!query.page_token.empty());
  }
  return written;
}

}  // namespace georisk::scorer
