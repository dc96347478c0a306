// The demo dataset (data/demo/*.jsonl) is well formed, internally consistent,
// faithful to docs/sources.md, in step with its generator, and accepted
// whole by a real graph store.
//
// What fails here:
//   - a line that is not a georisk.v1.Mutation in protobuf's JSON mapping, or
//     that breaks a record rule of domain/validation.h;
//   - a duplicate id, an edge or signal naming an entity not in the dataset;
//   - fewer than 40 companies or 60 facilities, a named country missing;
//   - a record whose source neither cites docs/sources.md nor says
//   "assumption:";
//   - shares that do not add up (dependency shares of one customer for one
//     product, ownership of one company, capacity shares of one operator,
//     each above 1);
//   - a drift from docs/sources.md: the VEU revocation (date, targets,
//   citation),
//     Section 301 (50% on 8541/8542 from 2025-01-01), US-KR 15%, IEEPA 10%
//     from 2025-11-10, the facility shares, the Nvidia-Korea and
//     Foxconn-OpenAI deals...;
//   - data/demo/build_demo.py producing something else than the files;
//   - RocksDbGraphStore refusing any record when applied in order.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/validation.h"
#include "georisk/v1/graph.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_graph_store.h"
#include "tests/testing/process.h"

namespace georisk {
namespace {

using ::georisk::testing::MakeTempDir;
using ::georisk::testing::ReadFile;
using ::georisk::testing::Runfile;

constexpr const char* kFiles[] = {"entities.jsonl", "edges.jsonl",
                                  "signals.jsonl"};

struct Record {
  std::string where;  // "edges.jsonl:12"
  v1::Mutation mutation;
};

struct Dataset {
  // Per file, in kFiles order; parse errors are collected, not fatal.
  std::vector<std::vector<Record>> files;
  std::vector<std::string> errors;
  std::map<std::string, v1::Entity> entities;
  std::vector<v1::Edge> edges;
  std::map<std::string, v1::Signal> signals;
};

const Dataset& Data() {
  static const Dataset* data = [] {
    auto* d = new Dataset;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    for (const char* name : kFiles) {
      d->files.emplace_back();
      absl::StatusOr<std::string> text =
          ReadFile(Runfile(absl::StrCat("data/demo/", name)));
      if (!text.ok()) {
        d->errors.push_back(absl::StrCat(name, ": ", text.status().message()));
        continue;
      }
      int line_no = 0;
      for (absl::string_view line : absl::StrSplit(*text, '\n')) {
        ++line_no;
        if (line.empty()) continue;
        Record r;
        r.where = absl::StrCat(name, ":", line_no);
        const auto status = google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(line.data(), line.size()),
            &r.mutation, options);
        if (!status.ok()) {
          d->errors.push_back(absl::StrCat(r.where, ": ", status.ToString()));
          continue;
        }
        const v1::Mutation& m = r.mutation;
        if (m.has_upsert_entity()) {
          d->entities.emplace(m.upsert_entity().id(), m.upsert_entity());
        } else if (m.has_upsert_edge()) {
          d->edges.push_back(m.upsert_edge());
        } else if (m.has_upsert_signal()) {
          d->signals.emplace(m.upsert_signal().id(), m.upsert_signal());
        }
        d->files.back().push_back(std::move(r));
      }
    }
    return d;
  }();
  return *data;
}

int64_t Day(int y, int m, int d) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone()));
}

bool IsFactsCitationOrAssumption(const std::string& source) {
  return absl::StrContains(source, "[docs/sources.md") ||
         absl::StrContains(source, "assumption:");
}

const v1::Edge* FindEdge(const std::string& from, v1::Edge::Kind kind,
                         const std::string& to, const std::string& code = "") {
  for (const v1::Edge& e : Data().edges) {
    if (e.from_id() == from && e.kind() == kind && e.to_id() == to &&
        e.product_code() == code) {
      return &e;
    }
  }
  return nullptr;
}

// The facilities `company` operates.
std::vector<v1::Entity> Operated(const std::string& company) {
  std::vector<v1::Entity> out;
  for (const v1::Edge& e : Data().edges) {
    if (e.kind() != v1::Edge::OPERATES || e.from_id() != company) continue;
    auto it = Data().entities.find(e.to_id());
    if (it != Data().entities.end()) out.push_back(it->second);
  }
  return out;
}

const v1::Signal* FindTariff(const std::string& programme,
                             const std::string& importer,
                             const std::string& origin, const std::string& hs,
                             int64_t from) {
  for (const auto& [id, s] : Data().signals) {
    if (!s.has_tariff()) continue;
    const v1::Tariff& t = s.tariff();
    if (t.programme() == programme && t.importer_country() == importer &&
        t.origin_country() == origin && t.hs_prefix() == hs &&
        s.effective_from().seconds() == from) {
      return &s;
    }
  }
  return nullptr;
}

TEST(DemoDataTest, EveryLineIsAValidMutationOfItsFile) {
  const Dataset& d = Data();
  for (const std::string& e : d.errors) ADD_FAILURE() << e;
  std::set<std::string> keys;
  for (size_t f = 0; f < d.files.size(); ++f) {
    EXPECT_FALSE(d.files[f].empty()) << kFiles[f] << " is empty";
    for (const Record& r : d.files[f]) {
      const v1::Mutation& m = r.mutation;
      const absl::Status s = domain::ValidateMutation(m, r.where);
      EXPECT_TRUE(s.ok()) << s;
      const bool right_file = (f == 0 && m.has_upsert_entity()) ||
                              (f == 1 && m.has_upsert_edge()) ||
                              (f == 2 && m.has_upsert_signal());
      EXPECT_TRUE(right_file) << r.where << ": an upsert of another kind";
      EXPECT_FALSE(m.idempotency_key().empty()) << r.where;
      EXPECT_TRUE(keys.insert(m.idempotency_key()).second)
          << r.where << ": idempotency key reused";
    }
  }
}

TEST(DemoDataTest, IdsAreUniqueAndEveryReferenceResolves) {
  const Dataset& d = Data();
  EXPECT_EQ(d.entities.size(), d.files[0].size()) << "duplicate entity id";
  EXPECT_EQ(d.signals.size(), d.files[2].size()) << "duplicate signal id";
  std::set<std::string> edge_keys;
  for (const v1::Edge& e : d.edges) {
    EXPECT_TRUE(d.entities.count(e.from_id())) << e.ShortDebugString();
    EXPECT_TRUE(d.entities.count(e.to_id())) << e.ShortDebugString();
    EXPECT_TRUE(
        edge_keys
            .insert(absl::StrCat(e.from_id(), "|", e.kind(), "|", e.to_id(),
                                 "|", e.product_code(), "|", e.record_id()))
            .second)
        << "duplicate edge " << e.ShortDebugString();
  }
  for (const auto& [id, s] : d.signals) {
    for (const std::string& t : s.export_control().target_ids()) {
      EXPECT_TRUE(d.entities.count(t)) << id << " targets unknown " << t;
    }
  }
}

TEST(DemoDataTest, CountsAndCountries) {
  int companies = 0, facilities = 0;
  std::set<std::string> countries;
  for (const auto& [id, e] : Data().entities) {
    (e.kind() == v1::Entity::COMPANY ? companies : facilities)++;
    countries.insert(e.country());
  }
  EXPECT_GE(companies, 40);
  EXPECT_GE(facilities, 60);
  for (const char* c : {"TW", "CN", "KR", "US", "JP", "IN", "ES", "MX"}) {
    EXPECT_TRUE(countries.count(c)) << "no entity in " << c;
  }
  EXPECT_GT(countries.size(), 8u) << "expected countries beyond the eight";
}

TEST(DemoDataTest, EveryRecordCitesFactsOrStatesItsAssumption) {
  const Dataset& d = Data();
  for (const auto& [id, e] : d.entities) {
    EXPECT_TRUE(IsFactsCitationOrAssumption(e.source())) << id;
  }
  for (const v1::Edge& e : d.edges) {
    EXPECT_TRUE(IsFactsCitationOrAssumption(e.source()))
        << e.ShortDebugString();
  }
  for (const auto& [id, s] : d.signals) {
    EXPECT_TRUE(IsFactsCitationOrAssumption(s.source())) << id;
  }
}

TEST(DemoDataTest, SharesAddUp) {
  std::map<std::pair<std::string, std::string>, double> dependency;
  std::map<std::string, std::set<std::string>> codes;
  std::map<std::string, double> owned, capacity;
  for (const v1::Edge& e : Data().edges) {
    switch (e.kind()) {
      case v1::Edge::SUPPLIES:
        dependency[{e.to_id(), e.product_code()}] += e.weight();
        if (!e.product_code().empty())
          codes[e.to_id()].insert(e.product_code());
        break;
      case v1::Edge::OWNS:
        owned[e.to_id()] += e.weight();
        break;
      case v1::Edge::OPERATES:
        capacity[e.from_id()] += e.weight();
        break;
      default:
        ADD_FAILURE() << "unexpected edge kind " << e.ShortDebugString();
    }
  }
  for (const auto& [key, sum] : dependency) {
    EXPECT_LE(sum, 1.0 + 1e-9) << "dependency shares of " << key.first
                               << " for HS \"" << key.second << "\"";
  }
  // One customer never buys both a code and a longer code under it, so the
  // per-code sums above are the whole story.
  for (const auto& [customer, set] : codes) {
    for (const std::string& a : set) {
      for (const std::string& b : set) {
        EXPECT_FALSE(a != b && absl::StartsWith(b, a))
            << customer << " buys both " << a << " and " << b;
      }
    }
  }
  for (const auto& [child, sum] : owned) {
    EXPECT_LE(sum, 1.0 + 1e-9) << "ownership of " << child;
  }
  for (const auto& [op, sum] : capacity) {
    EXPECT_LE(sum, 1.0 + 1e-9) << "capacity shares of " << op;
  }
}

TEST(DemoDataTest, VeuRevocationMatchesFacts) {
  // docs/sources.md: 90 FR 42321-42322, FR Doc 2025-16735, effective 31 Dec
  // 2025, removes Samsung Xi'an, SK hynix Wuxi and Intel (now Solidigm) Dalian;
  // TSMC Nanjing revoked effective the same day by direct notice.
  const int64_t dec31 = Day(2025, 12, 31);
  std::set<std::string> revoked_dec31;
  const v1::Signal* rule = nullptr;
  for (const auto& [id, s] : Data().signals) {
    if (s.export_control().kind() !=
        v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED) {
      continue;
    }
    EXPECT_EQ(s.export_control().authority(), "US-BIS") << id;
    if (s.effective_from().seconds() != dec31) continue;
    for (const std::string& t : s.export_control().target_ids()) {
      revoked_dec31.insert(t);
    }
    if (absl::StrContains(s.source(), "90 FR 42321")) rule = &s;
  }
  EXPECT_EQ(revoked_dec31,
            (std::set<std::string>{
                "facility/samsung-xian", "facility/skhynix-wuxi",
                "facility/solidigm-dalian", "facility/tsmc-nanjing"}));
  ASSERT_NE(rule, nullptr) << "no revocation citing 90 FR 42321";
  EXPECT_TRUE(absl::StrContains(rule->source(), "FR Doc 2025-16735"));
  EXPECT_EQ(
      std::set<std::string>(rule->export_control().target_ids().begin(),
                            rule->export_control().target_ids().end()),
      (std::set<std::string>{"facility/samsung-xian", "facility/skhynix-wuxi",
                             "facility/solidigm-dalian"}));
  // The revocation stays in force at every later date (the 2026 licences
  // lower its severity but never lift it), for all four fabs.
  for (int64_t t : {Day(2025, 12, 31), Day(2026, 6, 1), Day(2027, 6, 1)}) {
    std::set<std::string> active;
    for (const auto& [id, s] : Data().signals) {
      if (s.export_control().kind() !=
          v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED) {
        continue;
      }
      const bool started =
          !s.has_effective_from() || s.effective_from().seconds() <= t;
      const bool ended =
          s.has_effective_until() && s.effective_until().seconds() <= t;
      if (!started || ended) continue;
      for (const std::string& target : s.export_control().target_ids()) {
        active.insert(target);
      }
    }
    EXPECT_EQ(active.size(), 4u) << "at " << absl::FromUnixSeconds(t);
  }
  // The revoked facilities are the ones docs/sources.md places there.
  const std::map<std::string, std::string> regions = {
      {"facility/samsung-xian", "CN-SN"},
      {"facility/skhynix-wuxi", "CN-JS"},
      {"facility/solidigm-dalian", "CN-LN"},
      {"facility/tsmc-nanjing", "CN-JS"},
      {"facility/samsung-suzhou", "CN-JS"},
      {"facility/skhynix-chongqing", "CN-CQ"}};
  for (const auto& [id, region] : regions) {
    auto it = Data().entities.find(id);
    ASSERT_NE(it, Data().entities.end()) << id;
    EXPECT_EQ(it->second.region(), region) << id;
  }
}

TEST(DemoDataTest, TariffsMatchFacts) {
  // Section 301: 50% on Chinese 8541 and 8542 since 1 Jan 2025.
  for (const char* hs : {"8541", "8542"}) {
    const v1::Signal* s =
        FindTariff("Section 301", "US", "CN", hs, Day(2025, 1, 1));
    ASSERT_NE(s, nullptr) << "Section 301 on " << hs;
    EXPECT_DOUBLE_EQ(s->tariff().rate(), 0.5);
    EXPECT_FALSE(s->has_effective_until());
  }
  // US-KR deal: 15% on Korean imports from 1 Aug 2025; autos 25% -> 15% on
  // 1 Nov 2025.
  const v1::Signal* kr =
      FindTariff("US-KR deal", "US", "KR", "", Day(2025, 8, 1));
  ASSERT_NE(kr, nullptr);
  EXPECT_DOUBLE_EQ(kr->tariff().rate(), 0.15);
  const v1::Signal* autos15 =
      FindTariff("US-KR deal", "US", "KR", "8703", Day(2025, 11, 1));
  ASSERT_NE(autos15, nullptr);
  EXPECT_DOUBLE_EQ(autos15->tariff().rate(), 0.15);
  const v1::Signal* autos25 =
      FindTariff("US-KR deal", "US", "KR", "8703", Day(2025, 8, 1));
  ASSERT_NE(autos25, nullptr);
  EXPECT_DOUBLE_EQ(autos25->tariff().rate(), 0.25);
  EXPECT_EQ(autos25->effective_until().seconds(), Day(2025, 11, 1));
  // Korean semiconductors: "no less favorable than" Taiwan's, from the
  // 29 Oct 2025 terms: never above what the dataset charges Taiwanese chips.
  for (const char* hs : {"8541", "8542"}) {
    const v1::Signal* semis =
        FindTariff("US-KR deal", "US", "KR", hs, Day(2025, 11, 1));
    ASSERT_NE(semis, nullptr) << hs;
    double taiwan = 0;
    for (const auto& [id, s] : Data().signals) {
      if (s.tariff().importer_country() == "US" &&
          s.tariff().origin_country() == "TW") {
        taiwan = std::max(taiwan, s.tariff().rate());
      }
    }
    EXPECT_LE(semis->tariff().rate(), taiwan) << hs;
  }
  // IEEPA fentanyl: 20% until 10 Nov 2025, 10% from then.
  const v1::Signal* fent10 =
      FindTariff("IEEPA fentanyl", "US", "CN", "", Day(2025, 11, 10));
  ASSERT_NE(fent10, nullptr);
  EXPECT_DOUBLE_EQ(fent10->tariff().rate(), 0.10);
  bool fent20 = false;
  for (const auto& [id, s] : Data().signals) {
    if (s.tariff().programme() == "IEEPA fentanyl" &&
        s.tariff().rate() == 0.20 &&
        s.effective_until().seconds() == Day(2025, 11, 10)) {
      fent20 = true;
    }
  }
  EXPECT_TRUE(fent20) << "the 20% IEEPA rate must end on 10 Nov 2025";
  // Reciprocal 10% on China kept to 10 Nov 2026.
  bool reciprocal = false;
  for (const auto& [id, s] : Data().signals) {
    if (s.tariff().programme() == "IEEPA reciprocal" &&
        s.tariff().origin_country() == "CN" && s.tariff().rate() == 0.10 &&
        s.effective_until().seconds() == Day(2026, 11, 10)) {
      reciprocal = true;
    }
  }
  EXPECT_TRUE(reciprocal);
  // Legacy chips: 0% from the 23 Dec 2025 determination, rising on 23 Jun
  // 2027 (a future-dated signal) for the subheadings docs/sources.md names.
  for (const char* hs : {"280461", "381800", "854110", "854121", "854129",
                         "854130", "854149", "854151", "854159"}) {
    const v1::Signal* zero = FindTariff("Section 301 legacy chips", "US", "CN",
                                        hs, Day(2025, 12, 23));
    ASSERT_NE(zero, nullptr) << hs;
    EXPECT_EQ(zero->tariff().rate(), 0.0) << hs;
    EXPECT_EQ(zero->effective_until().seconds(), Day(2027, 6, 23)) << hs;
    const v1::Signal* later = FindTariff("Section 301 legacy chips", "US", "CN",
                                         hs, Day(2027, 6, 23));
    ASSERT_NE(later, nullptr) << hs;
    EXPECT_GT(later->tariff().rate(), 0.0) << hs;
    EXPECT_TRUE(absl::StrContains(later->source(), "assumption:"))
        << hs << ": the rate after 23 Jun 2027 is not in docs/sources.md";
  }
}

TEST(DemoDataTest, TensionSignalFollowsTheGprMethod) {
  int tension = 0;
  for (const auto& [id, s] : Data().signals) {
    if (!s.has_tension()) continue;
    ++tension;
    EXPECT_EQ(s.tension().theatre(), "cross_strait");
    EXPECT_GT(s.tension().level(), 0.0);
    EXPECT_LE(s.tension().level(), 1.0);
    EXPECT_TRUE(absl::StrContains(s.source(), "Caldara"));
    EXPECT_TRUE(absl::StrContains(s.source(), "assumption:"));
  }
  EXPECT_EQ(tension, 1);
}

TEST(DemoDataTest, ListingsAreIllustrativeAssumptions) {
  int listings = 0;
  for (const auto& [id, s] : Data().signals) {
    if (s.export_control().kind() != v1::ExportControl::ENTITY_LISTING) {
      continue;
    }
    ++listings;
    // docs/sources.md names no Entity List entry: each must say it is assumed.
    EXPECT_TRUE(absl::StartsWith(s.source(), "assumption:")) << id;
    EXPECT_TRUE(absl::StrContains(s.title(), "Illustrative")) << id;
  }
  EXPECT_GE(listings, 1);
  // A company owned 50% or more in aggregate by listed parties, so the
  // ownership rules (OFAC's; BIS's Affiliates Rule) have something to reach.
  double listed_owned = 0;
  for (const v1::Edge& e : Data().edges) {
    if (e.kind() == v1::Edge::OWNS &&
        e.to_id() == "company/hypothetical-cn-chip-jv") {
      listed_owned += e.weight();
    }
  }
  EXPECT_GE(listed_owned, 0.5);
}

TEST(DemoDataTest, CompaniesFacilitiesAndDealsMatchFacts) {
  for (const char* id :
       {"company/foxconn", "company/openai", "company/nvidia", "company/tsmc",
        "company/samsung-electronics", "company/sk-hynix", "company/solidigm",
        "company/intel", "company/sk-group", "company/hyundai-motor-group",
        "company/naver-cloud", "company/korea-government",
        "company/yotta-data-services", "company/amazon", "company/lumentum",
        "company/coherent", "company/furiosaai"}) {
    EXPECT_TRUE(Data().entities.count(id)) << id;
  }

  // TSMC's fabs, by place (docs/sources.md: Companies, facilities and deals).
  std::multiset<std::string> tsmc_places;
  for (const v1::Entity& f : Operated("company/tsmc")) {
    if (f.facility_type() == v1::Entity::FAB) {
      tsmc_places.insert(f.region().empty() ? f.country() : f.region());
    }
  }
  for (const char* place : {"TW-HSZ", "TW-TXG", "TW-TNN", "TW-KHH", "CN-JS",
                            "CN-SH", "US-WA", "US-AZ", "JP-43", "DE-SN"}) {
    EXPECT_TRUE(tsmc_places.count(place)) << "no TSMC fab in " << place;
  }

  // Foxconn's US sites: Wisconsin, Ohio, Texas; cities are assumptions.
  std::set<std::string> foxconn_us;
  for (const v1::Entity& f : Operated("company/foxconn")) {
    if (f.country() == "US") {
      foxconn_us.insert(f.region());
      EXPECT_TRUE(absl::StrContains(f.source(), "assumed")) << f.id();
    }
  }
  EXPECT_EQ(foxconn_us, (std::set<std::string>{"US-OH", "US-TX", "US-WI"}));
  // OpenAI's racks come from those sites from the ~20-21 Nov 2025 deal on,
  // Ohio the largest.
  double ohio = 0, others = 0;
  for (const v1::Edge& e : Data().edges) {
    if (e.kind() != v1::Edge::SUPPLIES || e.to_id() != "company/openai" ||
        e.product_code() != "847150") {
      continue;
    }
    EXPECT_EQ(e.effective_from().seconds(), Day(2025, 11, 20));
    (e.from_id() == "facility/foxconn-ohio" ? ohio : others) += e.weight();
  }
  EXPECT_GT(ohio, 0);
  EXPECT_GT(ohio, others / 2);

  // Facility shares from docs/sources.md.
  const v1::Edge* xian = FindEdge("company/samsung-electronics",
                                  v1::Edge::OPERATES, "facility/samsung-xian");
  ASSERT_NE(xian, nullptr);
  EXPECT_GE(xian->weight(), 0.35);
  EXPECT_LE(xian->weight(), 0.40);
  const v1::Edge* wuxi =
      FindEdge("company/sk-hynix", v1::Edge::OPERATES, "facility/skhynix-wuxi");
  ASSERT_NE(wuxi, nullptr);
  EXPECT_DOUBLE_EQ(wuxi->weight(), 0.4);
  const v1::Edge* dalian = FindEdge("company/solidigm", v1::Edge::OPERATES,
                                    "facility/solidigm-dalian");
  ASSERT_NE(dalian, nullptr);
  EXPECT_DOUBLE_EQ(dalian->weight(), 0.2);
  const v1::Edge* owns =
      FindEdge("company/sk-hynix", v1::Edge::OWNS, "company/solidigm");
  ASSERT_NE(owns, nullptr);
  EXPECT_DOUBLE_EQ(owns->weight(), 1.0);
  ASSERT_NE(FindEdge("company/samsung-electronics", v1::Edge::OPERATES,
                     "facility/samsung-suzhou"),
            nullptr);
  ASSERT_NE(FindEdge("company/sk-hynix", v1::Edge::OPERATES,
                     "facility/skhynix-chongqing"),
            nullptr);
  // SK hynix's ownership chain up to SK Group.
  ASSERT_NE(FindEdge("company/sk-square", v1::Edge::OWNS, "company/sk-hynix"),
            nullptr);
  ASSERT_NE(FindEdge("company/sk-group", v1::Edge::OWNS, "company/sk-square"),
            nullptr);

  // Nvidia - South Korea, 31 Oct 2025: GPUs to each of the five buyers'
  // sites from that date.
  std::set<std::string> buyers;
  for (const v1::Edge& e : Data().edges) {
    if (e.kind() != v1::Edge::SUPPLIES || e.from_id() != "company/nvidia" ||
        e.effective_from().seconds() != Day(2025, 10, 31)) {
      continue;
    }
    EXPECT_EQ(e.product_code(), "854231");
    for (const v1::Edge& op : Data().edges) {
      if (op.kind() == v1::Edge::OPERATES && op.to_id() == e.to_id()) {
        buyers.insert(op.from_id());
      }
    }
  }
  EXPECT_EQ(buyers, (std::set<std::string>{
                        "company/hyundai-motor-group",
                        "company/korea-government", "company/naver-cloud",
                        "company/samsung-electronics", "company/sk-group"}));

  // Hyundai's Georgia battery plant; Amazon's Spanish (Aragon) data centres;
  // Yotta in India.
  bool battery = false;
  for (const v1::Entity& f : Operated("company/hyundai-motor-group")) {
    battery =
        battery ||
        (f.region() == "US-GA" && f.facility_type() == v1::Entity::PLANT &&
         !f.product_codes().empty() && f.product_codes(0) == "8507");
  }
  EXPECT_TRUE(battery);
  int aragon = 0;
  for (const v1::Entity& f : Operated("company/amazon")) {
    aragon +=
        f.region() == "ES-AR" && f.facility_type() == v1::Entity::DATA_CENTER;
  }
  EXPECT_GE(aragon, 1);
  int yotta = 0;
  for (const v1::Entity& f : Operated("company/yotta-data-services")) {
    yotta += f.country() == "IN";
  }
  EXPECT_GE(yotta, 1);
}

TEST(DemoDataTest, GeneratorReproducesTheFiles) {
  const std::string out = MakeTempDir("demo_gen");
  const std::string cmd =
      absl::StrCat("/usr/bin/python3 ", Runfile("data/demo/build_demo.py"),
                   " --out ", out, " 2>&1");
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int rc = pclose(pipe);
  ASSERT_EQ(rc, 0) << cmd << "\n" << output;
  for (const char* name : kFiles) {
    absl::StatusOr<std::string> generated =
        ReadFile(absl::StrCat(out, "/", name));
    absl::StatusOr<std::string> committed =
        ReadFile(Runfile(absl::StrCat("data/demo/", name)));
    ASSERT_TRUE(generated.ok()) << generated.status();
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_TRUE(*generated == *committed)
        << name << " differs from build_demo.py's output: run "
        << "python3 data/demo/build_demo.py and commit the result";
  }
}

TEST(DemoDataTest, GraphStoreAcceptsEveryRecordInOrder) {
  storage::RocksDbGraphStoreOptions options;
  options.path = MakeTempDir("demo_graph") + "/db";
  options.sync = false;
  options.block_cache_bytes = size_t{8} << 20;
  options.write_buffer_bytes = size_t{4} << 20;
  auto store = storage::RocksDbGraphStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();

  const Dataset& d = Data();
  ASSERT_TRUE(d.errors.empty());
  int64_t sequence = 0;
  for (size_t f = 0; f < d.files.size(); ++f) {
    std::vector<v1::Mutation> batch;
    for (const Record& r : d.files[f]) batch.push_back(r.mutation);
    absl::StatusOr<storage::ApplyResult> applied =
        (*store)->Apply(batch, "demo_data_test");
    ASSERT_TRUE(applied.ok()) << kFiles[f] << ": " << applied.status();
    EXPECT_GT(applied->sequence, sequence);
    sequence = applied->sequence;
    ASSERT_EQ(applied->outcomes.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(applied->outcomes[i], storage::MutationOutcome::kApplied)
          << d.files[f][i].where;
    }
  }
  absl::StatusOr<storage::StoreStats> stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->entity_count, static_cast<int64_t>(d.entities.size()));
  EXPECT_EQ(stats->edge_count, static_cast<int64_t>(d.edges.size()));
  EXPECT_EQ(stats->signal_count, static_cast<int64_t>(d.signals.size()));

  // A second import is harmless: every record is a duplicate by its key.
  for (size_t f = 0; f < d.files.size(); ++f) {
    std::vector<v1::Mutation> batch;
    for (const Record& r : d.files[f]) batch.push_back(r.mutation);
    absl::StatusOr<storage::ApplyResult> again =
        (*store)->Apply(batch, "demo_data_test");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->sequence, sequence) << kFiles[f] << " changed something";
    for (storage::MutationOutcome o : again->outcomes) {
      EXPECT_EQ(o, storage::MutationOutcome::kDuplicate);
    }
  }

  absl::StatusOr<v1::Entity> xian =
      (*store)->GetEntity("facility/samsung-xian");
  ASSERT_TRUE(xian.ok()) << xian.status();
  EXPECT_EQ(xian->region(), "CN-SN");
}

}  // namespace
}  // namespace georisk
