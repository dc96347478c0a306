// File: resolve/matcher.h
//
// PartyIndex: an in-memory index of parties (resolve/party.h) that finds, for
// a query party, the indexed parties that may be the same one, each with a
// score in [0, 1], the features behind the score, a human-readable evidence
// line and a decision: link automatically, or wait for a reviewer.
//
//   absl::StatusOr<std::unique_ptr<NameNormalizer>> n =
//   NameNormalizer::Create(); std::shared_ptr<const NameNormalizer> normalizer
//   = *std::move(n); PartyIndex index(MatcherOptions(), normalizer);
//   RETURN_IF_ERROR(index.Upsert(smic));        // from the team's own graph
//   ASSIGN_OR_RETURN(std::vector<Candidate> c, index.Match(csl_record));
//   // c[0].id == "company/smic", c[0].decision == Decision::kAutoLink,
//   // c[0].evidence == "identifier lei 5493... equal; name ..."
//
// How it finds candidates: inverted lists from identifier keys
// (resolve/identifiers.h IndexKeys) and from name terms (every token of the
// name and aliases, two adjacent tokens joined, each token's NYSIIS key and
// consonant skeleton, and "^" + the initials of a name, which meets a one-word
// acronym) to parties. A
// query collects the IDF of the terms it shares with each party; terms on more
// than `max_posting_fraction` of the parties (stop terms such as "trading") do
// not nominate candidates but still count in the score. The
// `prefilter_candidates` best, plus every identifier match, are scored in full.
// BruteForceMatch scores every party the same way, as the reference for what
// the inverted lists miss.
//
// The score (docs/resolution.md gives the reasoning and the measured
// figures):
//   name     = 0.85 * soft TF-IDF (Jaro-Winkler >= 0.9) + 0.15 * phonetic,
//              best pair of names; for transliterated names also 0.9 *
//              soft TF-IDF of consonant skeletons; a one-word acronym of
//              the other name counts 0.9 (two letters: 0.8)
//   name    += country (same +0.05, different -0.15, unknown 0)
//            + legal form (agree +0.02, conflict -0.05, unknown 0)
//            + weak identifier equal +0.15
//   strong   = 0.9 + 0.1 * soft TF-IDF when a strong identifier is equal
//   score    = max(name, strong) - 0.35 if a one-per-party identifier
//              differs - 0.3 if the kinds are incompatible, clamped to [0, 1]
// Decision: kAutoLink when a strong identifier is equal, no one-per-party
// identifier differs, the kinds are compatible and score >=
// auto_link_threshold; a name-only match links automatically only with
// auto_link_name_matches and score >= name_auto_link_threshold; otherwise
// kReview when score >= review_threshold; below it, no candidate.
//
// Thread safety: every method may be called concurrently. Upsert and Remove
// take the writer lock; Match, BruteForceMatch and size take the reader
// lock and normalise the query before taking it.
#ifndef GEORISK_RESOLVE_MATCHER_H_
#define GEORISK_RESOLVE_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "resolve/identifiers.h"
#include "resolve/normalize_name.h"
#include "resolve/party.h"

namespace georisk::resolve {

struct MatcherOptions {
  // A candidate whose strong identifier is equal links automatically at or
  // above this score. Default 0.9: any equal strong identifier with no
  // conflicting one-per-party identifier and a compatible kind.
  double auto_link_threshold = 0.9;
  // Candidates below this score are not returned. Default 0.7: on the
  // evaluation set, the lowest true match's score sits above it and most
  // shared names in different countries below (docs/resolution.md).
  double review_threshold = 0.7;
  // When true, a name-only match at or above name_auto_link_threshold links
  // automatically. Default false: name-only matches wait for review.
  bool auto_link_name_matches = false;
  double name_auto_link_threshold = 0.98;
  // At most this many candidates per query, best first. Default 5.
  int max_candidates = 5;
  // How many of the parties that share name terms with the query are scored
  // in full, best accumulated IDF first (the rest are dropped unseen), and
  // the least share of the best accumulated IDF a party needs to be scored.
  // Defaults 100 and 0 (no floor): on the evaluation set 200 finds 0.6%
  // more true matches first and a floor of 0.3 loses 1%; on the 1M-party
  // benchmark the index's best candidate is the brute-force scan's
  // (docs/resolution.md).
  int prefilter_candidates = 100;
  double prefilter_floor = 0.0;
  // Terms on more than this share of the parties (and more than
  // min_stop_postings) do not nominate candidates. Default 1%.
  double max_posting_fraction = 0.01;
  int64_t min_stop_postings = 1000;
  // Soft TF-IDF's token similarity threshold (Jaro-Winkler). Default 0.9.
  double token_threshold = 0.9;
};

enum class Decision {
  kReview,    // a person decides
  kAutoLink,  // may be linked by the rule
};

absl::string_view DecisionName(Decision d);  // "review", "auto_link"

// same / unknown (either side missing) / different.
enum class Compatibility { kSame, kUnknown, kDifferent };
absl::string_view CompatibilityName(Compatibility c);

// What produced a candidate's score.
struct MatchFeatures {
  // The strongest equal identifier: scheme and normalised value ("" if none).
  std::string identifier_scheme;
  std::string identifier_value;
  bool strong_identifier = false;  // the equal identifier is strong
  // A one-per-party scheme whose values differ ("lei"), "" if none.
  std::string conflicting_scheme;
  // Soft TF-IDF of the best pair of names, and those names (as written).
  double name_similarity = 0;
  std::string query_name;
  std::string candidate_name;
  bool acronym = false;  // the best pair is an acronym and its expansion
  // Share of the query name's tokens whose NYSIIS key the candidate's has.
  double phonetic = 0;
  // Legal forms of the best pair: agree, unknown, or conflict (kDifferent).
  Compatibility legal_form = Compatibility::kUnknown;
  Compatibility country = Compatibility::kUnknown;
  std::string query_country;
  std::string candidate_country;
  // kDifferent when the kinds are both given and differ.
  Compatibility kind = Compatibility::kUnknown;
};

struct Candidate {
  std::string id;
  double score = 0;  // [0, 1]
  Decision decision = Decision::kReview;
  MatchFeatures features;
  // One line: "identifier lei 5493... equal; name 'A' ~ 'B' 0.93; ...".
  std::string evidence;
};

class PartyIndex {
 public:
  // `normalizer` is shared (it may serve other indexes and threads).
  PartyIndex(MatcherOptions options,
             std::shared_ptr<const NameNormalizer> normalizer);
  ~PartyIndex();
  PartyIndex(const PartyIndex&) = delete;
  PartyIndex& operator=(const PartyIndex&) = delete;

  // Adds `party`, or replaces the party with its id. Identifiers that fail
  // validation (identifiers.h) are left out of the index, not an error.
  // Errors: INVALID_ARGUMENT if the id is empty or the party has neither a
  // name nor an alias nor a valid identifier.
  absl::Status Upsert(const Party& party);

  // Removes the party with this id. Errors: NOT_FOUND if there is none.
  absl::Status Remove(absl::string_view id);

  // Ranked candidates for `query` (its id is ignored, and a party with the
  // same id is never its own candidate): at most max_candidates, automatic
  // links first, then by score descending, then id ascending; each at or
  // above review_threshold.
  // Errors: INVALID_ARGUMENT if the query has no name, alias or valid
  // identifier.
  absl::StatusOr<std::vector<Candidate>> Match(const Party& query) const;

  // Match by scoring every party in the index (no inverted lists): the
  // reference for benchmarks and tests. Same errors.
  absl::StatusOr<std::vector<Candidate>> BruteForceMatch(
      const Party& query) const;

  // Number of parties.
  size_t size() const;

  const MatcherOptions& options() const { return options_; }

 private:
  struct Name;
  struct Record;
  struct Prepared;
  struct Term {
    std::string text;
    std::vector<uint32_t> postings;  // record slots, unordered
  };

  Prepared Prepare(const Party& party) const;
  absl::StatusOr<std::vector<Candidate>> MatchImpl(const Party& query,
                                                   bool brute_force) const;
  // Full scoring of one record against a prepared query; `idf_cache` keeps
  // the IDF of the terms seen during one query. The evidence line is left
  // to Explain, for the candidates that are returned.
  bool Score(const Prepared& q, const Record& r,
             absl::flat_hash_map<std::string, double>* idf_cache,
             Candidate* out) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  static void Explain(Candidate* c);
  double Idf(absl::string_view token) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  uint32_t TermId(const std::string& text) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSlot(uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Terms and identifier keys of a record, deduplicated.
  static std::vector<std::string> TermsOf(const Record& r);

  const MatcherOptions options_;
  const std::shared_ptr<const NameNormalizer> normalizer_;

  mutable absl::Mutex mu_;
  std::vector<Record> records_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> slot_by_id_ ABSL_GUARDED_BY(mu_);
  // Name terms and identifier keys share one dictionary; identifier keys
  // contain ':', terms never do.
  std::vector<Term> terms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> term_by_text_ ABSL_GUARDED_BY(mu_);
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_MATCHER_H_
