#include "services/scorer/model/condensation.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace georisk::scorer::internal {

// The condensation's write access to a State (see state.h): the propagation
// graph and its strongly connected components. Defined here only.
class CondensationWriter {
 public:
  explicit CondensationWriter(State* st) : st_(st) {}
  Adjacency<PropIn>& pin() { return st_->pin_; }
  Adjacency<PropOut>& pout() { return st_->pout_; }
  CowVec<Comp>& comp_of() { return st_->comp_of_; }
  CowVec<int64_t>& key() { return st_->key_; }
  CowVec<std::array<int32_t, kNumFactors>>& inputs() { return st_->inputs_; }
  CowVec<std::vector<Node>>& members() { return st_->members_; }
  CowVec<uint32_t>& pos() { return st_->pos_; }
  CowVec<Node>& rep() { return st_->rep_; }
  CowVec<uint8_t>& comp_flags() { return st_->comp_flags_; }
  absl::btree_map<int64_t, Comp>& comp_by_key() { return st_->comp_by_key_; }
  std::vector<Comp>& split_marked() { return st_->split_marked_; }
  bool& condensation_fresh() { return st_->condensation_fresh_; }

 private:
  State* st_;
};

namespace {

Comp NewComp(State* st, int64_t key, Node rep) {
  CondensationWriter wr(st);
  const Comp c = static_cast<Comp>(st->key().size());
  wr.key().PushBack(key);
  wr.inputs().PushBack({0, 0, 0});
  wr.members().PushBack({});
  wr.rep().PushBack(rep);
  wr.comp_flags().PushBack(kCompAlive);
  if (!st->is_overlay()) wr.comp_by_key()[key] = c;
  return c;
}

// Renumbers every live comp's key to (rank + 1) * kKeyGap.
void Renumber(State* st) {
  CondensationWriter wr(st);
  std::vector<Comp> order;
  order.reserve(st->comp_by_key().size());
  for (const auto& [k, c] : st->comp_by_key()) order.push_back(c);
  wr.comp_by_key().clear();
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t k = static_cast<int64_t>(i + 1) * kKeyGap;
    wr.key().Set(order[i], k);
    wr.comp_by_key()[k] = order[i];
  }
}

// Recounts the inputs of comp c by scanning its members.
void CountInputs(State* st, Comp c) {
  CondensationWriter wr(st);
  std::array<int32_t, kNumFactors> n{0, 0, 0};
  st->ForEachMember(c, [&](Node v) {
    const Triple& d = st->sd()[v];
    for (int f = 0; f < kNumFactors; ++f) n[f] += d.v[f] < 1 ? 1 : 0;
    for (const PropIn& e : st->pin().List(v)) {
      if (st->comp_of()[e.src] == c) continue;
      const Triple& su = st->s()[e.src];
      for (int f = 0; f < kNumFactors; ++f) n[f] += su.v[f] < 1 ? 1 : 0;
    }
  });
  wr.inputs().Set(c, n);
}

// Merges the comps of `group` (distinct, in a valid order relative to all
// others, each reaching each other) into the largest of them, at `key`.
// Leaves comp_by_key to the caller.
void Merge(State* st, const std::vector<Comp>& group, int64_t key) {
  CondensationWriter wr(st);
  Comp survivor = group[0];
  for (Comp c : group) {
    if (st->CompSize(c) > st->CompSize(survivor)) survivor = c;
  }
  absl::flat_hash_set<Comp> in_group(group.begin(), group.end());
  // Edges that become internal stop counting as inputs.
  std::array<int32_t, kNumFactors> n = st->inputs()[survivor];
  for (Comp c : group) {
    if (c == survivor) continue;
    const std::array<int32_t, kNumFactors>& nc = st->inputs()[c];
    for (int f = 0; f < kNumFactors; ++f) n[f] += nc[f];
    st->ForEachMember(c, [&](Node m) {
      for (const PropIn& e : st->pin().List(m)) {
        const Comp src = st->comp_of()[e.src];
        if (src == c || !in_group.contains(src)) continue;
        const Triple& su = st->s()[e.src];
        for (int f = 0; f < kNumFactors; ++f) n[f] -= su.v[f] < 1 ? 1 : 0;
      }
      const Triple& sm = st->s()[m];
      for (const PropOut& e : st->pout().List(m)) {
        if (st->comp_of()[e.dst] != survivor) continue;
        for (int f = 0; f < kNumFactors; ++f) n[f] -= sm.v[f] < 1 ? 1 : 0;
      }
    });
  }
  std::vector<Node> moved;
  uint8_t flags = st->comp_flags()[survivor];
  for (Comp c : group) {
    if (c == survivor) continue;
    st->ForEachMember(c, [&](Node m) { moved.push_back(m); });
    flags |= st->comp_flags()[c];
  }
  for (Comp c : group) {
    if (c == survivor) continue;
    wr.comp_flags().Set(c, 0);
    wr.members().Set(c, {});
  }
  for (Node m : moved) wr.comp_of().Set(m, survivor);
  {
    // Appended in place: a giant comp absorbing a small one costs the small
    // one's size (in an overlay, one copy of the list).
    std::vector<Node>& all = wr.members().Mutable(survivor);
    if (all.empty()) all.push_back(st->rep()[survivor]);
    all.insert(all.end(), moved.begin(), moved.end());
  }
  // Appended after the survivor's own order: still a valid (if slower)
  // sweep order until a split or a full rebuild orders them again.
  const size_t base = st->CompSize(survivor) - moved.size();
  for (size_t i = 0; i < moved.size(); ++i) {
    wr.pos().Set(moved[i], static_cast<uint32_t>(base + i));
  }
  wr.comp_flags().Set(survivor, flags | kCompAlive);
  if (flags & kCompNeedsSplit) wr.split_marked().push_back(survivor);
  wr.inputs().Set(survivor, n);
  wr.key().Set(survivor, key);
}

// Pearce-Kelly for a new edge from comp cu to comp cv with key[cu] >
// key[cv].
void Reorder(State* st, Comp cu, Comp cv) {
  CondensationWriter wr(st);
  const int64_t lb = st->key()[cv];
  const int64_t ub = st->key()[cu];
  // Forward from cv over comps keyed below ub.
  std::vector<Comp> fwd{cv};
  absl::flat_hash_set<Comp> in_fwd{cv};
  bool cycle = false;
  for (size_t i = 0; i < fwd.size(); ++i) {
    st->ForEachMember(fwd[i], [&](Node m) {
      for (const PropOut& e : st->pout().List(m)) {
        const Comp y = st->comp_of()[e.dst];
        if (y == cu) {
          cycle = true;
        } else if (st->key()[y] < ub && in_fwd.insert(y).second) {
          fwd.push_back(y);
        }
      }
    });
  }
  // Backward from cu over comps keyed above lb.
  std::vector<Comp> bwd{cu};
  absl::flat_hash_set<Comp> in_bwd{cu};
  for (size_t i = 0; i < bwd.size(); ++i) {
    st->ForEachMember(bwd[i], [&](Node m) {
      for (const PropIn& e : st->pin().List(m)) {
        const Comp y = st->comp_of()[e.src];
        if (st->key()[y] > lb && in_bwd.insert(y).second) bwd.push_back(y);
      }
    });
  }
  auto by_key = [st](Comp a, Comp b) { return st->key()[a] < st->key()[b]; };
  // The keys of fwd and bwd together (a comp in both is on the new cycle).
  std::vector<int64_t> pool;
  pool.reserve(fwd.size() + bwd.size());
  for (Comp c : fwd) pool.push_back(st->key()[c]);
  for (Comp c : bwd) {
    if (!in_fwd.contains(c)) pool.push_back(st->key()[c]);
  }
  std::sort(pool.begin(), pool.end());
  std::sort(fwd.begin(), fwd.end(), by_key);
  std::sort(bwd.begin(), bwd.end(), by_key);
  // Take every affected comp out of comp_by_key before handing keys out:
  // a key moves from one comp to another.
  if (!st->is_overlay()) {
    for (int64_t k : pool) wr.comp_by_key().erase(k);
  }
  std::vector<Comp> merged;
  absl::flat_hash_set<Comp> in_merged;
  if (cycle) {
    // The comps both reachable from cv and reaching cu form one cycle.
    merged.push_back(cv);
    for (Comp c : fwd) {
      if (c != cv && in_bwd.contains(c)) merged.push_back(c);
    }
    merged.push_back(cu);
    in_merged.insert(merged.begin(), merged.end());
  }
  // bwd (minus the cycle) takes the smallest keys, fwd (minus the cycle)
  // the largest, so that no comp of bwd moves later and none of fwd moves
  // earlier: edges from and to comps outside the region stay in order. The
  // merged cycle goes right before fwd's block.
  size_t fwd_rest = 0;
  for (Comp c : fwd) fwd_rest += in_merged.contains(c) ? 0 : 1;
  size_t i = 0;
  for (Comp c : bwd) {
    if (!in_merged.contains(c)) wr.key().Set(c, pool[i++]);
  }
  i = pool.size() - fwd_rest;
  const int64_t merged_key = cycle ? pool[i - 1] : 0;
  for (Comp c : fwd) {
    if (!in_merged.contains(c)) wr.key().Set(c, pool[i++]);
  }
  if (cycle) Merge(st, merged, merged_key);
  if (!st->is_overlay()) {
    for (Comp c : fwd) {
      if (st->comp_flags()[c] & kCompAlive) wr.comp_by_key()[st->key()[c]] = c;
    }
    for (Comp c : bwd) {
      if (st->comp_flags()[c] & kCompAlive) wr.comp_by_key()[st->key()[c]] = c;
    }
  }
}

}  // namespace

void StronglyConnected(const State& st, absl::Span<const Node> nodes, bool all,
                       const std::function<void(std::vector<Node>&)>& emit) {
  // Local numbering: dense for the whole graph, hashed for a subset.
  const size_t n = st.node_count();
  std::vector<int32_t> dense_index;
  absl::flat_hash_map<Node, int32_t> sparse_index;
  std::vector<int32_t> low;
  std::vector<uint8_t> on_stack;
  if (all) {
    dense_index.assign(n, -1);
    low.reserve(n);
    on_stack.reserve(n);
  } else {
    for (Node v : nodes) sparse_index.emplace(v, -1);
  }
  auto index_of = [&](Node v) -> int32_t* {
    if (all) return &dense_index[v];
    auto it = sparse_index.find(v);
    return it == sparse_index.end() ? nullptr : &it->second;
  };
  struct Frame {
    Node v;
    int32_t index;
    uint32_t next;
  };
  std::vector<Frame> frames;
  std::vector<Node> stack;     // Tarjan's stack.
  std::vector<Node> finished;  // Finished, not yet emitted, in finish order.
  std::vector<Node> scc;
  int32_t counter = 0;
  auto visit = [&](Node v) {
    *index_of(v) = counter;
    low.push_back(counter);
    on_stack.push_back(1);
    frames.push_back({v, counter, 0});
    ++counter;
    stack.push_back(v);
  };
  auto root = [&](Node r) {
    if (*index_of(r) >= 0) return;
    visit(r);
    while (!frames.empty()) {
      Frame& f = frames.back();
      absl::Span<const PropOut> out = st.pout().List(f.v);
      if (f.next < out.size()) {
        const Node w = out[f.next++].dst;
        int32_t* wi = index_of(w);
        if (wi == nullptr) continue;  // Outside the subset.
        if (*wi < 0) {
          visit(w);
        } else if (on_stack[*wi]) {
          low[f.index] = std::min(low[f.index], *wi);
        }
        continue;
      }
      const Node v = f.v;
      const int32_t fi = f.index;
      frames.pop_back();
      finished.push_back(v);
      if (low[fi] == fi) {
        // The SCC's nodes are the tail of `finished` (every node finished
        // since v was found either is in it or was emitted already);
        // popping them gives reverse postorder.
        // Its size is the part of Tarjan's stack above (and with) v.
        size_t size = 0;
        Node w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[*index_of(w)] = 0;
          ++size;
        } while (w != v);
        scc.clear();
        for (size_t k = 0; k < size; ++k) {
          scc.push_back(finished.back());  // Latest finished first: v.
          finished.pop_back();
        }
        emit(scc);
      }
      if (!frames.empty()) {
        const int32_t pi = frames.back().index;
        low[pi] = std::min(low[pi], low[fi]);
      }
    }
  };
  if (all) {
    for (Node v = 0; v < n; ++v) root(v);
  } else {
    for (Node v : nodes) root(v);
  }
}

void OrderForFewBackEdges(const State& st, std::vector<Node>* scc,
                          std::vector<int32_t>* local) {
  constexpr size_t kSmall = 32;  // Reverse postorder is fine below this.
  std::vector<Node>& nodes = *scc;
  const size_t k = nodes.size();
  if (k <= kSmall) return;
  std::vector<int32_t>& at = *local;
  for (size_t i = 0; i < k; ++i) at[nodes[i]] = static_cast<int32_t>(i);
  std::vector<int32_t> in(k, 0), out(k, 0);
  int32_t max_degree = 0;
  for (size_t i = 0; i < k; ++i) {
    for (const PropOut& e : st.pout().List(nodes[i])) {
      const int32_t j = at[e.dst];
      if (j < 0) continue;
      ++out[i];
      ++in[j];
    }
  }
  for (size_t i = 0; i < k; ++i)
    max_degree = std::max({max_degree, in[i], out[i]});
  // Buckets of out - in, with lazy entries (a node may sit in an old bucket;
  // it counts only in the bucket of its current difference).
  const int32_t offset = max_degree;
  std::vector<std::vector<int32_t>> buckets(2 * static_cast<size_t>(offset) +
                                            1);
  int32_t top = 0;
  auto bucket = [&](int32_t i) {
    const int32_t b = out[i] - in[i] + offset;
    buckets[b].push_back(i);
    top = std::max(top, b);
  };
  std::vector<int32_t> sinks, sources;
  for (size_t i = 0; i < k; ++i) {
    const int32_t x = static_cast<int32_t>(i);
    bucket(x);
    if (out[i] == 0) sinks.push_back(x);
    if (in[i] == 0) sources.push_back(x);
  }
  std::vector<uint8_t> removed(k, 0);
  std::vector<Node> front, back;
  front.reserve(k);
  size_t remaining = k;
  auto remove = [&](int32_t i) {
    removed[i] = 1;
    --remaining;
    for (const PropOut& e : st.pout().List(nodes[i])) {
      const int32_t j = at[e.dst];
      if (j < 0 || removed[j]) continue;
      if (--in[j] == 0) sources.push_back(j);
      bucket(j);
    }
    for (const PropIn& e : st.pin().List(nodes[i])) {
      const int32_t j = at[e.src];
      if (j < 0 || removed[j]) continue;
      if (--out[j] == 0) sinks.push_back(j);
      bucket(j);
    }
  };
  while (remaining > 0) {
    bool progress = true;
    while (progress) {
      progress = false;
      while (!sinks.empty()) {
        const int32_t i = sinks.back();
        sinks.pop_back();
        if (removed[i]) continue;
        back.push_back(nodes[i]);
        remove(i);
        progress = true;
      }
      while (!sources.empty()) {
        const int32_t i = sources.back();
        sources.pop_back();
        if (removed[i]) continue;
        front.push_back(nodes[i]);
        remove(i);
        progress = true;
      }
    }
    if (remaining == 0) break;
    // The node whose out-edges most outnumber its in-edges goes first.
    while (true) {
      std::vector<int32_t>& b = buckets[top];
      if (b.empty()) {
        --top;
        continue;
      }
      const int32_t i = b.back();
      b.pop_back();
      if (removed[i] || out[i] - in[i] + offset != top) continue;
      front.push_back(nodes[i]);
      remove(i);
      break;
    }
  }
  for (Node v : nodes) at[v] = -1;
  nodes.assign(front.begin(), front.end());
  nodes.insert(nodes.end(), back.rbegin(), back.rend());
}

void BuildCondensation(State* st) {
  CondensationWriter wr(st);
  const size_t n = st->node_count();
  std::vector<Comp> comp_of(n, kNone);
  std::vector<uint32_t> pos(n, 0);
  std::vector<Node> rep;
  std::vector<std::vector<Node>> members;
  rep.reserve(n);
  members.reserve(n);
  size_t count = 0;
  StronglyConnected(*st, {}, true, [&](std::vector<Node>& scc) {
    const Comp c = static_cast<Comp>(count++);
    // Members in node order: BuildState numbered the nodes of each cycle in
    // an order with few backward edges (OrderForFewBackEdges), which this
    // keeps (a cycle is then a contiguous range of nodes) at the cost of a
    // sort rather than another pass of the heuristic.
    std::sort(scc.begin(), scc.end());
    for (size_t i = 0; i < scc.size(); ++i) {
      comp_of[scc[i]] = c;
      pos[scc[i]] = static_cast<uint32_t>(i);
    }
    rep.push_back(scc[0]);
    if (scc.size() > 1) {
      members.emplace_back(scc);
    } else {
      members.emplace_back();
    }
  });
  wr.comp_of().live() = std::move(comp_of);
  wr.pos().live() = std::move(pos);
  wr.rep().live() = std::move(rep);
  wr.members().live() = std::move(members);
  wr.inputs().live().assign(count, {0, 0, 0});
  wr.comp_flags().live().assign(count, kCompAlive);
  wr.key().live().resize(count);
  wr.comp_by_key().clear();
  // Emission order is reverse topological: the last emitted comes first.
  for (size_t c = 0; c < count; ++c) {
    const int64_t k = static_cast<int64_t>(count - c) * kKeyGap;
    wr.key().live()[c] = k;
    wr.comp_by_key().emplace_hint(st->comp_by_key().begin(), k,
                                  static_cast<Comp>(c));
  }
  wr.split_marked().clear();
  wr.condensation_fresh() = true;
}

void ComputeAllInputs(State* st) {
  CondensationWriter wr(st);
  std::vector<std::array<int32_t, kNumFactors>>& inputs = wr.inputs().live();
  std::fill(inputs.begin(), inputs.end(), std::array<int32_t, kNumFactors>{});
  const size_t n = st->node_count();
  for (Node v = 0; v < n; ++v) {
    const Comp c = st->comp_of()[v];
    std::array<int32_t, kNumFactors>& in = inputs[c];
    const Triple& d = st->sd()[v];
    for (int f = 0; f < kNumFactors; ++f) in[f] += d.v[f] < 1 ? 1 : 0;
    for (const PropIn& e : st->pin().List(v)) {
      if (st->comp_of()[e.src] == c) continue;
      const Triple& su = st->s()[e.src];
      for (int f = 0; f < kNumFactors; ++f) in[f] += su.v[f] < 1 ? 1 : 0;
    }
  }
}

void AdjustOutInputs(State* st, Node u, int f, int delta) {
  CondensationWriter wr(st);
  const Comp cu = st->comp_of()[u];
  for (const PropOut& e : st->pout().List(u)) {
    const Comp cv = st->comp_of()[e.dst];
    if (cv == cu) continue;
    std::array<int32_t, kNumFactors> in = st->inputs()[cv];
    in[f] += delta;
    wr.inputs().Set(cv, in);
  }
}

void AddPropEdge(State* st, Node u, Node v, Slot slot, double w) {
  CondensationWriter wr(st);
  wr.condensation_fresh() = false;
  wr.pin().Add(v, {u, slot, w});
  wr.pout().Add(u, {v, slot, WeightBound(w)});
  const Comp cu = st->comp_of()[u];
  const Comp cv = st->comp_of()[v];
  if (cu == cv) return;
  std::array<int32_t, kNumFactors> in = st->inputs()[cv];
  const Triple& su = st->s()[u];
  for (int f = 0; f < kNumFactors; ++f) in[f] += su.v[f] < 1 ? 1 : 0;
  wr.inputs().Set(cv, in);
  if (st->key()[cu] > st->key()[cv]) Reorder(st, cu, cv);
}

void RemovePropEdge(State* st, Node u, Node v, Slot slot) {
  CondensationWriter wr(st);
  wr.condensation_fresh() = false;
  wr.pin().Remove(v, [&](const PropIn& e) { return e.slot == slot; });
  wr.pout().Remove(u, [&](const PropOut& e) { return e.slot == slot; });
  const Comp cu = st->comp_of()[u];
  const Comp cv = st->comp_of()[v];
  if (cu == cv) {
    wr.comp_flags().Set(cu, st->comp_flags()[cu] | kCompNeedsSplit);
    wr.split_marked().push_back(cu);
    return;
  }
  std::array<int32_t, kNumFactors> in = st->inputs()[cv];
  const Triple& su = st->s()[u];
  for (int f = 0; f < kNumFactors; ++f) in[f] -= su.v[f] < 1 ? 1 : 0;
  wr.inputs().Set(cv, in);
}

void ReweightPropEdge(State* st, Node u, Node v, Slot slot, double w) {
  CondensationWriter wr(st);
  for (PropIn& e : wr.pin().Edit(v)) {
    if (e.slot == slot) e.w = w;
  }
  for (PropOut& e : wr.pout().Edit(u)) {
    if (e.slot == slot) e.w = WeightBound(w);
  }
}

void SplitMarkedComps(State* st) {
  CondensationWriter wr(st);
  // The comps marked since the last call (a merge hands its mark to the
  // survivor, which is then listed too), in key order.
  std::vector<Comp> marked;
  for (Comp c : st->split_marked()) {
    if (st->comp_flags()[c] & kCompNeedsSplit) marked.push_back(c);
  }
  wr.split_marked().clear();
  std::sort(marked.begin(), marked.end(),
            [st](Comp a, Comp b) { return st->key()[a] < st->key()[b]; });
  marked.erase(std::unique(marked.begin(), marked.end()), marked.end());
  for (Comp c : marked) {
    wr.comp_flags().Set(c, st->comp_flags()[c] & ~kCompNeedsSplit);
    const std::vector<Node> nodes = st->members()[c];
    if (nodes.empty()) continue;
    std::vector<std::vector<Node>> parts;  // Reverse topological order.
    StronglyConnected(*st, nodes, false,
                      [&](std::vector<Node>& scc) { parts.push_back(scc); });
    if (parts.size() == 1) continue;
    std::reverse(parts.begin(), parts.end());
    // Keys in [key[c], next key).
    auto it = st->comp_by_key().upper_bound(st->key()[c]);
    int64_t next =
        it == st->comp_by_key().end() ? st->key()[c] + 2 * kKeyGap : it->first;
    if ((next - st->key()[c]) / static_cast<int64_t>(parts.size()) < 1) {
      Renumber(st);
      it = st->comp_by_key().upper_bound(st->key()[c]);
      next = it == st->comp_by_key().end() ? st->key()[c] + 2 * kKeyGap
                                           : it->first;
    }
    const int64_t base = st->key()[c];
    const int64_t step = (next - base) / static_cast<int64_t>(parts.size());
    size_t largest = 0;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i].size() > parts[largest].size()) largest = i;
    }
    wr.comp_by_key().erase(base);
    for (size_t i = 0; i < parts.size(); ++i) {
      const int64_t k = base + static_cast<int64_t>(i) * step;
      std::vector<Node>& part = parts[i];
      Comp pc;
      if (i == largest) {
        pc = c;
        wr.key().Set(c, k);
        wr.comp_by_key()[k] = c;
        wr.rep().Set(c, part[0]);
      } else {
        pc = NewComp(st, k, part[0]);
        for (Node v : part) wr.comp_of().Set(v, pc);
      }
      for (size_t k = 0; k < part.size(); ++k) {
        wr.pos().Set(part[k], static_cast<uint32_t>(k));
      }
      if (part.size() > 1) {
        wr.members().Set(pc, part);
      } else {
        wr.members().Set(pc, {});
      }
    }
    // Recount every part (edges between parts now count as inputs).
    for (size_t i = 0; i < parts.size(); ++i) {
      CountInputs(st, st->comp_of()[parts[i][0]]);
    }
  }
}

void AddSingletonComp(State* st, Node v) {
  CondensationWriter wr(st);
  wr.condensation_fresh() = false;
  const int64_t k = st->comp_by_key().empty()
                        ? kKeyGap
                        : st->comp_by_key().rbegin()->first + kKeyGap;
  const Comp c = NewComp(st, k, v);
  if (st->comp_of().size() <= v) {
    wr.comp_of().PushBack(c);
    wr.pos().PushBack(0);
  } else {
    wr.comp_of().Set(v, c);
    wr.pos().Set(v, 0);
  }
}

}  // namespace georisk::scorer::internal
