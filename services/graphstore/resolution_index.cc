#include "services/graphstore/resolution_index.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "resolve/entity_party.h"
#include "services/common/log.h"

namespace georisk::graphstore {

ResolutionIndex::ResolutionIndex(
    storage::GraphStore* store,
    std::shared_ptr<const resolve::NameNormalizer> normalizer,
    ResolutionIndexOptions options)
    : store_(store),
      normalizer_(std::move(normalizer)),
      options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

ResolutionIndex::~ResolutionIndex() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool ResolutionIndex::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Status ResolutionIndex::WaitFor(int64_t sequence,
                                      absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (loaded_ && sequence_ >= sequence);
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  if (!loaded_) {
    return absl::UnavailableError("the resolution index is loading; retry");
  }
  if (sequence_ < sequence) {
    return absl::UnavailableError(
        absl::StrCat("the resolution index is at sequence ", sequence_, " of ",
                     sequence, "; retry"));
  }
  return absl::OkStatus();
}

int64_t ResolutionIndex::sequence() const {
  absl::MutexLock lock(&mu_);
  return sequence_;
}

absl::StatusOr<std::vector<resolve::Candidate>> ResolutionIndex::Match(
    const resolve::Party& query) const {
  std::shared_ptr<resolve::PartyIndex> parties;
  {
    absl::MutexLock lock(&mu_);
    if (!loaded_) {
      return absl::UnavailableError("the resolution index is loading; retry");
    }
    parties = state_.parties;
  }
  return parties->Match(query);
}

ResolutionIndex::Pair ResolutionIndex::PairOf(absl::string_view a,
                                              absl::string_view b) {
  if (b < a) std::swap(a, b);
  return {std::string(a), std::string(b)};
}

v1::Link::Judgement ResolutionIndex::JudgementOf(absl::string_view a,
                                                 absl::string_view b) const {
  absl::MutexLock lock(&mu_);
  auto it = state_.links.find(PairOf(a, b));
  return it == state_.links.end() ? v1::Link::JUDGEMENT_UNSPECIFIED
                                  : it->second.judgement();
}

void ResolutionIndex::PutLink(const v1::Link& link, State* state) {
  Pair pair = PairOf(link.entity_a(), link.entity_b());
  auto it = state->links.find(pair);
  if (it != state->links.end() && it->second.judgement() == v1::Link::UNSURE) {
    state->queue.erase({-it->second.score(), pair.first, pair.second});
  }
  if (link.judgement() == v1::Link::UNSURE) {
    state->queue.insert({-link.score(), pair.first, pair.second});
  }
  state->links[std::move(pair)] = link;
}

void ResolutionIndex::EraseLink(absl::string_view a, absl::string_view b,
                                State* state) {
  auto it = state->links.find(PairOf(a, b));
  if (it == state->links.end()) return;
  if (it->second.judgement() == v1::Link::UNSURE) {
    state->queue.erase(
        {-it->second.score(), it->first.first, it->first.second});
  }
  state->links.erase(it);
}

ResolutionIndex::QueuePage ResolutionIndex::ReviewQueue(
    const QueueFilter& filter, const std::optional<QueuePosition>& after,
    int limit) const {
  QueuePage page;
  std::optional<QueueKey> start;
  if (after.has_value()) {
    start = QueueKey{-after->score, after->entity_a, after->entity_b};
  }
  absl::MutexLock lock(&mu_);
  for (const QueueKey& key : state_.queue) {
    const double score = -std::get<0>(key);
    if (score < filter.min_score || score > filter.max_score) continue;
    if (!absl::StartsWith(std::get<1>(key), filter.id_prefix)) continue;
    if (filter.entity_a_filter && !filter.entity_a_filter(std::get<1>(key))) {
      continue;
    }
    const v1::Link& link =
        state_.links.at(Pair(std::get<1>(key), std::get<2>(key)));
    if (!absl::StartsWith(link.source(), filter.source_prefix)) continue;
    ++page.total;
    if (start.has_value() && !(*start < key)) continue;
    if (page.links.size() < static_cast<size_t>(limit)) {
      page.links.push_back(link);
    } else {
      page.more = true;
    }
  }
  return page;
}

void ResolutionIndex::Run() {
  absl::Duration backoff = options_.poll;
  while (!Stopping()) {
    absl::Status s = Load();
    if (s.ok()) {
      backoff = options_.poll;
      s = Follow();
      if (s.ok()) return;  // Stopped.
    }
    if (Stopping()) return;
    common::log::Warning("resolution index: reloading from a snapshot",
                         {{"error", s.ToString()}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
}

absl::Status ResolutionIndex::Load() {
  const absl::Time start = absl::Now();
  State fresh;
  fresh.parties =
      std::make_shared<resolve::PartyIndex>(options_.matcher, normalizer_);
  int64_t sequence = 0;
  int64_t skipped = 0;
  absl::Status s = store_->ExportSnapshot(
      [&](storage::SnapshotChunk& chunk) -> absl::Status {
        if (Stopping()) return absl::CancelledError("stopping");
        sequence = chunk.sequence;
        for (const v1::Entity& e : chunk.entities) {
          if (!fresh.parties->Upsert(resolve::PartyFromEntity(e)).ok()) {
            ++skipped;
          }
        }
        for (const v1::Link& l : chunk.links) PutLink(l, &fresh);
        return absl::OkStatus();
      },
      /*chunk_records=*/0);
  if (!s.ok()) return s;
  const size_t parties = fresh.parties->size();
  const size_t links = fresh.links.size();
  {
    absl::MutexLock lock(&mu_);
    state_ = std::move(fresh);
    sequence_ = sequence;
    loaded_ = true;
  }
  common::log::Info("resolution index loaded",
                    {{"sequence", sequence},
                     {"parties", static_cast<int64_t>(parties)},
                     {"links", static_cast<int64_t>(links)},
                     {"skipped", skipped},
                     {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}});
  return absl::OkStatus();
}

absl::Status ResolutionIndex::Follow() {
  std::shared_ptr<resolve::PartyIndex> parties;
  {
    absl::MutexLock lock(&mu_);
    parties = state_.parties;
  }
  while (!Stopping()) {
    const int64_t next = sequence() + 1;
    if (store_->WaitForSequence(next, absl::Now() + options_.poll) < next) {
      continue;
    }
    absl::StatusOr<std::vector<v1::Change>> changes =
        store_->ReadChanges(next, options_.max_changes_per_read, 0);
    if (!changes.ok()) {
      if (changes.status().code() == absl::StatusCode::kOutOfRange) {
        return changes.status();  // Trimmed past us: reload.
      }
      common::log::Warning("resolution index: reading changes failed",
                           {{"error", changes.status().ToString()}});
      absl::SleepFor(options_.poll);
      continue;
    }
    for (const v1::Change& change : *changes) {
      ApplyChange(change, parties.get());
    }
  }
  return absl::OkStatus();
}

void ResolutionIndex::ApplyChange(const v1::Change& change,
                                  resolve::PartyIndex* parties) {
  for (const v1::Mutation& m : change.mutations()) {
    switch (m.kind_case()) {
      case v1::Mutation::kUpsertEntity:
        // An entity the index cannot hold (no name, alias or valid
        // identifier) is simply not a candidate; the old version goes.
        if (!parties->Upsert(resolve::PartyFromEntity(m.upsert_entity()))
                 .ok()) {
          parties->Remove(m.upsert_entity().id()).IgnoreError();
        }
        break;
      case v1::Mutation::kDeleteEntityId:
        parties->Remove(m.delete_entity_id()).IgnoreError();  // NOT_FOUND.
        break;
      case v1::Mutation::kUpsertLink: {
        absl::MutexLock lock(&mu_);
        PutLink(m.upsert_link(), &state_);
        break;
      }
      case v1::Mutation::kDeleteLink: {
        absl::MutexLock lock(&mu_);
        EraseLink(m.delete_link().entity_a(), m.delete_link().entity_b(),
                  &state_);
        break;
      }
      default:
        break;  // Edges and signals do not resolve.
    }
  }
  absl::MutexLock lock(&mu_);
  sequence_ = change.sequence();
}

}  // namespace georisk::graphstore
