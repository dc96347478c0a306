#include "services/graphstore/resolution_service.h"

#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/proto_time.h"
#include "domain/country_codes.h"
#include "domain/paging.h"
#include "domain/validation.h"
#include "resolve/candidate_link.h"
#include "resolve/entity_party.h"
#include "services/common/rpc_edge.h"

namespace georisk::graphstore {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckName(absl::string_view name, absl::string_view field) {
  if (name.size() > domain::kMaxNameBytes) {
    return Invalid(field,
                   absl::StrCat("must be at most ", domain::kMaxNameBytes,
                                " bytes, got ", name.size()));
  }
  return absl::OkStatus();
}

absl::Status CheckScore(double score, absl::string_view field) {
  if (!(score >= 0.0 && score <= 1.0)) {
    return Invalid(field, absl::StrFormat("must be in [0, 1], got %g", score));
  }
  return absl::OkStatus();
}

// "company/" for COMPANY: the id prefix of an entity kind, by the enum's
// name so that kinds added to graph.proto need nothing here. Empty for
// KIND_UNSPECIFIED.
std::string IdPrefixOf(v1::Entity::Kind kind) {
  if (kind == v1::Entity::KIND_UNSPECIFIED) return "";
  return absl::StrCat(absl::AsciiStrToLower(v1::Entity::Kind_Name(kind)), "/");
}

absl::Status CheckKind(int kind, absl::string_view field) {
  if (!v1::Entity::Kind_IsValid(kind)) {
    return Invalid(field, absl::StrCat("unknown entity kind ", kind));
  }
  return absl::OkStatus();
}

bool IsSchemeChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
}

bool IsReviewerChar(char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '@' || c == '-';
}

// The review queue's page token: the filters and the last link of the page,
// so a token is refused with other filters. Web-safe base64 of
// "q1" 00 source 00 min 00 max 00 kind 00 score 00 entity_a 00 entity_b.
std::string FilterText(const v1::ListReviewQueueRequest& r) {
  return absl::StrCat(
      r.source(), std::string(1, '\0'), absl::StrFormat("%.17g", r.min_score()),
      std::string(1, '\0'), absl::StrFormat("%.17g", r.max_score()),
      std::string(1, '\0'), r.kind());
}

std::string EncodeQueueToken(const v1::ListReviewQueueRequest& r,
                             const v1::Link& last) {
  const std::string nul(1, '\0');
  return absl::WebSafeBase64Escape(absl::StrCat(
      "q1", nul, FilterText(r), nul, absl::StrFormat("%.17g", last.score()),
      nul, last.entity_a(), nul, last.entity_b()));
}

absl::StatusOr<ResolutionIndex::QueuePosition> DecodeQueueToken(
    const v1::ListReviewQueueRequest& r) {
  std::string raw;
  const absl::Status malformed = Invalid("page_token", "malformed");
  if (!absl::WebSafeBase64Unescape(r.page_token(), &raw)) return malformed;
  std::vector<std::string> parts = absl::StrSplit(raw, '\0');
  if (parts.size() != 8 || parts[0] != "q1") return malformed;
  if (absl::StrJoin(parts.begin() + 1, parts.begin() + 5,
                    std::string(1, '\0')) != FilterText(r)) {
    return Invalid("page_token", "belongs to other filters");
  }
  ResolutionIndex::QueuePosition position;
  if (!absl::SimpleAtod(parts[5], &position.score)) return malformed;
  position.entity_a = std::move(parts[6]);
  position.entity_b = std::move(parts[7]);
  return position;
}

std::string PrincipalOf(const grpc::CallbackServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> principal =
      auth->FindPropertyValues("georisk_principal");
  if (principal.empty()) return "";
  return std::string(principal.front().data(), principal.front().size());
}

}  // namespace

absl::StatusOr<resolve::Party> PartyFromQuery(const v1::MatchQuery& q) {
  absl::Status s = CheckKind(q.kind(), "query.kind");
  if (!s.ok()) return s;
  s = CheckName(q.name(), "query.name");
  if (!s.ok()) return s;
  if (q.aliases_size() > kMaxQueryAliases) {
    return Invalid("query.aliases",
                   absl::StrCat("must have at most ", kMaxQueryAliases,
                                " names, got ", q.aliases_size()));
  }
  for (int i = 0; i < q.aliases_size(); ++i) {
    s = CheckName(q.aliases(i), absl::StrCat("query.aliases[", i, "]"));
    if (!s.ok()) return s;
  }
  if (!q.country().empty() && !domain::IsIso3166Alpha2(q.country())) {
    return Invalid(
        "query.country",
        absl::StrCat("must be an ISO 3166-1 alpha-2 code, got \"",
                     absl::CHexEscape(q.country().substr(0, 16)), "\""));
  }
  if (q.identifiers_size() > kMaxQueryIdentifiers) {
    return Invalid("query.identifiers",
                   absl::StrCat("must have at most ", kMaxQueryIdentifiers,
                                " entries, got ", q.identifiers_size()));
  }
  for (const auto& [scheme, value] : q.identifiers()) {
    const std::string field = absl::StrCat(
        "query.identifiers[\"", absl::CHexEscape(scheme.substr(0, 64)), "\"]");
    if (scheme.empty() || scheme.size() > 64 ||
        !std::all_of(scheme.begin(), scheme.end(), IsSchemeChar)) {
      return Invalid(field, "scheme must match [a-z0-9_]{1,64}");
    }
    if (absl::StripAsciiWhitespace(value).empty()) {
      return Invalid(field, "value is required");
    }
    if (value.size() > kMaxIdentifierValueBytes) {
      return Invalid(field, absl::StrCat("value must be at most ",
                                         kMaxIdentifierValueBytes, " bytes"));
    }
  }
  bool any_name = !absl::StripAsciiWhitespace(q.name()).empty();
  for (const std::string& alias : q.aliases()) {
    any_name = any_name || !absl::StripAsciiWhitespace(alias).empty();
  }
  if (!any_name && q.identifiers().empty()) {
    return Invalid("query.name",
                   "is required unless aliases or identifiers are given");
  }
  if (!q.entity_id().empty()) {
    s = domain::ValidateId(q.entity_id(), domain::IdKind::kEntity,
                           "query.entity_id");
    if (!s.ok()) return s;
  }
  v1::Entity entity;
  entity.set_id(q.entity_id());
  entity.set_kind(q.kind());
  entity.set_name(q.name());
  *entity.mutable_aliases() = q.aliases();
  entity.set_country(q.country());
  *entity.mutable_identifiers() = q.identifiers();
  return resolve::PartyFromEntity(entity);
}

ResolutionService::ResolutionService(storage::GraphStore* store,
                                     const ResolutionIndex* index,
                                     ResolutionServiceOptions options)
    : store_(store), index_(index), options_(std::move(options)) {}

absl::StatusOr<v1::Link::Judgement> ResolutionService::ExistingJudgement(
    const std::string& query_id, const std::string& candidate) const {
  if (!options_.owns) return index_->JudgementOf(query_id, candidate);
  // A shard's index is loaded from its export, which holds a link across
  // shards only on the shard of its smaller id: the copy this shard holds
  // under its candidate is read from the store.
  absl::StatusOr<v1::Link> link = store_->GetLink(query_id, candidate);
  if (absl::IsNotFound(link.status())) return v1::Link::JUDGEMENT_UNSPECIFIED;
  if (!link.ok()) return link.status();
  return link->judgement();
}

absl::Time ResolutionService::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::StatusOr<resolve::Party> CheckMatchRequest(
    const v1::MatchEntitiesRequest& request) {
  if (!request.has_query()) return Invalid("query", "is required");
  absl::StatusOr<resolve::Party> party = PartyFromQuery(request.query());
  if (!party.ok()) return party.status();
  if (request.limit() < 0 || request.limit() > kMaxMatchLimit) {
    return Invalid("limit", absl::StrCat("must be in [0, ", kMaxMatchLimit,
                                         "], got ", request.limit()));
  }
  absl::Status s = CheckScore(request.min_score(), "min_score");
  if (!s.ok()) return s;
  return party;
}

absl::StatusOr<ResolutionIndex::QueueFilter> CheckQueueRequest(
    const v1::ListReviewQueueRequest& request) {
  absl::Status s = CheckScore(request.min_score(), "min_score");
  if (!s.ok()) return s;
  s = CheckScore(request.max_score(), "max_score");
  if (!s.ok()) return s;
  const double max_score = request.max_score() == 0 ? 1.0 : request.max_score();
  if (request.min_score() > max_score) {
    return Invalid("min_score",
                   absl::StrFormat("must be <= max_score (%g), got %g",
                                   max_score, request.min_score()));
  }
  s = CheckKind(request.kind(), "kind");
  if (!s.ok()) return s;
  absl::StatusOr<int> limit = domain::PageSize(request.page_size());
  if (!limit.ok()) return limit.status();
  ResolutionIndex::QueueFilter filter;
  filter.source_prefix = request.source();
  filter.min_score = request.min_score();
  filter.max_score = max_score;
  filter.id_prefix = IdPrefixOf(request.kind());
  return filter;
}

std::string QueueFilterText(const v1::ListReviewQueueRequest& request) {
  return FilterText(request);
}

absl::StatusOr<std::string> CheckReviewRequest(
    const v1::ReviewLinkRequest& request, absl::string_view principal) {
  if (!request.has_link()) return Invalid("link", "is required");
  absl::Status s = domain::ValidateLinkKey(request.link(), "link");
  if (!s.ok()) return s;
  switch (request.decision()) {
    case v1::ReviewLinkRequest::ACCEPT:
    case v1::ReviewLinkRequest::REJECT:
      break;
    case v1::ReviewLinkRequest::DECISION_UNSPECIFIED:
      return Invalid("decision", "is required (ACCEPT or REJECT)");
    default:
      return Invalid("decision",
                     absl::StrCat("unknown decision ", request.decision()));
  }
  const bool accept = request.decision() == v1::ReviewLinkRequest::ACCEPT;
  if (request.reason().size() > domain::kMaxEvidenceBytes) {
    return Invalid("reason",
                   absl::StrCat("must be at most ", domain::kMaxEvidenceBytes,
                                " bytes, got ", request.reason().size()));
  }
  if (!accept && absl::StripAsciiWhitespace(request.reason()).empty()) {
    return Invalid("reason", "is required to reject");
  }
  if (!principal.empty()) {
    if (!request.reviewer().empty() && request.reviewer() != principal) {
      return absl::PermissionDeniedError(
          absl::StrCat("reviewer: the caller's token is ", principal,
                       "'s; it may not review as ", request.reviewer()));
    }
    return std::string(principal);
  }
  if (request.reviewer().empty()) {
    return Invalid("reviewer",
                   "is required when the server has no authentication");
  }
  if (request.reviewer().size() > 128 ||
      !std::all_of(request.reviewer().begin(), request.reviewer().end(),
                   IsReviewerChar)) {
    return Invalid("reviewer", "must match [A-Za-z0-9._@-]{1,128}");
  }
  return request.reviewer();
}

absl::StatusOr<ReviewPlan> PlanReview(const absl::StatusOr<v1::Link>& stored,
                                      const v1::ReviewLinkRequest& request,
                                      absl::string_view reviewer,
                                      absl::Time now) {
  const std::string& a = request.link().entity_a();
  const std::string& b = request.link().entity_b();
  const bool accept = request.decision() == v1::ReviewLinkRequest::ACCEPT;
  ReviewPlan plan;
  v1::Link* link = &plan.link;
  const v1::Link::Judgement judgement =
      accept ? v1::Link::POSITIVE : v1::Link::NEGATIVE;
  if (stored.ok() && stored->judgement() == judgement &&
      absl::StartsWith(stored->decided_by(), domain::kReviewerPrefix)) {
    // A reviewer already decided so: nothing to write (a second accept would
    // only rewrite the reviewer, the time and the reason, and put a commit
    // in every follower's change log).
    plan.already_decided = true;
    plan.link = *stored;
    return plan;
  }
  if (stored.ok()) {
    *link = *stored;  // Keeps the candidate's evidence.
    link->clear_update_sequence();
  } else if (absl::IsNotFound(stored.status())) {
    if (!request.allow_manual()) {
      return absl::NotFoundError(
          absl::StrCat("link: no link between ", a, " and ", b,
                       "; set allow_manual to link them by hand"));
    }
    link->set_entity_a(a);
    link->set_entity_b(b);
    link->set_method(v1::Link::MANUAL);
    link->set_source(absl::StrCat("review by ", reviewer));
  } else {
    return stored.status();
  }
  link->set_judgement(judgement);
  link->set_decided_by(absl::StrCat(domain::kReviewerPrefix, reviewer));
  *link->mutable_decided_at() = base::ToProtoTime(now);
  link->set_reason(request.reason());
  return plan;
}

absl::Status ReviewWriteError(const absl::Status& status) {
  // "mutations[0].upsert_link.x: ..." names a field of the link sent.
  absl::string_view message = status.message();
  if (absl::ConsumePrefix(&message, "mutations[0].upsert_link.")) {
    return absl::Status(status.code(), absl::StrCat("link.", message));
  }
  return status;
}

absl::Status ResolutionService::Match(
    const v1::MatchEntitiesRequest& request,
    v1::MatchEntitiesResponse* response) const {
  absl::StatusOr<resolve::Party> party = CheckMatchRequest(request);
  if (!party.ok()) return party.status();
  const int limit = request.limit() == 0 ? kDefaultMatchLimit : request.limit();

  absl::Status s = index_->WaitFor(store_->LastSequence(),
                                   absl::Now() + options_.catch_up_timeout);
  if (!s.ok()) return s;
  response->set_sequence(index_->sequence());
  absl::StatusOr<std::vector<resolve::Candidate>> found = index_->Match(*party);
  if (!found.ok()) {
    if (found.status().code() == absl::StatusCode::kInvalidArgument) {
      // Only identifiers that fail their checks, and no name.
      return Invalid("query.identifiers",
                     "no identifier passes its scheme's check, and there is "
                     "no name to match");
    }
    return found.status();
  }
  for (const resolve::Candidate& c : *found) {
    if (response->candidates_size() == limit) break;
    if (c.score < request.min_score()) continue;
    absl::StatusOr<v1::Entity> entity = store_->GetEntity(c.id);
    if (absl::IsNotFound(entity.status())) continue;  // Deleted meanwhile.
    if (!entity.ok()) return entity.status();
    v1::MatchCandidate* out = response->add_candidates();
    out->set_entity_id(c.id);
    out->set_name(entity->name());
    out->set_kind(entity->kind());
    out->set_country(entity->country());
    out->set_score(c.score);
    out->set_method(resolve::MethodOf(c));
    for (const auto& [name, value] : resolve::FeaturesOf(c)) {
      (*out->mutable_features())[name] = value;
    }
    out->add_evidence(c.evidence);
    out->set_decision(c.decision == resolve::Decision::kAutoLink
                          ? v1::MATCH_DECISION_AUTO_LINK
                          : v1::MATCH_DECISION_REVIEW);
    if (!request.query().entity_id().empty()) {
      absl::StatusOr<v1::Link::Judgement> judgement =
          ExistingJudgement(request.query().entity_id(), c.id);
      if (!judgement.ok()) return judgement.status();
      out->set_existing_judgement(*judgement);
    }
  }
  return absl::OkStatus();
}

absl::Status ResolutionService::ReviewQueue(
    const v1::ListReviewQueueRequest& request,
    v1::ListReviewQueueResponse* response, bool shard_local) const {
  absl::StatusOr<ResolutionIndex::QueueFilter> filter =
      CheckQueueRequest(request);
  if (!filter.ok()) return filter.status();
  if (shard_local) filter->entity_a_filter = options_.owns;
  absl::StatusOr<int> limit = domain::PageSize(request.page_size());
  if (!limit.ok()) return limit.status();
  std::optional<ResolutionIndex::QueuePosition> after;
  if (!request.page_token().empty()) {
    absl::StatusOr<ResolutionIndex::QueuePosition> position =
        DecodeQueueToken(request);
    if (!position.ok()) return position.status();
    after = *std::move(position);
  }
  absl::Status s = index_->WaitFor(store_->LastSequence(),
                                   absl::Now() + options_.catch_up_timeout);
  if (!s.ok()) return s;
  ResolutionIndex::QueuePage page = index_->ReviewQueue(*filter, after, *limit);
  for (v1::Link& link : page.links) *response->add_links() = std::move(link);
  response->set_total_size(page.total);
  if (page.more && response->links_size() > 0) {
    response->set_next_page_token(
        EncodeQueueToken(request, response->links(response->links_size() - 1)));
  }
  return absl::OkStatus();
}

absl::Status ResolutionService::Review(const v1::ReviewLinkRequest& request,
                                       absl::string_view principal,
                                       v1::ReviewLinkResponse* response) {
  absl::StatusOr<std::string> reviewer = CheckReviewRequest(request, principal);
  if (!reviewer.ok()) return reviewer.status();
  const std::string& a = request.link().entity_a();
  const std::string& b = request.link().entity_b();
  for (const std::string* id : {&a, &b}) {
    absl::StatusOr<v1::Entity> entity = store_->GetEntity(*id);
    if (absl::IsNotFound(entity.status())) {
      return absl::NotFoundError(
          absl::StrCat(id == &a ? "link.entity_a" : "link.entity_b",
                       ": entity ", *id, " does not exist"));
    }
    if (!entity.ok()) return entity.status();
  }

  absl::StatusOr<ReviewPlan> plan =
      PlanReview(store_->GetLink(a, b), request, *reviewer, Now());
  if (!plan.ok()) return plan.status();
  if (plan->already_decided) {
    response->set_sequence(plan->link.update_sequence());
    response->set_already_decided(true);
    *response->mutable_link() = std::move(plan->link);
    return absl::OkStatus();
  }
  v1::Mutation m;
  *m.mutable_upsert_link() = std::move(plan->link);
  absl::StatusOr<storage::ApplyResult> applied =
      store_->Apply(std::vector<v1::Mutation>{m}, "resolution");
  if (!applied.ok()) return ReviewWriteError(applied.status());
  // The write is durable; the index catching up is only waited for.
  index_->WaitFor(applied->sequence, absl::Now() + options_.catch_up_timeout)
      .IgnoreError();
  absl::StatusOr<v1::Link> written = store_->GetLink(a, b);
  if (!written.ok()) return written.status();
  *response->mutable_link() = *std::move(written);
  response->set_sequence(applied->sequence);
  return absl::OkStatus();
}

absl::Status ResolutionService::Links(const v1::ListLinksRequest& request,
                                      v1::ListLinksResponse* response) const {
  if (request.entity_id().empty()) return Invalid("entity_id", "is required");
  storage::LinkQuery query;
  query.entity_id = request.entity_id();
  query.judgement = request.judgement();
  query.page_size = request.page_size();
  query.page_token = request.page_token();
  absl::StatusOr<storage::LinkPage> page = store_->ListLinks(query);
  if (!page.ok()) return page.status();
  for (v1::Link& link : page->links) *response->add_links() = std::move(link);
  response->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
}

bool ResolutionService::Routed(
    const grpc::CallbackServerContext& context) const {
  return router_ != nullptr &&
         context.client_metadata().count(common::kShardLocalMetadata) == 0;
}

grpc::ServerUnaryReactor* ResolutionService::MatchEntities(
    grpc::CallbackServerContext* context,
    const v1::MatchEntitiesRequest* request,
    v1::MatchEntitiesResponse* response) {
  return common::FinishUnary(context, Routed(*context)
                                          ? router_->Match(*request, response)
                                          : Match(*request, response));
}

grpc::ServerUnaryReactor* ResolutionService::ListReviewQueue(
    grpc::CallbackServerContext* context,
    const v1::ListReviewQueueRequest* request,
    v1::ListReviewQueueResponse* response) {
  if (Routed(*context)) {
    return common::FinishUnary(context,
                               router_->ReviewQueue(*request, response));
  }
  const bool shard_local =
      context->client_metadata().count(common::kShardLocalMetadata) > 0;
  return common::FinishUnary(context,
                             ReviewQueue(*request, response, shard_local));
}

grpc::ServerUnaryReactor* ResolutionService::ReviewLink(
    grpc::CallbackServerContext* context, const v1::ReviewLinkRequest* request,
    v1::ReviewLinkResponse* response) {
  const std::string principal = PrincipalOf(*context);
  return common::FinishUnary(
      context, Routed(*context) ? router_->Review(*request, principal, response)
                                : Review(*request, principal, response));
}

grpc::ServerUnaryReactor* ResolutionService::ListLinks(
    grpc::CallbackServerContext* context, const v1::ListLinksRequest* request,
    v1::ListLinksResponse* response) {
  return common::FinishUnary(context, Routed(*context)
                                          ? router_->Links(*request, response)
                                          : Links(*request, response));
}

absl::StatusOr<v1::MatchEntitiesResponse> LocalResolutionShard::Match(
    const v1::MatchEntitiesRequest& request) {
  v1::MatchEntitiesResponse response;
  absl::Status s = service_->Match(request, &response);
  if (!s.ok()) return ShardAnswer(s, shard_);
  return response;
}

absl::StatusOr<v1::ListReviewQueueResponse> LocalResolutionShard::ReviewQueue(
    const v1::ListReviewQueueRequest& request) {
  v1::ListReviewQueueResponse response;
  absl::Status s =
      service_->ReviewQueue(request, &response, /*shard_local=*/true);
  if (!s.ok()) return ShardAnswer(s, shard_);
  return response;
}

absl::StatusOr<v1::ListLinksResponse> LocalResolutionShard::Links(
    const v1::ListLinksRequest& request) {
  v1::ListLinksResponse response;
  absl::Status s = service_->Links(request, &response);
  if (!s.ok()) return ShardAnswer(s, shard_);
  return response;
}

absl::StatusOr<v1::Entity> LocalResolutionShard::GetEntity(
    absl::string_view id) {
  absl::StatusOr<v1::Entity> entity = store_->GetEntity(id);
  if (!entity.ok()) return ShardAnswer(entity.status(), shard_);
  return entity;
}

absl::StatusOr<int64_t> LocalResolutionShard::Apply(
    const std::vector<v1::Mutation>& mutations, absl::string_view origin) {
  absl::StatusOr<storage::ApplyResult> applied =
      store_->Apply(mutations, origin);
  if (!applied.ok()) return ShardAnswer(applied.status(), shard_);
  return applied->sequence;
}

}  // namespace georisk::graphstore
