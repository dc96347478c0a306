#include "services/scorer/record_provenance.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "services/scorer/model/wording.h"

namespace georisk::scorer {
namespace {

// The origins of the edges an explanation names ("" for one that has none
// or that the mirror does not hold), each read once.
class EdgeOrigins {
 public:
  explicit EdgeOrigins(const storage::GraphMirror& mirror) : mirror_(mirror) {}

  // Sets m->edge_provenance (created only then) when the edge has an origin.
  template <typename Message>
  absl::Status Fill(const v1::EdgeKey& key, Message* m) {
    const std::string mirror_key = storage::GraphMirror::EdgeKey(key);
    auto it = origins_.find(mirror_key);
    if (it == origins_.end()) {
      absl::StatusOr<v1::Edge> edge = mirror_.GetEdge(key);
      if (!edge.ok() && !absl::IsNotFound(edge.status())) return edge.status();
      it = origins_
               .emplace(mirror_key,
                        edge.ok() ? edge->update_origin() : std::string())
               .first;
    }
    if (!it->second.empty()) {
      internal::FillProvenance(
          internal::EdgeLabel(key.kind(), key.product_code()), it->second,
          m->mutable_edge_provenance());
    }
    return absl::OkStatus();
  }

 private:
  const storage::GraphMirror& mirror_;
  absl::flat_hash_map<std::string, std::string> origins_;
};

}  // namespace

absl::Status AddRecordProvenance(const storage::GraphMirror& mirror,
                                 v1::Explanation* explanation) {
  const v1::Score& score = explanation->score();
  absl::StatusOr<v1::Entity> entity = mirror.GetEntity(score.entity_id());
  if (!entity.ok() && !absl::IsNotFound(entity.status())) {
    return entity.status();
  }
  if (entity.ok() && !entity->update_origin().empty()) {
    internal::FillProvenance(
        score.entity_name().empty() ? score.entity_id() : score.entity_name(),
        entity->update_origin(), explanation->mutable_entity_provenance());
  }
  EdgeOrigins edges(mirror);
  int upstream = 0;
  for (v1::Contribution& c : *explanation->mutable_contributions()) {
    if (!c.has_upstream() || !c.upstream().has_edge()) continue;
    if (upstream++ >= kMaxUpstreamProvenance) break;
    v1::UpstreamContribution* up = c.mutable_upstream();
    if (absl::Status s = edges.Fill(up->edge(), up); !s.ok()) return s;
  }
  for (v1::ExplanationPath& path : *explanation->mutable_paths()) {
    for (v1::PathHop& hop : *path.mutable_hops()) {
      if (!hop.has_edge()) continue;
      if (absl::Status s = edges.Fill(hop.edge(), &hop); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace georisk::scorer
