// Entity resolution of imports against a partitioned graph, through the real
// processes: three graphstore shards on loopback (each also a router for
// reads), ingest routing to them (--graphstore_shards) and resolving against
// every shard's Resolution index; one unpartitioned graphstore with its own
// ingest is the reference. The team's parties are spread over the shards; a
// screening list names them under its own ids, by LEI (linked
// automatically) or by a name variant (waiting for review). Both
// deployments must write the same links, readable from either end on the
// shard that owns it. With one shard down, a list's records on the other shards
// are accepted and each is counted not resolved: a match that cannot ask every
// shard is not made from the others' answers.
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/grpc_probe.h"
#include "storage/partition_map.h"
#include "tests/testing/import_output.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::PickFreePort;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::georisk::testing::ServiceProcess;
using ::georisk::testing::SummaryValue;

constexpr char kMap[] = "0=0-341;1=342-682;2=683-1023";
constexpr int kShards = 3;
constexpr int kByLei = 12;  // Team parties the list names by LEI.
constexpr int kByName = 6;  // ... and by a name variant only.

// Distinct, rare words, so that every name match is well clear of the
// thresholds whatever IDF a shard gives its terms.
const char* const kWords[] = {
    "Quillon",   "Brevantis", "Zephyrine", "Calderic",   "Marrowind",
    "Tessaly",   "Vornhelm",  "Ostrakon",  "Pellucid",   "Gravemont",
    "Sundrake",  "Ilvaris",   "Korrigan",  "Halvardt",   "Nimbrel",
    "Orvandel",  "Drusk",     "Fenwarth",  "Yarrowgate", "Elbrisk",
    "Thornquay", "Ashmerel",  "Lunecrest", "Varnholt"};

// Ids by word, not by number: FNV-1a spreads ids that differ only in a
// short numeric suffix unevenly over few partitions (company/team-0..17 fall
// on two of the three shards), though evenly at scale.
std::string Word(int i) { return absl::AsciiStrToLower(kWords[i % 24]); }
std::string TeamId(int i) { return absl::StrCat("company/team-", Word(i)); }
std::string ListId(int i) { return absl::StrCat("company/list-", Word(i)); }

// A valid LEI (ISO 17442: 18 characters, then ISO 7064 MOD 97-10 digits).
std::string Lei(int i) {
  char base[19];
  std::snprintf(base, sizeof(base), "5493%014d", 7000 + i * 37);
  int mod = 0;
  for (const char c : std::string(base) + "00") {
    const int v = c >= 'A' ? c - 'A' + 10 : c - '0';
    mod = (v >= 10 ? mod * 100 + v : mod * 10 + v) % 97;
  }
  return absl::StrCat(base, absl::Dec(98 - mod, absl::kZeroPad2));
}

std::string TeamName(int i) {
  return absl::StrCat(kWords[i % 24], " ", kWords[(i * 7 + 5) % 24],
                      " Components Co., Ltd.");
}

std::string Team() {
  std::string out;
  for (int i = 0; i < kByLei + kByName; ++i) {
    absl::StrAppend(&out, R"({"upsert_entity": {"id": ")", TeamId(i),
                    R"(", "kind": "COMPANY", "name": ")", TeamName(i),
                    R"(", "country": "TW", )");
    if (i < kByLei) {
      absl::StrAppend(&out, R"("identifiers": {"lei": ")", Lei(i), R"("}, )");
    }
    absl::StrAppend(&out, R"("source": "team"}})", "\n");
  }
  return out;
}

std::string ListRecord(const std::string& id, int i) {
  std::string name = absl::StrCat(kWords[i % 24], " ", kWords[(i * 7 + 5) % 24],
                                  " COMPONENTS COMPANY LIMITED");
  for (char& c : name) c = static_cast<char>(std::toupper(c));
  std::string out = absl::StrCat(R"({"upsert_entity": {"id": ")", id,
                                 R"(", "kind": "COMPANY", "name": ")", name,
                                 R"(", "country": "TW", )");
  if (i < kByLei) {
    absl::StrAppend(&out, R"("identifiers": {"lei": ")", Lei(i), R"("}, )");
  }
  absl::StrAppend(&out, R"("source": "trade.gov/csl:EL"}})", "\n");
  return out;
}

std::string List() {
  std::string out;
  for (int i = 0; i < kByLei + kByName; ++i) {
    absl::StrAppend(&out, ListRecord(ListId(i), i));
  }
  return out;
}

// "a|b|judgement|method" of a link, its ends in id order.
std::string LinkKey(const v1::Link& l) {
  std::string a = l.entity_a(), b = l.entity_b();
  if (b < a) std::swap(a, b);
  return absl::StrCat(a, "|", b, "|", v1::Link::Judgement_Name(l.judgement()),
                      "|", v1::Link::Method_Name(l.method()));
}

class ShardResolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("shard_resolution");
    std::ofstream(dir_ + "/map.txt") << kMap << "\n";
  }

  void TearDown() override {
    std::vector<ServiceProcess*> all = {ingest_.get(), single_.get(),
                                        single_ingest_.get()};
    for (auto& s : shards_) all.push_back(s.get());
    for (ServiceProcess* p : all) {
      if (p != nullptr && p->running()) {
        p->Stop(SIGTERM, absl::Seconds(20)).IgnoreError();
      }
    }
  }

  std::unique_ptr<ServiceProcess> Start(const std::string& binary,
                                        std::vector<std::string> args) {
    auto p = ServiceProcess::Start({Runfile(binary), args, dir_});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    const absl::Status serving =
        common::WaitForServing((*p)->address(), "", absl::Seconds(60));
    EXPECT_TRUE(serving.ok()) << serving << (*p)->Log();
    return *std::move(p);
  }

  void StartAll() {
    std::vector<std::string> listen, targets;
    for (int i = 0; i < kShards; ++i) {
      listen.push_back(absl::StrCat("127.0.0.1:", PickFreePort()));
    }
    const std::string all = absl::StrJoin(listen, ",");
    for (int i = 0; i < kShards; ++i) {
      shards_[i] = Start(
          "services/graphstore/graphstore",
          {absl::StrCat("--data_dir=", dir_, "/graphstore-", i), "--sync=false",
           "--listen=" + listen[i], "--partition_map_file=" + dir_ + "/map.txt",
           absl::StrCat("--shard_index=", i), "--route",
           "--route_shards=" + all});
      ASSERT_NE(shards_[i], nullptr);
    }
    ingest_ = Start("services/ingest/ingest",
                    {"--listen=127.0.0.1:0", "--graphstore=" + listen[0],
                     "--graphstore_shards=" + all,
                     "--partition_map_file=" + dir_ + "/map.txt"});
    ASSERT_NE(ingest_, nullptr);
    single_ = Start("services/graphstore/graphstore",
                    {"--data_dir=" + dir_ + "/single", "--sync=false",
                     "--listen=127.0.0.1:0"});
    ASSERT_NE(single_, nullptr);
    single_ingest_ =
        Start("services/ingest/ingest",
              {"--listen=127.0.0.1:0", "--graphstore=" + single_->address()});
    ASSERT_NE(single_ingest_, nullptr);
  }

  CommandResult Import(const std::string& ingest, const std::string& file) {
    return RunCommand(
        dir_, Runfile("services/georiskctl/georiskctl"),
        {"import", file, "--ingest=" + ingest, "--progress=none"});
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // LinkKey of every link of `id`, as `addr` answers ListLinks.
  std::set<std::string> Links(const std::string& addr, const std::string& id) {
    auto stub = v1::Resolution::NewStub(
        grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    v1::ListLinksRequest request;
    request.set_entity_id(id);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListLinksResponse response;
    const grpc::Status s = stub->ListLinks(&context, request, &response);
    EXPECT_TRUE(s.ok()) << addr << " " << id << ": " << s.error_message();
    std::set<std::string> out;
    for (const v1::Link& l : response.links()) out.insert(LinkKey(l));
    return out;
  }

  std::string Owner(const std::string& id) const {
    return shards_[map_.ShardOf(id)]->address();
  }

  std::string dir_;
  std::unique_ptr<ServiceProcess> shards_[kShards];
  std::unique_ptr<ServiceProcess> ingest_, single_, single_ingest_;
  const storage::PartitionMap map_ = *storage::PartitionMap::Parse(kMap);
};

TEST_F(ShardResolutionTest, ShardsLinkWhatOneStoreLinks) {
  StartAll();
  ASSERT_FALSE(HasFatalFailure());
  // The parties are spread over every shard, and many of the pairs the list
  // makes are across shards.
  std::set<int> owners;
  int across = 0;
  for (int i = 0; i < kByLei + kByName; ++i) {
    const std::string team = TeamId(i);
    owners.insert(map_.ShardOf(team));
    if (map_.ShardOf(team) != map_.ShardOf(ListId(i))) ++across;
  }
  ASSERT_EQ(owners.size(), 3u);
  ASSERT_GE(across, 6);

  const std::string team = Write("team.jsonl", Team());
  const std::string list = Write("list.jsonl", List());
  for (const std::string& ingest :
       {ingest_->address(), single_ingest_->address()}) {
    CommandResult t = Import(ingest, team);
    ASSERT_EQ(t.code, 0) << t.out << t.err;
    EXPECT_EQ(SummaryValue(t.out, "new_parties"), kByLei + kByName) << t.out;
    CommandResult l = Import(ingest, list);
    ASSERT_EQ(l.code, 0) << l.out << l.err << ingest_->Log();
    EXPECT_EQ(SummaryValue(l.out, "accepted"), kByLei + kByName) << l.out;
    EXPECT_EQ(SummaryValue(l.out, "linked_automatically"), kByLei) << l.out;
    EXPECT_EQ(SummaryValue(l.out, "waiting_for_review"), kByName) << l.out;
    EXPECT_EQ(SummaryValue(l.out, "not_resolved"), 0) << l.out;
    EXPECT_EQ(SummaryValue(l.out, "links_written"), kByLei + kByName) << l.out;
  }

  // The same links, from either end, each end's shard answering for it.
  for (int i = 0; i < kByLei + kByName; ++i) {
    const std::string team_id = TeamId(i);
    const std::set<std::string> want = Links(single_->address(), team_id);
    ASSERT_EQ(want.size(), 1u) << team_id;
    EXPECT_EQ(*want.begin(),
              absl::StrCat(ListId(i) < team_id ? ListId(i) : team_id, "|",
                           ListId(i) < team_id ? team_id : ListId(i), "|",
                           i < kByLei ? "POSITIVE|IDENTIFIER" : "UNSURE|NAME"));
    EXPECT_EQ(Links(Owner(team_id), team_id), want) << team_id;
    EXPECT_EQ(Links(Owner(ListId(i)), ListId(i)), want) << ListId(i);
  }
}

TEST_F(ShardResolutionTest, AShardDownLeavesMatchesUnresolvedNotHalfAnswered) {
  StartAll();
  ASSERT_FALSE(HasFatalFailure());
  CommandResult t = Import(ingest_->address(), Write("team.jsonl", Team()));
  ASSERT_EQ(t.code, 0) << t.out << t.err;

  // List records that live on shards 0 and 1 only, naming parties by LEI.
  std::string text;
  int n = 0;
  for (int i = 0; i < kByLei; ++i) {
    const std::string id = absl::StrCat("company/later-", Word(i));
    if (map_.ShardOf(id) == 2) continue;
    absl::StrAppend(&text, ListRecord(id, i));
    ++n;
  }
  ASSERT_GE(n, 4);
  ASSERT_TRUE(shards_[2]->Stop(SIGKILL, absl::Seconds(10)).ok());
  CommandResult l = Import(ingest_->address(), Write("later.jsonl", text));
  EXPECT_EQ(SummaryValue(l.out, "accepted"), n) << l.out << l.err;
  EXPECT_EQ(SummaryValue(l.out, "not_resolved"), n) << l.out << l.err;
  EXPECT_EQ(SummaryValue(l.out, "linked_automatically"), 0) << l.out;
  EXPECT_EQ(SummaryValue(l.out, "links_written"), 0) << l.out;
}

}  // namespace
}  // namespace georisk
