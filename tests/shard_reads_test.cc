// Reads across graphstore shards, through the real processes: three shards
// on loopback, each a router (--route, --route_shards), written by ingest
// (--graphstore_shards), against one unpartitioned graphstore (ServiceStack)
// written by its own ingest with the same demo dataset. Every read, asked of
// every shard, answers what the one graphstore answers: GetEntity of every
// entity, ListEdges of every entity in every direction page by page,
// ListSignals page by page, Traverse, ExportSnapshot as a set; a tampered
// page token is INVALID_ARGUMENT naming page_token; a shard down makes only
// reads that need it fail, UNAVAILABLE naming it.
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/partition_map.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"
#include "tests/testing/sharded_graph.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceStack;
using ::georisk::testing::ShardedGraph;
using ::georisk::testing::ShardedGraphOptions;
using ::georisk::testing::StackOptions;
using ::georisk::testing::SummaryValue;
using ::testing::HasSubstr;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;

// Clears what two stores set differently for the same record, in `m` and
// the messages it holds: the commit, and the origin (each import names its
// own start time, which differs when the two imports straddle a second).
void ClearStoreFields(google::protobuf::Message* m) {
  const auto* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (const char* name : {"update_sequence", "update_time", "update_origin"}) {
    if (const auto* f = d->FindFieldByName(name)) r->ClearField(m, f);
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
        !f->is_repeated() && r->HasField(*m, f)) {
      ClearStoreFields(r->MutableMessage(m, f));
    }
  }
}

template <typename M>
std::string Text(M m) {
  ClearStoreFields(&m);
  return m.ShortDebugString();
}

template <typename Repeated>
std::vector<std::string> Texts(const Repeated& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(Text(r));
  return out;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return context;
}

class ShardReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("shard_reads");
    StackOptions options;
    options.dir = dir_ + "/single";
    // As the sharded ingest: resolution across shards is not done, and
    // resolving would add links to one graph only.
    options.ingest_args = {"--resolve_on_import=false"};
    ASSERT_EQ(system(("mkdir -p " + options.dir).c_str()), 0);
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    single_ = *std::move(stack);

    ShardedGraphOptions sharded;
    sharded.dir = dir_;
    sharded.map = kMap;
    sharded.shards = kShards;
    // Every shard is also a router, as every pod in prod.
    sharded.route = true;
    auto graph = ShardedGraph::Start(sharded);
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = *std::move(graph);

    for (const std::string& ingest :
         {single_->ingest()->address(), graph_->ingest()->address()}) {
      CommandResult r = RunCommand(
          dir_, Runfile("services/georiskctl/georiskctl"),
          {"import", Runfile("data/demo/entities.jsonl"),
           Runfile("data/demo/edges.jsonl"), Runfile("data/demo/signals.jsonl"),
           "--ingest=" + ingest, "--progress=none"});
      ASSERT_EQ(r.code, 0) << r.out << r.err;
      EXPECT_EQ(SummaryValue(r.out, "accepted"), 568) << r.out;
    }
    reference_ = Stub(single_->graphstore()->address());
  }

  void TearDown() override {
    graph_.reset();
    if (single_ != nullptr) {
      EXPECT_TRUE(single_->Stop().ok());
    }
  }

  v1::GraphStore::Stub* Stub(const std::string& addr) {
    std::unique_ptr<v1::GraphStore::Stub>& stub = stubs_[addr];
    if (stub == nullptr) {
      stub = v1::GraphStore::NewStub(
          grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    }
    return stub.get();
  }

  // Every entity id of the graph, from the one store's export.
  std::vector<std::string> EntityIds() {
    std::vector<std::string> ids;
    auto context = Context();
    auto reader =
        reference_->ExportSnapshot(context.get(), v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse m;
    while (reader->Read(&m)) {
      for (const v1::Entity& e : m.entities()) ids.push_back(e.id());
    }
    EXPECT_TRUE(reader->Finish().ok());
    return ids;
  }

  // Every record of an export, as text, sorted; and the shards it named.
  std::vector<std::string> Export(v1::GraphStore::Stub* stub,
                                  std::set<int>* shards = nullptr) {
    std::vector<std::string> out;
    auto context = Context();
    auto reader =
        stub->ExportSnapshot(context.get(), v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse m;
    while (reader->Read(&m)) {
      if (shards != nullptr) shards->insert(m.shard());
      for (auto& t : Texts(m.entities())) out.push_back(t);
      for (auto& t : Texts(m.edges())) out.push_back(t);
      for (auto& t : Texts(m.signals())) out.push_back(t);
      for (auto& t : Texts(m.links())) out.push_back(t);
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every page of ListSignals, as `stub` answers.
  std::vector<std::vector<std::string>> SignalPages(
      v1::GraphStore::Stub* stub, v1::ListSignalsRequest request) {
    std::vector<std::vector<std::string>> pages;
    do {
      v1::ListSignalsResponse response;
      grpc::Status s = stub->ListSignals(Context().get(), request, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      pages.push_back(Texts(response.signals()));
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return pages;
  }

  std::string dir_;
  std::unique_ptr<ServiceStack> single_;
  std::unique_ptr<ShardedGraph> graph_;
  std::map<std::string, std::unique_ptr<v1::GraphStore::Stub>> stubs_;
  v1::GraphStore::Stub* reference_ = nullptr;
  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
};

TEST_F(ShardReadsTest, EveryShardAnswersWhatOneGraphstoreAnswers) {
  const std::vector<std::string> ids = EntityIds();
  ASSERT_GT(ids.size(), 100u);
  std::set<int> owners;
  for (const std::string& id : ids) owners.insert(map_.ShardOf(id));
  ASSERT_EQ(owners.size(), 3u);  // The demo spans every shard.

  for (int s = 0; s < kShards; ++s) {
    SCOPED_TRACE(absl::StrCat("asking graphstore-", s));
    v1::GraphStore::Stub* shard = Stub(graph_->listen(s));
    for (const std::string& id : ids) {
      v1::GetEntityRequest get;
      get.set_id(id);
      v1::Entity want, got;
      ASSERT_TRUE(reference_->GetEntity(Context().get(), get, &want).ok());
      grpc::Status status = shard->GetEntity(Context().get(), get, &got);
      ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
      EXPECT_EQ(Text(got), Text(want));
      for (v1::Direction d : {v1::DIRECTION_OUTBOUND, v1::DIRECTION_INBOUND,
                              v1::DIRECTION_BOTH}) {
        v1::ListEdgesRequest q;
        q.set_entity_id(id);
        q.set_direction(d);
        q.set_page_size(3);
        v1::ListEdgesRequest r = q;
        do {
          v1::ListEdgesResponse want_edges, got_edges;
          ASSERT_TRUE(
              reference_->ListEdges(Context().get(), q, &want_edges).ok());
          status = shard->ListEdges(Context().get(), r, &got_edges);
          ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
          EXPECT_EQ(Texts(got_edges.edges()), Texts(want_edges.edges()));
          q.set_page_token(want_edges.next_page_token());
          r.set_page_token(got_edges.next_page_token());
        } while (!q.page_token().empty() && !r.page_token().empty());
        EXPECT_EQ(q.page_token().empty(), r.page_token().empty());
      }
    }
    v1::GetEntityRequest missing;
    missing.set_id("company/no-such-company");
    v1::Entity none;
    grpc::Status want = reference_->GetEntity(Context().get(), missing, &none);
    grpc::Status got = shard->GetEntity(Context().get(), missing, &none);
    EXPECT_EQ(got.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(got.error_message(), want.error_message());

    for (int size : {1, 7, 100}) {
      v1::ListSignalsRequest q;
      q.set_page_size(size);
      // (EXPECT_TRUE: the pages are too long to print.)
      EXPECT_TRUE(SignalPages(shard, q) == SignalPages(reference_, q))
          << "page size " << size;
    }
    v1::ListSignalsRequest export_controls;
    export_controls.add_kinds(v1::SIGNAL_KIND_EXPORT_CONTROL);
    export_controls.set_page_size(2);
    EXPECT_TRUE(SignalPages(shard, export_controls) ==
                SignalPages(reference_, export_controls));

    for (v1::Direction d :
         {v1::DIRECTION_OUTBOUND, v1::DIRECTION_INBOUND, v1::DIRECTION_BOTH}) {
      for (int depth : {1, 3}) {
        v1::TraverseRequest t;
        t.add_start_ids("company/tsmc");
        t.add_start_ids("company/nvidia");
        t.set_direction(d);
        t.set_max_depth(depth);
        t.set_include_edges(true);
        v1::TraverseResponse want_t, got_t;
        ASSERT_TRUE(reference_->Traverse(Context().get(), t, &want_t).ok());
        grpc::Status status = shard->Traverse(Context().get(), t, &got_t);
        ASSERT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(Texts(got_t.entities()), Texts(want_t.entities()));
        EXPECT_EQ(Texts(got_t.edges()), Texts(want_t.edges()));
        EXPECT_EQ(got_t.truncated(), want_t.truncated());
        EXPECT_GT(got_t.entities_size(), 2);
      }
    }

    std::set<int> exported;
    const std::vector<std::string> routed = Export(shard, &exported);
    const std::vector<std::string> one = Export(reference_);
    EXPECT_GT(one.size(), 500u);
    EXPECT_TRUE(routed == one)
        << routed.size() << " records against " << one.size();
    EXPECT_EQ(exported, (std::set<int>{0, 1, 2}));
  }
}

TEST_F(ShardReadsTest, ATamperedPageTokenIsInvalidArgument) {
  v1::ListSignalsRequest q;
  q.set_page_size(2);
  v1::ListSignalsResponse first;
  ASSERT_TRUE(
      Stub(graph_->listen(0))->ListSignals(Context().get(), q, &first).ok());
  std::string token = first.next_page_token();
  ASSERT_FALSE(token.empty());
  // Any shard resumes a token another shard issued.
  q.set_page_token(token);
  v1::ListSignalsResponse second;
  ASSERT_TRUE(
      Stub(graph_->listen(2))->ListSignals(Context().get(), q, &second).ok());
  EXPECT_EQ(second.signals_size(), 2);
  token[token.size() / 2] = token[token.size() / 2] == 'x' ? 'y' : 'x';
  q.set_page_token(token);
  grpc::Status s =
      Stub(graph_->listen(1))->ListSignals(Context().get(), q, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
}

TEST_F(ShardReadsTest, AShardDownFailsOnlyTheReadsThatNeedIt) {
  std::string on1, on0;
  for (const std::string& id : EntityIds()) {
    if (map_.ShardOf(id) == 1 && on1.empty()) on1 = id;
    if (map_.ShardOf(id) == 0 && on0.empty()) on0 = id;
  }
  ASSERT_TRUE(graph_->shard(1)->Stop(SIGKILL, absl::Seconds(10)).ok());
  v1::GraphStore::Stub* entry = Stub(graph_->listen(2));
  v1::GetEntityRequest get;
  v1::Entity e;
  get.set_id(on0);
  EXPECT_TRUE(entry->GetEntity(Context().get(), get, &e).ok());
  get.set_id(on1);
  std::unique_ptr<grpc::ClientContext> context = Context();
  grpc::Status s = entry->GetEntity(context.get(), get, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("graphstore-1: "));
  // The retry hint of writes: when, and which shard to wait for.
  std::map<std::string, std::string> trailer;
  for (const auto& [k, v] : context->GetServerTrailingMetadata()) {
    trailer[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  }
  EXPECT_EQ(trailer["georisk-unavailable-shard"], "graphstore-1");
  EXPECT_EQ(trailer["grpc-retry-pushback-ms"], "2000");
  v1::ListSignalsResponse signals;
  s = entry->ListSignals(Context().get(), v1::ListSignalsRequest(), &signals);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("graphstore-1: "));
}

}  // namespace
}  // namespace georisk
