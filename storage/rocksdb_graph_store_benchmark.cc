// Micro-benchmarks of RocksDbGraphStore's write path, for profiling: the
// figures of record come from bench/ (against db_bench on the same disk).
//
//   bazel run -c opt //storage:rocksdb_graph_store_benchmark
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "rocksdb/db.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::storage {
namespace {

constexpr int kEntities = 2000;

v1::Mutation Company(int i) {
  v1::Mutation m;
  v1::Entity* e = m.mutable_upsert_entity();
  e->set_id(absl::StrCat("company/c", i));
  e->set_kind(v1::Entity::COMPANY);
  e->set_name(absl::StrCat("Company ", i));
  e->set_country("TW");
  e->set_source("benchmark");
  return m;
}

// Applies batches of `state.range(0)` new SUPPLIES edges between existing
// companies, WAL on, sync off.
void BM_ApplyEdges(benchmark::State& state) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  RocksDbGraphStoreOptions options;
  options.path = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                              "/graph_store_benchmark_", getpid());
  options.sync = false;
  rocksdb::DestroyDB(options.path, rocksdb::Options()).PermitUncheckedError();
  auto store = RocksDbGraphStore::Open(options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  std::vector<v1::Mutation> entities;
  for (int i = 0; i < kEntities; ++i) entities.push_back(Company(i));
  if (!(*store)->Apply(entities, "benchmark").ok()) {
    state.SkipWithError("loading entities failed");
    return;
  }
  const int batch_size = static_cast<int>(state.range(0));
  int64_t next = 0;
  std::vector<v1::Mutation> batch(batch_size);
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < batch_size; ++i, ++next) {
      v1::Edge* e = batch[i].mutable_upsert_edge();
      e->set_from_id(absl::StrCat("company/c", next % kEntities));
      e->set_to_id(
          absl::StrCat("company/c", (next / kEntities + 1 + next) % kEntities));
      e->set_kind(v1::Edge::SUPPLIES);
      e->set_weight(0.25);
      e->set_product_code(absl::StrCat(100000 + next / kEntities));
      e->set_source("https://example.com/supply-chain-report");
    }
    state.ResumeTiming();
    absl::StatusOr<ApplyResult> result = (*store)->Apply(batch, "benchmark");
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  store->reset();
  rocksdb::DestroyDB(options.path, rocksdb::Options()).PermitUncheckedError();
}
BENCHMARK(BM_ApplyEdges)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace georisk::storage

BENCHMARK_MAIN();
