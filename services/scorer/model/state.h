// File: services/scorer/model/state.h
//
// The scorer's compiled graph and scores (internal to the model library).
//
// Entities get dense node numbers, edges dense slot numbers. Two families of
// adjacency lists are kept:
//   - stored direction (in_slots / out_slots): every live edge record, for the
//     direct-exposure rules (tariffs, destination controls, ownership rule);
//   - propagation direction (pin / pout): only edges that carry exposure now
//     (alive, in effect at as_of, weight > 0, not a self-loop), oriented the
//     way exposure flows: SUPPLIES supplier -> customer (w = beta x
//     dependency), OPERATES facility -> operator (w = capacity share), OWNS
//     child -> parent (w = ownership share).
// Per node and factor the state keeps the direct survival sd = 1 - d and the
// propagated survival s = 1 - R ("survival" form keeps exact zeros exact and
// products cheap). The condensation of the propagation graph (strongly
// connected components, "comps", ordered by an integer key that increases
// along every edge) orders incremental recomputation; per comp and factor a
// counter of inputs (members with d > 0 plus edges from other comps whose
// source has R > 0) tells an input-less cycle, whose least fixed point is 0,
// from one whose fixed point is unique.
//
// Every mutable part is a copy-on-write container (cow.h): State::Overlay()
// makes a what-if state over a live one without copying it. Who may change
// which part is set out above class State.
//
// Thread-compatible.
#ifndef GEORISK_SERVICES_SCORER_MODEL_STATE_H_
#define GEORISK_SERVICES_SCORER_MODEL_STATE_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/model.pb.h"
#include "services/scorer/model/cow.h"
#include "services/scorer/model/parties.h"

namespace georisk::scorer {
class Engine;
}  // namespace georisk::scorer

namespace georisk::scorer::internal {

using Node = uint32_t;
using Slot = uint32_t;
using Comp = uint32_t;
inline constexpr uint32_t kNone = 0xffffffffu;

inline constexpr int kNumFactors = 3;  // 0 export controls, 1 tariffs, 2 CS.
// Survivals are held at or above this so that -ln(1 - R) stays finite
// (R <= 1 - 1e-15, -ln(1 - R) <= 34.5).
inline constexpr double kMinSurvival = 1e-15;
// Keys of comps created by a full condensation are this far apart.
inline constexpr int64_t kKeyGap = int64_t{1} << 32;
inline constexpr int64_t kPast = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kFuture = std::numeric_limits<int64_t>::max();

// Factor index (0..2) <-> proto enum.
inline int FactorIndex(v1::Factor f) { return static_cast<int>(f) - 1; }
inline v1::Factor FactorOf(int i) { return static_cast<v1::Factor>(i + 1); }

// Two-letter country codes packed in 16 bits; 0 means none ("*" in tariffs).
uint16_t PackCountry(absl::string_view code);
std::string UnpackCountry(uint16_t code);
inline constexpr uint16_t kTW = ('T' << 8) | 'W';
inline constexpr uint16_t kCN = ('C' << 8) | 'N';

// Nanoseconds since the epoch, saturating; the ends stand for "unset".
int64_t ToNs(absl::Time t);
int64_t FromNs(const google::protobuf::Timestamp& ts, bool has, int64_t unset);
absl::Time NsToTime(int64_t ns);

inline bool ActiveAt(int64_t from, int64_t until, int64_t t) {
  return from <= t && t < until;
}

struct Triple {
  std::array<double, kNumFactors> v{1.0, 1.0, 1.0};
  bool operator==(const Triple& o) const { return v == o.v; }
  bool operator!=(const Triple& o) const { return v != o.v; }
};

struct EntityRec {
  std::string id;
  std::string name;
  v1::Entity::Kind kind = v1::Entity::KIND_UNSPECIFIED;
  uint16_t country = 0;
  bool alive = false;
};

// The fields of an entity the rules read for every neighbour, packed apart
// from its strings so that hot loops stay in cache. Kept in step with
// EntityRec by State::SetEntity / AddEntity.
struct NodeInfo {
  uint16_t country = 0;
  uint8_t kind = 0;  // v1::Entity::Kind
  uint8_t alive = 0;
};

// A value that is empty in almost every record, held out of line: an empty
// one costs a null pointer (8 bytes) instead of sizeof(T) (32 for a string,
// 24 for a vector). Copies copy the value; get() of an empty one is a
// shared empty T.
template <typename T>
class Rare {
 public:
  Rare() = default;
  Rare(const Rare& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Rare& operator=(const Rare& o) {
    p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Rare(Rare&&) noexcept = default;
  Rare& operator=(Rare&&) noexcept = default;
  Rare& operator=(T value) {
    if (value.empty()) {
      p_.reset();
    } else {
      p_ = std::make_unique<T>(std::move(value));
    }
    return *this;
  }

  const T& get() const { return p_ ? *p_ : Empty(); }
  bool empty() const { return p_ == nullptr; }

 private:
  static const T& Empty() {
    static const T* const empty = new T();
    return *empty;
  }
  std::unique_ptr<T> p_;
};

// One edge record. Several records of one pair (from, kind, to, product)
// are told apart by record_id (dated ownership records); of those in effect
// at a date only the one whose window started last (then the greatest
// record_id) counts: `shadows` holds the windows of the records that outrank
// this one, and ActiveAt is false inside them (docs/scoring-model.md,
// "Dated ownership"). Empty for the only record of a pair.
// 72 bytes: the record id and the shadows, empty for almost every edge, are
// held out of line (Rare), and the flags after them (issue 20: 112 bytes
// before, most of the scorer's memory per edge).
struct EdgeRec {
  Node from = kNone;  // Stored direction.
  Node to = kNone;
  v1::Edge::Kind kind = v1::Edge::KIND_UNSPECIFIED;
  uint32_t product = 0;  // products[0] is "".
  double weight = 0;
  double value_usd = 0;
  int64_t from_ns = kPast;
  int64_t until_ns = kFuture;
  Rare<std::string> record_id;
  Rare<std::vector<std::pair<int64_t, int64_t>>> shadows;
  bool alive = false;
  // The owner is a PERSON: exposure does not flow from the owned company
  // into the person (a person's score is its own listings).
  bool into_person = false;
  // OWNS whose share the publisher does not give (weight 0): counts nowhere,
  // shown in explanations (docs/scoring-model.md, "Unknown shares").
  bool share_unknown = false;
  // In effect at t: alive, inside its window, outranked by no record of its
  // pair in effect at t.
  bool ActiveAt(int64_t t) const {
    if (!alive || !internal::ActiveAt(from_ns, until_ns, t)) return false;
    for (const auto& [from, until] : shadows.get()) {
      if (internal::ActiveAt(from, until, t)) return false;
    }
    return true;
  }
  // Inside its own window, whatever its pair's other records say.
  bool InWindow(int64_t t) const {
    return alive && internal::ActiveAt(from_ns, until_ns, t);
  }
  bool SamePair(const EdgeRec& o) const {
    return from == o.from && to == o.to && kind == o.kind &&
           product == o.product;
  }
  // Does this record outrank `o` of the same pair where both are in effect?
  bool Outranks(const EdgeRec& o) const {
    if (from_ns != o.from_ns) return from_ns > o.from_ns;
    return record_id.get() > o.record_id.get();
  }
};

static_assert(sizeof(EdgeRec) <= 72, "EdgeRec is kept compact (issue 20)");

// A propagation in-edge of a node: exposure flows src -> node with weight w.
struct PropIn {
  Node src;
  Slot slot;
  double w;
};
// A propagation out-edge.
struct PropOut {
  Node dst;
  Slot slot;
  // The edge's weight rounded up to a float (WeightBound): how far a move of
  // the source can move dst's survival, at most (see State::drift).
  float w;
};

// The smallest float at or above w.
inline float WeightBound(double w) {
  float f = static_cast<float>(w);
  if (static_cast<double>(f) < w) f = std::nextafter(f, 2.0f);
  return f;
}

struct SignalRec {
  std::string id;
  std::string title;
  std::string source;
  // The origin of the commit that last wrote it (Signal.update_origin):
  // its provenance in explanations.
  std::string update_origin;
  int64_t from_ns = kPast;
  int64_t until_ns = kFuture;
  v1::SignalKind kind = v1::SIGNAL_KIND_UNSPECIFIED;
  // Export control.
  std::string authority;
  v1::ExportControl::Kind ec_kind = v1::ExportControl::KIND_UNSPECIFIED;
  std::vector<std::string> targets;
  std::vector<uint16_t> destinations;
  std::vector<std::string> product_prefixes;
  // The severity the model uses: the signal's own, else its measure's
  // default (MeasurePolicy.default_severity).
  double severity = 0;
  std::string list;
  v1::ExportControl::Measure measure = v1::ExportControl::MEASURE_UNSPECIFIED;
  // Its measure's policy: whether it counts at all, and whether the
  // ownership rules extend it (true for every non-export-control signal).
  bool counts = true;
  bool rules_apply = true;
  // Tariff.
  std::string programme;
  uint16_t importer = 0;
  uint16_t origin = 0;  // 0: every origin ("*").
  std::string hs_prefix;
  double rate = 0;
  // Tension.
  std::string theatre;
  double level = 0;
  std::vector<std::pair<uint16_t, double>> weights;

  bool ActiveAt(int64_t t) const {
    return internal::ActiveAt(from_ns, until_ns, t);
  }
};

struct Params;
// The model's record of `s`, its measure resolved with `p`'s policies.
SignalRec ToSignalRec(const v1::Signal& s, const Params& p);

// A company's membership of an authority's ownership-rule closure.
struct RuleMember {
  // The severity the rule carries to this member: for a listed party the
  // highest severity of its listings by the authority; for a qualifying
  // company the highest among its owners in the closure.
  double severity = 0;
  std::string signal_id;  // The listing that severity comes from.
  bool listed = false;    // Listed in its own right (a seed of the closure).
};

struct RuleState {
  bool active = false;
  absl::flat_hash_map<Node, RuleMember> members;
};

// Export-control listing status of a node, kept for the few nodes that have
// one (see docs/scoring-model.md, "Listings are not counted twice").
struct ListingInfo {
  // Authorities whose listing reaches the node (directly, by an ownership
  // rule, or through an operator), sorted, unique.
  std::vector<std::string> status;
  // Survival (1 - severity) of each derived listing (ownership rule or
  // operator), by authority.
  std::vector<std::pair<std::string, double>> derived;
  // Survival of the node's other export-control exposures.
  double base_survival = 1;
  // Export-control product over in-edges at the last evaluation.
  double up_survival = 1;
  bool HasStatus(absl::string_view authority) const;
};

inline constexpr uint8_t kHasListing = 1;  // listing map has an entry
inline constexpr uint8_t kHasDerived = 2;  // ... with derived listings

inline constexpr uint8_t kCompAlive = 1;
// Lost an internal edge: the live state splits it before propagating; an
// overlay recomputes it from zero instead (its members are a union of
// strongly connected components in a valid order).
inline constexpr uint8_t kCompNeedsSplit = 2;

struct RuleParams {
  std::string authority;
  double threshold = 0.5;
  bool more_than = false;  // OwnershipRule.more_than
  v1::OwnershipRule proto;
  std::string percent;  // "50%"
};

// The model config, unpacked for the hot paths.
struct Params {
  std::string version;
  double beta = 0.85;
  double tariff_cap = 0.5;
  std::array<double, kNumFactors> lambda{1, 1, 1};
  double band_medium = 30, band_high = 60, band_critical = 80;
  double tolerance = 1e-10;
  int max_iterations = 1000;
  std::vector<std::pair<uint16_t, double>> default_tension_weights;
  std::vector<RuleParams> rules;
  // By ExportControl.Measure value; measures beyond it take `unknown_measure`.
  std::vector<v1::MeasurePolicy> measures;
  v1::MeasurePolicy unknown_measure;
  const v1::MeasurePolicy& MeasurePolicyOf(int measure) const {
    return measure >= 0 && measure < static_cast<int>(measures.size())
               ? measures[measure]
               : unknown_measure;
  }
};

Params MakeParams(const v1::ModelConfig& normalized);

// The composite 0..100 of survivals s: 100 (1 - prod_f (1 - lambda_f R_f)).
double Composite(const Params& p, const Triple& s);
v1::Band BandOf(const Params& p, double composite);

// The compiled graph, its condensation and the scores. Everyone reads it
// through the const accessors below; its members are private and change only
// along the model's three mutation paths (the full rebuild, the incremental
// update, and the regroup of parties it includes), each through a writer
// class. A writer is named a friend here and defined in one .cc file and in no
// header, so that only that file can change the state, and only the members
// its writer gives out:
//   - GraphWriter (update.cc: BuildState, IndexSignal, RescoreAll and the
//     Updater, the full rebuild, the incremental update and the regroup of
//     parties): the graph (entities and info through SetEntity/AddEntity,
//     products and product_of through InternProduct, the rebuild filling
//     entities, info and products in bulk; node_of, edges, in_slots,
//     out_slots), signals and their indexes, rules, as_of_ns, sequence at a
//     rebuild, the live-only indexes (nodes_by_country, edge_events,
//     free_slots), parties; the direct scores sd and flags; s and listing;
//     inputs and condensation_fresh; pin and pout, which the rebuild builds
//     and an update compacts (every other edit is CondensationWriter's);
//   - CondensationWriter (condensation.cc): the propagation graph and its
//     condensation (pin, pout, comp_of, key, inputs, members, pos, rep,
//     comp_flags, comp_by_key, split_marked, condensation_fresh);
//   - PropagationWriter (propagate.cc: FullPropagate, the Propagator): the
//     propagated scores s and listing, and drift;
//   - StateTestWriter (condensation_test.cc only): the nodes and propagation
//     graphs its tests build by hand.
//   - WarmStartTestWriter (warm_start_test.cc only): the propagated
//     survivals s, set to arbitrary starts for a warm FullPropagate.
// Engine (engine.cc) sets `sequence` after an update (Apply, Advance) and
// changes nothing else. Overlay() copies the views of a live state.
class State {
 public:
  // An empty live state.
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // A copy-on-write overlay over `live`, which must outlive it and not change
  // while it exists.
  static std::unique_ptr<State> Overlay(const State* live);

  bool is_overlay() const { return live_ != nullptr; }
  // The live state this overlays (this one when live).
  const State& live() const { return live_ ? *live_ : *this; }

  size_t node_count() const { return entities_.size(); }

  // Entities and edges.
  const CowVec<EntityRec>& entities() const { return entities_; }
  const CowVec<NodeInfo>& info() const { return info_; }
  // Dead entities stay mapped.
  const CowMap<std::string, Node>& node_of() const { return node_of_; }
  const CowVec<EdgeRec>& edges() const { return edges_; }
  // products()[0] = "".
  const CowVec<std::string>& products() const { return products_; }
  const CowMap<std::string, uint32_t>& product_of() const {
    return product_of_;
  }
  // Alive edges whose `to` is the node.
  const Adjacency<Slot>& in_slots() const { return in_slots_; }
  // Alive edges whose `from` is the node.
  const Adjacency<Slot>& out_slots() const { return out_slots_; }
  const Adjacency<PropIn>& pin() const { return pin_; }
  const Adjacency<PropOut>& pout() const { return pout_; }

  // Signals and their indexes (all signals, active or not).
  const CowMap<std::string, SignalRec>& signals() const { return signals_; }
  const CowMap<std::string, std::vector<std::string>>& by_target() const {
    return by_target_;
  }
  const CowMap<uint16_t, std::vector<std::string>>& tariffs_by_importer()
      const {
    return tariffs_by_importer_;
  }
  const CowMap<std::string, bool>& destination_controls() const {
    return destination_controls_;
  }
  const CowMap<std::string, bool>& tensions() const { return tensions_; }

  // Ownership rules, one per Params::rules entry.
  const CowVec<RuleState>& rules() const { return rules_; }

  // Scores.
  const CowVec<Triple>& sd() const { return sd_; }  // Direct survival.
  const CowVec<Triple>& s() const { return s_; }    // Propagated survival.
  const CowVec<uint8_t>& flags() const { return flags_; }
  const CowMap<Node, ListingInfo>& listing() const { return listing_; }

  // Condensation.
  const CowVec<Comp>& comp_of() const { return comp_of_; }
  const CowVec<int64_t>& key() const { return key_; }
  const CowVec<std::array<int32_t, kNumFactors>>& inputs() const {
    return inputs_;
  }
  // Members of a multi-node comp in an order with few edges pointing
  // backwards (condensation.h, OrderForFewBackEdges; reverse postorder for
  // small ones), so that sweeping them in order settles a cycle in few
  // passes. Empty for a singleton comp.
  const CowVec<std::vector<Node>>& members() const { return members_; }
  // Per node: its index in members (0 if single).
  const CowVec<uint32_t>& pos() const { return pos_; }
  // A member (the only one, if single).
  const CowVec<Node>& rep() const { return rep_; }
  const CowVec<uint8_t>& comp_flags() const { return comp_flags_; }

  int64_t as_of_ns() const { return as_of_ns_; }
  int64_t sequence() const { return sequence_; }

  // Live-only indexes (an overlay reads its live state's).
  const absl::flat_hash_map<uint16_t, std::vector<Node>>& nodes_by_country()
      const {
    return nodes_by_country_;
  }
  // Window boundaries.
  const absl::btree_multimap<int64_t, Slot>& edge_events() const {
    return edge_events_;
  }
  const absl::btree_map<int64_t, Comp>& comp_by_key() const {
    return comp_by_key_;
  }
  // Dead edge slots to reuse.
  const std::vector<Slot>& free_slots() const { return free_slots_; }
  // Links and the parties they make (parties.h); an overlay reads its live
  // state's and cannot change links.
  const Parties& parties() const { return parties_; }
  // Per node (may be shorter than node_count(): missing entries are 0): a
  // bound on how far the kernel's value for the node may have moved since
  // it was last evaluated, i.e. the sum over its in-edges of w times how far
  // the source's survival moved since then. Its stored survival is within
  // tolerance + drift of the kernel; propagation re-evaluates a node once
  // its drift reaches the tolerance (docs/scoring-model.md, "Incremental
  // rescoring").
  const std::vector<double>& drift() const { return drift_; }
  // The condensation is exactly what BuildCondensation would compute now:
  // it ran last and no propagation edge or node came or went since (edits
  // keep the condensation valid but not identical: merged members are
  // appended, split parts come in search order). A full rescore after a
  // signal or weight change then reuses it.
  bool condensation_fresh() const { return condensation_fresh_; }
  // Comps marked kCompNeedsSplit since the last SplitMarkedComps (may
  // repeat, or no longer be marked), so that it need not scan every comp.
  const std::vector<Comp>& split_marked() const { return split_marked_; }

  // Helpers.
  bool IsMulti(Comp c) const { return !members_[c].empty(); }
  size_t CompSize(Comp c) const {
    return members_[c].empty() ? 1 : members_[c].size();
  }
  template <typename Fn>
  void ForEachMember(Comp c, Fn fn) const {
    const std::vector<Node>& m = members_[c];
    if (m.empty()) {
      fn(rep_[c]);
    } else {
      for (Node v : m) fn(v);
    }
  }
  bool Alive(Node v) const { return info_[v].alive != 0; }
  static NodeInfo InfoOf(const EntityRec& e) {
    return {e.country, static_cast<uint8_t>(e.kind),
            static_cast<uint8_t>(e.alive ? 1 : 0)};
  }
  const std::string& ProductCode(uint32_t p) const { return products_[p]; }
  // The slot of the alive edge with this key, or kNone.
  Slot FindEdge(Node from, v1::Edge::Kind kind, Node to, uint32_t product,
                absl::string_view record_id) const;
  // The slots of the alive records of the pair (from, kind, to, product).
  std::vector<Slot> PairRecords(Node from, v1::Edge::Kind kind, Node to,
                                uint32_t product) const;
  // The signals targeting `id` (any kind, active or not).
  const std::vector<std::string>* SignalsTargeting(absl::string_view id) const {
    return by_target_.Find(id);
  }

 private:
  friend class GraphWriter;
  friend class CondensationWriter;
  friend class PropagationWriter;
  friend class StateTestWriter;
  friend class WarmStartTestWriter;
  friend class ::georisk::scorer::Engine;

  // Entities are written through these, which keep info_ in step.
  void SetEntity(Node v, EntityRec rec) {
    info_.Set(v, InfoOf(rec));
    entities_.Set(v, std::move(rec));
  }
  void AddEntity(EntityRec rec) {
    info_.PushBack(InfoOf(rec));
    entities_.PushBack(std::move(rec));
  }
  uint32_t InternProduct(absl::string_view code);

  const State* live_ = nullptr;

  CowVec<EntityRec> entities_;
  CowVec<NodeInfo> info_;
  CowMap<std::string, Node> node_of_;
  CowVec<EdgeRec> edges_;
  CowVec<std::string> products_;
  CowMap<std::string, uint32_t> product_of_;
  Adjacency<Slot> in_slots_;
  Adjacency<Slot> out_slots_;
  Adjacency<PropIn> pin_;
  Adjacency<PropOut> pout_;

  CowMap<std::string, SignalRec> signals_;
  CowMap<std::string, std::vector<std::string>> by_target_;
  CowMap<uint16_t, std::vector<std::string>> tariffs_by_importer_;
  CowMap<std::string, bool> destination_controls_;
  CowMap<std::string, bool> tensions_;

  CowVec<RuleState> rules_;

  CowVec<Triple> sd_;
  CowVec<Triple> s_;
  CowVec<uint8_t> flags_;
  CowMap<Node, ListingInfo> listing_;

  CowVec<Comp> comp_of_;
  CowVec<int64_t> key_;
  CowVec<std::array<int32_t, kNumFactors>> inputs_;
  CowVec<std::vector<Node>> members_;
  CowVec<uint32_t> pos_;
  CowVec<Node> rep_;
  CowVec<uint8_t> comp_flags_;

  int64_t as_of_ns_ = 0;
  int64_t sequence_ = 0;

  absl::flat_hash_map<uint16_t, std::vector<Node>> nodes_by_country_;
  absl::btree_multimap<int64_t, Slot> edge_events_;
  absl::btree_map<int64_t, Comp> comp_by_key_;
  std::vector<Slot> free_slots_;
  Parties parties_;
  std::vector<double> drift_;
  bool condensation_fresh_ = false;
  std::vector<Comp> split_marked_;
};

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_STATE_H_
