// GraphStoreService over a real RocksDbGraphStore, called through a real
// gRPC channel on a loopback port.
#include "services/graphstore/graphstore_service.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/proto_time.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/rpc_edge.h"
#include "services/common/server.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/fault_injection_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Upsert;
using ::testing::HasSubstr;

// A Taiwanese company "company/<slug>" named "Company <slug>".
v1::Mutation Company(const std::string& slug) {
  return Upsert(NamedCompany("company/" + slug, "Company " + slug, "TW"));
}

// company/<from> supplies company/<to> (HS 8542).
v1::Mutation Supplies(const std::string& from, const std::string& to,
                      double weight) {
  return Upsert(
      domain::testing::Supplies("company/" + from, "company/" + to, weight));
}

TEST(DirectionFromProtoTest, MapsEveryDirectionAndRefusesUnknownOnes) {
  struct Case {
    v1::Direction in;
    storage::Direction out;
  };
  for (const Case& c : {
           Case{v1::DIRECTION_UNSPECIFIED, storage::Direction::kOutbound},
           Case{v1::DIRECTION_OUTBOUND, storage::Direction::kOutbound},
           Case{v1::DIRECTION_INBOUND, storage::Direction::kInbound},
           Case{v1::DIRECTION_BOTH, storage::Direction::kBoth},
       }) {
    absl::StatusOr<storage::Direction> d = DirectionFromProto(c.in);
    ASSERT_TRUE(d.ok()) << v1::Direction_Name(c.in) << ": " << d.status();
    EXPECT_EQ(*d, c.out) << v1::Direction_Name(c.in);
  }
  absl::StatusOr<storage::Direction> unknown =
      DirectionFromProto(static_cast<v1::Direction>(9));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "direction: unknown direction 9");
}

TEST(OutcomeToProtoTest, MapsEveryOutcome) {
  EXPECT_EQ(OutcomeToProto(storage::MutationOutcome::kApplied),
            v1::MUTATION_OUTCOME_APPLIED);
  EXPECT_EQ(OutcomeToProto(storage::MutationOutcome::kDuplicate),
            v1::MUTATION_OUTCOME_DUPLICATE);
  EXPECT_EQ(OutcomeToProto(storage::MutationOutcome::kUnchanged),
            v1::MUTATION_OUTCOME_UNCHANGED);
  EXPECT_EQ(OutcomeToProto(storage::MutationOutcome::kRejected),
            v1::MUTATION_OUTCOME_REJECTED);
}

class GraphStoreServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(GraphStoreServiceOptions service_options = {}) {
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    faults_ = std::make_unique<storage::testing::FaultInjectionGraphStore>(
        store_.get());
    registry_ = std::make_unique<common::MetricsRegistry>();
    service_ = std::make_unique<GraphStoreService>(
        faults_.get(), service_options, registry_.get());
    common::ServerOptions server_options;
    server_options.service_name = "graphstore";
    server_options.metrics_address = "";
    server_options.shutdown_grace = absl::Seconds(2);
    auto server = common::GrpcServer::Start(
        server_options, {{service_.get(), v1::GraphStore::service_full_name()}},
        registry_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->AddShutdownHook([this] { service_->Shutdown(); });
    stub_ = v1::GraphStore::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Apply(std::vector<v1::Mutation> mutations,
                     v1::ApplyResponse* response) {
    v1::ApplyRequest request;
    for (auto& m : mutations) *request.add_mutations() = m;
    request.set_origin("test");
    grpc::ClientContext context;
    return stub_->Apply(&context, request, response);
  }

  std::string dir_ = base::testing::MakeTempDir("gs");
  std::unique_ptr<storage::RocksDbGraphStore> store_;
  // The service's store: store_ behind faults a test may inject.
  std::unique_ptr<storage::testing::FaultInjectionGraphStore> faults_;
  std::unique_ptr<common::MetricsRegistry> registry_;
  std::unique_ptr<GraphStoreService> service_;
  std::unique_ptr<common::GrpcServer> server_;
  std::unique_ptr<v1::GraphStore::Stub> stub_;
  v1::WatchChangesResponse response_;
};

TEST_F(GraphStoreServiceTest, ApplyThenReadBack) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(
      Apply({Company("tsmc"), Company("apple"), Supplies("tsmc", "apple", 0.6)},
            &applied)
          .ok());
  EXPECT_EQ(applied.sequence(), 1);
  ASSERT_EQ(applied.outcomes_size(), 3);
  EXPECT_EQ(applied.outcomes(2), v1::MUTATION_OUTCOME_APPLIED);

  grpc::ClientContext context;
  v1::GetEntityRequest get;
  get.set_id("company/tsmc");
  v1::Entity entity;
  ASSERT_TRUE(stub_->GetEntity(&context, get, &entity).ok());
  EXPECT_EQ(entity.name(), "Company tsmc");
  EXPECT_EQ(entity.update_sequence(), 1);

  grpc::ClientContext edges_context;
  v1::ListEdgesRequest list;
  list.set_entity_id("company/apple");
  list.set_direction(v1::DIRECTION_INBOUND);
  v1::ListEdgesResponse edges;
  ASSERT_TRUE(stub_->ListEdges(&edges_context, list, &edges).ok());
  ASSERT_EQ(edges.edges_size(), 1);
  EXPECT_EQ(edges.edges(0).from_id(), "company/tsmc");
  EXPECT_EQ(edges.next_page_token(), "");

  grpc::ClientContext unknown_context;
  list.set_direction(static_cast<v1::Direction>(9));
  grpc::Status unknown = stub_->ListEdges(&unknown_context, list, &edges);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(unknown.error_message(), "direction: unknown direction 9");

  grpc::ClientContext stats_context;
  v1::GetStatsResponse stats;
  ASSERT_TRUE(
      stub_->GetStats(&stats_context, v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.entity_count(), 2);
  EXPECT_EQ(stats.edge_count(), 1);
  EXPECT_EQ(stats.last_sequence(), 1);
  // Unpartitioned: shard 0 of 1, owning every partition.
  EXPECT_EQ(stats.shard_index(), 0);
  EXPECT_EQ(stats.shard_count(), 1);
  EXPECT_EQ(stats.partitions(), "0-1023");
}

TEST_F(GraphStoreServiceTest, GetStatsNamesTheShardAndItsPartitions) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  faults_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.shard_index = 2;
  options.shard_count = 3;
  options.shard_partitions = "683-1023";
  Start(options);
  grpc::ClientContext context;
  v1::GetStatsResponse stats;
  ASSERT_TRUE(stub_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.shard_index(), 2);
  EXPECT_EQ(stats.shard_count(), 3);
  EXPECT_EQ(stats.partitions(), "683-1023");
}

TEST_F(GraphStoreServiceTest, BadBatchNamesTheFieldAndWritesNothing) {
  v1::ApplyResponse applied;
  grpc::Status status =
      Apply({Company("a"), Company("b"), Supplies("a", "b", 1.5)}, &applied);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("mutations[2].upsert_edge"));
  EXPECT_THAT(status.error_message(), HasSubstr("weight"));

  grpc::ClientContext context;
  v1::GetEntityRequest get;
  get.set_id("company/a");
  v1::Entity entity;
  EXPECT_EQ(stub_->GetEntity(&context, get, &entity).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(store_->LastSequence(), 0);
}

TEST_F(GraphStoreServiceTest, LookupByIdentifierFindsNormalisedAndPages) {
  std::vector<v1::Mutation> batch;
  for (const char* slug : {"smic", "smic-beijing", "smic-shanghai"}) {
    v1::Mutation m = Company(slug);
    // The same LEI under three ids (three sources' records of one party).
    (*m.mutable_upsert_entity()->mutable_identifiers())["lei"] =
        "506700GE1G29325QX363";
    batch.push_back(m);
  }
  v1::Mutation csl = Company("csl-sdn-18300");
  (*csl.mutable_upsert_entity()->mutable_identifiers())["csl_entity_number"] =
      "18300";
  batch.push_back(csl);
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply(batch, &applied).ok());

  v1::LookupByIdentifierRequest request;
  request.set_scheme("LEI");
  request.set_value("5067 00ge 1g29 325q x363");
  request.set_page_size(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 3; ++page) {
    grpc::ClientContext context;
    v1::LookupByIdentifierResponse response;
    grpc::Status s = stub_->LookupByIdentifier(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.scheme(), "lei");
    EXPECT_EQ(response.value(), "506700GE1G29325QX363");
    EXPECT_EQ(response.sequence(), 1);
    for (const v1::Entity& e : response.entities()) ids.push_back(e.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(ids,
              ::testing::ElementsAre("company/smic", "company/smic-beijing",
                                     "company/smic-shanghai"));

  grpc::ClientContext context;
  v1::LookupByIdentifierRequest by_csl;
  by_csl.set_scheme("csl_entity_number");
  by_csl.set_value("018300");
  v1::LookupByIdentifierResponse found;
  ASSERT_TRUE(stub_->LookupByIdentifier(&context, by_csl, &found).ok());
  ASSERT_EQ(found.entities_size(), 1);
  EXPECT_EQ(found.entities(0).name(), "Company csl-sdn-18300");
  EXPECT_EQ(found.entities(0).identifiers().at("csl_entity_number"), "18300");

  grpc::ClientContext none_context;
  by_csl.set_value("18301");
  v1::LookupByIdentifierResponse none;
  ASSERT_TRUE(stub_->LookupByIdentifier(&none_context, by_csl, &none).ok());
  EXPECT_EQ(none.entities_size(), 0);
  EXPECT_EQ(none.next_page_token(), "");
}

TEST_F(GraphStoreServiceTest, LookupByIdentifierNamesTheFieldAtFault) {
  struct Case {
    const char* scheme;
    const char* value;
    const char* country;
    int page_size;
    const char* page_token;
    const char* message;
  };
  const Case cases[] = {
      {"", "x", "", 0, "", "scheme: is required"},
      {"ofac", "46001", "", 0, "", "scheme: unknown identifier scheme"},
      {"lei", "", "", 0, "", "value: is required"},
      {"lei", "506700GE1G29325QX364", "", 0, "",
       "value: lei \"506700GE1G29325QX364\": ISO 7064 MOD 97-10"},
      {"lei", "5493", "", 0, "", "value: lei \"5493\": an LEI has 20"},
      {"registration", "01234567", "", 0, "",
       "value: registration \"01234567\": needs its jurisdiction"},
      {"registration", "01234567", "GBR", 0, "", "country: must be"},
      {"lei", "506700GE1G29325QX363", "", -1, "",
       "page_size: must be >= 0, got -1"},
      {"lei", "506700GE1G29325QX363", "", 0, "not-a-token", "page_token:"},
  };
  for (const Case& c : cases) {
    v1::LookupByIdentifierRequest request;
    request.set_scheme(c.scheme);
    request.set_value(c.value);
    request.set_country(c.country);
    request.set_page_size(c.page_size);
    request.set_page_token(c.page_token);
    grpc::ClientContext context;
    v1::LookupByIdentifierResponse response;
    grpc::Status s = stub_->LookupByIdentifier(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(s.error_message(), ::testing::StartsWith(c.message));
  }
}

TEST_F(GraphStoreServiceTest, WatchReplaysThenFollowsLive) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  ASSERT_TRUE(Apply({Company("b")}, &applied).ok());

  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto reader = stub_->WatchChanges(&context, request);

  std::vector<int64_t> seen;
  v1::WatchChangesResponse response;
  while (seen.size() < 2 && reader->Read(&response)) {
    for (const auto& c : response.changes()) seen.push_back(c.sequence());
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));

  // Live: a commit made after the replay arrives on the same stream.
  std::thread writer([this] {
    absl::SleepFor(absl::Milliseconds(200));
    v1::ApplyResponse r;
    EXPECT_TRUE(Apply({Company("c")}, &r).ok());
  });
  while (seen.size() < 3 && reader->Read(&response)) {
    for (const auto& c : response.changes()) {
      seen.push_back(c.sequence());
      EXPECT_EQ(c.mutations(0).upsert_entity().id(), "company/c");
    }
  }
  writer.join();
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(response.head_sequence(), 3);
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GraphStoreServiceTest, WatchFromZeroStartsAtTheOldestRetained) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  grpc::ClientContext context;
  auto reader = stub_->WatchChanges(&context, v1::WatchChangesRequest());
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_EQ(response.changes_size(), 1);
  EXPECT_EQ(response.changes(0).sequence(), 1);
  context.TryCancel();
  reader->Finish();
}

TEST_F(GraphStoreServiceTest, WatchRejectsNegativeAndTrimmedSequences) {
  {
    grpc::ClientContext context;
    v1::WatchChangesRequest request;
    request.set_from_sequence(-1);
    auto reader = stub_->WatchChanges(&context, request);
    v1::WatchChangesResponse response;
    EXPECT_FALSE(reader->Read(&response));
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("from_sequence"));
  }
  // Trim the log to its last change, then ask for the first.
  server_->Shutdown();
  server_.reset();
  service_.reset();
  faults_.reset();
  store_.reset();
  {
    storage::RocksDbGraphStoreOptions options;
    options.path = dir_ + "/graph";
    options.sync = false;
    options.changelog_retention_count = 1;
    options.changelog_trim_interval = absl::ZeroDuration();
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Apply({Company("a")}, "t").ok());
    ASSERT_TRUE((*store)->Apply({Company("b")}, "t").ok());
    ASSERT_TRUE((*store)->TrimChangeLog(absl::Now()).ok());
  }
  Start();
  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto reader = stub_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

// Opens a WatchChanges stream and returns how it ended, having read nothing.
grpc::Status RefusedWatch(v1::GraphStore::Stub* stub,
                          const v1::WatchChangesRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = stub->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  EXPECT_FALSE(reader->Read(&response));
  return reader->Finish();
}

TEST_F(GraphStoreServiceTest, WatchPastTheHeadIsOutOfRangeNamingIt) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  ASSERT_TRUE(Apply({Company("b")}, &applied).ok());
  v1::WatchChangesRequest request;
  request.set_from_sequence(4);  // Head 2: the next commit is 3.
  grpc::Status status = RefusedWatch(stub_.get(), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(), HasSubstr("past the head, sequence 2"));

  // head + 1 is the next commit: accepted, and it waits for it.
  grpc::ClientContext context;
  request.set_from_sequence(3);
  auto reader = stub_->WatchChanges(&context, request);
  ASSERT_TRUE(Apply({Company("c")}, &applied).ok());
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_EQ(response.changes_size(), 1);
  EXPECT_EQ(response.changes(0).sequence(), 3);
  context.TryCancel();
  reader->Finish();
}

TEST_F(GraphStoreServiceTest, EveryWatchMessageAndSnapshotChunkCarriesTheId) {
  const std::string id = store_->GraphId();
  ASSERT_TRUE(storage::IsGraphId(id));
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    ASSERT_TRUE(stub_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    EXPECT_EQ(stats.graph_id(), id);
  }
  {
    grpc::ClientContext context;
    auto reader = stub_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
    v1::ExportSnapshotResponse chunk;
    int chunks = 0;
    while (reader->Read(&chunk)) {
      EXPECT_EQ(chunk.graph_id(), id);
      ++chunks;
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(chunks, 1);
  }
  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  request.set_graph_id(id);  // The right graph: accepted.
  auto reader = stub_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.changes_size(), 1);
  EXPECT_EQ(response.graph_id(), id);
  context.TryCancel();
  reader->Finish();
}

TEST_F(GraphStoreServiceTest, WatchWithAnotherGraphIdIsFailedPrecondition) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  const std::string other = "0123456789abcdef0123456789abcdef";
  ASSERT_NE(other, store_->GraphId());
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  request.set_graph_id(other);
  grpc::Status status = RefusedWatch(stub_.get(), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr(other));
  EXPECT_THAT(status.error_message(), HasSubstr(store_->GraphId()));

  request.set_graph_id("not-an-id");
  status = RefusedWatch(stub_.get(), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("graph_id"));
}

// A company with about `bytes` of aliases (under the 1 MiB record cap).
v1::Mutation BigCompany(const std::string& slug, size_t bytes) {
  v1::Mutation m = Company(slug);
  for (size_t i = 0; i < bytes / 500; ++i) {
    m.mutable_upsert_entity()->add_aliases(std::string(495, 'a' + i % 26));
  }
  return m;
}

// Reads a stream to its end; returns its status and how many changes came.
grpc::Status Drain(
    grpc::ClientReaderInterface<v1::WatchChangesResponse>* reader,
    int* changes) {
  v1::WatchChangesResponse response;
  while (reader->Read(&response)) *changes += response.changes_size();
  return reader->Finish();
}

TEST_F(GraphStoreServiceTest, StreamThatDoesNotReadIsEndedForFallingBehind) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.watch_stall_timeout = absl::Milliseconds(300);
  options.watch_batch_changes = 1;
  Start(options);

  grpc::ClientContext slow_context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto slow = stub_->WatchChanges(&slow_context, request);  // Never read...
  // ...while 24 MB of changes are committed: far more than gRPC's windows.
  v1::ApplyResponse applied;
  for (int i = 0; i < 24; ++i) {
    ASSERT_TRUE(
        Apply({BigCompany(absl::StrCat("big", i), 1000000)}, &applied).ok());
  }
  // A reader that keeps up is not affected.
  grpc::ClientContext fast_context;
  auto fast = stub_->WatchChanges(&fast_context, request);
  int fast_changes = 0;
  v1::WatchChangesResponse response;
  while (fast_changes < 24 && fast->Read(&response)) {
    fast_changes += response.changes_size();
  }
  EXPECT_EQ(fast_changes, 24);
  absl::SleepFor(absl::Seconds(2));

  int slow_changes = 0;
  grpc::Status status = Drain(slow.get(), &slow_changes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("fell behind"));
  EXPECT_LT(slow_changes, 24);
  EXPECT_THAT(registry_->Render(),
              HasSubstr("georisk_graphstore_watch_streams_ended_behind 1"));
  fast_context.TryCancel();
  fast->Finish();
}

TEST_F(GraphStoreServiceTest, BufferBudgetEndsSlowOutsideStreamsNotService) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.watch_stall_timeout = absl::ZeroDuration();
  options.watch_max_buffered_bytes = 1500000;  // Room for one big message.
  options.watch_batch_changes = 1;
  Start(options);

  v1::WatchChangesRequest outside;
  outside.set_from_sequence(1);
  v1::WatchChangesRequest service = outside;
  service.set_follower_class(v1::FOLLOWER_CLASS_SERVICE);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>>>
      slow;
  for (int i = 0; i < 4; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    slow.push_back(stub_->WatchChanges(contexts.back().get(), outside));
  }
  contexts.push_back(std::make_unique<grpc::ClientContext>());
  auto slow_service = stub_->WatchChanges(contexts.back().get(), service);
  v1::ApplyResponse applied;
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(
        Apply({BigCompany(absl::StrCat("big", i), 1000000)}, &applied).ok());
  }
  absl::SleepFor(absl::Seconds(1));
  // The budget held one message at a time for the outside streams: the
  // others were ended, and their clients get the code once they read.
  int ended = 0;
  for (auto& reader : slow) {
    int changes = 0;
    grpc::Status status = Drain(reader.get(), &changes);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(status.error_message(), HasSubstr("buffers are full"));
      ++ended;
    }
  }
  EXPECT_GE(ended, 3);
  // The service stream was never refused for the budget: it gets all.
  int changes = 0;
  while (changes < 16 && slow_service->Read(&response_)) {
    changes += response_.changes_size();
  }
  EXPECT_EQ(changes, 16);
  contexts.back()->TryCancel();
  slow_service->Finish();
}

TEST_F(GraphStoreServiceTest, ServiceFollowersHaveAReservedPool) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.max_watch_streams = 2;
  options.reserved_watch_streams = 1;
  Start(options);
  v1::WatchChangesRequest outside;
  outside.set_from_sequence(1);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>>>
      open;
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    open.push_back(stub_->WatchChanges(contexts.back().get(), outside));
    v1::WatchChangesResponse response;
    ASSERT_TRUE(open.back()->Read(&response));  // Open and streaming.
  }
  grpc::Status refused = RefusedWatch(stub_.get(), outside);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The scorer still gets in.
  v1::WatchChangesRequest service = outside;
  service.set_follower_class(v1::FOLLOWER_CLASS_SERVICE);
  grpc::ClientContext context;
  auto reader = stub_->WatchChanges(&context, service);
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.changes_size(), 1);
  // Its pool is full too now.
  refused = RefusedWatch(stub_.get(), service);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("FOLLOWER_CLASS_SERVICE"));
  context.TryCancel();
  reader->Finish();
  for (auto& c : contexts) c->TryCancel();
  for (auto& r : open) r->Finish();
}

TEST_F(GraphStoreServiceTest, IdleWatchGetsHeartbeatsWithTheHead) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.watch_heartbeat = absl::Milliseconds(100);
  Start(options);
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());

  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(2);  // Nothing to replay: idle from the start.
  auto reader = stub_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.changes_size(), 0);
  EXPECT_EQ(response.head_sequence(), 1);
  context.TryCancel();
  reader->Finish();
}

// A stream may ask for its own heartbeat interval; every message carries
// the store's commit watermark with its head.
TEST_F(GraphStoreServiceTest, AWatchAsksForItsHeartbeatAndGetsTheWatermark) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.watch_heartbeat = absl::Hours(1);
  Start(options);
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());

  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  request.mutable_heartbeat_interval()->set_nanos(100'000'000);
  auto reader = stub_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_EQ(response.changes_size(), 1);
  EXPECT_EQ(response.head_sequence(), 1);
  ASSERT_TRUE(response.has_commit_watermark());
  const absl::Time first = base::FromProtoTime(response.commit_watermark());
  EXPECT_GE(first, base::FromProtoTime(applied.commit_time()));
  // Then heartbeats, about every 100 ms (the server's own is an hour), each
  // with a watermark that does not go back.
  const absl::Time start = absl::Now();
  absl::Time last = first;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.changes_size(), 0);
    EXPECT_EQ(response.head_sequence(), 1);
    ASSERT_TRUE(response.has_commit_watermark());
    const absl::Time mark = base::FromProtoTime(response.commit_watermark());
    EXPECT_GE(mark, last);
    last = mark;
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // The next commit is no earlier than the last watermark.
  ASSERT_TRUE(Apply({Company("b")}, &applied).ok());
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_EQ(response.changes_size(), 1);
  EXPECT_GE(base::FromProtoTime(response.changes(0).commit_time()), last);
  context.TryCancel();
  reader->Finish();
}

TEST_F(GraphStoreServiceTest, AHeartbeatIntervalOutOfRangeIsRefused) {
  for (int64_t millis : {-1, 50, 11 * 60 * 1000}) {
    grpc::ClientContext context;
    v1::WatchChangesRequest request;
    request.set_from_sequence(1);
    request.mutable_heartbeat_interval()->set_seconds(millis / 1000);
    request.mutable_heartbeat_interval()->set_nanos(
        static_cast<int32_t>((millis % 1000) * 1'000'000));
    auto reader = stub_->WatchChanges(&context, request);
    v1::WatchChangesResponse response;
    EXPECT_FALSE(reader->Read(&response));
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << millis;
    EXPECT_THAT(status.error_message(), HasSubstr("heartbeat_interval: "));
  }
}

TEST_F(GraphStoreServiceTest, ShutdownEndsWatchStreamsWithUnavailable) {
  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto reader = stub_->WatchChanges(&context, request);
  // Let the stream park, then shut the server down: it must not hang.
  absl::SleepFor(absl::Milliseconds(200));
  absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  v1::WatchChangesResponse response;
  EXPECT_FALSE(reader->Read(&response));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("resume from sequence 1"));
}

TEST_F(GraphStoreServiceTest, CancelledWatchDoesNotHoldShutdown) {
  // One change per message and many of them, so that the client's cancel
  // arrives while a write is pending: the stream must still finish.
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.watch_batch_changes = 1;
  options.watch_heartbeat = absl::Hours(1);
  Start(options);
  for (int i = 0; i < 300; ++i) {
    v1::ApplyResponse applied;
    ASSERT_TRUE(Apply({Company(absl::StrCat("c", i))}, &applied).ok());
  }
  for (int round = 0; round < 5; ++round) {
    grpc::ClientContext context;
    v1::WatchChangesRequest request;
    request.set_from_sequence(1);
    auto reader = stub_->WatchChanges(&context, request);
    v1::WatchChangesResponse response;
    ASSERT_TRUE(reader->Read(&response));
    context.TryCancel();
    reader->Finish();
  }
  absl::Time start = absl::Now();
  server_->Shutdown();  // Grace is 2 s: a stuck stream would use all of it.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(GraphStoreServiceTest, CancelWhileCaughtUpEndsTheStream) {
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  grpc::ClientContext context;
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto reader = stub_->WatchChanges(&context, request);
  v1::WatchChangesResponse response;
  ASSERT_TRUE(reader->Read(&response));
  absl::SleepFor(absl::Milliseconds(300));  // The stream parks.
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(GraphStoreServiceTest, TooManyWatchersAreRefusedUntilOneLeaves) {
  server_->Shutdown();
  server_.reset();
  service_.reset();
  store_.reset();
  GraphStoreServiceOptions options;
  options.max_watch_streams = 1;
  Start(options);
  v1::WatchChangesRequest request;
  request.set_from_sequence(1);
  auto first_context = std::make_unique<grpc::ClientContext>();
  auto first = stub_->WatchChanges(first_context.get(), request);
  absl::SleepFor(absl::Milliseconds(200));  // The first stream is open.
  {
    grpc::ClientContext context;
    auto second = stub_->WatchChanges(&context, request);
    v1::WatchChangesResponse response;
    EXPECT_FALSE(second->Read(&response));
    grpc::Status s = second->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  first_context->TryCancel();
  first->Finish();
  absl::SleepFor(absl::Milliseconds(200));  // Its slot is released.
  grpc::ClientContext context;
  auto third = stub_->WatchChanges(&context, request);
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply({Company("a")}, &applied).ok());
  v1::WatchChangesResponse response;
  EXPECT_TRUE(third->Read(&response));
  context.TryCancel();
  third->Finish();
}

TEST_F(GraphStoreServiceTest, ManyWatchersAllSeeEveryCommit) {
  constexpr int kWatchers = 8;
  constexpr int kCommits = 20;
  std::vector<std::thread> watchers;
  std::vector<int> counts(kWatchers, 0);
  for (int w = 0; w < kWatchers; ++w) {
    watchers.emplace_back([this, w, &counts] {
      grpc::ClientContext context;
      v1::WatchChangesRequest request;
      request.set_from_sequence(1);
      auto reader = stub_->WatchChanges(&context, request);
      v1::WatchChangesResponse response;
      int64_t expect = 1;
      while (expect <= kCommits && reader->Read(&response)) {
        for (const auto& c : response.changes()) {
          EXPECT_EQ(c.sequence(), expect);
          ++expect;
        }
      }
      counts[w] = static_cast<int>(expect - 1);
      context.TryCancel();
      reader->Finish();
    });
  }
  for (int i = 0; i < kCommits; ++i) {
    v1::ApplyResponse applied;
    ASSERT_TRUE(Apply({Company(absl::StrCat("c", i))}, &applied).ok());
  }
  for (auto& t : watchers) t.join();
  for (int c : counts) EXPECT_EQ(c, kCommits);
}

TEST_F(GraphStoreServiceTest, ExportSnapshotStreamsEveryRecordOnce) {
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 2500; ++i) batch.push_back(Company(absl::StrCat("c", i)));
  for (int i = 1; i < 2500; ++i) {
    batch.push_back(
        Supplies(absl::StrCat("c", i - 1), absl::StrCat("c", i), 0.5));
  }
  v1::ApplyResponse applied;
  ASSERT_TRUE(Apply(batch, &applied).ok());

  grpc::ClientContext context;
  auto reader = stub_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
  v1::ExportSnapshotResponse chunk;
  int entities = 0, edges = 0, messages = 0;
  while (reader->Read(&chunk)) {
    entities += chunk.entities_size();
    edges += chunk.edges_size();
    EXPECT_EQ(chunk.sequence(), 1);
    ++messages;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(entities, 2500);
  EXPECT_EQ(edges, 2499);
  EXPECT_GE(messages, 5);  // 1,000 records a message.

  absl::Time start = absl::Now();
  server_->Shutdown();  // The finished export holds nothing.
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(GraphStoreServiceTest, AnUnavailableExportCarriesTheRetryHint) {
  faults_->FailExports(absl::UnavailableError("store closing"));
  grpc::ClientContext context;
  auto reader = stub_->ExportSnapshot(&context, v1::ExportSnapshotRequest());
  v1::ExportSnapshotResponse chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "store closing");
  auto hint =
      context.GetServerTrailingMetadata().find(common::kRetryPushbackKey);
  ASSERT_NE(hint, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(hint->second.data(), hint->second.size()), "2000");
}

}  // namespace
}  // namespace georisk::graphstore
