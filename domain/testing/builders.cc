#include "domain/testing/builders.h"

#include <string>
#include <utility>
#include <vector>

#include "base/proto_time.h"

namespace georisk::domain::testing {

namespace {
v1::Entity MakeEntity(const std::string& id, v1::Entity::Kind kind,
                      const std::string& country) {
  v1::Entity e;
  e.set_id(id);
  e.set_kind(kind);
  e.set_name(id.substr(id.find('/') + 1));
  e.set_country(country);
  e.set_source("test");
  return e;
}

v1::Edge MakeEdge(const std::string& from, const std::string& to,
                  v1::Edge::Kind kind, double weight) {
  v1::Edge e;
  e.set_from_id(from);
  e.set_to_id(to);
  e.set_kind(kind);
  e.set_weight(weight);
  e.set_source("test");
  return e;
}
}  // namespace

v1::Entity Company(const std::string& id, const std::string& country) {
  return MakeEntity(id, v1::Entity::COMPANY, country);
}

v1::Entity NamedCompany(const std::string& id, const std::string& name,
                        const std::string& country, const std::string& lei,
                        const std::string& source) {
  v1::Entity e = MakeEntity(id, v1::Entity::COMPANY, country);
  e.set_name(name);
  if (!lei.empty()) (*e.mutable_identifiers())["lei"] = lei;
  e.set_source(source);
  return e;
}

v1::Entity Person(const std::string& id, const std::string& country) {
  return MakeEntity(id, v1::Entity::PERSON, country);
}

v1::Entity WithIdentifiers(
    v1::Entity e,
    const std::vector<std::pair<std::string, std::string>>& identifiers) {
  for (const auto& [scheme, value] : identifiers) {
    (*e.mutable_identifiers())[scheme] = value;
  }
  return e;
}

v1::Entity Facility(const std::string& id, const std::string& country) {
  v1::Entity e = MakeEntity(id, v1::Entity::FACILITY, country);
  e.set_facility_type(v1::Entity::FAB);
  return e;
}

v1::Edge Supplies(const std::string& from, const std::string& to,
                  double dependency, const std::string& product) {
  v1::Edge e = MakeEdge(from, to, v1::Edge::SUPPLIES, dependency);
  e.set_product_code(product);
  return e;
}

v1::Edge Operates(const std::string& company, const std::string& facility,
                  double capacity_share) {
  return MakeEdge(company, facility, v1::Edge::OPERATES, capacity_share);
}

v1::Edge Owns(const std::string& parent, const std::string& child,
              double share) {
  return MakeEdge(parent, child, v1::Edge::OWNS, share);
}

v1::Edge Window(v1::Edge e, absl::Time from, absl::Time until) {
  if (from != absl::InfinitePast())
    *e.mutable_effective_from() = base::ToProtoTime(from);
  if (until != absl::InfiniteFuture()) {
    *e.mutable_effective_until() = base::ToProtoTime(until);
  }
  return e;
}

v1::Edge WithRecordId(v1::Edge e, const std::string& record_id) {
  e.set_record_id(record_id);
  return e;
}

namespace {
v1::Signal MakeControl(const std::string& id, const std::string& authority,
                       v1::ExportControl::Kind kind, double severity) {
  v1::Signal s;
  s.set_id(id);
  s.set_source("test");
  s.set_title(id.substr(id.find('/') + 1));
  v1::ExportControl* c = s.mutable_export_control();
  c->set_authority(authority);
  c->set_kind(kind);
  c->set_severity(severity);
  return s;
}
}  // namespace

v1::Signal Listing(const std::string& id, const std::string& authority,
                   const std::vector<std::string>& targets, double severity) {
  v1::Signal s =
      MakeControl(id, authority, v1::ExportControl::ENTITY_LISTING, severity);
  for (const std::string& t : targets)
    s.mutable_export_control()->add_target_ids(t);
  return s;
}

v1::Signal Revoked(const std::string& id, const std::string& authority,
                   const std::vector<std::string>& facilities,
                   double severity) {
  v1::Signal s =
      MakeControl(id, authority,
                  v1::ExportControl::FACILITY_AUTHORIZATION_REVOKED, severity);
  for (const std::string& t : facilities) {
    s.mutable_export_control()->add_target_ids(t);
  }
  return s;
}

v1::Signal Destination(const std::string& id, const std::string& authority,
                       const std::vector<std::string>& countries,
                       const std::vector<std::string>& products,
                       double severity) {
  v1::Signal s = MakeControl(id, authority,
                             v1::ExportControl::DESTINATION_CONTROL, severity);
  for (const std::string& c : countries) {
    s.mutable_export_control()->add_destination_countries(c);
  }
  for (const std::string& p : products) {
    s.mutable_export_control()->add_product_codes(p);
  }
  return s;
}

v1::Signal Tariff(const std::string& id, const std::string& programme,
                  const std::string& importer, const std::string& origin,
                  const std::string& hs_prefix, double rate) {
  v1::Signal s;
  s.set_id(id);
  s.set_source("test");
  s.set_title(id.substr(id.find('/') + 1));
  v1::Tariff* t = s.mutable_tariff();
  t->set_programme(programme);
  t->set_importer_country(importer);
  t->set_origin_country(origin);
  t->set_hs_prefix(hs_prefix);
  t->set_rate(rate);
  return s;
}

v1::Signal Tension(const std::string& id, double level,
                   const std::vector<std::pair<std::string, double>>& weights) {
  v1::Signal s;
  s.set_id(id);
  s.set_source("test");
  s.set_title(id.substr(id.find('/') + 1));
  v1::Tension* t = s.mutable_tension();
  t->set_theatre("cross_strait");
  t->set_level(level);
  for (const auto& [c, w] : weights) (*t->mutable_country_weights())[c] = w;
  return s;
}

v1::Signal Window(v1::Signal s, absl::Time from, absl::Time until) {
  if (from != absl::InfinitePast())
    *s.mutable_effective_from() = base::ToProtoTime(from);
  if (until != absl::InfiniteFuture()) {
    *s.mutable_effective_until() = base::ToProtoTime(until);
  }
  return s;
}

namespace {
v1::Link MakeLink(const std::string& a, const std::string& b,
                  v1::Link::Judgement judgement, v1::Link::Method method,
                  double score, const std::string& decided_by) {
  v1::Link l;
  l.set_entity_a(a);
  l.set_entity_b(b);
  l.set_judgement(judgement);
  l.set_method(method);
  l.set_score(score);
  l.set_decided_by(decided_by);
  l.mutable_decided_at()->set_seconds(1750000000);
  l.set_source("test");
  return l;
}
}  // namespace

v1::Link IdentifierLink(const std::string& a, const std::string& b,
                        v1::Link::Judgement judgement,
                        const std::string& decided_by) {
  v1::Link l =
      MakeLink(a, b, judgement, v1::Link::IDENTIFIER, 0.97, decided_by);
  (*l.mutable_features())["identifier"] = 1;
  l.add_evidence("identifier lei 549300XXXXXXXXXXXX75 equal (strong)");
  return l;
}

v1::Link NameLink(const std::string& a, const std::string& b,
                  v1::Link::Judgement judgement, double score) {
  v1::Link l = MakeLink(a, b, judgement, v1::Link::NAME, score, "rule:name");
  (*l.mutable_features())["name_similarity"] = score;
  l.add_evidence("name ~ name");
  return l;
}

v1::Mutation Upsert(const v1::Entity& e) {
  v1::Mutation m;
  *m.mutable_upsert_entity() = e;
  return m;
}
v1::Mutation Upsert(const v1::Edge& e) {
  v1::Mutation m;
  *m.mutable_upsert_edge() = e;
  return m;
}
v1::Mutation Upsert(const v1::Signal& s) {
  v1::Mutation m;
  *m.mutable_upsert_signal() = s;
  return m;
}
v1::Mutation Upsert(const v1::Link& l) {
  v1::Mutation m;
  *m.mutable_upsert_link() = l;
  return m;
}
v1::Mutation DeleteEntity(const std::string& id) {
  v1::Mutation m;
  m.set_delete_entity_id(id);
  return m;
}
v1::Mutation DeleteEdge(const v1::Edge& e) {
  v1::Mutation m;
  v1::EdgeKey* k = m.mutable_delete_edge();
  k->set_from_id(e.from_id());
  k->set_to_id(e.to_id());
  k->set_kind(e.kind());
  k->set_product_code(e.product_code());
  k->set_record_id(e.record_id());
  return m;
}
v1::Mutation DeleteSignal(const std::string& id) {
  v1::Mutation m;
  m.set_delete_signal_id(id);
  return m;
}

v1::Mutation DeleteLink(const std::string& a, const std::string& b) {
  v1::Mutation m;
  m.mutable_delete_link()->set_entity_a(a);
  m.mutable_delete_link()->set_entity_b(b);
  return m;
}

v1::Mutation WithKey(v1::Mutation m, const std::string& key) {
  m.set_idempotency_key(key);
  return m;
}

v1::Edge WithSource(v1::Edge e, const std::string& source) {
  e.set_source(source);
  return e;
}

v1::Signal WithSource(v1::Signal s, const std::string& source) {
  s.set_source(source);
  return s;
}

v1::Link WithSource(v1::Link l, const std::string& source) {
  l.set_source(source);
  return l;
}

}  // namespace georisk::domain::testing
