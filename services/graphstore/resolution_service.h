// File: services/graphstore/resolution_service.h
//
// ResolutionService: georisk.v1.Resolution (proto/georisk/v1/resolution.proto)
// in the graphstore process, over its storage::GraphStore and a
// ResolutionIndex that follows it. Matches read the index; reviews write a
// link mutation to the store (one commit, origin "resolution") and wait for
// the index to hold it; ListLinks reads the store. Authentication and roles
// are the server's (services/common/auth.h): readers may call the reads,
// writers also ReviewLink, which records the caller's token name as the
// reviewer.
//
//   ResolutionIndex index(store, normalizer, {});
//   ResolutionService resolution(store, &index, {});
//   // GrpcServer::Start(options, {{&graphstore, ...}, {&resolution, ...}})
//
// Every request is validated; errors are INVALID_ARGUMENT naming the field
// ("query.country: ..."), NOT_FOUND, PERMISSION_DENIED or UNAVAILABLE as the
// proto documents each RPC. docs/api.md lists them field by field.
//
// With --route, RouteThrough(router) hands the calls without the metadata
// georisk-shard-local to the router (routed_resolution.h), which answers for
// the whole partitioned graph; the others are this shard's, its review queue
// then being its part of the whole (ResolutionServiceOptions::owns).
//
// Thread-safe. The store and the index must outlive the service.
#ifndef GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SERVICE_H_
#define GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SERVICE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "georisk/v1/resolution.grpc.pb.h"
#include "services/graphstore/resolution_index.h"
#include "services/graphstore/resolution_shard.h"
#include "storage/graph_store.h"

namespace georisk::graphstore {

struct ResolutionServiceOptions {
  // How long MatchEntities and ListReviewQueue wait for the index to hold
  // every commit made before the call, and ReviewLink for its own commit,
  // before answering UNAVAILABLE (ReviewLink answers OK: its write is
  // durable). Default 5 s.
  absl::Duration catch_up_timeout = absl::Seconds(5);
  // The clock of decided_at. Default (empty): absl::Now.
  std::function<absl::Time()> clock;
  // Whether an entity id is in this shard's partitions; set on a shard of a
  // partitioned graph. A shard-local review queue (a call with the metadata
  // georisk-shard-local: the router's) then lists only the links whose
  // entity_a (the smaller id, where the primary copy is) it owns, so the
  // shards' queues together hold each link once. Empty: every link. Set,
  // a match's existing_judgement is read from the store (the shard's copy
  // under the candidate), not from the index, which a load fills from the
  // export and so holds a link across shards on its smaller id's shard only.
  std::function<bool(absl::string_view)> owns;
};

// Most candidates MatchEntities returns, and its default.
inline constexpr int kMaxMatchLimit = 50;
inline constexpr int kDefaultMatchLimit = 5;
// Most aliases and identifiers of a match query; longest identifier value.
inline constexpr int kMaxQueryAliases = 64;
inline constexpr int kMaxQueryIdentifiers = 32;
inline constexpr size_t kMaxIdentifierValueBytes = 256;

// The resolve::Party a match query describes. Errors: INVALID_ARGUMENT
// naming the field under "query." (kind, name, aliases[i], country,
// identifiers["scheme"]). Thread-safe (pure).
absl::StatusOr<resolve::Party> PartyFromQuery(const v1::MatchQuery& query);

// The rules of each RPC's request, shared by this service and the router
// (routed_resolution.h) so both answer a bad request alike. Pure;
// thread-safe.
//
// MatchEntities: the query (PartyFromQuery), `limit` in [0, 50],
// `min_score` in [0, 1]; the query's party.
absl::StatusOr<resolve::Party> CheckMatchRequest(
    const v1::MatchEntitiesRequest& request);
// ListReviewQueue: the scores, `kind` and `page_size` (not the token, whose
// form is the answerer's); the index's filter.
absl::StatusOr<ResolutionIndex::QueueFilter> CheckQueueRequest(
    const v1::ListReviewQueueRequest& request);
// The filters of a queue request as one text: a page token is bound to it.
std::string QueueFilterText(const v1::ListReviewQueueRequest& request);
// ReviewLink: the pair, the decision, the reason and the reviewer against
// `principal` (the caller's token name, empty without authentication); the
// reviewer to record. INVALID_ARGUMENT or PERMISSION_DENIED.
absl::StatusOr<std::string> CheckReviewRequest(
    const v1::ReviewLinkRequest& request, absl::string_view principal);

// What a valid review does to the pair, given the stored link (or its
// NOT_FOUND): `already_decided` with the stored link when a reviewer
// already decided so (nothing to write), else the link to write, with the
// reviewer, `now` and the reason. Errors: NOT_FOUND "link: no link ..."
// when nothing is stored and !allow_manual; `stored`'s other errors.
struct ReviewPlan {
  bool already_decided = false;
  v1::Link link;
};
absl::StatusOr<ReviewPlan> PlanReview(const absl::StatusOr<v1::Link>& stored,
                                      const v1::ReviewLinkRequest& request,
                                      absl::string_view reviewer,
                                      absl::Time now);
// A store's error for the review's write ("mutations[0].upsert_link.x:
// ...") named by the request's field ("link.x: ...").
absl::Status ReviewWriteError(const absl::Status& status);

class ResolutionService final : public v1::Resolution::CallbackService {
 public:
  ResolutionService(storage::GraphStore* store, const ResolutionIndex* index,
                    ResolutionServiceOptions options);

  grpc::ServerUnaryReactor* MatchEntities(
      grpc::CallbackServerContext* context,
      const v1::MatchEntitiesRequest* request,
      v1::MatchEntitiesResponse* response) override;
  grpc::ServerUnaryReactor* ListReviewQueue(
      grpc::CallbackServerContext* context,
      const v1::ListReviewQueueRequest* request,
      v1::ListReviewQueueResponse* response) override;
  grpc::ServerUnaryReactor* ReviewLink(
      grpc::CallbackServerContext* context,
      const v1::ReviewLinkRequest* request,
      v1::ReviewLinkResponse* response) override;
  grpc::ServerUnaryReactor* ListLinks(grpc::CallbackServerContext* context,
                                      const v1::ListLinksRequest* request,
                                      v1::ListLinksResponse* response) override;

  // The RPCs without gRPC, for tests and for the handlers above. `principal`
  // is the caller's token name, empty when the server has no
  // authentication.
  absl::Status Match(const v1::MatchEntitiesRequest& request,
                     v1::MatchEntitiesResponse* response) const;
  // `shard_local`: this shard's part of a partitioned queue (`owns`).
  absl::Status ReviewQueue(const v1::ListReviewQueueRequest& request,
                           v1::ListReviewQueueResponse* response,
                           bool shard_local = false) const;
  absl::Status Review(const v1::ReviewLinkRequest& request,
                      absl::string_view principal,
                      v1::ReviewLinkResponse* response);
  absl::Status Links(const v1::ListLinksRequest& request,
                     v1::ListLinksResponse* response) const;

  // With --route: the RPCs without the metadata georisk-shard-local are
  // answered by `router` for the whole graph (routed_resolution.h); the
  // others, and everything while it is null, by this shard. Call before the
  // server starts; `router` must outlive the service.
  void RouteThrough(ResolutionCalls* router) { router_ = router; }

 private:
  absl::Time Now() const;
  // The judgement stored between a match query's entity and `candidate` (of
  // this shard), JUDGEMENT_UNSPECIFIED if none.
  absl::StatusOr<v1::Link::Judgement> ExistingJudgement(
      const std::string& query_id, const std::string& candidate) const;
  // Whether the call is the router's to answer.
  bool Routed(const grpc::CallbackServerContext& context) const;

  storage::GraphStore* const store_;
  const ResolutionIndex* const index_;
  const ResolutionServiceOptions options_;
  ResolutionCalls* router_ = nullptr;
};

// This pod's shard as the router asks it (resolution_shard.h): the service's
// own answers (the shard-local queue) and the store. Errors not about the
// request name the shard. Thread-safe; `service` and `store` must outlive
// it.
class LocalResolutionShard final : public ResolutionShard {
 public:
  LocalResolutionShard(const ResolutionService* service,
                       storage::GraphStore* store, int shard)
      : service_(service), store_(store), shard_(shard) {}

  absl::StatusOr<v1::MatchEntitiesResponse> Match(
      const v1::MatchEntitiesRequest& request) override;
  absl::StatusOr<v1::ListReviewQueueResponse> ReviewQueue(
      const v1::ListReviewQueueRequest& request) override;
  absl::StatusOr<v1::ListLinksResponse> Links(
      const v1::ListLinksRequest& request) override;
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view id) override;
  absl::StatusOr<int64_t> Apply(const std::vector<v1::Mutation>& mutations,
                                absl::string_view origin) override;

 private:
  const ResolutionService* const service_;
  storage::GraphStore* const store_;
  const int shard_;
};

}  // namespace georisk::graphstore

#endif  // GEORISK_SERVICES_GRAPHSTORE_RESOLUTION_SERVICE_H_
