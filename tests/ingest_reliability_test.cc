// Ingest's reliability with real processes on loopback (issue #15): idle
// streams of one client do not lock other clients out and end after
// --stream_idle_timeout; an import whose graphstore is killed mid-way stops
// with exit 3 and "resume with --resume_from=N", and the resumed import
// completes it; an ingest killed with SIGKILL mid-stream loses nothing, and
// a retry of the same file (same idempotency keys) converges; an ingest
// killed during a resumed import keeps what was acknowledged before, and
// --resume_from from the same index finishes the job.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/channel.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ResumeFrom;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// `n` companies as JSON Lines, each with an idempotency key.
std::string Companies(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, R"({"upsert_entity": {"id": "company/c)", i,
                    R"(", "kind": "COMPANY", "name": "C)", i,
                    R"(", "country": "TW", "source": "test"}, )",
                    R"("idempotency_key": "c)", i, R"(-v1"})", "\n");
  }
  return out;
}

class IngestReliabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("ingest_reliability"); }

  void TearDown() override {
    for (ServiceProcess* p : {ingest_.get(), graphstore_.get()}) {
      if (p != nullptr && p->running()) {
        p->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
      }
    }
  }

  // Starts graphstore on `listen` (127.0.0.1:0 for any port).
  void StartGraphStore(const std::string& listen = "127.0.0.1:0") {
    auto gs = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {absl::StrCat("--data_dir=", dir_, "/graphstore"), "--sync=false",
          "--listen=" + listen},
         dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    graphstore_ = std::move(*gs);
    ASSERT_TRUE(
        common::WaitForServing(graphstore_->address(), "", absl::Seconds(30))
            .ok());
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
  }

  void StartIngest(std::vector<std::string> args) {
    args.push_back(absl::StrCat("--graphstore=", graphstore_->address()));
    // These tests are about the records' durability; resolving 60,000
    // companies whose names differ only by a number (each one a review
    // candidate of its neighbours) made each test 2-3 times slower.
    args.push_back("--resolve_on_import=false");
    auto in =
        ServiceProcess::Start({Runfile("services/ingest/ingest"), args, dir_});
    ASSERT_TRUE(in.ok()) << in.status();
    ingest_ = std::move(*in);
    ASSERT_TRUE(
        common::WaitForServing(ingest_->address(), "", absl::Seconds(30)).ok())
        << ingest_->Log();
  }

  CommandResult Import(std::vector<std::string> args) {
    args.insert(args.begin(), "import");
    args.push_back(absl::StrCat("--ingest=", ingest_->address()));
    args.push_back("--progress=none");
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats;
  }

  // Waits until graphstore has committed past `sequence` (an import is
  // under way); false after `timeout`.
  bool WaitForCommitAfter(int64_t sequence, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      v1::GetStatsResponse stats;
      if (graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok() &&
          stats.last_sequence() > sequence) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<ServiceProcess> graphstore_;
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
};

TEST_F(IngestReliabilityTest, IdleStreamsOfOneClientDoNotLockOthersOut) {
  StartGraphStore();
  WriteFile(dir_ + "/tokens",
            "bulk-token-0123456789 writer bulk\n"
            "other-token-0123456789 writer other\n");
  WriteFile(dir_ + "/bulk.token", "bulk-token-0123456789\n");
  WriteFile(dir_ + "/other.token", "other-token-0123456789\n");
  StartIngest({"--token_file=" + dir_ + "/tokens", "--stream_idle_timeout=3s",
               "--max_concurrent_calls=32", "--max_calls_per_client=16"});
  auto channel = [&](const std::string& who) {
    common::ChannelOptions o;
    o.target = ingest_->address();
    o.token_file = dir_ + "/" + who + ".token";
    absl::StatusOr<std::shared_ptr<grpc::Channel>> c = common::MakeChannel(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  };
  auto bulk = v1::Ingest::NewStub(channel("bulk"));
  // 33 streams that send nothing: before the fix, 32 of them took every
  // slot until they hung up.
  constexpr int kIdle = 33;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::IngestResponse> responses(kIdle);
  std::vector<std::unique_ptr<grpc::ClientWriter<v1::IngestRequest>>> idle;
  for (int i = 0; i < kIdle; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    idle.push_back(bulk->Ingest(contexts.back().get(), &responses[i]));
  }
  absl::SleepFor(absl::Milliseconds(500));  // Let ingest admit them.

  // Another client gets through at once.
  auto other = v1::Ingest::NewStub(channel("other"));
  v1::IngestBatchRequest request;
  *request.add_records() = Upsert(Company("company/other"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  v1::IngestBatchResponse response;
  const grpc::Status batch = other->IngestBatch(&context, request, &response);
  ASSERT_TRUE(batch.ok()) << batch.error_code() << " " << batch.error_message();
  EXPECT_EQ(response.summary().accepted(), 1);

  // The idle ones: 16 admitted, ended as idle; 17 refused for the client.
  int idle_ended = 0, refused = 0;
  const absl::Time start = absl::Now();
  for (auto& stream : idle) {
    const grpc::Status s = stream->Finish();
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++idle_ended;
      EXPECT_THAT(s.error_message(), HasSubstr("ended as idle"));
    } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      EXPECT_THAT(s.error_message(), HasSubstr("from one client (token:bulk)"));
    } else {
      ADD_FAILURE() << s.error_code() << " " << s.error_message();
    }
  }
  EXPECT_EQ(idle_ended, 16);
  EXPECT_EQ(refused, kIdle - 16);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST_F(IngestReliabilityTest, ImportResumesAfterGraphStoreWasKilled) {
  StartGraphStore();
  const std::string listen = graphstore_->address();
  StartIngest({"--batch_size=200", "--retry_deadline=1s"});
  constexpr int kRecords = 60000;
  WriteFile(dir_ + "/many.jsonl", Companies(kRecords));

  CommandResult first;
  std::thread import([&] { first = Import({dir_ + "/many.jsonl"}); });
  ASSERT_TRUE(WaitForCommitAfter(0, absl::Seconds(60)));
  ASSERT_TRUE(graphstore_->Stop(SIGKILL, absl::Seconds(10)).ok());
  import.join();
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  EXPECT_THAT(first.err, HasSubstr("unavailable"));
  const int64_t resume = ResumeFrom(first.err);
  ASSERT_GE(resume, 0) << first.err;
  ASSERT_LT(resume, kRecords);

  StartGraphStore(listen);  // The same address and data.
  EXPECT_GE(Stats().entity_count(), resume)
      << "every record before the resume index is durable";
  CommandResult second =
      Import({dir_ + "/many.jsonl", absl::StrCat("--resume_from=", resume)});
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_EQ(SummaryValue(second.out, "sent"), kRecords - resume);
  EXPECT_EQ(SummaryValue(second.out, "accepted") +
                SummaryValue(second.out, "duplicates"),
            kRecords - resume);
  EXPECT_EQ(Stats().entity_count(), kRecords);
  std::printf("graphstore killed after %lld of %d records were handled\n",
              static_cast<long long>(resume), kRecords);
}

TEST_F(IngestReliabilityTest,
       IngestKilledMidStreamLosesNothingAndARetryConverges) {
  StartGraphStore();
  StartIngest({"--batch_size=200"});
  constexpr int kRecords = 60000;
  WriteFile(dir_ + "/many.jsonl", Companies(kRecords));

  CommandResult first;
  std::thread import([&] { first = Import({dir_ + "/many.jsonl"}); });
  ASSERT_TRUE(WaitForCommitAfter(0, absl::Seconds(60)));
  ASSERT_TRUE(ingest_->Stop(SIGKILL, absl::Seconds(10)).ok());
  import.join();
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  // Nothing was acknowledged (the summary never came): resume from 0.
  EXPECT_EQ(ResumeFrom(first.err), 0) << first.err;
  const int64_t landed = Stats().entity_count();
  EXPECT_GT(landed, 0);

  StartIngest({"--batch_size=200"});
  CommandResult retry = Import({dir_ + "/many.jsonl"});
  ASSERT_EQ(retry.code, 0) << retry.out << retry.err;
  EXPECT_EQ(SummaryValue(retry.out, "accepted"), kRecords - landed)
      << "what landed before the kill is not applied twice";
  EXPECT_EQ(SummaryValue(retry.out, "duplicates"), landed);
  EXPECT_EQ(Stats().entity_count(), kRecords);
  // A third run changes nothing.
  const int64_t sequence = Stats().last_sequence();
  CommandResult again = Import({dir_ + "/many.jsonl"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(SummaryValue(again.out, "duplicates"), kRecords);
  EXPECT_EQ(Stats().last_sequence(), sequence);
}

// kill -9 of ingest during an import that resumes an earlier one: what the
// client saw acknowledged (the first run's records before its resume index)
// is in graphstore, the client is told ingest is gone and to resume from
// that same index, and the resumed import finishes the job: nothing lost,
// nothing applied twice.
TEST_F(IngestReliabilityTest, IngestKilledDuringAResumedImportLosesNothing) {
  StartGraphStore();
  const std::string listen = graphstore_->address();
  StartIngest({"--batch_size=200", "--retry_deadline=1s"});
  constexpr int kRecords = 60000;
  WriteFile(dir_ + "/many.jsonl", Companies(kRecords));

  // A first run, stopped by graphstore's death: acknowledged up to `resume`.
  // The kill waits for a second commit: ingest's worker applies one batch at
  // a time, so by then graphstore's answer to the first reached ingest, and
  // the first run has something acknowledged to resume after. (After only
  // the first commit, graphstore can die before its answer leaves, and the
  // run rightly says to resume from 0.)
  CommandResult first;
  std::thread import([&] { first = Import({dir_ + "/many.jsonl"}); });
  ASSERT_TRUE(WaitForCommitAfter(1, absl::Seconds(60)));
  ASSERT_TRUE(graphstore_->Stop(SIGKILL, absl::Seconds(10)).ok());
  import.join();
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  const int64_t resume = ResumeFrom(first.err);
  ASSERT_GT(resume, 0) << first.err;
  ASSERT_LT(resume, kRecords);
  StartGraphStore(listen);
  const int64_t before = Stats().last_sequence();

  // The resumed run; ingest is killed while it streams.
  CommandResult second;
  const std::string from = absl::StrCat("--resume_from=", resume);
  import = std::thread([&] { second = Import({dir_ + "/many.jsonl", from});
});
ASSERT_TRUE(WaitForCommitAfter(before, absl::Seconds(60)));
ASSERT_TRUE(ingest_->Stop(SIGKILL, absl::Seconds(10)).ok());
import.join();
ASSERT_EQ(second.code, 3) << second.out << second.err;
EXPECT_THAT(second.err, HasSubstr("ingest (or graphstore behind it) is "
                                  "unavailable"));
// This run's summary never came: nothing more is known to be handled.
EXPECT_EQ(ResumeFrom(second.err), resume) << second.err;
const int64_t landed = Stats().entity_count();
EXPECT_GT(landed, resume) << "the kill came after some commits";

// Every record acknowledged before is there (ids c0..c<resume-1>).
for (int64_t i = 0; i < resume; i += 997) {
  grpc::ClientContext context;
  v1::GetEntityRequest request;
  request.set_id(absl::StrCat("company/c", i));
  v1::Entity entity;
  EXPECT_TRUE(graph_->GetEntity(&context, request, &entity).ok()) << i;
}

StartIngest({"--batch_size=200"});
CommandResult third = Import({dir_ + "/many.jsonl", from});
ASSERT_EQ(third.code, 0) << third.out << third.err;
EXPECT_EQ(SummaryValue(third.out, "sent"), kRecords - resume);
EXPECT_EQ(SummaryValue(third.out, "accepted"), kRecords - landed)
    << "what landed before the kill is not applied twice";
EXPECT_EQ(SummaryValue(third.out, "duplicates"), landed - resume);
EXPECT_EQ(Stats().entity_count(), kRecords);
}  // namespace

}  // namespace georisk
}  // namespace georisk
