// File: services/common/testing/match_testing.h
//
// Test helpers for MatchEntities answers (match_merge.h and its callers):
// a candidate, a shard's answer, the ids of an answer in order.
//
//   v1::MatchEntitiesResponse a = Answer({Candidate("company/a", 0.9)}, 4);
//   EXPECT_THAT(Ids(MergeMatches({a}, 0)), ElementsAre("company/a"));
//
// Pure; thread-safe.
#ifndef GEORISK_SERVICES_COMMON_TESTING_MATCH_TESTING_H_
#define GEORISK_SERVICES_COMMON_TESTING_MATCH_TESTING_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "georisk/v1/resolution.pb.h"

namespace georisk::common::match_testing {

inline v1::MatchCandidate Candidate(const std::string& id, double score,
                                    bool auto_link = false) {
  v1::MatchCandidate c;
  c.set_entity_id(id);
  c.set_score(score);
  c.set_decision(auto_link ? v1::MATCH_DECISION_AUTO_LINK
                           : v1::MATCH_DECISION_REVIEW);
  return c;
}

inline v1::MatchEntitiesResponse Answer(
    std::vector<v1::MatchCandidate> candidates, int64_t sequence) {
  v1::MatchEntitiesResponse r;
  for (auto& c : candidates) *r.add_candidates() = std::move(c);
  r.set_sequence(sequence);
  return r;
}

inline std::vector<std::string> Ids(const v1::MatchEntitiesResponse& r) {
  std::vector<std::string> ids;
  for (const auto& c : r.candidates()) ids.push_back(c.entity_id());
  return ids;
}

}  // namespace georisk::common::match_testing

#endif  // GEORISK_SERVICES_COMMON_TESTING_MATCH_TESTING_H_
