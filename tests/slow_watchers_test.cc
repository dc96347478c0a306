// graphstore and scorer as real processes, with 64 outside WatchChanges
// streams that never read while a few MB of changes are committed:
// graphstore's memory stays under a bound (its resident size, VmRSS of
// /proc/PID/status, grows by less than the buffer budget it was given plus
// what the writes themselves take), the scorer keeps following (its streams
// are FOLLOWER_CLASS_SERVICE: a reserved pool, never refused for the
// budget), and the slow streams end with RESOURCE_EXHAUSTED
// (graphstore.proto, WatchChanges).
//
// Every call has a deadline, so a stream or a service that stops answering
// fails the test with what was waited for instead of hanging it.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Upsert;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

constexpr int kSlowStreams = 64;
constexpr int64_t kBudgetMb = 16;
constexpr int kBigCommits = 8;         // Each about 1 MB: one record under the
constexpr size_t kBigBytes = 1000000;  // 1 MiB cap.

// VmRSS of a process, in bytes; -1 when unreadable.
int64_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      int64_t kb = 0;
      absl::string_view digits = absl::StripAsciiWhitespace(rest);
      digits = digits.substr(0, digits.find(' '));
      if (absl::SimpleAtoi(digits, &kb)) return kb * 1024;
    }
  }
  return -1;
}

// A company whose aliases make it about `alias_bytes` long.
v1::Mutation CompanyWithAliases(const std::string& id, size_t alias_bytes) {
  v1::Entity e = Company(id);
  for (size_t i = 0; i < alias_bytes / 500; ++i) {
    e.add_aliases(std::string(495, static_cast<char>('a' + i % 26)));
  }
  return Upsert(e);
}

TEST(SlowWatchersTest, MemoryStaysBoundedScorerFollowsSlowStreamsEnd) {
  const std::string dir = MakeTempDir("slow");
  auto gs = ServiceProcess::Start(
      {Runfile("services/graphstore/graphstore"),
       {"--data_dir=" + dir + "/gs", "--sync=false", "--watch_stall_timeout=3s",
        absl::StrCat("--watch_max_buffered_mb=", kBudgetMb)},
       dir});
  ASSERT_TRUE(gs.ok()) << gs.status();
  auto graphstore = v1::GraphStore::NewStub(grpc::CreateChannel(
      (*gs)->address(), grpc::InsecureChannelCredentials()));
  auto apply = [&](v1::Mutation m) -> int64_t {
    v1::ApplyRequest request;
    *request.add_mutations() = std::move(m);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::ApplyResponse response;
    grpc::Status s = graphstore->Apply(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.sequence();
  };
  apply(CompanyWithAliases("company/first", 0));

  auto sc = ServiceProcess::Start(
      {Runfile("services/scorer/scorer"),
       {"--data_dir=" + dir + "/scorer", "--graphstore=" + (*gs)->address()},
       dir});
  ASSERT_TRUE(sc.ok()) << sc.status();
  ASSERT_TRUE(
      common::WaitForServing((*sc)->address(), "", absl::Seconds(60)).ok())
      << (*sc)->Log();
  auto scorer = v1::Scorer::NewStub(grpc::CreateChannel(
      (*sc)->address(), grpc::InsecureChannelCredentials()));

  // The slow streams: each on a channel of its own (as separate clients
  // would be), from the start of the log, never read. Their deadline only
  // guards against a stream that is neither ended nor caught up.
  const absl::Time slow_deadline = absl::Now() + absl::Seconds(150);
  std::vector<std::unique_ptr<v1::GraphStore::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>>>
      slow;
  for (int i = 0; i < kSlowStreams; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // Distinct channels, not shared.
    stubs.push_back(v1::GraphStore::NewStub(grpc::CreateCustomChannel(
        (*gs)->address(), grpc::InsecureChannelCredentials(), args)));
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(absl::ToChronoTime(slow_deadline));
    v1::WatchChangesRequest request;
    request.set_from_sequence(1);
    slow.push_back(stubs.back()->WatchChanges(contexts.back().get(), request));
  }
  absl::SleepFor(absl::Milliseconds(500));
  const int64_t before = ResidentBytes((*gs)->pid());
  ASSERT_GT(before, 0);

  int64_t last = 0;
  int64_t peak = before;
  for (int i = 0; i < kBigCommits; ++i) {
    last =
        apply(CompanyWithAliases(absl::StrCat("company/big-", i), kBigBytes));
    peak = std::max(peak, ResidentBytes((*gs)->pid()));
  }
  for (int i = 0; i < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(250));
    peak = std::max(peak, ResidentBytes((*gs)->pid()));
  }
  // The bound (graphstore.proto, WatchChanges): twice the buffer budget (a
  // waiting message is held parsed and encoded), plus twice what was
  // written (the memtable and the write path's copies), plus 48 MiB for
  // gRPC's and RocksDB's own working memory. Without a budget each slow
  // stream holds its ~1 MB message in both forms: 64 streams, over 128 MB.
  const int64_t written = int64_t{kBigCommits} * int64_t{kBigBytes};
  const int64_t bound =
      2 * (kBudgetMb << 20) + 2 * written + (int64_t{48} << 20);
  std::printf(
      "graphstore VmRSS: before %.1f MiB, peak %.1f MiB, growth "
      "%.1f MiB, bound %.1f MiB (%d slow streams, %.1f MB written)\n",
      before / 1048576.0, peak / 1048576.0, (peak - before) / 1048576.0,
      bound / 1048576.0, kSlowStreams, written / 1e6);
  std::fflush(stdout);
  EXPECT_LT(peak - before, bound);

  // The scorer followed every commit.
  bool followed = false;
  for (int i = 0; i < 800 && !followed; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::GetScoreRequest request;
    request.set_entity_id(absl::StrCat("company/big-", kBigCommits - 1));
    v1::Score score;
    followed = scorer->GetScore(&context, request, &score).ok() &&
               score.graph_sequence() >= last;
    if (!followed) absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(followed) << (*sc)->Log();

  // The slow streams fell behind (3 s stall timeout, or the budget) and
  // end with RESOURCE_EXHAUSTED once their clients read. A stream whose
  // client's HTTP/2 window took every message (gRPC completed each write)
  // never fell behind: graphstore holds nothing for it, and it follows on
  // with heartbeats. It is counted apart and cancelled once it has the
  // last change, as a client that is done would.
  absl::SleepFor(absl::Seconds(4));
  int exhausted = 0;
  int delivered = 0;
  for (size_t i = 0; i < slow.size(); ++i) {
    v1::WatchChangesResponse response;
    int64_t received = 0;
    while (slow[i]->Read(&response)) {
      for (const v1::Change& change : response.changes()) {
        received = std::max(received, change.sequence());
      }
      if (received >= last) contexts[i]->TryCancel();
    }
    grpc::Status status = slow[i]->Finish();
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
        absl::StrContains(status.error_message(), "fell behind")) {
      ++exhausted;
    } else if (received >= last &&
               status.error_code() == grpc::StatusCode::CANCELLED) {
      ++delivered;
    } else {
      ADD_FAILURE() << "slow stream " << i << " ended with "
                    << status.error_code() << " (" << status.error_message()
                    << ") after sequence " << received << " of " << last;
    }
  }
  std::printf("slow streams: %d fell behind, %d took every change\n", exhausted,
              delivered);
  EXPECT_EQ(exhausted + delivered, kSlowStreams);
  // The test is about streams that fall behind: if none did, it tested
  // nothing.
  EXPECT_GT(exhausted, 0);
  EXPECT_EQ((*sc)->Stop(SIGTERM, absl::Seconds(30)).value(), 0);
  EXPECT_EQ((*gs)->Stop(SIGTERM, absl::Seconds(30)).value(), 0);
}

}  // namespace
}  // namespace georisk
