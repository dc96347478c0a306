#include "services/scorer/model/propagate.h"

#include <algorithm>
#include <cmath>

#include "services/scorer/model/condensation.h"

namespace georisk::scorer::internal {

double SurvivalSeenBy(const State& st, Node u, Node v) {
  const double plain = st.s[u].v[0];
  if (!(st.flags[u] & kHasDerived) || !(st.flags[v] & kHasListing)) {
    return plain;
  }
  const ListingInfo* from = st.listing.Find(u);
  const ListingInfo* to = st.listing.Find(v);
  if (from == nullptr || to == nullptr) return plain;
  bool excluded = false;
  double survival = from->base_survival * from->up_survival;
  for (const auto& [authority, s] : from->derived) {
    if (to->HasStatus(authority)) {
      excluded = true;
    } else {
      survival *= s;
    }
  }
  return excluded ? std::max(survival, kMinSurvival) : plain;
}

Evaluation Evaluate(const State& st, Node v) {
  Evaluation out;
  double up0 = 1, up1 = 1, up2 = 1;
  for (const PropIn& e : st.pin.List(v)) {
    const Triple& su = st.s[e.src];
    const double s0 = (st.flags[e.src] & kHasDerived)
                          ? SurvivalSeenBy(st, e.src, v)
                          : su.v[0];
    up0 *= 1 - e.w * (1 - s0);
    up1 *= 1 - e.w * (1 - su.v[1]);
    up2 *= 1 - e.w * (1 - su.v[2]);
  }
  const Triple& d = st.sd[v];
  out.s.v[0] = std::max(d.v[0] * up0, kMinSurvival);
  out.s.v[1] = std::max(d.v[1] * up1, kMinSurvival);
  out.s.v[2] = std::max(d.v[2] * up2, kMinSurvival);
  out.up_ec = up0;
  out.has_up = true;
  return out;
}

namespace {

// For a node with derived listings: whether its export-control product over
// in-edges moved enough to change what a listed successor sees
// (SurvivalSeenBy: base x up x kept listings, which may move while the
// node's own survival, clamped or scaled by a severe derived listing, does
// not).
bool UpMoved(const State& st, Node v, const Evaluation& e, double tolerance) {
  if (!e.has_up || !(st.flags[v] & kHasDerived)) return false;
  const ListingInfo* info = st.listing.Find(v);
  return info != nullptr &&
         std::abs(e.up_ec - info->up_survival) * info->base_survival >=
             tolerance;
}

void StoreUp(State* st, Node v, double up) {
  if (!(st->flags[v] & kHasDerived)) return;
  const ListingInfo* info = st->listing.Find(v);
  if (info == nullptr || info->up_survival == up) return;
  ListingInfo copy = *info;
  copy.up_survival = up;
  st->listing.Set(v, std::move(copy));
}

}  // namespace

PropagationStats FullPropagate(State* st, const Params& p) {
  PropagationStats stats;
  std::vector<Triple>& s = st->s.live();
  std::fill(s.begin(), s.end(), Triple());
  std::vector<Node> work;
  absl::flat_hash_set<Node> queued;
  for (const auto& [key, c] : st->comp_by_key) {
    const std::vector<Node>& members = st->members[c];
    if (members.empty()) {
      const Node v = st->rep[c];
      const Evaluation e = Evaluate(*st, v);
      ++stats.evaluations;
      s[v] = e.s;
      StoreUp(st, v, e.up_ec);
      continue;
    }
    // A cycle: iterate from R = 0 (the least fixed point) to the tolerance.
    work.assign(members.begin(), members.end());
    queued.clear();
    queued.insert(members.begin(), members.end());
    const int64_t limit = static_cast<int64_t>(p.max_iterations) *
                          static_cast<int64_t>(members.size());
    int64_t evaluations = 0;
    size_t head = 0;
    while (head < work.size()) {
      const Node v = work[head++];
      queued.erase(v);
      const Evaluation e = Evaluate(*st, v);
      ++stats.evaluations;
      bool moved = UpMoved(*st, v, e, p.tolerance);
      if (moved) StoreUp(st, v, e.up_ec);
      for (int f = 0; f < kNumFactors; ++f) {
        const double old = s[v].v[f];
        if (std::abs(e.s.v[f] - old) >= p.tolerance ||
            ((old < 1) != (e.s.v[f] < 1))) {
          s[v].v[f] = e.s.v[f];
          moved = true;
          if (f == 0) StoreUp(st, v, e.up_ec);
        }
      }
      if (moved) {
        for (const PropOut& o : st->pout.List(v)) {
          if (st->comp_of[o.dst] == c && queued.insert(o.dst).second) {
            work.push_back(o.dst);
          }
        }
      }
      if (++evaluations > limit) {
        ++stats.unconverged_comps;
        break;
      }
      if (head > 4096 && head * 2 > work.size()) {  // Drop what was done.
        work.erase(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(head));
        head = 0;
      }
    }
  }
  ComputeAllInputs(st);
  return stats;
}

void Propagator::Seed(Node v) {
  if (!running_) {
    early_seeds_.push_back(v);
    return;
  }
  Enqueue(v);
}

void Propagator::Enqueue(Node v) {
  if (!in_pending_.insert(v).second) return;
  const Comp c = st_->comp_of[v];
  std::vector<Node>& list = pending_[c];
  if (list.empty()) heap_.emplace(st_->key[c], c);
  list.push_back(v);
}

void Propagator::SeedSuccessors(Node v) {
  for (const PropOut& o : st_->pout.List(v)) Seed(o.dst);
}

void Propagator::Clear(Node v) {
  Commit(v, Evaluation(), /*force=*/false);  // All survivals 1.
}

bool Propagator::Commit(Node v, const Evaluation& e, bool force) {
  const bool up_moved = UpMoved(*st_, v, e, p_.tolerance);
  const Triple old = st_->s[v];
  Triple now = old;
  bool moved = false;
  for (int f = 0; f < kNumFactors; ++f) {
    const double x = e.s.v[f];
    if ((force && x != old.v[f]) || std::abs(x - old.v[f]) >= p_.tolerance ||
        ((old.v[f] < 1) != (x < 1))) {
      now.v[f] = x;
      moved = true;
    }
  }
  if (!moved && !up_moved) return false;
  if (e.has_up && (up_moved || now.v[0] != old.v[0])) {
    StoreUp(st_, v, e.up_ec);
  }
  if (moved) {
    changed_.try_emplace(v, old);
    st_->s.Set(v, now);
    for (int f = 0; f < kNumFactors; ++f) {
      const bool was = old.v[f] < 1;
      const bool is = now.v[f] < 1;
      if (was != is) AdjustOutInputs(st_, v, f, is ? 1 : -1);
    }
  }
  SeedSuccessors(v);
  return true;
}

void Propagator::SolveComp(Comp c) {
  State& st = *st_;
  // An overlay comp that lost an internal edge: recompute from zero.
  if ((st.comp_flags[c] & kCompNeedsSplit) && reset_.insert(c).second) {
    const std::vector<Node> members = st.members[c];
    Evaluation zero;
    for (Node m : members) Commit(m, zero, /*force=*/true);
    for (Node m : members) Seed(m);
  }
  // A factor without any input in the comp has the least fixed point 0.
  const std::array<int32_t, kNumFactors> inputs = st.inputs[c];
  if (inputs[0] == 0 || inputs[1] == 0 || inputs[2] == 0) {
    const std::vector<Node> members = st.members[c];
    for (Node m : members) {
      Evaluation e;
      e.s = st.s[m];
      bool any = false;
      for (int f = 0; f < kNumFactors; ++f) {
        if (inputs[f] == 0 && e.s.v[f] != 1) {
          e.s.v[f] = 1;
          any = true;
        }
      }
      if (any) Commit(m, e, /*force=*/true);
    }
  }
  const int64_t limit = static_cast<int64_t>(p_.max_iterations) *
                        static_cast<int64_t>(st.CompSize(c));
  int64_t evaluations = 0;
  // pending_[c] is the worklist; Commit appends to it.
  size_t head = 0;
  while (true) {
    std::vector<Node>& list = pending_[c];
    if (head >= list.size()) break;
    if (head > 4096 && head * 2 > list.size()) {  // Drop what was done.
      list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
    const Node v = list[head++];
    in_pending_.erase(v);
    const Evaluation e = Evaluate(st, v);
    ++stats_.evaluations;
    Commit(v, e, /*force=*/false);
    if (++evaluations > limit) {
      ++stats_.unconverged_comps;
      const std::vector<Node>& rest = pending_[c];
      for (size_t i = head; i < rest.size(); ++i) in_pending_.erase(rest[i]);
      break;
    }
  }
  pending_.erase(c);
}

void Propagator::Run() {
  running_ = true;
  std::sort(early_seeds_.begin(), early_seeds_.end());
  for (Node v : early_seeds_) Enqueue(v);
  early_seeds_.clear();
  while (!heap_.empty()) {
    const Comp c = heap_.top().second;
    heap_.pop();
    auto it = pending_.find(c);
    if (it == pending_.end() || it->second.empty()) continue;
    if (!st_->IsMulti(c) && !(st_->comp_flags[c] & kCompNeedsSplit)) {
      std::vector<Node> list = std::move(it->second);
      pending_.erase(it);
      for (Node v : list) {
        in_pending_.erase(v);
        ++stats_.evaluations;
        Commit(v, Evaluate(*st_, v), /*force=*/false);
      }
      continue;
    }
    SolveComp(c);
  }
}

}  // namespace georisk::scorer::internal
