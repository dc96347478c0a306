// The outbox forwarder over two real shards (RocksDB stores under one map,
// each behind its ShardStore), delivering by calling the peer's Apply as
// the gRPC Apply would.
#include "services/graphstore/outbox_forwarder.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/graphstore/graphstore_service.h"
#include "services/graphstore/two_shards_testing.h"
#include "storage/rocksdb_graph_store.h"

namespace georisk::graphstore {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::IdentifierLink;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithKey;
using ::georisk::graphstore::testing::Copy;
using ::georisk::graphstore::testing::Halves;
using ::georisk::graphstore::testing::IdOn;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class OutboxForwarderTest
    : public ::georisk::graphstore::testing::TwoShardsTest {
 protected:
  // What the Apply RPC does with `request` on shard `peer`, unless `down_`.
  absl::StatusOr<v1::ApplyResponse> Apply(int peer,
                                          const v1::ApplyRequest& request) {
    ++calls_;
    if (down_) return absl::UnavailableError("connection refused");
    std::vector<const v1::Mutation*> mutations;
    for (const v1::Mutation& m : request.mutations()) mutations.push_back(&m);
    absl::StatusOr<storage::ApplyResult> result = shards_[peer]->Apply(
        mutations, request.origin(),
        request.reject_invalid() ? storage::InvalidMutations::kReject
                                 : storage::InvalidMutations::kFailBatch);
    if (!result.ok()) return result.status();
    origins_.push_back(request.origin());
    v1::ApplyResponse response;
    response.set_sequence(result->sequence);
    for (storage::MutationOutcome o : result->outcomes) {
      response.add_outcomes(OutcomeToProto(o));
    }
    for (const storage::MutationRejection& r : result->rejections) {
      v1::MutationRejection* out = response.add_rejections();
      out->set_mutation_index(r.index);
      out->set_field(r.field);
      out->set_reason(r.reason);
    }
    if (lose_answer_) return absl::DeadlineExceededError("answer lost");
    return response;
  }

  std::unique_ptr<OutboxForwarder> Forwarder(int shard) {
    OutboxForwarderOptions options;
    options.shard = shard;
    options.shard_count = 2;
    options.initial_backoff = absl::Milliseconds(5);
    options.max_backoff = absl::Milliseconds(20);
    options.idle_wait = absl::Milliseconds(50);
    return std::make_unique<OutboxForwarder>(
        stores_[shard].get(),
        [this](int peer, const v1::ApplyRequest& r) { return Apply(peer, r); },
        options, &registry_);
  }

  int64_t Pending(int shard) {
    int64_t n = 0;
    for (const storage::OutboxPeerStats& s : stores_[shard]->OutboxStats()) {
      n += s.pending;
    }
    return n;
  }

  common::MetricsRegistry registry_;
  bool down_ = false;
  bool lose_answer_ = false;
  int calls_ = 0;
  std::vector<std::string> origins_;
};

TEST_F(OutboxForwarderTest, DeliversTheOtherCopyAndAcknowledgesIt) {
  // What a dying ingest leaves: the out-copy on shard 0 only.
  const v1::Edge edge = Supplies(a_[0], a_[1], 0.5);
  ASSERT_TRUE(
      shards_[0]
          ->Apply({WithKey(Copy(Upsert(edge), v1::EDGE_COPY_OUT), "e/out")},
                  "ingest")
          .ok());
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound), ElementsAre());
  std::unique_ptr<OutboxForwarder> forwarder = Forwarder(0);
  forwarder->UpdateMetrics();
  EXPECT_THAT(
      registry_.Render(),
      HasSubstr("georisk_graphstore_outbox_pending{peer=\"graphstore-1\"} 1"));
  absl::StatusOr<int> delivered = forwarder->DeliverOnce(1);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 1);
  EXPECT_THAT(origins_, ElementsAre("outbox:graphstore-0"));
  const std::string name = absl::StrCat(a_[0], "->", a_[1]);
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound), ElementsAre(name));
  EXPECT_EQ(Pending(0), 0);
  EXPECT_EQ(*forwarder->DeliverOnce(1), 0);  // Nothing left.
  forwarder->UpdateMetrics();
  const std::string metrics = registry_.Render();
  EXPECT_THAT(
      metrics,
      HasSubstr("georisk_graphstore_outbox_pending{peer=\"graphstore-1\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("georisk_graphstore_outbox_delivered_total{"
                                 "peer=\"graphstore-1\"} 1"));
  // The ingest that comes back later and sends its in-copy: a duplicate.
  absl::StatusOr<storage::ApplyResult> late = shards_[1]->Apply(
      {WithKey(Copy(Upsert(edge), v1::EDGE_COPY_IN), "e/in")}, "ingest");
  ASSERT_TRUE(late.ok());
  EXPECT_THAT(late->outcomes,
              ElementsAre(storage::MutationOutcome::kDuplicate));
  // Shard 1's write of the copy queued the out-copy back; delivered, it
  // changes nothing on shard 0 and queues nothing more.
  EXPECT_EQ(Pending(1), 1);
  const int64_t before = stores_[0]->LastSequence();
  ASSERT_TRUE(Forwarder(1)->DeliverOnce(0).ok());
  EXPECT_EQ(stores_[0]->LastSequence(), before);
  EXPECT_EQ(Pending(0), 0);
  EXPECT_EQ(Pending(1), 0);
}

TEST_F(OutboxForwarderTest, AnEntryIsRemovedOnlyOnceThePeerAnswered) {
  ASSERT_TRUE(shards_[0]
                  ->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)),
                                v1::EDGE_COPY_OUT)},
                          "ingest")
                  .ok());
  std::unique_ptr<OutboxForwarder> forwarder = Forwarder(0);
  down_ = true;
  absl::StatusOr<int> failed = forwarder->DeliverOnce(1);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("graphstore-1: "));
  EXPECT_EQ(Pending(0), 1);
  // Applied by the peer, but the answer is lost: kept, and delivered again,
  // where it changes nothing (idempotent).
  down_ = false;
  lose_answer_ = true;
  EXPECT_FALSE(forwarder->DeliverOnce(1).ok());
  EXPECT_EQ(Pending(0), 1);
  const int64_t applied = stores_[1]->LastSequence();
  lose_answer_ = false;
  ASSERT_TRUE(forwarder->DeliverOnce(1).ok());
  EXPECT_EQ(stores_[1]->LastSequence(), applied);
  EXPECT_EQ(Pending(0), 0);
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound),
              ElementsAre(absl::StrCat(a_[0], "->", a_[1])));
  EXPECT_THAT(registry_.Render(),
              HasSubstr("georisk_graphstore_outbox_delivery_failures_total{"
                        "peer=\"graphstore-1\"} 2"));
  EXPECT_EQ(forwarder->DeliverOnce(0).status().code(),
            absl::StatusCode::kInvalidArgument);  // Itself.
}

TEST_F(OutboxForwarderTest, PendingEntriesSurviveARestartAndAreDeliveredAfter) {
  const v1::Link link = IdentifierLink(a_[0], a_[1], v1::Link::POSITIVE);
  ASSERT_TRUE(
      shards_[0]
          ->Apply({Copy(Upsert(link), v1::EDGE_COPY_OUT),
                   Copy(Upsert(Supplies(a_[1], b_[0], 0.5)), v1::EDGE_COPY_IN)},
                  "ingest")
          .ok());
  Open(0);  // As after kill -9: the entries were in the commit's batch.
  EXPECT_EQ(Pending(0), 2);
  ASSERT_TRUE(Forwarder(0)->DeliverOnce(1).ok());
  EXPECT_TRUE(shards_[1]->GetLink(a_[1], a_[0]).ok());
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kOutbound),
              ElementsAre(absl::StrCat(a_[1], "->", b_[0])));
}

TEST_F(OutboxForwarderTest, AnEntryThePeerRejectsIsDroppedAndCounted) {
  const std::string absent = IdOn(Halves(), 1, "company/x");  // Not there.
  ASSERT_TRUE(
      shards_[0]
          ->Apply(
              {Copy(Upsert(Supplies(a_[0], absent, 0.5)), v1::EDGE_COPY_OUT),
               Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT)},
              "ingest")
          .ok());
  std::unique_ptr<OutboxForwarder> forwarder = Forwarder(0);
  ASSERT_EQ(*forwarder->DeliverOnce(1), 2);
  EXPECT_EQ(Pending(0), 0);
  EXPECT_THAT(Edges(1, a_[1], storage::Direction::kInbound),
              ElementsAre(absl::StrCat(a_[0], "->", a_[1])));
  EXPECT_THAT(
      registry_.Render(),
      HasSubstr(
          "georisk_graphstore_outbox_rejected_total{peer=\"graphstore-1\"} 1"));
}

TEST_F(OutboxForwarderTest, APeerThatIsNotTheShardOfTheEntryKeepsItPending) {
  ASSERT_TRUE(shards_[0]
                  ->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)),
                                v1::EDGE_COPY_OUT)},
                          "ingest")
                  .ok());
  // Shard 1's target names shard 0 (targets out of order).
  OutboxForwarderOptions options;
  options.shard = 0;
  options.shard_count = 2;
  OutboxForwarder misrouted(
      stores_[0].get(),
      [this](int, const v1::ApplyRequest& r) { return Apply(0, r); }, options,
      &registry_);
  absl::StatusOr<int> refused = misrouted.DeliverOnce(1);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("graphstore-1 refuses the outbox's entries as another "
                        "shard's (upsert_edge.to_id: "));
  EXPECT_EQ(Pending(0), 1);
  ASSERT_EQ(*Forwarder(0)->DeliverOnce(1), 1);
  EXPECT_EQ(Pending(0), 0);
}

TEST_F(OutboxForwarderTest, TheThreadsDeliverAnEntityDeleteToo) {
  ASSERT_TRUE(
      shards_[0]
          ->Apply({Copy(Upsert(Supplies(a_[0], a_[1], 0.5)), v1::EDGE_COPY_OUT),
                   Copy(Upsert(Supplies(b_[1], a_[0], 0.5)), v1::EDGE_COPY_IN)},
                  "ingest")
          .ok());
  std::unique_ptr<OutboxForwarder> forwarder = Forwarder(0);
  std::unique_ptr<OutboxForwarder> back = Forwarder(1);
  forwarder->Start();
  back->Start();
  auto wait = [&](auto done) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!done() && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    return done();
  };
  ASSERT_TRUE(wait([&] {
    return Edges(1, b_[1], storage::Direction::kOutbound).size() == 1 &&
           Edges(1, a_[1], storage::Direction::kInbound).size() == 1 &&
           Pending(0) == 0 && Pending(1) == 0;
  }));
  // The entity delete on shard 0 removes shard 1's copies through the outbox.
  ASSERT_TRUE(shards_[0]->Apply({DeleteEntity(a_[0])}, "ingest").ok());
  ASSERT_TRUE(wait([&] {
    return Edges(1, b_[1], storage::Direction::kOutbound).empty() &&
           Edges(1, a_[1], storage::Direction::kInbound).empty();
  }));
  forwarder->Stop();
  back->Stop();
}

}  // namespace
}  // namespace georisk::graphstore
