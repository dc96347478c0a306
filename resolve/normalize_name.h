// File: resolve/normalize_name.h
//
// NameNormalizer turns a party's name, in any script, into what the matcher
// compares: Latin ASCII tokens without punctuation or diacritics, the legal
// form (kept apart as a feature, not thrown away) and a phonetic key per
// token.
//
//   absl::StatusOr<std::unique_ptr<NameNormalizer>> n =
//   NameNormalizer::Create(); if (!n.ok()) return n.status(); NormalizedName a
//   = (*n)->Normalize("ПАО «Газпром нефть»");
//   // a.tokens == {"gazprom", "neft"}, a.legal_forms == {"pjsc"}
//   NormalizedName b = (*n)->Normalize("Huawei Technologies Co., Ltd.");
//   // b.tokens == {"huawei", "technologies"}, b.legal_forms == {"co", "ltd"}
//   NormalizedName c = (*n)->Normalize("华为技术有限公司");
//   // c.tokens == {"hua", "wei", "ji", "shu"}, c.legal_forms == {"ltd"}
//
// The steps, in order (docs/resolution.md says why):
//   1. Unicode NFKC with case folding (ICU's NFKC_Casefold: full-width
//      letters become ASCII, "ß" becomes "ss", default-ignorables go).
//   2. Legal forms written in their own script are found and cut out:
//      有限公司, 股份有限公司, 株式会社, 有限会社, 주식회사, ООО, ОАО, ЗАО,
//      ПАО, АО and the spelled-out Russian forms.
//   3. When anything non-ASCII is left, ICU transliteration
//      "Russian-Latin/BGN; Any-Latin; Latin-ASCII": Cyrillic by BGN/PCGN
//      (Shchukin, Khabarovsk), Han to pinyin syllables, Hangul, Kana, Greek,
//      Arabic, Hebrew to Latin, then diacritics off ("Müller" -> "muller").
//      Pure ASCII names skip ICU (the common case costs no transliteration).
//   4. Lower case; "&" becomes "and"; '.', apostrophes and the prime are
//      dropped inside words ("S.A." -> "sa", "O'Neil" -> "oneil"); every other
//      character that is not a letter or a digit separates tokens.
//   5. Legal-form words in Latin script (Co., Ltd., Inc., Corp., LLC, PLC,
//      GmbH, AG, S.A., SpA, BV, NV, Oy, AB, KK, JSC, OJSC, PJSC, CJSC, LLP,
//      Pte, Sdn Bhd, and transliterated OOO, ZAO, Kabushiki Kaisha, Youxian
//      Gongsi...) are cut from both ends of the token list, repeatedly, and
//      recorded in canonical form (LegalFormClass says which agree).
//   6. Common business abbreviations are expanded ("intl" ->
//      "international", "mfg" -> "manufacturing").
//   7. A phonetic key per token: NYSIIS (Taft, "Name Search Techniques",
//      New York State Identification and Intelligence System, 1970), without
//      the 6-character truncation. Tokens with a digit keep themselves.
//   8. A consonant skeleton per token: a, e, i, o, u, w, y and repeated
//      letters dropped, q and c read as k ("saddam" and ICU's "sdam" for
//      صدام both give "sdm"). Abjads (Arabic, Hebrew) write no short vowels,
//      so a transliterated name is compared on skeletons too. A token
//      "al..." of more than four letters transliterated from Arabic script
//      gives the article a token of its own ("altkryty" -> "al", "tkryty").
// If cutting legal forms would leave no token ("Company Limited"), the
// legal-form words stay as tokens too.
//
// Thread safety: a NameNormalizer is immutable after Create except for a pool
// of ICU transliterator clones: ICU's Transliterator::transliterate may not be
// called on one object from two threads at once, so Normalize borrows a clone
// from the pool (under a mutex held only to pop and push) and makes a new
// clone when the pool is empty. Normalize may therefore be called from any
// number of threads at once; each concurrent caller costs one clone
// (~100 KB), kept for reuse. Creating the transliterator is expensive
// (~40 ms the first time in a process): create one NameNormalizer and share
// it.
#ifndef GEORISK_RESOLVE_NORMALIZE_NAME_H_
#define GEORISK_RESOLVE_NORMALIZE_NAME_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "unicode/normalizer2.h"
#include "unicode/translit.h"

namespace georisk::resolve {

// A name as the matcher sees it.
struct NormalizedName {
  // Name tokens, without the legal-form words: {"huawei", "technologies"}.
  std::vector<std::string> tokens;
  // Canonical legal forms found, in the order of the name: {"co", "ltd"}.
  std::vector<std::string> legal_forms;
  // NYSIIS key of each token, parallel to `tokens`.
  std::vector<std::string> phonetic;
  // Consonant skeleton of each token, parallel to `tokens` (step 8).
  std::vector<std::string> skeleton;
  // True when step 3 ran and the original had Han characters (their pinyin
  // syllables come one token per character).
  bool han = false;
  // True when step 3 ran on letters of a non-Latin script.
  bool transliterated = false;

  // The tokens joined by single spaces: "huawei technologies".
  std::string Key() const;
};

// How legal forms compare: which family a canonical form belongs to.
// "co" (Company) is generic: it agrees with every family.
enum class LegalFormClass {
  kNone,     // not a legal form
  kGeneric,  // co, company, group
  kLimited,  // ltd, llc, gmbh, ooo, bv, oy, pte, sdn bhd, llp, sarl...
  kStock,    // ag, sa, kk, jsc, ao, spa, nv, ab, plc, inc, corp, pjsc...
};
LegalFormClass ClassOfLegalForm(absl::string_view canonical);

class NameNormalizer {
 public:
  // Builds the ICU transliterator and normaliser.
  // Errors: INTERNAL if ICU cannot build them (missing ICU data).
  static absl::StatusOr<std::unique_ptr<NameNormalizer>> Create();

  ~NameNormalizer();
  NameNormalizer(const NameNormalizer&) = delete;
  NameNormalizer& operator=(const NameNormalizer&) = delete;

  // Normalises one name (UTF-8; invalid sequences become U+FFFD and then
  // separators). Never fails: an empty or all-punctuation name gives no
  // tokens. Thread-safe (see the file comment).
  NormalizedName Normalize(absl::string_view name) const;

  // How many transliterator clones the pool holds (for tests and the bench).
  size_t PooledTransliterators() const;

 private:
  NameNormalizer(const icu::Normalizer2* nfkc_casefold,
                 std::unique_ptr<icu::Transliterator> prototype);

  std::unique_ptr<icu::Transliterator> Borrow() const;
  void Return(std::unique_ptr<icu::Transliterator> t) const;

  const icu::Normalizer2* const nfkc_casefold_;           // owned by ICU
  const std::unique_ptr<icu::Transliterator> prototype_;  // only cloned
  mutable absl::Mutex mu_;
  mutable std::vector<std::unique_ptr<icu::Transliterator>> pool_
      ABSL_GUARDED_BY(mu_);
};

// Consonant skeleton of one ASCII lower-case token (step 8): "hussein" ->
// "hsn"; digits are kept. Thread-safe: pure.
std::string Skeleton(absl::string_view token);

// NYSIIS key of one ASCII lower-case token ("schmidt" -> "SSNAD"); the token
// itself when it holds a digit, "" when it is empty. Thread-safe: pure.
std::string Nysiis(absl::string_view token);

// The canonical legal form of a Latin token sequence starting at `tokens[i]`
// and how many tokens it spans (0 when none): {"sdn","bhd"} -> ("sdn bhd",
// 2), {"s","a"} -> ("sa", 2), {"limited"} -> ("ltd", 1). Thread-safe: pure.
size_t MatchLegalForm(const std::vector<std::string>& tokens, size_t i,
                      std::string* canonical);

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_NORMALIZE_NAME_H_
