#include "services/graphstore/outbox_forwarder.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "storage/partition_map.h"

namespace georisk::graphstore {

OutboxForwarder::OutboxForwarder(storage::Outbox* outbox, Deliver deliver,
                                 OutboxForwarderOptions options,
                                 common::MetricsRegistry* registry)
    : outbox_(outbox),
      deliver_(std::move(deliver)),
      options_(std::move(options)),
      peers_(std::max(options_.shard_count, 0)) {
  if (registry == nullptr) return;
  auto& pending = registry->AddGauge(
      "georisk_graphstore_outbox_pending",
      "Outbox entries (copies of edges and links across shards) not yet "
      "delivered to the peer shard.",
      {"peer"});
  auto& oldest = registry->AddGauge(
      "georisk_graphstore_outbox_oldest_age_seconds",
      "Age of the oldest outbox entry not yet delivered to the peer shard; 0 "
      "when none.",
      {"peer"});
  auto& delivered = registry->AddCounter(
      "georisk_graphstore_outbox_delivered_total",
      "Outbox entries the peer shard answered and that were acknowledged.",
      {"peer"});
  auto& rejected = registry->AddCounter(
      "georisk_graphstore_outbox_rejected_total",
      "Delivered outbox entries the peer shard rejected (dropped).", {"peer"});
  auto& failures = registry->AddCounter(
      "georisk_graphstore_outbox_delivery_failures_total",
      "Deliveries to the peer shard that failed and will be retried.",
      {"peer"});
  metrics_.resize(peers_.size());
  for (int p = 0; p < static_cast<int>(peers_.size()); ++p) {
    if (p == options_.shard) continue;
    const std::vector<std::string> label = {storage::ShardName(p)};
    metrics_[p] = {&pending.WithLabels(label), &oldest.WithLabels(label),
                   &delivered.WithLabels(label), &rejected.WithLabels(label),
                   &failures.WithLabels(label)};
  }
}

OutboxForwarder::~OutboxForwarder() { Stop(); }

void OutboxForwarder::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxForwarder::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> OutboxForwarder::DeliverOnce(int peer) {
  if (peer < 0 || peer >= static_cast<int>(peers_.size()) ||
      peer == options_.shard) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer: ", peer, " is not another shard of the map (",
                     peers_.size(), " shards, this one ", options_.shard, ")"));
  }
  absl::StatusOr<std::vector<storage::OutboxEntry>> entries =
      outbox_->ReadOutbox(peer, options_.max_batch);
  if (!entries.ok()) return entries.status();
  if (entries->empty()) return 0;
  v1::ApplyRequest request;
  request.set_origin(
      absl::StrCat("outbox:", storage::ShardName(options_.shard)));
  request.set_reject_invalid(true);
  for (const storage::OutboxEntry& e : *entries) {
    *request.add_mutations() = e.mutation;
  }
  absl::StatusOr<v1::ApplyResponse> answer = deliver_(peer, request);
  PeerMetrics* m = metrics_.empty() ? nullptr : &metrics_[peer];
  if (!answer.ok()) {
    if (m != nullptr) m->failures->Increment();
    return absl::Status(answer.status().code(),
                        absl::StrCat(storage::ShardName(peer), ": ",
                                     answer.status().message()));
  }
  // A peer that refuses an entry as another shard's is not the shard the
  // entry is for (--shard_peers out of order, a map that differs): nothing
  // is acknowledged, so nothing is lost; the delivery is retried.
  for (const v1::MutationRejection& r : answer->rejections()) {
    if (absl::StrContains(r.reason(), ", not by this shard (")) {
      if (m != nullptr) m->failures->Increment();
      return absl::FailedPreconditionError(absl::StrCat(
          storage::ShardName(peer), " refuses the outbox's entries as another ",
          "shard's (", r.field(), ": ", r.reason(),
          "): are the shard targets (--shard_peers) in shard order, and the "
          "partition maps the same?"));
    }
  }
  for (const v1::MutationRejection& r : answer->rejections()) {
    const int i = r.mutation_index();
    const bool known = i >= 0 && i < static_cast<int>(entries->size());
    common::log::Warning(
        "outbox entry rejected by its shard: dropped",
        {{"peer", storage::ShardName(peer)},
         {"sequence", known ? (*entries)[i].sequence : int64_t{-1}},
         {"field", r.field()},
         {"reason", r.reason()}});
  }
  std::vector<std::string> keys;
  keys.reserve(entries->size());
  for (const storage::OutboxEntry& e : *entries) keys.push_back(e.key);
  if (absl::Status acked = outbox_->AcknowledgeOutbox(keys); !acked.ok()) {
    return acked;
  }
  if (m != nullptr) {
    m->delivered->Increment(static_cast<double>(keys.size()));
    m->rejected->Increment(static_cast<double>(answer->rejections_size()));
  }
  return static_cast<int>(keys.size());
}

void OutboxForwarder::UpdateMetrics() {
  if (metrics_.empty()) return;
  const absl::Time now = options_.clock();
  std::vector<bool> seen(metrics_.size(), false);
  for (const storage::OutboxPeerStats& s : outbox_->OutboxStats()) {
    if (s.peer < 0 || s.peer >= static_cast<int>(metrics_.size()) ||
        metrics_[s.peer].pending == nullptr) {
      continue;
    }
    seen[s.peer] = true;
    metrics_[s.peer].pending->Set(static_cast<double>(s.pending));
    metrics_[s.peer].oldest_age->Set(
        s.oldest == absl::InfinitePast()
            ? 0.0
            : std::max(0.0, absl::ToDoubleSeconds(now - s.oldest)));
  }
  for (size_t p = 0; p < metrics_.size(); ++p) {
    if (seen[p] || metrics_[p].pending == nullptr) continue;
    metrics_[p].pending->Set(0);
    metrics_[p].oldest_age->Set(0);
  }
}

bool OutboxForwarder::Round(absl::Time* wake) {
  bool progress = false;
  const absl::Time now = options_.clock();
  *wake = now + options_.idle_wait;
  for (const storage::OutboxPeerStats& s : outbox_->OutboxStats()) {
    if (s.peer < 0 || s.peer >= static_cast<int>(peers_.size()) ||
        s.peer == options_.shard) {
      continue;  // Not a peer of this map: kept, shown on /metrics.
    }
    PeerState& peer = peers_[s.peer];
    if (now < peer.next_attempt) {
      *wake = std::min(*wake, peer.next_attempt);
      continue;
    }
    absl::StatusOr<int> done = DeliverOnce(s.peer);
    if (done.ok()) {
      if (peer.failing) {
        common::log::Info("outbox delivery resumed",
                          {{"peer", storage::ShardName(s.peer)}});
      }
      peer = PeerState();
      progress |= *done > 0;
      continue;
    }
    peer.backoff =
        std::min(options_.max_backoff,
                 std::max(options_.initial_backoff, peer.backoff * 2));
    peer.next_attempt = options_.clock() + peer.backoff;
    *wake = std::min(*wake, peer.next_attempt);
    if (!peer.failing) {
      common::log::Warning("outbox delivery failed; retrying with backoff",
                           {{"peer", storage::ShardName(s.peer)},
                            {"error", done.status().ToString()}});
    }
    peer.failing = true;
  }
  return progress;
}

void OutboxForwarder::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Time wake;
    const bool progress = Round(&wake);
    UpdateMetrics();
    if (progress) continue;
    // Nothing delivered: wait for a new entry, or for a backoff to end.
    bool due_now = false;
    for (const storage::OutboxPeerStats& s : outbox_->OutboxStats()) {
      if (s.peer >= 0 && s.peer < static_cast<int>(peers_.size()) &&
          s.peer != options_.shard &&
          peers_[s.peer].next_attempt <= options_.clock()) {
        due_now = true;
      }
    }
    if (due_now) continue;
    bool any_pending = false;
    for (const storage::OutboxPeerStats& s : outbox_->OutboxStats()) {
      any_pending |= s.pending > 0;
    }
    if (!any_pending) {
      outbox_->WaitForOutbox(std::min(wake, absl::Now() + options_.idle_wait));
      continue;
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(&stopping_),
                          std::min(wake, absl::Now() + options_.idle_wait));
  }
}

}  // namespace georisk::graphstore
