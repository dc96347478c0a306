// The outbox through the real processes (docs/scale-out.md, "The outbox"):
// three graphstore shards on loopback under one partition map, each with
// --shard_peers. A batch of edges and links across shards is split as ingest
// splits it, and only shard 0's part is applied, as an ingest killed right
// after shard 0's commit leaves it; nobody sends the rest. Within a bounded
// wait every record touching shard 0 has both of its copies, on both shards.
// The same for an entity delete whose remote copies nobody deletes. With a
// peer down, shard 0 keeps its entries (and /metrics says so); killed -9
// with them pending and restarted, it delivers them once the peer is back.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "domain/testing/builders.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "services/ingest/shard_router.h"
#include "storage/partition_map.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::HttpGet;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::PickFreePort;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;
constexpr int kCompanies = 60;

std::string Company(int i) { return absl::StrCat("company/o", i); }

class ShardOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("shard_outbox");
    std::vector<std::string> targets;
    for (int i = 0; i < kShards; ++i) {
      listen_[i] = absl::StrCat("127.0.0.1:", PickFreePort());
      targets.push_back(listen_[i]);
    }
    peers_ = absl::StrJoin(targets, ",");
    for (int i = 0; i < kShards; ++i) StartShard(i);
    // The companies, each whole on its shard.
    std::vector<v1::Mutation> companies;
    for (int i = 0; i < kCompanies; ++i) {
      companies.push_back(
          domain::testing::Upsert(domain::testing::Company(Company(i))));
    }
    ApplyParts(companies, {0, 1, 2});
  }

  void TearDown() override {
    for (auto& s : shards_) {
      if (s != nullptr && s->running()) {
        s->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
      }
    }
  }

  void StartShard(int i) {
    auto gs = ServiceProcess::Start(
        {Runfile("services/graphstore/graphstore"),
         {absl::StrCat("--data_dir=", dir_, "/graphstore-", i), "--sync=false",
          "--listen=" + listen_[i], absl::StrCat("--partition_map=", kMap),
          absl::StrCat("--shard_index=", i), "--shard_peers=" + peers_,
          "--route_timeout=2s"},
         dir_});
    ASSERT_TRUE(gs.ok()) << gs.status();
    shards_[i] = *std::move(gs);
    ASSERT_TRUE(
        common::WaitForServing(shards_[i]->address(), "", absl::Seconds(30))
            .ok());
  }

  // Applies the parts of `records` (split as ingest splits them) of the
  // shards in `which`, and only those.
  void ApplyParts(const std::vector<v1::Mutation>& records,
                  const std::vector<int>& which) {
    std::vector<std::vector<ingest::RoutedMutation>> parts =
        ingest::SplitByShard(map_, records);
    for (int s : which) {
      if (parts[s].empty()) continue;
      v1::ApplyRequest request;
      request.set_origin("ingest");
      request.set_reject_invalid(true);
      for (const ingest::RoutedMutation& r : parts[s]) {
        *request.add_mutations() = r.mutation;
      }
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      v1::ApplyResponse response;
      const grpc::Status status = Stub(s)->Apply(&context, request, &response);
      ASSERT_TRUE(status.ok()) << s << ": " << status.error_message();
      ASSERT_EQ(response.rejections_size(), 0)
          << response.rejections(0).reason();
    }
  }

  v1::GraphStore::Stub* Stub(int shard) {
    if (stubs_[shard] == nullptr) {
      stubs_[shard] = v1::GraphStore::NewStub(grpc::CreateChannel(
          listen_[shard], grpc::InsecureChannelCredentials()));
    }
    return stubs_[shard].get();
  }

  int ShardOf(const std::string& id) const { return map_.ShardOf(id); }

  // "from->to" of `id`'s edges in `direction`, on its shard.
  std::set<std::string> Edges(const std::string& id, v1::Direction direction) {
    v1::ListEdgesRequest request;
    request.set_entity_id(id);
    request.set_direction(direction);
    request.set_page_size(1000);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListEdgesResponse response;
    const grpc::Status s =
        Stub(ShardOf(id))->ListEdges(&context, request, &response);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    std::set<std::string> out;
    for (const v1::Edge& e : response.edges()) {
      out.insert(
          absl::StrCat(e.from_id(), "->", e.to_id(), "/", e.product_code()));
    }
    return out;
  }

  // The other ends of `id`'s links, on its shard.
  std::set<std::string> Links(const std::string& id) {
    auto stub = v1::Resolution::NewStub(grpc::CreateChannel(
        listen_[ShardOf(id)], grpc::InsecureChannelCredentials()));
    v1::ListLinksRequest request;
    request.set_entity_id(id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListLinksResponse response;
    const grpc::Status s = stub->ListLinks(&context, request, &response);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    std::set<std::string> out;
    for (const v1::Link& l : response.links()) {
      out.insert(l.entity_a() == id ? l.entity_b() : l.entity_a());
    }
    return out;
  }

  // Shard `shard`'s georisk_graphstore_outbox_pending for `peer`, -1 when
  // the series is not there.
  double Pending(int shard, int peer) {
    absl::StatusOr<testing::HttpResult> got =
        HttpGet(shards_[shard]->metrics_port(), "/metrics");
    if (!got.ok()) return -1;
    const std::string series = absl::StrCat(
        "georisk_graphstore_outbox_pending{peer=\"graphstore-", peer, "\"} ");
    for (absl::string_view line : absl::StrSplit(got->body, '\n')) {
      if (absl::ConsumePrefix(&line, series)) {
        double v = 0;
        if (absl::SimpleAtod(line, &v)) return v;
      }
    }
    return -1;
  }

  // Waits up to 20 s for `done`; the time it took, or nullopt.
  template <typename Fn>
  std::optional<absl::Duration> WaitFor(Fn done) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < absl::Seconds(20)) {
      if (done()) return absl::Now() - start;
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (done()) return absl::Now() - start;
    return std::nullopt;
  }

  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
  std::string dir_;
  std::string listen_[kShards];
  std::string peers_;
  std::unique_ptr<ServiceProcess> shards_[kShards];
  std::unique_ptr<v1::GraphStore::Stub> stubs_[kShards];
};

v1::Mutation Edge(int from, int to, const std::string& product) {
  v1::Edge e = domain::testing::Supplies(Company(from), Company(to), 0.5);
  e.set_product_code(product);
  return domain::testing::WithKey(
      domain::testing::Upsert(e),
      absl::StrCat("e", from, "-", to, "-", product));
}

std::string Name(int from, int to, const std::string& product) {
  return absl::StrCat(Company(from), "->", Company(to), "/", product);
}

TEST_F(ShardOutboxTest, ABatchLeftHalfWrittenConvergesWithoutAResend) {
  std::vector<v1::Mutation> batch;
  std::vector<std::pair<int, int>> edges, links;
  for (int i = 0; i + 1 < kCompanies; ++i) {
    batch.push_back(Edge(i, i + 1, "8542"));
    edges.emplace_back(i, i + 1);
  }
  for (int i = 0; i + 3 < kCompanies; i += 3) {
    batch.push_back(domain::testing::WithKey(
        domain::testing::Upsert(domain::testing::IdentifierLink(
            Company(i), Company(i + 3), v1::Link::POSITIVE)),
        absl::StrCat("l", i)));
    links.emplace_back(i, i + 3);
  }
  // Only shard 0's part: the ingest that sent it died right after.
  ApplyParts(batch, {0});
  int across = 0, linked = 0;
  auto complete = [&] {
    across = linked = 0;
    for (const auto& [f, t] : edges) {
      const int sf = ShardOf(Company(f)), st = ShardOf(Company(t));
      if ((sf != 0 && st != 0) || sf == st) continue;
      ++across;
      if (Edges(Company(f), v1::DIRECTION_OUTBOUND).count(Name(f, t, "8542")) ==
              0 ||
          Edges(Company(t), v1::DIRECTION_INBOUND).count(Name(f, t, "8542")) ==
              0) {
        return false;
      }
    }
    for (const auto& [a, b] : links) {
      const int sa = ShardOf(Company(a)), sb = ShardOf(Company(b));
      if ((sa != 0 && sb != 0) || sa == sb) continue;
      ++linked;
      if (Links(Company(a)).count(Company(b)) == 0 ||
          Links(Company(b)).count(Company(a)) == 0) {
        return false;
      }
    }
    return true;
  };
  const std::optional<absl::Duration> took = WaitFor(complete);
  ASSERT_TRUE(took.has_value()) << shards_[0]->Log();
  EXPECT_GT(across, 10);
  EXPECT_GT(linked, 3);
  std::printf("%d edges and %d links across shards converged in %s\n", across,
              linked, absl::FormatDuration(*took).c_str());
  EXPECT_TRUE(WaitFor([&] {
                return Pending(0, 1) == 0 && Pending(0, 2) == 0;
              }).has_value());

  // An entity of shard 0 deleted there alone: the copies other shards hold
  // of its edges and links go too.
  // (A company of shard 0 with a link, i % 3 == 0, whose next company and
  // linked company are elsewhere.)
  int victim = -1;
  for (int i = 0; i + 3 < kCompanies && victim < 0; i += 3) {
    if (ShardOf(Company(i)) == 0 && ShardOf(Company(i + 1)) != 0 &&
        ShardOf(Company(i + 3)) != 0) {
      victim = i;
    }
  }
  ASSERT_GE(victim, 0);
  ASSERT_EQ(Edges(Company(victim + 1), v1::DIRECTION_INBOUND)
                .count(Name(victim, victim + 1, "8542")),
            1u);
  ASSERT_EQ(Links(Company(victim + 3)).count(Company(victim)), 1u);
  ApplyParts({domain::testing::DeleteEntity(Company(victim))}, {0});
  const std::optional<absl::Duration> gone = WaitFor([&] {
    return Edges(Company(victim + 1), v1::DIRECTION_INBOUND)
                   .count(Name(victim, victim + 1, "8542")) == 0 &&
           Links(Company(victim + 3)).count(Company(victim)) == 0;
  });
  ASSERT_TRUE(gone.has_value());
  std::printf("the delete of %s reached the other shards in %s\n",
              Company(victim).c_str(), absl::FormatDuration(*gone).c_str());
}

TEST_F(ShardOutboxTest, EntriesWaitForADownPeerAndSurviveAKill) {
  // Edges from shard 0's companies to shard 1's.
  std::vector<int> on0, on1;
  for (int i = 0; i < kCompanies; ++i) {
    if (ShardOf(Company(i)) == 0) on0.push_back(i);
    if (ShardOf(Company(i)) == 1) on1.push_back(i);
  }
  ASSERT_GE(on0.size(), 5u);
  ASSERT_GE(on1.size(), 5u);
  std::vector<v1::Mutation> batch;
  for (int k = 0; k < 5; ++k) batch.push_back(Edge(on0[k], on1[k], "8471"));

  ASSERT_TRUE(shards_[1]->Stop(SIGKILL, absl::Seconds(10)).ok());
  ApplyParts(batch, {0});
  // Kept while the peer is down, and shown.
  ASSERT_TRUE(WaitFor([&] { return Pending(0, 1) == 5; }).has_value())
      << Pending(0, 1);
  // Killed with them pending, restarted: still there.
  ASSERT_TRUE(shards_[0]->Stop(SIGKILL, absl::Seconds(10)).ok());
  StartShard(0);
  ASSERT_TRUE(WaitFor([&] { return Pending(0, 1) == 5; }).has_value())
      << Pending(0, 1);
  // The peer back on its address: delivered.
  StartShard(1);
  const std::optional<absl::Duration> took = WaitFor([&] {
    for (int k = 0; k < 5; ++k) {
      if (Edges(Company(on1[k]), v1::DIRECTION_INBOUND)
              .count(Name(on0[k], on1[k], "8471")) == 0) {
        return false;
      }
    }
    return Pending(0, 1) == 0;
  });
  ASSERT_TRUE(took.has_value()) << shards_[0]->Log();
  std::printf("5 entries delivered %s after the peer came back\n",
              absl::FormatDuration(*took).c_str());
}

}  // namespace
}  // namespace georisk
