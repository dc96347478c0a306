// The web console in a real browser (issue #19): graphstore, ingest and the
// scorer (with --console_listen) as processes on loopback, the demo imported
// by georiskctl, and headless Chromium (Debian's `chromium`, installed by
// deploy/install-deps.sh) loading the pages; --dump-dom gives the page as
// its scripts left it, --screenshot a picture, written to the test's
// outputs ($TEST_UNDECLARED_OUTPUTS_DIR). Pages a test acts on while they
// are open go through tests/testing/browser.py instead, which drives
// Chromium over the DevTools protocol (--remote-debugging-pipe). Checks: the
// top page lists the entities ListTopRisks returns, in its order; the entity
// page's explanation shares add up to each factor's score, which is
// GetScore's, its neighbourhood drawing has the entities and links of the
// explanation's paths, and its links drawing every edge ListNeighbours
// lists (GraphStore's), customers and owned entities included; a scenario file
// uploaded and run shows the deltas RunScenario returns for the file as
// georiskctl reads it, and a delta's before/after explanation; an alert raised
// while the alerts page is open appears on it without a reload; with a token
// file the API answers 401 without a token, 403 for a role that may not read
// scores, and the same as gRPC for a reader, and the page shows its login form
// instead of data.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "georisk/v1/alerts.grpc.pb.h"
#include "georisk/v1/graphstore.grpc.pb.h"
#include "georisk/v1/scorer.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/common/scenario_file.h"
#include "tests/testing/process.h"
#include "tests/testing/service_stack.h"

namespace georisk {
namespace {

using ::georisk::testing::CommandResult;
using ::georisk::testing::MakeTempDir;
using ::georisk::testing::RunCommand;
using ::georisk::testing::Runfile;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kReader[] = "console-reader-token-0123456789";
constexpr char kWriter[] = "console-writer-token-0123456789";

// The values of attribute `name` in `html`, in document order.
std::vector<std::string> AttributeValues(const std::string& html,
                                         const std::string& name) {
  std::vector<std::string> out;
  const std::regex re(name + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// An attribute value as the DOM serializer wrote it, unescaped.
std::string UnescapeHtml(std::string text) {
  return absl::StrReplaceAll(text, {{"&lt;", "<"},
                                    {"&gt;", ">"},
                                    {"&quot;", "\""},
                                    {"&nbsp;", "\xc2\xa0"},
                                    {"&amp;", "&"}});
}

// An edge record's identity as the links drawing's data-link-edge writes
// it: from|KIND|to|product|record.
std::string EdgeKey(const v1::Edge& e) {
  return absl::StrCat(e.from_id(), "|", v1::Edge::Kind_Name(e.kind()), "|",
                      e.to_id(), "|", e.product_code(), "|", e.record_id());
}

double Number(const std::string& text) {
  double d = NAN;
  EXPECT_TRUE(absl::SimpleAtod(text, &d)) << text;
  return d;
}

class ConsoleTest : public ::testing::Test {
 protected:
  // Starts the services (the scorer with `scorer_args` and a console) and
  // imports the demo; waits until the scorer has scored all of it.
  void StartWithDemo(std::vector<std::string> scorer_args) {
    ASSERT_EQ(access(kChromium, X_OK), 0)
        << kChromium << " is missing: deploy/install-deps.sh installs it";
    dir_ = MakeTempDir("console");
    const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    outputs_ = outputs != nullptr ? outputs : dir_;
    testing::StackOptions options;
    options.dir = dir_;
    options.scorer = true;
    options.ingest_batch_size = 1000;
    options.scorer_args = std::move(scorer_args);
    options.scorer_args.push_back("--console_listen=127.0.0.1:0");
    auto stack = testing::ServiceStack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    console_port_ = stack_->scorer()->Port("console_port");
    ASSERT_GT(console_port_, 0) << stack_->scorer()->Log();
    scorer_ = v1::Scorer::NewStub(grpc::CreateChannel(
        stack_->scorer()->address(), grpc::InsecureChannelCredentials()));

    ASSERT_NO_FATAL_FAILURE(
        Import({"data/demo/entities.jsonl", "data/demo/edges.jsonl",
                "data/demo/signals.jsonl"}));
  }

  // Imports `files` with georiskctl and waits until the scorer has scored
  // them.
  void Import(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"import"};
    for (const std::string& f : files) {
      args.push_back(f[0] == '/' ? f : Runfile(f));
    }
    args.push_back(absl::StrCat("--ingest=", stack_->ingest()->address()));
    args.push_back("--progress=none");
    CommandResult r =
        RunCommand(dir_, Runfile("services/georiskctl/georiskctl"), args);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    auto graph = v1::GraphStore::NewStub(grpc::CreateChannel(
        stack_->graphstore()->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext stats_context;
    v1::GetStatsResponse stats;
    ASSERT_TRUE(
        graph->GetStats(&stats_context, v1::GetStatsRequest(), &stats).ok());
    v1::FeedStatus feed;
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext context;
      Authorize(context);
      if (scorer_->GetFeedStatus(&context, {}, &feed).ok() &&
          feed.applied_sequence() >= stats.last_sequence()) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ASSERT_GE(feed.applied_sequence(), stats.last_sequence())
        << stack_->scorer()->Log();
  }

  // A file raising the demo's cross-strait tension to `level`, for Import.
  std::string TensionChange(const std::string& level) {
    const std::string path = absl::StrCat(dir_, "/tension-", level, ".jsonl");
    std::ofstream(path)
        << R"({"upsertSignal": {"id": "signal/cross-strait-tension", )"
        << R"("tension": {"theatre": "cross_strait", "level": )" << level
        << R"(}, "effectiveFrom": "2025-01-01T00:00:00Z", "source": "test", )"
        << R"j("title": "Cross-strait tension raised (test)"}})j"
        << "\n";
    return path;
  }

  void TearDown() override {
    if (stack_ == nullptr) return;
    absl::Status stopped = stack_->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped;
  }

  void Authorize(grpc::ClientContext& context) {
    if (!token_.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    }
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", console_port_, path);
  }

  // Chromium loads `path` with its scripts, waiting for their calls; returns
  // the DOM as they left it, and writes a screenshot `<shot>.png`.
  std::string Browse(const std::string& path, const std::string& shot) {
    const std::vector<std::string> common = {
        "--headless",
        "--no-sandbox",  // The test may run as root.
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        absl::StrCat("--user-data-dir=", dir_, "/chromium-", runs_++),
        "--virtual-time-budget=30000",
        "--window-size=1280,1600",
        "--hide-scrollbars",
    };
    std::vector<std::string> args = common;
    args.push_back("--dump-dom");
    args.push_back(Url(path));
    CommandResult dom = RunCommand(dir_, kChromium, args, absl::Seconds(120));
    EXPECT_EQ(dom.code, 0) << dom.err;
    args = common;
    args.push_back(absl::StrCat("--screenshot=", outputs_, "/", shot, ".png"));
    args.push_back(Url(path));
    CommandResult picture =
        RunCommand(dir_, kChromium, args, absl::Seconds(120));
    EXPECT_EQ(picture.code, 0) << picture.err;
    return dom.out;
  }

  // Runs tests/testing/browser.py with `steps` (--goto=..., --wait=...) in
  // one open page; ends with a screenshot `<shot>.png` in the outputs and
  // returns the page's DOM then.
  // `whole_page` false: only what the 1280x1600 window shows.
  std::string Drive(std::vector<std::string> steps, const std::string& shot,
                    bool whole_page = true) {
    const std::string dom = absl::StrCat(dir_, "/", shot, ".html");
    std::vector<std::string> args = {
        Runfile("tests/testing/browser.py"),
        absl::StrCat("--chromium=", kChromium),
        absl::StrCat("--user_data_dir=", dir_, "/chromium-", runs_++),
        "--timeout=90",
    };
    for (std::string& s : steps) args.push_back(std::move(s));
    args.push_back(absl::StrCat(
        whole_page ? "--screenshot=" : "--viewport_shot=", outputs_, "/", shot,
        ".png"));
    args.push_back("--dom=" + dom);
    CommandResult r =
        RunCommand(dir_, "/usr/bin/python3", args, absl::Seconds(300));
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    std::ifstream in(dom);
    return std::string(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& token) {
    httplib::Client client("127.0.0.1", console_port_);
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Post(path.c_str(), headers, body, "application/json");
  }

  // The links drawing of the entity page `html` for `id`: one node per
  // entity at the other end of ListNeighbours' edges (and the entity), one
  // line per edge record, marked whether risk flows over it, as the RPC
  // says; the RPC's edges are GraphStore's (ListEdges, both directions).
  // Returns the answer.
  v1::ListNeighboursResponse CheckLinksDrawing(const std::string& html,
                                               const std::string& id) {
    grpc::ClientContext context;
    v1::ListNeighboursRequest request;
    request.set_entity_id(id);
    request.set_direction(v1::DIRECTION_BOTH);
    request.set_page_size(1000);
    v1::ListNeighboursResponse links;
    EXPECT_TRUE(scorer_->ListNeighbours(&context, request, &links).ok());
    EXPECT_EQ(links.total_size(), links.neighbours_size());
    std::set<std::string> nodes = {id};
    std::map<std::string, std::string> edges;  // key -> propagates
    int inbound = 0;
    for (const v1::Neighbour& n : links.neighbours()) {
      nodes.insert(n.entity_id());
      const v1::Edge& e = n.edge();
      edges[EdgeKey(e)] = n.propagates() ? "true" : "false";
      if (n.direction() == v1::DIRECTION_INBOUND) ++inbound;
    }
    // Every edge fits the drawing (25 a side), so every one is drawn.
    EXPECT_LE(inbound, 25);
    EXPECT_LE(links.neighbours_size() - inbound, 25);
    EXPECT_THAT(html, HasSubstr("id=\"links-graph-svg\"")) << html;
    std::vector<std::string> drawn = AttributeValues(html, "data-link-node");
    EXPECT_EQ(std::set<std::string>(drawn.begin(), drawn.end()), nodes);
    EXPECT_EQ(drawn.size(), links.neighbours_size() + 1);
    std::vector<std::string> keys = AttributeValues(html, "data-link-edge");
    std::vector<std::string> flows =
        AttributeValues(html, "data-link-propagates");
    EXPECT_EQ(keys.size(), flows.size());
    std::map<std::string, std::string> drawn_edges;
    for (size_t i = 0; i < keys.size() && i < flows.size(); ++i) {
      drawn_edges[UnescapeHtml(keys[i])] = flows[i];
    }
    EXPECT_EQ(drawn_edges, edges);
    EXPECT_EQ(keys.size(), edges.size());  // Each once.

    // The scorer's edges are the graph store's.
    auto graph = v1::GraphStore::NewStub(grpc::CreateChannel(
        stack_->graphstore()->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext list_context;
    v1::ListEdgesRequest list;
    list.set_entity_id(id);
    list.set_direction(v1::DIRECTION_BOTH);
    list.set_page_size(1000);
    v1::ListEdgesResponse stored;
    EXPECT_TRUE(graph->ListEdges(&list_context, list, &stored).ok());
    std::set<std::string> stored_keys;
    for (const v1::Edge& e : stored.edges()) {
      stored_keys.insert(EdgeKey(e));
    }
    std::set<std::string> listed;
    for (const auto& [key, unused] : edges) listed.insert(key);
    EXPECT_EQ(listed, stored_keys);
    return links;
  }

  std::string dir_;
  std::string outputs_;
  std::string token_;  // For the test's own gRPC calls.
  std::unique_ptr<testing::ServiceStack> stack_;
  std::unique_ptr<v1::Scorer::Stub> scorer_;
  int console_port_ = 0;
  int runs_ = 0;
};

TEST_F(ConsoleTest, TopPageListsWhatListTopRisksReturnsInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartWithDemo({}));
  for (const std::string kind : {"KIND_UNSPECIFIED", "COMPANY"}) {
    grpc::ClientContext context;
    v1::ListTopRisksRequest request;
    request.set_page_size(10);
    v1::Entity::Kind parsed;
    ASSERT_TRUE(v1::Entity::Kind_Parse(kind, &parsed));
    request.set_entity_kind(parsed);
    v1::ListTopRisksResponse response;
    ASSERT_TRUE(scorer_->ListTopRisks(&context, request, &response).ok());
    ASSERT_GT(response.scores_size(), 1) << kind;
    std::vector<std::string> expected;
    for (const v1::Score& s : response.scores()) {
      expected.push_back(s.entity_id());
    }
    const std::string html =
        Browse(absl::StrCat("/?pageSize=10&entityKind=", kind),
               absl::StrCat("top-", kind));
    EXPECT_EQ(AttributeValues(html, "data-entity-id"), expected) << html;
    EXPECT_THAT(html, HasSubstr(absl::StrCat(response.total_size(),
                                             " entities match")));
    // Each row's main reason is ListTopRisks' (include_reasons), which is
    // the row's ExplainScore's first contribution.
    std::vector<std::string> reasons;
    const std::regex cell("<td class=\"reason\">([^<]*)</td>");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), cell);
         it != std::sregex_iterator(); ++it) {
      reasons.push_back(UnescapeHtml((*it)[1].str()));
    }
    grpc::ClientContext with_context;
    request.set_include_reasons(true);
    v1::ListTopRisksResponse with;
    ASSERT_TRUE(scorer_->ListTopRisks(&with_context, request, &with).ok());
    ASSERT_EQ(with.main_reasons_size(), with.scores_size());
    std::vector<std::string> expected_reasons;
    int described = 0;
    for (int i = 0; i < with.scores_size(); ++i) {
      grpc::ClientContext explain_context;
      v1::ExplainScoreRequest explain;
      explain.set_entity_id(with.scores(i).entity_id());
      explain.set_max_paths(1);
      v1::Explanation e;
      ASSERT_TRUE(scorer_->ExplainScore(&explain_context, explain, &e).ok());
      const std::string first =
          e.contributions_size() > 0 ? e.contributions(0).description() : "";
      EXPECT_EQ(with.main_reasons(i).description(), first) << i;
      expected_reasons.push_back(first.empty() ? "no contribution" : first);
      if (!first.empty()) ++described;
    }
    EXPECT_EQ(reasons, expected_reasons) << html;
    EXPECT_GT(described, 0);
  }
}

TEST_F(ConsoleTest, EntityPageSharesAddUpToEachFactorsScore) {
  ASSERT_NO_FATAL_FAILURE(StartWithDemo({}));
  // A move with a cause in every cross-strait entity's history.
  ASSERT_NO_FATAL_FAILURE(Import({TensionChange("0.9")}));
  // Of the riskiest entities whose explanation has several contributions,
  // the one with the most entities on its upstream paths, so that the tree
  // and the drawing have something to show.
  grpc::ClientContext context;
  v1::ListTopRisksRequest request;
  request.set_page_size(50);
  v1::ListTopRisksResponse top;
  ASSERT_TRUE(scorer_->ListTopRisks(&context, request, &top).ok());
  v1::Score score;
  size_t most = 0;
  for (const v1::Score& s : top.scores()) {
    grpc::ClientContext explain_context;
    v1::ExplainScoreRequest explain;
    explain.set_entity_id(s.entity_id());
    explain.set_max_paths(20);
    v1::Explanation e;
    ASSERT_TRUE(scorer_->ExplainScore(&explain_context, explain, &e).ok());
    std::set<std::string> upstream;
    for (const v1::ExplanationPath& p : e.paths()) {
      for (const v1::PathHop& h : p.hops()) upstream.insert(h.entity_id());
    }
    if (e.contributions_size() >= 2 && upstream.size() > most) {
      score = s;
      most = upstream.size();
    }
  }
  ASSERT_FALSE(score.entity_id().empty()) << top.DebugString();
  ASSERT_GT(score.composite(), 0);

  const std::string html =
      Browse(absl::StrCat("/entity.html?id=", score.entity_id()), "entity");
  ASSERT_THAT(html, HasSubstr("data-loaded=\"true\"")) << html;
  std::vector<std::string> composite = AttributeValues(html, "data-score");
  ASSERT_EQ(composite.size(), 1u) << html;
  EXPECT_NEAR(Number(composite[0]), score.composite(), 1e-9);
  EXPECT_THAT(html, HasSubstr("id=\"history-chart\"")) << html;
  // The chart has GetScoreHistory's points, oldest first, each marked with
  // its cause.
  grpc::ClientContext history_context;
  v1::GetScoreHistoryRequest history_request;
  history_request.set_entity_id(score.entity_id());
  history_request.set_page_size(1000);
  v1::GetScoreHistoryResponse history;
  ASSERT_TRUE(
      scorer_->GetScoreHistory(&history_context, history_request, &history)
          .ok());
  std::vector<std::string> reasons;
  std::vector<double> composites;
  for (const v1::ScoreHistoryPoint& p : history.points()) {
    if (p.deleted()) continue;
    reasons.push_back(p.reason());
    composites.push_back(p.composite());
  }
  ASSERT_GE(reasons.size(), 2u) << history.DebugString();
  std::vector<std::string> drawn_reasons =
      AttributeValues(html, "data-point-reason");
  std::vector<std::string> drawn_composites =
      AttributeValues(html, "data-point-composite");
  ASSERT_EQ(drawn_composites.size(), composites.size()) << html;
  ASSERT_EQ(drawn_reasons.size(), reasons.size());
  for (size_t i = 0; i < composites.size(); ++i) {
    EXPECT_NEAR(Number(drawn_composites[i]), composites[i], 1e-9) << i;
    EXPECT_FALSE(reasons[i].empty()) << i;
    EXPECT_EQ(UnescapeHtml(drawn_reasons[i]), reasons[i]) << i;
  }

  // One section per factor with a score: its shares add up to it.
  int explained = 0;
  for (absl::string_view section : absl::StrSplit(html, "<details")) {
    std::vector<std::string> factor =
        AttributeValues(std::string(section), "data-factor");
    std::vector<std::string> total =
        AttributeValues(std::string(section), "data-factor-score");
    if (factor.empty() || total.empty()) continue;
    ++explained;
    double expected = NAN;
    for (const v1::FactorScore& f : score.factors()) {
      if (v1::Factor_Name(f.factor()) == factor[0]) {
        expected = 100 * f.propagated();
      }
    }
    EXPECT_NEAR(Number(total[0]), expected, 1e-9) << factor[0];
    double sum = 0;
    std::vector<std::string> shares =
        AttributeValues(std::string(section), "data-share");
    EXPECT_FALSE(shares.empty()) << factor[0];
    for (const std::string& s : shares) sum += Number(s);
    EXPECT_NEAR(sum, expected, 1e-6 * std::max(1.0, expected)) << factor[0];
  }
  int nonzero = 0;
  for (const v1::FactorScore& f : score.factors()) {
    if (f.propagated() > 0) ++nonzero;
  }
  EXPECT_GE(explained, nonzero) << html;
  EXPECT_GT(explained, 0) << html;

  // The neighbourhood drawing: the entities and links of the paths the page
  // asked for (ExplainScore with max_paths 20), each link in the direction
  // risk flows (upstream hop -> the hop before it).
  grpc::ClientContext explain_context;
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(score.entity_id());
  explain.set_max_paths(20);
  v1::Explanation e;
  ASSERT_TRUE(scorer_->ExplainScore(&explain_context, explain, &e).ok());
  std::set<std::string> nodes = {score.entity_id()};
  std::set<std::string> edges;
  for (const v1::ExplanationPath& p : e.paths()) {
    for (int i = 0; i < p.hops_size(); ++i) {
      nodes.insert(p.hops(i).entity_id());
      if (i > 0) {
        edges.insert(absl::StrCat(p.hops(i).entity_id(), "&gt;",
                                  p.hops(i - 1).entity_id()));
      }
    }
  }
  ASSERT_THAT(html, HasSubstr("id=\"neighbourhood-graph\"")) << html;
  std::vector<std::string> drawn = AttributeValues(html, "data-node");
  EXPECT_EQ(std::set<std::string>(drawn.begin(), drawn.end()), nodes);
  EXPECT_EQ(drawn.size(), nodes.size());  // Each once.
  std::vector<std::string> links = AttributeValues(html, "data-edge");
  EXPECT_EQ(std::set<std::string>(links.begin(), links.end()), edges);
  EXPECT_GT(edges.size(), 1u);

  // Provenance: the entity's record and each upstream edge name the import
  // that wrote them ("... via georiskctl import of entities.jsonl and 2
  // more, started ..."), as ExplainScore gives them.
  ASSERT_TRUE(e.has_entity_provenance()) << e.DebugString();
  EXPECT_EQ(e.entity_provenance().kind(), v1::SignalProvenance::MANUAL_IMPORT);
  EXPECT_EQ(e.entity_provenance().name(), "entities.jsonl and 2 more");
  std::vector<std::string> record =
      AttributeValues(html, "data-entity-provenance");
  ASSERT_EQ(record.size(), 1u) << html;
  EXPECT_EQ(UnescapeHtml(record[0]), e.entity_provenance().summary());
  std::vector<std::string> want_edges;
  for (const v1::Contribution& c : e.contributions()) {
    if (c.upstream().has_edge_provenance()) {
      want_edges.push_back(c.upstream().edge_provenance().summary());
    }
  }
  ASSERT_FALSE(want_edges.empty()) << e.DebugString();
  std::vector<std::string> drawn_edges;
  for (const std::string& p : AttributeValues(html, "data-edge-provenance")) {
    drawn_edges.push_back(UnescapeHtml(p));
  }
  EXPECT_EQ(drawn_edges, want_edges);

  // The links drawing: every edge of the entity, and of an upstream
  // supplier or owner of it, which has the entity downstream (a customer
  // or an owner), drawn on the right.
  v1::ListNeighboursResponse own = CheckLinksDrawing(html, score.entity_id());
  std::string upstream;
  for (const v1::Neighbour& n : own.neighbours()) {
    if (n.direction() == v1::DIRECTION_INBOUND && n.propagates()) {
      upstream = n.entity_id();
      break;
    }
  }
  ASSERT_FALSE(upstream.empty()) << own.DebugString();
  const std::string upstream_html =
      Browse(absl::StrCat("/entity.html?id=", upstream), "entity-upstream");
  ASSERT_THAT(upstream_html, HasSubstr("data-loaded=\"true\""))
      << upstream_html;
  v1::ListNeighboursResponse theirs =
      CheckLinksDrawing(upstream_html, upstream);
  bool downstream = false;
  for (const v1::Neighbour& n : theirs.neighbours()) {
    downstream = downstream || (n.direction() == v1::DIRECTION_OUTBOUND &&
                                n.entity_id() == score.entity_id());
  }
  EXPECT_TRUE(downstream) << theirs.DebugString();
}

// A YAML scenario file uploaded, as a user would choose it, and run.
TEST_F(ConsoleTest, ScenarioPageRunsAnUploadedYamlFileAsRunScenarioDoes) {
  ASSERT_NO_FATAL_FAILURE(StartWithDemo({}));
  // veu-licences-granted.yaml, not the page's first example
  // (cross-strait-0.9.yaml), so the upload is what runs.
  const std::string file = Runfile("data/scenarios/veu-licences-granted.yaml");
  absl::StatusOr<v1::Scenario> scenario = common::ReadScenarioFile(file);
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  v1::RunScenarioRequest request;
  *request.mutable_scenario() = *scenario;
  request.set_max_results(25);  // The page's defaults.
  request.set_include_reasons(true);
  grpc::ClientContext context;
  v1::RunScenarioResponse response;
  ASSERT_TRUE(scorer_->RunScenario(&context, request, &response).ok());
  ASSERT_GT(response.deltas_size(), 1);
  const v1::ScoreDelta& first = response.deltas(0);
  grpc::ClientContext explain_context;
  v1::ExplainScoreRequest explain;
  explain.set_entity_id(first.entity_id());
  v1::Explanation live;
  ASSERT_TRUE(scorer_->ExplainScore(&explain_context, explain, &live).ok());
  ASSERT_GT(live.contributions_size(), 0);
  ASSERT_GT(first.top_reasons_size(), 0);

  const std::string html = Drive(
      {"--goto=" + Url("/scenario.html"),
       "--wait=document.body.dataset.ready === 'true'",
       "--upload=#file=" + file,
       "--wait=document.body.dataset.uploaded === 'veu-licences-granted.yaml'",
       "--eval=document.querySelector('#run button[type=submit]').click()",
       "--wait=document.body.dataset.loaded === 'true'",
       // The first delta's before/after explanation, opened.
       "--eval=document.querySelector('#deltas details.explain').open = true",
       "--wait=document.querySelector('[data-explained]') !== null"},
      "scenario");
  EXPECT_THAT(html, HasSubstr(absl::StrCat("<h2>", response.name(), "</h2>")));
  std::vector<std::string> ids = AttributeValues(html, "data-entity-id");
  std::vector<std::string> deltas = AttributeValues(html, "data-delta");
  ASSERT_EQ(ids.size(), static_cast<size_t>(response.deltas_size())) << html;
  ASSERT_EQ(deltas.size(), ids.size());
  for (int i = 0; i < response.deltas_size(); ++i) {
    EXPECT_EQ(ids[i], response.deltas(i).entity_id()) << i;
    EXPECT_NEAR(Number(deltas[i]), response.deltas(i).delta(), 1e-9) << i;
  }
  // Before: the live explanation; after: the scenario's reasons.
  const size_t before = html.find("data-side=\"before\"");
  const size_t after = html.find("data-side=\"after\"");
  ASSERT_NE(before, std::string::npos) << html;
  ASSERT_NE(after, std::string::npos) << html;
  const std::string before_html = html.substr(before, after - before);
  const std::string after_html = html.substr(after, 4000);
  EXPECT_THAT(before_html, HasSubstr(live.contributions(0).description()));
  EXPECT_THAT(after_html, HasSubstr(first.top_reasons(0).description()));
  // Live scores are untouched.
  grpc::ClientContext score_context;
  v1::GetScoreRequest get;
  get.set_entity_id(first.entity_id());
  v1::Score now;
  ASSERT_TRUE(scorer_->GetScore(&score_context, get, &now).ok());
  EXPECT_NEAR(now.composite(), first.before().composite(), 1e-9);
}

// The test raises alerts (tension up) while the alerts page is open and
// streaming; they appear without a reload (a mark set in the page before
// survives), as the alert log has them.
TEST_F(ConsoleTest, NewAlertAppearsOnTheAlertsPageWithoutAReload) {
  ASSERT_NO_FATAL_FAILURE(StartWithDemo({}));
  auto alerts = v1::Alerts::NewStub(grpc::CreateChannel(
      stack_->scorer()->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext list_context;
  v1::ListAlertsRequest list;
  list.set_page_size(1000);
  v1::ListAlertsResponse before;
  ASSERT_TRUE(alerts->ListAlerts(&list_context, list, &before).ok());
  int64_t head = 0;
  for (const v1::Alert& a : before.alerts()) {
    head = std::max<int64_t>(head, a.sequence());
  }
  const std::string change = TensionChange("0.95");
  const std::string import = absl::StrCat(
      Runfile("services/georiskctl/georiskctl"), " import ", change,
      " --ingest=", stack_->ingest()->address(), " --progress=none");
  const std::string html =
      Drive({"--goto=" + Url("/alerts.html"),
             "--wait=document.body.dataset.streaming === 'true'",
             "--eval=window.georiskTestMark = 'same page'",
             absl::StrCat("--eval=document.querySelectorAll('#alerts tbody tr')"
                          ".length"),
             "--run=" + import,
             "--wait=document.querySelector('tr[data-live]') !== null && "
             "window.georiskTestMark === 'same page'",
             // The rest of the batch, then the page as it is.
             "--eval=new Promise((r) => setTimeout(r, 2000))"},
            "alerts", /*whole_page=*/false);
  std::vector<std::string> sequences = AttributeValues(html, "data-sequence");
  std::vector<std::string> ids = AttributeValues(html, "data-alert-id");
  ASSERT_EQ(sequences.size(), ids.size());
  grpc::ClientContext after_context;
  v1::ListAlertsResponse after;
  ASSERT_TRUE(alerts->ListAlerts(&after_context, list, &after).ok());
  std::map<int64_t, std::string> logged;
  for (const v1::Alert& a : after.alerts()) {
    logged[a.sequence()] = a.alert_id();
  }
  ASSERT_GT(logged.rbegin()->first, head) << "the change raised no alert";
  // Every row is the log's record of its sequence; those above the head at
  // load came by the stream, marked live.
  int live = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const int64_t seq = static_cast<int64_t>(Number(sequences[i]));
    ASSERT_TRUE(logged.count(seq)) << seq;
    EXPECT_EQ(ids[i], logged[seq]) << seq;
    if (seq > head) ++live;
  }
  EXPECT_GT(live, 0) << html;
  EXPECT_EQ(AttributeValues(html, "data-live").size(),
            static_cast<size_t>(live))
      << html;
}

TEST_F(ConsoleTest, WithTokensNothingIsReadWithoutAReaderToken) {
  const std::string tokens = MakeTempDir("console_tokens") + "/tokens";
  std::ofstream(tokens) << kReader << " reader analyst\n"
                        << kWriter << " writer loader\n";
  token_ = kReader;
  ASSERT_NO_FATAL_FAILURE(StartWithDemo({"--token_file=" + tokens}));

  const std::string path = "/api/v1/scorer/ListTopRisks";
  const std::string body = R"({"pageSize": 5})";
  httplib::Result r = Post(path, body, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(r->body, Not(HasSubstr("entityId")));
  for (const std::string method :
       {"GetScore", "ExplainScore", "GetScoreHistory", "RunScenario"}) {
    r = Post("/api/v1/scorer/" + method, "{}", "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << method;
  }
  r = Post("/api/v1/alerts/ListAlerts", "{}", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = Post("/api/v1/console/ParseScenario", "name: x\n", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  {
    httplib::Client client("127.0.0.1", console_port_);
    httplib::Result stream = client.Get("/api/v1/alerts/WatchAlerts");
    ASSERT_TRUE(stream);
    EXPECT_EQ(stream->status, 401);
  }
  r = Post(path, body, kWriter);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = Post(path, body, kReader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  grpc::ClientContext context;
  Authorize(context);
  v1::ListTopRisksRequest request;
  request.set_page_size(5);
  v1::ListTopRisksResponse response;
  ASSERT_TRUE(scorer_->ListTopRisks(&context, request, &response).ok());
  ASSERT_GT(response.scores_size(), 0);
  for (const v1::Score& s : response.scores()) {
    EXPECT_THAT(r->body, HasSubstr(absl::StrCat("\"entityId\":\"",
                                                s.entity_id(), "\"")));
  }

  // A browser without a token gets the page's code, no data, and the form.
  const std::string html = Browse("/", "top-without-token");
  EXPECT_THAT(AttributeValues(html, "data-entity-id"), ::testing::IsEmpty());
  EXPECT_THAT(html, HasSubstr("missing bearer token")) << html;
  EXPECT_THAT(html, Not(HasSubstr("<form id=\"login\" class=\"login\" hidden")))
      << html;
}

}  // namespace
}  // namespace georisk
