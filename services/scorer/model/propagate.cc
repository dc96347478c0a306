#include "services/scorer/model/propagate.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "services/scorer/model/condensation.h"

namespace georisk::scorer::internal {

// Propagation's write access to a State (see state.h): the propagated
// survivals, the listings they carry, and drift. Defined here only.
class PropagationWriter {
 public:
  explicit PropagationWriter(State* st) : st_(st) {}
  CowVec<Triple>& s() { return st_->s_; }
  CowMap<Node, ListingInfo>& listing() { return st_->listing_; }
  std::vector<double>& drift() { return st_->drift_; }

 private:
  State* st_;
};

double SurvivalSeenBy(const State& st, Node u, Node v) {
  const double plain = st.s()[u].v[0];
  if (!(st.flags()[u] & kHasDerived) || !(st.flags()[v] & kHasListing)) {
    return plain;
  }
  const ListingInfo* from = st.listing().Find(u);
  const ListingInfo* to = st.listing().Find(v);
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

namespace {

// The kernel over an explicit in-edge list and accessors, shared by the
// generic path (copy-on-write containers) and the full pass (raw arrays), so
// both compute the same numbers.
template <typename SurvivalAt, typename FlagsAt>
inline Evaluation EvaluateOver(const State& st, Node v,
                               absl::Span<const PropIn> in, const Triple& d,
                               SurvivalAt survival_at, FlagsAt flags_at) {
  Evaluation out;
  double up0 = 1, up1 = 1, up2 = 1;
  for (const PropIn& e : in) {
    const Triple& su = survival_at(e.src);
    const double s0 = (flags_at(e.src) & kHasDerived)
                          ? SurvivalSeenBy(st, e.src, v)
                          : su.v[0];
    up0 *= 1 - e.w * (1 - s0);
    up1 *= 1 - e.w * (1 - su.v[1]);
    up2 *= 1 - e.w * (1 - su.v[2]);
  }
  out.s.v[0] = std::max(d.v[0] * up0, kMinSurvival);
  out.s.v[1] = std::max(d.v[1] * up1, kMinSurvival);
  out.s.v[2] = std::max(d.v[2] * up2, kMinSurvival);
  out.up_ec = up0;
  out.has_up = true;
  return out;
}

}  // namespace

Evaluation Evaluate(const State& st, Node v) {
  return EvaluateOver(
      st, v, st.pin().List(v), st.sd()[v],
      [&st](Node u) -> const Triple& { return st.s()[u]; },
      [&st](Node u) { return st.flags()[u]; });
}

namespace {

// For a node with derived listings: whether its export-control product over
// in-edges moved enough to change what a listed successor sees
// (SurvivalSeenBy: base x up x kept listings, which may move while the
// node's own survival, clamped or scaled by a severe derived listing, does
// not).
bool UpMoved(const State& st, Node v, const Evaluation& e, double tolerance) {
  if (!e.has_up || !(st.flags()[v] & kHasDerived)) return false;
  const ListingInfo* info = st.listing().Find(v);
  return info != nullptr &&
         std::abs(e.up_ec - info->up_survival) * info->base_survival >=
             tolerance;
}

void StoreUp(State* st, Node v, double up) {
  PropagationWriter wr(st);
  if (!(st->flags()[v] & kHasDerived)) return;
  const ListingInfo* info = st->listing().Find(v);
  if (info == nullptr || info->up_survival == up) return;
  ListingInfo copy = *info;
  copy.up_survival = up;
  wr.listing().Set(v, std::move(copy));
}

}  // namespace

// How many members ahead of the one being evaluated a cycle sweep
// prefetches the survivals of in-neighbours: far enough to hide a trip to
// the last-level cache, near enough that the lines are still there.
inline constexpr size_t kPrefetchAhead = 12;

namespace {

// A warm start of one cycle (docs/scoring-model.md, "Full rescoring from
// the current scores"): leaves in `sv` a start from which the sweeps reach
// the least fixed point, the one the cold start (survival 1 everywhere)
// reaches, and returns whether it kept the current survivals.
//  - When the cycle's edges of weight 1 form no cycle of their own and no
//    member carries a listing entry without a direct export-control
//    exposure, then for each factor with an input (a member's direct
//    exposure, or an in-edge from outside the cycle, already final, that
//    carries something) the fixed point is unique and positive at every
//    member: the members keep their current survivals. A factor without any
//    input has the fixed point 0: its survivals are set to exactly 1.
//  - Otherwise (a loop of weight-1 edges, such as two companies wholly
//    owning each other, holds any value as a fixed point): the cold start,
//    1 everywhere.
bool WarmStartCycle(const State& st, const std::vector<Node>& members,
                    bool contiguous, Triple* sv) {
  const Comp c = st.comp_of()[members.front()];
  const Node first = members.front();
  const size_t size = members.size();
  auto position = [&](Node u) -> size_t {
    if (contiguous) return u >= first && u - first < size ? u - first : size;
    return st.comp_of()[u] == c ? st.pos()[u] : size;
  };
  const Triple* sd = st.sd().live().data();
  const uint8_t* flags = st.flags().live().data();
  std::array<bool, kNumFactors> input{false, false, false};
  bool unique = true;
  // Internal edges of weight 1 or more, (source, target) by position.
  std::vector<std::pair<uint32_t, uint32_t>> heavy;
  for (size_t i = 0; i < size; ++i) {
    const Node v = members[i];
    if ((flags[v] & kHasListing) && sd[v].v[0] == 1) unique = false;
    for (int f = 0; f < kNumFactors; ++f) input[f] = input[f] || sd[v].v[f] < 1;
    for (const PropIn& e : st.pin().List(v)) {
      const size_t j = position(e.src);
      if (j < size) {
        if (e.w <= 0) unique = false;  // (never built: w > 0 in pin)
        if (e.w >= 1) heavy.emplace_back(j, i);
        continue;
      }
      if (e.w <= 0) continue;
      for (int f = 0; f < kNumFactors; ++f) {
        input[f] = input[f] || sv[e.src].v[f] < 1;
      }
    }
  }
  if (unique && !heavy.empty()) {
    // Kahn's algorithm on the weight-1 edges: acyclic iff every member
    // comes out.
    std::sort(heavy.begin(), heavy.end());
    std::vector<uint32_t> indegree(size, 0);
    for (const auto& [from, to] : heavy) ++indegree[to];
    std::vector<uint32_t> ready;
    for (size_t i = 0; i < size; ++i) {
      if (indegree[i] == 0) ready.push_back(static_cast<uint32_t>(i));
    }
    size_t out = 0;
    while (!ready.empty()) {
      const uint32_t i = ready.back();
      ready.pop_back();
      ++out;
      auto it = std::lower_bound(heavy.begin(), heavy.end(),
                                 std::pair<uint32_t, uint32_t>(i, 0));
      for (; it != heavy.end() && it->first == i; ++it) {
        if (--indegree[it->second] == 0) ready.push_back(it->second);
      }
    }
    unique = out == size;
  }
  for (const Node v : members) {
    for (int f = 0; f < kNumFactors; ++f) {
      if (!unique || !input[f]) sv[v].v[f] = 1;
    }
  }
  return unique;
}

}  // namespace

PropagationStats FullPropagate(State* st, const Params& p, Start start) {
  PropagationWriter wr(st);
  PropagationStats stats;
  std::vector<Triple>& s = wr.s().live();
  const bool warm = start == Start::kWarm && s.size() == st->node_count();
  if (!warm) s.assign(st->node_count(), Triple());
  // Tight loops over the raw arrays when no adjacency list was edited since
  // they were built (after Load; otherwise the generic accessors).
  const bool raw = st->pin().Pristine() && st->pout().Pristine();
  const size_t n = st->node_count();
  Triple* const sv = s.data();
  const Triple* sd = st->sd().live().data();
  const uint8_t* flags = st->flags().live().data();
  const uint64_t* in_offsets = raw ? st->pin().offsets().data() : nullptr;
  const PropIn* in_items = raw ? st->pin().items().data() : nullptr;
  const uint64_t* out_offsets = raw ? st->pout().offsets().data() : nullptr;
  const PropOut* out_items = raw ? st->pout().items().data() : nullptr;
  auto successors = [&](Node v) {
    if (!raw) return st->pout().List(v);
    return absl::Span<const PropOut>(out_items + out_offsets[v],
                                     out_offsets[v + 1] - out_offsets[v]);
  };
  // Nodes with an in-edge from a node with derived listings see that
  // node's export-control survival through SurvivalSeenBy (a lookup in the
  // listing map); a few thousand at most. Every other node takes the plain
  // kernel below, which computes the same products in the same order with
  // no call and no flag load per edge.
  std::vector<uint8_t> exact(n, 0);
  for (Node u = 0; u < n; ++u) {
    if (!(flags[u] & kHasDerived)) continue;
    for (const PropOut& o : successors(u)) exact[o.dst] = 1;
  }
  auto evaluate = [&](Node v) {
    if (!raw) return Evaluate(*st, v);
    const PropIn* e = in_items + in_offsets[v];
    const PropIn* const end = in_items + in_offsets[v + 1];
    if (exact[v]) {
      return EvaluateOver(
          *st, v, absl::Span<const PropIn>(e, static_cast<size_t>(end - e)),
          sd[v], [sv](Node u) -> const Triple& { return sv[u]; },
          [flags](Node u) { return flags[u]; });
    }
    double up0 = 1, up1 = 1, up2 = 1;
    for (; e != end; ++e) {
      const Triple& su = sv[e->src];
      const double w = e->w;
      up0 *= 1 - w * (1 - su.v[0]);
      up1 *= 1 - w * (1 - su.v[1]);
      up2 *= 1 - w * (1 - su.v[2]);
    }
    Evaluation out;
    out.s.v[0] = std::max(sd[v].v[0] * up0, kMinSurvival);
    out.s.v[1] = std::max(sd[v].v[1] * up1, kMinSurvival);
    out.s.v[2] = std::max(sd[v].v[2] * up2, kMinSurvival);
    out.up_ec = up0;
    out.has_up = true;
    return out;
  };
  auto prefetch_inputs = [&](Node v) {
    for (const PropIn *e = in_items + in_offsets[v],
                      *end = in_items + in_offsets[v + 1];
         e != end; ++e) {
      // A Triple may straddle two cache lines.
      __builtin_prefetch(&sv[e->src].v[0]);
      __builtin_prefetch(&sv[e->src].v[2]);
    }
  };
  std::vector<uint8_t> dirty;
  for (const auto& [key, c] : st->comp_by_key()) {
    const std::vector<Node>& members = st->members()[c];
    if (members.empty()) {
      const Node v = st->rep()[c];
      const Evaluation e = evaluate(v);
      ++stats.evaluations;
      sv[v] = e.s;
      if (flags[v] & kHasDerived) StoreUp(st, v, e.up_ec);
      continue;
    }
    // A cycle: Gauss-Seidel sweeps in the members' order (few edges point
    // backwards: only those carry a change to the next sweep), from R = 0,
    // the least fixed point, until nothing moves by the tolerance. Members
    // numbered in their order (as Load numbers them) need no lookups to
    // find a successor's place.
    const size_t size = members.size();
    const Node first = members.front();
    bool contiguous = true;
    for (size_t i = 0; i < size && contiguous; ++i) {
      contiguous = members[i] == first + i;
    }
    if (warm && WarmStartCycle(*st, members, contiguous, sv)) {
      ++stats.warm_cycles;
    }
    dirty.assign(size, 1);
    const int64_t limit =
        static_cast<int64_t>(p.max_iterations) * static_cast<int64_t>(size);
    int64_t evaluations = 0;
    bool again = true;
    while (again && evaluations <= limit) {
      again = false;
      for (size_t i = 0; i < size; ++i) {
        if (raw && i + kPrefetchAhead < size && dirty[i + kPrefetchAhead]) {
          prefetch_inputs(members[i + kPrefetchAhead]);
        }
        if (!dirty[i]) continue;
        dirty[i] = 0;
        const Node v = members[i];
        const Evaluation e = evaluate(v);
        ++evaluations;
        const bool derived = flags[v] & kHasDerived;
        bool moved = derived && UpMoved(*st, v, e, p.tolerance);
        if (moved) StoreUp(st, v, e.up_ec);
        for (int f = 0; f < kNumFactors; ++f) {
          const double old = sv[v].v[f];
          if (std::abs(e.s.v[f] - old) >= p.tolerance ||
              ((old < 1) != (e.s.v[f] < 1))) {
            sv[v].v[f] = e.s.v[f];
            moved = true;
            if (f == 0 && derived) StoreUp(st, v, e.up_ec);
          }
        }
        if (!moved) continue;
        for (const PropOut& o : successors(v)) {
          size_t j;
          if (contiguous) {
            j = o.dst - first;
            if (o.dst < first || j >= size) continue;
          } else {
            if (st->comp_of()[o.dst] != c) continue;
            j = st->pos()[o.dst];
          }
          dirty[j] = 1;
          again = again || j <= i;
        }
      }
    }
    stats.evaluations += evaluations;
    if (evaluations > limit) ++stats.unconverged_comps;
  }
  // Every node was evaluated after its inputs last moved.
  wr.drift().assign(n, 0);
  ComputeAllInputs(st);
  return stats;
}

Propagator::Propagator(State* st, const Params& p, PropagationScratch* scratch)
    : st_(st), p_(p), scratch_(scratch) {}

bool Propagator::Queued(Node v) const {
  return scratch_ != nullptr ? scratch_->queued[v] != 0
                             : queued_sparse_.contains(v);
}

void Propagator::SetQueued(Node v, bool queued) {
  if (scratch_ != nullptr) {
    scratch_->queued[v] = queued ? 1 : 0;
  } else if (queued) {
    queued_sparse_.insert(v);
  } else {
    queued_sparse_.erase(v);
  }
}

void Propagator::Seed(Node v) {
  if (!running_) {
    early_seeds_.push_back(v);
    return;
  }
  Enqueue(v);
}

namespace {

inline void SetBit(std::vector<uint64_t>& bits, size_t i) {
  bits[i >> 6] |= uint64_t{1} << (i & 63);
}

}  // namespace

void Propagator::Enqueue(Node v) {
  if (sweep_ != nullptr) {
    // A member of the cycle being swept: after the position under
    // evaluation it waits for this sweep, else for the next (so a tight
    // inner loop is not iterated to convergence before the rest moves).
    size_t j = size_;
    if (v >= first_ && v - first_ < size_ && (*members_)[v - first_] == v) {
      j = v - first_;  // Members numbered in their order (as Load does).
    } else if (st_->comp_of()[v] == current_) {
      j = st_->pos()[v];
    }
    if (j < size_) {
      if (static_cast<int64_t>(j) > current_pos_) {
        SetBit(sweep_->now, j);
      } else {
        SetBit(sweep_->later, j);
        sweep_->again = true;
      }
      return;
    }
  }
  const Comp c = st_->comp_of()[v];
  if (st_->IsMulti(c)) {
    auto [it, fresh] = sweeps_.try_emplace(c);
    if (fresh) {
      if (scratch_ != nullptr && !scratch_->spare_sweeps.empty()) {
        it->second = std::move(scratch_->spare_sweeps.back());
        scratch_->spare_sweeps.pop_back();
      }
      const size_t words = (st_->CompSize(c) + 63) / 64;
      it->second.now.assign(words, 0);
      it->second.later.assign(words, 0);
      it->second.again = false;
      heap_.emplace_back(st_->key()[c], v);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
    SetBit(it->second.now, st_->pos()[v]);
    return;
  }
  if (Queued(v)) return;
  SetQueued(v, true);
  // Its evaluation reads its survival and in-edge list: start the loads now
  // (a large change queues thousands of nodes scattered over the graph).
  if (scratch_ != nullptr) {
    __builtin_prefetch(&st_->s()[v]);
    __builtin_prefetch(st_->pin().List(v).data());
  }
  heap_.emplace_back(st_->key()[c], v);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void Propagator::SeedSuccessors(Node v) {
  for (const PropOut& o : st_->pout().List(v)) Seed(o.dst);
}

void Propagator::RecordChange(Node v, const Triple& before) {
  if (scratch_ != nullptr) {
    int32_t& at = scratch_->changed_at[v];
    if (at >= 0) return;
    at = static_cast<int32_t>(changed_.size());
  } else if (!changed_sparse_.try_emplace(v, changed_.size()).second) {
    return;
  }
  changed_.emplace_back(v, before);
}

bool Propagator::Commit(Node v, const Evaluation& e, bool force) {
  PropagationWriter wr(st_);
  const bool up_moved = UpMoved(*st_, v, e, p_.tolerance);
  const Triple old = st_->s()[v];
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
  bool crossed = false;
  double step = 0;
  if (moved) {
    RecordChange(v, old);
    wr.s().Set(v, now);
    for (int f = 0; f < kNumFactors; ++f) {
      const bool was = old.v[f] < 1;
      const bool is = now.v[f] < 1;
      if (was != is) {
        AdjustOutInputs(st_, v, f, is ? 1 : -1);
        crossed = true;
      }
      step = std::max(step, std::abs(now.v[f] - old.v[f]));
    }
  }
  // Successors whose kernel may now be off by the tolerance or more. Exact
  // re-evaluation of all of them when a factor appeared or vanished (the
  // least fixed point's zeros), when what a listed successor sees moved
  // (SurvivalSeenBy), and on an overlay (no drift kept).
  if (scratch_ == nullptr || crossed || up_moved ||
      (st_->flags()[v] & kHasDerived)) {
    SeedSuccessors(v);
  } else {
    std::vector<double>& drift = wr.drift();
    for (const PropOut& o : st_->pout().List(v)) {
      double& d = drift[o.dst];
      d += static_cast<double>(o.w) * step;
      if (d >= p_.tolerance) Enqueue(o.dst);
    }
  }
  return true;
}

void Propagator::EnterComp(Comp c) {
  current_ = c;
  current_evaluations_ = 0;
  current_limit_ = static_cast<int64_t>(p_.max_iterations) *
                   static_cast<int64_t>(st_->CompSize(c));
  if (!st_->IsMulti(c)) return;
  State& st = *st_;
  // An overlay comp that lost an internal edge is a union of strongly
  // connected components: recompute it from zero.
  if (st.comp_flags()[c] & kCompNeedsSplit) {
    const std::vector<Node> members = st.members()[c];
    for (Node m : members) Commit(m, Evaluation(), /*force=*/true);
    for (Node m : members) Enqueue(m);
  }
  // A factor without any input in the comp has the least fixed point 0.
  const std::array<int32_t, kNumFactors> inputs = st.inputs()[c];
  if (inputs[0] != 0 && inputs[1] != 0 && inputs[2] != 0) return;
  const std::vector<Node> members = st.members()[c];
  for (Node m : members) {
    Evaluation e;
    e.s = st.s()[m];
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

void Propagator::Visit(Node v) {
  PropagationWriter wr(st_);
  if (current_evaluations_ > current_limit_) return;  // Gave up on it.
  if (++current_evaluations_ > current_limit_) {
    ++stats_.unconverged_comps;
    return;
  }
  ++stats_.evaluations;
  if (scratch_ != nullptr) wr.drift()[v] = 0;
  Commit(v, Evaluate(*st_, v), /*force=*/false);
}

namespace {

// The set bits of a bitmap in increasing order, reading each word when it
// gets there (bits set later behind the cursor are not seen).
class BitCursor {
 public:
  explicit BitCursor(const std::vector<uint64_t>& bits)
      : bits_(bits), rest_(bits.empty() ? 0 : bits[0]) {}
  // The next set bit, or -1 at the end.
  int64_t Next() {
    while (rest_ == 0) {
      if (++word_ >= bits_.size()) return -1;
      rest_ = bits_[word_];
    }
    const int b = __builtin_ctzll(rest_);
    rest_ &= rest_ - 1;
    return static_cast<int64_t>(word_ * 64 + static_cast<size_t>(b));
  }

 private:
  const std::vector<uint64_t>& bits_;
  size_t word_ = 0;
  uint64_t rest_;
};

// How many queued members ahead of the one being evaluated a sweep starts
// loading, in three steps: where their lists are (kFar), the lists
// (kMid), their suppliers' survivals (kNear). Members queued in a sweep are
// scattered over the graph; each step waits on memory otherwise.
inline constexpr int kFar = 24;
inline constexpr int kMid = 12;
inline constexpr int kNear = 4;

}  // namespace

void Propagator::SweepComp(Comp c, Sweep sweep) {
  const std::vector<Node>& members = st_->members()[c];
  sweep_ = &sweep;
  members_ = &members;
  size_ = members.size();
  first_ = members.front();
  // Members queued while the comp is entered join the first sweep.
  current_pos_ = -1;
  EnterComp(c);
  const size_t words = sweep.now.size();
  const bool prefetch = scratch_ != nullptr;
  const State& st = *st_;
  auto far = [&](Node u) {
    st.pin().PrefetchPlace(u);
    st.pout().PrefetchPlace(u);
    __builtin_prefetch(&st.s()[u]);
    __builtin_prefetch(&st.sd()[u]);
  };
  auto mid = [&](Node u) {
    __builtin_prefetch(st.pin().List(u).data());
    __builtin_prefetch(st.pout().List(u).data());
  };
  auto near = [&](Node u) {
    for (const PropIn& e : st.pin().List(u)) __builtin_prefetch(&st.s()[e.src]);
  };
  while (true) {
    BitCursor far_cursor(sweep.now), mid_cursor(sweep.now),
        near_cursor(sweep.now);
    auto advance = [&](BitCursor& cursor, auto step) {
      const int64_t j = cursor.Next();
      if (j >= 0) step(members[static_cast<size_t>(j)]);
    };
    if (prefetch) {
      for (int k = 0; k < kFar; ++k) advance(far_cursor, far);
      for (int k = 0; k < kMid; ++k) advance(mid_cursor, mid);
      for (int k = 0; k < kNear; ++k) advance(near_cursor, near);
    }
    for (size_t w = 0; w < words; ++w) {
      // Bits set ahead of the position under evaluation, in this word
      // too, are taken by this sweep.
      while (sweep.now[w] != 0) {
        const size_t i =
            w * 64 + static_cast<size_t>(__builtin_ctzll(sweep.now[w]));
        sweep.now[w] &= sweep.now[w] - 1;
        if (prefetch) {
          advance(far_cursor, far);
          advance(mid_cursor, mid);
          advance(near_cursor, near);
        }
        current_pos_ = static_cast<int64_t>(i);
        Visit(members[i]);
      }
    }
    if (!sweep.again || current_evaluations_ > current_limit_) break;
    std::swap(sweep.now, sweep.later);
    sweep.again = false;
    current_pos_ = -1;
  }
  sweep_ = nullptr;
  // A few kept (a run sweeps a handful of cycles at a time, one after the
  // other).
  if (scratch_ != nullptr && scratch_->spare_sweeps.size() < 4) {
    scratch_->spare_sweeps.push_back(std::move(sweep));
  }
}

void Propagator::Run() {
  PropagationWriter wr(st_);
  running_ = true;
  if (scratch_ != nullptr) {
    const size_t n = st_->node_count();
    if (scratch_->queued.size() < n) scratch_->queued.resize(n, 0);
    if (scratch_->changed_at.size() < n) scratch_->changed_at.resize(n, -1);
    if (st_->drift().size() < n) wr.drift().resize(n, 0);
    heap_.swap(scratch_->heap);
    heap_.clear();
  }
  std::sort(early_seeds_.begin(), early_seeds_.end());
  for (Node v : early_seeds_) Enqueue(v);
  early_seeds_.clear();
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    const Node v = heap_.back().second;
    heap_.pop_back();
    const Comp c = st_->comp_of()[v];
    if (st_->IsMulti(c)) {
      auto it = sweeps_.find(c);
      Sweep sweep = std::move(it->second);
      sweeps_.erase(it);
      SweepComp(c, std::move(sweep));
      continue;
    }
    SetQueued(v, false);
    EnterComp(c);
    Visit(v);
  }
  if (scratch_ != nullptr) {
    for (const auto& [v, before] : changed_) scratch_->changed_at[v] = -1;
    heap_.swap(scratch_->heap);
  }
}

}  // namespace georisk::scorer::internal
