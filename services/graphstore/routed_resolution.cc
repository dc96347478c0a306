#include "services/graphstore/routed_resolution.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "domain/paging.h"
#include "services/common/log.h"
#include "services/common/match_merge.h"
#include "services/common/shard_status.h"
#include "services/graphstore/resolution_service.h"
#include "services/graphstore/routed_paging.h"

namespace georisk::graphstore {
namespace {

// The codes of a shard that could not answer: a client retries them, and an
// answer about the request from another shard says more.
bool Unreachable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kCancelled ||
         code == absl::StatusCode::kUnknown;
}

// The idempotency key of one review's write (its copies add "/out", "/in"):
// the same review sent again is the same key.
std::string ReviewKey(const v1::Link& link) {
  const std::string nul(1, '\0');
  return absl::StrCat(
      "review/", absl::Hex(storage::StableHash64(absl::StrCat(
                               link.entity_a(), nul, link.entity_b(), nul,
                               link.judgement(), nul, link.decided_by(), nul,
                               link.decided_at().seconds(), nul,
                               link.decided_at().nanos())),
                           absl::kZeroPad16));
}

v1::Mutation LinkCopy(const v1::Link& link, v1::EdgeCopy copy,
                      const std::string& key) {
  v1::Mutation m;
  *m.mutable_upsert_link() = link;
  m.set_edge_copy(copy);
  m.set_idempotency_key(
      absl::StrCat(key, copy == v1::EDGE_COPY_OUT ? "/out" : "/in"));
  return m;
}

}  // namespace

std::string ReviewQueueOrder(const v1::Link& link) {
  // A non-negative double's bits order as its value; inverted, the best
  // score sorts first. -0 is 0.
  const double score = link.score() == 0 ? 0.0 : link.score();
  uint64_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  bits = ~bits;
  std::string key;
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  // Ids hold no NUL, so "a\0b" orders as the pair (a, b).
  absl::StrAppend(&key, link.entity_a(), std::string(1, '\0'), link.entity_b());
  return key;
}

absl::StatusOr<std::unique_ptr<RoutedResolution>> RoutedResolution::Create(
    storage::PartitionMap map,
    std::vector<std::unique_ptr<ResolutionShard>> shards,
    RoutedResolutionOptions options) {
  if (static_cast<int>(shards.size()) != map.shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the Resolution router has ", shards.size(),
        " shards, but the partition map has ", map.shard_count(), " shards"));
  }
  for (const auto& s : shards) {
    if (s == nullptr) {
      return absl::InvalidArgumentError("a shard has no Resolution client");
    }
  }
  return std::unique_ptr<RoutedResolution>(new RoutedResolution(
      std::move(map), std::move(shards), std::move(options)));
}

absl::Time RoutedResolution::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::Status RoutedResolution::Match(const v1::MatchEntitiesRequest& request,
                                     v1::MatchEntitiesResponse* response) {
  RETURN_IF_ERROR(CheckMatchRequest(request).status());
  const int n = static_cast<int>(shards_.size());
  std::vector<absl::StatusOr<v1::MatchEntitiesResponse>> answers(
      n, absl::UnknownError("not asked"));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int s = 0; s < n; ++s) {
    threads.emplace_back([&, s] { answers[s] = shards_[s]->Match(request); });
  }
  for (std::thread& t : threads) t.join();
  // All or nothing: the missing shard may hold the best candidate.
  absl::Status failed;
  std::vector<v1::MatchEntitiesResponse> ok;
  for (absl::StatusOr<v1::MatchEntitiesResponse>& a : answers) {
    if (a.ok()) {
      ok.push_back(*std::move(a));
    } else if (failed.ok() || (Unreachable(failed.code()) &&
                               !Unreachable(a.status().code()))) {
      failed = a.status();
    }
  }
  if (!failed.ok()) return failed;
  *response = common::MergeMatches(std::move(ok), request.limit());
  return absl::OkStatus();
}

absl::Status RoutedResolution::ReviewQueue(
    const v1::ListReviewQueueRequest& request,
    v1::ListReviewQueueResponse* response) {
  RETURN_IF_ERROR(CheckQueueRequest(request).status());
  ASSIGN_OR_RETURN(const int limit, domain::PageSize(request.page_size()));
  const int n = map_.shard_count();
  const std::string filters = QueueFilterText(request);
  std::vector<ShardPosition> at = FirstPositions(n);
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(
        at, DecodeRoutedToken(request.page_token(), RoutedListing::kReviewQueue,
                              n, filters));
  }
  std::vector<std::optional<int64_t>> totals(n);
  auto ask = [&](int shard, const std::string& token,
                 int page_size) -> absl::StatusOr<v1::ListReviewQueueResponse> {
    v1::ListReviewQueueRequest q = request;
    q.set_page_size(page_size);
    q.set_page_token(token);
    ASSIGN_OR_RETURN(v1::ListReviewQueueResponse page,
                     shards_[shard]->ReviewQueue(q));
    totals[shard] = page.total_size();
    return page;
  };
  FetchShardPage<v1::Link> fetch =
      [&](int shard,
          const std::string& token) -> absl::StatusOr<ShardPage<v1::Link>> {
    ASSIGN_OR_RETURN(v1::ListReviewQueueResponse page,
                     ask(shard, token, limit));
    ShardPage<v1::Link> out;
    out.records.assign(std::make_move_iterator(page.mutable_links()->begin()),
                       std::make_move_iterator(page.mutable_links()->end()));
    out.next_page_token = std::move(*page.mutable_next_page_token());
    return out;
  };
  ASSIGN_OR_RETURN(MergedPage<v1::Link> merged,
                   MergePages<v1::Link>(at, limit, fetch, ReviewQueueOrder));
  // The shards whose listing ended before this page still count in the
  // total: a page of one link gives it.
  int64_t total = 0;
  for (int s = 0; s < n; ++s) {
    if (!totals[s].has_value()) RETURN_IF_ERROR(ask(s, "", 1).status());
    total += *totals[s];
  }
  for (v1::Link& link : merged.records) {
    *response->add_links() = std::move(link);
  }
  response->set_total_size(total);
  if (!merged.next.empty()) {
    response->set_next_page_token(EncodeRoutedToken(RoutedListing::kReviewQueue,
                                                    n, merged.next, filters));
  }
  return absl::OkStatus();
}

absl::Status RoutedResolution::Links(const v1::ListLinksRequest& request,
                                     v1::ListLinksResponse* response) {
  if (request.entity_id().empty()) {
    return absl::InvalidArgumentError("entity_id: is required");
  }
  // The entity's shard holds a copy of every link of it.
  ASSIGN_OR_RETURN(*response, OwnerOf(request.entity_id()).Links(request));
  return absl::OkStatus();
}

absl::StatusOr<v1::Link> RoutedResolution::FindLink(
    const std::string& lo, const std::string& hi) const {
  v1::ListLinksRequest request;
  request.set_entity_id(lo);
  request.set_page_size(domain::kMaxPageSize);
  do {
    ASSIGN_OR_RETURN(v1::ListLinksResponse page, OwnerOf(lo).Links(request));
    for (v1::Link& link : *page.mutable_links()) {
      // By the other entity's id: past `hi` it is not there.
      const std::string& other =
          link.entity_a() == lo ? link.entity_b() : link.entity_a();
      if (other == hi) return std::move(link);
      if (other > hi) return absl::NotFoundError("no link");
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return absl::NotFoundError("no link");
}

absl::Status RoutedResolution::Review(const v1::ReviewLinkRequest& request,
                                      absl::string_view principal,
                                      v1::ReviewLinkResponse* response) {
  ASSIGN_OR_RETURN(const std::string reviewer,
                   CheckReviewRequest(request, principal));
  const std::string& a = request.link().entity_a();
  const std::string& b = request.link().entity_b();
  for (const std::string* id : {&a, &b}) {
    absl::StatusOr<v1::Entity> entity = OwnerOf(*id).GetEntity(*id);
    if (absl::IsNotFound(entity.status())) {
      return absl::NotFoundError(
          absl::StrCat(id == &a ? "link.entity_a" : "link.entity_b",
                       ": entity ", *id, " does not exist"));
    }
    RETURN_IF_ERROR(entity.status());
  }
  const std::string& lo = a < b ? a : b;
  const std::string& hi = a < b ? b : a;
  ASSIGN_OR_RETURN(ReviewPlan plan,
                   PlanReview(FindLink(lo, hi), request, reviewer, Now()));
  if (plan.already_decided) {
    response->set_sequence(plan.link.update_sequence());
    response->set_already_decided(true);
    *response->mutable_link() = std::move(plan.link);
    return absl::OkStatus();
  }
  v1::Link& link = plan.link;
  if (link.entity_a() != lo) {
    link.mutable_entity_a()->swap(*link.mutable_entity_b());
  }
  const int lo_shard = map_.ShardOf(lo);
  const int hi_shard = map_.ShardOf(hi);
  absl::StatusOr<int64_t> sequence;
  if (lo_shard == hi_shard) {
    v1::Mutation m;
    *m.mutable_upsert_link() = link;
    sequence = shards_[lo_shard]->Apply({m}, "resolution");
    if (!sequence.ok()) return ReviewWriteError(sequence.status());
  } else {
    // As ingest writes a link across shards: each end's copy on its shard,
    // each commit queuing the other copy in its outbox.
    const std::string key = ReviewKey(link);
    const v1::Mutation out = LinkCopy(link, v1::EDGE_COPY_OUT, key);
    sequence = shards_[lo_shard]->Apply({out}, "resolution");
    if (!sequence.ok()) return ReviewWriteError(sequence.status());
    const absl::StatusOr<int64_t> in = shards_[hi_shard]->Apply(
        {LinkCopy(link, v1::EDGE_COPY_IN, key)}, "resolution");
    if (!in.ok() && Unreachable(in.status().code())) {
      // Durable on the first shard, whose outbox delivers the other copy.
      common::log::Warning("review: the other end's copy waits in the outbox",
                           {{"shard", storage::ShardName(hi_shard)},
                            {"error", in.status().ToString()}});
    } else if (!in.ok()) {
      // The other end is refused (deleted meanwhile): the first copy goes
      // again, and its key with it, as ingest undoes a copy.
      v1::Mutation undo;
      undo.mutable_delete_link()->set_entity_a(lo);
      undo.mutable_delete_link()->set_entity_b(hi);
      undo.set_edge_copy(v1::EDGE_COPY_OUT);
      undo.set_release_idempotency_key(out.idempotency_key());
      shards_[lo_shard]->Apply({undo}, "resolution").status().IgnoreError();
      return ReviewWriteError(in.status());
    }
  }
  ASSIGN_OR_RETURN(v1::Link written, FindLink(lo, hi));
  *response->mutable_link() = std::move(written);
  response->set_sequence(*sequence);
  return absl::OkStatus();
}

}  // namespace georisk::graphstore
