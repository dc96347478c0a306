// Dated ownership records end to end (issue #14): real graphstore and ingest
// processes on loopback import the real Ownership records of
// tests/data/real/ftm/zala.entities.ftm.json, with the parties they name, in
// file order and in reverse. Either way the graph holds every record of a
// pair side by side — ZAKHAROV's 50% (ended 2023-03-02), 48% (ended
// 2023-12-21) and 51% (current) of LLC CST, lines 73, 74 and 79 — ingest
// warns that their windows overlap, and a replay in either order changes
// nothing (GetStats' sequence stays).
//
// The records are read from the file by this test (id, schema, caption,
// country, owner, asset, percentage, startDate, endDate), not by
// formats/ftm_parser, so that the test is about the graph and ingest, not
// about how the parser maps FtM.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ReadFile;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::ServiceStack;
using ::georisk::testing::StackOptions;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

constexpr char kZakharov[] = "person/ftm-nk-au5ybkbrfjucf8ymwsjvdw";
constexpr char kLlcCst[] = "company/ftm-nk-abdzbebkqyt29gyrebiurz";

// The first value of property `name`, or "".
std::string First(const google::protobuf::Struct& entity,
                  const std::string& name) {
  const auto& properties = entity.fields().at("properties").struct_value();
  auto it = properties.fields().find(name);
  if (it == properties.fields().end() ||
      it->second.list_value().values_size() == 0) {
    return "";
  }
  return it->second.list_value().values(0).string_value();
}

std::string Field(const google::protobuf::Struct& entity,
                  const std::string& name) {
  auto it = entity.fields().find(name);
  return it == entity.fields().end() ? "" : it->second.string_value();
}

google::protobuf::Timestamp Day(const std::string& date) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(google::protobuf::util::TimeUtil::FromString(
      absl::StrCat(date, "T00:00:00Z"), &t))
      << date;
  return t;
}

// What the test imports: the file's Ownership records that state a share,
// and the parties they name, as georisk records.
struct Dataset {
  std::vector<v1::Mutation> parties;
  std::vector<v1::Mutation> ownerships;  // In file order.
};

Dataset ReadZala() {
  const absl::StatusOr<std::string> text =
      ReadFile(Runfile("tests/data/real/ftm/zala.entities.ftm.json"));
  EXPECT_TRUE(text.ok()) << text.status();
  std::map<std::string, google::protobuf::Struct> by_id;
  std::vector<google::protobuf::Struct> ownerships;
  for (absl::string_view line : absl::StrSplit(text.value_or(""), '\n')) {
    if (line.empty()) continue;
    google::protobuf::Struct entity;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(std::string(line), &entity);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString();
    if (Field(entity, "schema") == "Ownership") {
      if (!First(entity, "percentage").empty()) ownerships.push_back(entity);
    } else {
      by_id[Field(entity, "id")] = entity;
    }
  }
  Dataset data;
  std::map<std::string, std::string> georisk_ids;
  auto party = [&](const std::string& ftm_id) -> std::string {
    auto known = georisk_ids.find(ftm_id);
    if (known != georisk_ids.end()) return known->second;
    const google::protobuf::Struct& e = by_id.at(ftm_id);
    const bool person = Field(e, "schema") == "Person";
    const std::string id = absl::StrCat(person ? "person/ftm-" : "company/ftm-",
                                        absl::AsciiStrToLower(ftm_id));
    v1::Mutation m;
    v1::Entity* entity = m.mutable_upsert_entity();
    entity->set_id(id);
    entity->set_kind(person ? v1::Entity::PERSON : v1::Entity::COMPANY);
    entity->set_name(Field(e, "caption"));
    std::string country = First(e, person ? "country" : "jurisdiction");
    if (country.empty()) country = First(e, "country");
    entity->set_country(absl::AsciiStrToUpper(country));
    entity->set_source(
        absl::StrCat("https://www.opensanctions.org/entities/", ftm_id, "/"));
    data.parties.push_back(std::move(m));
    georisk_ids[ftm_id] = id;
    return id;
  };
  for (const google::protobuf::Struct& o : ownerships) {
    v1::Mutation m;
    v1::Edge* edge = m.mutable_upsert_edge();
    edge->set_from_id(party(First(o, "owner")));
    edge->set_kind(v1::Edge::OWNS);
    edge->set_to_id(party(First(o, "asset")));
    double percentage = 0;
    EXPECT_TRUE(absl::SimpleAtod(First(o, "percentage"), &percentage));
    edge->set_weight(percentage / 100);
    edge->set_record_id(Field(o, "id"));
    if (!First(o, "startDate").empty()) {
      *edge->mutable_effective_from() = Day(First(o, "startDate"));
    }
    if (!First(o, "endDate").empty()) {
      *edge->mutable_effective_until() = Day(First(o, "endDate"));
    }
    edge->set_source(absl::StrCat("https://www.opensanctions.org/statements/",
                                  Field(o, "id"), "/"));
    data.ownerships.push_back(std::move(m));
  }
  return data;
}

class DatedOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("dated_ownership");
    StackOptions options;
    options.dir = dir_;
    options.ingest_batch_size = 4;
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    graphstore_ = stack_->graphstore();
    ingest_ = stack_->ingest();
    graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
        graphstore_->address(), grpc::InsecureChannelCredentials()));
    ingest_stub_ = v1::Ingest::NewStub(grpc::CreateChannel(
        ingest_->address(), grpc::InsecureChannelCredentials()));
    data_ = ReadZala();
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    const absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  // Streams the parties, then the ownerships (reversed or not), a few
  // records a message.
  v1::IngestSummary Import(bool reversed) {
    std::vector<v1::Mutation> records = data_.parties;
    std::vector<v1::Mutation> ownerships = data_.ownerships;
    if (reversed) std::reverse(ownerships.begin(), ownerships.end());
    records.insert(records.end(), ownerships.begin(), ownerships.end());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
    v1::IngestResponse response;
    auto stream = ingest_stub_->Ingest(&context, &response);
    for (size_t i = 0; i < records.size(); i += 3) {
      v1::IngestRequest request;
      for (size_t j = i; j < std::min(records.size(), i + 3); ++j) {
        *request.add_records() = records[j];
      }
      EXPECT_TRUE(stream->Write(request));
    }
    EXPECT_TRUE(stream->WritesDone());
    const grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message() << ingest_->Log();
    return response.summary();
  }

  // "record_id=weight" of the OWNS records into `id` from `owner`, in the
  // order GraphStore lists them; only those in effect at `at` when set.
  std::vector<std::string> RecordsInto(const std::string& id,
                                       const std::string& owner,
                                       const std::string& at = "") {
    grpc::ClientContext context;
    v1::ListEdgesRequest request;
    request.set_entity_id(id);
    request.set_direction(v1::DIRECTION_INBOUND);
    request.add_kinds(v1::Edge::OWNS);
    if (!at.empty()) *request.mutable_active_at() = Day(at);
    v1::ListEdgesResponse response;
    const grpc::Status s = graph_->ListEdges(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const v1::Edge& e : response.edges()) {
      if (e.from_id() == owner) {
        out.push_back(absl::StrCat(e.record_id(), "=", e.weight()));
      }
    }
    return out;
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext context;
    v1::GetStatsResponse stats;
    EXPECT_TRUE(graph_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
    return stats;
  }

  void ExpectEveryRecord() {
    // The three records of one pair, in record-id order, whatever the order
    // they arrived in.
    EXPECT_THAT(RecordsInto(kLlcCst, kZakharov),
                ::testing::ElementsAre(
                    "ru-770bdf5f22537fa2a94176f53fa87fe28ecf94fa=0.5",
                    "ru-7f202fd87a7ec03404a36667672156628713531c=0.48",
                    "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7=0.51"));
    // Today only the 51% is in effect; in 2020 all three were.
    EXPECT_THAT(RecordsInto(kLlcCst, kZakharov, "2026-01-01"),
                ::testing::ElementsAre(
                    "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7=0.51"));
    EXPECT_EQ(RecordsInto(kLlcCst, kZakharov, "2020-01-01").size(), 3u);
    // Every Ownership record with a share is one edge record.
    EXPECT_EQ(Stats().edge_count(),
              static_cast<int64_t>(data_.ownerships.size()));
  }

  void ExpectOverlapWarnings(const v1::IngestSummary& summary) {
    std::vector<std::string> overlaps;
    for (const v1::Warning& w : summary.warnings()) {
      if (w.field() == "upsert_edge.effective_from") {
        overlaps.push_back(w.message());
      }
    }
    // 48% and 51% each overlap an earlier record of the pair, whatever the
    // order, and nothing is rejected for it.
    EXPECT_GE(overlaps.size(), 2u);
    EXPECT_THAT(overlaps, Contains(HasSubstr(absl::StrCat(
                              "of ", kZakharov, " into ", kLlcCst,
                              " are both in effect from 2015-11-25"))));
    // 50% + 48% + 51% of one owner are never summed. (The real records do
    // exceed 1.0 a little in the past: by the documented rule ZAKHAROV's
    // 51% counts from 2015-11-25, beside JSC Kalashnikov Concern's 49% and
    // another 1% or 2%: a warning of 1.01, which is what the data says.)
    for (const v1::Warning& w : summary.warnings()) {
      if (w.field() != "upsert_edge.weight") continue;
      const size_t at = w.message().find("sum to ");
      ASSERT_NE(at, std::string::npos) << w.message();
      double sum = 0;
      ASSERT_TRUE(absl::SimpleAtod(
          w.message().substr(at + 7, w.message().find(',', at) - at - 7), &sum))
          << w.message();
      EXPECT_LT(sum, 1.05) << w.message();
    }
  }

  std::string dir_;
  std::unique_ptr<ServiceStack> stack_;
  ServiceProcess* graphstore_ = nullptr;
  ServiceProcess* ingest_ = nullptr;
  std::unique_ptr<v1::GraphStore::Stub> graph_;
  std::unique_ptr<v1::Ingest::Stub> ingest_stub_;
  Dataset data_;
};

TEST_F(DatedOwnershipTest, TheRealFileHoldsTheRecordsItUses) {
  // Guards the test against a changed fixture: 10 Ownerships state a share
  // (GAPS.md), three of them ZAKHAROV's of LLC CST.
  EXPECT_EQ(data_.ownerships.size(), 10u);
  int pair = 0;
  for (const v1::Mutation& m : data_.ownerships) {
    pair += m.upsert_edge().from_id() == kZakharov &&
            m.upsert_edge().to_id() == kLlcCst;
  }
  EXPECT_EQ(pair, 3);
}

TEST_F(DatedOwnershipTest, FileOrderKeepsEveryRecordAndAReplayChangesNothing) {
  const v1::IngestSummary first = Import(/*reversed=*/false);
  EXPECT_EQ(first.rejected(), 0) << first.DebugString();
  EXPECT_EQ(first.accepted(), static_cast<int64_t>(data_.parties.size() +
                                                   data_.ownerships.size()));
  ExpectOverlapWarnings(first);
  ExpectEveryRecord();

  const int64_t sequence = Stats().last_sequence();
  for (bool reversed : {false, true}) {
    const v1::IngestSummary again = Import(reversed);
    EXPECT_EQ(again.accepted(), 0) << again.DebugString();
    EXPECT_EQ(again.rejected(), 0);
    EXPECT_EQ(again.duplicates(), first.accepted());
    EXPECT_EQ(Stats().last_sequence(), sequence);
  }
  ExpectEveryRecord();
}

TEST_F(DatedOwnershipTest,
       ReversedOrderKeepsEveryRecordAndAReplayChangesNothing) {
  const v1::IngestSummary first = Import(/*reversed=*/true);
  EXPECT_EQ(first.rejected(), 0) << first.DebugString();
  ExpectOverlapWarnings(first);
  ExpectEveryRecord();

  const int64_t sequence = Stats().last_sequence();
  for (bool reversed : {true, false}) {
    const v1::IngestSummary again = Import(reversed);
    EXPECT_EQ(again.accepted(), 0) << again.DebugString();
    EXPECT_EQ(Stats().last_sequence(), sequence);
  }
  ExpectEveryRecord();
  // The graph survives a restart of graphstore as it is.
  const absl::Status restarted = stack_->RestartGraphstore();
  ASSERT_TRUE(restarted.ok()) << restarted;
  graphstore_ = stack_->graphstore();
  graph_ = v1::GraphStore::NewStub(grpc::CreateChannel(
      graphstore_->address(), grpc::InsecureChannelCredentials()));
  ExpectEveryRecord();
  EXPECT_EQ(Stats().last_sequence(), sequence);
}

}  // namespace
}  // namespace georisk
