#include "services/ingest/sharded_resolution_client.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/match_merge.h"
#include "services/common/shard_status.h"
#include "storage/partition_map.h"

namespace georisk::ingest {
namespace {

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kCancelled;
}

}  // namespace

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
  return common::MergeMatches(std::move(ok), request.limit());
}

}  // namespace georisk::ingest
