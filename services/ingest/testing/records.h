// File: services/ingest/testing/records.h
//
// Records for ingest's tests.
#ifndef GEORISK_SERVICES_INGEST_TESTING_RECORDS_H_
#define GEORISK_SERVICES_INGEST_TESTING_RECORDS_H_

#include <string>

#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"
#include "base/proto_time.h"

namespace georisk::ingest::testing {

inline v1::Mutation Company(const std::string& id,
                            const std::string& country = "TW",
                            const std::string& name = "Name") {
  v1::Mutation m;
  v1::Entity* e = m.mutable_upsert_entity();
  e->set_id(id);
  e->set_kind(v1::Entity::COMPANY);
  e->set_name(name);
  e->set_country(country);
  e->set_source("test");
  return m;
}

inline v1::Mutation Owns(const std::string& from, const std::string& to,
                         double weight) {
  v1::Mutation m;
  v1::Edge* e = m.mutable_upsert_edge();
  e->set_from_id(from);
  e->set_to_id(to);
  e->set_kind(v1::Edge::OWNS);
  e->set_weight(weight);
  e->set_source("test");
  return m;
}

inline v1::Mutation Listing(const std::string& id, const std::string& target,
                            const std::string& source) {
  v1::Mutation m;
  v1::Signal* s = m.mutable_upsert_signal();
  s->set_id(id);
  v1::ExportControl* c = s->mutable_export_control();
  c->set_authority("US-BIS");
  c->set_kind(v1::ExportControl::ENTITY_LISTING);
  c->add_target_ids(target);
  c->set_severity(0.8);
  s->set_source(source);
  return m;
}

inline v1::Mutation WithKey(v1::Mutation m, const std::string& key) {
  m.set_idempotency_key(key);
  return m;
}

}  // namespace georisk::ingest::testing

#endif  // GEORISK_SERVICES_INGEST_TESTING_RECORDS_H_
