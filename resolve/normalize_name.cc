#include "resolve/normalize_name.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/uscript.h"

namespace georisk::resolve {
namespace {

// ICU's compound transliterator: Russian by BGN/PCGN first (Any-Latin's
// default for Cyrillic is ISO 9 with diacritics: "Щукин" -> "Ŝukin" ->
// "sukin"; BGN gives "shchukin", the spelling English-language lists use),
// then every other script, then diacritics off.
constexpr char kTransliteratorId[] =
    "Russian-Latin/BGN; Any-Latin; Latin-ASCII";

// A legal form in its own script, cut out before transliteration. `where`:
// 's' only as a suffix, 'p' only as a prefix, 'b' both.
struct ScriptLegalForm {
  const char* text;       // NFKC-casefolded UTF-8
  const char* canonical;  // space-separated canonical forms
  char where;
};

// Longest first: 股份有限公司 before 有限公司 before 公司.
constexpr ScriptLegalForm kScriptLegalForms[] = {
    {"股份有限公司", "co ltd", 's'},
    {"有限责任公司", "llc", 's'},
    {"有限責任公司", "llc", 's'},
    {"有限公司", "ltd", 's'},
    {"公司", "co", 's'},
    {"株式会社", "kk", 'b'},
    {"有限会社", "yk", 'b'},
    {"合同会社", "gk", 'b'},
    {"주식회사", "co ltd", 'b'},
    {"(주)", "co ltd", 'b'},
    {"㈜", "co ltd", 'b'},
    {"유한회사", "ltd", 'b'},
};

// Cyrillic abbreviations as whole words at either end (NFKC-casefolded).
constexpr ScriptLegalForm kCyrillicLegalForms[] = {
    {"ооо", "llc", 'b'},  {"оао", "ojsc", 'b'},  {"зао", "cjsc", 'b'},
    {"пао", "pjsc", 'b'}, {"ао", "jsc", 'b'},    {"тов", "llc", 'b'},
    {"пат", "pjsc", 'b'}, {"прат", "cjsc", 'b'}, {"ат", "jsc", 'b'},
    {"оaо", "ojsc", 'b'},
};

// Latin legal forms: token sequences (after step 4) and their canonical form.
struct LatinLegalForm {
  const char* tokens;     // space-separated
  const char* canonical;  // one canonical form
  bool prefix_too;        // may also open the name ("OOO Romashka")
};

constexpr LatinLegalForm kLatinLegalForms[] = {
    {"co", "co", false},
    {"company", "co", false},
    {"cos", "co", false},
    {"ltd", "ltd", false},
    {"limited", "ltd", false},
    {"ltda", "ltd", false},
    {"inc", "inc", false},
    {"incorporated", "inc", false},
    {"corp", "corp", false},
    {"corporation", "corp", false},
    {"llc", "llc", true},
    {"l l c", "llc", false},
    {"limited liability company", "llc", true},
    {"llp", "llp", false},
    {"limited liability partnership", "llp", false},
    {"lp", "lp", false},
    {"plc", "plc", false},
    {"public limited company", "plc", false},
    {"gmbh", "gmbh", false},
    {"gesellschaft mit beschrankter haftung", "gmbh", false},
    {"ag", "ag", false},
    {"aktiengesellschaft", "ag", false},
    {"kg", "kg", false},
    {"sa", "sa", false},
    {"ae", "sa", false},
    {"s a", "sa", false},
    {"societe anonyme", "sa", false},
    {"sociedad anonima", "sa", false},
    {"sas", "sas", false},
    {"sarl", "sarl", false},
    {"s a r l", "sarl", false},
    {"srl", "srl", false},
    {"s r l", "srl", false},
    {"spa", "spa", false},
    {"s p a", "spa", false},
    {"societa per azioni", "spa", false},
    {"bv", "bv", false},
    {"b v", "bv", false},
    {"besloten vennootschap", "bv", false},
    {"nv", "nv", false},
    {"n v", "nv", false},
    {"naamloze vennootschap", "nv", false},
    {"oy", "oy", false},
    {"oyj", "oyj", false},
    {"ab", "ab", false},
    {"asa", "asa", false},
    {"kk", "kk", false},
    {"k k", "kk", false},
    {"kabushiki kaisha", "kk", true},
    {"kabushikigaisha", "kk", true},
    {"yugen kaisha", "yk", false},
    {"godo kaisha", "gk", false},
    {"jsc", "jsc", true},
    {"joint stock company", "jsc", true},
    {"ojsc", "ojsc", true},
    {"open joint stock company", "ojsc", true},
    {"pjsc", "pjsc", true},
    {"public joint stock company", "pjsc", true},
    {"cjsc", "cjsc", true},
    {"closed joint stock company", "cjsc", true},
    {"ooo", "llc", true},
    {"obshchestvo s ogranichennoy otvetstvennostyu", "llc", true},
    {"oao", "ojsc", true},
    {"otkrytoye aktsionernoye obshchestvo", "ojsc", true},
    {"zao", "cjsc", true},
    {"zakrytoye aktsionernoye obshchestvo", "cjsc", true},
    {"pao", "pjsc", true},
    {"publichnoye aktsionernoye obshchestvo", "pjsc", true},
    {"ao", "jsc", true},
    {"aktsionernoye obshchestvo", "jsc", true},
    // OFAC's spellings of the Russian forms.
    {"aktsionernoe obshchestvo", "jsc", true},
    {"otkrytoe aktsionernoe obshchestvo", "ojsc", true},
    {"zakrytoe aktsionernoe obshchestvo", "cjsc", true},
    {"publichnoe aktsionernoe obshchestvo", "pjsc", true},
    {"obshchestvo s ogranichennoi otvetstvennostyu", "llc", true},
    {"obshchestvo s ogranichennoy otvetstvennostiyu", "llc", true},
    {"pte", "pte", false},
    {"pvt", "pvt", false},
    {"private", "pvt", false},
    {"sdn bhd", "sdn bhd", false},
    {"sendirian berhad", "sdn bhd", false},
    {"bhd", "bhd", false},
    {"berhad", "bhd", false},
    {"pt", "pt", true},
    {"tbk", "tbk", false},
    {"youxian gongsi", "ltd", false},
    {"gufen youxian gongsi", "co ltd", false},
    {"you xian gong si", "ltd", false},
    {"gu fen you xian gong si", "co ltd", false},
    {"gong si", "co", false},
    {"jusikhoesa", "co ltd", true},
    {"jusighoesa", "co ltd", true},
};

struct LatinFormTable {
  // first token -> the forms that start with it, longest first.
  absl::flat_hash_map<
      std::string,
      std::vector<std::pair<std::vector<std::string>, const LatinLegalForm*>>>
      by_first;
  size_t max_tokens = 0;
};

const LatinFormTable& LatinForms() {
  static const LatinFormTable* table = [] {
    auto* t = new LatinFormTable;
    for (const LatinLegalForm& f : kLatinLegalForms) {
      std::vector<std::string> tokens = absl::StrSplit(f.tokens, ' ');
      t->max_tokens = std::max(t->max_tokens, tokens.size());
      t->by_first[tokens[0]].emplace_back(std::move(tokens), &f);
    }
    for (auto& [first, forms] : t->by_first) {
      std::sort(forms.begin(), forms.end(), [](const auto& a, const auto& b) {
        return a.first.size() > b.first.size();
      });
    }
    return t;
  }();
  return *table;
}

// Common abbreviations in company names, expanded so that "Semiconductor
// Mfg Intl Corp" and "Semiconductor Manufacturing International Corporation"
// share their tokens.
const absl::flat_hash_map<std::string, std::string>& Abbreviations() {
  static const auto* m = new absl::flat_hash_map<std::string, std::string>{
      {"intl", "international"}, {"mfg", "manufacturing"},
      {"mfr", "manufacturer"},   {"natl", "national"},
      {"assn", "association"},   {"assoc", "association"},
      {"bros", "brothers"},      {"ctr", "center"},
      {"centre", "center"},      {"dept", "department"},
      {"engg", "engineering"},   {"grp", "group"},
      {"hldg", "holding"},       {"hldgs", "holdings"},
      {"inds", "industries"},    {"inst", "institute"},
      {"mgmt", "management"},    {"svcs", "services"},
      {"sys", "systems"},        {"tech", "technology"},
      {"univ", "university"},    {"acad", "academy"},
      {"trdg", "trading"},       {"shpg", "shipping"},
      {"elecs", "electronics"},  {"telecom", "telecommunications"},
      {"dev", "development"},    {"equip", "equipment"},
  };
  return *m;
}

bool IsVowel(char c) {
  return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
}

bool IsAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Step 4 on an ASCII string: lower case, tokens.
void TokenizeAscii(absl::string_view s, std::vector<std::string>* tokens) {
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens->push_back(std::move(current));
    current.clear();
  };
  for (char c : s) {
    if (absl::ascii_isalnum(c)) {
      current.push_back(absl::ascii_tolower(c));
    } else if (c == '.' || c == '\'' || c == '`') {
      // Dropped inside a word: "S.A." -> "sa", "O'Neil" -> "oneil".
    } else if (c == '&') {
      flush();
      tokens->push_back("and");
    } else {
      flush();
    }
  }
  flush();
}

// Step 4 on a UnicodeString after transliteration (a few letters of scripts
// ICU does not romanise may remain: they are kept, lower-cased).
void TokenizeUnicode(const icu::UnicodeString& u,
                     std::vector<std::string>* tokens) {
  icu::UnicodeString current;
  auto flush = [&] {
    if (!current.isEmpty()) {
      std::string utf8;
      current.toUTF8String(utf8);
      tokens->push_back(std::move(utf8));
      current.remove();
    }
  };
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    const int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK ||
        type == U_COMBINING_SPACING_MARK) {
      continue;  // a diacritic Latin-ASCII left
    }
    if (c == '.' || c == '\'' || c == '`' || c == 0x2019 || c == 0x02B9 ||
        c == 0x02BA || c == 0x02BB || c == 0x02BC || c == 0x02BF ||
        c == 0x02BE || c == 0x00B7) {
      // Dropped inside a word (the BGN prime for the soft sign, the ayn).
    } else if (u_isalnum(c)) {
      current.append(u_tolower(c));
    } else if (c == '&') {
      flush();
      tokens->push_back("and");
    } else {
      flush();
    }
  }
  flush();
}

bool HasHan(const icu::UnicodeString& u) {
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    UErrorCode status = U_ZERO_ERROR;
    if (uscript_getScript(c, &status) == USCRIPT_HAN) return true;
  }
  return false;
}

bool HasArabicLetter(const icu::UnicodeString& u) {
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    UErrorCode status = U_ZERO_ERROR;
    if (uscript_getScript(c, &status) == USCRIPT_ARABIC) return true;
  }
  return false;
}

bool HasNonLatinLetter(const icu::UnicodeString& u) {
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (!u_isalpha(c)) continue;
    UErrorCode status = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(c, &status);
    if (script != USCRIPT_LATIN && script != USCRIPT_COMMON &&
        script != USCRIPT_INHERITED) {
      return true;
    }
  }
  return false;
}

bool IsSeparator(UChar32 c) { return !u_isalnum(c); }

// Step 2: cuts legal forms written in CJK or Cyrillic from either end of the
// casefolded name, repeatedly.
void CutScriptLegalForms(icu::UnicodeString* u,
                         std::vector<std::string>* forms_at_start,
                         std::vector<std::string>* forms_at_end) {
  bool cut = true;
  while (cut) {
    cut = false;
    u->trim();
    // Strip separators at the ends ("«", ",", ")").
    while (u->length() > 0 && IsSeparator(u->char32At(0)) &&
           u->charAt(0) != '(' && u->charAt(0) != 0x3231) {
      u->remove(0, U16_LENGTH(u->char32At(0)));
    }
    while (u->length() > 0 && IsSeparator(u->char32At(u->length() - 1)) &&
           u->charAt(u->length() - 1) != ')') {
      u->truncate(u->length() - 1);
    }
    for (const ScriptLegalForm& f : kScriptLegalForms) {
      const icu::UnicodeString form = icu::UnicodeString::fromUTF8(f.text);
      if (u->length() > form.length()) {
        if ((f.where == 's' || f.where == 'b') && u->endsWith(form)) {
          u->truncate(u->length() - form.length());
          forms_at_end->insert(forms_at_end->begin(), f.canonical);
          cut = true;
          break;
        }
        if ((f.where == 'p' || f.where == 'b') && u->startsWith(form)) {
          u->remove(0, form.length());
          forms_at_start->push_back(f.canonical);
          cut = true;
          break;
        }
      }
    }
    if (cut) continue;
    for (const ScriptLegalForm& f : kCyrillicLegalForms) {
      const icu::UnicodeString form = icu::UnicodeString::fromUTF8(f.text);
      const int32_t n = form.length();
      if (u->length() <= n + 1) continue;
      if (u->startsWith(form) && IsSeparator(u->char32At(n))) {
        u->remove(0, n);
        forms_at_start->push_back(f.canonical);
        cut = true;
        break;
      }
      if (u->endsWith(form) && IsSeparator(u->char32At(u->length() - n - 1))) {
        u->truncate(u->length() - n);
        forms_at_end->insert(forms_at_end->begin(), f.canonical);
        cut = true;
        break;
      }
    }
  }
}

void AppendCanonical(absl::string_view canonical,
                     std::vector<std::string>* out) {
  for (absl::string_view part : absl::StrSplit(canonical, ' ')) {
    // "sdn bhd" stays one form; "co ltd" is two.
    if (part == "sdn") {
      out->push_back("sdn bhd");
      return;
    }
    out->emplace_back(part);
  }
}

}  // namespace

std::string NormalizedName::Key() const { return absl::StrJoin(tokens, " "); }

LegalFormClass ClassOfLegalForm(absl::string_view f) {
  if (f.empty()) return LegalFormClass::kNone;
  if (f == "co") return LegalFormClass::kGeneric;
  static const auto* limited = new absl::flat_hash_map<std::string, int>{
      {"ltd", 0},     {"llc", 0}, {"llp", 0},  {"lp", 0},
      {"gmbh", 0},    {"kg", 0},  {"sarl", 0}, {"srl", 0},
      {"bv", 0},      {"oy", 0},  {"pte", 0},  {"pvt", 0},
      {"sdn bhd", 0}, {"yk", 0},  {"gk", 0},   {"sas", 0},
  };
  if (limited->contains(f)) return LegalFormClass::kLimited;
  return LegalFormClass::kStock;
}

size_t MatchLegalForm(const std::vector<std::string>& tokens, size_t i,
                      std::string* canonical) {
  const LatinFormTable& table = LatinForms();
  auto it = table.by_first.find(tokens[i]);
  if (it == table.by_first.end()) return 0;
  for (const auto& [form_tokens, form] : it->second) {
    if (i + form_tokens.size() > tokens.size()) continue;
    if (std::equal(form_tokens.begin(), form_tokens.end(),
                   tokens.begin() + i)) {
      *canonical = form->canonical;
      return form_tokens.size();
    }
  }
  return 0;
}

std::string Skeleton(absl::string_view token) {
  std::string out;
  for (char c : token) {
    c = absl::ascii_tolower(c);
    if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'w' ||
        c == 'y') {
      continue;
    }
    if (c == 'q' || c == 'c') c = 'k';
    if (!out.empty() && out.back() == c) continue;
    out.push_back(c);
  }
  return out;
}

std::string Nysiis(absl::string_view token) {
  std::string name;
  for (char c : token) {
    if (absl::ascii_isdigit(c)) return std::string(token);
    if (absl::ascii_isalpha(c)) name.push_back(absl::ascii_toupper(c));
  }
  if (name.empty()) return "";
  auto starts = [&](const char* p) { return absl::StartsWith(name, p); };
  auto ends = [&](const char* p) { return absl::EndsWith(name, p); };
  // 1. The first letters.
  if (starts("MAC")) {
    name.replace(0, 3, "MCC");
  } else if (starts("KN")) {
    name.replace(0, 2, "NN");
  } else if (starts("K")) {
    name[0] = 'C';
  } else if (starts("PH") || starts("PF")) {
    name.replace(0, 2, "FF");
  } else if (starts("SCH")) {
    name.replace(0, 3, "SSS");
  }
  // 2. The last letters.
  if (ends("EE") || ends("IE")) {
    name.replace(name.size() - 2, 2, "Y");
  } else if (ends("DT") || ends("RT") || ends("RD") || ends("NT") ||
             ends("ND")) {
    name.replace(name.size() - 2, 2, "D");
  }
  // 3. The key starts with the first letter; 4. the others translate.
  std::string key(1, name[0]);
  const size_t n = name.size();
  for (size_t i = 1; i < n; ++i) {
    if (name.compare(i, 2, "EV") == 0) {
      name[i] = 'A';
      name[i + 1] = 'F';
    } else if (IsVowel(name[i])) {
      name[i] = 'A';
    } else if (name[i] == 'Q') {
      name[i] = 'G';
    } else if (name[i] == 'Z') {
      name[i] = 'S';
    } else if (name[i] == 'M') {
      name[i] = 'N';
    } else if (name.compare(i, 2, "KN") == 0) {
      name[i] = 'N';
    } else if (name[i] == 'K') {
      name[i] = 'C';
    } else if (name.compare(i, 3, "SCH") == 0) {
      name[i + 1] = 'S';
      name[i + 2] = 'S';
    } else if (name.compare(i, 2, "PH") == 0) {
      name[i] = 'F';
      name[i + 1] = 'F';
    } else if (name[i] == 'H' &&
               (!IsVowel(name[i - 1]) || i + 1 >= n || !IsVowel(name[i + 1]))) {
      name[i] = name[i - 1];
    } else if (name[i] == 'W' && IsVowel(name[i - 1])) {
      name[i] = name[i - 1];
    }
    if (name[i] != key.back()) key.push_back(name[i]);
  }
  // 5-7. The end of the key.
  if (key.size() > 1 && key.back() == 'S') key.pop_back();
  if (key.size() > 1 && absl::EndsWith(key, "AY")) {
    key.replace(key.size() - 2, 2, "Y");
  }
  if (key.size() > 1 && key.back() == 'A') key.pop_back();
  return key;
}

absl::StatusOr<std::unique_ptr<NameNormalizer>> NameNormalizer::Create() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc =
      icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status) || nfkc == nullptr) {
    return absl::InternalError(
        absl::StrCat("ICU NFKC_Casefold: ", u_errorName(status)));
  }
  UParseError parse_error;
  std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
      icu::UnicodeString::fromUTF8(kTransliteratorId), UTRANS_FORWARD,
      parse_error, status));
  if (U_FAILURE(status) || t == nullptr) {
    return absl::InternalError(absl::StrCat("ICU transliterator \"",
                                            kTransliteratorId,
                                            "\": ", u_errorName(status)));
  }
  return std::unique_ptr<NameNormalizer>(
      new NameNormalizer(nfkc, std::move(t)));
}

NameNormalizer::NameNormalizer(const icu::Normalizer2* nfkc_casefold,
                               std::unique_ptr<icu::Transliterator> prototype)
    : nfkc_casefold_(nfkc_casefold), prototype_(std::move(prototype)) {}

NameNormalizer::~NameNormalizer() = default;

std::unique_ptr<icu::Transliterator> NameNormalizer::Borrow() const {
  {
    absl::MutexLock lock(&mu_);
    if (!pool_.empty()) {
      std::unique_ptr<icu::Transliterator> t = std::move(pool_.back());
      pool_.pop_back();
      return t;
    }
  }
  // Transliterator::clone is const and safe to call concurrently.
  return std::unique_ptr<icu::Transliterator>(prototype_->clone());
}

void NameNormalizer::Return(std::unique_ptr<icu::Transliterator> t) const {
  absl::MutexLock lock(&mu_);
  pool_.push_back(std::move(t));
}

size_t NameNormalizer::PooledTransliterators() const {
  absl::MutexLock lock(&mu_);
  return pool_.size();
}

NormalizedName NameNormalizer::Normalize(absl::string_view name) const {
  NormalizedName out;
  std::vector<std::string> raw;
  std::vector<std::string> forms_at_start, forms_at_end;
  bool arabic = false;
  if (IsAscii(name)) {
    // NFKC and case folding of ASCII are lower-casing; no script forms.
    TokenizeAscii(name, &raw);
  } else {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString u = nfkc_casefold_->normalize(
        icu::UnicodeString::fromUTF8(
            icu::StringPiece(name.data(), static_cast<int32_t>(name.size()))),
        status);
    if (U_FAILURE(status)) {
      u = icu::UnicodeString::fromUTF8(
          icu::StringPiece(name.data(), static_cast<int32_t>(name.size())));
    }
    CutScriptLegalForms(&u, &forms_at_start, &forms_at_end);
    out.han = HasHan(u);
    out.transliterated = HasNonLatinLetter(u);
    arabic = HasArabicLetter(u);
    std::unique_ptr<icu::Transliterator> t = Borrow();
    t->transliterate(u);
    Return(std::move(t));
    TokenizeUnicode(u, &raw);
  }

  // Step 5: Latin legal forms at both ends, repeatedly.
  size_t begin = 0, end = raw.size();
  std::vector<std::string> latin_start, latin_end;
  // A leading "the" goes first ("The Boeing Company").
  if (end - begin > 1 && raw[begin] == "the") ++begin;
  // Han names had their legal forms cut in their own script; their pinyin
  // syllables ("zhi zao") must not be read as Latin forms ("zao").
  bool cut = !out.han;
  while (cut && begin < end) {
    cut = false;
    std::string canonical;
    // "GmbH & Co. KG": an "and" between two legal forms goes with them.
    if (!latin_end.empty() && end - begin > 1 && raw[end - 1] == "and") {
      --end;
    }
    // Suffix: the longest form that ends exactly at `end`.
    for (size_t span = std::min(LatinForms().max_tokens, end - begin);
         span >= 1; --span) {
      std::vector<std::string> window(raw.begin() + end - span,
                                      raw.begin() + end);
      if (MatchLegalForm(window, 0, &canonical) == span) {
        latin_end.insert(latin_end.begin(), canonical);
        end -= span;
        cut = true;
        break;
      }
    }
    if (cut || begin >= end) continue;
    const size_t span = MatchLegalForm(
        std::vector<std::string>(raw.begin() + begin, raw.begin() + end), 0,
        &canonical);
    if (span > 0) {
      const LatinFormTable& table = LatinForms();
      bool prefix_ok = false;
      for (const auto& [tokens, form] : table.by_first.at(raw[begin])) {
        if (tokens.size() == span && form->prefix_too) prefix_ok = true;
      }
      if (prefix_ok) {
        latin_start.push_back(canonical);
        begin += span;
        cut = true;
      }
    }
  }
  if (begin >= end) {
    // Only legal-form words ("Company Limited"): keep them as the name.
    begin = 0;
    end = raw.size();
    latin_start.clear();
    latin_end.clear();
  }
  for (const auto* forms :
       {&forms_at_start, &latin_start, &latin_end, &forms_at_end}) {
    for (const std::string& f : *forms) AppendCanonical(f, &out.legal_forms);
  }
  // Step 6: abbreviations (and the Arabic article of step 8).
  const auto& abbreviations = Abbreviations();
  for (size_t i = begin; i < end; ++i) {
    if (arabic && raw[i].size() > 4 && absl::StartsWith(raw[i], "al")) {
      out.tokens.push_back("al");
      out.tokens.push_back(raw[i].substr(2));
      continue;
    }
    auto it = abbreviations.find(raw[i]);
    out.tokens.push_back(it == abbreviations.end() ? std::move(raw[i])
                                                   : it->second);
  }
  // Step 7: phonetic keys.
  out.phonetic.reserve(out.tokens.size());
  out.skeleton.reserve(out.tokens.size());
  for (const std::string& token : out.tokens) {
    out.phonetic.push_back(Nysiis(token));
    out.skeleton.push_back(Skeleton(token));
  }
  return out;
}

}  // namespace georisk::resolve
