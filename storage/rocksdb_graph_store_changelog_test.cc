// RocksDbGraphStore's change log and snapshots, what followers read: replay
// to the same graph, retention by count and age, WaitForSequence and
// ExportSnapshot.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"
#include "storage/testing/graph_store_fixture.h"

namespace georisk::storage {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::DeleteEdge;
using ::georisk::domain::testing::DeleteEntity;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Supplies;
using ::georisk::domain::testing::Tariff;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithIdentifiers;
using ::georisk::domain::testing::WithSource;

using ::testing::ElementsAre;

using testing::RocksDbGraphStoreTest;

TEST_F(RocksDbGraphStoreTest, ChangeLogReplayReproducesTheGraph) {
  Open();
  std::vector<std::vector<v1::Mutation>> batches = {
      {Upsert(Company("company/a")), Upsert(Company("company/b")),
       Upsert(Company("company/c")),
       Upsert(Owns("company/a", "company/b", 0.5))},
      {Upsert(Supplies("company/b", "company/c", 0.5, "8542")),
       Upsert(WithSource(Listing("signal/l1", "US-BIS", {"company/b"}, 0.5),
                         "source-US-BIS"))},
      {Upsert(NamedCompany("company/a", "A renamed", "TW")),
       Upsert(Owns("company/c", "company/a", 0.5))},
      {DeleteEntity("company/b")},
      {DeleteEdge(Owns("company/c", "company/a", 0.5)),
       Upsert(WithSource(
           Tariff("signal/t1", "Section 301", "US", "CN", "", 0.25), "USTR"))},
  };
  for (const auto& batch : batches) {
    now_ += absl::Minutes(1);
    MustApply(batch);
  }
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(1, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), batches.size());

  std::map<std::string, std::string> entities, edges, signals;
  for (size_t i = 0; i < changes->size(); ++i) {
    const v1::Change& change = (*changes)[i];
    EXPECT_EQ(change.sequence(), static_cast<int64_t>(i + 1));
    EXPECT_EQ(change.origin(), "test");
    EXPECT_EQ(change.commit_time().seconds(), 1750000000 + 60 * (i + 1));
    for (const v1::Mutation& m : change.mutations()) {
      switch (m.kind_case()) {
        case v1::Mutation::kUpsertEntity:
          EXPECT_EQ(m.upsert_entity().update_sequence(), change.sequence());
          entities[m.upsert_entity().id()] = m.upsert_entity().name();
          break;
        case v1::Mutation::kUpsertEdge: {
          const v1::Edge& e = m.upsert_edge();
          edges[absl::StrCat(e.from_id(), ">", e.to_id())] = e.product_code();
          break;
        }
        case v1::Mutation::kUpsertSignal:
          signals[m.upsert_signal().id()] = m.upsert_signal().source();
          break;
        case v1::Mutation::kDeleteEntityId:
          entities.erase(m.delete_entity_id());
          break;
        case v1::Mutation::kDeleteEdge:
          edges.erase(absl::StrCat(m.delete_edge().from_id(), ">",
                                   m.delete_edge().to_id()));
          break;
        case v1::Mutation::kDeleteSignalId:
          signals.erase(m.delete_signal_id());
          break;
        default:
          ADD_FAILURE() << "empty mutation";
      }
    }
  }
  // The cascade of batch 4 is explicit: its two edges are gone.
  EXPECT_EQ((*changes)[3].mutations_size(), 3);

  std::map<std::string, std::string> s_entities, s_edges, s_signals;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        for (const auto& e : chunk.entities)
                          s_entities[e.id()] = e.name();
                        for (const auto& e : chunk.edges)
                          s_edges[absl::StrCat(e.from_id(), ">", e.to_id())] =
                              e.product_code();
                        for (const auto& s : chunk.signals)
                          s_signals[s.id()] = s.source();
                        return absl::OkStatus();
                      },
                      2)
                  .ok());
  EXPECT_EQ(entities, s_entities);
  EXPECT_EQ(edges, s_edges);
  EXPECT_EQ(signals, s_signals);
  EXPECT_EQ(entities.at("company/a"), "A renamed");

  // Limits and the future.
  EXPECT_EQ(store_->ReadChanges(2, 2, 0)->size(), 2u);
  EXPECT_EQ(store_->ReadChanges(2, 0, 1)->size(), 1u);  // At least one.
  EXPECT_TRUE(store_->ReadChanges(6, 0, 0)->empty());
  EXPECT_TRUE(store_->ReadChanges(100, 0, 0)->empty());
  EXPECT_EQ(store_->ReadChanges(-1, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbGraphStoreTest, RetentionByCount) {
  options_.changelog_retention_count = 3;
  Open();
  for (int i = 0; i < 10; ++i)
    MustApply({Upsert(Company(absl::StrCat("company/c", i)))});
  absl::StatusOr<int64_t> trimmed = store_->TrimChangeLog(now_);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_EQ(*trimmed, 7);
  EXPECT_EQ(*store_->TrimChangeLog(now_), 0);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 8);
  EXPECT_EQ(store_->ReadChanges(7, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  absl::StatusOr<std::vector<v1::Change>> oldest = store_->ReadChanges(0, 0, 0);
  ASSERT_TRUE(oldest.ok());
  ASSERT_EQ(oldest->size(), 3u);
  EXPECT_EQ(oldest->front().sequence(), 8);
  EXPECT_EQ(store_->ReadChanges(9, 0, 0)->size(), 2u);
  // The data itself is untouched.
  EXPECT_EQ(store_->GetStats()->entity_count, 10);

  store_.reset();
  Open();
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 8);
  EXPECT_EQ(store_->ReadChanges(7, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(RocksDbGraphStoreTest, RetentionByAge) {
  options_.changelog_retention_age = absl::Minutes(90);
  Open();
  const absl::Time t0 = now_;
  for (int i = 0; i < 3; ++i) {
    now_ = t0 + absl::Hours(i);
    MustApply({Upsert(Company(absl::StrCat("company/c", i)))});
  }
  EXPECT_EQ(*store_->TrimChangeLog(t0 + absl::Hours(2)), 1);
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 2);
  EXPECT_EQ(store_->ReadChanges(1, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(store_->ReadChanges(2, 0, 0)->size(), 2u);

  // Everything expires: the log is empty, the sequence goes on.
  EXPECT_EQ(*store_->TrimChangeLog(t0 + absl::Hours(5)), 2);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->oldest_retained_sequence, 0);
  EXPECT_EQ(stats->last_sequence, 3);
  EXPECT_EQ(store_->ReadChanges(3, 0, 0).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(store_->ReadChanges(0, 0, 0)->empty());
  EXPECT_TRUE(store_->ReadChanges(4, 0, 0)->empty());

  store_.reset();
  Open();
  EXPECT_EQ(store_->LastSequence(), 3);
  EXPECT_EQ(MustApply({Upsert(Company("company/d"))}).sequence, 4);
  EXPECT_EQ(store_->ReadChanges(0, 0, 0)->front().sequence(), 4);
}

TEST_F(RocksDbGraphStoreTest, BackgroundThreadTrims) {
  options_.changelog_retention_count = 1;
  options_.changelog_trim_interval = absl::Milliseconds(5);
  Open();
  MustApply({Upsert(Company("company/a"))});
  MustApply({Upsert(Company("company/b"))});
  MustApply({Upsert(Company("company/c"))});
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (store_->GetStats()->oldest_retained_sequence != 3 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(store_->GetStats()->oldest_retained_sequence, 3);
}

TEST_F(RocksDbGraphStoreTest, WaitForSequenceWakesOnCommit) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  absl::Notification waiting;
  int64_t seen = -1;
  std::thread waiter([&] {
    waiting.Notify();
    seen = store_->WaitForSequence(2, absl::Now() + absl::Seconds(60));
  });
  waiting.WaitForNotification();
  MustApply({Upsert(Company("company/b"))});
  waiter.join();
  EXPECT_EQ(seen, 2);
  // Already there: returns at once.
  EXPECT_EQ(store_->WaitForSequence(1, absl::InfinitePast()), 2);
}

TEST_F(RocksDbGraphStoreTest, WaitForSequenceTimesOut) {
  Open();
  MustApply({Upsert(Company("company/a"))});
  const absl::Time start = absl::Now();
  EXPECT_EQ(store_->WaitForSequence(2, start + absl::Milliseconds(20)), 1);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

// The watermark promises that no commit after its sequence is earlier than
// its time, even when the clock goes back.
TEST_F(RocksDbGraphStoreTest, NoCommitAfterAWatermarkIsEarlierThanIt) {
  Open();
  const ApplyResult first = MustApply({Upsert(Company("company/a"))});
  now_ += absl::Seconds(5);
  GraphStore::CommitWatermark mark = store_->Watermark();
  EXPECT_EQ(mark.sequence, 1);
  EXPECT_EQ(mark.time, now_);
  EXPECT_GT(mark.time, first.commit_time);
  // The clock goes back 3 s: the next commit still takes the watermark's
  // time, and so does the next watermark.
  now_ -= absl::Seconds(3);
  EXPECT_EQ(store_->Watermark().time, mark.time);
  const ApplyResult second = MustApply({Upsert(Company("company/b"))});
  EXPECT_EQ(second.commit_time, mark.time);
  absl::StatusOr<std::vector<v1::Change>> changes =
      store_->ReadChanges(2, 0, 0);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ(changes->front().commit_time().seconds(),
            absl::ToUnixSeconds(mark.time));
  // Forward again: the watermark follows the clock.
  now_ += absl::Seconds(10);
  mark = store_->Watermark();
  EXPECT_EQ(mark.sequence, 2);
  EXPECT_EQ(mark.time, now_);
  // A commit that changes nothing takes no sequence and moves nothing.
  MustApply({Upsert(Company("company/b"))});
  EXPECT_EQ(store_->Watermark().sequence, 2);
}

// While a commit is between its write and its publication, the watermark is
// that commit's time at the sequence before it: the commit in flight is the
// next one and carries exactly that time.
TEST_F(RocksDbGraphStoreTest, AWatermarkDuringACommitIsThatCommitsTime) {
  GraphStore::CommitWatermark during;
  options_.after_write_for_testing = [&] {
    // Later than the commit's time: the clock has moved on meanwhile.
    now_ += absl::Seconds(1);
    during = store_->Watermark();
  };
  Open();
  const absl::Time commit_time = now_;
  const ApplyResult applied = MustApply({Upsert(Company("company/a"))});
  EXPECT_EQ(applied.commit_time, commit_time);
  EXPECT_EQ(during.sequence, 0);
  EXPECT_EQ(during.time, commit_time);
  // Published: the watermark is at sequence 1 and the clock's time.
  const GraphStore::CommitWatermark after = store_->Watermark();
  EXPECT_EQ(after.sequence, 1);
  EXPECT_EQ(after.time, now_);
}

// A snapshot taken while a commit is written but not yet published hands
// out that commit's sequence only once LastSequence() has reached it, so a
// follower resuming at sequence + 1 is never past the head (the race made
// feed_follower_test fail 3 runs in 6).
// Runs `read` (which answers with a sequence) on another thread while the
// first Apply has written its batch and not yet published it, and returns
// the sequence it answered and LastSequence() at that moment. Without the
// wait for publication the read answers now, one ahead of LastSequence();
// with it, not before the hook returns.
struct ReadDuringPublish {
  int64_t answered = -1;
  int64_t head_when_answered = -1;
};
ReadDuringPublish RunDuringPublish(
    RocksDbGraphStoreOptions& options,
    std::unique_ptr<RocksDbGraphStore>& store,
    const std::function<absl::StatusOr<int64_t>()>& read,
    const std::function<void()>& open_and_apply) {
  ReadDuringPublish result;
  absl::Notification answered;
  std::thread reader;
  options.after_write_for_testing = [&] {
    if (reader.joinable()) return;
    reader = std::thread([&] {
      absl::StatusOr<int64_t> sequence = read();
      EXPECT_TRUE(sequence.ok()) << sequence.status();
      result.answered = sequence.value_or(-1);
      result.head_when_answered = store->LastSequence();
      answered.Notify();
    });
    answered.WaitForNotificationWithTimeout(absl::Milliseconds(300));
  };
  open_and_apply();
  reader.join();
  return result;
}

TEST_F(RocksDbGraphStoreTest, ExportSnapshotNeverRunsAheadOfLastSequence) {
  const ReadDuringPublish r = RunDuringPublish(
      options_, store_,
      [&]() -> absl::StatusOr<int64_t> {
        int64_t sequence = -1;
        absl::Status s = store_->ExportSnapshot(
            [&](SnapshotChunk& chunk) {
              if (sequence < 0) sequence = chunk.sequence;
              return absl::OkStatus();
            },
            0);
        if (!s.ok()) return s;
        return sequence;
      },
      [&] {
        Open();
        MustApply({Upsert(Company("company/a"))});
      });
  EXPECT_EQ(r.answered, 1);
  EXPECT_EQ(r.head_when_answered, 1);
}

TEST_F(RocksDbGraphStoreTest, TraverseNeverRunsAheadOfLastSequence) {
  const ReadDuringPublish r = RunDuringPublish(
      options_, store_,
      [&]() -> absl::StatusOr<int64_t> {
        TraverseQuery query;
        query.start_ids = {"company/a"};
        query.max_depth = 1;
        absl::StatusOr<TraverseResult> result = store_->Traverse(query);
        if (!result.ok()) return result.status();
        return result->sequence;
      },
      [&] {
        Open();
        MustApply({Upsert(Company("company/a"))});
      });
  EXPECT_EQ(r.answered, 1);
  EXPECT_EQ(r.head_when_answered, 1);
}

TEST_F(RocksDbGraphStoreTest, LookupByIdentifierNeverRunsAheadOfLastSequence) {
  const ReadDuringPublish r = RunDuringPublish(
      options_, store_,
      [&]() -> absl::StatusOr<int64_t> {
        IdentifierQuery query;
        query.scheme = "ticker";
        query.value = "AAPL";
        absl::StatusOr<IdentifierPage> page = store_->LookupByIdentifier(query);
        if (!page.ok()) return page.status();
        return page->sequence;
      },
      [&] {
        Open();
        MustApply({Upsert(WithIdentifiers(Company("company/apple", "US"),
                                          {{"ticker", "AAPL"}}))});
      });
  EXPECT_EQ(r.answered, 1);
  EXPECT_EQ(r.head_when_answered, 1);
}

TEST_F(RocksDbGraphStoreTest, ExportSnapshotChunksEveryRecordOnce) {
  Open();
  std::vector<v1::Mutation> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back(Upsert(Company(absl::StrCat("company/c", i))));
  for (int i = 1; i < 10; ++i) {
    batch.push_back(
        Upsert(Owns("company/c0", absl::StrCat("company/c", i), 0.5)));
  }
  batch.push_back(Upsert(Owns("company/c0", "company/c0", 0.5)));
  batch.push_back(Upsert(WithSource(
      Tariff("signal/t", "Section 301", "US", "CN", "", 0.25), "USTR")));
  MustApply(batch);
  std::vector<size_t> sizes;
  size_t entities = 0, edges = 0, signals = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        EXPECT_EQ(chunk.sequence, 1);
                        sizes.push_back(chunk.entities.size() +
                                        chunk.edges.size() +
                                        chunk.signals.size());
                        entities += chunk.entities.size();
                        edges += chunk.edges.size();
                        signals += chunk.signals.size();
                        return absl::OkStatus();
                      },
                      7)
                  .ok());
  EXPECT_THAT(sizes, ElementsAre(7, 7, 7));
  EXPECT_EQ(entities, 10u);
  EXPECT_EQ(edges, 10u);
  EXPECT_EQ(signals, 1u);

  // The callback's error stops the export.
  int calls = 0;
  absl::Status s = store_->ExportSnapshot(
      [&](SnapshotChunk&) {
        ++calls;
        return absl::CancelledError("client went away");
      },
      5);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(RocksDbGraphStoreTest, EmptyStoreExportsOneEmptyChunk) {
  Open();
  int calls = 0;
  ASSERT_TRUE(store_
                  ->ExportSnapshot(
                      [&](SnapshotChunk& chunk) {
                        ++calls;
                        EXPECT_EQ(chunk.sequence, 0);
                        EXPECT_TRUE(chunk.entities.empty());
                        return absl::OkStatus();
                      },
                      0)
                  .ok());
  EXPECT_EQ(calls, 1);
  absl::StatusOr<StoreStats> stats = store_->GetStats();
  EXPECT_EQ(stats->last_sequence, 0);
  EXPECT_EQ(stats->oldest_retained_sequence, 0);
  EXPECT_TRUE(store_->ReadChanges(0, 0, 0)->empty());
}

}  // namespace
}  // namespace georisk::storage
