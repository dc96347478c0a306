// File: domain/testing/builders.h
//
// One-line builders of the graph's records for tests: entities, edges,
// signals and links (graph.proto) with the fields a valid record needs, and
// the mutations that upsert or delete them. Ids are whole ("company/tsmc"); an
// entity's name is its id after the '/', every record's source is "test".
// Test-only.
//
// Example:
//
//   using namespace ::georisk::domain::testing;
//   std::vector<v1::Mutation> batch = {
//       Upsert(Company("company/tsmc", "TW")),
//       Upsert(Company("company/apple", "US")),
//       Upsert(Supplies("company/tsmc", "company/apple", 0.6)),
//       WithKey(Upsert(Listing("signal/l", "US-BIS", {"company/tsmc"}, 0.9)),
//               "import-1:3"),
//       Upsert(IdentifierLink("company/tsmc", "company/csl-1",
//                             v1::Link::POSITIVE)),
//   };
//
// Thread safety: pure functions. Every builder returns a new record.
#ifndef GEORISK_DOMAIN_TESTING_BUILDERS_H_
#define GEORISK_DOMAIN_TESTING_BUILDERS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "georisk/v1/graph.pb.h"

namespace georisk::domain::testing {

v1::Entity Company(const std::string& id, const std::string& country = "TW");
v1::Entity Facility(const std::string& id, const std::string& country);
// A company as resolution sees it: a name, an LEI when given, a source.
v1::Entity NamedCompany(const std::string& id, const std::string& name,
                        const std::string& country, const std::string& lei = "",
                        const std::string& source = "test");
v1::Entity Person(const std::string& id, const std::string& country);
// `e` with `identifiers` (scheme, value) added to its identifiers map.
v1::Entity WithIdentifiers(
    v1::Entity e,
    const std::vector<std::pair<std::string, std::string>>& identifiers);

v1::Edge Supplies(const std::string& from, const std::string& to,
                  double dependency, const std::string& product = "8542");
v1::Edge Operates(const std::string& company, const std::string& facility,
                  double capacity_share);
v1::Edge Owns(const std::string& parent, const std::string& child,
              double share);
// `e` from `from` until `until`; absl::InfinitePast() / InfiniteFuture()
// leave that end open.
v1::Edge Window(v1::Edge e, absl::Time from, absl::Time until);
// `e` as the dated record `record_id` of its pair.
v1::Edge WithRecordId(v1::Edge e, const std::string& record_id);

v1::Signal Listing(const std::string& id, const std::string& authority,
                   const std::vector<std::string>& targets, double severity);
v1::Signal Revoked(const std::string& id, const std::string& authority,
                   const std::vector<std::string>& facilities, double severity);
v1::Signal Destination(const std::string& id, const std::string& authority,
                       const std::vector<std::string>& countries,
                       const std::vector<std::string>& products,
                       double severity);
v1::Signal Tariff(const std::string& id, const std::string& programme,
                  const std::string& importer, const std::string& origin,
                  const std::string& hs_prefix, double rate);
v1::Signal Tension(
    const std::string& id, double level,
    const std::vector<std::pair<std::string, double>>& weights = {});
v1::Signal Window(v1::Signal s, absl::Time from, absl::Time until);

// Links: resolution's judgement whether two entities are one (SAME_AS),
// decided at 2025-06-15T15:06:40Z (1750000000 s), source "test".
// An identifier match: method IDENTIFIER, score 0.97, feature identifier = 1,
// evidence "identifier lei 549300XXXXXXXXXXXX75 equal (strong)".
v1::Link IdentifierLink(const std::string& a, const std::string& b,
                        v1::Link::Judgement judgement,
                        const std::string& decided_by = "rule:identifier");
// A name match: method NAME, score and feature name_similarity = `score`,
// evidence "name ~ name", decided by "rule:name".
v1::Link NameLink(const std::string& a, const std::string& b,
                  v1::Link::Judgement judgement, double score);

v1::Mutation Upsert(const v1::Entity& e);
v1::Mutation Upsert(const v1::Edge& e);
v1::Mutation Upsert(const v1::Signal& s);
v1::Mutation Upsert(const v1::Link& l);
v1::Mutation DeleteEntity(const std::string& id);
// Deletes the edge with `e`'s key (from, kind, to, product, record id).
v1::Mutation DeleteEdge(const v1::Edge& e);
v1::Mutation DeleteSignal(const std::string& id);
v1::Mutation DeleteLink(const std::string& a, const std::string& b);
// `m` with idempotency key `key`.
v1::Mutation WithKey(v1::Mutation m, const std::string& key);
// The record with source `source` (the builders set "test").
v1::Edge WithSource(v1::Edge e, const std::string& source);
v1::Signal WithSource(v1::Signal s, const std::string& source);
v1::Link WithSource(v1::Link l, const std::string& source);

}  // namespace georisk::domain::testing

#endif  // GEORISK_DOMAIN_TESTING_BUILDERS_H_
