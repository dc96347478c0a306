#include "services/ingest/import_resolver.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "domain/validation.h"

namespace georisk::ingest {
namespace {

// What became of an entity's candidates, best first.
enum class Category {
  kLinkedAutomatically,
  kAlreadyLinked,
  kWaitingForReview,
  kKeptRefused,
  kNewParty,
};

// Whether a failed match means the next ones would fail the same way.
bool StopsTheBatch(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

std::string MatchFailure(const absl::Status& s) {
  std::string reason = absl::StrCat(
      "Resolution.MatchEntities: ", absl::StatusCodeToString(s.code()), ": ",
      s.message());
  if (s.code() == absl::StatusCode::kUnimplemented) {
    absl::StrAppend(&reason, " (graphstore runs without --resolution)");
  }
  return reason;
}

v1::MatchQuery QueryOf(const v1::Entity& entity) {
  v1::MatchQuery q;
  q.set_kind(entity.kind());
  q.set_name(entity.name());
  *q.mutable_aliases() = entity.aliases();
  q.set_country(entity.country());
  *q.mutable_identifiers() = entity.identifiers();
  q.set_entity_id(entity.id());
  return q;
}

// The pair in stored order (entity_a < entity_b).
std::pair<std::string, std::string> PairOf(const std::string& a,
                                           const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

struct Entry {
  // Index of the record in the batch.
  size_t record = 0;
  Category category = Category::kNewParty;
  // Indexes into the link mutations this entity needs written.
  std::vector<size_t> links;
};

}  // namespace

ImportResolver::ImportResolver(ResolutionClient* client,
                               ResolverOptions options)
    : client_(client), options_(std::move(options)) {}

absl::Time ImportResolver::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

ResolveResult ImportResolver::Resolve(const std::vector<PendingRecord>& batch,
                                      const BatchResult& result,
                                      absl::string_view default_source,
                                      BatchApplier* applier,
                                      Cancellation* cancel) const {
  ResolveResult out;
  v1::ImportResolution& tally = out.tally;
  auto not_resolved = [&tally](const std::string& reason) {
    tally.set_not_resolved(tally.not_resolved() + 1);
    if (tally.not_resolved_reason().empty()) {
      tally.set_not_resolved_reason(reason);
    }
  };

  const absl::Time now = Now();
  std::vector<Entry> entries;
  std::vector<PendingRecord> links;
  // Pair -> index in `links`, so a pair named twice in a batch is written
  // once (POSITIVE wins over UNSURE).
  absl::flat_hash_map<std::pair<std::string, std::string>, size_t> by_pair;
  std::string stopped;  // Why the rest of the batch is not tried.

  for (size_t i = 0; i < batch.size() && i < result.outcomes.size(); ++i) {
    const RecordOutcome& o = result.outcomes[i];
    if (o.rejected() || o.outcome == v1::MUTATION_OUTCOME_UNSPECIFIED) continue;
    const v1::Mutation& m = batch[i].mutation;
    if (!m.has_upsert_entity()) continue;
    const v1::Entity& entity = m.upsert_entity();
    if (!stopped.empty()) {
      not_resolved(stopped);
      continue;
    }
    v1::MatchEntitiesRequest request;
    *request.mutable_query() = QueryOf(entity);
    request.set_limit(options_.max_candidates);
    absl::StatusOr<v1::MatchEntitiesResponse> found = client_->MatchEntities(
        request, absl::Now() + options_.match_deadline, cancel);
    if (!found.ok()) {
      const std::string reason = MatchFailure(found.status());
      if (StopsTheBatch(found.status())) stopped = reason;
      not_resolved(reason);
      continue;
    }
    Entry entry;
    entry.record = i;
    bool automatic = false, already = false, review = false, refused = false;
    const std::string& source =
        entity.source().empty() ? std::string(default_source) : entity.source();
    for (const v1::MatchCandidate& c : found->candidates()) {
      if (c.entity_id() == entity.id()) continue;
      const bool auto_link = c.decision() == v1::MATCH_DECISION_AUTO_LINK;
      const v1::Link::Judgement existing = c.existing_judgement();
      if (existing == v1::Link::NEGATIVE) {
        refused = true;
        continue;
      }
      if (auto_link) {
        automatic = true;
      } else if (existing == v1::Link::POSITIVE) {
        already = true;
      } else {
        review = true;
      }
      // Already what this rule would write: nothing to do.
      if (existing == v1::Link::POSITIVE ||
          (!auto_link && existing == v1::Link::UNSURE)) {
        continue;
      }
      const v1::Link::Judgement judgement =
          auto_link ? v1::Link::POSITIVE : v1::Link::UNSURE;
      const auto pair = PairOf(entity.id(), c.entity_id());
      auto it = by_pair.find(pair);
      if (it != by_pair.end()) {
        v1::Link* prior = links[it->second].mutation.mutable_upsert_link();
        if (judgement == v1::Link::POSITIVE &&
            prior->judgement() != v1::Link::POSITIVE) {
          prior->set_judgement(v1::Link::POSITIVE);
        }
        entry.links.push_back(it->second);
        continue;
      }
      PendingRecord link_record;
      link_record.index = -1;
      v1::Link* link = link_record.mutation.mutable_upsert_link();
      link->set_entity_a(pair.first);
      link->set_entity_b(pair.second);
      link->set_judgement(judgement);
      link->set_method(c.method());
      link->set_score(c.score());
      *link->mutable_features() = c.features();
      *link->mutable_evidence() = c.evidence();
      link->set_decided_by(absl::StrCat(
          domain::kRulePrefix,
          c.method() == v1::Link::IDENTIFIER ? "identifier" : "name"));
      *link->mutable_decided_at() = base::ToProtoTime(now);
      link->set_source(source);
      by_pair.emplace(pair, links.size());
      entry.links.push_back(links.size());
      links.push_back(std::move(link_record));
    }
    entry.category = automatic ? Category::kLinkedAutomatically
                     : already ? Category::kAlreadyLinked
                     : review  ? Category::kWaitingForReview
                     : refused ? Category::kKeptRefused
                               : Category::kNewParty;
    entries.push_back(std::move(entry));
  }

  // One Apply for the batch's links. Why each link failed, if it did.
  std::vector<std::string> failed(links.size());
  if (!links.empty()) {
    const BatchResult written = applier->Apply(&links, cancel);
    out.last_sequence = written.last_sequence;
    for (size_t i = 0; i < links.size(); ++i) {
      const RecordOutcome& o = written.outcomes[i];
      if (o.rejected()) {
        failed[i] = absl::StrCat(
            "link ", links[i].mutation.upsert_link().entity_a(), " ~ ",
            links[i].mutation.upsert_link().entity_b(), " rejected: ", o.field,
            o.field.empty() ? "" : ": ", o.reason);
      } else if (o.outcome == v1::MUTATION_OUTCOME_UNSPECIFIED) {
        failed[i] = absl::StrCat("writing links: ", written.status.ToString());
      } else if (o.outcome == v1::MUTATION_OUTCOME_APPLIED) {
        tally.set_links_written(tally.links_written() + 1);
      }
    }
  }

  for (const Entry& entry : entries) {
    const std::string* failure = nullptr;
    for (size_t link : entry.links) {
      if (!failed[link].empty()) {
        failure = &failed[link];
        break;
      }
    }
    if (failure != nullptr) {
      not_resolved(*failure);
      continue;
    }
    switch (entry.category) {
      case Category::kLinkedAutomatically:
        tally.set_linked_automatically(tally.linked_automatically() + 1);
        break;
      case Category::kAlreadyLinked:
        tally.set_already_linked(tally.already_linked() + 1);
        break;
      case Category::kWaitingForReview:
        tally.set_waiting_for_review(tally.waiting_for_review() + 1);
        break;
      case Category::kKeptRefused:
        tally.set_kept_refused(tally.kept_refused() + 1);
        break;
      case Category::kNewParty:
        tally.set_new_parties(tally.new_parties() + 1);
        break;
    }
  }
  return out;
}

void AddResolution(const v1::ImportResolution& from,
                   v1::ImportResolution* into) {
  into->set_linked_automatically(into->linked_automatically() +
                                 from.linked_automatically());
  into->set_already_linked(into->already_linked() + from.already_linked());
  into->set_waiting_for_review(into->waiting_for_review() +
                               from.waiting_for_review());
  into->set_kept_refused(into->kept_refused() + from.kept_refused());
  into->set_new_parties(into->new_parties() + from.new_parties());
  into->set_not_resolved(into->not_resolved() + from.not_resolved());
  if (into->not_resolved_reason().empty()) {
    into->set_not_resolved_reason(from.not_resolved_reason());
  }
  into->set_links_written(into->links_written() + from.links_written());
}

}  // namespace georisk::ingest
