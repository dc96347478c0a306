#include "formats/csl_ids.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "domain/country_codes.h"
#include "formats/format_util.h"

namespace georisk::formats {
namespace {

// Pseudo-scheme: the entry is a name of the party, not an identifier.
constexpr absl::string_view kAlias = "@alias";

struct IdType {
  absl::string_view type;  // normalised: lower case, no trailing ".:#"
  absl::string_view scheme;
  // The jurisdiction the type implies, for "CC:NUMBER" schemes.
  absl::string_view country;
};

// Built from the types in real CSL files (tests/data/real/csl; the counts
// are in docs/formats.md). Personal documents become the weak schemes the
// FtM importer uses for the same FollowTheMoney properties (passport,
// id_number), with their numbers as written, as FtM writes them.
constexpr IdType kTypes[] = {
    {"legal entity number", "lei", ""},
    {"lei", "lei", ""},
    {"swift/bic", "swift_bic", ""},
    {"isin", "isin", ""},
    {"equity ticker", "ticker", ""},
    {"vessel registration identification", "imo", ""},
    {"d-u-n-s number", "duns", ""},
    {"registration id", "registration", ""},
    {"registration number", "registration", ""},
    {"public registration number", "registration", ""},
    {"business registration number", "registration", ""},
    {"business registration document", "registration", ""},
    {"company number", "registration", ""},
    {"commercial registry number", "registration", ""},
    {"chamber of commerce number", "registration", ""},
    {"matricula mercantil no", "registration", ""},
    {"c.r. no", "registration", ""},
    {"uk company number", "registration", "GB"},
    {"unified social credit code (uscc)", "registration", "CN"},
    {"tax id no", "tax_number", ""},
    {"v.a.t. number", "tax_number", ""},
    {"nit", "tax_number", ""},
    {"ruc", "tax_number", ""},
    {"r.f.c", "tax_number", "MX"},
    {"c.u.i.t", "tax_number", "AR"},
    {"us fein", "tax_number", "US"},
    {"italian fiscal code", "tax_number", "IT"},
    {"passport", "passport", ""},
    {"national id no", "id_number", ""},
    {"cedula no", "id_number", ""},
    {"d.n.i", "id_number", ""},
    {"identification number", "id_number", ""},
    {"issuer name", kAlias, ""},
};

const IdType* FindType(absl::string_view type) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
  // Collapse runs of spaces, then drop trailing punctuation ("No.", "#").
  std::string collapsed;
  for (char c : t) {
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed.push_back(c);
  }
  while (!collapsed.empty() &&
         (collapsed.back() == '.' || collapsed.back() == ':' ||
          collapsed.back() == '#' || collapsed.back() == ' ')) {
    collapsed.pop_back();
  }
  for (const IdType& known : kTypes) {
    if (known.type == collapsed) return &known;
  }
  return nullptr;
}

// An ISO 3166-1 alpha-2 code as written ("RU", "ru"), else "".
std::string CountryCode(absl::string_view text) {
  std::string code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  return domain::IsIso3166Alpha2(code) ? code : "";
}

}  // namespace

std::string CslIdTypeScheme(absl::string_view type) {
  const IdType* t = FindType(type);
  return t == nullptr ? "" : std::string(t->scheme);
}

std::vector<CslIdEntry> ParseCslIdsCell(absl::string_view cell) {
  std::vector<CslIdEntry> out;
  for (const std::string& entry : SplitList(cell)) {
    std::vector<std::string> parts;
    for (absl::string_view p : absl::StrSplit(entry, ',')) {
      parts.emplace_back(absl::StripAsciiWhitespace(p));
    }
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
    if (parts.size() < 2) {
      if (!parts.empty()) out.push_back({parts[0], "", ""});
      continue;
    }
    // The 2019 layout ("US, 80-0890696, Tax ID No.") names its type last.
    const bool reversed =
        FindType(parts.front()) == nullptr && FindType(parts.back()) != nullptr;
    CslIdEntry e;
    size_t first = 1, last = parts.size();  // The number: parts[first, last).
    if (reversed) {
      e.type = parts.back();
      first = 0;
      last = parts.size() - 1;
      if (last - first >= 2 && !CountryCode(parts.front()).empty()) {
        e.country = parts.front();
        ++first;
      }
    } else {
      e.type = parts.front();
      if (last - first >= 2 && !CountryCode(parts.back()).empty()) {
        e.country = parts.back();
        --last;
      }
    }
    e.number = absl::StrJoin(parts.begin() + first, parts.begin() + last, ", ");
    out.push_back(std::move(e));
  }
  return out;
}

CslIdentifiers MapCslIds(const std::vector<CslIdEntry>& entries) {
  CslIdentifiers out;
  for (const CslIdEntry& e : entries) {
    const IdType* t = FindType(e.type);
    if (t == nullptr) {
      ++out.ignored;
      continue;
    }
    std::string number(absl::StripAsciiWhitespace(e.number));
    const std::string scheme(t->scheme);
    auto note = [&](absl::string_view why) {
      out.notes.push_back(absl::StrCat("ids: ", e.type, " \"",
                                       absl::CHexEscape(Truncate(number, 40)),
                                       "\" ", why));
    };
    if (number.empty()) {
      note("has no number; not kept");
      continue;
    }
    if (number.size() > 128) {
      note("is longer than 128 bytes; not kept");
      continue;
    }
    if (t->scheme == kAlias) {
      out.aliases.push_back(std::move(number));
      continue;
    }
    std::string value;
    if (scheme == "imo") {
      absl::string_view n = number;
      if (!absl::ConsumePrefix(&n, "IMO") && !absl::ConsumePrefix(&n, "imo")) {
        note("is not an IMO number; not kept");
        continue;
      }
      value = std::string(absl::StripAsciiWhitespace(n));
    } else if (scheme == "registration" || scheme == "tax_number") {
      std::string country = CountryCode(e.country);
      if (country.empty()) country = std::string(t->country);
      value = country.empty() ? number : absl::StrCat(country, ":", number);
    } else {
      value = number;
    }
    // Entity.identifiers holds one value per scheme: the first is kept
    // (CMIC rows list an ISIN and a ticker per listing; the first names the
    // issuer as well as the others do).
    out.identifiers.emplace(scheme, std::move(value));
  }
  return out;
}

}  // namespace georisk::formats
