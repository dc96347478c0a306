// Explanations: additive shares that add up to the score's log-odds, their
// wording, and the paths upstream.
#include <cmath>
#include <map>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scorer/model/engine.h"
#include "services/scorer/model/test_graphs.h"
#include "services/scorer/model/wording.h"

namespace georisk::scorer::testing {
namespace {

using ::testing::HasSubstr;

// Checks, for every factor, that log-odds add up to -ln(1 - R_f), that
// fractions add up to 1, and that contributions come largest first.
void ExpectExact(const Engine& e, const std::string& id) {
  absl::StatusOr<v1::Explanation> ex =
      e.Explain(id, v1::FACTOR_UNSPECIFIED, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  std::map<int, double> log_odds, fractions;
  double previous = INFINITY;
  for (const v1::Contribution& c : ex->contributions()) {
    EXPECT_LE(c.log_odds(), previous) << id;
    previous = c.log_odds();
    EXPECT_GT(c.log_odds(), 0) << id;
    EXPECT_FALSE(c.description().empty()) << id;
    log_odds[c.factor()] += c.log_odds();
    fractions[c.factor()] += c.fraction();
  }
  for (const v1::FactorScore& f : ex->score().factors()) {
    const double expected = -std::log1p(-f.propagated());
    EXPECT_NEAR(log_odds[f.factor()], expected, 1e-9)
        << id << " factor " << f.factor();
    if (f.propagated() > 0) {
      EXPECT_NEAR(fractions[f.factor()], 1.0, 1e-9) << id;
    }
  }
}

TEST(ExplainTest, SharesAddUpToTheScoresLogOdds) {
  Graph g;
  g.entities = {Company("company/l", "CN"), Company("company/x", "CN"),
                Facility("facility/xf", "TW"), Company("company/c", "US"),
                Company("company/s", "CN")};
  g.edges = {Owns("company/l", "company/x", 0.6),
             Operates("company/x", "facility/xf", 0.5),
             Supplies("facility/xf", "company/c", 0.4, "8542"),
             Supplies("company/s", "company/c", 0.3, "854231"),
             Supplies("company/c", "company/s", 0.2, "8471")};
  g.signals = {Listing("signal/l", "US-OFAC", {"company/l"}, 0.7),
               Listing("signal/c", "US-BIS", {"company/c"}, 0.2),
               Tension("signal/t", 0.6),
               // S's exports are taxed 0.3 / 0.5 = 60%: not saturated (a
               // saturated score, R >= 1 - 1e-15, is held at the clamp and
               // its shares add up to more).
               Tariff("signal/301", "Section 301", "US", "CN", "8542", 0.2),
               Tariff("signal/ieepa", "IEEPA", "US", "CN", "", 0.1)};
  auto e = g.Load();
  for (const v1::Entity& ent : g.entities) ExpectExact(*e, ent.id());
}

TEST(ExplainTest, SharesAddUpOnRandomGraphsWithCycles) {
  std::mt19937_64 rng(7);
  auto u = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  const std::vector<std::string> countries = {"TW", "CN", "US", "KR"};
  Graph g;
  constexpr int kN = 40;
  for (int i = 0; i < kN; ++i) {
    const std::string c = countries[rng() % countries.size()];
    g.entities.push_back(i % 4 == 0 ? Facility(absl::StrCat("facility/f", i), c)
                                    : Company(absl::StrCat("company/c", i), c));
  }
  for (int k = 0; k < 120; ++k) {
    const int a = static_cast<int>(rng() % kN);
    const int b = static_cast<int>(rng() % kN);
    if (a == b) continue;
    g.edges.push_back(Supplies(g.entities[a].id(), g.entities[b].id(),
                               std::round(u(0, 0.5) * 100) / 100,
                               k % 2 ? "8542" : "8486"));
  }
  g.signals = {Listing("signal/l", "US-BIS",
                       {g.entities[1].id(), g.entities[5].id()}, 0.6),
               Tension("signal/t", 0.4),
               Tariff("signal/a", "A", "US", "*", "85", 0.2),
               Tariff("signal/b", "B", "US", "CN", "", 0.1)};
  auto e = g.Load();
  for (const v1::Entity& ent : g.entities) ExpectExact(*e, ent.id());
}

TEST(ExplainTest, WordingIsCarefulAndLegal) {
  Graph g;
  g.entities = {Company("company/l", "CN"), Company("company/x", "CN"),
                Facility("facility/xf", "CN"), Company("company/c", "US"),
                Company("company/p", "DE")};
  g.edges = {Owns("company/l", "company/x", 0.6),
             Operates("company/x", "facility/xf", 0.3),
             Supplies("facility/xf", "company/c", 0.4, "8542"),
             Owns("company/p", "company/x", 0.25)};
  g.signals = {Listing("signal/el", "US-BIS", {"company/l"}, 0.8)};
  auto e = g.Load(Date(2027, 1, 15));  // BIS's rule in force.

  absl::StatusOr<v1::Explanation> x = e->Explain("company/x", kEC, 3, 6);
  ASSERT_TRUE(x.ok());
  ASSERT_GE(x->contributions_size(), 1);
  const v1::Contribution& owned = x->contributions(0);
  // The listed owner is named, with its share and what it is.
  EXPECT_EQ(owned.description(), "owned 60% by l (company), listed by US-BIS");
  EXPECT_EQ(owned.direct().rule(),
            "owned 50% or more, in aggregate, by listed parties");
  EXPECT_EQ(owned.direct().signal_id(), "signal/el");
  EXPECT_THAT(owned.description(), ::testing::Not(HasSubstr("controlled")));

  absl::StatusOr<v1::Explanation> f = e->Explain("facility/xf", kEC, 3, 6);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->contributions(0).description(),
            "facility operated by x, a company owned 50% or more, in "
            "aggregate, by parties listed by US-BIS");

  absl::StatusOr<v1::Explanation> c = e->Explain("company/c", kEC, 3, 6);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->contributions_size(), 1);
  EXPECT_EQ(c->contributions(0).description(),
            "supplier of 8542 (dependency 40%)");
  EXPECT_EQ(c->contributions(0).upstream().entity_id(), "facility/xf");
  EXPECT_EQ(c->contributions(0).upstream().edge_kind(), v1::Edge::SUPPLIES);
  EXPECT_NEAR(c->contributions(0).upstream().weight(), 0.85 * 0.4, 1e-15);

  // X operates the facility: seen from X, the facility's contribution is
  // excluded (same authority), so X's only share is its own.
  absl::StatusOr<v1::Explanation> p = e->Explain("company/p", kEC, 3, 6);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->contributions_size(), 1);
  EXPECT_EQ(p->contributions(0).description(), "owns 25% of x");

  Graph g2;
  g2.entities = {Facility("facility/fab", "TW"), Company("company/op", "TW")};
  g2.edges = {Operates("company/op", "facility/fab", 0.3)};
  g2.signals = {Tension("signal/t", 0.5)};
  auto e2 = g2.Load();
  absl::StatusOr<v1::Explanation> op = e2->Explain("company/op", kCS, 3, 6);
  ASSERT_TRUE(op.ok());
  bool found = false;
  for (const v1::Contribution& k : op->contributions()) {
    if (k.has_upstream()) {
      EXPECT_EQ(k.description(), "operated facility: 30% of op's capacity");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// Tariffs and tension are additive: -ln(1 - d) splits in proportion to each
// signal's additive part.
TEST(ExplainTest, AdditiveDirectTermsSplitInProportion) {
  Graph g;
  g.entities = {Company("company/c", "US"), Company("company/s", "CN")};
  g.edges = {Supplies("company/s", "company/c", 0.5, "8542")};
  g.signals = {Tariff("signal/301", "Section 301", "US", "CN", "8542", 0.3),
               Tariff("signal/ieepa", "IEEPA", "US", "CN", "", 0.1)};
  auto e = g.Load();
  // Parts 0.5 x 0.3 / 0.5 = 0.3 and 0.5 x 0.1 / 0.5 = 0.1; d = 0.4.
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/c", kTariffs, 3, 6);
  ASSERT_TRUE(ex.ok());
  double s301 = 0, ieepa = 0;
  std::string description;
  for (const v1::Contribution& c : ex->contributions()) {
    if (!c.has_direct()) continue;
    if (c.direct().signal_id() == "signal/301") {
      s301 = c.log_odds();
      description = c.description();
      EXPECT_EQ(c.direct().rule(), "tariff on inbound supply");
      EXPECT_NEAR(c.direct().exposure(), 0.3, 1e-15);
    }
    if (c.direct().signal_id() == "signal/ieepa") ieepa = c.log_odds();
  }
  const double total = -std::log(1 - 0.4);
  EXPECT_NEAR(s301, total * 0.75, 1e-12);
  EXPECT_NEAR(ieepa, total * 0.25, 1e-12);
  EXPECT_EQ(
      description,
      "Section 301: 30% on 8542 from CN into US, on 50% of inbound supply");
}

TEST(ExplainTest, PathsFollowTheLargestShareToTheSignal) {
  Graph g;
  g.entities = {
      Company("company/openai", "US"), Facility("facility/foxconn-ohio", "US"),
      Facility("facility/tsmc-hsinchu", "TW"), Company("company/other", "US")};
  g.edges = {
      Supplies("facility/foxconn-ohio", "company/openai", 0.6, "8471"),
      Supplies("facility/tsmc-hsinchu", "facility/foxconn-ohio", 0.7, "8542"),
      Supplies("company/other", "company/openai", 0.1, "8471")};
  g.signals = {Tension("signal/gpr", 0.6)};
  auto e = g.Load();
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/openai", kCS, 3, 6);
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->paths_size(), 1);
  const v1::ExplanationPath& path = ex->paths(0);
  ASSERT_EQ(path.hops_size(), 3);
  EXPECT_EQ(path.hops(0).entity_id(), "company/openai");
  EXPECT_EQ(path.hops(1).entity_id(), "facility/foxconn-ohio");
  EXPECT_EQ(path.hops(2).entity_id(), "facility/tsmc-hsinchu");
  EXPECT_EQ(path.signal_id(), "signal/gpr");
  EXPECT_NEAR(path.fraction(), 1.0, 1e-12);
  EXPECT_EQ(path.summary(),
            "openai <- foxconn-ohio <- tsmc-hsinchu: cross-strait 0.60 (gpr)");
  // Depth 1 stops after the first hop, without a signal.
  absl::StatusOr<v1::Explanation> shallow =
      e->Explain("company/openai", kCS, 3, 1);
  ASSERT_TRUE(shallow.ok());
  EXPECT_EQ(shallow->paths(0).hops_size(), 2);
  EXPECT_TRUE(shallow->paths(0).signal_id().empty());
}

TEST(ExplainTest, PathsAreCycleSafe) {
  Graph g;
  g.entities = {Company("company/a", "US"), Company("company/b", "US"),
                Company("company/c", "US"), Facility("facility/t", "TW")};
  // a <- b <- c <- b ... and c <- t.
  g.edges = {Supplies("company/b", "company/a", 0.9),
             Supplies("company/c", "company/b", 0.9),
             Supplies("company/b", "company/c", 0.9),
             Supplies("facility/t", "company/c", 0.1)};
  g.signals = {Tension("signal/t", 0.9)};
  auto e = g.Load();
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/a", kCS, 3, 20);
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->paths_size(), 1);
  std::set<std::string> seen;
  for (const v1::PathHop& h : ex->paths(0).hops()) {
    EXPECT_TRUE(seen.insert(h.entity_id()).second) << h.entity_id();
  }
  EXPECT_EQ(ex->paths(0).hops().rbegin()->entity_id(), "facility/t");
  EXPECT_EQ(ex->paths(0).signal_id(), "signal/t");
}

// Provenance: a signal's update_origin becomes its contribution's
// provenance, and follows the next write of the signal.
TEST(ExplainTest, ADirectContributionNamesTheFetchThatWroteItsSignal) {
  Graph g;
  g.entities = {Company("company/a", "CN"), Company("company/b", "CN")};
  v1::Signal el = Listing("signal/el", "US-BIS", {"company/a"}, 0.5);
  el.set_title("Entity List");
  el.set_update_origin(
      "source:csl-el fetched 2026-12-06T14:00:00Z etag:\"v1\"");
  v1::Signal other = Listing("signal/x", "US-BIS", {"company/b"}, 0.5);
  other.clear_title();  // Named by its id.
  g.signals = {el, other};
  auto e = g.Load();
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/a", kEC, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->contributions_size(), 1);
  const v1::SignalProvenance& p = ex->contributions(0).direct().provenance();
  EXPECT_EQ(p.kind(), v1::SignalProvenance::SCHEDULED_SOURCE);
  EXPECT_EQ(p.name(), "csl-el");
  EXPECT_EQ(p.time().seconds(), 1796565600);
  EXPECT_EQ(p.version(), "etag:\"v1\"");
  EXPECT_EQ(p.origin(), el.update_origin());
  EXPECT_EQ(p.summary(),
            "Entity List via csl-el, fetched 2026-12-06 14:00 UTC");
  // No origin: no provenance.
  ex = e->Explain("company/b", kEC, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->contributions_size(), 1);
  EXPECT_FALSE(ex->contributions(0).direct().has_provenance());

  // The next fetch rewrites the listing; a manual import writes the other.
  el.set_update_origin(
      "source:csl-el fetched 2026-12-06T15:00:00Z sha256:0123456789abcdef");
  other.set_update_origin("import:el.csv started 2026-12-06T16:30:00Z");
  e->Apply(MakeChange(2, {Upsert(el), Upsert(other)}), DefaultAsOf());
  ex = e->Explain("company/a", kEC, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ(ex->contributions(0).direct().provenance().summary(),
            "Entity List via csl-el, fetched 2026-12-06 15:00 UTC");
  EXPECT_EQ(ex->contributions(0).direct().provenance().version(),
            "sha256:0123456789abcdef");
  ex = e->Explain("company/b", kEC, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  const v1::SignalProvenance& m = ex->contributions(0).direct().provenance();
  EXPECT_EQ(m.kind(), v1::SignalProvenance::MANUAL_IMPORT);
  EXPECT_EQ(m.name(), "el.csv");
  EXPECT_EQ(
      m.summary(),
      "signal/x via georiskctl import of el.csv, started 2026-12-06 16:30 "
      "UTC");
}

TEST(ExplainTest, ProvenanceWording) {
  EXPECT_EQ(internal::ProvenanceDescription("SDN", ""), "");
  EXPECT_EQ(internal::ProvenanceDescription("SDN", "ingest"), "SDN via ingest");
  EXPECT_EQ(internal::ProvenanceDescription(
                "Sanction",
                "source:os fetched 2026-12-06T14:00:00Z "
                "sha256:0123456789abcdef version:20240528-3iv"),
            "Sanction via os, fetched 2026-12-06 14:00 UTC, version "
            "20240528-3iv");
  EXPECT_EQ(internal::ProvenanceDescription(
                internal::EdgeLabel(v1::Edge::SUPPLIES, "8542"),
                "bulkload:graph.jsonl started 2026-12-06T14:00:00Z"),
            "supplier edge (8542) via bulk load of graph.jsonl, started "
            "2026-12-06 14:00 UTC");
  EXPECT_EQ(internal::EdgeLabel(v1::Edge::OWNS, ""), "ownership edge");
  EXPECT_EQ(internal::EdgeLabel(v1::Edge::OPERATES, ""), "operator edge");
  v1::SignalProvenance bulk;
  internal::FillProvenance("x", "bulkload:a.jsonl started 2026-12-06T14:00:00Z",
                           &bulk);
  EXPECT_EQ(bulk.kind(), v1::SignalProvenance::BULK_LOAD);
  EXPECT_EQ(bulk.name(), "a.jsonl");
  EXPECT_EQ(bulk.time().seconds(), 1796565600);
}

// The model names each upstream edge by its key (the service reads the
// edge's provenance by it, record_provenance.h), on contributions and path
// hops alike; it keeps no edge origin itself.
TEST(ExplainTest, UpstreamContributionsAndHopsNameTheirEdge) {
  Graph g;
  g.entities = {Company("company/a", "US"), Company("company/b", "US"),
                Facility("facility/t", "TW")};
  g.edges = {
      WithRecordId(Supplies("company/b", "company/a", 0.9, "8542"), "po-1"),
      Supplies("facility/t", "company/b", 0.5, "8541")};
  g.signals = {Tension("signal/t", 0.9)};
  auto e = g.Load();
  absl::StatusOr<v1::Explanation> ex = e->Explain("company/a", kCS, 3, 6);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_GE(ex->contributions_size(), 1);
  const v1::EdgeKey& key = ex->contributions(0).upstream().edge();
  EXPECT_EQ(key.from_id(), "company/b");
  EXPECT_EQ(key.to_id(), "company/a");
  EXPECT_EQ(key.kind(), v1::Edge::SUPPLIES);
  EXPECT_EQ(key.product_code(), "8542");
  EXPECT_EQ(key.record_id(), "po-1");
  EXPECT_FALSE(ex->contributions(0).upstream().has_edge_provenance());
  ASSERT_EQ(ex->paths_size(), 1);
  ASSERT_EQ(ex->paths(0).hops_size(), 3);
  EXPECT_FALSE(ex->paths(0).hops(0).has_edge());
  EXPECT_EQ(ex->paths(0).hops(1).edge().record_id(), "po-1");
  EXPECT_EQ(ex->paths(0).hops(2).edge().from_id(), "facility/t");
  EXPECT_EQ(ex->paths(0).hops(2).edge().product_code(), "8541");
}

TEST(ExplainTest, Errors) {
  Graph g;
  g.entities = {Company("company/a", "US")};
  auto e = g.Load();
  EXPECT_EQ(e->Explain("company/zz", kEC, 3, 6).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(e->Explain("company/a", kEC, 0, 6).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e->Explain("company/a", kEC, 3, 21).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      e->Explain("company/a", static_cast<v1::Factor>(9), 3, 6).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace georisk::scorer::testing
