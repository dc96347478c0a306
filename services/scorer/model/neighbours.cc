#include "services/scorer/model/neighbours.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/proto_time.h"

namespace georisk::scorer::internal {
namespace {

constexpr absl::string_view kTokenVersion = "n1";

// An edge's place in the answer's order.
struct Key {
  int direction = 0;  // 0 inbound, 1 outbound.
  int kind = 0;
  std::string other;
  std::string product;
  std::string record;
  auto Tie() const { return std::tie(direction, kind, other, product, record); }
  bool operator<(const Key& o) const { return Tie() < o.Tie(); }
};

struct Entry {
  Key key;
  Slot slot;
  Node other;
};

// What a token is tied to: the entity, the direction and the kinds.
std::string Filter(const NeighbourQuery& q, v1::Direction direction,
                   const std::vector<int>& kinds) {
  return absl::StrCat(q.entity_id, "|", static_cast<int>(direction), "|",
                      absl::StrJoin(kinds, ","));
}

std::string EncodeToken(const std::string& filter, const Key& k) {
  return absl::WebSafeBase64Escape(absl::StrJoin(
      {std::string(kTokenVersion), filter, absl::StrCat(k.direction),
       absl::StrCat(k.kind), k.other, k.product, k.record},
      "\n"));
}

absl::StatusOr<Key> DecodeToken(absl::string_view token,
                                const std::string& filter) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("page_token: ", why));
  };
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad("corrupt");
  std::vector<std::string> parts = absl::StrSplit(raw, '\n');
  Key k;
  if (parts.size() != 7 || parts[0] != kTokenVersion ||
      !absl::SimpleAtoi(parts[2], &k.direction) ||
      !absl::SimpleAtoi(parts[3], &k.kind)) {
    return bad("corrupt");
  }
  if (parts[1] != filter) {
    return bad("from another request (entity_id, direction or kinds changed)");
  }
  k.other = std::move(parts[4]);
  k.product = std::move(parts[5]);
  k.record = std::move(parts[6]);
  return k;
}

// The propagation weight of the edge in `slot` when exposure flows over it
// now (an entry of the propagation graph), else 0.
double PropagationWeight(const State& st, Slot slot, const EdgeRec& e) {
  for (Node n : {e.to, e.from}) {
    for (const PropIn& in : st.pin().List(n)) {
      if (in.slot == slot) return in.w;
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<v1::ListNeighboursResponse> ListNeighbours(
    const State& st, const Params& p, Node v, const NeighbourQuery& q) {
  if (!v1::Direction_IsValid(q.direction)) {
    return absl::InvalidArgumentError(
        absl::StrCat("direction: unknown value ", q.direction));
  }
  std::vector<int> kinds;
  for (size_t i = 0; i < q.kinds.size(); ++i) {
    if (!v1::Edge::Kind_IsValid(q.kinds[i]) ||
        q.kinds[i] == v1::Edge::KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "]: unknown value ", q.kinds[i]));
    }
    kinds.push_back(q.kinds[i]);
  }
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  const v1::Direction direction = q.direction == v1::DIRECTION_UNSPECIFIED
                                      ? v1::DIRECTION_OUTBOUND
                                      : q.direction;
  const std::string filter = Filter(q, direction, kinds);
  std::optional<Key> after;
  if (!q.page_token.empty()) {
    absl::StatusOr<Key> k = DecodeToken(q.page_token, filter);
    if (!k.ok()) return k.status();
    after = *std::move(k);
  }
  auto wanted = [&](const EdgeRec& e) {
    return e.alive && e.kind != kLinkEdge &&
           (kinds.empty() ||
            std::binary_search(kinds.begin(), kinds.end(), e.kind));
  };
  std::vector<Entry> entries;
  auto add = [&](int dir, Slot slot, Node other) {
    const EdgeRec& e = st.edges()[slot];
    entries.push_back({{dir, static_cast<int>(e.kind), st.entities()[other].id,
                        st.ProductCode(e.product), e.record_id.get()},
                       slot,
                       other});
  };
  if (direction != v1::DIRECTION_OUTBOUND) {
    for (Slot slot : st.in_slots().List(v)) {
      const EdgeRec& e = st.edges()[slot];
      // A self-loop is listed once, outbound.
      if (wanted(e) && !(e.from == v && direction == v1::DIRECTION_BOTH)) {
        add(0, slot, e.from);
      }
    }
  }
  if (direction != v1::DIRECTION_INBOUND) {
    for (Slot slot : st.out_slots().List(v)) {
      const EdgeRec& e = st.edges()[slot];
      if (wanted(e)) add(1, slot, e.to);
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.key.Tie() != b.key.Tie()) return a.key < b.key;
    return a.slot < b.slot;
  });
  v1::ListNeighboursResponse out;
  out.set_total_size(static_cast<int64_t>(entries.size()));
  auto it = entries.begin();
  if (after.has_value()) {
    it = std::upper_bound(
        entries.begin(), entries.end(), *after,
        [](const Key& k, const Entry& e) { return k < e.key; });
  }
  const int page_size = std::max(1, q.page_size);
  for (; it != entries.end() && out.neighbours_size() < page_size; ++it) {
    const EdgeRec& e = st.edges()[it->slot];
    const EntityRec& other = st.entities()[it->other];
    v1::Neighbour* n = out.add_neighbours();
    v1::Edge* edge = n->mutable_edge();
    edge->set_from_id(st.entities()[e.from].id);
    edge->set_to_id(st.entities()[e.to].id);
    edge->set_kind(e.kind);
    edge->set_weight(e.weight);
    edge->set_product_code(st.ProductCode(e.product));
    edge->set_annual_value_usd(e.value_usd);
    if (e.from_ns != kPast) {
      *edge->mutable_effective_from() = base::ToProtoTime(NsToTime(e.from_ns));
    }
    if (e.until_ns != kFuture) {
      *edge->mutable_effective_until() =
          base::ToProtoTime(NsToTime(e.until_ns));
    }
    edge->set_record_id(e.record_id.get());
    edge->set_share_unknown(e.share_unknown);
    n->set_direction(it->key.direction == 0 ? v1::DIRECTION_INBOUND
                                            : v1::DIRECTION_OUTBOUND);
    n->set_entity_id(other.id);
    n->set_entity_name(other.name);
    n->set_entity_kind(other.kind);
    n->set_country(UnpackCountry(other.country));
    const double composite = Composite(p, st.s()[it->other]);
    n->set_composite(composite);
    n->set_band(BandOf(p, composite));
    const double w = PropagationWeight(st, it->slot, e);
    n->set_propagates(w > 0);
    n->set_propagation_weight(w);
  }
  if (it != entries.end() && out.neighbours_size() > 0) {
    out.set_next_page_token(
        EncodeToken(filter, entries[it - entries.begin() - 1].key));
  }
  return out;
}

}  // namespace georisk::scorer::internal
