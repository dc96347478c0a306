#include "storage/internal/record_codec.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::storage::internal {
namespace {

v1::Entity SampleEntity() {
  v1::Entity e;
  e.set_id("company/tsmc");
  e.set_kind(v1::Entity::COMPANY);
  e.set_name("TSMC");
  e.set_country("TW");
  (*e.mutable_identifiers())["ticker"] = "2330.TW";
  (*e.mutable_identifiers())["lei"] = "549300KB6NK5SBD14S87";
  e.add_aliases("Taiwan Semiconductor");
  e.set_source("https://example.com");
  return e;
}

TEST(RecordCodecTest, BodyPlusTailParsesWithOutputFields) {
  const v1::Entity e = SampleEntity();
  std::string value;
  AppendDeterministic(e, &value);
  const std::string body = value;
  const absl::Time t = absl::FromUnixSeconds(1700000000) + absl::Nanoseconds(5);
  AppendEntityTail(42, t, "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"",
                   &value);

  v1::Entity parsed;
  ASSERT_TRUE(parsed.ParseFromString(value));
  EXPECT_EQ(parsed.update_sequence(), 42);
  EXPECT_EQ(FromTimestamp(parsed.update_time()), t);
  EXPECT_EQ(parsed.update_origin(),
            "source:csl fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  parsed.clear_update_sequence();
  parsed.clear_update_time();
  parsed.clear_update_origin();
  std::string reencoded;
  AppendDeterministic(parsed, &reencoded);
  EXPECT_EQ(reencoded, body);
  EXPECT_TRUE(SameBody(value, body));
}

TEST(RecordCodecTest, SameBodyDetectsEveryDifference) {
  v1::Entity e = SampleEntity();
  std::string stored;
  AppendDeterministic(e, &stored);
  AppendEntityTail(7, absl::UnixEpoch(), "", &stored);

  std::string same;
  AppendDeterministic(SampleEntity(), &same);
  EXPECT_TRUE(SameBody(stored, same));

  e.add_aliases("TSMC Ltd");  // A longer record whose prefix is the old one.
  std::string longer;
  AppendDeterministic(e, &longer);
  EXPECT_FALSE(SameBody(stored, longer));

  v1::Entity shorter = SampleEntity();
  shorter.clear_source();
  std::string shorter_body;
  AppendDeterministic(shorter, &shorter_body);
  EXPECT_FALSE(SameBody(stored, shorter_body));
  EXPECT_FALSE(SameBody(same, same));  // No tail: not a stored value.
}

TEST(RecordCodecTest, SequenceOnlyTail) {
  v1::Edge edge;
  edge.set_from_id("company/a");
  edge.set_to_id("company/b");
  edge.set_kind(v1::Edge::OWNS);
  edge.set_weight(0.5);
  std::string value;
  AppendDeterministic(edge, &value);
  const std::string body = value;
  AppendSequenceTail(1ULL << 40, &value);
  v1::Edge parsed;
  ASSERT_TRUE(parsed.ParseFromString(value));
  EXPECT_EQ(parsed.update_sequence(), int64_t{1} << 40);
  EXPECT_TRUE(SameBody(value, body));
}

// Edges, signals and links: the origin is field 21. AppendBody drops every
// output-only field a record read back carries, and SameBody accepts any tail
// the Append*Tail functions write, but no other field after the body.
TEST(RecordCodecTest, OriginTailsAndBodiesOfRecordsReadBack) {
  v1::Edge edge;
  edge.set_from_id("company/a");
  edge.set_to_id("company/b");
  edge.set_kind(v1::Edge::SUPPLIES);
  edge.set_weight(0.4);
  std::string body;
  AppendBody(edge, &body);
  std::string value = body;
  AppendSequenceAndOriginTail(9, "import:suppliers.csv started x", &value);
  v1::Edge parsed;
  ASSERT_TRUE(parsed.ParseFromString(value));
  EXPECT_EQ(parsed.update_sequence(), 9);
  EXPECT_EQ(parsed.update_origin(), "import:suppliers.csv started x");
  EXPECT_TRUE(SameBody(value, body));
  std::string read_back;
  AppendBody(parsed, &read_back);  // As sent again by a client.
  EXPECT_EQ(read_back, body);

  v1::Entity e = SampleEntity();
  std::string entity_body;
  AppendBody(e, &entity_body);
  std::string entity_value = entity_body;
  AppendEntityTail(3, absl::FromUnixSeconds(10), "bulkload:g started y",
                   &entity_value);
  v1::Entity entity;
  ASSERT_TRUE(entity.ParseFromString(entity_value));
  EXPECT_EQ(entity.update_origin(), "bulkload:g started y");
  EXPECT_TRUE(SameBody(entity_value, entity_body));
  std::string entity_read_back;
  AppendBody(entity, &entity_read_back);
  EXPECT_EQ(entity_read_back, entity_body);

  // A field the tail functions never write after the body (here 23), or
  // the origin before the time, is not a tail.
  std::string odd = entity_body;
  AppendSequenceTail(3, &odd);
  AppendLengthDelimited(23, "x", &odd);
  EXPECT_FALSE(SameBody(odd, entity_body));
  std::string reversed = entity_body;
  AppendSequenceTail(3, &reversed);
  AppendLengthDelimited(kEntityUpdateOriginField, "o", &reversed);
  AppendLengthDelimited(kUpdateTimeField, "", &reversed);
  EXPECT_FALSE(SameBody(reversed, entity_body));
}

TEST(RecordCodecTest, AssembledChangeParses) {
  const v1::Entity e = SampleEntity();
  std::string record;
  AppendDeterministic(e, &record);
  AppendEntityTail(3, absl::FromUnixSeconds(10), "ingest", &record);

  std::string body;
  AppendRecordMutation(v1::Mutation::kUpsertEntityFieldNumber, record, "key-1",
                       &body);
  v1::Mutation del;
  del.set_delete_entity_id("company/x");
  AppendMutation(del, &body);
  AppendRecordMutation(v1::Mutation::kUpsertEntityFieldNumber, record, "",
                       &body);
  const absl::Time commit =
      absl::FromUnixSeconds(1700000000) + absl::Milliseconds(250);
  const std::string bytes =
      EncodeChangeHeader(3, commit) + body + EncodeChangeOrigin("ingest");

  v1::Change change;
  ASSERT_TRUE(change.ParseFromString(bytes));
  EXPECT_EQ(change.sequence(), 3);
  EXPECT_EQ(FromTimestamp(change.commit_time()), commit);
  EXPECT_EQ(change.origin(), "ingest");
  ASSERT_EQ(change.mutations_size(), 3);
  EXPECT_EQ(change.mutations(0).upsert_entity().name(), "TSMC");
  EXPECT_EQ(change.mutations(0).upsert_entity().update_sequence(), 3);
  EXPECT_EQ(change.mutations(0).idempotency_key(), "key-1");
  EXPECT_EQ(change.mutations(1).delete_entity_id(), "company/x");
  EXPECT_EQ(change.mutations(2).idempotency_key(), "");

  absl::StatusOr<absl::Time> peeked = PeekChangeCommitTime(bytes);
  ASSERT_TRUE(peeked.ok()) << peeked.status();
  EXPECT_EQ(*peeked, commit);
  EXPECT_EQ(EncodeChangeOrigin(""), "");
}

TEST(RecordCodecTest, PeekFindsCommitTimeAfterOtherFields) {
  v1::Change change;
  change.set_origin("x");  // Serialised after commit_time, but try anyway.
  change.set_sequence(9);
  change.add_mutations()->set_delete_signal_id("signal/s");
  ToTimestamp(absl::FromUnixSeconds(-5) + absl::Milliseconds(1),
              change.mutable_commit_time());
  EXPECT_EQ(change.commit_time().seconds(), -5);
  EXPECT_EQ(change.commit_time().nanos(), 1000000);
  EXPECT_EQ(*PeekChangeCommitTime(change.SerializeAsString()),
            absl::FromUnixSeconds(-5) + absl::Milliseconds(1));
}

TEST(RecordCodecTest, PeekWithoutCommitTimeIsDataLoss) {
  EXPECT_EQ(PeekChangeCommitTime("").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(PeekChangeCommitTime("\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RecordCodecTest, NegativeTimesSplitIntoNonNegativeNanos) {
  google::protobuf::Timestamp ts;
  ToTimestamp(absl::UnixEpoch() - absl::Nanoseconds(1), &ts);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 999999999);
  EXPECT_EQ(FromTimestamp(ts), absl::UnixEpoch() - absl::Nanoseconds(1));
}

}  // namespace
}  // namespace georisk::storage::internal
