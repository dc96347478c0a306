#include "services/ingest/sharded_resolution_client.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/common/shard_status.h"
#include "storage/partition_map.h"

namespace georisk::ingest {
namespace {

// resolution.proto: "0 means 5, at most 50". The shards validate the
// request themselves; this only bounds the merge.
int EffectiveLimit(int limit) {
  if (limit <= 0) return 5;
  return std::min(limit, 50);
}

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kCancelled;
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

absl::StatusOr<std::unique_ptr<ShardedResolutionClient>>
ShardedResolutionClient::Create(
    std::vector<std::unique_ptr<ResolutionClient>> shards) {
  if (shards.empty()) {
    return absl::InvalidArgumentError("no shard to resolve against");
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no resolution client for shard ",
                       storage::ShardName(static_cast<int>(i))));
    }
  }
  return std::unique_ptr<ShardedResolutionClient>(
      new ShardedResolutionClient(std::move(shards)));
}

ShardedResolutionClient::ShardedResolutionClient(
    std::vector<std::unique_ptr<ResolutionClient>> shards)
    : shards_(std::move(shards)) {}

absl::StatusOr<v1::MatchEntitiesResponse>
ShardedResolutionClient::MatchEntities(const v1::MatchEntitiesRequest& request,
                                       absl::Time deadline,
                                       Cancellation* cancel) {
  const int n = static_cast<int>(shards_.size());
  std::vector<absl::StatusOr<v1::MatchEntitiesResponse>> answers(
      n,
      absl::StatusOr<v1::MatchEntitiesResponse>(v1::MatchEntitiesResponse()));
  if (n == 1) {
    answers[0] = shards_[0]->MatchEntities(request, deadline, cancel);
  } else {
    // A Cancellation holds one hook: each shard's call gets its own, and
    // the caller's cancels them all.
    std::vector<std::unique_ptr<Cancellation>> each;
    each.reserve(n);
    for (int s = 0; s < n; ++s)
      each.push_back(std::make_unique<Cancellation>());
    if (cancel != nullptr && !cancel->SetHook([&each] {
          for (auto& c : each) c->Cancel();
        })) {
      return absl::CancelledError("ingest stream cancelled");
    }
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (int s = 0; s < n; ++s) {
      threads.emplace_back([&, s] {
        answers[s] =
            shards_[s]->MatchEntities(request, deadline, each[s].get());
      });
    }
    for (std::thread& t : threads) t.join();
    if (cancel != nullptr) cancel->ClearHook();
  }
  absl::Status failed;
  std::vector<v1::MatchEntitiesResponse> ok;
  ok.reserve(n);
  for (int s = 0; s < n; ++s) {
    if (answers[s].ok()) {
      ok.push_back(*std::move(answers[s]));
      continue;
    }
    const absl::Status named =
        common::FromShard(answers[s].status(), storage::ShardName(s));
    // The shard's answer about the request (INVALID_ARGUMENT: every shard
    // would say it) tells more than a transport error of another.
    if (failed.ok() || (Retryable(failed.code()) && !Retryable(named.code()))) {
      failed = named;
    }
  }
  if (!failed.ok()) return failed;
  return MergeMatches(std::move(ok), request.limit());
}

}  // namespace georisk::ingest
