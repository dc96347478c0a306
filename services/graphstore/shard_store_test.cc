// ShardStore over a real RocksDbGraphStore, directly and behind
// GraphStoreService on a loopback port.
#include "services/graphstore/shard_store.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/graphstore/graphstore_service.h"
#include "services/graphstore/two_shards_testing.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::DeleteSignal;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tension;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::graphstore::testing::Copy;
using ::georisk::graphstore::testing::Halves;
using ::georisk::graphstore::testing::IdOn;
using storage::MutationOutcome;
using storage::PartitionMap;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What ShardStore answers for an id of shard `owner` asked of shard `here`.
std::string NotHere(absl::string_view id, int owner, int here) {
  return absl::StrCat(id, " is in partition ", storage::PartitionOf(id),
                      ", owned by shard graphstore-", owner,
                      ", not by this shard (graphstore-", here, ")");
}

TEST(ShardConfigFromFlagsTest, NoMapFlagIsOneShardOwningEverything) {
  absl::StatusOr<ShardConfig> config = ShardConfigFromFlags({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->map, PartitionMap::Single());
  EXPECT_EQ(config->shard_index, 0);
}

TEST(ShardConfigFromFlagsTest, InlineAndFileMaps) {
  ShardFlags inline_flags;
  inline_flags.partition_map = "0=0-511;1=512-1023";
  inline_flags.shard_index = 1;
  absl::StatusOr<ShardConfig> config = ShardConfigFromFlags(inline_flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->map, Halves());
  EXPECT_EQ(config->shard_index, 1);

  const std::string path = base::testing::MakeTempDir("map") + "/map.txt";
  std::ofstream(path) << "# two shards\ngraphstore-0 = 0-511\n"
                         "graphstore-1 = 512-1023\n";
  ShardFlags file_flags;
  file_flags.partition_map_file = path;
  config = ShardConfigFromFlags(file_flags);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->map, Halves());
  EXPECT_EQ(config->shard_index, 0);
}

TEST(ShardConfigFromFlagsTest, RefusalsNameTheFlag) {
  const std::string dir = base::testing::MakeTempDir("map");
  std::ofstream(dir + "/bad.txt") << "0 = 0-511\n\n1 = 500-1023\n";
  struct Case {
    ShardFlags flags;
    absl::StatusCode code;
    std::string error;
  };
  const Case cases[] = {
      {{"0=0-1023", dir + "/bad.txt", 0},
       absl::StatusCode::kInvalidArgument,
       "--partition_map and --partition_map_file: give one of them"},
      {{"0=0-511", "", 0},
       absl::StatusCode::kInvalidArgument,
       "--partition_map: partitions 512-1023 are owned by no shard"},
      {{"", dir + "/bad.txt", 0},
       absl::StatusCode::kInvalidArgument,
       "--partition_map_file " + dir +
           "/bad.txt: line 3: partition 500 is owned by both shard 0 (line "
           "1) and shard 1"},
      {{"", dir + "/absent.txt", 0},
       absl::StatusCode::kNotFound,
       "--partition_map_file: cannot read " + dir + "/absent.txt"},
      {{"0=0-511;1=512-1023", "", 2},
       absl::StatusCode::kInvalidArgument,
       "--shard_index: 2, but the partition map has shards 0 to 1"},
      {{"", "", 1},
       absl::StatusCode::kInvalidArgument,
       "--shard_index: 1, but the partition map has shards 0 to 0"},
      {{"", "", -1}, absl::StatusCode::kInvalidArgument, "--shard_index: -1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    absl::StatusOr<ShardConfig> config = ShardConfigFromFlags(c.flags);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), c.code);
    EXPECT_THAT(config.status().message(), HasSubstr(c.error));
  }
}

class ShardStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::RocksDbGraphStoreOptions options;
    options.path = base::testing::MakeTempDir("shard") + "/graph";
    options.sync = false;
    auto store = storage::RocksDbGraphStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto shard = ShardStore::Create(store_.get(), {Halves(), 1},
                                    [] { return absl::FromUnixSeconds(77); });
    ASSERT_TRUE(shard.ok()) << shard.status();
    shard_ = *std::move(shard);
  }

  const std::string local_a_ = IdOn(Halves(), 1, "company/c", 0);
  const std::string local_b_ = IdOn(Halves(), 1, "company/c", 1);
  const std::string remote_ = IdOn(Halves(), 0, "company/c", 0);
  std::unique_ptr<storage::RocksDbGraphStore> store_;
  std::unique_ptr<ShardStore> shard_;
};

TEST_F(ShardStoreTest, CreateRefusesAShardOutsideTheMap) {
  EXPECT_EQ(ShardStore::Create(store_.get(), {Halves(), 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ShardStore::Create(store_.get(), {Halves(), -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ShardStoreTest, ReadsOfAnotherShardsPartitionNameTheOwner) {
  ASSERT_TRUE(shard_
                  ->Apply({Upsert(Company(local_a_)), Upsert(Company(local_b_)),
                           Upsert(Supplies(local_a_, local_b_, 0.5))},
                          "test")
                  .ok());

  absl::StatusOr<v1::Entity> entity = shard_->GetEntity(remote_);
  EXPECT_EQ(entity.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(entity.status().message(),
            absl::StrCat("id: ", NotHere(remote_, 0, 1)));
  EXPECT_TRUE(shard_->GetEntity(local_a_).ok());

  storage::EdgeQuery edges;
  edges.entity_id = remote_;
  absl::StatusOr<storage::EdgePage> page = shard_->ListEdges(edges);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(page.status().message(),
            absl::StrCat("entity_id: ", NotHere(remote_, 0, 1)));
  edges.entity_id = local_a_;
  page = shard_->ListEdges(edges);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->edges.size(), 1);

  storage::TraverseQuery traverse;
  traverse.start_ids = {local_a_, remote_};
  absl::StatusOr<storage::TraverseResult> traversed =
      shard_->Traverse(traverse);
  EXPECT_EQ(traversed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(traversed.status().message(),
            absl::StrCat("start_ids[1]: ", NotHere(remote_, 0, 1)));
  traverse.start_ids = {local_a_};
  traversed = shard_->Traverse(traverse);
  ASSERT_TRUE(traversed.ok()) << traversed.status();
  EXPECT_EQ(traversed->entities.size(), 2);

  // A link is held by the shards of both of its ends.
  EXPECT_EQ(shard_->GetLink(local_a_, remote_).status().code(),
            absl::StatusCode::kNotFound);
  const std::string remote_too = IdOn(Halves(), 0, "company/r", 0);
  absl::StatusOr<v1::Link> link = shard_->GetLink(remote_, remote_too);
  EXPECT_EQ(link.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(link.status().message(),
            absl::StrCat("entity_a: ", NotHere(remote_, 0, 1)));
  EXPECT_EQ(shard_->GetLink(local_a_, local_b_).status().code(),
            absl::StatusCode::kNotFound);

  storage::LinkQuery links;
  links.entity_id = remote_;
  EXPECT_EQ(shard_->ListLinks(links).status().code(),
            absl::StatusCode::kFailedPrecondition);
  links.entity_id = "";  // Every link of this shard.
  EXPECT_TRUE(shard_->ListLinks(links).ok());
}

TEST_F(ShardStoreTest, MalformedIdsAreLeftToTheStore) {
  for (const char* bad : {"", "Company/X", "nokind"}) {
    EXPECT_EQ(shard_->GetEntity(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(ShardStoreTest, ABatchRejectsEachMutationOfAnotherShardAndKeepsTheRest) {
  const std::string remote_signal = IdOn(Halves(), 0, "signal/s");
  const std::string local_signal = IdOn(Halves(), 1, "signal/s");
  const std::vector<v1::Mutation> batch = {
      Upsert(Company(local_a_)),                  // 0 applied
      Upsert(Company(remote_)),                   // 1 another shard's
      Upsert(Company(local_b_)),                  // 2 applied
      Upsert(Supplies(local_a_, remote_, 0.5)),   // 3 across shards
      Upsert(Supplies(local_a_, local_b_, 1.5)),  // 4 invalid weight
      Upsert(Supplies(local_a_, local_b_, 0.5)),  // 5 applied
      Upsert(Tension(remote_signal, 0.4)),        // 6 another shard's
      Upsert(Tension(local_signal, 0.4)),         // 7 applied
      DeleteEntity(remote_),                      // 8 another shard's
      DeleteSignal(remote_signal),                // 9 another shard's
      Upsert(Supplies(remote_, remote_, 0.5)),    // 10 both ends elsewhere
  };
  absl::StatusOr<storage::ApplyResult> result =
      shard_->Apply(batch, "test", storage::InvalidMutations::kReject);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->sequence, 1);
  const auto A = MutationOutcome::kApplied, R = MutationOutcome::kRejected;
  EXPECT_THAT(result->outcomes, ElementsAre(A, R, A, R, R, A, R, A, R, R, R));
  std::vector<std::string> rejections;
  for (const storage::MutationRejection& r : result->rejections) {
    rejections.push_back(absl::StrCat(r.index, " ", r.field, ": ", r.reason));
  }
  const std::string across =
      "; an edge across shards is written as two copies, edge_copy "
      "EDGE_COPY_OUT on the shard of from_id and EDGE_COPY_IN on the shard of "
      "to_id (docs/scale-out.md)";
  EXPECT_THAT(
      rejections,
      ElementsAre(
          absl::StrCat("1 upsert_entity.id: ", NotHere(remote_, 0, 1)),
          absl::StrCat("3 upsert_edge.to_id: ", NotHere(remote_, 0, 1), across),
          HasSubstr("4 upsert_edge.weight: "),
          absl::StrCat("6 upsert_signal.id: ", NotHere(remote_signal, 0, 1)),
          absl::StrCat("8 delete_entity_id: ", NotHere(remote_, 0, 1)),
          absl::StrCat("9 delete_signal_id: ", NotHere(remote_signal, 0, 1)),
          absl::StrCat("10 upsert_edge.from_id: ", NotHere(remote_, 0, 1))));

  absl::StatusOr<storage::StoreStats> stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entity_count, 2);
  EXPECT_EQ(stats->edge_count, 1);
  EXPECT_EQ(stats->signal_count, 1);
  EXPECT_EQ(store_->GetEntity(remote_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ShardStoreTest, WithoutRejectOneMutationOfAnotherShardFailsTheBatch) {
  absl::StatusOr<storage::ApplyResult> result =
      shard_->Apply({Upsert(Company(local_a_)), Upsert(Company(local_b_)),
                     Upsert(Supplies(local_b_, remote_, 0.5))},
                    "test");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(),
              HasSubstr(absl::StrCat("mutations[2].upsert_edge.to_id: ",
                                     NotHere(remote_, 0, 1))));
  EXPECT_EQ(store_->LastSequence(), 0);
}

TEST_F(ShardStoreTest, ABatchOfOnlyOtherShardsMutationsWritesNothing) {
  absl::StatusOr<storage::ApplyResult> result =
      shard_->Apply({Upsert(Company(remote_)), DeleteEntity(remote_)}, "test",
                    storage::InvalidMutations::kReject);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->sequence, 0);
  EXPECT_EQ(result->commit_time, absl::FromUnixSeconds(77));
  EXPECT_THAT(result->outcomes, ElementsAre(MutationOutcome::kRejected,
                                            MutationOutcome::kRejected));
  ASSERT_EQ(result->rejections.size(), 2);
  EXPECT_EQ(result->rejections[1].index, 1);
  EXPECT_EQ(store_->LastSequence(), 0);
}

TEST(ShardStoreSingleTest, TheOneShardMapLetsEverythingThrough) {
  storage::RocksDbGraphStoreOptions options;
  options.path = base::testing::MakeTempDir("shard") + "/graph";
  options.sync = false;
  auto store = storage::RocksDbGraphStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto shard = ShardStore::Create(store->get(), {});
  ASSERT_TRUE(shard.ok()) << shard.status();
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 50; ++i) {
    batch.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  }
  absl::StatusOr<storage::ApplyResult> result = (*shard)->Apply(batch, "test");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcomes.size(), 50);
  EXPECT_TRUE(result->rejections.empty());
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE((*shard)->GetEntity(absl::StrCat("company/c", i)).ok()) << i;
  }
}

// The codes and messages reach a gRPC client unchanged.
TEST_F(ShardStoreTest, GraphStoreServiceAnswersFailedPreconditionForTheShard) {
  common::MetricsRegistry registry;
  GraphStoreService service(shard_.get(), {}, &registry);
  common::ServerOptions server_options;
  server_options.service_name = "graphstore";
  server_options.metrics_address = "";
  server_options.shutdown_grace = absl::Seconds(2);
  auto server = common::GrpcServer::Start(
      server_options, {{&service, v1::GraphStore::service_full_name()}},
      &registry);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->AddShutdownHook([&service] { service.Shutdown(); });
  auto stub = v1::GraphStore::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));

  v1::GetEntityRequest get;
  get.set_id(remote_);
  v1::Entity entity;
  grpc::ClientContext get_context;
  grpc::Status status = stub->GetEntity(&get_context, get, &entity);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("id: ", NotHere(remote_, 0, 1)));

  v1::ApplyRequest apply;
  *apply.add_mutations() = Upsert(Company(local_a_));
  *apply.add_mutations() = Upsert(Company(remote_));
  apply.set_reject_invalid(true);
  v1::ApplyResponse applied;
  grpc::ClientContext apply_context;
  status = stub->Apply(&apply_context, apply, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(applied.sequence(), 1);
  EXPECT_THAT(applied.outcomes(), ElementsAre(v1::MUTATION_OUTCOME_APPLIED,
                                              v1::MUTATION_OUTCOME_REJECTED));
  ASSERT_EQ(applied.rejections_size(), 1);
  EXPECT_EQ(applied.rejections(0).mutation_index(), 1);
  EXPECT_EQ(applied.rejections(0).field(), "upsert_entity.id");
  EXPECT_EQ(applied.rejections(0).reason(), NotHere(remote_, 0, 1));

  apply.set_reject_invalid(false);
  grpc::ClientContext fail_context;
  status = stub->Apply(&fail_context, apply, &applied);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(
      status.error_message(),
      absl::StrCat("mutations[1].upsert_entity.id: ", NotHere(remote_, 0, 1)));
  (*server)->Shutdown();
}

// Two shards of Halves(), for the copies of edges and links across shards.
class CrossShardTest : public ::georisk::graphstore::testing::TwoShardsTest {};

TEST_F(CrossShardTest, AnEdgeAcrossShardsIsItsOutCopyAndItsInCopy) {
  const v1::Edge edge = Supplies(a_[0], a_[1], 0.5);
  absl::StatusOr<storage::ApplyResult> out =
      shards_[0]->Apply({Copy(Upsert(edge), v1::EDGE_COPY_OUT)}, "test");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->outcomes, ElementsAre(MutationOutcome::kApplied));
  // Between the two commits a reader sees the out-copy only.
  const std::string name = absl::StrCat(a_[0], "->", a_[1]);
  EXPECT_THAT(Edges(0, a_[0], storage::Direction::kOutbound),
              ElementsAre(name));
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound), ElementsAre());
  absl::StatusOr<storage::ApplyResult> in =
      shards_[1]->Apply({Copy(Upsert(edge), v1::EDGE_COPY_IN)}, "test");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound), ElementsAre(name));
  // Each copy stays on its own shard; the edge counts where its out-copy is.
  EXPECT_THAT(Edges(0, a_[0], storage::Direction::kInbound), ElementsAre());
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kOutbound), ElementsAre());
  EXPECT_EQ(EdgeCount(0), 1);
  EXPECT_EQ(EdgeCount(1), 0);
  // The change log says which copy each commit wrote.
  absl::StatusOr<std::vector<v1::Change>> changes =
      shards_[1]->ReadChanges(in->sequence, 1, 1 << 20);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  ASSERT_EQ((*changes)[0].mutations_size(), 1);
  EXPECT_EQ((*changes)[0].mutations(0).edge_copy(), v1::EDGE_COPY_IN);
  EXPECT_EQ((*changes)[0].mutations(0).upsert_edge().to_id(), a_[1]);
  // Replacing and deleting one copy leaves the other as it is.
  ASSERT_TRUE(shards_[1]
                  ->Apply({Copy(DeleteEdge(edge), v1::EDGE_COPY_IN)}, "test")
                  .ok());
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound), ElementsAre());
  EXPECT_THAT(Edges(0, a_[0], storage::Direction::kOutbound),
              ElementsAre(name));
}

TEST_F(CrossShardTest, OnlyTheEndHereIsChecked) {
  // The in-copy's shard checks to_id only: from_id is not its to check.
  const std::string missing_here = IdOn(Halves(), 1, "company/none");
  absl::StatusOr<storage::ApplyResult> result = shards_[1]->Apply(
      {Copy(Upsert(Supplies(a_[0], missing_here, 0.5)), v1::EDGE_COPY_IN),
       Copy(Upsert(Supplies(IdOn(Halves(), 0, "company/none"), b_[1], 0.5)),
            v1::EDGE_COPY_IN)},
      "test", storage::InvalidMutations::kReject);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->outcomes, ElementsAre(MutationOutcome::kRejected,
                                            MutationOutcome::kApplied));
  ASSERT_EQ(result->rejections.size(), 1u);
  EXPECT_EQ(result->rejections[0].field, "upsert_edge.to_id");
  EXPECT_EQ(result->rejections[0].reason,
            absl::StrCat("entity ", missing_here, " does not exist"));
}

TEST_F(CrossShardTest, AOneCopyMutationMustNameAnEdgeAcrossShards) {
  const std::vector<v1::Mutation> batch = {
      // 0: both ends here: one copy would leave the edge half-written.
      Copy(Upsert(Supplies(a_[1], b_[1], 0.5)), v1::EDGE_COPY_OUT),
      // 1: the out-copy belongs to from_id's shard, 0.
      Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT),
      // 2: the in-copy belongs to to_id's shard, 0.
      Copy(Upsert(Supplies(a_[1], a_[0], 0.5)), v1::EDGE_COPY_IN),
      // 3: both copies of an edge across shards cannot be written here.
      Upsert(Supplies(a_[1], a_[0], 0.5)),
      // 4: fine.
      Copy(Upsert(Supplies(a_[1], a_[0], 0.5)), v1::EDGE_COPY_OUT),
  };
  absl::StatusOr<storage::ApplyResult> result =
      shards_[1]->Apply(batch, "test", storage::InvalidMutations::kReject);
  ASSERT_TRUE(result.ok()) << result.status();
  std::vector<std::string> rejections;
  for (const storage::MutationRejection& r : result->rejections) {
    rejections.push_back(absl::StrCat(r.index, " ", r.field));
  }
  EXPECT_THAT(rejections,
              ElementsAre("0 edge_copy", "1 upsert_edge.from_id",
                          "2 upsert_edge.to_id", "3 upsert_edge.to_id"));
  EXPECT_THAT(result->rejections[0].reason,
              HasSubstr("write it with EDGE_COPY_BOTH"));
  EXPECT_EQ(result->outcomes[4], MutationOutcome::kApplied);
  // Without reject_invalid the first one fails the batch.
  absl::StatusOr<storage::ApplyResult> failed =
      shards_[1]->Apply({batch[4], batch[0]}, "test");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(failed.status().message(), HasSubstr("mutations[1].edge_copy: "));
}

TEST_F(CrossShardTest, DeletingAnEntityListsTheCopiesOtherShardsHold) {
  // a_[0] -> a_[1] (out-copy on 0), a_[1] -> a_[0] (in-copy on 0), and
  // a_[0] -> b_[0] (both copies on 0).
  const v1::Edge to_remote = Supplies(a_[0], a_[1], 0.5);
  const v1::Edge from_remote = Supplies(a_[1], a_[0], 0.5);
  ASSERT_TRUE(shards_[0]
                  ->Apply({Copy(Upsert(to_remote), v1::EDGE_COPY_OUT),
                           Copy(Upsert(from_remote), v1::EDGE_COPY_IN),
                           Upsert(Supplies(a_[0], b_[0], 0.5))},
                          "test")
                  .ok());
  ASSERT_TRUE(shards_[1]
                  ->Apply({Copy(Upsert(to_remote), v1::EDGE_COPY_IN),
                           Copy(Upsert(from_remote), v1::EDGE_COPY_OUT)},
                          "test")
                  .ok());
  EXPECT_EQ(EdgeCount(0), 2);
  absl::StatusOr<storage::ApplyResult> deleted =
      shards_[0]->Apply({DeleteEntity(a_[0])}, "test");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->cascaded_edge_deletes, 3);
  std::vector<std::string> remote;
  for (const storage::RemoteEdgeCopy& r : deleted->remote_edge_copies) {
    remote.push_back(absl::StrCat(v1::EdgeCopy_Name(r.copy), " ",
                                  r.key.from_id(), "->", r.key.to_id(), " on ",
                                  r.shard));
  }
  EXPECT_THAT(remote,
              ::testing::UnorderedElementsAre(
                  absl::StrCat("EDGE_COPY_IN ", a_[0], "->", a_[1], " on 1"),
                  absl::StrCat("EDGE_COPY_OUT ", a_[1], "->", a_[0], " on 1")));
  EXPECT_EQ(EdgeCount(0), 0);
  EXPECT_THAT(Edges(0, b_[0], storage::Direction::kInbound), ElementsAre());
  // The log records which copy each cascaded delete removed here.
  absl::StatusOr<std::vector<v1::Change>> changes =
      shards_[0]->ReadChanges(deleted->sequence, 1, 1 << 20);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  std::vector<std::string> logged;
  for (const v1::Mutation& m : (*changes)[0].mutations()) {
    if (m.has_delete_edge()) {
      logged.push_back(absl::StrCat(v1::EdgeCopy_Name(m.edge_copy()), " ",
                                    m.delete_edge().from_id(), "->",
                                    m.delete_edge().to_id()));
    }
  }
  EXPECT_THAT(logged, ::testing::UnorderedElementsAre(
                          absl::StrCat("EDGE_COPY_OUT ", a_[0], "->", a_[1]),
                          absl::StrCat("EDGE_COPY_IN ", a_[1], "->", a_[0]),
                          absl::StrCat("EDGE_COPY_BOTH ", a_[0], "->", b_[0])));
  // Shard 1 deletes its copies as the writer asks; the graph is then as one
  // store would leave it.
  std::vector<v1::Mutation> removals;
  for (const storage::RemoteEdgeCopy& r : deleted->remote_edge_copies) {
    v1::Mutation m;
    *m.mutable_delete_edge() = r.key;
    m.set_edge_copy(r.copy);
    removals.push_back(m);
  }
  ASSERT_TRUE(shards_[1]->Apply(removals, "test").ok());
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kBoth), ElementsAre());
  EXPECT_EQ(EdgeCount(1), 0);
}

TEST_F(CrossShardTest, AnInCopyMadeInTheBatchIsCascadedToo) {
  absl::StatusOr<storage::ApplyResult> result = shards_[1]->Apply(
      {Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_IN),
       DeleteEntity(a_[1])},
      "test");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->cascaded_edge_deletes, 1);
  ASSERT_EQ(result->remote_edge_copies.size(), 1u);
  EXPECT_EQ(result->remote_edge_copies[0].copy, v1::EDGE_COPY_OUT);
  EXPECT_EQ(result->remote_edge_copies[0].shard, 0);
  EXPECT_THAT(Edges(1, b_[1], storage::Direction::kBoth), ElementsAre());
}

TEST_F(CrossShardTest, AReleasedKeyIsAppliedAgain) {
  const v1::Edge edge = Supplies(a_[1], a_[0], 0.5);
  const v1::Mutation out =
      WithKey(Copy(Upsert(edge), v1::EDGE_COPY_OUT), "k/out");
  ASSERT_TRUE(shards_[1]->Apply({out}, "test").ok());
  absl::StatusOr<storage::ApplyResult> again = shards_[1]->Apply({out}, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->outcomes, ElementsAre(MutationOutcome::kDuplicate));
  v1::Mutation undo = Copy(DeleteEdge(edge), v1::EDGE_COPY_OUT);
  undo.set_release_idempotency_key("k/out");
  absl::StatusOr<storage::ApplyResult> undone =
      shards_[1]->Apply({undo}, "test");
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(undone->outcomes, ElementsAre(MutationOutcome::kApplied));
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kOutbound), ElementsAre());
  absl::StatusOr<std::vector<v1::Change>> changes =
      shards_[1]->ReadChanges(undone->sequence, 1, 1 << 20);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].mutations(0).release_idempotency_key(), "");
  absl::StatusOr<storage::ApplyResult> redone =
      shards_[1]->Apply({out}, "test");
  ASSERT_TRUE(redone.ok());
  EXPECT_THAT(redone->outcomes, ElementsAre(MutationOutcome::kApplied));
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kOutbound),
              ElementsAre(absl::StrCat(a_[1], "->", a_[0])));
}

// The outbox: a one-copy write puts the other copy, for its shard, in the
// same commit.
std::vector<std::string> Describe(const std::vector<storage::OutboxEntry>& es) {
  std::vector<std::string> out;
  for (const storage::OutboxEntry& e : es) {
    const v1::Mutation& m = e.mutation;
    std::string what;
    if (m.has_upsert_edge()) {
      what = absl::StrCat("upsert_edge ", m.upsert_edge().from_id(), "->",
                          m.upsert_edge().to_id());
    } else if (m.has_delete_edge()) {
      what = absl::StrCat("delete_edge ", m.delete_edge().from_id(), "->",
                          m.delete_edge().to_id());
    } else if (m.has_upsert_link()) {
      what = absl::StrCat("upsert_link ", m.upsert_link().entity_a(), "~",
                          m.upsert_link().entity_b());
    } else if (m.has_delete_link()) {
      what = absl::StrCat("delete_link ", m.delete_link().entity_a(), "~",
                          m.delete_link().entity_b());
    }
    absl::StrAppend(
        &out.emplace_back(), what, " ", v1::EdgeCopy_Name(m.edge_copy()),
        " key=", m.idempotency_key(), " release=", m.release_idempotency_key());
  }
  return out;
}

TEST_F(CrossShardTest, AOneCopyWriteQueuesTheOtherCopyInTheSameCommit) {
  const v1::Edge edge = Supplies(a_[0], a_[1], 0.5);
  absl::StatusOr<storage::ApplyResult> out = shards_[0]->Apply(
      {WithKey(Copy(Upsert(edge), v1::EDGE_COPY_OUT), "e1/out")}, "ingest");
  ASSERT_TRUE(out.ok()) << out.status();
  absl::StatusOr<std::vector<storage::OutboxEntry>> pending =
      stores_[0]->ReadOutbox(1, 10);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_THAT(Describe(*pending),
              ElementsAre(absl::StrCat("upsert_edge ", a_[0], "->", a_[1],
                                       " EDGE_COPY_IN key=e1/in release=")));
  // Written by that very commit, at its time.
  EXPECT_EQ((*pending)[0].sequence, out->sequence);
  EXPECT_EQ(absl::ToUnixMicros((*pending)[0].enqueued),
            absl::ToUnixMicros(out->commit_time));
  EXPECT_EQ((*pending)[0].mutation.upsert_edge().weight(), 0.5);
  // Nothing for the shard itself; nothing when nothing changed (the same
  // value again, or a duplicate key) or when the copy was rejected.
  EXPECT_TRUE(stores_[0]->ReadOutbox(0, 10)->empty());
  ASSERT_TRUE(
      shards_[0]
          ->Apply({Copy(Upsert(edge), v1::EDGE_COPY_OUT),
                   WithKey(Copy(Upsert(edge), v1::EDGE_COPY_OUT), "e1/out"),
                   Copy(Upsert(Supplies(IdOn(Halves(), 0, "company/x"), a_[1],
                                        0.5)),
                        v1::EDGE_COPY_OUT)},
                  "ingest", storage::InvalidMutations::kReject)
          .ok());
  EXPECT_EQ(stores_[0]->ReadOutbox(1, 10)->size(), 1u);
  ASSERT_EQ(stores_[0]->OutboxStats().size(), 1u);
  EXPECT_EQ(stores_[0]->OutboxStats()[0].peer, 1);
  EXPECT_EQ(stores_[0]->OutboxStats()[0].pending, 1);
  EXPECT_EQ(absl::ToUnixMicros(stores_[0]->OutboxStats()[0].oldest),
            absl::ToUnixMicros(out->commit_time));
  // An in-copy queues the out-copy; a delete of a copy the delete of the
  // other, releasing the other copy's key when it releases its own.
  v1::Mutation undo = Copy(DeleteEdge(edge), v1::EDGE_COPY_OUT);
  undo.set_release_idempotency_key("e1/out");
  ASSERT_TRUE(shards_[0]->Apply({undo}, "ingest").ok());
  const v1::Edge back = Supplies(a_[1], a_[0], 0.25);
  ASSERT_TRUE(
      shards_[0]->Apply({Copy(Upsert(back), v1::EDGE_COPY_IN)}, "ingest").ok());
  pending = stores_[0]->ReadOutbox(1, 10);
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(Describe(*pending),
              ElementsAre(absl::StrCat("upsert_edge ", a_[0], "->", a_[1],
                                       " EDGE_COPY_IN key=e1/in release="),
                          absl::StrCat("delete_edge ", a_[0], "->", a_[1],
                                       " EDGE_COPY_IN key= release=e1/in"),
                          absl::StrCat("upsert_edge ", a_[1], "->", a_[0],
                                       " EDGE_COPY_OUT key= release=")));
}

TEST_F(CrossShardTest, TheOutboxIsAcknowledgedByKeyAndSurvivesReopening) {
  ASSERT_TRUE(
      shards_[0]
          ->Apply(
              {Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT),
               Copy(Upsert(Supplies(b_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT)},
              "ingest")
          .ok());
  absl::StatusOr<std::vector<storage::OutboxEntry>> pending =
      stores_[0]->ReadOutbox(1, 1);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);  // The limit.
  ASSERT_TRUE(stores_[0]
                  ->AcknowledgeOutbox({(*pending)[0].key, (*pending)[0].key,
                                       std::string("unknown")})
                  .ok());
  EXPECT_EQ(stores_[0]->OutboxStats()[0].pending, 1);
  // Reopened: the one left is still there, and counted.
  storage::RocksDbGraphStoreOptions options;
  options.path = absl::StrCat(dir_, "/graph-0");
  shards_[0].reset();
  stores_[0].reset();
  options.sync = false;
  options.partition_map = Halves();
  options.shard_index = 0;
  auto reopened = storage::RocksDbGraphStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  pending = (*reopened)->ReadOutbox(1, 10);
  ASSERT_TRUE(pending.ok());
  EXPECT_THAT(Describe(*pending),
              ElementsAre(absl::StrCat("upsert_edge ", b_[0], "->", a_[1],
                                       " EDGE_COPY_IN key= release=")));
  ASSERT_EQ((*reopened)->OutboxStats().size(), 1u);
  EXPECT_EQ((*reopened)->OutboxStats()[0].pending, 1);
  EXPECT_TRUE((*reopened)->WaitForOutbox(absl::InfinitePast()));
  ASSERT_TRUE((*reopened)->AcknowledgeOutbox({(*pending)[0].key}).ok());
  EXPECT_TRUE((*reopened)->OutboxStats().empty());
  EXPECT_FALSE(
      (*reopened)->WaitForOutbox(absl::Now() + absl::Milliseconds(10)));
  EXPECT_EQ((*reopened)->ReadOutbox(1, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The forwarder can read and acknowledge a commit's entries between its
// write and its publication (the commit counts its entries then): the
// counts must still come to what the outbox holds.
TEST_F(CrossShardTest, EntriesAcknowledgedBeforeTheirCommitCountsThemAreGone) {
  // An entry already pending, as when the forwarder is busy with a backlog.
  ASSERT_TRUE(shards_[0]
                  ->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)),
                                v1::EDGE_COPY_OUT)},
                          "ingest")
                  .ok());
  bool raced = false;
  Open(0, [&] {
    if (raced) return;
    raced = true;
    absl::StatusOr<std::vector<storage::OutboxEntry>> all =
        stores_[0]->ReadOutbox(1, 100);
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->size(), 3u);  // The old entry and the commit's two.
    std::vector<std::string> keys;
    for (const storage::OutboxEntry& e : *all) keys.push_back(e.key);
    ASSERT_TRUE(stores_[0]->AcknowledgeOutbox(keys).ok());
  });
  ASSERT_TRUE(
      shards_[0]
          ->Apply(
              {Copy(Upsert(Supplies(b_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT),
               Copy(Upsert(Supplies(a_[0], b_[1], 0.5)), v1::EDGE_COPY_OUT)},
              "ingest")
          .ok());
  ASSERT_TRUE(raced);
  EXPECT_TRUE(stores_[0]->ReadOutbox(1, 10)->empty());
  EXPECT_TRUE(stores_[0]->OutboxStats().empty());
  EXPECT_FALSE(stores_[0]->WaitForOutbox(absl::Now() + absl::Milliseconds(10)));
  // The next commit's entry is counted once.
  ASSERT_TRUE(shards_[0]
                  ->Apply({Copy(Upsert(Supplies(b_[0], b_[1], 0.5)),
                                v1::EDGE_COPY_OUT)},
                          "ingest")
                  .ok());
  ASSERT_EQ(stores_[0]->OutboxStats().size(), 1u);
  EXPECT_EQ(stores_[0]->OutboxStats()[0].pending, 1);
}

TEST_F(CrossShardTest, ALinkAcrossShardsIsACopyOnEachShard) {
  const v1::Link link =
      domain::testing::IdentifierLink(a_[0], a_[1], v1::Link::POSITIVE);
  // Whole, it is refused, naming the other end.
  absl::StatusOr<storage::ApplyResult> whole =
      shards_[0]->Apply({Upsert(link)}, "test");
  EXPECT_EQ(whole.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(whole.status().message(),
              HasSubstr("mutations[0].upsert_link.entity_b: "));
  ASSERT_TRUE(
      shards_[0]->Apply({Copy(Upsert(link), v1::EDGE_COPY_OUT)}, "test").ok());
  ASSERT_TRUE(
      shards_[1]->Apply({Copy(Upsert(link), v1::EDGE_COPY_IN)}, "test").ok());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<v1::Link> got = shards_[i]->GetLink(a_[1], a_[0]);
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    EXPECT_EQ(got->judgement(), v1::Link::POSITIVE);
    storage::LinkQuery query;
    query.entity_id = a_[i];
    absl::StatusOr<storage::LinkPage> page = shards_[i]->ListLinks(query);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->links.size(), 1u) << i;
  }
  // Counted and listed once, by the shard of the smaller id.
  const int primary = a_[0] < a_[1] ? 0 : 1;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(stores_[i]->GetStats()->link_count, i == primary ? 1 : 0) << i;
    absl::StatusOr<storage::LinkPage> all =
        shards_[i]->ListLinks(storage::LinkQuery());
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->links.size(), i == primary ? 1u : 0u) << i;
  }
  // Each shard queued the other's copy.
  EXPECT_THAT(Describe(*stores_[0]->ReadOutbox(1, 10)),
              ElementsAre(absl::StrCat("upsert_link ", a_[0], "~", a_[1],
                                       " EDGE_COPY_IN key= release=")));
  EXPECT_THAT(Describe(*stores_[1]->ReadOutbox(0, 10)),
              ElementsAre(absl::StrCat("upsert_link ", a_[0], "~", a_[1],
                                       " EDGE_COPY_OUT key= release=")));
  // Deleting a_[1] on its shard deletes its copy and queues the other's
  // delete.
  absl::StatusOr<storage::ApplyResult> deleted =
      shards_[1]->Apply({DeleteEntity(a_[1])}, "test");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->cascaded_link_deletes, 1);
  EXPECT_EQ(shards_[1]->GetLink(a_[0], a_[1]).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(stores_[1]->GetStats()->link_count, 0);
  std::vector<std::string> queued = Describe(*stores_[1]->ReadOutbox(0, 10));
  ASSERT_EQ(queued.size(), 2u);
  const std::string& low = a_[0] < a_[1] ? a_[0] : a_[1];
  const std::string& high = a_[0] < a_[1] ? a_[1] : a_[0];
  EXPECT_EQ(queued[1],
            absl::StrCat("delete_link ", low, "~", high, " ",
                         low == a_[0] ? "EDGE_COPY_OUT" : "EDGE_COPY_IN",
                         " key= release="));
  // Delivered, shard 0 holds no link either.
  const v1::Mutation remove = (*stores_[1]->ReadOutbox(0, 10))[1].mutation;
  ASSERT_TRUE(shards_[0]->Apply({remove}, "outbox:graphstore-1").ok());
  EXPECT_EQ(shards_[0]->GetLink(a_[0], a_[1]).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(stores_[0]->GetStats()->link_count, 0);
}

TEST_F(CrossShardTest, AnEntityDeleteQueuesTheDeletesOfTheRemoteCopies) {
  ASSERT_TRUE(
      shards_[0]
          ->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT),
                   Copy(Upsert(Supplies(b_[1], a_[0], 0.5)), v1::EDGE_COPY_IN)},
                  "test")
          .ok());
  std::vector<storage::OutboxEntry> before = *stores_[0]->ReadOutbox(1, 10);
  ASSERT_TRUE(
      stores_[0]->AcknowledgeOutbox({before[0].key, before[1].key}).ok());
  ASSERT_TRUE(shards_[0]->Apply({DeleteEntity(a_[0])}, "test").ok());
  EXPECT_THAT(Describe(*stores_[0]->ReadOutbox(1, 10)),
              ::testing::UnorderedElementsAre(
                  absl::StrCat("delete_edge ", a_[0], "->", a_[1],
                               " EDGE_COPY_IN key= release="),
                  absl::StrCat("delete_edge ", b_[1], "->", a_[0],
                               " EDGE_COPY_OUT key= release=")));
}

}  // namespace
}  // namespace georisk::graphstore
