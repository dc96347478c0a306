// Writes across graphstore shards, through the real processes: three
// graphstore shards on loopback under one partition map, and ingest routing
// to them (--graphstore_shards). The same import into one unpartitioned
// graphstore is the reference: each entity's shard answers the same
// entities and edges as the one store. A shard killed with SIGKILL during an
// import fails the import with a resume index (naming the shard); while it
// is down, writes to the other shards' partitions succeed and a write to its
// partitions is UNAVAILABLE with a retry hint naming it; once it is back on
// the same address, nothing acknowledged is lost, the refused write goes
// through when sent again, resuming the import completes it, and every edge
// has both of its copies. The shards run with --shard_peers: after each
// import every shard's outbox is delivered (pending 0 on /metrics).
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/partition_map.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::PickFreePort;
using ::georisk::testing::ResumeFrom;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;

std::string Company(int i) { return absl::StrCat("company/c", i); }

// `n` companies, then edges c_i -> c_{i+1} and c_i -> c_{i+7} (most of them
// across shards), as JSON Lines, each record with an idempotency key.
std::string Graph(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, R"({"upsert_entity": {"id": ")", Company(i),
                    R"(", "kind": "COMPANY", "name": "C)", i,
                    R"(", "country": "TW", "source": "test"}, )",
                    R"("idempotency_key": "c)", i, R"("})", "\n");
  }
  for (int step : {1, 7}) {
    for (int i = 0; i + step < n; ++i) {
      absl::StrAppend(&out, R"({"upsert_edge": {"from_id": ")", Company(i),
                      R"(", "to_id": ")", Company(i + step),
                      R"(", "kind": "SUPPLIES", "weight": 0.5, )",
                      R"("source": "test"}, "idempotency_key": "e)", i, "-",
                      step, R"("})", "\n");
    }
  }
  return out;
}

class ShardRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("shard_routing");
    std::ofstream(dir_ + "/map.txt") << kMap << "\n";
  }

  void TearDown() override {
    std::vector<ServiceProcess*> all = {ingest_.get(), single_.get()};
    for (auto& s : shards_) all.push_back(s.get());
    for (ServiceProcess* p : all) {
      if (p != nullptr && p->running()) {
        p->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
      }
    }
  }

  std::unique_ptr<ServiceProcess> StartGraphStore(
      const std::string& data, const std::string& listen,
      std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--data_dir=" + data, "--sync=false",
                                     "--listen=" + listen};
    args.insert(args.end(), more.begin(), more.end());
    auto gs = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"), args, dir_});
    EXPECT_TRUE(gs.ok()) << gs.status();
    if (!gs.ok()) return nullptr;
    EXPECT_TRUE(
        common::WaitForServing((*gs)->address(), "", absl::Seconds(30)).ok());
    return *std::move(gs);
  }

  void StartShard(int i) {
    // Each shard's outbox delivers to the others (their addresses are
    // chosen before any starts).
    shards_[i] =
        StartGraphStore(absl::StrCat(dir_, "/graphstore-", i), shard_listen_[i],
                        {"--partition_map_file=" + dir_ + "/map.txt",
                         absl::StrCat("--shard_index=", i),
                         "--shard_peers=" + absl::StrJoin(shard_listen_, ",")});
    ASSERT_NE(shards_[i], nullptr);
  }

  // The sum over every shard and peer of georisk_graphstore_outbox_pending.
  double OutboxPending() {
    double sum = 0;
    for (auto& s : shards_) {
      absl::StatusOr<testing::HttpResult> got =
          testing::HttpGet(s->metrics_port(), "/metrics");
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok()) return -1;
      for (absl::string_view line : absl::StrSplit(got->body, '\n')) {
        if (!absl::ConsumePrefix(&line, "georisk_graphstore_outbox_pending{")) {
          continue;
        }
        double v = 0;
        if (!absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return -1;
        sum += v;
      }
    }
    return sum;
  }

  // Waits (at most 30 s) until every shard's outbox is delivered.
  void ExpectOutboxesDrain() {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    double pending = OutboxPending();
    while (pending != 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));
      pending = OutboxPending();
    }
    EXPECT_EQ(pending, 0);
    if (pending == 0) return;
    // Which shard holds what, for the failure's reader.
    for (auto& s : shards_) {
      absl::StatusOr<testing::HttpResult> got =
          testing::HttpGet(s->metrics_port(), "/metrics");
      if (!got.ok()) continue;
      for (absl::string_view line : absl::StrSplit(got->body, '\n')) {
        if (absl::StartsWith(line, "georisk_graphstore_outbox_")) {
          std::printf("%s %s\n", s->address().c_str(),
                      std::string(line).c_str());
        }
      }
    }
  }

  void StartShardsAndIngest(std::vector<std::string> ingest_args) {
    std::vector<std::string> targets;
    for (int i = 0; i < kShards; ++i) {
      shard_listen_[i] = absl::StrCat("127.0.0.1:", PickFreePort());
    }
    for (int i = 0; i < kShards; ++i) {
      StartShard(i);
      targets.push_back(shards_[i]->address());
    }
    ingest_args.push_back("--graphstore=" + targets[0]);
    ingest_args.push_back("--graphstore_shards=" + absl::StrJoin(targets, ","));
    ingest_args.push_back("--partition_map_file=" + dir_ + "/map.txt");
    ingest_args.push_back("--resolve_on_import=false");
    auto in = ServiceProcess::Start(
        {Runfile("services/ingest/ingest"), ingest_args, dir_});
    ASSERT_TRUE(in.ok()) << in.status();
    ingest_ = std::move(*in);
    ASSERT_TRUE(
        common::WaitForServing(ingest_->address(), "", absl::Seconds(30)).ok())
        << ingest_->Log();
  }

  CommandResult Import(const std::string& ingest,
                       std::vector<std::string> args) {
    args.insert(args.begin(), "import");
    args.push_back("--ingest=" + ingest);
    args.push_back("--progress=none");
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
  }

  // One stub per address, kept.
  v1::GraphStore::Stub* Stub(const std::string& addr) {
    std::unique_ptr<v1::GraphStore::Stub>& stub = stubs_[addr];
    if (stub == nullptr) {
      stub = v1::GraphStore::NewStub(
          grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    }
    return stub.get();
  }

  // "from->to" of every edge of `id` in `direction`, as `addr` answers.
  std::set<std::string> Edges(const std::string& addr, const std::string& id,
                              v1::Direction direction) {
    std::set<std::string> out;
    v1::GraphStore::Stub* stub = Stub(addr);
    v1::ListEdgesRequest request;
    request.set_entity_id(id);
    request.set_direction(direction);
    request.set_page_size(1000);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListEdgesResponse response;
    const grpc::Status s = stub->ListEdges(&context, request, &response);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    for (const v1::Edge& e : response.edges()) {
      out.insert(absl::StrCat(e.from_id(), "->", e.to_id()));
    }
    return out;
  }

  v1::GetStatsResponse Stats(const std::string& addr) {
    v1::GraphStore::Stub* stub = Stub(addr);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStatsResponse stats;
    EXPECT_TRUE(stub->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats;
  }

  std::string ShardOf(const std::string& id) const {
    return shards_[map_.ShardOf(id)]->address();
  }

  // Every entity and both copies of every edge of Graph(n), on the shard
  // each belongs to (and `extra` entities more); `reference`, when given,
  // answers the same.
  void ExpectWholeGraph(int n, const std::string& reference = "",
                        int extra = 0) {
    int64_t entities = 0, edges = 0;
    for (auto& s : shards_) {
      const v1::GetStatsResponse stats = Stats(s->address());
      entities += stats.entity_count();
      edges += stats.edge_count();
    }
    EXPECT_EQ(entities, n + extra);
    EXPECT_EQ(edges, (n - 1) + (n - 7));  // Counted once, by the out-copy.
    for (int i = 0; i < n; ++i) {
      const std::string id = Company(i);
      std::set<std::string> out, in;
      for (int step : {1, 7}) {
        if (i + step < n) out.insert(id + "->" + Company(i + step));
        if (i - step >= 0) in.insert(Company(i - step) + "->" + id);
      }
      EXPECT_EQ(Edges(ShardOf(id), id, v1::DIRECTION_OUTBOUND), out) << id;
      EXPECT_EQ(Edges(ShardOf(id), id, v1::DIRECTION_INBOUND), in) << id;
      if (!reference.empty()) {
        EXPECT_EQ(Edges(reference, id, v1::DIRECTION_OUTBOUND), out) << id;
        EXPECT_EQ(Edges(reference, id, v1::DIRECTION_INBOUND), in) << id;
      }
    }
  }

  // IngestBatch of `records` to ingest; the trailing metadata in `*trailer`.
  grpc::Status IngestBatch(const std::vector<v1::Mutation>& records,
                           v1::IngestBatchResponse* response,
                           std::multimap<std::string, std::string>* trailer) {
    auto stub = v1::Ingest::NewStub(grpc::CreateChannel(
        ingest_->address(), grpc::InsecureChannelCredentials()));
    v1::IngestBatchRequest request;
    for (const v1::Mutation& m : records) *request.add_records() = m;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status s = stub->IngestBatch(&context, request, response);
    for (const auto& [k, v] : context.GetServerTrailingMetadata()) {
      trailer->emplace(std::string(k.data(), k.size()),
                       std::string(v.data(), v.size()));
    }
    return s;
  }

  // `n` new companies "company/<prefix>-k" whose shard is (`on_shard`) or
  // is not (!`on_shard`) `shard`.
  std::vector<v1::Mutation> Companies(const std::string& prefix, int n,
                                      int shard, bool on_shard) const {
    std::vector<v1::Mutation> out;
    for (int k = 0; static_cast<int>(out.size()) < n; ++k) {
      const std::string id = absl::StrCat("company/", prefix, "-", k);
      if ((map_.ShardOf(id) == shard) != on_shard) continue;
      v1::Entity* e = out.emplace_back().mutable_upsert_entity();
      e->set_id(id);
      e->set_kind(v1::Entity::COMPANY);
      e->set_name(id);
      e->set_country("TW");
      e->set_source("test");
    }
    return out;
  }

  bool Exists(const std::string& id) {
    v1::GetEntityRequest request;
    request.set_id(id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::Entity entity;
    return Stub(ShardOf(id))->GetEntity(&context, request, &entity).ok();
  }

  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
  std::string dir_;
  std::string shard_listen_[kShards];
  std::unique_ptr<ServiceProcess> shards_[kShards];
  std::unique_ptr<ServiceProcess> ingest_;
  std::unique_ptr<ServiceProcess> single_;
  std::map<std::string, std::unique_ptr<v1::GraphStore::Stub>> stubs_;
};

TEST_F(ShardRoutingTest, ThreeShardsAnswerWhatOneGraphstoreAnswers) {
  constexpr int kCompanies = 300;
  StartShardsAndIngest({"--batch_size=100"});
  std::ofstream(dir_ + "/graph.jsonl") << Graph(kCompanies);
  CommandResult sharded = Import(ingest_->address(), {dir_ + "/graph.jsonl"});
  ASSERT_EQ(sharded.code, 0) << sharded.out << sharded.err;
  const int64_t records = kCompanies + (kCompanies - 1) + (kCompanies - 7);
  EXPECT_EQ(SummaryValue(sharded.out, "accepted"), records);
  // Every shard holds part of the graph.
  for (auto& s : shards_) EXPECT_GT(Stats(s->address()).entity_count(), 50);

  // The reference: one unpartitioned graphstore and its own ingest.
  single_ = StartGraphStore(dir_ + "/single", "127.0.0.1:0");
  ASSERT_NE(single_, nullptr);
  auto single_ingest =
      ServiceProcess::Start({Runfile("services/ingest/ingest"),
                             {"--graphstore=" + single_->address(),
                              "--batch_size=100", "--resolve_on_import=false"},
                             dir_});
  ASSERT_TRUE(single_ingest.ok()) << single_ingest.status();
  ASSERT_TRUE(
      common::WaitForServing((*single_ingest)->address(), "", absl::Seconds(30))
          .ok());
  CommandResult one =
      Import((*single_ingest)->address(), {dir_ + "/graph.jsonl"});
  ASSERT_EQ(one.code, 0) << one.out << one.err;
  EXPECT_EQ(SummaryValue(one.out, "accepted"), records);
  EXPECT_EQ((*single_ingest)->Stop(SIGTERM, absl::Seconds(20)).value(), 0);

  ExpectWholeGraph(kCompanies, single_->address());
  // The shards' outboxes (both copies were written by ingest: each delivery
  // is a duplicate) are delivered.
  ExpectOutboxesDrain();

  // Imported again: every record is a duplicate on every shard.
  CommandResult again = Import(ingest_->address(), {dir_ + "/graph.jsonl"});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_EQ(SummaryValue(again.out, "duplicates"), records);
  // A shard refuses what is another's, naming the owner.
  v1::GraphStore::Stub* stub = Stub(shards_[0]->address());
  const std::string elsewhere = [&] {
    for (int i = 0;; ++i) {
      if (map_.ShardOf(Company(i)) != 0) return Company(i);
    }
  }();
  v1::GetEntityRequest get;
  get.set_id(elsewhere);
  grpc::ClientContext context;
  v1::Entity entity;
  const grpc::Status refused = stub->GetEntity(&context, get, &entity);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              HasSubstr(absl::StrCat("owned by shard graphstore-",
                                     map_.ShardOf(elsewhere))));
}

TEST_F(ShardRoutingTest,
       AShardKilledMidImportLosesNothingAndTheResumeConverges) {
  constexpr int kCompanies = 6000;
  StartShardsAndIngest({"--batch_size=100", "--retry_deadline=1s"});
  std::ofstream(dir_ + "/graph.jsonl") << Graph(kCompanies);

  CommandResult first;
  std::thread import(
      [&] { first = Import(ingest_->address(), {dir_ + "/graph.jsonl"}); });
  // Kill shard 1 once the import is into the edges (the entities come
  // first: 6,000 of 17,993 records).
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (absl::Now() < give_up &&
         Stats(shards_[1]->address()).edge_count() < 500) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(shards_[1]->Stop(SIGKILL, absl::Seconds(10)).ok());
  import.join();
  ASSERT_EQ(first.code, 3) << first.out << first.err;
  EXPECT_THAT(first.err, HasSubstr("graphstore-1"));
  const int64_t resume = ResumeFrom(first.err);
  ASSERT_GE(resume, kCompanies) << first.err;

  // While shard 1 is down, writes to the other shards' partitions go on...
  std::multimap<std::string, std::string> trailer;
  v1::IngestBatchResponse live;
  const std::vector<v1::Mutation> elsewhere = Companies("live", 20, 1, false);
  grpc::Status s = IngestBatch(elsewhere, &live, &trailer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(live.summary().accepted(), 20);
  // ... and a write to its partitions is UNAVAILABLE, naming the shard and
  // when to retry.
  const std::vector<v1::Mutation> on_down = Companies("down", 1, 1, true);
  v1::IngestBatchResponse refused;
  trailer.clear();
  s = IngestBatch(on_down, &refused, &trailer);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("graphstore-1"));
  EXPECT_THAT(s.error_message(), HasSubstr("resend from index 0"));
  auto hint = [&](const std::string& key) {
    auto it = trailer.find(key);
    return it == trailer.end() ? std::string("(none)") : it->second;
  };
  EXPECT_EQ(hint("grpc-retry-pushback-ms"), "2000");
  EXPECT_EQ(hint("georisk-unavailable-shard"), "graphstore-1");

  StartShard(1);  // The same address and data.
  // The refused write, sent again, is written; what was acknowledged while
  // the shard was down is still there.
  trailer.clear();
  s = IngestBatch(on_down, &refused, &trailer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(refused.summary().accepted(), 1);
  for (const v1::Mutation& m : elsewhere) {
    EXPECT_TRUE(Exists(m.upsert_entity().id())) << m.upsert_entity().id();
  }
  EXPECT_TRUE(Exists(on_down[0].upsert_entity().id()));
  CommandResult second =
      Import(ingest_->address(),
             {dir_ + "/graph.jsonl", absl::StrCat("--resume_from=", resume)});
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  const int64_t records = kCompanies + (kCompanies - 1) + (kCompanies - 7);
  EXPECT_EQ(SummaryValue(second.out, "sent"), records - resume);
  EXPECT_EQ(SummaryValue(second.out, "accepted") +
                SummaryValue(second.out, "duplicates"),
            records - resume);
  ExpectWholeGraph(kCompanies, "", 21);
  ExpectOutboxesDrain();
  std::printf("shard 1 killed after %lld of %lld records were handled\n",
              static_cast<long long>(resume), static_cast<long long>(records));
}

}  // namespace
}  // namespace georisk
