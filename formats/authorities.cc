#include "formats/authorities.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/text_fold.h"

namespace georisk::formats {
namespace {

using Measure = v1::ExportControl::Measure;
constexpr Measure kExport = v1::ExportControl::MEASURE_EXPORT_CONTROL_LISTING;
constexpr Measure kBlocking = v1::ExportControl::MEASURE_BLOCKING_SANCTION;
constexpr Measure kSectoral = v1::ExportControl::MEASURE_SECTORAL_SANCTION;
constexpr Measure kDebarment = v1::ExportControl::MEASURE_DEBARMENT;
constexpr Measure kOther = v1::ExportControl::MEASURE_OTHER;

// An issuer's name (as publishers write it; folded before matching) and its
// code. `country`, when set, limits the entry to sanctions of that
// jurisdiction (names several countries use). First match wins, so longer
// names come before the short ones they contain.
struct Issuer {
  const char* name;
  const char* code;
  const char* country;
};
constexpr Issuer kIssuers[] = {
    // United States.
    {"Office of Foreign Assets Control", "US-OFAC", nullptr},
    {"OFAC", "US-OFAC", nullptr},
    {"Bureau of Industry and Security", "US-BIS", nullptr},
    {"Department of Commerce", "US-BIS", nullptr},
    {"Directorate of Defense Trade Controls", "US-STATE", nullptr},
    {"Bureau of International Security and Nonproliferation", "US-STATE",
     nullptr},
    {"Department of State", "US-STATE", nullptr},
    {"State Department", "US-STATE", nullptr},
    {"General Services Administration", "US-GSA", nullptr},
    // European Union: DG FISMA keeps the EU's financial sanctions list.
    {"Directorate-General for Financial Stability, Financial Services and "
     "Capital Markets Union",
     "EU", nullptr},
    {"DG FISMA", "EU", nullptr},
    {"Council of the European Union", "EU", nullptr},
    {"Council of the EU", "EU", nullptr},
    {"European Commission", "EU", nullptr},
    {"European Union", "EU", nullptr},
    // United Nations.
    {"Security Council", "UN", nullptr},
    {"United Nations", "UN", nullptr},
    // United Kingdom: the FCDO designates under the UK sanctions
    // regulations, OFSI (HM Treasury) implements asset freezes.
    {"Foreign, Commonwealth & Development Office", "UK", nullptr},
    {"Foreign and Commonwealth Office", "UK", nullptr},
    {"Office of Financial Sanctions Implementation", "UK", nullptr},
    {"HM Treasury", "UK", nullptr},
    {"OFSI", "UK", nullptr},
    {"The Insolvency Service", "UK-INSOLVENCY", nullptr},
    // Switzerland.
    {"State Secretariat for Economic Affairs", "CH", nullptr},
    {"Staatssekretariat für Wirtschaft", "CH", nullptr},
    {"Secrétariat d'État à l'économie", "CH", nullptr},
    {"SECO", "CH", nullptr},
    // France, Belgium, Monaco.
    {"Direction Générale du Trésor", "FR", nullptr},
    {"Federal Public Service Finance", "BE", nullptr},
    {"SPF Finances", "BE", nullptr},
    {"La Principauté de Monaco", "MC", nullptr},
    {"Principauté de Monaco", "MC", nullptr},
    // Ukraine (in Ukrainian and English).
    {"National Security and Defense Council", "UA", nullptr},
    {"Рада національної безпеки і оборони України", "UA", nullptr},
    {"Служба безпеки України", "UA", nullptr},
    {"ГУР МО України", "UA", nullptr},
    {"Головне управління розвідки Міністерства оборони України", "UA", nullptr},
    // Russia.
    {"Правительство Российской Федерации", "RU", nullptr},
    {"Министерство иностранных дел Российской Федерации", "RU", nullptr},
    {"МИД России", "RU", nullptr},
    // Asia-Pacific and the Americas.
    {"Ministry of Economy, Trade and Industry", "JP-METI", nullptr},
    {"METI", "JP-METI", nullptr},
    {"経済産業省", "JP-METI", nullptr},
    {"Ministry of Finance", "JP-MOF", "jp"},
    {"財務省", "JP-MOF", nullptr},
    {"Ministry of Commerce of the People's Republic of China", "CN-MOFCOM",
     nullptr},
    {"MOFCOM", "CN-MOFCOM", nullptr},
    {"Ministry of Foreign Affairs and Trade", "NZ", "nz"},
    {"Department of Foreign Affairs and Trade", "AU", nullptr},
    {"DFAT", "AU", nullptr},
    {"Global Affairs Canada", "CA", nullptr},
};

// Programme id prefixes (OpenSanctions `programId`) and their issuer.
struct Prefix {
  absl::string_view prefix;
  absl::string_view code;
};
constexpr Prefix kProgramIssuers[] = {
    {"US-BIS-", "US-BIS"},   {"US-OFAC-", "US-OFAC"}, {"US-DDTC-", "US-STATE"},
    {"US-ISN-", "US-STATE"}, {"EU-", "EU"},           {"GB-", "UK"},
    {"SECO-", "CH"},         {"CH-", "CH"},           {"UA-", "UA"},
    {"NZ-", "NZ"},           {"AU-", "AU"},           {"CA-", "CA"},
    {"JP-", "JP"},           {"UN-", "UN"},           {"FR-", "FR"},
};

// Sanction jurisdictions (FtM `country` of a Sanction) whose code is not the
// upper-cased value.
struct Jurisdiction {
  absl::string_view country;
  absl::string_view code;
};
constexpr Jurisdiction kJurisdictions[] = {
    {"gb", "UK"}, {"eu", "EU"}, {"un", "UN"}};

// OpenSanctions datasets and the measure their records are.
struct Dataset {
  absl::string_view dataset;
  Measure measure;
};
constexpr Dataset kDatasets[] = {
    // Blocking / asset-freeze sanctions.
    {"us_ofac_sdn", kBlocking},
    {"eu_fsf", kBlocking},
    {"gb_fcdo_sanctions", kBlocking},
    {"gb_hmt_sanctions", kBlocking},
    {"ch_seco_sanctions", kBlocking},
    {"fr_tresor_gels_avoir", kBlocking},
    {"be_fod_sanctions", kBlocking},
    {"mc_fund_freezes", kBlocking},
    {"nz_russia_sanctions", kBlocking},
    {"au_dfat_sanctions", kBlocking},
    {"ca_dfatd_sema_sanctions", kBlocking},
    {"ua_nsdc_sanctions", kBlocking},
    {"jp_mof_sanctions", kBlocking},
    {"un_sc_sanctions", kBlocking},
    // Export controls.
    {"jp_meti_ru", kExport},
    {"jp_meti_eul", kExport},
    // Debarments and exclusions.
    {"us_sam_exclusions", kDebarment},
    {"gb_coh_disqualified", kDebarment},
    {"us_ddtc_debarred", kDebarment},
    // Other: travel bans; Ukraine's War & Sanctions portal (a register of
    // parties involved in the war, not a legal measure).
    {"eu_travel_bans", kOther},
    {"ua_war_sanctions", kOther},
};

// Programme ids and the measure they are (the CSL through OpenSanctions).
struct Program {
  absl::string_view program_id;
  Measure measure;
};
constexpr Program kPrograms[] = {
    {"US-BIS-EL", kExport},     {"US-BIS-MEU", kExport},
    {"US-BIS-UVL", kExport},    {"US-BIS-DPL", kExport},
    {"US-ISN", kExport},        {"US-DDTC-DEBARRED", kDebarment},
    {"US-OFAC-SSI", kSectoral},
};

// Words of provisions, last resort (folded, whole words).
struct Words {
  const char* words;
  Measure measure;
};
constexpr Words kProvisionWords[] = {
    {"Block", kBlocking},
    {"Asset freeze", kBlocking},
    {"Targeted financial sanction", kBlocking},
    {"Gel des avoirs", kBlocking},
    {"Sectoral", kSectoral},
    {"Debarred", kDebarment},
    {"Debarment", kDebarment},
    {"Exclusion", kDebarment},
    {"Disqualification", kDebarment},
    {"Travel ban", kOther},
};

// CSL list codes and their measure (docs/formats.md).
struct CslMeasure {
  absl::string_view code;
  Measure measure;
};
constexpr CslMeasure kCslMeasures[] = {
    {"EL", kExport},     {"MEU", kExport},   {"UVL", kExport},
    {"DPL", kExport},    {"SDN", kBlocking}, {"SSI", kSectoral},
    {"FSE", kBlocking},  {"CAP", kSectoral}, {"CMIC", kSectoral},
    {"MBS", kSectoral},  {"PLC", kSectoral}, {"ISN", kExport},
    {"DTC", kDebarment},
};

// An upper-case ASCII code of a name ("Ministry of Defence" ->
// "MINISTRY-OF-DEFENCE"), at most 32 bytes; "" when it has fewer than two
// ASCII letters.
std::string AsciiCode(absl::string_view name) {
  std::string code;
  int letters = 0;
  for (char c : name) {
    if (code.size() >= 32) break;
    if (absl::ascii_isalnum(c)) {
      code.push_back(absl::ascii_toupper(c));
      if (absl::ascii_isalpha(c)) ++letters;
    } else if (!code.empty() && code.back() != '-') {
      code.push_back('-');
    }
  }
  while (!code.empty() && code.back() == '-') code.pop_back();
  return letters >= 2 ? code : std::string();
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, 80)), "\"");
}

// A table's names, folded once.
template <typename Entry, size_t N, typename Name>
const std::vector<std::string>& Folded(const Entry (&table)[N], Name name) {
  static const std::vector<std::string>* const folded = [&] {
    auto* v = new std::vector<std::string>;
    for (const Entry& e : table) v->push_back(domain::FoldForMatch(name(e)));
    return v;
  }();
  return *folded;
}

const std::vector<std::string>& FoldedIssuers() {
  return Folded(kIssuers, [](const Issuer& i) { return i.name; });
}
const std::vector<std::string>& FoldedProvisionWords() {
  return Folded(kProvisionWords, [](const Words& w) { return w.words; });
}

}  // namespace

std::string AuthorityCodeForName(absl::string_view name,
                                 absl::string_view country) {
  const std::string folded = domain::FoldForMatch(name);
  if (folded.empty()) return "";
  const std::string jurisdiction = absl::AsciiStrToLower(country);
  const std::vector<std::string>& needles = FoldedIssuers();
  for (size_t i = 0; i < needles.size(); ++i) {
    const Issuer& issuer = kIssuers[i];
    if (issuer.country != nullptr && jurisdiction != issuer.country) continue;
    if (domain::ContainsFoldedWords(folded, needles[i])) return issuer.code;
  }
  return "";
}

SanctionClass ClassifySanction(const SanctionFacts& facts) {
  SanctionClass out;
  // Who.
  for (const std::string& name : facts.authorities) {
    out.authority = AuthorityCodeForName(name, facts.country);
    if (!out.authority.empty()) break;
  }
  if (out.authority.empty() && !facts.program_id.empty()) {
    for (const Prefix& p : kProgramIssuers) {
      if (absl::StartsWithIgnoreCase(facts.program_id, p.prefix)) {
        out.authority = std::string(p.code);
        break;
      }
    }
  }
  if (out.authority.empty() && !facts.country.empty()) {
    const std::string country = absl::AsciiStrToLower(facts.country);
    for (const Jurisdiction& j : kJurisdictions) {
      if (country == j.country) out.authority = std::string(j.code);
    }
    if (out.authority.empty() && country.size() == 2 &&
        absl::ascii_isalpha(country[0]) && absl::ascii_isalpha(country[1])) {
      out.authority = absl::AsciiStrToUpper(country);
    }
  }
  if (out.authority.empty()) {
    const std::string first =
        facts.authorities.empty() ? std::string() : facts.authorities.front();
    out.authority = AsciiCode(first);
    if (out.authority.empty()) out.authority = "UNKNOWN";
    out.warnings.push_back(absl::StrCat(
        "authority ", first.empty() ? "(none)" : Quoted(first),
        " is not in the table of issuers (docs/formats.md); kept as \"",
        out.authority, "\""));
  }
  // What.
  bool classified = false;
  for (const Dataset& d : kDatasets) {
    if (facts.dataset == d.dataset) {
      out.measure = d.measure;
      classified = true;
      break;
    }
  }
  if (!classified && !facts.program_id.empty()) {
    for (const Program& p : kPrograms) {
      if (absl::EqualsIgnoreCase(facts.program_id, p.program_id)) {
        out.measure = p.measure;
        classified = true;
        break;
      }
    }
  }
  if (!classified) {
    for (const std::string& text : facts.provisions) {
      const std::string folded = domain::FoldForMatch(text);
      const std::vector<std::string>& words = FoldedProvisionWords();
      for (size_t i = 0; i < words.size(); ++i) {
        if (domain::ContainsFoldedWords(folded, words[i])) {
          out.measure = kProvisionWords[i].measure;
          classified = true;
          break;
        }
      }
      if (classified) break;
    }
  }
  if (!classified) {
    out.measure = kOther;
    out.warnings.push_back(absl::StrCat(
        "measure not classified (dataset ",
        facts.dataset.empty() ? "(none)" : Quoted(facts.dataset),
        ", programId ",
        facts.program_id.empty() ? "(none)" : Quoted(facts.program_id),
        "): kept as MEASURE_OTHER"));
  }
  return out;
}

v1::ExportControl::Measure CslListMeasure(absl::string_view code) {
  for (const CslMeasure& m : kCslMeasures) {
    if (absl::EqualsIgnoreCase(code, m.code)) return m.measure;
  }
  return kOther;
}

}  // namespace georisk::formats
