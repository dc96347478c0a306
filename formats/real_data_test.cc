// The real published files of tests/data/real (README.md there: provenance,
// licences), parsed whole by the parsers of formats/: each record is imported
// or rejected for a stated reason. The counts asserted here are the table of
// docs/formats.md ("Real files"); the records checked one by one are cited by
// file and line (CSV: the header is line 1).
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/validation.h"
#include "formats/ftm_parser.h"
#include "formats/parsers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::formats {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string RealPath(absl::string_view file) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir == nullptr ? "." : srcdir,
                      "/georisk/tests/data/real/", file);
}

std::string ReadReal(absl::string_view file) {
  std::ifstream in(RealPath(file), std::ios::binary);
  EXPECT_TRUE(in.good()) << file;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Parsed {
  std::vector<ParsedRecord> records;
  int imported = 0;
  int rejected = 0;
  int warned = 0;
  // "field: reason" (quoted values cut) -> count.
  std::map<std::string, int> reasons;

  // The record that starts on `line`.
  const ParsedRecord& At(int64_t line) const {
    for (const ParsedRecord& r : records) {
      if (r.line == line) return r;
    }
    ADD_FAILURE() << "no record on line " << line;
    static const ParsedRecord* const kNone = new ParsedRecord;
    return *kNone;
  }
};

// The reason without what it quotes: "unknown schema \"Address\"; ..." ->
// "unknown schema".
std::string Group(const ParsedRecord& r) {
  std::string reason = r.reason.substr(0, r.reason.find(" \""));
  reason = reason.substr(0, reason.find(" (line"));
  return r.field.empty() ? reason : absl::StrCat(r.field, ": ", reason);
}

Parsed ParseReal(absl::string_view file, ParserOptions options = {}) {
  const std::string content = ReadReal(file);
  absl::StatusOr<Format> format = DetectFormat(file, content.substr(0, 4096));
  EXPECT_TRUE(format.ok()) << file << ": " << format.status();
  Parsed out;
  if (!format.ok()) return out;
  std::istringstream in(content);
  auto parser = MakeParser(*format, &in, options);
  EXPECT_TRUE(parser.ok()) << parser.status();
  if (!parser.ok()) return out;
  ParsedRecord record;
  while ((*parser)->Next(&record)) {
    if (record.rejected()) {
      ++out.rejected;
      ++out.reasons[Group(record)];
    } else {
      ++out.imported;
    }
    if (!record.warnings.empty()) ++out.warned;
    out.records.push_back(record);
  }
  EXPECT_EQ((*parser)->bytes_read(), static_cast<int64_t>(content.size()));
  // The table of docs/formats.md, printed for whoever updates it.
  std::vector<std::string> groups;
  for (const auto& [reason, count] : out.reasons) {
    groups.push_back(absl::StrCat(count, " `", reason, "`"));
  }
  std::cout << "| `" << file << "` | " << out.records.size() << " | "
            << out.imported << " | " << out.rejected << " | " << out.warned
            << " | " << absl::StrJoin(groups, " · ") << " |\n";
  return out;
}

const v1::Entity& EntityOf(const ParsedRecord& r) {
  return r.mutations.at(0).upsert_entity();
}

// --- FollowTheMoney ---------------------------------------------------------

TEST(RealFtmTest, ZalaPersonsOwnershipsAndSanctions) {
  const Parsed p = ParseReal("ftm/zala.entities.ftm.json");
  // Line 11: Alexander Vyacheslavovich ZAKHAROV, a Person (issue #14 §1).
  const v1::Entity& zakharov = EntityOf(p.At(11));
  EXPECT_EQ(zakharov.id(), "person/ftm-nk-au5ybkbrfjucf8ymwsjvdw.1a4fe0dd");
  EXPECT_EQ(zakharov.kind(), v1::Entity::PERSON);
  EXPECT_EQ(zakharov.name(), "Alexander Vyacheslavovich ZAKHAROV");
  EXPECT_EQ(zakharov.country(), "RU");
  EXPECT_THAT(zakharov.aliases(), Contains("Александр Вячеславович Захаров"));
  EXPECT_THAT(zakharov.identifiers(),
              Contains(Pair("opensanctions", "NK-aU5ybkbRFJucf8YMwsJvDw")));
  // Line 12: LLC CST's display name is its caption.
  EXPECT_EQ(EntityOf(p.At(12)).name(), "LLC CST");
  // Lines 73, 74, 79: three dated records of ZAKHAROV -> LLC CST, each its
  // own edge record (record_id = the FtM Ownership id).
  struct Want {
    int line;
    double weight;
    std::string record_id;
    bool ended;
  };
  for (const Want& w :
       {Want{73, 0.50, "ru-770bdf5f22537fa2a94176f53fa87fe28ecf94fa", true},
        Want{74, 0.48, "ru-7f202fd87a7ec03404a36667672156628713531c", true},
        Want{79, 0.51, "ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7", false}}) {
    const ParsedRecord& r = p.At(w.line);
    ASSERT_FALSE(r.rejected()) << w.line << ": " << r.field << ": " << r.reason;
    const v1::Edge& e = r.mutations.at(0).upsert_edge();
    EXPECT_EQ(e.from_id(), zakharov.id()) << w.line;
    EXPECT_EQ(e.to_id(), "company/ftm-nk-abdzbebkqyt29gyrebiurz.9e19a6f8");
    EXPECT_DOUBLE_EQ(e.weight(), w.weight) << w.line;
    EXPECT_EQ(e.record_id(), w.record_id);
    EXPECT_EQ(e.has_effective_until(), w.ended) << w.line;
    EXPECT_EQ(e.effective_from().seconds(), 1448409600)
        << w.line;  // 2015-11-25
  }
  // Sanctions: who and what (GAPS.md §3-4).
  struct Listing {
    int line;
    std::string authority;
    v1::ExportControl::Measure measure;
    std::string target;
  };
  const std::string cst = "company/ftm-nk-abdzbebkqyt29gyrebiurz.9e19a6f8";
  for (const Listing& l : {
           Listing{37, "EU", v1::ExportControl::MEASURE_BLOCKING_SANCTION, cst},
           Listing{38, "EU", v1::ExportControl::MEASURE_BLOCKING_SANCTION,
                   zakharov.id()},
           Listing{39, "EU", v1::ExportControl::MEASURE_OTHER, zakharov.id()},
           Listing{43, "UK-INSOLVENCY", v1::ExportControl::MEASURE_DEBARMENT,
                   zakharov.id()},
           Listing{46, "UK", v1::ExportControl::MEASURE_BLOCKING_SANCTION, cst},
           Listing{49, "JP-METI",
                   v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING, cst},
           Listing{59, "US-OFAC", v1::ExportControl::MEASURE_BLOCKING_SANCTION,
                   zakharov.id()},
           Listing{81, "US-BIS",
                   v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING, cst},
           Listing{84, "UA", v1::ExportControl::MEASURE_BLOCKING_SANCTION, cst},
           Listing{85, "UA", v1::ExportControl::MEASURE_OTHER, cst},
           Listing{87, "US-OFAC", v1::ExportControl::MEASURE_DEBARMENT, cst},
       }) {
    const ParsedRecord& r = p.At(l.line);
    ASSERT_FALSE(r.rejected()) << l.line << ": " << r.field << ": " << r.reason;
    const v1::ExportControl& c =
        r.mutations.at(0).upsert_signal().export_control();
    EXPECT_EQ(c.authority(), l.authority) << l.line;
    EXPECT_EQ(c.measure(), l.measure) << l.line;
    EXPECT_THAT(c.target_ids(), ElementsAre(l.target)) << l.line;
    EXPECT_THAT(r.warnings, IsEmpty()) << l.line;
  }
  // Line 84's title names the issuer, never the programme number alone.
  EXPECT_THAT(p.At(84).mutations.at(0).upsert_signal().title(),
              HasSubstr("Служба безпеки України"));
  // What is still rejected, and why (docs/formats.md).
  EXPECT_EQ(p.records.size(), 91u);
  EXPECT_EQ(p.imported, 72);
  EXPECT_EQ(p.rejected, 19);
  EXPECT_EQ(p.reasons.at("schema: unknown schema"), 19);
  EXPECT_EQ(p.reasons.size(), 1u);
}

// Ownership records without a percentage (lines 2, 65, 67, 78 of zala: the
// UK/Ukraine "subsidiary of" and Russian EGRUL records that give a share
// count, not a share) are OWNS edges of unknown share, never 0% or 100%.
TEST(RealFtmTest, OwnershipWithoutPercentageIsAnEdgeOfUnknownShare) {
  const Parsed p = ParseReal("ftm/zala.entities.ftm.json");
  const ParsedRecord& r = p.At(2);
  ASSERT_FALSE(r.rejected()) << r.field << ": " << r.reason;
  ASSERT_EQ(r.mutations.size(), 1u);
  const v1::Edge& e = r.mutations.at(0).upsert_edge();
  EXPECT_EQ(e.kind(), v1::Edge::OWNS);
  EXPECT_EQ(e.to_id(), "company/ftm-nk-abdzbebkqyt29gyrebiurz.9e19a6f8");
  EXPECT_TRUE(e.share_unknown());
  EXPECT_EQ(e.weight(), 0.0);
  EXPECT_EQ(e.record_id(), "NK-3NyeuT6JeJDLhGEyH3JD52");
  EXPECT_TRUE(domain::ValidateEdge(e, "upsert_edge").ok());
  for (int line : {65, 67, 78}) {
    const ParsedRecord& dated = p.At(line);
    ASSERT_FALSE(dated.rejected()) << line << ": " << dated.reason;
    const v1::Edge& d = dated.mutations.at(0).upsert_edge();
    EXPECT_TRUE(d.share_unknown()) << line;
    EXPECT_EQ(d.weight(), 0.0) << line;
    EXPECT_TRUE(d.has_effective_from() && d.has_effective_until()) << line;
  }
  // A record with a percentage keeps its share (line 79: 51%).
  EXPECT_FALSE(p.At(79).mutations.at(0).upsert_edge().share_unknown());
}

// A Sanction whose target was rejected earlier in the file is rejected with
// that reason (issue #14's "signals pointing at nothing"). The real Person of
// zala line 11 is rejected here by a record size limit an operator may set.
TEST(RealFtmTest, SanctionOfARejectedTargetIsRejectedWithItsReason) {
  ParserOptions options;
  options.limits.max_record_bytes = 500;
  const Parsed p = ParseReal("ftm/zala.entities.ftm.json", options);
  ASSERT_TRUE(p.At(11).rejected());
  const ParsedRecord& ofac = p.At(59);
  EXPECT_EQ(ofac.field, "properties.entity");
  EXPECT_THAT(ofac.reason, HasSubstr("its target (line 11) was rejected: "));
  EXPECT_THAT(ofac.reason, HasSubstr(p.At(11).reason));
  // And so are the Ownerships he holds (line 79).
  EXPECT_EQ(p.At(79).field, "properties.owner");
  EXPECT_THAT(p.At(79).reason, HasSubstr("its owner (line 11) was rejected"));
}

TEST(RealFtmTest, T1PersonsAndOrganizations) {
  const Parsed p = ParseReal("ftm/t1.entities.ftm.json");
  // Line 2: Vitaly Yurievich KUZMENKO, nationality "ru", taxNumber.
  const v1::Entity& e = EntityOf(p.At(2));
  EXPECT_EQ(e.kind(), v1::Entity::PERSON);
  EXPECT_EQ(e.name(), "Vitaly Yurievich KUZMENKO");
  EXPECT_EQ(e.country(), "RU");
  EXPECT_THAT(e.identifiers(), Contains(Pair("tax_number", "366510784303")));
  EXPECT_EQ(p.records.size(), 7u);
  EXPECT_EQ(p.imported, 6);
  EXPECT_EQ(p.rejected, 1);  // Line 4, an Address.
}

TEST(RealFtmTest, DonationsPartiesWithoutCountry) {
  const Parsed p = ParseReal("ftm/donations.ijson");
  // Line 1: the party MLPD, an Organization with no country property.
  const v1::Entity& mlpd = EntityOf(p.At(1));
  EXPECT_EQ(mlpd.kind(), v1::Entity::COMPANY);
  EXPECT_EQ(mlpd.country(), "");
  EXPECT_EQ(p.records.size(), 474u);
  EXPECT_EQ(p.imported, 95);
  EXPECT_EQ(p.rejected, 379);
  EXPECT_EQ(p.reasons.at("schema: unknown schema"), 379);
}

// --- OpenSanctions deltas ---------------------------------------------------

TEST(RealFtmDeltaTest, TheSeriesInOrder) {
  absl::StatusOr<std::vector<DeltaVersion>> versions =
      DeltaVersionsAfter(ReadReal("ftm/delta/delta.json"), "");
  ASSERT_TRUE(versions.ok()) << versions.status();
  std::vector<std::string> names;
  for (const DeltaVersion& v : *versions) names.push_back(v.version);
  EXPECT_THAT(names, ElementsAre("20240527134702-zbn", "20240527194702-wnk",
                                 "20240528014702-pfh", "20240528074703-npf",
                                 "20240528134729-3iv"));
  EXPECT_THAT(versions->at(1).url,
              ::testing::StartsWith("https://data.opensanctions.org/"));
  // After a version already applied, only the later ones.
  versions = DeltaVersionsAfter(ReadReal("ftm/delta/delta.json"),
                                "20240528014702-pfh");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->at(0).version, "20240528074703-npf");
  EXPECT_EQ(DeltaVersionsAfter("{\"updated_at\": 1}", "").status().code(),
            absl::StatusCode::kInvalidArgument);

  // zbn: empty, detected as a delta all the same.
  EXPECT_EQ(ParseReal("ftm/delta/20240527134702-zbn/entities.delta.json")
                .records.size(),
            0u);
  // wnk: ADD Organization NK-2T3S8Hu29ktYnKSTgQp2wL, ADD Person.
  Parsed wnk = ParseReal("ftm/delta/20240527194702-wnk/entities.delta.json");
  ASSERT_EQ(wnk.imported, 2);
  EXPECT_EQ(EntityOf(wnk.At(1)).kind(), v1::Entity::COMPANY);
  EXPECT_EQ(EntityOf(wnk.At(2)).id(),
            "person/ftm-nk-2sjajrapjcwufmbhjttwcl.41a40242");
  // pfh line 2: MOD of NK-2T3S8Hu29ktYnKSTgQp2wL, an upsert of the same id.
  Parsed pfh = ParseReal("ftm/delta/20240528014702-pfh/entities.delta.json");
  ASSERT_EQ(pfh.imported, 2);
  EXPECT_EQ(EntityOf(pfh.At(2)).id(), EntityOf(wnk.At(1)).id());
  EXPECT_EQ(EntityOf(pfh.At(2)).name(), "Foobar Foobargroup");
  // npf: DEL NK-500Poltergeist: the deletes of what that id can have made.
  Parsed npf = ParseReal("ftm/delta/20240528074703-npf/entities.delta.json");
  ASSERT_EQ(npf.imported, 1);
  const std::string poltergeist = EntityOf(pfh.At(1)).id();
  std::vector<std::string> deleted;
  for (const v1::Mutation& m : npf.At(1).mutations) {
    deleted.push_back(m.has_delete_signal_id() ? m.delete_signal_id()
                                               : m.delete_entity_id());
  }
  EXPECT_THAT(deleted, Contains(poltergeist));
  EXPECT_EQ(deleted.size(), 3u);
  // 3iv: ADD Person Q4365364.
  Parsed iv = ParseReal("ftm/delta/20240528134729-3iv/entities.delta.json");
  ASSERT_EQ(iv.imported, 1);
  EXPECT_EQ(EntityOf(iv.At(1)).id(), "person/ftm-q4365364.709b142b");
}

// --- Consolidated Screening List ---------------------------------------------

TEST(RealCslTest, OlderLayoutGetsTradeGovsOwnIds) {
  const Parsed old_layout = ParseReal("csl/csl_2019_no_id.csv");
  const Parsed current = ParseReal("csl/csl_2023-11_excerpt.csv");
  // 2019 line 7 "32 Group China Ltd." is 2023 line 2813; 16 "A. Leib Ltd."
  // is 2890; DPL 22 "ABDULAH AL NASSER" is 271 (GAPS.md §5).
  for (const auto& [old_line, new_line] :
       std::vector<std::pair<int, int>>{{7, 2813}, {16, 2890}, {22, 271}}) {
    const ParsedRecord& a = old_layout.At(old_line);
    const ParsedRecord& b = current.At(new_line);
    ASSERT_FALSE(a.rejected()) << old_line << ": " << a.reason;
    ASSERT_FALSE(b.rejected()) << new_line << ": " << b.reason;
    EXPECT_EQ(EntityOf(a).id(), EntityOf(b).id()) << old_line;
    EXPECT_EQ(EntityOf(a).identifiers().at("csl_id"),
              EntityOf(b).identifiers().at("csl_id"));
  }
  // Individuals are persons: 2019 line 64, 2023 line 986.
  EXPECT_EQ(EntityOf(old_layout.At(64)).kind(), v1::Entity::PERSON);
  EXPECT_EQ(EntityOf(current.At(986)).kind(), v1::Entity::PERSON);
  EXPECT_THAT(EntityOf(current.At(986)).id(),
              ::testing::StartsWith("person/csl-sdn-"));
  // Same-name rows on one list stay apart: DPL "AL NASER AIRLINES" 287-290.
  std::set<std::string> ids;
  for (int line = 287; line <= 290; ++line) {
    ids.insert(EntityOf(current.At(line)).id());
  }
  EXPECT_EQ(ids.size(), 4u);
}

TEST(RealCslTest, CountriesFromNamesAndPartiesWithoutOne) {
  const Parsed p = ParseReal("csl/csl_2023-11_excerpt.csv");
  EXPECT_EQ(EntityOf(p.At(2250)).country(), "HK");  // "HONG KONG"
  EXPECT_EQ(EntityOf(p.At(2714)).country(), "CN");  // "…610036, China"
  EXPECT_EQ(EntityOf(p.At(536)).country(), "CN");   // "PRC"
  EXPECT_EQ(EntityOf(p.At(2331)).country(), "IR");  // "…, Tehran, Iran, "
  // DPL 268 "…, EL PASO, TX, 79905": a postal code ends it; no country, no
  // warning, imported.
  EXPECT_EQ(EntityOf(p.At(268)).country(), "");
  EXPECT_THAT(p.At(268).warnings, IsEmpty());
  // SDN 983 "ABBAS, Abu": no address at all, listed all the same.
  EXPECT_EQ(EntityOf(p.At(983)).country(), "");
  EXPECT_EQ(p.At(983).mutations.size(), 2u);
  // SDN 995 "Gaza Strip, undetermined": a warning.
  EXPECT_THAT(p.At(995).warnings,
              ElementsAre(HasSubstr("\"undetermined\"; imported without")));
  std::vector<int64_t> warned;
  for (const ParsedRecord& r : p.records) {
    if (!r.warnings.empty()) warned.push_back(r.line);
  }
  // "D. 10 OFIS 201", "NM", "undetermined" twice, "JABALIYA".
  EXPECT_THAT(warned, ElementsAre(768, 782, 995, 1031, 1921));
  EXPECT_EQ(p.records.size(), 2895u);
  EXPECT_EQ(p.imported, 2894);
  EXPECT_EQ(p.rejected, 1);  // Line 2, the repeated header.
  EXPECT_TRUE(p.At(2).rejected());
  EXPECT_THAT(p.At(2).reason, HasSubstr("repeated header row"));
}

// The `ids` column carries the identifiers entity resolution links by
// (formats/csl_ids.h; docs/formats.md, "CSL ids column").
TEST(RealCslTest, IdsBecomeIdentifiersAndIssuerNamesAliases) {
  const Parsed p = ParseReal("csl/csl_2023-11_excerpt.csv");
  // SSI line 5, VTB BANK: its LEI, OGRN (as a RU registration), INN (as a
  // RU tax number) and BIC; the gazette number, licence, website and
  // directive entries are not identifiers.
  const v1::Entity vtb = EntityOf(p.At(5));
  EXPECT_EQ(vtb.identifiers().at("lei"), "253400V1H6ART1UQ0N98");
  EXPECT_EQ(vtb.identifiers().at("registration"), "RU:1027739609391");
  EXPECT_EQ(vtb.identifiers().at("tax_number"), "RU:7702070139");
  EXPECT_EQ(vtb.identifiers().at("swift_bic"), "VTBRRUMM");
  EXPECT_EQ(vtb.identifiers().count("website"), 0u);
  // CMIC line 3, China Telecom: its USCC, and the issuer names as aliases.
  const v1::Entity ct = EntityOf(p.At(3));
  EXPECT_EQ(ct.identifiers().at("registration"), "CN:9111000071093019X7");
  EXPECT_THAT(ct.aliases(), ::testing::Contains("China Telecom Corp Ltd"));
  EXPECT_EQ(ct.identifiers().count("isin"), 1u);
  EXPECT_EQ(ct.identifiers().count("ticker"), 1u);
  // Across the file: how many rows carry a strong identifier.
  int with_lei = 0, with_registration = 0;
  for (const ParsedRecord& r : p.records) {
    if (r.rejected() || r.mutations.empty()) continue;
    const v1::Entity e = EntityOf(r);
    with_lei += e.identifiers().count("lei");
    with_registration += e.identifiers().count("registration");
  }
  EXPECT_EQ(with_lei, 9);
  EXPECT_EQ(with_registration, 324);
}

TEST(RealCslTest, MeuIdsSurviveTheNextDownload) {
  // MEU "Academy of Aerospace Solid Propulsion Technology (AASPT)": 2023
  // line 4 and 2025 line 4, identical but for trade.gov's random `_id`.
  const Parsed a = ParseReal("csl/csl_2023-11_excerpt.csv");
  const Parsed b = ParseReal("csl/csl_2025-06_sample.csv");
  EXPECT_EQ(EntityOf(a.At(4)).id(), EntityOf(b.At(4)).id());
  EXPECT_THAT(EntityOf(a.At(4)).id(),
              ::testing::StartsWith("company/csl-meu-h-"));
  EXPECT_EQ(b.records.size(), 13u);
  EXPECT_EQ(b.imported, 13);
}

TEST(RealCslTest, OlderLayoutWhole) {
  const Parsed p = ParseReal("csl/csl_2019_no_id.csv");
  EXPECT_EQ(p.records.size(), 115u);
  EXPECT_EQ(p.imported, 115);
  EXPECT_EQ(p.rejected, 0);
}

}  // namespace
}  // namespace georisk::formats
