// IngestService on an in-process gRPC server, in front of a fake GraphStore
// served the same way: streaming, flow control, limits, failures, shutdown.
#include "services/ingest/ingest_service.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/testing/temp_dir.h"
#include "domain/testing/builders.h"
#include "georisk/v1/ingest.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/ingest/testing/graphstore_harness.h"

namespace georisk::ingest {
namespace {

using ::georisk::domain::testing::Company;
using ::georisk::domain::testing::Listing;
using ::georisk::domain::testing::NamedCompany;
using ::georisk::domain::testing::Owns;
using ::georisk::domain::testing::Upsert;
using ::georisk::domain::testing::WithSource;
using ::georisk::ingest::testing::GraphStoreHarness;
using ::testing::HasSubstr;

class IngestServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake =
        GraphStoreHarness::Create(base::testing::MakeTempDir("service"));
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = std::move(*fake);
    options_.session.batch_size = 100;
    options_.applier.initial_backoff = absl::Milliseconds(1);
    options_.applier.max_backoff = absl::Milliseconds(10);
  }

  // With `resolution`, graphstore also serves Resolution and ingest
  // resolves what it imports through it.
  void StartIngest(bool resolution = false) {
    std::shared_ptr<v1::Resolution::StubInterface> resolution_stub;
    if (resolution) {
      fake_.reset();
      auto fake = GraphStoreHarness::Create(
          base::testing::MakeTempDir("service"),
          ingest::testing::HarnessOptions{/*resolution=*/true});
      ASSERT_TRUE(fake.ok()) << fake.status();
      fake_ = std::move(*fake);
      resolution_stub = fake_->NewResolutionStub();
    }
    service_ = std::make_unique<IngestService>(fake_->NewStub(), options_,
                                               &registry_, resolution_stub);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Ingest::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    if (server_) {
      service_->Shutdown();
      server_->Shutdown();
      server_->Wait();
    }
    service_.reset();
    if (fake_) fake_->Shutdown();
  }

  // Streams `records` in messages of `per_message`; returns the call's
  // status and fills *summary.
  grpc::Status Stream(const std::vector<v1::Mutation>& records,
                      size_t per_message, v1::IngestSummary* summary,
                      const v1::IngestOptions& options = {}) {
    grpc::ClientContext context;
    v1::IngestResponse response;
    auto writer = stub_->Ingest(&context, &response);
    for (size_t at = 0; at == 0 || at < records.size(); at += per_message) {
      v1::IngestRequest request;
      if (at == 0) *request.mutable_options() = options;
      for (size_t i = at; i < std::min(records.size(), at + per_message); ++i) {
        *request.add_records() = records[i];
      }
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    *summary = response.summary();
    return status;
  }

  static std::vector<v1::Mutation> Companies(int n, int bad_every = 0) {
    std::vector<v1::Mutation> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(
          Upsert(Company(absl::StrCat("company/c", i),
                         bad_every && i % bad_every == 0 ? "XX" : "TW")));
    }
    return out;
  }

  common::MetricsRegistry registry_;
  IngestServiceOptions options_;
  std::unique_ptr<GraphStoreHarness> fake_;
  std::unique_ptr<IngestService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
};

TEST_F(IngestServiceTest, StreamsRecordsAndAnswersAfterGraphStoreAcknowledged) {
  StartIngest();
  v1::IngestSummary summary;
  const grpc::Status status = Stream(Companies(2000, 100), 64, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.received(), 2000);
  EXPECT_EQ(summary.accepted(), 1980);
  EXPECT_EQ(summary.rejected(), 20);
  EXPECT_EQ(summary.rejections(0).record_index(), 0);
  EXPECT_EQ(summary.rejections(1).record_index(), 100);
  EXPECT_EQ(summary.rejections(1).field(), "upsert_entity.country");
  // Everything accepted is stored by the time the summary arrives.
  EXPECT_EQ(summary.last_sequence(), fake_->store()->LastSequence());
  EXPECT_EQ(fake_->store()->GetStats()->entity_count, 1980);
  for (int size : fake_->batch_sizes()) EXPECT_LE(size, 100);
  EXPECT_TRUE(registry_.Validate().ok()) << registry_.Validate();
  EXPECT_THAT(registry_.Render(),
              HasSubstr("georisk_ingest_records_total{outcome=\"applied\"} "
                        "1980"));
}

TEST_F(IngestServiceTest, FlowControlBoundsRecordsInFlight) {
  options_.max_in_flight_records = 200;
  options_.session.batch_size = 100;
  StartIngest();
  fake_->SetApplyDelay(absl::Milliseconds(5));
  std::atomic<double> peak{0};
  common::Gauge* in_flight =
      &registry_
           .AddGauge("georisk_ingest_records_in_flight",
                     "Records received and not yet acknowledged by "
                     "graphstore.")
           .WithLabels({});
  fake_->OnApply([&](absl::Span<const v1::Mutation* const>) {
    double v = in_flight->Value();
    double p = peak.load();
    while (v > p && !peak.compare_exchange_weak(p, v)) {
    }
  });
  v1::IngestSummary summary;
  const grpc::Status status = Stream(Companies(3000), 50, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), 3000);
  EXPECT_GT(peak.load(), 0);
  // At most the limit, plus the message read when just below it.
  EXPECT_LE(peak.load(), 200 + 50);
  EXPECT_EQ(in_flight->Value(), 0);
}

TEST_F(IngestServiceTest, MessageAboveTheLimitIsResourceExhausted) {
  options_.max_in_flight_records = 100;
  StartIngest();
  v1::IngestSummary summary;
  const grpc::Status status = Stream(Companies(101), 101, &summary);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("a message may carry at most 100 records, got 101"));
  EXPECT_THAT(status.error_message(), HasSubstr("resend from index 0"));
}

TEST_F(IngestServiceTest, TooManyCallsAtOnceIsResourceExhausted) {
  options_.max_concurrent_calls = 1;
  StartIngest();
  grpc::ClientContext first_context;
  v1::IngestResponse first_response;
  auto first = stub_->Ingest(&first_context, &first_response);
  ASSERT_TRUE(first->Write(v1::IngestRequest()));
  // Wait until the first call is admitted.
  common::Gauge* streams =
      &registry_
           .AddGauge("georisk_ingest_streams",
                     "Ingest and IngestBatch calls in progress.")
           .WithLabels({});
  for (int i = 0; i < 500 && streams->Value() < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  v1::IngestSummary summary;
  const grpc::Status second = Stream(Companies(1), 1, &summary);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(second.error_message(), HasSubstr("more than 1 Ingest calls"));
  first->WritesDone();
  EXPECT_TRUE(first->Finish().ok());
}

TEST_F(IngestServiceTest, GraphStoreDownIsUnavailableWithWhereToResume) {
  options_.applier.retry_deadline = absl::Milliseconds(200);
  StartIngest();
  v1::IngestSummary summary;
  ASSERT_TRUE(Stream(Companies(150), 50, &summary).ok());
  fake_->FailAllApplies(absl::UnavailableError("graphstore is restarting"));
  std::vector<v1::Mutation> more = Companies(150);
  const grpc::Status status = Stream(more, 50, &summary);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(),
              HasSubstr("graphstore unavailable for 200ms"));
  EXPECT_THAT(status.error_message(), HasSubstr("resend from index 0"));
}

TEST_F(IngestServiceTest, BadOptionsAreInvalidArgument) {
  StartIngest();
  v1::IngestOptions options;
  options.set_snapshot_source(" padded");
  v1::IngestSummary summary;
  const grpc::Status status = Stream(Companies(3), 3, &summary, options);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options.snapshot_source"));

  // Each of several sources is checked, and named by its index.
  v1::IngestOptions several;
  several.set_snapshot_source("trade.gov/csl:EL");
  several.add_snapshot_sources("trade.gov/csl:SDN");
  several.add_snapshot_sources("trade.gov/csl:EL");
  grpc::Status repeated = Stream(Companies(3), 3, &summary, several);
  EXPECT_EQ(repeated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(repeated.error_message(),
              HasSubstr("options.snapshot_sources[1]: \"trade.gov/csl:EL\" "
                        "is already one of the snapshot's sources"));
  several.set_snapshot_sources(1, "");
  grpc::Status empty = Stream(Companies(3), 3, &summary, several);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(empty.error_message(), HasSubstr("options.snapshot_sources[1]"));
}

TEST_F(IngestServiceTest, IdleStreamsAreEndedWithDeadlineExceeded) {
  absl::Mutex mu;
  absl::Time now = absl::FromUnixSeconds(1750000000);
  options_.clock = [&] {
    absl::MutexLock lock(&mu);
    return now;
  };
  options_.idle_check_interval = absl::ZeroDuration();  // The test checks.
  options_.stream_idle_timeout = absl::Seconds(60);
  options_.session.batch_size = 3;  // The message below is applied at once.
  StartIngest();
  auto advance = [&](absl::Duration d) {
    absl::MutexLock lock(&mu);
    now += d;
  };
  grpc::ClientContext context;
  v1::IngestResponse response;
  auto writer = stub_->Ingest(&context, &response);
  v1::IngestRequest request;
  for (const v1::Mutation& m : Companies(3)) *request.add_records() = m;
  ASSERT_TRUE(writer->Write(request));
  // Wait until the message was read and applied (the stream then waits for
  // the client).
  for (int i = 0; i < 2000 && fake_->store()->LastSequence() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(fake_->store()->LastSequence(), 1);
  // ... and acknowledged to the stream.
  for (int i = 0; i < 2000 && registry_.Render().find(
                                  "georisk_ingest_records_in_flight 0") ==
                                  std::string::npos;
       ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  advance(absl::Seconds(59));
  EXPECT_EQ(service_->CheckIdleStreams(), 0) << "59 s: not idle yet";
  advance(absl::Seconds(1));
  EXPECT_EQ(service_->CheckIdleStreams(), 1);
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("no message from the client for 1m"));
  EXPECT_THAT(status.error_message(), HasSubstr("resend from index 3"));
  // Its slot is free again.
  v1::IngestSummary summary;
  EXPECT_TRUE(Stream(Companies(2), 2, &summary).ok());
}

TEST_F(IngestServiceTest, OneClientCannotTakeEverySlot) {
  options_.max_concurrent_calls = 4;
  options_.max_calls_per_client = 2;
  options_.idle_check_interval = absl::ZeroDuration();
  StartIngest();
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::IngestResponse> responses(3);
  std::vector<std::unique_ptr<grpc::ClientWriter<v1::IngestRequest>>> writers;
  for (int i = 0; i < 3; ++i) {
    if (i == 2) {
      // Once the first two are admitted.
      for (int j = 0;
           j < 2000 && registry_.Render().find("georisk_ingest_streams 2") ==
                           std::string::npos;
           ++j) {
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    writers.push_back(stub_->Ingest(contexts.back().get(), &responses[i]));
  }
  // The third of one client is refused at once, the first two stay open.
  const grpc::Status third = writers[2]->Finish();
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.error_message(),
              HasSubstr("more than 2 Ingest calls at once from one client"));
  for (int i = 0; i < 2; ++i) {
    writers[i]->WritesDone();
    EXPECT_TRUE(writers[i]->Finish().ok());
  }
}

TEST_F(IngestServiceTest, IngestBatchFailsFastWhileGraphStoreIsDown) {
  options_.applier.retry_deadline = absl::Seconds(60);
  options_.batch_unreachable_probe = absl::Milliseconds(20);
  StartIngest();
  fake_->FailAllApplies(absl::UnavailableError("connection refused"));
  v1::IngestBatchRequest request;
  for (const v1::Mutation& m : Companies(5)) *request.add_records() = m;
  grpc::ClientContext context;
  v1::IngestBatchResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = stub_->IngestBatch(&context, request, &response);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "not retry_deadline";
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("graphstore is unreachable"));
  EXPECT_THAT(status.error_message(), HasSubstr("resend from index 0"));
  auto hint =
      context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms");
  ASSERT_NE(hint, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(hint->second.data(), hint->second.size()), "2000");
}

TEST_F(IngestServiceTest, IngestBatchRefusesMoreThanTenThousandByDefault) {
  options_ = IngestServiceOptions();
  StartIngest();
  v1::IngestBatchRequest request;
  for (const v1::Mutation& m : Companies(10001)) *request.add_records() = m;
  grpc::ClientContext context;
  v1::IngestBatchResponse response;
  const grpc::Status status = stub_->IngestBatch(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("IngestBatch takes at most 10000 records, got 10001"));
  EXPECT_EQ(fake_->apply_calls(), 0);
}

TEST_F(IngestServiceTest, IngestBatchRunsThePipelineAndIsBounded) {
  options_.max_batch_records = 10;
  StartIngest();
  v1::IngestBatchRequest request;
  for (const v1::Mutation& m : Companies(10, 5)) *request.add_records() = m;
  *request.add_records() = Upsert(
      WithSource(Listing("signal/x", "US-BIS", {"company/c1"}, 0.8), "src"));
  {
    grpc::ClientContext context;
    v1::IngestBatchResponse response;
    const grpc::Status status =
        stub_->IngestBatch(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(status.error_message(), HasSubstr("at most 10 records"));
  }
  request.mutable_records()->RemoveLast();
  grpc::ClientContext context;
  v1::IngestBatchResponse response;
  ASSERT_TRUE(stub_->IngestBatch(&context, request, &response).ok());
  EXPECT_EQ(response.summary().accepted(), 8);
  EXPECT_EQ(response.summary().rejected(), 2);
  EXPECT_EQ(response.summary().last_sequence(), fake_->store()->LastSequence());
}

TEST_F(IngestServiceTest, IngestBatchSnapshot) {
  StartIngest();
  auto batch = [&](std::vector<v1::Mutation> records,
                   const std::string& snapshot) {
    v1::IngestBatchRequest request;
    request.mutable_options()->set_snapshot_source(snapshot);
    for (auto& m : records) *request.add_records() = std::move(m);
    grpc::ClientContext context;
    v1::IngestBatchResponse response;
    EXPECT_TRUE(stub_->IngestBatch(&context, request, &response).ok());
    return response.summary();
  };
  batch({Upsert(WithSource(Listing("signal/a", "US-BIS", {"company/a"}, 0.8),
                           "s")),
         Upsert(WithSource(Listing("signal/b", "US-BIS", {"company/b"}, 0.8),
                           "s"))},
        "");
  const v1::IngestSummary s =
      batch({Upsert(WithSource(
                Listing("signal/a", "US-BIS", {"company/a"}, 0.8), "s"))},
            "s");
  EXPECT_EQ(s.duplicates(), 1);
  EXPECT_EQ(s.ended(), 1);
}

// A snapshot of a source of ownership edges (as OpenSanctions' Ownership
// records are) ends the source's edges the new snapshot no longer has, keeps
// the ones it names, and leaves other sources' edges alone; a second import
// of the same snapshot ends nothing more.
TEST_F(IngestServiceTest, SnapshotEndsEdgesOfTheSourceNoLongerPresent) {
  StartIngest();
  auto owns = [](const std::string& from, const std::string& to,
                 const std::string& source) {
    v1::Mutation m = Upsert(Owns(from, to, 0.6));
    m.mutable_upsert_edge()->set_source(source);
    return m;
  };
  v1::IngestSummary summary;
  ASSERT_TRUE(
      Stream(
          {Upsert(Company("company/a")), Upsert(Company("company/b")),
           Upsert(Company("company/c")), owns("company/a", "company/b", "os"),
           owns("company/a", "company/c", "os"),
           owns("company/b", "company/c", "other")},
          10, &summary)
          .ok());
  ASSERT_EQ(summary.accepted(), 6);

  v1::IngestOptions snapshot;
  snapshot.set_snapshot_source("os");
  ASSERT_TRUE(
      Stream({owns("company/a", "company/b", "os")}, 10, &summary, snapshot)
          .ok());
  EXPECT_EQ(summary.ended(), 1);
  auto edge = [&](const std::string& from, const std::string& to) {
    storage::EdgeQuery query;
    query.entity_id = from;
    absl::StatusOr<storage::EdgePage> page = fake_->store()->ListEdges(query);
    EXPECT_TRUE(page.ok()) << page.status();
    for (const v1::Edge& e : page->edges) {
      if (e.to_id() == to) return e;
    }
    ADD_FAILURE() << from << " -> " << to << " is gone";
    return v1::Edge();
  };
  EXPECT_TRUE(edge("company/a", "company/c").has_effective_until())
      << "no longer in the snapshot: ended, kept for history";
  EXPECT_FALSE(edge("company/a", "company/b").has_effective_until());
  EXPECT_FALSE(edge("company/b", "company/c").has_effective_until())
      << "another source's edge";

  ASSERT_TRUE(
      Stream({owns("company/a", "company/b", "os")}, 10, &summary, snapshot)
          .ok());
  EXPECT_EQ(summary.ended(), 0);
}

// One stream can be the whole snapshot of several sources (a consolidated
// file of several lists): what it no longer holds of each is ended, signals
// and edges alike, and a source it does not name is left alone.
TEST_F(IngestServiceTest, SnapshotOfSeveralSourcesEndsEachOfThem) {
  StartIngest();
  auto listed = [](const std::string& id, const std::string& source) {
    return Upsert(
        WithSource(Listing(id, "US-BIS", {"company/a"}, 0.8), source));
  };
  auto owns = [](const std::string& to, const std::string& source) {
    v1::Mutation m = Upsert(Owns("company/a", to, 0.6));
    m.mutable_upsert_edge()->set_source(source);
    return m;
  };
  v1::IngestSummary summary;
  ASSERT_TRUE(
      Stream({Upsert(Company("company/a")), Upsert(Company("company/b")),
              Upsert(Company("company/c")), listed("signal/el-1", "el"),
              listed("signal/el-2", "el"), listed("signal/sdn-1", "sdn"),
              listed("signal/sdn-2", "sdn"), listed("signal/dpl-1", "dpl"),
              owns("company/b", "sdn"), owns("company/c", "dpl")},
             20, &summary)
          .ok());
  ASSERT_EQ(summary.accepted(), 10);

  v1::IngestOptions snapshot;
  snapshot.set_snapshot_source("el");
  snapshot.add_snapshot_sources("sdn");
  ASSERT_TRUE(
      Stream({listed("signal/el-1", "el"), listed("signal/sdn-2", "sdn")}, 20,
             &summary, snapshot)
          .ok());
  // el-2, sdn-1 and the sdn edge; nothing of dpl.
  EXPECT_EQ(summary.ended(), 3);
  auto ended = [&](const std::string& id) {
    absl::StatusOr<storage::SignalPage> page =
        fake_->store()->ListSignals(storage::SignalQuery());
    EXPECT_TRUE(page.ok()) << page.status();
    for (const v1::Signal& s : page->signals) {
      if (s.id() == id) return s.has_effective_until();
    }
    ADD_FAILURE() << id << " is gone";
    return false;
  };
  EXPECT_FALSE(ended("signal/el-1"));
  EXPECT_TRUE(ended("signal/el-2"));
  EXPECT_TRUE(ended("signal/sdn-1"));
  EXPECT_FALSE(ended("signal/sdn-2"));
  EXPECT_FALSE(ended("signal/dpl-1")) << "a source the snapshot is not of";
  storage::EdgeQuery query;
  query.entity_id = "company/a";
  absl::StatusOr<storage::EdgePage> edges = fake_->store()->ListEdges(query);
  ASSERT_TRUE(edges.ok()) << edges.status();
  for (const v1::Edge& e : edges->edges) {
    EXPECT_EQ(e.has_effective_until(), e.source() == "sdn") << e.to_id();
  }
}

TEST_F(IngestServiceTest, ShutdownEndsStreamsPromptlyWithUnavailable) {
  StartIngest();
  fake_->SetApplyDelay(absl::Seconds(20));
  grpc::ClientContext context;
  v1::IngestResponse response;
  auto writer = stub_->Ingest(&context, &response);
  v1::IngestRequest request;
  for (const v1::Mutation& m : Companies(100)) *request.add_records() = m;
  ASSERT_TRUE(writer->Write(request));  // A whole batch: applied at once.
  while (fake_->apply_calls() == 0) absl::SleepFor(absl::Milliseconds(5));
  const absl::Time start = absl::Now();
  service_->Shutdown();
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("ingest is shutting down"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  // New calls are refused.
  v1::IngestSummary summary;
  EXPECT_EQ(Stream(Companies(1), 1, &summary).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(IngestServiceTest, ClientCancelReleasesTheCall) {
  options_.max_concurrent_calls = 1;
  StartIngest();
  fake_->SetApplyDelay(absl::Milliseconds(300));
  {
    grpc::ClientContext context;
    v1::IngestResponse response;
    auto writer = stub_->Ingest(&context, &response);
    v1::IngestRequest request;
    for (const v1::Mutation& m : Companies(100)) *request.add_records() = m;
    ASSERT_TRUE(writer->Write(request));
    while (fake_->apply_calls() == 0) absl::SleepFor(absl::Milliseconds(5));
    context.TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  fake_->SetApplyDelay(absl::ZeroDuration());
  // The slot frees up once the cancelled call is done.
  grpc::Status status;
  v1::IngestSummary summary;
  for (int i = 0; i < 100; ++i) {
    status = Stream(Companies(1), 1, &summary);
    if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// Resolution on import (import_resolver.h has the rules in detail).

// Huawei's LEI (ISO 17442 check digits valid), from docs/resolution.md.
constexpr char kHuaweiLei[] = "506700GE1G29325QX363";

v1::Mutation Party(const std::string& slug, const std::string& name,
                   const std::string& country, const std::string& lei,
                   const std::string& source) {
  return Upsert(NamedCompany("company/" + slug, name, country, lei, source));
}

std::vector<v1::Mutation> TeamGraph() {
  return {Party("huawei", "Huawei Technologies Co., Ltd.", "CN", kHuaweiLei,
                "team"),
          Party("tsmc", "Taiwan Semiconductor Manufacturing Co., Ltd.", "TW",
                "", "team")};
}

// Names the team's two parties under its own ids: by LEI, by name only.
std::vector<v1::Mutation> ScreeningList() {
  return {Party("csl-1", "HUAWEI TECHNOLOGIES CO LTD", "CN", kHuaweiLei,
                "trade.gov/csl"),
          Party("csl-2", "Taiwan Semiconductor Manufacturing Company Limited",
                "TW", "", "trade.gov/csl")};
}

TEST_F(IngestServiceTest, StreamAndBatchResolveWhatTheyImport) {
  StartIngest(/*resolution=*/true);
  v1::IngestSummary summary;
  ASSERT_TRUE(Stream(TeamGraph(), 10, &summary).ok());
  EXPECT_EQ(summary.resolution().new_parties(), 2);
  EXPECT_EQ(summary.resolution().links_written(), 0);

  grpc::Status status = Stream(ScreeningList(), 1, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), 2);
  const v1::ImportResolution& r = summary.resolution();
  EXPECT_EQ(r.linked_automatically(), 1);
  EXPECT_EQ(r.waiting_for_review(), 1);
  EXPECT_EQ(r.new_parties(), 0);
  EXPECT_EQ(r.not_resolved(), 0) << r.not_resolved_reason();
  EXPECT_EQ(r.links_written(), 2);
  // The links' commit is in last_sequence: a reader waiting for it sees them.
  EXPECT_EQ(summary.last_sequence(), fake_->store()->LastSequence());
  absl::StatusOr<v1::Link> link =
      fake_->store()->GetLink("company/huawei", "company/csl-1");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->judgement(), v1::Link::POSITIVE);
  EXPECT_EQ(link->source(), "trade.gov/csl");  // The listed record's.

  // A reviewer refuses the name match; IngestBatch of the same list keeps
  // the pair apart.
  v1::ReviewLinkRequest review;
  review.mutable_link()->set_entity_a("company/csl-2");
  review.mutable_link()->set_entity_b("company/tsmc");
  review.set_decision(v1::ReviewLinkRequest::REJECT);
  review.set_reason("a different company");
  review.set_reviewer("ana");
  v1::ReviewLinkResponse reviewed;
  ASSERT_TRUE(fake_->resolution()->Review(review, "", &reviewed).ok());

  v1::IngestBatchRequest request;
  for (const v1::Mutation& m : ScreeningList()) *request.add_records() = m;
  v1::IngestBatchResponse response;
  grpc::ClientContext context;
  status = stub_->IngestBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.summary().resolution().kept_refused(), 1);
  EXPECT_EQ(response.summary().resolution().linked_automatically(), 1);
  EXPECT_EQ(response.summary().resolution().links_written(), 0);
  link = fake_->store()->GetLink("company/tsmc", "company/csl-2");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->judgement(), v1::Link::NEGATIVE);
}

TEST_F(IngestServiceTest, ResolveOnImportOffWritesNoLinks) {
  options_.resolve_on_import = false;
  StartIngest(/*resolution=*/true);
  v1::IngestSummary summary;
  ASSERT_TRUE(Stream(TeamGraph(), 10, &summary).ok());
  ASSERT_TRUE(Stream(ScreeningList(), 10, &summary).ok());
  EXPECT_EQ(summary.accepted(), 2);
  EXPECT_FALSE(summary.has_resolution());
  EXPECT_EQ(fake_->store()->GetStats()->link_count, 0);
}

TEST_F(IngestServiceTest, DryRunResolvesNothing) {
  StartIngest(/*resolution=*/true);
  v1::IngestSummary summary;
  ASSERT_TRUE(Stream(TeamGraph(), 10, &summary).ok());
  v1::IngestOptions dry;
  dry.set_dry_run(true);
  ASSERT_TRUE(Stream(ScreeningList(), 10, &summary, dry).ok());
  EXPECT_EQ(summary.accepted(), 2);
  EXPECT_FALSE(summary.has_resolution());
  EXPECT_EQ(fake_->store()->GetStats()->link_count, 0);
}

TEST_F(IngestServiceTest, ResolutionUnavailableNeverFailsTheImport) {
  // A Resolution stub to a graphstore that does not serve it
  // (--noresolution): every match is UNIMPLEMENTED.
  StartIngest();
  service_->Shutdown();
  server_->Shutdown();
  server_->Wait();
  service_.reset();
  service_ = std::make_unique<IngestService>(
      fake_->NewStub(), options_, &registry_, fake_->NewResolutionStub());
  grpc::ServerBuilder builder;
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr);
  stub_ =
      v1::Ingest::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));

  v1::IngestSummary summary;
  const grpc::Status status = Stream(Companies(250), 50, &summary);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), 250);
  EXPECT_EQ(summary.resolution().not_resolved(), 250);
  EXPECT_THAT(summary.resolution().not_resolved_reason(),
              HasSubstr("UNIMPLEMENTED"));
  EXPECT_EQ(fake_->store()->GetStats()->entity_count, 250);
}

}  // namespace
}  // namespace georisk::ingest
