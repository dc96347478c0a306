#include "services/ingest/shard_router.h"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "services/common/shard_status.h"

namespace georisk::ingest {
namespace {

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable ||
         code == absl::StatusCode::kDeadlineExceeded;
}

// `s` prefixed with the shard's name, which it also records for the retry
// hint (services/common/shard_status.h).
absl::Status NameShard(int shard, const absl::Status& s) {
  return common::FromShard(s, storage::ShardName(shard));
}

// The mutation that deletes `copy` of the edge `key`, forgetting
// `release_key` (when not empty).
v1::Mutation DeleteCopy(const v1::EdgeKey& key, v1::EdgeCopy copy,
                        const std::string& release_key) {
  v1::Mutation m;
  *m.mutable_delete_edge() = key;
  m.set_edge_copy(copy);
  if (!release_key.empty()) m.set_release_idempotency_key(release_key);
  return m;
}

bool IsLink(const v1::Mutation& m) {
  return m.has_upsert_link() || m.has_delete_link();
}

// The mutation that undoes `copy` written by the upsert `m` (an edge's or a
// link's), forgetting m's idempotency key.
v1::Mutation UndoCopy(const v1::Mutation& m, v1::EdgeCopy copy);

v1::EdgeKey KeyOf(const v1::Mutation& m) {
  if (m.has_delete_edge()) return m.delete_edge();
  const v1::Edge& e = m.upsert_edge();
  v1::EdgeKey key;
  key.set_from_id(e.from_id());
  key.set_kind(e.kind());
  key.set_to_id(e.to_id());
  key.set_product_code(e.product_code());
  key.set_record_id(e.record_id());
  return key;
}

v1::Mutation UndoCopy(const v1::Mutation& m, v1::EdgeCopy copy) {
  if (!m.has_upsert_link()) {
    return DeleteCopy(KeyOf(m), copy, m.idempotency_key());
  }
  v1::Mutation undo;
  undo.mutable_delete_link()->set_entity_a(m.upsert_link().entity_a());
  undo.mutable_delete_link()->set_entity_b(m.upsert_link().entity_b());
  undo.set_edge_copy(copy);
  if (!m.idempotency_key().empty()) {
    undo.set_release_idempotency_key(m.idempotency_key());
  }
  return undo;
}

bool Accepted(v1::MutationOutcome o) {
  return o == v1::MUTATION_OUTCOME_APPLIED ||
         o == v1::MUTATION_OUTCOME_DUPLICATE ||
         o == v1::MUTATION_OUTCOME_UNCHANGED;
}

// A shard's error naming "mutations[j]" of its part, renamed to the batch's
// index of that mutation (the part began at batch index `begin`).
absl::Status ToBatchIndex(const absl::Status& s,
                          const std::vector<std::vector<RoutedMutation>>& parts,
                          int begin) {
  absl::string_view message = s.message();
  int shard = 0;
  int j = 0;
  if (!absl::ConsumePrefix(&message, "graphstore-")) return s;
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, colon), &shard) || shard < 0 ||
      shard >= static_cast<int>(parts.size())) {
    return s;
  }
  message.remove_prefix(colon + 2);
  if (!absl::ConsumePrefix(&message, "mutations[")) return s;
  const size_t close = message.find(']');
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, close), &j) || j < 0 ||
      j >= static_cast<int>(parts[shard].size())) {
    return s;
  }
  message.remove_prefix(close + 1);
  return absl::Status(
      s.code(), absl::StrCat(storage::ShardName(shard), ": mutations[",
                             begin + parts[shard][j].index, "]", message));
}

}  // namespace

int ShardOfMutation(const storage::PartitionMap& map, const v1::Mutation& m,
                    v1::EdgeCopy end) {
  switch (m.kind_case()) {
    case v1::Mutation::kUpsertEntity:
      return map.ShardOf(m.upsert_entity().id());
    case v1::Mutation::kDeleteEntityId:
      return map.ShardOf(m.delete_entity_id());
    case v1::Mutation::kUpsertEdge:
      return map.ShardOf(end == v1::EDGE_COPY_IN ? m.upsert_edge().to_id()
                                                 : m.upsert_edge().from_id());
    case v1::Mutation::kDeleteEdge:
      return map.ShardOf(end == v1::EDGE_COPY_IN ? m.delete_edge().to_id()
                                                 : m.delete_edge().from_id());
    case v1::Mutation::kUpsertSignal:
      return map.ShardOf(m.upsert_signal().id());
    case v1::Mutation::kDeleteSignalId:
      return map.ShardOf(m.delete_signal_id());
    case v1::Mutation::kUpsertLink:
      return map.ShardOf(end == v1::EDGE_COPY_IN ? m.upsert_link().entity_b()
                                                 : m.upsert_link().entity_a());
    case v1::Mutation::kDeleteLink:
      return map.ShardOf(end == v1::EDGE_COPY_IN ? m.delete_link().entity_b()
                                                 : m.delete_link().entity_a());
    case v1::Mutation::KIND_NOT_SET:
      return 0;  // Shard 0 refuses it as any store would.
  }
  return 0;
}

std::vector<std::vector<RoutedMutation>> SplitByShard(
    const storage::PartitionMap& map,
    absl::Span<const v1::Mutation> mutations) {
  std::vector<const v1::Mutation*> pointers;
  pointers.reserve(mutations.size());
  for (const v1::Mutation& m : mutations) pointers.push_back(&m);
  return SplitByShard(map, pointers);
}

std::vector<std::vector<RoutedMutation>> SplitByShard(
    const storage::PartitionMap& map,
    absl::Span<const v1::Mutation* const> mutations) {
  std::vector<std::vector<RoutedMutation>> parts(map.shard_count());
  for (size_t i = 0; i < mutations.size(); ++i) {
    const v1::Mutation& m = *mutations[i];
    const int index = static_cast<int>(i);
    const bool pair = m.has_upsert_edge() || m.has_delete_edge() || IsLink(m);
    if (!pair || m.edge_copy() != v1::EDGE_COPY_BOTH) {
      parts[ShardOfMutation(map, m, m.edge_copy())].push_back(
          {index, v1::EDGE_COPY_BOTH, m});
      continue;
    }
    const int from = ShardOfMutation(map, m, v1::EDGE_COPY_OUT);
    const int to = ShardOfMutation(map, m, v1::EDGE_COPY_IN);
    if (from == to) {
      parts[from].push_back({index, v1::EDGE_COPY_BOTH, m});
      continue;
    }
    for (v1::EdgeCopy copy : {v1::EDGE_COPY_OUT, v1::EDGE_COPY_IN}) {
      RoutedMutation routed{index, copy, m};
      routed.mutation.set_edge_copy(copy);
      if (!m.idempotency_key().empty()) {
        routed.mutation.set_idempotency_key(absl::StrCat(
            m.idempotency_key(), copy == v1::EDGE_COPY_OUT ? "/out" : "/in"));
      }
      parts[copy == v1::EDGE_COPY_OUT ? from : to].push_back(std::move(routed));
    }
  }
  return parts;
}

v1::MutationOutcome MergeCopyOutcomes(v1::MutationOutcome out,
                                      v1::MutationOutcome in) {
  if (!Accepted(out) || !Accepted(in)) {
    return out == v1::MUTATION_OUTCOME_UNSPECIFIED ||
                   in == v1::MUTATION_OUTCOME_UNSPECIFIED
               ? v1::MUTATION_OUTCOME_UNSPECIFIED
               : v1::MUTATION_OUTCOME_REJECTED;
  }
  if (out == v1::MUTATION_OUTCOME_APPLIED ||
      in == v1::MUTATION_OUTCOME_APPLIED) {
    return v1::MUTATION_OUTCOME_APPLIED;
  }
  if (out == v1::MUTATION_OUTCOME_DUPLICATE &&
      in == v1::MUTATION_OUTCOME_DUPLICATE) {
    return v1::MUTATION_OUTCOME_DUPLICATE;
  }
  return v1::MUTATION_OUTCOME_UNCHANGED;
}

absl::StatusOr<std::unique_ptr<ShardedClient>> ShardedClient::Create(
    storage::PartitionMap map,
    std::vector<std::unique_ptr<GraphStoreClient>> shards) {
  if (static_cast<int>(shards.size()) != map.shard_count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the partition map has ", map.shard_count(),
                     " shards but ", shards.size(), " graphstore targets"));
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i] == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no client for shard ", storage::ShardName(i)));
    }
  }
  return std::unique_ptr<ShardedClient>(
      new ShardedClient(std::move(map), std::move(shards)));
}

ShardedClient::ShardedClient(
    storage::PartitionMap map,
    std::vector<std::unique_ptr<GraphStoreClient>> shards)
    : map_(std::move(map)),
      shards_(std::move(shards)),
      sequences_(shards_.size()),
      pending_(shards_.size()) {}

void ShardedClient::NoteSequence(int shard, int64_t sequence) {
  int64_t seen = sequences_[shard].load();
  while (sequence > seen &&
         !sequences_[shard].compare_exchange_weak(seen, sequence)) {
  }
}

int64_t ShardedClient::SequenceSum() const {
  int64_t sum = 0;
  for (const std::atomic<int64_t>& s : sequences_) sum += s.load();
  return sum;
}

int ShardedClient::pending_remote_deletes() const {
  absl::MutexLock lock(&pending_mu_);
  int n = 0;
  for (const v1::ApplyRequest& r : pending_) n += r.mutations_size();
  return n;
}

absl::StatusOr<std::vector<v1::ApplyResponse>> ShardedClient::ApplyToShards(
    const std::vector<v1::ApplyRequest>& requests, absl::Time deadline,
    Cancellation* cancel) {
  const int n = static_cast<int>(shards_.size());
  std::vector<absl::StatusOr<v1::ApplyResponse>> answers(
      n, absl::StatusOr<v1::ApplyResponse>(v1::ApplyResponse()));
  std::vector<int> busy;
  for (int s = 0; s < n; ++s) {
    if (requests[s].mutations_size() > 0) busy.push_back(s);
  }
  auto call = [&](int s) {
    // One Cancellation has one hook: each shard's call gets its own,
    // cancelled when `cancel` is (checked before the call).
    answers[s] = shards_[s]->Apply(requests[s], deadline, nullptr);
  };
  if (cancel != nullptr && cancel->cancelled()) {
    return absl::CancelledError("ingest stream cancelled");
  }
  if (busy.size() == 1) {
    answers[busy[0]] =
        shards_[busy[0]]->Apply(requests[busy[0]], deadline, cancel);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(busy.size());
    for (int s : busy) threads.emplace_back(call, s);
    for (std::thread& t : threads) t.join();
  }
  absl::Status failed;
  std::vector<v1::ApplyResponse> out(n);
  for (int s : busy) {
    if (!answers[s].ok()) {
      const absl::Status named = NameShard(s, answers[s].status());
      if (failed.ok() ||
          (Retryable(failed.code()) && !Retryable(named.code()))) {
        failed = named;
      }
      continue;
    }
    NoteSequence(s, answers[s]->sequence());
    out[s] = *std::move(answers[s]);
  }
  if (!failed.ok()) return failed;
  return out;
}

absl::Status ShardedClient::FlushRemoteDeletes(absl::Time deadline,
                                               Cancellation* cancel) {
  std::vector<v1::ApplyRequest> requests;
  {
    absl::MutexLock lock(&pending_mu_);
    bool any = false;
    for (const v1::ApplyRequest& r : pending_) any |= r.mutations_size() > 0;
    if (!any) return absl::OkStatus();
    requests.swap(pending_);
    pending_.resize(shards_.size());
  }
  absl::StatusOr<std::vector<v1::ApplyResponse>> done =
      ApplyToShards(requests, deadline, cancel);
  if (done.ok()) return absl::OkStatus();
  // Put them back (deletes are idempotent: a shard that did commit its
  // part answers UNCHANGED next time).
  absl::MutexLock lock(&pending_mu_);
  for (size_t s = 0; s < requests.size(); ++s) {
    for (v1::Mutation& m : *requests[s].mutable_mutations()) {
      *pending_[s].add_mutations() = std::move(m);
    }
    pending_[s].set_origin(requests[s].origin());
  }
  return absl::Status(done.status().code(),
                      absl::StrCat("deleting the copies other shards hold of "
                                   "a deleted entity's edges: ",
                                   done.status().message()));
}

absl::Status ShardedClient::ApplySegment(
    const v1::ApplyRequest& request, int begin, int end, absl::Time deadline,
    Cancellation* cancel, v1::ApplyResponse* response,
    std::vector<v1::ApplyRequest>* cascades) {
  std::vector<const v1::Mutation*> segment;
  segment.reserve(end - begin);
  for (int i = begin; i < end; ++i) segment.push_back(&request.mutations(i));
  std::vector<std::vector<RoutedMutation>> parts = SplitByShard(map_, segment);
  const int n = static_cast<int>(shards_.size());
  std::vector<v1::ApplyRequest> requests(n);
  for (int s = 0; s < n; ++s) {
    requests[s].set_origin(request.origin());
    requests[s].set_reject_invalid(request.reject_invalid());
    for (RoutedMutation& r : parts[s]) {
      *requests[s].add_mutations() = r.mutation;
    }
  }
  absl::StatusOr<std::vector<v1::ApplyResponse>> answers =
      ApplyToShards(requests, deadline, cancel);
  if (!answers.ok()) return ToBatchIndex(answers.status(), parts, begin);

  // Per record of the segment: its outcome, or both copies'.
  struct Copy {
    v1::MutationOutcome outcome = v1::MUTATION_OUTCOME_UNSPECIFIED;
    const v1::MutationRejection* rejection = nullptr;
    int shard = 0;
    const RoutedMutation* routed = nullptr;
  };
  struct Record {
    Copy whole, out, in;
    bool split = false;
  };
  std::vector<Record> records(end - begin);
  for (int s = 0; s < n; ++s) {
    const v1::ApplyResponse& answer = (*answers)[s];
    std::vector<const v1::MutationRejection*> rejection_of(parts[s].size());
    for (const v1::MutationRejection& r : answer.rejections()) {
      if (r.mutation_index() >= 0 &&
          r.mutation_index() < static_cast<int>(rejection_of.size())) {
        rejection_of[r.mutation_index()] = &r;
      }
    }
    for (size_t j = 0; j < parts[s].size(); ++j) {
      const RoutedMutation& routed = parts[s][j];
      Record& record = records[routed.index];
      Copy& copy = routed.copy == v1::EDGE_COPY_OUT  ? record.out
                   : routed.copy == v1::EDGE_COPY_IN ? record.in
                                                     : record.whole;
      record.split |= routed.copy != v1::EDGE_COPY_BOTH;
      copy.outcome = j < static_cast<size_t>(answer.outcomes_size())
                         ? answer.outcomes(j)
                         : v1::MUTATION_OUTCOME_UNSPECIFIED;
      copy.rejection = rejection_of[j];
      copy.shard = s;
      copy.routed = &routed;
    }
    response->set_cascaded_edge_deletes(response->cascaded_edge_deletes() +
                                        answer.cascaded_edge_deletes());
    response->set_cascaded_link_deletes(response->cascaded_link_deletes() +
                                        answer.cascaded_link_deletes());
    if (answer.has_commit_time() &&
        (!response->has_commit_time() ||
         answer.commit_time().seconds() > response->commit_time().seconds() ||
         (answer.commit_time().seconds() == response->commit_time().seconds() &&
          answer.commit_time().nanos() > response->commit_time().nanos()))) {
      *response->mutable_commit_time() = answer.commit_time();
    }
    for (const v1::RemoteEdgeCopy& remote : answer.remote_edge_copies()) {
      if (remote.shard() < 0 || remote.shard() >= n) continue;
      v1::ApplyRequest& cascade = (*cascades)[remote.shard()];
      cascade.set_origin(request.origin());
      *cascade.add_mutations() = DeleteCopy(remote.key(), remote.copy(), "");
    }
  }

  // Outcomes, rejections, and the undo of a copy whose pair was rejected.
  std::vector<v1::ApplyRequest> undo(n);
  for (int i = 0; i < end - begin; ++i) {
    const Record& record = records[i];
    const int index = begin + i;
    if (!record.split) {
      response->add_outcomes(record.whole.outcome);
      if (record.whole.rejection != nullptr) {
        v1::MutationRejection* r = response->add_rejections();
        *r = *record.whole.rejection;
        r->set_mutation_index(index);
      }
      continue;
    }
    const v1::MutationOutcome merged =
        MergeCopyOutcomes(record.out.outcome, record.in.outcome);
    response->add_outcomes(merged);
    if (merged != v1::MUTATION_OUTCOME_REJECTED) continue;
    const Copy& rejected =
        record.out.rejection != nullptr ? record.out : record.in;
    v1::MutationRejection* r = response->add_rejections();
    if (rejected.rejection != nullptr) *r = *rejected.rejection;
    r->set_mutation_index(index);
    for (const Copy* copy : {&record.out, &record.in}) {
      if (!Accepted(copy->outcome)) continue;
      const v1::Mutation& m = copy->routed->mutation;
      // A delete whose pair's delete was refused stays done.
      if (m.has_delete_edge() || m.has_delete_link()) continue;
      undo[copy->shard].set_origin(request.origin());
      *undo[copy->shard].add_mutations() = UndoCopy(m, copy->routed->copy);
    }
  }
  bool any_undo = false;
  for (const v1::ApplyRequest& u : undo) any_undo |= u.mutations_size() > 0;
  if (any_undo) {
    absl::StatusOr<std::vector<v1::ApplyResponse>> undone =
        ApplyToShards(undo, deadline, cancel);
    if (!undone.ok()) {
      return absl::Status(
          undone.status().code(),
          absl::StrCat("undoing the copy of an edge whose other copy was "
                       "rejected: ",
                       undone.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyResponse> ShardedClient::Apply(
    const v1::ApplyRequest& request, absl::Time deadline,
    Cancellation* cancel) {
  if (request.mutations_size() == 0) {
    return absl::InvalidArgumentError(
        "mutations: at least one mutation is required");
  }
  RETURN_IF_ERROR(FlushRemoteDeletes(deadline, cancel));
  v1::ApplyResponse response;
  int begin = 0;
  while (begin < request.mutations_size()) {
    // A segment ends at an entity delete (inclusive) or at the end.
    int end = begin;
    while (end < request.mutations_size() &&
           !request.mutations(end).has_delete_entity_id()) {
      ++end;
    }
    if (end < request.mutations_size()) ++end;
    std::vector<v1::ApplyRequest> cascades(shards_.size());
    absl::Status s = ApplySegment(request, begin, end, deadline, cancel,
                                  &response, &cascades);
    if (!s.ok()) return s;
    bool any = false;
    for (const v1::ApplyRequest& c : cascades) any |= c.mutations_size() > 0;
    if (any) {
      {
        absl::MutexLock lock(&pending_mu_);
        for (size_t shard = 0; shard < cascades.size(); ++shard) {
          for (v1::Mutation& m : *cascades[shard].mutable_mutations()) {
            *pending_[shard].add_mutations() = std::move(m);
          }
          pending_[shard].set_origin(request.origin());
        }
      }
      RETURN_IF_ERROR(FlushRemoteDeletes(deadline, cancel));
    }
    begin = end;
  }
  response.set_sequence(SequenceSum());
  return response;
}

absl::StatusOr<v1::ListSignalsResponse> ShardedClient::ListSignals(
    const v1::ListSignalsRequest& request, absl::Time deadline,
    Cancellation* cancel) {
  int shard = 0;
  v1::ListSignalsRequest inner = request;
  inner.clear_page_token();
  if (!request.page_token().empty()) {
    const absl::string_view token = request.page_token();
    const size_t colon = token.find(':');
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(token.substr(0, colon), &shard) || shard < 0 ||
        shard >= static_cast<int>(shards_.size())) {
      return absl::InvalidArgumentError(
          "page_token: not a token of this listing");
    }
    inner.set_page_token(std::string(token.substr(colon + 1)));
  }
  while (true) {
    absl::StatusOr<v1::ListSignalsResponse> page =
        shards_[shard]->ListSignals(inner, deadline, cancel);
    if (!page.ok()) return NameShard(shard, page.status());
    if (!page->next_page_token().empty()) {
      page->set_next_page_token(
          absl::StrCat(shard, ":", page->next_page_token()));
      return page;
    }
    ++shard;
    if (shard == static_cast<int>(shards_.size()) || page->signals_size() > 0) {
      // The page is this shard's last; the next shard's come next time.
      if (shard < static_cast<int>(shards_.size())) {
        page->set_next_page_token(absl::StrCat(shard, ":"));
      }
      return page;
    }
    inner.clear_page_token();
  }
}

absl::Status ShardedClient::ExportSnapshot(
    const std::function<void(v1::ExportSnapshotResponse&)>& on_chunk,
    absl::Time deadline, Cancellation* cancel) {
  for (size_t s = 0; s < shards_.size(); ++s) {
    absl::Status done = shards_[s]->ExportSnapshot(on_chunk, deadline, cancel);
    if (!done.ok()) return NameShard(static_cast<int>(s), done);
  }
  return absl::OkStatus();
}

}  // namespace georisk::ingest
