#include "domain/validation.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace georisk::domain {
namespace {

using ::testing::StartsWith;

v1::Mutation Company() {
  v1::Mutation m;
  v1::Entity* e = m.mutable_upsert_entity();
  e->set_id("company/tsmc");
  e->set_kind(v1::Entity::COMPANY);
  e->set_name("TSMC");
  e->set_country("TW");
  e->set_region("TW-HSZ");
  (*e->mutable_identifiers())["ticker"] = "2330.TW";
  e->add_aliases("Taiwan Semiconductor Manufacturing Company");
  e->add_product_codes("8542");
  e->set_source("https://www.tsmc.com");
  return m;
}

v1::Mutation Facility() {
  v1::Mutation m;
  v1::Entity* e = m.mutable_upsert_entity();
  e->set_id("facility/tsmc-fab18");
  e->set_kind(v1::Entity::FACILITY);
  e->set_name("Fab 18");
  e->set_country("TW");
  e->set_facility_type(v1::Entity::FAB);
  e->mutable_location()->set_latitude(23.1);
  e->mutable_location()->set_longitude(120.3);
  e->set_source("https://www.tsmc.com");
  return m;
}

v1::Mutation Supplies() {
  v1::Mutation m;
  v1::Edge* e = m.mutable_upsert_edge();
  e->set_from_id("facility/tsmc-fab18");
  e->set_to_id("company/apple");
  e->set_kind(v1::Edge::SUPPLIES);
  e->set_weight(0.9);
  e->set_product_code("854231");
  e->set_annual_value_usd(1e10);
  e->mutable_effective_from()->set_seconds(1600000000);
  e->mutable_effective_until()->set_seconds(1700000000);
  e->set_source("10-K");
  return m;
}

v1::Mutation Owns() {
  v1::Mutation m;
  v1::Edge* e = m.mutable_upsert_edge();
  e->set_from_id("company/parent");
  e->set_to_id("company/child");
  e->set_kind(v1::Edge::OWNS);
  e->set_weight(0.51);
  e->set_source("annual report");
  return m;
}

// A real published person: OpenSanctions' Alexander Vyacheslavovich
// ZAKHAROV, tests/data/real/ftm/zala.entities.ftm.json line 11, as the FtM
// parser maps it ("country": ["ru"]).
v1::Mutation Person() {
  v1::Mutation m;
  v1::Entity* e = m.mutable_upsert_entity();
  e->set_id("person/ftm-nk-au5ybkbrfjucf8ymwsjvdw.1a4fe0dd");
  e->set_kind(v1::Entity::PERSON);
  e->set_name("Alexander Vyacheslavovich ZAKHAROV");
  e->set_country("RU");
  (*e->mutable_identifiers())["opensanctions"] = "NK-aU5ybkbRFJucf8YMwsJvDw";
  e->set_source(
      "https://www.opensanctions.org/entities/"
      "NK-aU5ybkbRFJucf8YMwsJvDw/");
  return m;
}

v1::Mutation Listing() {
  v1::Mutation m;
  v1::Signal* s = m.mutable_upsert_signal();
  s->set_id("signal/bis-el-2025-01");
  v1::ExportControl* c = s->mutable_export_control();
  c->set_authority("US-BIS");
  c->set_kind(v1::ExportControl::ENTITY_LISTING);
  c->add_target_ids("company/x");
  c->set_severity(0.8);
  s->set_source("Federal Register");
  return m;
}

v1::Mutation DestinationControl() {
  v1::Mutation m;
  v1::Signal* s = m.mutable_upsert_signal();
  s->set_id("signal/bis-advanced-computing");
  v1::ExportControl* c = s->mutable_export_control();
  c->set_authority("US-BIS");
  c->set_kind(v1::ExportControl::DESTINATION_CONTROL);
  c->add_destination_countries("CN");
  c->add_product_codes("8542");
  c->set_severity(1.0);
  s->set_source("Federal Register");
  return m;
}

v1::Mutation TariffSignal() {
  v1::Mutation m;
  v1::Signal* s = m.mutable_upsert_signal();
  s->set_id("signal/s301-list4");
  v1::Tariff* t = s->mutable_tariff();
  t->set_programme("Section 301");
  t->set_importer_country("US");
  t->set_origin_country("CN");
  t->set_hs_prefix("85");
  t->set_rate(0.25);
  s->set_source("USTR");
  return m;
}

v1::Mutation TensionSignal() {
  v1::Mutation m;
  v1::Signal* s = m.mutable_upsert_signal();
  s->set_id("signal/cross-strait-2025q1");
  v1::Tension* t = s->mutable_tension();
  t->set_theatre("cross_strait");
  t->set_level(0.6);
  (*t->mutable_country_weights())["TW"] = 1.0;
  s->set_source("assumption: analyst estimate");
  return m;
}

TEST(ValidateMutationTest, AcceptsValidRecords) {
  for (const v1::Mutation& m :
       {Company(), Facility(), Supplies(), Owns(), Listing(),
        DestinationControl(), TariffSignal(), TensionSignal()}) {
    EXPECT_TRUE(ValidateMutation(m, "mutations[0]").ok())
        << ValidateMutation(m, "mutations[0]") << "\n"
        << m.DebugString();
  }
  v1::Mutation self_owned = Owns();
  self_owned.mutable_upsert_edge()->set_to_id("company/parent");
  EXPECT_TRUE(ValidateMutation(self_owned, "m").ok());
  v1::Mutation unknown_share = Owns();
  unknown_share.mutable_upsert_edge()->set_weight(0);
  unknown_share.mutable_upsert_edge()->set_share_unknown(true);
  EXPECT_TRUE(ValidateMutation(unknown_share, "m").ok());
  v1::Mutation any_origin = TariffSignal();
  any_origin.mutable_upsert_signal()->mutable_tariff()->set_origin_country("*");
  EXPECT_TRUE(ValidateMutation(any_origin, "m").ok());
  v1::Mutation del;
  del.set_delete_entity_id("facility/a.b:c_d-e");
  del.set_idempotency_key(std::string(256, 'k'));
  EXPECT_TRUE(ValidateMutation(del, "m").ok());
  del.mutable_delete_edge()->set_from_id("company/a");
  del.mutable_delete_edge()->set_to_id("company/b");
  del.mutable_delete_edge()->set_kind(v1::Edge::OWNS);
  EXPECT_TRUE(ValidateMutation(del, "m").ok());
  del.set_delete_signal_id("signal/x");
  EXPECT_TRUE(ValidateMutation(del, "m").ok());
}

struct Case {
  std::string name;
  std::function<v1::Mutation()> base;
  std::function<void(v1::Mutation&)> change;
  // The message must start with this (the field path, then the reason).
  std::string message_prefix;
};

class ValidateMutationErrorTest : public testing::TestWithParam<Case> {};

TEST_P(ValidateMutationErrorTest, IsInvalidArgumentNamingTheField) {
  const Case& c = GetParam();
  v1::Mutation m = c.base();
  c.change(m);
  const absl::Status s = ValidateMutation(m, "mutations[3]");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith(c.message_prefix));
}

v1::Entity& Ent(v1::Mutation& m) { return *m.mutable_upsert_entity(); }
v1::Edge& Edg(v1::Mutation& m) { return *m.mutable_upsert_edge(); }
v1::Signal& Sig(v1::Mutation& m) { return *m.mutable_upsert_signal(); }
v1::ExportControl& Ctl(v1::Mutation& m) {
  return *m.mutable_upsert_signal()->mutable_export_control();
}
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

INSTANTIATE_TEST_SUITE_P(Table, ValidateMutationErrorTest,
                         testing::Values(
                             // Mutation.
                             Case{"no_kind", [] { return v1::Mutation(); },
                                  [](v1::Mutation&) {},
                                  "mutations[3].kind: one of upsert_entity"},
                             Case{"long_idempotency_key", Company,
                                  [](v1::Mutation& m) {
                                    m.set_idempotency_key(
                                        std::string(257, 'k'));
                                  },
                                  "mutations[3].idempotency_key: must be at "
                                  "most 256 bytes, got "
                                  "257"},
                             Case{"long_release_key", Company,
                                  [](v1::Mutation& m) {
                                    m.set_release_idempotency_key(
                                        std::string(257, 'k'));
                                  },
                                  "mutations[3].release_idempotency_key: must "
                                  "be at most 256 bytes, got 257"},
                             Case{"edge_copy_of_an_entity", Company,
                                  [](v1::Mutation& m) {
                                    m.set_edge_copy(v1::EDGE_COPY_OUT);
                                  },
                                  "mutations[3].edge_copy: applies to "
                                  "upsert_edge, delete_edge, upsert_link and "
                                  "delete_link only"},
                             Case{"unknown_edge_copy", Company,
                                  [](v1::Mutation& m) {
                                    m.set_edge_copy(
                                        static_cast<v1::EdgeCopy>(7));
                                  },
                                  "mutations[3].edge_copy: unknown value 7"},
                             // Ids.
                             Case{"empty_id", Company,
                                  [](v1::Mutation& m) { Ent(m).clear_id(); },
                                  "mutations[3].upsert_entity.id: is required"},
                             Case{
                                 "id_without_kind", Company,
                                 [](v1::Mutation& m) { Ent(m).set_id("tsmc"); },
                                 "mutations[3].upsert_entity.id: must be "
                                 "\"company/<slug>\", \"facility/<slug>\" or"},
                             Case{"id_upper_case", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("company/TSMC");
                                  },
                                  "mutations[3].upsert_entity.id: must be"},
                             Case{"id_slug_starts_with_dash", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("company/-a");
                                  },
                                  "mutations[3].upsert_entity.id: must be"},
                             Case{"id_slug_too_long", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("company/" +
                                                  std::string(129, 'a'));
                                  },
                                  "mutations[3].upsert_entity.id: must be"},
                             Case{"id_with_zero_byte", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id(
                                        std::string("company/a\0b", 11));
                                  },
                                  "mutations[3].upsert_entity.id: must be"},
                             Case{"id_prefix_mismatches_kind", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("facility/tsmc");
                                  },
                                  "mutations[3].upsert_entity.id: must start "
                                  "with \"company/\""},
                             Case{"signal_id_as_entity", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("signal/tsmc");
                                  },
                                  "mutations[3].upsert_entity.id: must be"},
                             // Entity kinds and enums.
                             Case{"entity_kind_unspecified", Company,
                                  [](v1::Mutation& m) { Ent(m).clear_kind(); },
                                  "mutations[3].upsert_entity.kind: is "
                                  "required"},
                             Case{"entity_kind_unknown", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_kind(
                                        static_cast<v1::Entity::Kind>(7));
                                  },
                                  "mutations[3].upsert_entity.kind: unknown "
                                  "entity kind 7"},
                             Case{"facility_type_unknown", Facility,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_facility_type(
                                        static_cast<v1::Entity::FacilityType>(
                                            99));
                                  },
                                  "mutations[3].upsert_entity.facility_type: "
                                  "unknown facility "
                                  "type 99"},
                             Case{"facility_type_on_company", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_facility_type(v1::Entity::FAB);
                                  },
                                  "mutations[3].upsert_entity.facility_type: "
                                  "must be unset"},
                             Case{"person_with_company_id", Person,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("company/zakharov");
                                  },
                                  "mutations[3].upsert_entity.id: must start "
                                  "with \"person/\" for a PERSON"},
                             Case{"company_with_person_id", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_id("person/tsmc");
                                  },
                                  "mutations[3].upsert_entity.id: must start "
                                  "with \"company/\""},
                             Case{"person_with_facility_type", Person,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_facility_type(v1::Entity::FAB);
                                  },
                                  "mutations[3].upsert_entity.facility_type: "
                                  "must be unset for a PERSON"},
                             Case{"person_with_products", Person,
                                  [](v1::Mutation& m) {
                                    Ent(m).add_product_codes("8542");
                                  },
                                  "mutations[3].upsert_entity.product_codes: "
                                  "must be empty for a PERSON"},
                             Case{"person_with_location", Person,
                                  [](v1::Mutation& m) {
                                    Ent(m).mutable_location()->set_latitude(1);
                                  },
                                  "mutations[3].upsert_entity.location: must "
                                  "be unset for a PERSON"},
                             Case{"person_bad_country", Person,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_country("RUS");
                                  },
                                  "mutations[3].upsert_entity.country: must "
                                  "be"},
                             Case{"person_operates", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_kind(v1::Edge::OPERATES);
                                    Edg(m).set_from_id("person/zakharov");
                                    Edg(m).set_to_id("facility/plant");
                                  },
                                  "mutations[3].upsert_edge.from_id: must be "
                                  "a company for OPERATES"},
                             Case{"person_supplies", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_from_id("person/zakharov");
                                  },
                                  "mutations[3].upsert_edge.from_id: must be "
                                  "a company or a facility for SUPPLIES"},
                             Case{"supplies_person", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_to_id("person/zakharov");
                                  },
                                  "mutations[3].upsert_edge.to_id: must be "
                                  "a company or a facility for SUPPLIES"},
                             Case{"person_owned", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_to_id("person/zakharov");
                                  },
                                  "mutations[3].upsert_edge.to_id: must be a "
                                  "company for OWNS"},
                             Case{"record_id_with_space", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_record_id("ru 1");
                                  },
                                  "mutations[3].upsert_edge.record_id: must "
                                  "be at most 256 bytes of printable ASCII"},
                             Case{"delete_edge_long_record_id",
                                  [] {
                                    v1::Mutation m;
                                    v1::EdgeKey* k = m.mutable_delete_edge();
                                    k->set_from_id("company/a");
                                    k->set_to_id("company/b");
                                    k->set_kind(v1::Edge::OWNS);
                                    k->set_record_id(std::string(257, 'r'));
                                    return m;
                                  },
                                  [](v1::Mutation&) {},
                                  "mutations[3].delete_edge.record_id: must "
                                  "be at most 256"},
                             Case{"measure_unknown", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_measure(
                                        static_cast<v1::ExportControl::Measure>(
                                            42));
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "measure: unknown measure 42"},
                             // Names and text.
                             Case{"blank_name", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_name(" \t ");
                                  },
                                  "mutations[3].upsert_entity.name: is "
                                  "required"},
                             Case{"long_name", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_name(std::string(513, 'n'));
                                  },
                                  "mutations[3].upsert_entity.name: must be at "
                                  "most 512 bytes, "
                                  "got 513"},
                             Case{"name_bad_utf8", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_name("TSMC \xc3");
                                  },
                                  "mutations[3].upsert_entity.name: must be "
                                  "valid UTF-8"},
                             Case{"blank_alias", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).add_aliases("");
                                  },
                                  "mutations[3].upsert_entity.aliases[1]: is "
                                  "required"},
                             Case{
                                 "entity_without_source", Company,
                                 [](v1::Mutation& m) { Ent(m).clear_source(); },
                                 "mutations[3].upsert_entity.source: is "
                                 "required"},
                             Case{
                                 "identifier_scheme", Company,
                                 [](v1::Mutation& m) {
                                   (*Ent(m)
                                         .mutable_identifiers())["Bad Scheme"] =
                                       "x";
                                 },
                                 "mutations[3].upsert_entity.identifiers[\"Bad "
                                 "Scheme\"]: scheme"},
                             // Countries and regions.
                             Case{"facility_without_country", Facility,
                                  [](v1::Mutation& m) {
                                    Ent(m).clear_country();
                                  },
                                  "mutations[3].upsert_entity.country: is "
                                  "required"},
                             Case{"lower_case_country", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_country("tw");
                                  },
                                  "mutations[3].upsert_entity.country: must be "
                                  "an ISO 3166-1 "
                                  "alpha-2 code, got \"tw\""},
                             Case{"unassigned_country", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_country("UK");
                                  },
                                  "mutations[3].upsert_entity.country: must be "
                                  "an ISO 3166-1"},
                             Case{"region_of_other_country", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_region("CN-JS");
                                  },
                                  "mutations[3].upsert_entity.region: must be "
                                  "an ISO 3166-2 code "
                                  "of country \"TW\""},
                             Case{"region_malformed", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).set_region("TW");
                                  },
                                  "mutations[3].upsert_entity.region: must be"},
                             Case{"latitude", Facility,
                                  [](v1::Mutation& m) {
                                    Ent(m).mutable_location()->set_latitude(91);
                                  },
                                  "mutations[3].upsert_entity.location."
                                  "latitude: must be in "
                                  "[-90, 90], got 91"},
                             Case{"longitude_nan", Facility,
                                  [](v1::Mutation& m) {
                                    Ent(m).mutable_location()->set_longitude(
                                        kNaN);
                                  },
                                  "mutations[3].upsert_entity.location."
                                  "longitude: must be in"},
                             Case{"entity_hs_code", Company,
                                  [](v1::Mutation& m) {
                                    Ent(m).add_product_codes("8542.31");
                                  },
                                  "mutations[3].upsert_entity.product_codes[1]:"
                                  " must be an HS code "
                                  "of 2 to 10 digits"},
                             // Edges.
                             Case{"edge_weight_above_one", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_weight(1.5);
                                  },
                                  "mutations[3].upsert_edge.weight: must be in "
                                  "[0, 1], got 1.5"},
                             Case{"edge_weight_negative", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_weight(-0.1);
                                  },
                                  "mutations[3].upsert_edge.weight: must be in "
                                  "[0, 1], got -0.1"},
                             Case{"edge_weight_just_above_one", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_weight(1.0000001);
                                  },
                                  "mutations[3].upsert_edge.weight: must be in "
                                  "[0, 1], got 1.0000001"},
                             Case{"edge_weight_one_ulp_above_one", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_weight(1.0000000000000002);
                                  },
                                  "mutations[3].upsert_edge.weight: must be in "
                                  "[0, 1], got 1.0000000000000002"},
                             Case{"edge_weight_nan", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_weight(kNaN);
                                  },
                                  "mutations[3].upsert_edge.weight: must be in "
                                  "[0, 1], got nan"},
                             Case{"edge_kind_unspecified", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).clear_kind();
                                    Edg(m).clear_product_code();
                                  },
                                  "mutations[3].upsert_edge.kind: is required"},
                             Case{"edge_kind_unknown", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_kind(
                                        static_cast<v1::Edge::Kind>(4));
                                  },
                                  "mutations[3].upsert_edge.kind: unknown edge "
                                  "kind 4"},
                             Case{
                                 "edge_missing_to", Supplies,
                                 [](v1::Mutation& m) { Edg(m).clear_to_id(); },
                                 "mutations[3].upsert_edge.to_id: is required"},
                             Case{"edge_to_signal", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_to_id("signal/x");
                                  },
                                  "mutations[3].upsert_edge.to_id: must be"},
                             Case{"supplies_self_loop", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_to_id("facility/tsmc-fab18");
                                  },
                                  "mutations[3].upsert_edge.to_id: must differ "
                                  "from from_id "
                                  "except for OWNS"},
                             Case{"owns_facility", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_to_id("facility/f");
                                  },
                                  "mutations[3].upsert_edge.to_id: must be a "
                                  "company for OWNS"},
                             Case{"operates_company", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_kind(v1::Edge::OPERATES);
                                  },
                                  "mutations[3].upsert_edge.to_id: must be a "
                                  "facility for "
                                  "OPERATES"},
                             Case{"product_code_on_owns", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_product_code("8542");
                                  },
                                  "mutations[3].upsert_edge.product_code: must "
                                  "be empty unless "
                                  "kind is SUPPLIES"},
                             Case{"bad_product_code", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_product_code("8");
                                  },
                                  "mutations[3].upsert_edge.product_code: must "
                                  "be an HS code"},
                             Case{"product_code_too_long", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_product_code("12345678901");
                                  },
                                  "mutations[3].upsert_edge.product_code: must "
                                  "be an HS code"},
                             Case{"annual_value_negative", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_annual_value_usd(-1);
                                  },
                                  "mutations[3].upsert_edge.annual_value_usd: "
                                  "must be a finite "
                                  "number >= 0"},
                             Case{"annual_value_on_owns", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_annual_value_usd(5);
                                  },
                                  "mutations[3].upsert_edge.annual_value_usd: "
                                  "must be 0 unless"},
                             Case{"share_unknown_on_supplies", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_share_unknown(true);
                                  },
                                  "mutations[3].upsert_edge.share_unknown: "
                                  "may be set only when kind is OWNS"},
                             Case{"share_unknown_with_a_weight", Owns,
                                  [](v1::Mutation& m) {
                                    Edg(m).set_share_unknown(true);
                                  },
                                  "mutations[3].upsert_edge.weight: must be 0 "
                                  "when share_unknown is set"},
                             Case{"window_inverted", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m)
                                        .mutable_effective_until()
                                        ->set_seconds(1600000000);
                                  },
                                  "mutations[3].upsert_edge.effective_until: "
                                  "must be after "
                                  "effective_from"},
                             Case{"timestamp_bad_nanos", Supplies,
                                  [](v1::Mutation& m) {
                                    Edg(m).mutable_effective_from()->set_nanos(
                                        -1);
                                  },
                                  "mutations[3].upsert_edge.effective_from: "
                                  "must be a valid "
                                  "timestamp"},
                             Case{
                                 "edge_without_source", Supplies,
                                 [](v1::Mutation& m) { Edg(m).clear_source(); },
                                 "mutations[3].upsert_edge.source: is "
                                 "required"},
                             Case{"delete_edge_kind",
                                  [] { return v1::Mutation(); },
                                  [](v1::Mutation& m) {
                                    m.mutable_delete_edge()->set_from_id(
                                        "company/a");
                                    m.mutable_delete_edge()->set_to_id(
                                        "company/b");
                                  },
                                  "mutations[3].delete_edge.kind: is required"},
                             Case{"delete_entity_bad_id",
                                  [] { return v1::Mutation(); },
                                  [](v1::Mutation& m) {
                                    m.set_delete_entity_id("company/");
                                  },
                                  "mutations[3].delete_entity_id: must be"},
                             Case{"delete_signal_entity_id",
                                  [] { return v1::Mutation(); },
                                  [](v1::Mutation& m) {
                                    m.set_delete_signal_id("company/a");
                                  },
                                  "mutations[3].delete_signal_id: must be "
                                  "\"signal/<slug>\""},
                             // Signals.
                             Case{"signal_without_detail", Listing,
                                  [](v1::Mutation& m) {
                                    Sig(m).clear_export_control();
                                  },
                                  "mutations[3].upsert_signal.detail: one of "
                                  "export_control, "
                                  "tariff, tension is required"},
                             Case{"signal_bad_id", Listing,
                                  [](v1::Mutation& m) {
                                    Sig(m).set_id("company/x");
                                  },
                                  "mutations[3].upsert_signal.id: must be "
                                  "\"signal/<slug>\""},
                             Case{
                                 "signal_without_source", Listing,
                                 [](v1::Mutation& m) { Sig(m).clear_source(); },
                                 "mutations[3].upsert_signal.source: is "
                                 "required"},
                             Case{"signal_long_title", Listing,
                                  [](v1::Mutation& m) {
                                    Sig(m).set_title(std::string(600, 't'));
                                  },
                                  "mutations[3].upsert_signal.title: must be "
                                  "at most 512 bytes"},
                             Case{"authority_lower_case", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_authority("us-bis");
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "authority: must "
                                  "match [A-Z0-9-]{2,32}"},
                             Case{"control_kind_unknown", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_kind(
                                        static_cast<v1::ExportControl::Kind>(
                                            12));
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "kind: unknown export "
                                  "control kind 12"},
                             Case{"listing_without_targets", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).clear_target_ids();
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "target_ids: at least "
                                  "one target is required for ENTITY_LISTING"},
                             Case{"listing_bad_target", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).add_target_ids("x");
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "target_ids[1]: must "
                                  "be"},
                             Case{"revocation_of_company", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_kind(
                                        v1::ExportControl::
                                            FACILITY_AUTHORIZATION_REVOKED);
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "target_ids[0]: must "
                                  "be \"facility/<slug>\""},
                             Case{
                                 "listing_with_destinations", Listing,
                                 [](v1::Mutation& m) {
                                   Ctl(m).add_destination_countries("CN");
                                 },
                                 "mutations[3].upsert_signal.export_control."
                                 "destination_"
                                 "countries: must be empty for ENTITY_LISTING"},
                             Case{
                                 "destination_control_without_countries",
                                 DestinationControl,
                                 [](v1::Mutation& m) {
                                   Ctl(m).clear_destination_countries();
                                 },
                                 "mutations[3].upsert_signal.export_control."
                                 "destination_"
                                 "countries: at least one country is required"},
                             Case{"destination_control_bad_country",
                                  DestinationControl,
                                  [](v1::Mutation& m) {
                                    Ctl(m).add_destination_countries("XX");
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "destination_"
                                  "countries[1]: must be an ISO 3166-1 alpha-2 "
                                  "code"},
                             Case{"destination_control_with_targets",
                                  DestinationControl,
                                  [](v1::Mutation& m) {
                                    Ctl(m).add_target_ids("company/a");
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "target_ids: must be "
                                  "empty for DESTINATION_CONTROL"},
                             Case{"destination_control_bad_code",
                                  DestinationControl,
                                  [](v1::Mutation& m) {
                                    Ctl(m).add_product_codes("abc");
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "product_codes[1]: "
                                  "must be an HS code"},
                             Case{"severity_zero", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_severity(0);
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "severity: must be in "
                                  "(0, 1], got 0"},
                             Case{"severity_zero_unknown_measure", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_severity(0);
                                    Ctl(m).set_measure(
                                        static_cast<v1::ExportControl::Measure>(
                                            77));
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "measure: unknown measure 77"},
                             Case{"severity_nan", Listing,
                                  [](v1::Mutation& m) {
                                    Ctl(m).set_severity(kNaN);
                                  },
                                  "mutations[3].upsert_signal.export_control."
                                  "severity: must be in "
                                  "(0, 1], got nan"},
                             Case{"tariff_negative_rate", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tariff()->set_rate(-0.1);
                                  },
                                  "mutations[3].upsert_signal.tariff.rate: "
                                  "must be a finite number "
                                  ">= 0, got -0.1"},
                             Case{"tariff_infinite_rate", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tariff()->set_rate(kInf);
                                  },
                                  "mutations[3].upsert_signal.tariff.rate: "
                                  "must be a finite"},
                             Case{"tariff_bad_origin", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tariff()->set_origin_country(
                                        "**");
                                  },
                                  "mutations[3].upsert_signal.tariff.origin_"
                                  "country: must be an "
                                  "ISO 3166-1 alpha-2 code or \"*\""},
                             Case{"tariff_star_importer", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m)
                                        .mutable_tariff()
                                        ->set_importer_country("*");
                                  },
                                  "mutations[3].upsert_signal.tariff.importer_"
                                  "country: must be an "
                                  "ISO 3166-1"},
                             Case{"tariff_without_programme", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tariff()->clear_programme();
                                  },
                                  "mutations[3].upsert_signal.tariff.programme:"
                                  " is required"},
                             Case{"tariff_bad_hs_prefix", TariffSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tariff()->set_hs_prefix("8");
                                  },
                                  "mutations[3].upsert_signal.tariff.hs_prefix:"
                                  " must be an HS "
                                  "code"},
                             Case{"tension_level", TensionSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tension()->set_level(2);
                                  },
                                  "mutations[3].upsert_signal.tension.level: "
                                  "must be in [0, 1], "
                                  "got 2"},
                             Case{"tension_weight", TensionSignal,
                                  [](v1::Mutation& m) {
                                    (*Sig(m)
                                          .mutable_tension()
                                          ->mutable_country_weights())["CN"] =
                                        kNaN;
                                  },
                                  "mutations[3].upsert_signal.tension.country_"
                                  "weights[\"CN\"]: "
                                  "must be in [0, 1], got nan"},
                             Case{"tension_weight_country", TensionSignal,
                                  [](v1::Mutation& m) {
                                    (*Sig(m)
                                          .mutable_tension()
                                          ->mutable_country_weights())["XX"] =
                                        0.5;
                                  },
                                  "mutations[3].upsert_signal.tension.country_"
                                  "weights[\"XX\"]: "
                                  "must be an ISO 3166-1"},
                             Case{"tension_theatre", TensionSignal,
                                  [](v1::Mutation& m) {
                                    Sig(m).mutable_tension()->set_theatre(
                                        "Cross Strait");
                                  },
                                  "mutations[3].upsert_signal.tension.theatre: "
                                  "must match"},
                             Case{
                                 "signal_window_equal", TensionSignal,
                                 [](v1::Mutation& m) {
                                   Sig(m).mutable_effective_from()->set_seconds(
                                       5);
                                   Sig(m)
                                       .mutable_effective_until()
                                       ->set_seconds(5);
                                 },
                                 "mutations[3].upsert_signal.effective_until: "
                                 "must be after "
                                 "effective_from"}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// A person owning a company (the OFAC/EU 50% case of
// tests/data/real/ftm/zala.entities.ftm.json line 79: ZAKHAROV's 51% of LLC
// CST, its FtM Ownership id as record_id), a person without a country and a
// company without one (a CSL party with no address) are valid.
TEST(ValidateMutationTest, PersonsAndPartiesWithoutCountry) {
  v1::Mutation person = Person();
  EXPECT_TRUE(ValidateMutation(person, "m").ok())
      << ValidateMutation(person, "m");
  Ent(person).clear_country();
  EXPECT_TRUE(ValidateMutation(person, "m").ok())
      << ValidateMutation(person, "m");
  v1::Mutation owns = Owns();
  Edg(owns).set_from_id("person/ftm-nk-au5ybkbrfjucf8ymwsjvdw.1a4fe0dd");
  Edg(owns).set_to_id("company/ftm-nk-abdzbebkqyt29gyrebiurz.9e19a6f8");
  Edg(owns).set_record_id("ru-dfe0a021cb69f99e198bb8cbbcb93e81130b32a7");
  EXPECT_TRUE(ValidateMutation(owns, "m").ok()) << ValidateMutation(owns, "m");
  v1::Mutation company = Company();
  Ent(company).clear_country();
  Ent(company).clear_region();
  EXPECT_TRUE(ValidateMutation(company, "m").ok())
      << ValidateMutation(company, "m");
  v1::Mutation listing = Listing();
  Ctl(listing).set_target_ids(0, "person/zakharov");
  Ctl(listing).set_measure(v1::ExportControl::MEASURE_BLOCKING_SANCTION);
  EXPECT_TRUE(ValidateMutation(listing, "m").ok())
      << ValidateMutation(listing, "m");
  // Severity 0 with a measure: the model's default for the measure (an FtM
  // Sanction grades nothing).
  Ctl(listing).set_severity(0);
  EXPECT_TRUE(ValidateMutation(listing, "m").ok())
      << ValidateMutation(listing, "m");
  EXPECT_TRUE(ValidateId("person/zakharov", IdKind::kPerson, "id").ok());
  EXPECT_TRUE(ValidateId("person/zakharov", IdKind::kEntity, "id").ok());
  EXPECT_EQ(ValidateId("person/zakharov", IdKind::kCompany, "id").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateIdTest, EmptyPathGivesBareMessage) {
  const absl::Status s = ValidateEntity(v1::Entity(), "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "id: is required");
  EXPECT_EQ(ValidateId("", IdKind::kSignal, "").message(), "is required");
}

TEST(ValidateIdTest, SlugCharacters) {
  EXPECT_TRUE(ValidateId("company/0abc.d_e:f-g", IdKind::kCompany, "id").ok());
  EXPECT_TRUE(
      ValidateId("company/" + std::string(128, 'a'), IdKind::kCompany, "id")
          .ok());
  for (const char* bad : {"company/a b", "company/a/b", "company/é",
                          "company/.a", "company/_a", "company", "/a"}) {
    EXPECT_EQ(ValidateId(bad, IdKind::kCompany, "id").code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ValidateId("company/a", IdKind::kFacility, "id").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IsHsCodeTest, TwoToTenDigits) {
  EXPECT_TRUE(IsHsCode("85"));
  EXPECT_TRUE(IsHsCode("8542310000"));
  EXPECT_FALSE(IsHsCode("8"));
  EXPECT_FALSE(IsHsCode("85423100001"));
  EXPECT_FALSE(IsHsCode("8542.31"));
  EXPECT_FALSE(IsHsCode(""));
}

v1::Mutation IdentifierLink() {
  v1::Mutation m;
  v1::Link* l = m.mutable_upsert_link();
  l->set_entity_a("company/smic");
  l->set_entity_b("company/csl-el-12345");
  l->set_judgement(v1::Link::POSITIVE);
  l->set_method(v1::Link::IDENTIFIER);
  l->set_score(1.0);
  (*l->mutable_features())["identifier"] = 1.0;
  (*l->mutable_features())["name_similarity"] = 0.93;
  l->add_evidence("identifier lei 549300ABCDEF equal (strong)");
  l->set_decided_by("rule:identifier");
  l->mutable_decided_at()->set_seconds(1700000000);
  l->set_source("csl.csv");
  return m;
}

TEST(ValidateLinkTest, AcceptsLinksAndKeys) {
  EXPECT_TRUE(ValidateMutation(IdentifierLink(), "m").ok())
      << ValidateMutation(IdentifierLink(), "m");
  v1::Mutation manual = IdentifierLink();
  v1::Link* l = manual.mutable_upsert_link();
  l->set_method(v1::Link::MANUAL);
  l->set_judgement(v1::Link::NEGATIVE);
  l->clear_evidence();
  l->clear_features();
  l->set_score(0);
  l->set_decided_by("reviewer:ana");
  l->set_reason("different companies, same name");
  EXPECT_TRUE(ValidateMutation(manual, "m").ok())
      << ValidateMutation(manual, "m");
  v1::Mutation del;
  del.mutable_delete_link()->set_entity_a("facility/b");
  del.mutable_delete_link()->set_entity_b("facility/a");
  EXPECT_TRUE(ValidateMutation(del, "m").ok());
  EXPECT_TRUE(IsReviewerDecision("reviewer:ana"));
  EXPECT_FALSE(IsReviewerDecision("rule:identifier"));
}

TEST(ValidateLinkTest, NamesTheFieldAtFault) {
  struct LinkCase {
    std::function<void(v1::Link&)> change;
    std::string message_prefix;
  };
  const LinkCase cases[] = {
      {[](v1::Link& l) { l.set_entity_a("smic"); }, "m.upsert_link.entity_a:"},
      {[](v1::Link& l) { l.clear_entity_b(); }, "m.upsert_link.entity_b:"},
      {[](v1::Link& l) { l.set_entity_b("company/smic"); },
       "m.upsert_link.entity_b: must differ from entity_a"},
      {[](v1::Link& l) { l.set_entity_b("facility/smic-shanghai"); },
       "m.upsert_link.entity_b: must be of entity_a's kind (company)"},
      {[](v1::Link& l) { l.clear_judgement(); },
       "m.upsert_link.judgement: is required"},
      {[](v1::Link& l) {
         l.set_judgement(static_cast<v1::Link::Judgement>(9));
       },
       "m.upsert_link.judgement: unknown judgement 9"},
      {[](v1::Link& l) { l.clear_method(); },
       "m.upsert_link.method: is required"},
      {[](v1::Link& l) { l.set_method(static_cast<v1::Link::Method>(7)); },
       "m.upsert_link.method: unknown method 7"},
      {[](v1::Link& l) { l.set_score(1.5); },
       "m.upsert_link.score: must be in [0, 1], got 1.5"},
      {[](v1::Link& l) { l.set_score(std::nan("")); },
       "m.upsert_link.score: must be in [0, 1]"},
      {[](v1::Link& l) { (*l.mutable_features())["Name"] = 0.5; },
       "m.upsert_link.features[\"Name\"]: name must match"},
      {[](v1::Link& l) { (*l.mutable_features())["country"] = -0.1; },
       "m.upsert_link.features[\"country\"]: must be in [0, 1]"},
      {[](v1::Link& l) {
         for (int i = 0; i < 33; ++i) {
           (*l.mutable_features())[absl::StrCat("f", i)] = 0;
         }
       },
       "m.upsert_link.features: must have at most 32 entries, got"},
      {[](v1::Link& l) { l.clear_evidence(); },
       "m.upsert_link.evidence: at least one line is required for method "
       "IDENTIFIER"},
      {[](v1::Link& l) { l.add_evidence(" "); },
       "m.upsert_link.evidence[1]: is required"},
      {[](v1::Link& l) { l.add_evidence(std::string(1025, 'x')); },
       "m.upsert_link.evidence[1]: must be at most 1024 bytes"},
      {[](v1::Link& l) { l.clear_decided_by(); },
       "m.upsert_link.decided_by: is required"},
      {[](v1::Link& l) { l.set_decided_by("ana"); },
       "m.upsert_link.decided_by: must be \"rule:<rule>\" or"},
      {[](v1::Link& l) { l.set_decided_by("reviewer: "); },
       "m.upsert_link.decided_by: names no rule or reviewer"},
      {[](v1::Link& l) { l.set_decided_by("reviewer:a\nb"); },
       "m.upsert_link.decided_by: must not contain control characters"},
      {[](v1::Link& l) { l.set_method(v1::Link::MANUAL); },
       "m.upsert_link.decided_by: must be \"reviewer:<name>\" for method "
       "MANUAL"},
      {[](v1::Link& l) { l.clear_decided_at(); },
       "m.upsert_link.decided_at: is required"},
      {[](v1::Link& l) { l.mutable_decided_at()->set_nanos(-1); },
       "m.upsert_link.decided_at: must be a valid timestamp"},
      {[](v1::Link& l) { l.set_reason(std::string(1025, 'r')); },
       "m.upsert_link.reason: must be at most 1024 bytes"},
      {[](v1::Link& l) { l.clear_source(); },
       "m.upsert_link.source: is required"},
  };
  for (const LinkCase& c : cases) {
    v1::Mutation m = IdentifierLink();
    c.change(*m.mutable_upsert_link());
    absl::Status s = ValidateMutation(m, "m");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message_prefix;
    EXPECT_THAT(std::string(s.message()), StartsWith(c.message_prefix));
  }
  v1::Mutation del;
  del.mutable_delete_link()->set_entity_a("company/a");
  del.mutable_delete_link()->set_entity_b("company/a");
  EXPECT_THAT(std::string(ValidateMutation(del, "m").message()),
              StartsWith("m.delete_link.entity_b: must differ from entity_a"));
}

}  // namespace
}  // namespace georisk::domain
