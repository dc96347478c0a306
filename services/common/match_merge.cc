#include "services/common/match_merge.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace georisk::common {
namespace {

// resolution.proto: "0 means 5, at most 50". The shards validate the
// request themselves; this only bounds the merge.
int EffectiveLimit(int limit) {
  if (limit <= 0) return 5;
  return std::min(limit, 50);
}

}  // namespace

v1::MatchEntitiesResponse MergeMatches(
    std::vector<v1::MatchEntitiesResponse> answers, int limit) {
  v1::MatchEntitiesResponse merged;
  std::vector<v1::MatchCandidate> all;
  int64_t sequence = 0;
  for (v1::MatchEntitiesResponse& a : answers) {
    sequence += a.sequence();
    for (v1::MatchCandidate& c : *a.mutable_candidates()) {
      all.push_back(std::move(c));
    }
  }
  auto auto_link = [](const v1::MatchCandidate& c) {
    return c.decision() == v1::MATCH_DECISION_AUTO_LINK;
  };
  std::sort(all.begin(), all.end(),
            [&](const v1::MatchCandidate& a, const v1::MatchCandidate& b) {
              if (auto_link(a) != auto_link(b)) return auto_link(a);
              if (a.score() != b.score()) return a.score() > b.score();
              return a.entity_id() < b.entity_id();
            });
  // An entity lives on one shard, so ids do not repeat across answers; a
  // shard map being changed under a running import could make two shards
  // answer for one id, and the better answer (first) is kept.
  absl::flat_hash_set<std::string> seen;
  const int n = EffectiveLimit(limit);
  for (v1::MatchCandidate& c : all) {
    if (merged.candidates_size() >= n) break;
    if (!seen.insert(c.entity_id()).second) continue;
    *merged.add_candidates() = std::move(c);
  }
  merged.set_sequence(sequence);
  return merged;
}

}  // namespace georisk::common
