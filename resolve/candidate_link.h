// File: resolve/candidate_link.h
//
// What a matcher Candidate (resolve/matcher.h) says, in the API's terms
// (georisk.v1.Link and MatchCandidate): the method, the features by name in
// [0, 1], and the evidence lines. Graphstore's Resolution service answers
// MatchEntities with it, and the links an import writes (issue 16) carry the
// same values, so a reviewer sees in the queue what a match showed.
//
//   ASSIGN_OR_RETURN(std::vector<Candidate> found, index.Match(query));
//   v1::Link link;
//   FillLinkEvidence(found[0], &link);  // method, score, features, evidence
//
// Features ("identifier" is 1 for an equal strong identifier, 0.5 for an
// equal weak one, 0 for none; compatibilities are 1 same, 0.5 unknown, 0
// different):
//   identifier, identifier_conflict (0/1), name_similarity, phonetic,
//   acronym (0/1), legal_form, country, kind.
//
// Thread safety: pure functions.
#ifndef GEORISK_RESOLVE_CANDIDATE_LINK_H_
#define GEORISK_RESOLVE_CANDIDATE_LINK_H_

#include <map>
#include <string>

#include "georisk/v1/graph.pb.h"
#include "resolve/matcher.h"

namespace georisk::resolve {

// IDENTIFIER when the candidate's equal identifier is strong, else NAME.
v1::Link::Method MethodOf(const Candidate& candidate);

// The features above, by name.
std::map<std::string, double> FeaturesOf(const Candidate& candidate);

// Sets `link`'s method, score, features and evidence (one line) from
// `candidate`; leaves the pair, judgement and decision fields alone.
void FillLinkEvidence(const Candidate& candidate, v1::Link* link);

}  // namespace georisk::resolve

#endif  // GEORISK_RESOLVE_CANDIDATE_LINK_H_
