#include "resolve/identifiers.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace georisk::resolve {
namespace {

using S = IdentifierStrength;

constexpr SchemeInfo kSchemes[] = {
    {kSchemeLei, S::kStrong, true, "Legal Entity Identifier (ISO 17442)"},
    {kSchemeIsin, S::kStrong, false, "ISIN of a security of the party"},
    {kSchemeImo, S::kStrong, true, "IMO ship number"},
    {kSchemeImoCompany, S::kStrong, true, "IMO company number"},
    {kSchemeWikidata, S::kStrong, true, "Wikidata item"},
    {kSchemeOpenSanctions, S::kStrong, false, "OpenSanctions id or referent"},
    {kSchemeCslEntityNumber, S::kStrong, true, "CSL entity number (OFAC uid)"},
    {kSchemeCslId, S::kStrong, true, "CSL row id"},
    {kSchemeRegistration, S::kStrong, false,
     "registration number with its jurisdiction"},
    {kSchemeTaxNumber, S::kStrong, false, "tax number with its jurisdiction"},
    {kSchemeInn, S::kStrong, true, "Russian taxpayer number"},
    {kSchemeOgrn, S::kStrong, true, "Russian state registration number"},
    {kSchemeDuns, S::kStrong, true, "D-U-N-S number"},
    {kSchemeSwiftBic, S::kStrong, false, "SWIFT/BIC (ISO 9362)"},
    {kSchemePermId, S::kStrong, true, "Refinitiv PermID"},
    {kSchemeTicker, S::kWeak, false, "listing symbol"},
};

absl::Status Invalid(absl::string_view scheme, absl::string_view value,
                     absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      scheme, " \"", absl::CHexEscape(value.substr(0, 64)), "\": ", why));
}

// Upper-cased [A-Z0-9] of `value`, every other character dropped when it is
// one of " -./" and reported in *other otherwise.
std::string Compact(absl::string_view value, bool* other) {
  std::string out;
  for (char c : value) {
    if (absl::ascii_isalnum(c)) {
      out.push_back(absl::ascii_toupper(c));
    } else if (c == ' ' || c == '-' || c == '.' || c == '/') {
      continue;
    } else {
      *other = true;
    }
  }
  return out;
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsCountryCode(absl::string_view s) {
  return s.size() == 2 && absl::ascii_isalpha(s[0]) &&
         absl::ascii_isalpha(s[1]);
}

int Digit(char c) { return c - '0'; }

std::string StripLeadingZeros(absl::string_view s) {
  while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);
  return std::string(s);
}

// "HK:0981", "0981.HK", "981 HK", "SMIC" -> "HK:981" / "SMIC".
absl::StatusOr<std::string> NormalizeTicker(absl::string_view raw) {
  static const auto* exchanges =
      new absl::flat_hash_map<std::string, std::string>{
          {"HKEX", "HK"}, {"XHKG", "HK"},   {"SEHK", "HK"}, {"NYSE", "US"},
          {"XNYS", "US"}, {"NASDAQ", "US"}, {"XNAS", "US"}, {"SS", "CN"},
          {"SH", "CN"},   {"XSHG", "CN"},   {"SSE", "CN"},  {"SZ", "CN"},
          {"XSHE", "CN"}, {"SZSE", "CN"},   {"TWSE", "TW"}, {"XTAI", "TW"},
          {"TSE", "JP"},  {"XTKS", "JP"},   {"T", "JP"},    {"KRX", "KS"},
          {"XKRX", "KS"}, {"MOEX", "RM"},   {"XMOS", "RM"}, {"ME", "RM"},
          {"ETR", "DE"},  {"XETR", "DE"},   {"F", "DE"},    {"LSE", "LN"},
          {"XLON", "LN"}, {"L", "LN"},
      };
  std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(raw));
  std::string exchange, symbol;
  size_t pos;
  if ((pos = upper.find(':')) != std::string::npos) {
    exchange = upper.substr(0, pos);
    symbol = upper.substr(pos + 1);
  } else if ((pos = upper.rfind(' ')) != std::string::npos) {
    symbol = upper.substr(0, pos);
    exchange = upper.substr(pos + 1);
  } else if ((pos = upper.rfind('.')) != std::string::npos &&
             upper.size() - pos - 1 <= 4 && pos > 0) {
    symbol = upper.substr(0, pos);
    exchange = upper.substr(pos + 1);
  } else {
    symbol = upper;
  }
  symbol = std::string(absl::StripAsciiWhitespace(symbol));
  exchange = std::string(absl::StripAsciiWhitespace(exchange));
  if (symbol.empty()) return Invalid(kSchemeTicker, raw, "no symbol");
  for (char c : symbol + exchange) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-') {
      return Invalid(kSchemeTicker, raw, "symbol and exchange are [A-Z0-9.-]");
    }
  }
  if (AllDigits(symbol)) symbol = StripLeadingZeros(symbol);
  auto it = exchanges->find(exchange);
  if (it != exchanges->end()) exchange = it->second;
  return exchange.empty() ? symbol : absl::StrCat(exchange, ":", symbol);
}

// "GB:01234567", "gb 01234567" or "01234567" with the party's country.
absl::StatusOr<std::string> NormalizeJurisdictionNumber(
    absl::string_view scheme, absl::string_view raw,
    absl::string_view country) {
  absl::string_view rest = absl::StripAsciiWhitespace(raw);
  std::string jurisdiction;
  size_t colon = rest.find(':');
  if (colon != absl::string_view::npos) {
    jurisdiction = absl::AsciiStrToUpper(
        absl::StripAsciiWhitespace(rest.substr(0, colon)));
    rest = rest.substr(colon + 1);
  } else {
    jurisdiction = absl::AsciiStrToUpper(country);
  }
  if (!IsCountryCode(jurisdiction)) {
    return Invalid(scheme, raw,
                   "needs its jurisdiction: \"CC:NUMBER\" or a party country");
  }
  bool other = false;
  std::string number = Compact(rest, &other);
  if (number.empty() || other) {
    return Invalid(scheme, raw, "the number is [A-Z0-9] with ' -./'");
  }
  return absl::StrCat(jurisdiction, ":", number);
}

}  // namespace

absl::Span<const SchemeInfo> KnownSchemes() { return kSchemes; }

const SchemeInfo* FindScheme(absl::string_view scheme) {
  for (const SchemeInfo& s : kSchemes) {
    if (scheme == s.name) return &s;
  }
  return nullptr;
}

bool LeiChecksumValid(absl::string_view lei) {
  if (lei.size() != 20) return false;
  int remainder = 0;
  for (char c : lei) {
    int v;
    if (absl::ascii_isdigit(c)) {
      v = Digit(c);
      remainder = (remainder * 10 + v) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A' + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1 && absl::ascii_isdigit(lei[18]) &&
         absl::ascii_isdigit(lei[19]);
}

bool IsinChecksumValid(absl::string_view isin) {
  if (isin.size() != 12 || !absl::ascii_isalpha(isin[0]) ||
      !absl::ascii_isalpha(isin[1]) || !absl::ascii_isdigit(isin[11])) {
    return false;
  }
  std::string digits;
  for (char c : isin) {
    if (absl::ascii_isdigit(c)) {
      digits.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      absl::StrAppend(&digits, c - 'A' + 10);
    } else {
      return false;
    }
  }
  // Luhn from the right: every second digit, counting the check digit as
  // the first, is doubled.
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = Digit(*it);
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool ImoChecksumValid(absl::string_view imo) {
  if (imo.size() != 7 || !AllDigits(imo)) return false;
  int sum = 0;
  for (int i = 0; i < 6; ++i) sum += Digit(imo[i]) * (7 - i);
  return sum % 10 == Digit(imo[6]);
}

bool InnChecksumValid(absl::string_view inn) {
  if (!AllDigits(inn)) return false;
  auto check = [&](const int* weights, int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += weights[i] * Digit(inn[i]);
    return sum % 11 % 10;
  };
  static constexpr int k10[] = {2, 4, 10, 3, 5, 9, 4, 6, 8};
  static constexpr int k11[] = {7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
  static constexpr int k12[] = {3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
  if (inn.size() == 10) return check(k10, 9) == Digit(inn[9]);
  if (inn.size() == 12) {
    return check(k11, 10) == Digit(inn[10]) && check(k12, 11) == Digit(inn[11]);
  }
  return false;
}

bool OgrnChecksumValid(absl::string_view ogrn) {
  if (!AllDigits(ogrn) || (ogrn.size() != 13 && ogrn.size() != 15)) {
    return false;
  }
  const int modulus = ogrn.size() == 13 ? 11 : 13;
  int remainder = 0;
  for (size_t i = 0; i + 1 < ogrn.size(); ++i) {
    remainder = (remainder * 10 + Digit(ogrn[i])) % modulus;
  }
  return remainder % 10 == Digit(ogrn.back());
}

absl::StatusOr<Identifier> NormalizeIdentifier(absl::string_view scheme_in,
                                               absl::string_view raw,
                                               absl::string_view country) {
  const std::string scheme =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(scheme_in));
  const absl::string_view value = absl::StripAsciiWhitespace(raw);
  if (scheme.empty()) return absl::InvalidArgumentError("empty scheme");
  if (value.empty()) return Invalid(scheme, raw, "empty value");
  Identifier id;
  id.scheme = scheme;
  const SchemeInfo* info = FindScheme(scheme);
  if (info == nullptr) {
    id.value = std::string(value);
    return id;  // weak, opaque
  }
  id.strength = info->strength;
  id.one_per_party = info->one_per_party;
  bool other = false;
  if (scheme == kSchemeLei) {
    id.value = Compact(value, &other);
    if (other || id.value.size() != 20) {
      return Invalid(scheme, raw, "an LEI has 20 characters [A-Z0-9]");
    }
    if (!LeiChecksumValid(id.value)) {
      return Invalid(scheme, raw, "ISO 7064 MOD 97-10 check digits fail");
    }
  } else if (scheme == kSchemeIsin) {
    id.value = Compact(value, &other);
    if (other || id.value.size() != 12) {
      return Invalid(scheme, raw, "an ISIN has 12 characters [A-Z0-9]");
    }
    if (!IsinChecksumValid(id.value)) {
      return Invalid(scheme, raw, "Luhn check digit fails");
    }
  } else if (scheme == kSchemeImo || scheme == kSchemeImoCompany) {
    absl::string_view v = value;
    if (absl::StartsWithIgnoreCase(v, "imo")) v.remove_prefix(3);
    id.value = Compact(v, &other);
    if (other || id.value.size() != 7 || !AllDigits(id.value)) {
      return Invalid(scheme, raw, "an IMO number has 7 digits");
    }
    if (scheme == kSchemeImo && !ImoChecksumValid(id.value)) {
      return Invalid(scheme, raw, "IMO check digit fails");
    }
  } else if (scheme == kSchemeWikidata) {
    absl::string_view v = value;
    const size_t slash = v.rfind('/');
    if (slash != absl::string_view::npos) v.remove_prefix(slash + 1);
    id.value = absl::AsciiStrToUpper(v);
    if (id.value.size() < 2 || id.value[0] != 'Q' || id.value[1] == '0' ||
        !AllDigits(absl::string_view(id.value).substr(1))) {
      return Invalid(scheme, raw, "a Wikidata item is Q followed by digits");
    }
  } else if (scheme == kSchemeOpenSanctions || scheme == kSchemeCslId) {
    for (char c : value) {
      if (absl::ascii_isspace(c)) {
        return Invalid(scheme, raw, "an id has no spaces");
      }
    }
    id.value = std::string(value);
  } else if (scheme == kSchemeCslEntityNumber || scheme == kSchemePermId) {
    if (!AllDigits(value)) return Invalid(scheme, raw, "digits only");
    id.value = StripLeadingZeros(value);
  } else if (scheme == kSchemeRegistration || scheme == kSchemeTaxNumber) {
    absl::StatusOr<std::string> v =
        NormalizeJurisdictionNumber(scheme, value, country);
    if (!v.ok()) return v.status();
    id.value = *std::move(v);
  } else if (scheme == kSchemeInn) {
    id.value = Compact(value, &other);
    if (other || !InnChecksumValid(id.value)) {
      return Invalid(scheme, raw, "10 or 12 digits with valid check digits");
    }
  } else if (scheme == kSchemeOgrn) {
    id.value = Compact(value, &other);
    if (other || !OgrnChecksumValid(id.value)) {
      return Invalid(scheme, raw, "13 or 15 digits with a valid check digit");
    }
  } else if (scheme == kSchemeDuns) {
    id.value = Compact(value, &other);
    if (other || id.value.size() != 9 || !AllDigits(id.value)) {
      return Invalid(scheme, raw, "a D-U-N-S number has 9 digits");
    }
  } else if (scheme == kSchemeSwiftBic) {
    id.value = Compact(value, &other);
    if (id.value.size() == 11 && absl::EndsWith(id.value, "XXX")) {
      id.value.resize(8);
    }
    const bool shape =
        !other && (id.value.size() == 8 || id.value.size() == 11) &&
        std::all_of(id.value.begin(), id.value.begin() + 6,
                    [](char c) { return absl::ascii_isalpha(c); });
    if (!shape) {
      return Invalid(scheme, raw,
                     "a BIC is 4+2 letters then 2 or 5 characters [A-Z0-9]");
    }
  } else if (scheme == kSchemeTicker) {
    absl::StatusOr<std::string> v = NormalizeTicker(value);
    if (!v.ok()) return v.status();
    id.value = *std::move(v);
    // A symbol with its exchange is still weak: exchanges reuse symbols.
  }
  return id;
}

std::vector<std::string> IndexKeys(const Identifier& id) {
  std::vector<std::string> keys = {absl::StrCat(id.scheme, ":", id.value)};
  if (id.scheme == kSchemeCslEntityNumber) {
    keys.push_back(absl::StrCat("ofac:", id.value));
  } else if (id.scheme == kSchemeOpenSanctions) {
    absl::string_view v = id.value;
    if (absl::ConsumePrefix(&v, "ofac-") && AllDigits(v)) {
      keys.push_back(absl::StrCat("ofac:", StripLeadingZeros(v)));
    }
  } else if (id.scheme == kSchemeRegistration ||
             id.scheme == kSchemeTaxNumber) {
    // A Russian registration number that is a valid OGRN, or a Russian tax
    // number that is a valid INN, is that identifier: OFAC (and so the CSL)
    // writes them "Registration ID, 1027739609391, RU" and "Tax ID No.,
    // 7702070139, RU" where OpenSanctions writes ogrnCode and innCode.
    absl::string_view v = id.value;
    if (absl::ConsumePrefix(&v, "RU:") && AllDigits(v)) {
      if (id.scheme == kSchemeRegistration && OgrnChecksumValid(v)) {
        keys.push_back(absl::StrCat(kSchemeOgrn, ":", v));
      } else if (id.scheme == kSchemeTaxNumber && InnChecksumValid(v)) {
        keys.push_back(absl::StrCat(kSchemeInn, ":", v));
      }
    }
  }
  return keys;
}

}  // namespace georisk::resolve
