// The Resolution service through the router, with the real processes: three
// graphstore shards on loopback, each also a router (--route, as every pod in
// prod), written by a sharded ingest; one unpartitioned graphstore written by
// its own ingest with the same records is the reference. Entities spread
// over the shards and UNSURE links between them (many across shards, with
// tied scores) are imported into both. Then, through ONE pod: the review
// queue is the one graphstore's (same links, same order; pages of 3 give the
// whole queue once), `georiskctl review list` and `links` against a pod
// answer for the whole graph, and a review of a pair across shards is
// accepted and read back from either end through every pod. With one shard
// killed -9, the calls that need it are UNAVAILABLE naming it (and its
// trailer), the others are answered.
#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
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
constexpr int kCompanies = 30;

// Ids the hash spreads over the three shards.
std::string C(int i) { return absl::StrCat("company/co-", i * 7919); }

std::string Entities() {
  std::string out;
  for (int i = 0; i < kCompanies; ++i) {
    absl::StrAppend(&out, R"({"upsert_entity": {"id": ")", C(i),
                    R"(", "kind": "COMPANY", "name": "Firm )", i,
                    R"( Holdings", "country": "TW", "source": "test"}})", "\n");
  }
  return out;
}

// UNSURE links between neighbours and between i and i+5, scores from a few
// values (ties broken by the pair), from two sources.
std::string Links() {
  const double scores[] = {0.9, 0.85, 0.8, 0.8, 0.75};
  std::string out;
  for (int i = 0; i < kCompanies; ++i) {
    for (int step : {1, 5}) {
      if (i + step >= kCompanies) continue;
      const double score = scores[(i + step) % 5];
      absl::StrAppend(
          &out, R"({"upsert_link": {"entity_a": ")", C(i),
          R"(", "entity_b": ")", C(i + step),
          R"(", "judgement": "UNSURE", "method": "NAME", "score": )", score,
          R"(, "features": {"name_similarity": )", score,
          R"(}, "evidence": ["name ~ name"], "decided_by": "rule:name", )",
          R"("decided_at": "2026-11-01T00:00:00Z", "source": ")",
          i % 3 ? "import:list-a" : "import:list-b", R"("}})", "\n");
    }
  }
  return out;
}

std::string Text(v1::Link l) {
  l.clear_update_sequence();
  l.clear_update_origin();
  return l.ShortDebugString();
}

class ShardReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("shard_review");
    ShardedGraphOptions sharded;
    sharded.dir = dir_;
    sharded.map = kMap;
    sharded.shards = kShards;
    sharded.route = true;  // Every pod routes, as in prod.
    auto graph = ShardedGraph::Start(sharded);
    ASSERT_TRUE(graph.ok()) << graph.status();
    graph_ = *std::move(graph);
    Write("entities.jsonl", Entities());
    Write("links.jsonl", Links());
  }

  void TearDown() override {
    graph_.reset();
    if (single_ != nullptr) {
      EXPECT_TRUE(single_->Stop().ok());
    }
  }

  void StartSingle() {
    StackOptions options;
    options.dir = dir_ + "/single";
    options.ingest_args = {"--resolve_on_import=false"};
    ASSERT_EQ(system(("mkdir -p " + options.dir).c_str()), 0);
    auto stack = ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    single_ = *std::move(stack);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  void Import(const std::string& ingest) {
    for (const char* file : {"entities.jsonl", "links.jsonl"}) {
      CommandResult r =
          RunCommand(dir_, Runfile("services/georiskctl/georiskctl"),
                     {"import", dir_ + "/" + file, "--ingest=" + ingest,
                      "--progress=none"});
      ASSERT_EQ(r.code, 0) << file << ": " << r.out << r.err;
      EXPECT_EQ(SummaryValue(r.out, "rejected"), 0) << r.out;
    }
  }

  CommandResult Georiskctl(const std::string& pod,
                           std::vector<std::string> args) {
    args.push_back("--graphstore=" + pod);
    return RunCommand(dir_, Runfile("services/georiskctl/georiskctl"),
                      std::move(args));
  }

  v1::Resolution::Stub* Stub(const std::string& addr) {
    std::unique_ptr<v1::Resolution::Stub>& stub = stubs_[addr];
    if (stub == nullptr) {
      stub = v1::Resolution::NewStub(
          grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    }
    return stub.get();
  }

  static void Prepare(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  }

  // Every page of the queue as `addr` answers, `page_size` at a time.
  std::vector<v1::ListReviewQueueResponse> Queue(const std::string& addr,
                                                 int page_size) {
    std::vector<v1::ListReviewQueueResponse> pages;
    v1::ListReviewQueueRequest request;
    request.set_page_size(page_size);
    do {
      grpc::ClientContext context;
      Prepare(&context);
      v1::ListReviewQueueResponse page;
      const grpc::Status s =
          Stub(addr)->ListReviewQueue(&context, request, &page);
      EXPECT_TRUE(s.ok()) << addr << ": " << s.error_message();
      if (!s.ok()) break;
      request.set_page_token(page.next_page_token());
      pages.push_back(std::move(page));
    } while (!request.page_token().empty() && pages.size() < 200);
    return pages;
  }

  static std::vector<std::string> Texts(
      const std::vector<v1::ListReviewQueueResponse>& pages) {
    std::vector<std::string> out;
    for (const auto& p : pages) {
      for (const v1::Link& l : p.links()) out.push_back(Text(l));
    }
    return out;
  }

  grpc::Status ListLinks(const std::string& addr, const std::string& id,
                         v1::ListLinksResponse* response) {
    grpc::ClientContext context;
    Prepare(&context);
    v1::ListLinksRequest request;
    request.set_entity_id(id);
    return Stub(addr)->ListLinks(&context, request, response);
  }

  // A pair with an UNSURE link whose ends are on shards `a` and `b`.
  std::pair<std::string, std::string> Pair(int a, int b) const {
    for (int i = 0; i + 1 < kCompanies; ++i) {
      for (int step : {1, 5}) {
        if (i + step >= kCompanies) continue;
        if (map_.ShardOf(C(i)) == a && map_.ShardOf(C(i + step)) == b) {
          return {C(i), C(i + step)};
        }
      }
    }
    ADD_FAILURE() << "no pair on shards " << a << " and " << b;
    return {};
  }

  std::string dir_;
  std::unique_ptr<ShardedGraph> graph_;
  std::unique_ptr<ServiceStack> single_;
  std::map<std::string, std::unique_ptr<v1::Resolution::Stub>> stubs_;
  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
};

TEST_F(ShardReviewTest, OnePodAnswersTheQueueAndReviewsOfTheWholeGraph) {
  StartSingle();
  ASSERT_FALSE(HasFatalFailure());
  Import(graph_->ingest()->address());
  Import(single_->ingest()->address());
  ASSERT_FALSE(HasFatalFailure());
  int across = 0;
  for (int i = 0; i + 1 < kCompanies; ++i) {
    across += map_.ShardOf(C(i)) != map_.ShardOf(C(i + 1));
  }
  ASSERT_GE(across, 10);

  // The queue through one pod is the one graphstore's: the same links in
  // the same order, pages of 3 giving each once.
  const auto want = Queue(single_->graphstore()->address(), 1000);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(want[0].links_size(), 2 * kCompanies - 6);
  const auto whole = Queue(graph_->listen(1), 1000);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(Texts(whole), Texts(want));
  EXPECT_EQ(whole[0].total_size(), want[0].total_size());
  const auto by_three = Queue(graph_->listen(1), 3);
  EXPECT_EQ(by_three.size(), (want[0].links_size() + 2) / 3);
  EXPECT_EQ(Texts(by_three), Texts(want));
  EXPECT_EQ(Texts(by_three), Texts(Queue(single_->graphstore()->address(), 3)));
  for (const auto& page : by_three) {
    EXPECT_EQ(page.total_size(), want[0].total_size());
  }
  // A page token of one pod is resumed by another.
  {
    v1::ListReviewQueueRequest request;
    request.set_page_size(3);
    request.set_page_token(by_three[0].next_page_token());
    grpc::ClientContext context;
    Prepare(&context);
    v1::ListReviewQueueResponse page;
    ASSERT_TRUE(Stub(graph_->listen(2))
                    ->ListReviewQueue(&context, request, &page)
                    .ok());
    ASSERT_EQ(page.links_size(), 3);
    EXPECT_EQ(Text(page.links(0)), Text(by_three[1].links(0)));
  }
  // A tampered token is INVALID_ARGUMENT naming page_token.
  {
    v1::ListReviewQueueRequest request;
    std::string token = by_three[0].next_page_token();
    token[token.size() / 2] = token[token.size() / 2] == 'A' ? 'B' : 'A';
    request.set_page_token(token);
    grpc::ClientContext context;
    Prepare(&context);
    v1::ListReviewQueueResponse page;
    const grpc::Status s =
        Stub(graph_->listen(0))->ListReviewQueue(&context, request, &page);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_token: "));
  }

  // georiskctl review list against a pod: the whole queue.
  CommandResult list = Georiskctl(
      graph_->listen(2), {"review", "list", "--limit=1000", "--output=json"});
  ASSERT_EQ(list.code, 0) << list.out << list.err;
  v1::ListReviewQueueResponse listed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(list.out, &listed).ok())
      << list.out;
  EXPECT_EQ(Texts({listed}), Texts(want));

  // A review of a pair across shards, by georiskctl through pod 0, whatever
  // shards the pair is on.
  const auto [a, b] = Pair(1, 2);
  CommandResult accepted = Georiskctl(
      graph_->listen(0),
      {"review", "accept", b, a, "--reviewer=ana", "--reason=same LEI"});
  ASSERT_EQ(accepted.code, 0) << accepted.out << accepted.err;
  // Either end through every pod: the one decision.
  std::set<std::string> seen;
  for (int pod = 0; pod < kShards; ++pod) {
    for (const std::string& id : {a, b}) {
      v1::ListLinksResponse links;
      ASSERT_TRUE(ListLinks(graph_->listen(pod), id, &links).ok());
      bool found = false;
      for (const v1::Link& l : links.links()) {
        if (l.entity_a() != std::min(a, b) || l.entity_b() != std::max(a, b)) {
          continue;
        }
        found = true;
        EXPECT_EQ(l.judgement(), v1::Link::POSITIVE) << pod << " " << id;
        EXPECT_EQ(l.decided_by(), "reviewer:ana");
        EXPECT_EQ(l.reason(), "same LEI");
        seen.insert(absl::StrCat(l.decided_at().seconds(), ".",
                                 l.decided_at().nanos()));
      }
      EXPECT_TRUE(found) << "pod " << pod << " " << id;
    }
  }
  EXPECT_EQ(seen.size(), 1u);  // One decided_at on both copies.
  // georiskctl links against another pod shows it; the queue lost it.
  CommandResult links =
      Georiskctl(graph_->listen(1), {"links", a, "--output=json"});
  ASSERT_EQ(links.code, 0) << links.out << links.err;
  EXPECT_THAT(links.out, HasSubstr("reviewer:ana"));
  const auto after = Queue(graph_->listen(2), 1000);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].total_size(), want[0].total_size() - 1);
  // The same decision again writes nothing.
  CommandResult again =
      Georiskctl(graph_->listen(2),
                 {"review", "accept", a, b, "--reviewer=ana", "--output=json"});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("\"already_decided\": true"));
}

TEST_F(ShardReviewTest, AShardKilledFailsOnlyTheCallsThatNeedItNamingIt) {
  Import(graph_->ingest()->address());
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(graph_->shard(2)->Stop(SIGKILL, absl::Seconds(10)).ok());
  const std::string pod = graph_->listen(0);
  auto named = [](const grpc::Status& s, grpc::ClientContext& context) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("graphstore-2: "));
    auto it =
        context.GetServerTrailingMetadata().find("georisk-unavailable-shard");
    ASSERT_NE(it, context.GetServerTrailingMetadata().end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()),
              "graphstore-2");
    EXPECT_NE(
        context.GetServerTrailingMetadata().find("grpc-retry-pushback-ms"),
        context.GetServerTrailingMetadata().end());
  };
  {
    grpc::ClientContext context;
    Prepare(&context);
    v1::ListReviewQueueResponse page;
    named(Stub(pod)->ListReviewQueue(&context, {}, &page), context);
  }
  {
    grpc::ClientContext context;
    Prepare(&context);
    v1::MatchEntitiesRequest request;
    request.mutable_query()->set_name("Firm 3 Holdings");
    v1::MatchEntitiesResponse matches;
    named(Stub(pod)->MatchEntities(&context, request, &matches), context);
  }
  // Links of entities of the live shards are answered; of shard 2 not.
  int live = 0;
  for (int i = 0; i < kCompanies; ++i) {
    grpc::ClientContext context;
    Prepare(&context);
    v1::ListLinksRequest request;
    request.set_entity_id(C(i));
    v1::ListLinksResponse links;
    const grpc::Status s = Stub(pod)->ListLinks(&context, request, &links);
    if (map_.ShardOf(C(i)) == 2) {
      named(s, context);
    } else {
      EXPECT_TRUE(s.ok()) << C(i) << ": " << s.error_message();
      EXPECT_GT(links.links_size(), 0) << C(i);
      ++live;
    }
  }
  EXPECT_GT(live, 10);
  // A review that needs shard 2 is refused; one of shards 0 and 1 is made.
  {
    const auto [a, b] = Pair(1, 2);
    grpc::ClientContext context;
    Prepare(&context);
    v1::ReviewLinkRequest request;
    request.mutable_link()->set_entity_a(a);
    request.mutable_link()->set_entity_b(b);
    request.set_decision(v1::ReviewLinkRequest::ACCEPT);
    request.set_reviewer("ana");
    v1::ReviewLinkResponse response;
    named(Stub(pod)->ReviewLink(&context, request, &response), context);
  }
  const auto [a, b] = Pair(0, 1);
  CommandResult rejected =
      Georiskctl(pod, {"review", "reject", a, b, "--reviewer=ana",
                       "--reason=different registration numbers"});
  EXPECT_EQ(rejected.code, 0) << rejected.out << rejected.err;
  v1::ListLinksResponse links;
  ASSERT_TRUE(ListLinks(graph_->listen(1), b, &links).ok());
  bool refused = false;
  for (const v1::Link& l : links.links()) {
    refused = refused || (l.judgement() == v1::Link::NEGATIVE &&
                          (l.entity_a() == a || l.entity_b() == a));
  }
  EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace georisk
