// The engine's large passes (direct exposures, the top-risk index, the
// ScoreChange protos of an update) are split between threads when they cover
// at least internal::kMinParallelItems entities. Their results must not depend
// on the number of threads: the same graph and the same changes give
// byte-identical scores, rankings and score changes with 1 and 2 workers.
#include "services/scorer/model/parallel.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"

namespace georisk::scorer::testing {
namespace {

// Everything observable of a run, serialised, and the largest number of
// score changes one update published.
struct Observed {
  std::vector<std::string> outputs;
  size_t largest_update = 0;
};

Observed RunWith(int workers) {
  internal::forced_workers_for_testing = workers;
  Observed run;
  RandomWorld world(11);
  Graph g = world.Initial(12000, 30000, 300);
  absl::Time as_of = Date(2026, 1, 15);
  std::unique_ptr<Engine> engine = g.Load(as_of);
  auto record = [&](const std::vector<v1::ScoreChange>& changes) {
    run.largest_update = std::max(run.largest_update, changes.size());
    std::string all;
    for (const v1::ScoreChange& c : changes) all += c.SerializeAsString();
    run.outputs.push_back(std::move(all));
    for (v1::Factor f : {v1::FACTOR_UNSPECIFIED, v1::FACTOR_EXPORT_CONTROLS,
                         v1::FACTOR_TARIFFS, v1::FACTOR_CROSS_STRAIT}) {
      Engine::TopQuery q;
      q.factor = f;
      q.page_size = 1000;
      absl::StatusOr<v1::ListTopRisksResponse> top = engine->ListTopRisks(q);
      run.outputs.push_back(top.ok() ? top->SerializeAsString()
                                     : top.status().ToString());
    }
  };
  record({});
  for (int step = 0; step < 12; ++step) {
    if (step % 4 == 3) {
      as_of = world.RandomDate();
      record(engine->AdvanceTime(as_of));
    } else {
      record(engine->ApplyChange(MakeChange(step + 2, world.RandomMutations()),
                                 as_of));
    }
  }
  engine->RescoreAll();
  for (const v1::Entity& e : world.Snapshot().entities) {
    absl::StatusOr<v1::Score> s = engine->GetScore(e.id());
    run.outputs.push_back(s.ok() ? s->SerializeAsString()
                                 : s.status().ToString());
  }
  internal::forced_workers_for_testing = 0;
  return run;
}

TEST(ParallelTest, ResultsDoNotDependOnTheNumberOfWorkers) {
  const Observed one = RunWith(1);
  // Otherwise the threaded publishing path would not have run.
  ASSERT_GE(one.largest_update, internal::kMinParallelItems);
  for (int workers : {2}) {
    const Observed many = RunWith(workers);
    ASSERT_EQ(many.outputs.size(), one.outputs.size());
    for (size_t i = 0; i < one.outputs.size(); ++i) {
      ASSERT_EQ(many.outputs[i], one.outputs[i])
          << workers << " workers, output " << i;
    }
  }
}

}  // namespace
}  // namespace georisk::scorer::testing
