// Acknowledged means durable: writers stream batches to a real graphstore
// process, which is killed with SIGKILL while batches are in flight. After a
// restart on the same directory, every acknowledged batch is there whole,
// no batch is there in part, and the change log is contiguous from 1.
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

constexpr int kWriters = 3;
constexpr int kEntitiesPerBatch = 20;

// Batch b of writer w: kEntitiesPerBatch companies "company/w<w>-b<b>-<j>"
// and a SUPPLIES chain between them.
v1::ApplyRequest Batch(int w, int b) {
  v1::ApplyRequest request;
  request.set_origin("durability-test");
  const auto id = [&](int j) {
    return absl::StrCat("company/w", w, "-b", b, "-", j);
  };
  for (int j = 0; j < kEntitiesPerBatch; ++j) {
    *request.add_mutations() = Upsert(Company(id(j), "KR"));
  }
  for (int j = 1; j < kEntitiesPerBatch; ++j) {
    *request.add_mutations() = Upsert(Supplies(id(j - 1), id(j), 0.25));
  }
  return request;
}

// "company/w1-b7-3" -> "w1-b7".
std::string BatchOf(const std::string& entity_id) {
  std::string slug = entity_id.substr(entity_id.find('/') + 1);
  return slug.substr(0, slug.rfind('-'));
}

class DurabilityTest : public ::testing::TestWithParam<bool> {};

TEST_P(DurabilityTest, AcknowledgedBatchesSurviveKill9) {
  const bool sync = GetParam();
  std::string dir = MakeTempDir("durability");
  auto start = [&]() {
    auto p = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {absl::StrCat("--data_dir=", dir, "/data"),
          absl::StrCat("--sync=", sync ? "true" : "false"),
          "--metrics_listen=none"},
         dir});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return std::unique_ptr<ServiceProcess>();
    EXPECT_TRUE(
        common::WaitForServing((*p)->address(), "", absl::Seconds(30)).ok());
    return std::move(*p);
  };
  std::unique_ptr<ServiceProcess> gs = start();
  ASSERT_NE(gs, nullptr);

  // Writers: each sends batches one after another until a call fails.
  absl::Mutex mu;
  std::map<std::string, int64_t> acked;  // "w<w>-b<b>" -> sequence
  std::atomic<int> total_acked{0};
  std::vector<std::thread> writers;
  const std::string address = gs->address();
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto stub = v1::GraphStore::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      for (int b = 0;; ++b) {
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        v1::ApplyResponse response;
        grpc::Status status = stub->Apply(&context, Batch(w, b), &response);
        if (!status.ok()) return;  // The server is gone.
        absl::MutexLock lock(&mu);
        acked[absl::StrCat("w", w, "-b", b)] = response.sequence();
        total_acked.fetch_add(1);
      }
    });
  }
  // Kill mid-stream, once a good number of batches were acknowledged.
  while (total_acked.load() < 60) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(gs->Signal(SIGKILL).ok());
  absl::StatusOr<int> code = gs->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGKILL);
  for (auto& t : writers) t.join();
  std::map<std::string, int64_t> acknowledged;
  {
    absl::MutexLock lock(&mu);
    acknowledged = acked;
  }
  ASSERT_GE(acknowledged.size(), 60u);

  // Restart on the same directory.
  gs = start();
  ASSERT_NE(gs, nullptr);
  auto stub = v1::GraphStore::NewStub(
      grpc::CreateChannel(gs->address(), grpc::InsecureChannelCredentials()));

  // Every entity and edge, at one snapshot.
  std::map<std::string, int> entities_per_batch;
  std::map<std::string, int> edges_per_batch;
  int64_t snapshot_sequence = 0;
  {
    grpc::ClientContext context;
    auto reader = stub->ExportSnapshot(&context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    while (reader->Read(&chunk)) {
      snapshot_sequence = chunk.sequence();
      for (const auto& e : chunk.entities())
        ++entities_per_batch[BatchOf(e.id())];
      for (const auto& e : chunk.edges())
        ++edges_per_batch[BatchOf(e.from_id())];
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  // Acknowledged batches are there, whole.
  for (const auto& [batch, sequence] : acknowledged) {
    EXPECT_EQ(entities_per_batch[batch], kEntitiesPerBatch) << batch;
    EXPECT_EQ(edges_per_batch[batch], kEntitiesPerBatch - 1) << batch;
    EXPECT_LE(sequence, snapshot_sequence) << batch;
  }
  // No batch is there in part (an unacknowledged one may be whole or absent).
  for (const auto& [batch, n] : entities_per_batch) {
    EXPECT_EQ(n, kEntitiesPerBatch) << batch << " is partial";
    EXPECT_EQ(edges_per_batch[batch], kEntitiesPerBatch - 1) << batch;
  }
  EXPECT_EQ(static_cast<int64_t>(entities_per_batch.size()), snapshot_sequence);

  // The change log is contiguous from 1 to the last sequence, one commit per
  // batch, and every acknowledged sequence is a commit of its own batch.
  std::map<int64_t, std::string> log;
  {
    grpc::ClientContext context;
    v1::WatchChangesRequest request;
    request.set_from_sequence(1);
    auto reader = stub->WatchChanges(&context, request);
    v1::WatchChangesResponse response;
    int64_t expect = 1;
    while (expect <= snapshot_sequence && reader->Read(&response)) {
      for (const auto& c : response.changes()) {
        ASSERT_EQ(c.sequence(), expect) << "gap in the change log";
        ASSERT_EQ(c.mutations_size(), 2 * kEntitiesPerBatch - 1);
        log[c.sequence()] = BatchOf(c.mutations(0).upsert_entity().id());
        ++expect;
      }
    }
    EXPECT_EQ(expect, snapshot_sequence + 1);
    context.TryCancel();
    reader->Finish();
  }
  for (const auto& [batch, sequence] : acknowledged) {
    EXPECT_EQ(log[sequence], batch) << "sequence " << sequence;
  }

  // A fresh write continues the sequence without a gap.
  grpc::ClientContext context;
  v1::ApplyResponse response;
  ASSERT_TRUE(stub->Apply(&context, Batch(99, 0), &response).ok());
  EXPECT_EQ(response.sequence(), snapshot_sequence + 1);
  // Graceful stop is prompt: no stream (the cancelled watch above) holds it.
  absl::Time stop_start = absl::Now();
  EXPECT_EQ(*gs->Stop(SIGTERM, absl::Seconds(20)), 0);
  EXPECT_LT(absl::Now() - stop_start, absl::Seconds(5)) << gs->Log();
}

INSTANTIATE_TEST_SUITE_P(SyncAndNoSync, DurabilityTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Sync" : "NoSync";
                         });

}  // namespace
}  // namespace georisk
