// A full disk under a real graphstore (issue #15): graphstore on a 96 MiB
// tmpfs (tests/testing/small_disk.h), 76 MiB of it taken by a filler file,
// takes a `georiskctl import` through ingest until the disk is full. Before
// the fix, RocksDB's info log aborted graphstore on the full disk, and
// ingest took graphstore's RESOURCE_EXHAUSTED (no space) for records too
// big, "rejected" them one by one and moved the import's resume index past
// ~24,000 records that were never written. Now: graphstore stays up and
// serves reads; Apply answers UNAVAILABLE naming the full disk; its writes
// health and a metric say so; the import stops with that error and a resume
// index that is exactly what was written; every acknowledged record
// survives kill -9 and a restart; once space is freed, writes resume by
// themselves and the resumed import completes with nothing lost and nothing
// applied twice.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/small_disk.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ResumeFrom;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

// Set by main(), before any thread.
absl::Status* private_mounts = nullptr;

constexpr int64_t kDiskBytes = int64_t{96} << 20;
// Leaves about 20 MiB for the database. Removing it leaves room for RocksDB
// to flush its memtables (16 MiB each at most), which it needs to resume,
// and for the rest of the import.
constexpr int64_t kFillerBytes = int64_t{76} << 20;
constexpr int kRecords = 60000;
constexpr char kWritesHealth[] = "georisk.v1.GraphStore.Apply";

// `n` companies as JSON Lines, each with an idempotency key and a long name
// (the disk fills after some 30,000 of them).
std::string Companies(int n) {
  const std::string padding(200, 'x');
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, R"({"upsert_entity": {"id": "company/c)", i,
                    R"(", "kind": "COMPANY", "name": "C)", i, " ", padding,
                    R"(", "country": "TW", "source": "test"}, )",
                    R"("idempotency_key": "c)", i, R"(-v1"})", "\n");
  }
  return out;
}

class GraphStoreFullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!private_mounts->ok()) {
      GTEST_SKIP() << "needs a private mount namespace: " << *private_mounts;
    }
    dir_ = MakeTempDir("full_disk");
    disk_ = dir_ + "/disk";
    ASSERT_TRUE(testing::MountSmallDisk(disk_, kDiskBytes).ok());
    ASSERT_TRUE(testing::WriteFiller(disk_ + "/filler", kFillerBytes).ok());
    std::ofstream(dir_ + "/many.jsonl", std::ios::binary)
        << Companies(kRecords);
  }

  void TearDown() override {
    for (ServiceProcess* p : {ingest_.get(), graphstore_.get()}) {
      if (p != nullptr && p->running()) {
        p->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
      }
    }
  }

  void StartGraphStore(const std::string& listen) {
    auto gs =
        ServiceProcess::Start({Runfile("services/graphstore/graphstore"),
                               {absl::StrCat("--data_dir=", disk_, "/data"),
                                "--sync=true", "--listen=" + listen},
                               dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    ASSERT_TRUE(
        common::WaitForServing(graphstore_->address(), "", absl::Seconds(30))
            .ok());
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  void StartIngest() {
    auto in = ServiceProcess::Start(
        {Runfile("services/ingest/ingest"),
         // No resolution: the records' names differ only by a number, so
         // each would get up to 10 review links, and the disk's budget is
         // sized for the records alone.
         {absl::StrCat("--graphstore=", graphstore_->address()),
          "--batch_size=500", "--retry_deadline=2s",
          "--resolve_on_import=false"},
         dir_});
    ASSERT_TRUE(in.ok()) << in.status();
    ingest_ = std::move(*in);
    ASSERT_TRUE(
        common::WaitForServing(ingest_->address(), "", absl::Seconds(30)).ok());
  }

  CommandResult Import(std::vector<std::string> args) {
    args.insert(args.begin(), {"import", dir_ + "/many.jsonl"});
    args.push_back(absl::StrCat("--ingest=", ingest_->address()));
    args.push_back("--progress=none");
    return testing::RunCommand(dir_, Runfile("services/georiskctl/georiskctl"),
                               args);
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStatsResponse stats;
    const grpc::Status s =
        graph_->GetStats(&context, v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats;
  }

  // The ids of every entity, from one snapshot.
  std::set<std::string> EntityIds() {
    std::set<std::string> ids;
    grpc::ClientContext context;
    auto reader = graph_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    while (reader->Read(&chunk)) {
      for (const v1::Entity& e : chunk.entities()) ids.insert(e.id());
    }
    EXPECT_TRUE(reader->Finish().ok());
    return ids;
  }

  std::string dir_;
  std::string disk_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
};

TEST_F(GraphStoreFullDiskTest, NothingAcknowledgedIsLostAndTheImportResumes) {
  StartGraphStore("127.0.0.1:0");
  const std::string listen = graphstore_->address();
  StartIngest();

  // The disk fills: the import stops, naming the cause, with a resume index.
  CommandResult first = Import({});
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  EXPECT_THAT(first.err, HasSubstr("writes are stopped: the disk under"));
  EXPECT_THAT(first.err, HasSubstr("is full"));
  EXPECT_THAT(first.err, HasSubstr("No space left on device"));
  const int64_t resume = ResumeFrom(first.err);
  ASSERT_GT(resume, 0) << first.err;
  ASSERT_LT(resume, kRecords) << "the disk never filled";

  // graphstore is up, serves reads, and says its writes are stopped.
  ASSERT_TRUE(graphstore_->running()) << graphstore_->Log();
  v1::GetStatsResponse stats = Stats();
  EXPECT_THAT(stats.writes_stopped_reason(), HasSubstr("is full"));
  // Exactly what the import was told was handled is there.
  EXPECT_EQ(stats.entity_count(), resume);
  EXPECT_EQ(*common::CheckHealth(listen, "", absl::Seconds(5)), "SERVING");
  EXPECT_EQ(*common::CheckHealth(listen, kWritesHealth, absl::Seconds(5)),
            "NOT_SERVING");
  absl::StatusOr<testing::HttpResult> metrics =
      testing::HttpGet(graphstore_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body,
              HasSubstr("\ngeorisk_graphstore_writes_stopped 1\n"));
  {
    grpc::ClientContext context;
    v1::GetEntityRequest request;
    request.set_id("company/c0");
    v1::Entity entity;
    EXPECT_TRUE(graph_->GetEntity(&context, request, &entity).ok());
  }
  {
    // A direct write: UNAVAILABLE, with a retry hint.
    grpc::ClientContext context;
    v1::ApplyRequest request;
    *request.add_mutations() = Upsert(Company("company/direct"));
    v1::ApplyResponse response;
    const grpc::Status s = graph_->Apply(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(s.error_message(), HasSubstr("is full"));
    EXPECT_NE(
        context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms"),
        context.GetServerTrailingMetadata().end());
  }

  // kill -9, then a restart once space is freed (opening replays the
  // write-ahead log and flushes it, which needs room): every acknowledged
  // record is there, and nothing else.
  ingest_->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
  ASSERT_TRUE(graphstore_->Stop(SIGKILL, absl::Seconds(10)).ok());
  ASSERT_EQ(unlink((disk_ + "/filler").c_str()), 0);
  StartGraphStore(listen);
  const std::set<std::string> ids = EntityIds();
  EXPECT_EQ(static_cast<int64_t>(ids.size()), resume);
  for (int64_t i = 0; i < resume; ++i) {
    if (ids.count(absl::StrCat("company/c", i)) == 0) {
      ADD_FAILURE() << "acknowledged record " << i << " is missing";
      break;
    }
  }
  EXPECT_TRUE(Stats().writes_stopped_reason().empty());

  // The resumed import finishes the job: nothing lost, nothing twice.
  StartIngest();
  CommandResult second = Import({absl::StrCat("--resume_from=", resume)});
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_EQ(SummaryValue(second.out, "sent"), kRecords - resume);
  EXPECT_EQ(SummaryValue(second.out, "accepted"), kRecords - resume);
  EXPECT_EQ(Stats().entity_count(), kRecords);
  std::printf("the disk filled after %lld of %d records\n",
              static_cast<long long>(resume), kRecords);
}

TEST_F(GraphStoreFullDiskTest, WritesResumeByThemselvesOnceSpaceIsFreed) {
  StartGraphStore("127.0.0.1:0");
  StartIngest();
  CommandResult first = Import({});
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  const int64_t resume = ResumeFrom(first.err);
  ASSERT_GT(resume, 0) << first.err;
  ASSERT_TRUE(graphstore_->running()) << graphstore_->Log();
  EXPECT_EQ(*common::CheckHealth(graphstore_->address(), kWritesHealth,
                                 absl::Seconds(5)),
            "NOT_SERVING");

  // Space comes back; the same process takes writes again, with no
  // restart and no Apply to prompt it.
  ASSERT_EQ(unlink((disk_ + "/filler").c_str()), 0);
  EXPECT_TRUE(common::WaitForServing(graphstore_->address(), kWritesHealth,
                                     absl::Seconds(60))
                  .ok())
      << graphstore_->Log();
  EXPECT_TRUE(Stats().writes_stopped_reason().empty());
  CommandResult second = Import({absl::StrCat("--resume_from=", resume)});
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_EQ(SummaryValue(second.out, "accepted"), kRecords - resume);
  EXPECT_EQ(Stats().entity_count(), kRecords);
  EXPECT_THAT(graphstore_->Log(), HasSubstr("writes resumed"));
}

}  // namespace
}  // namespace georisk

int main(int argc, char** argv) {
  // Before gRPC or gtest start a thread.
  georisk::private_mounts =
      new absl::Status(georisk::testing::EnterPrivateMountNamespace());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
