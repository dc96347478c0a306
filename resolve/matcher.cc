#include "resolve/matcher.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "resolve/name_similarity.h"

namespace georisk::resolve {

// A name of a record or query, normalised.
struct PartyIndex::Name {
  std::string written;  // as the source wrote it
  NormalizedName normalized;
};

struct PartyIndex::Record {
  std::string id;
  PartyKind kind = PartyKind::kUnspecified;
  std::string country;
  std::vector<Name> names;
  std::vector<Identifier> identifiers;
  bool live = false;
};

struct PartyIndex::Prepared {
  std::string id;
  PartyKind kind = PartyKind::kUnspecified;
  std::string country;
  std::vector<Name> names;
  std::vector<Identifier> identifiers;
};

namespace {

constexpr double kNameWeight = 0.85;
constexpr double kPhoneticWeight = 0.15;
constexpr double kAcronymSimilarity = 0.9;       // 3+ letters
constexpr double kShortAcronymSimilarity = 0.8;  // 2 letters
constexpr double kCountrySame = 0.05;
constexpr double kCountryDifferent = -0.15;
constexpr double kLegalFormAgree = 0.02;
constexpr double kLegalFormConflict = -0.05;
constexpr double kWeakIdentifier = 0.15;
constexpr double kStrongBase = 0.9;
constexpr double kStrongNameWeight = 0.1;
constexpr double kConflict = -0.35;
constexpr double kKindDifferent = -0.3;
constexpr double kPhoneticTermWeight = 0.5;
constexpr double kSkeletonDiscount = 0.9;

std::vector<std::string> NonEmpty(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const std::string& s : v) {
    if (!s.empty()) out.push_back(s);
  }
  return out;
}
constexpr size_t kMaxRarestPostings = 50000;

bool KnownCountry(absl::string_view c) {
  return c.size() == 2 && c != "XX" && c != "ZZ";
}

Compatibility CompareLegalForms(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return Compatibility::kUnknown;
  for (const std::string& x : a) {
    const LegalFormClass cx = ClassOfLegalForm(x);
    for (const std::string& y : b) {
      const LegalFormClass cy = ClassOfLegalForm(y);
      if (x == y || cx == LegalFormClass::kGeneric ||
          cy == LegalFormClass::kGeneric || cx == cy) {
        return Compatibility::kSame;
      }
    }
  }
  return Compatibility::kDifferent;
}

double Phonetic(const NormalizedName& q, const NormalizedName& r) {
  if (q.phonetic.empty()) return 0;
  int hits = 0;
  for (const std::string& p : q.phonetic) {
    if (std::find(r.phonetic.begin(), r.phonetic.end(), p) !=
        r.phonetic.end()) {
      ++hits;
    }
  }
  return static_cast<double>(hits) / q.phonetic.size();
}

// Name terms of one normalised name: tokens, adjacent pairs joined (and
// triples for Han syllables), and "~" + each NYSIIS key.
void NameTerms(const NormalizedName& n, std::vector<std::string>* out) {
  for (const std::string& t : n.tokens) out->push_back(t);
  for (size_t i = 0; i + 1 < n.tokens.size(); ++i) {
    out->push_back(absl::StrCat(n.tokens[i], n.tokens[i + 1]));
    if (n.han && i + 2 < n.tokens.size()) {
      out->push_back(
          absl::StrCat(n.tokens[i], n.tokens[i + 1], n.tokens[i + 2]));
    }
  }
  for (const std::string& p : n.phonetic) {
    if (!p.empty()) out->push_back(absl::StrCat("~", p));
  }
  for (const std::string& k : n.skeleton) {
    if (k.size() >= 2) out->push_back(absl::StrCat("#", k));
  }
  // Acronyms meet their expansions on "^" + initials.
  if (n.tokens.size() == 1 && n.tokens[0].size() >= 2 &&
      n.tokens[0].size() <= 8) {
    out->push_back(absl::StrCat("^", n.tokens[0]));
  } else if (n.tokens.size() >= 2 && n.tokens.size() <= 8) {
    std::string initials, all;
    for (const std::string& t : n.tokens) {
      all.push_back(t[0]);
      if (t != "and" && t != "of" && t != "the" && t != "for") {
        initials.push_back(t[0]);
      }
    }
    out->push_back(absl::StrCat("^", initials));
    if (all != initials) out->push_back(absl::StrCat("^", all));
    // "Urmia Petrochemical Company" is "UPC": one legal form's initial.
    for (const std::string& f : n.legal_forms) {
      out->push_back(absl::StrCat("^", initials, f.substr(0, 1)));
    }
  }
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

bool CandidateLess(const Candidate& a, const Candidate& b) {
  if (a.decision != b.decision) return a.decision == Decision::kAutoLink;
  if (a.score != b.score) return a.score > b.score;
  return a.id < b.id;
}

}  // namespace

absl::string_view DecisionName(Decision d) {
  return d == Decision::kAutoLink ? "auto_link" : "review";
}

absl::string_view CompatibilityName(Compatibility c) {
  switch (c) {
    case Compatibility::kSame:
      return "same";
    case Compatibility::kDifferent:
      return "different";
    case Compatibility::kUnknown:
      break;
  }
  return "unknown";
}

PartyIndex::PartyIndex(MatcherOptions options,
                       std::shared_ptr<const NameNormalizer> normalizer)
    : options_(std::move(options)), normalizer_(std::move(normalizer)) {}

PartyIndex::~PartyIndex() = default;

PartyIndex::Prepared PartyIndex::Prepare(const Party& party) const {
  Prepared p;
  p.id = party.id;
  p.kind = party.kind;
  p.country = party.country;
  auto add_name = [&](const std::string& written) {
    if (written.empty()) return;
    for (const Name& n : p.names) {
      if (n.written == written) return;
    }
    Name n{written, normalizer_->Normalize(written)};
    if (n.normalized.tokens.empty()) return;
    p.names.push_back(std::move(n));
  };
  add_name(party.name);
  for (const std::string& alias : party.aliases) add_name(alias);
  for (const auto& [scheme, value] : party.identifiers) {
    absl::StatusOr<Identifier> id =
        NormalizeIdentifier(scheme, value, party.country);
    if (id.ok()) p.identifiers.push_back(*std::move(id));
  }
  return p;
}

std::vector<std::string> PartyIndex::TermsOf(const Record& r) {
  std::vector<std::string> terms;
  for (const Name& n : r.names) NameTerms(n.normalized, &terms);
  for (const Identifier& id : r.identifiers) {
    for (std::string& key : IndexKeys(id)) terms.push_back(std::move(key));
  }
  SortUnique(&terms);
  return terms;
}

uint32_t PartyIndex::TermId(const std::string& text) {
  auto [it, inserted] =
      term_by_text_.try_emplace(text, static_cast<uint32_t>(terms_.size()));
  if (inserted) terms_.push_back(Term{text, {}});
  return it->second;
}

void PartyIndex::RemoveSlot(uint32_t slot) {
  Record& r = records_[slot];
  for (const std::string& text : TermsOf(r)) {
    auto it = term_by_text_.find(text);
    if (it == term_by_text_.end()) continue;
    std::vector<uint32_t>& postings = terms_[it->second].postings;
    auto pos = std::find(postings.begin(), postings.end(), slot);
    if (pos != postings.end()) {
      *pos = postings.back();
      postings.pop_back();
    }
  }
  slot_by_id_.erase(r.id);
  r = Record();
  free_slots_.push_back(slot);
  --live_;
}

absl::Status PartyIndex::Upsert(const Party& party) {
  if (party.id.empty()) return absl::InvalidArgumentError("party id is empty");
  Prepared p = Prepare(party);
  if (p.names.empty() && p.identifiers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "party ", party.id, " has no name, alias or valid identifier"));
  }
  Record r;
  r.id = std::move(p.id);
  r.kind = p.kind;
  r.country = std::move(p.country);
  r.names = std::move(p.names);
  r.identifiers = std::move(p.identifiers);
  r.live = true;
  const std::vector<std::string> terms = TermsOf(r);

  absl::MutexLock lock(&mu_);
  auto existing = slot_by_id_.find(r.id);
  if (existing != slot_by_id_.end()) RemoveSlot(existing->second);
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(records_.size());
    records_.emplace_back();
  }
  for (const std::string& text : terms) {
    terms_[TermId(text)].postings.push_back(slot);
  }
  slot_by_id_[r.id] = slot;
  records_[slot] = std::move(r);
  ++live_;
  return absl::OkStatus();
}

absl::Status PartyIndex::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = slot_by_id_.find(id);
  if (it == slot_by_id_.end()) {
    return absl::NotFoundError(absl::StrCat("no party ", id, " in the index"));
  }
  RemoveSlot(it->second);
  return absl::OkStatus();
}

size_t PartyIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return live_;
}

double PartyIndex::Idf(absl::string_view token) const {
  const double n = static_cast<double>(live_) + 1.0;
  auto it = term_by_text_.find(token);
  const double df =
      it == term_by_text_.end() ? 0.0 : terms_[it->second].postings.size();
  return std::log(n / (df + 0.5)) + 1.0;
}

bool PartyIndex::Score(const Prepared& q, const Record& r,
                       absl::flat_hash_map<std::string, double>* idf_cache,
                       Candidate* out) const {
  MatchFeatures f;
  // Identifiers.
  bool weak_equal = false;
  for (const Identifier& qi : q.identifiers) {
    const std::vector<std::string> qkeys = IndexKeys(qi);
    for (const Identifier& ri : r.identifiers) {
      bool equal = false;
      for (const std::string& rk : IndexKeys(ri)) {
        if (std::find(qkeys.begin(), qkeys.end(), rk) != qkeys.end()) {
          equal = true;
          break;
        }
      }
      if (equal) {
        const bool strong = qi.strength == IdentifierStrength::kStrong &&
                            ri.strength == IdentifierStrength::kStrong;
        if (strong && !f.strong_identifier) {
          f.strong_identifier = true;
          f.identifier_scheme = qi.scheme;
          f.identifier_value = qi.value;
        } else if (!strong) {
          weak_equal = true;
          if (f.identifier_scheme.empty()) {
            f.identifier_scheme = qi.scheme;
            f.identifier_value = qi.value;
          }
        }
      }
    }
  }
  for (const Identifier& qi : q.identifiers) {
    if (!qi.one_per_party) continue;
    bool same_scheme = false, same_value = false;
    for (const Identifier& ri : r.identifiers) {
      if (ri.scheme != qi.scheme) continue;
      same_scheme = true;
      if (ri.value == qi.value) same_value = true;
    }
    if (same_scheme && !same_value) {
      f.conflicting_scheme = qi.scheme;
      break;
    }
  }
  // Names: the best pair.
  auto idf = [this](absl::string_view t)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return Idf(t); };
  const Name* best_q = nullptr;
  const Name* best_r = nullptr;
  double best = -1;
  bool best_acronym = false;
  for (const Name& qn : q.names) {
    for (const Name& rn : r.names) {
      double s = SoftTfIdf(qn.normalized.tokens, rn.normalized.tokens, idf,
                           options_.token_threshold);
      if (qn.normalized.transliterated || rn.normalized.transliterated) {
        auto skeleton_idf =
            [this](absl::string_view t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              // One-letter skeletons are not indexed:
              // as common as a word can be.
              return t.size() < 2 ? 1.0 : Idf(absl::StrCat("#", t));
            };
        s = std::max(s, kSkeletonDiscount *
                            SoftTfIdf(NonEmpty(qn.normalized.skeleton),
                                      NonEmpty(rn.normalized.skeleton),
                                      skeleton_idf, options_.token_threshold));
      }
      bool acronym = false;
      if (s < kAcronymSimilarity &&
          ((qn.normalized.tokens.size() == 1 &&
            IsAcronymOf(qn.normalized.tokens[0], rn.normalized.tokens,
                        rn.normalized.legal_forms)) ||
           (rn.normalized.tokens.size() == 1 &&
            IsAcronymOf(rn.normalized.tokens[0], qn.normalized.tokens,
                        qn.normalized.legal_forms)))) {
        const size_t letters = qn.normalized.tokens.size() == 1
                                   ? qn.normalized.tokens[0].size()
                                   : rn.normalized.tokens[0].size();
        s = letters >= 3 ? kAcronymSimilarity : kShortAcronymSimilarity;
        acronym = true;
      }
      if (s > best) {
        best = s;
        best_q = &qn;
        best_r = &rn;
        best_acronym = acronym;
      }
    }
  }
  double name_score = 0;
  if (best_q != nullptr) {
    f.name_similarity = best;
    f.query_name = best_q->written;
    f.candidate_name = best_r->written;
    f.acronym = best_acronym;
    f.phonetic = Phonetic(best_q->normalized, best_r->normalized);
    f.legal_form = CompareLegalForms(best_q->normalized.legal_forms,
                                     best_r->normalized.legal_forms);
    name_score = kNameWeight * f.name_similarity + kPhoneticWeight * f.phonetic;
  }
  if (KnownCountry(q.country) && KnownCountry(r.country)) {
    f.country = q.country == r.country ? Compatibility::kSame
                                       : Compatibility::kDifferent;
  }
  if (q.kind != PartyKind::kUnspecified && r.kind != PartyKind::kUnspecified) {
    f.kind =
        q.kind == r.kind ? Compatibility::kSame : Compatibility::kDifferent;
  }
  if (best_q != nullptr) {
    if (f.country == Compatibility::kSame) name_score += kCountrySame;
    if (f.country == Compatibility::kDifferent) name_score += kCountryDifferent;
    if (f.legal_form == Compatibility::kSame) name_score += kLegalFormAgree;
    if (f.legal_form == Compatibility::kDifferent) {
      name_score += kLegalFormConflict;
    }
    if (weak_equal) name_score += kWeakIdentifier;
  }
  double score = name_score;
  if (f.strong_identifier) {
    score = std::max(score, kStrongBase + kStrongNameWeight *
                                              std::max(0.0, f.name_similarity));
  }
  if (!f.conflicting_scheme.empty()) score += kConflict;
  if (f.kind == Compatibility::kDifferent) score += kKindDifferent;
  score = std::clamp(score, 0.0, 1.0);

  Decision decision = Decision::kReview;
  if (f.strong_identifier && f.conflicting_scheme.empty() &&
      f.kind != Compatibility::kDifferent &&
      score >= options_.auto_link_threshold) {
    decision = Decision::kAutoLink;
  } else if (options_.auto_link_name_matches &&
             score >= options_.name_auto_link_threshold &&
             f.conflicting_scheme.empty()) {
    decision = Decision::kAutoLink;
  } else if (score < options_.review_threshold) {
    return false;
  }

  out->id = r.id;
  out->score = score;
  out->decision = decision;
  f.query_country = q.country;
  f.candidate_country = r.country;
  out->features = std::move(f);
  return true;
}

void PartyIndex::Explain(Candidate* c) {
  const MatchFeatures& f = c->features;
  std::vector<std::string> parts;
  if (!f.identifier_scheme.empty()) {
    parts.push_back(absl::StrCat("identifier ", f.identifier_scheme, " ",
                                 f.identifier_value, " equal (",
                                 f.strong_identifier ? "strong" : "weak", ")"));
  }
  if (!f.conflicting_scheme.empty()) {
    parts.push_back(absl::StrCat(f.conflicting_scheme, " differs"));
  }
  if (!f.query_name.empty()) {
    parts.push_back(
        absl::StrFormat("name '%s' ~ '%s' %.2f (%s), phonetic %.2f",
                        f.query_name, f.candidate_name, f.name_similarity,
                        f.acronym ? "acronym" : "soft TF-IDF", f.phonetic));
    parts.push_back(
        absl::StrCat("legal form ", CompatibilityName(f.legal_form)));
  }
  std::string country = absl::StrCat("country ", CompatibilityName(f.country));
  if (f.country == Compatibility::kSame) {
    absl::StrAppend(&country, " (", f.query_country, ")");
  } else if (f.country == Compatibility::kDifferent) {
    absl::StrAppend(&country, " (", f.query_country, "/", f.candidate_country,
                    ")");
  }
  parts.push_back(std::move(country));
  parts.push_back(absl::StrCat("kind ", CompatibilityName(f.kind)));
  parts.push_back(
      absl::StrFormat("score %.2f -> %s", c->score, DecisionName(c->decision)));
  c->evidence = absl::StrJoin(parts, "; ");
}

absl::StatusOr<std::vector<Candidate>> PartyIndex::Match(
    const Party& query) const {
  return MatchImpl(query, /*brute_force=*/false);
}

absl::StatusOr<std::vector<Candidate>> PartyIndex::BruteForceMatch(
    const Party& query) const {
  return MatchImpl(query, /*brute_force=*/true);
}

absl::StatusOr<std::vector<Candidate>> PartyIndex::MatchImpl(
    const Party& query, bool brute_force) const {
  const Prepared q = Prepare(query);
  if (q.names.empty() && q.identifiers.empty()) {
    return absl::InvalidArgumentError(
        "the query has no name, alias or valid identifier");
  }
  std::vector<Candidate> out;
  absl::ReaderMutexLock lock(&mu_);
  absl::flat_hash_map<std::string, double> idf_cache;
  auto consider = [&](uint32_t slot) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Record& r = records_[slot];
    if (!r.live || (!q.id.empty() && r.id == q.id)) return;
    Candidate c;
    if (Score(q, r, &idf_cache, &c)) out.push_back(std::move(c));
  };
  if (brute_force) {
    for (uint32_t slot = 0; slot < records_.size(); ++slot) consider(slot);
  } else {
    absl::flat_hash_set<uint32_t> chosen;
    // Identifier matches are always scored.
    for (const Identifier& id : q.identifiers) {
      for (const std::string& key : IndexKeys(id)) {
        auto it = term_by_text_.find(key);
        if (it == term_by_text_.end()) continue;
        for (uint32_t slot : terms_[it->second].postings) chosen.insert(slot);
      }
    }
    // Name terms nominate by accumulated IDF.
    std::vector<std::string> terms;
    for (const Name& n : q.names) NameTerms(n.normalized, &terms);
    SortUnique(&terms);
    const size_t stop = std::max<size_t>(
        options_.min_stop_postings,
        static_cast<size_t>(options_.max_posting_fraction * live_));
    const double n = static_cast<double>(live_) + 1.0;
    absl::flat_hash_map<uint32_t, float> acc;
    const Term* rarest = nullptr;
    bool nominated = false;
    for (const std::string& text : terms) {
      auto it = term_by_text_.find(text);
      if (it == term_by_text_.end()) continue;
      const Term& term = terms_[it->second];
      if (term.postings.empty()) continue;
      if (term.postings.size() > stop) {
        if (text[0] != '~' && text[0] != '^' && text[0] != '#' &&
            (rarest == nullptr ||
             term.postings.size() < rarest->postings.size())) {
          rarest = &term;
        }
        continue;
      }
      double w = std::log(n / (term.postings.size() + 0.5)) + 1.0;
      if (text[0] == '~' || text[0] == '^' || text[0] == '#') {
        w *= kPhoneticTermWeight;
      }
      for (uint32_t slot : term.postings) acc[slot] += static_cast<float>(w);
      nominated = true;
    }
    if (!nominated && rarest != nullptr) {
      // Only common words: the rarest of them nominates, bounded.
      const size_t limit =
          std::min(rarest->postings.size(), kMaxRarestPostings);
      for (size_t i = 0; i < limit; ++i) acc[rarest->postings[i]] += 1.0f;
    }
    std::vector<std::pair<float, uint32_t>> ranked;
    ranked.reserve(acc.size());
    for (const auto& [slot, w] : acc) ranked.emplace_back(w, slot);
    const size_t keep = std::min(
        ranked.size(),
        static_cast<size_t>(std::max(0, options_.prefilter_candidates)));
    std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                      [](const auto& a, const auto& b) {
                        if (a.first != b.first) return a.first > b.first;
                        return a.second < b.second;
                      });
    const float floor =
        keep == 0
            ? 0.0f
            : static_cast<float>(options_.prefilter_floor) * ranked[0].first;
    for (size_t i = 0; i < keep && ranked[i].first >= floor; ++i) {
      chosen.insert(ranked[i].second);
    }
    for (uint32_t slot : chosen) consider(slot);
  }
  std::sort(out.begin(), out.end(), CandidateLess);
  if (out.size() > static_cast<size_t>(std::max(0, options_.max_candidates))) {
    out.resize(options_.max_candidates);
  }
  for (Candidate& c : out) Explain(&c);
  return out;
}

}  // namespace georisk::resolve
