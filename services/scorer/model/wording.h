// File: services/scorer/model/wording.h
//
// The words explanations use. Careful and legal: a company is "owned 50% or
// more, in aggregate, by parties listed by US-BIS", never "controlled by";
// a supplier is a "supplier of 8542", never an "affiliate of".
// (docs/scoring-model.md, "Wording".)
//
// Thread-safe: pure functions.
#ifndef GEORISK_SERVICES_SCORER_MODEL_WORDING_H_
#define GEORISK_SERVICES_SCORER_MODEL_WORDING_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "georisk/v1/graph.pb.h"
#include "georisk/v1/score.pb.h"
#include "services/scorer/model/state.h"

namespace georisk::scorer::internal {

// DirectContribution.rule values.
inline constexpr char kRuleListed[] = "listed";
inline constexpr char kRuleRevoked[] = "facility authorization revoked";
inline constexpr char kRuleOperated[] = "facility operated by a listed party";
inline constexpr char kRuleDestination[] = "destination control";
inline constexpr char kRuleTariffIn[] = "tariff on inbound supply";
inline constexpr char kRuleTariffOut[] = "tariff on outbound sales";
inline constexpr char kRuleLocation[] = "cross-strait tension at location";
inline constexpr char kRuleCrossing[] = "supply crossing the Taiwan Strait";

// "40%", "12.5%".
std::string Percent(double fraction);
// "export controls", "tariffs", "cross-strait".
std::string FactorLabel(int factor);

// "owned 50% or more, in aggregate, by listed parties" ("owned more than
// 50%, ..." for a rule with more_than).
std::string OwnedRule(const RuleParams& rule);

// A direct owner of a company covered by an ownership rule, itself in the
// rule's closure (listed, or covered in turn).
struct OwnerShare {
  std::string name;
  v1::Entity::Kind kind = v1::Entity::COMPANY;
  double share = 0;
  bool listed = false;  // Listed by the rule's authority in its own right.
};

// Why a company is covered by `rule`, naming its owners in the closure
// (largest share first) and what each is:
//   one listed owner: "owned 51% by Alexander ZAKHAROV (person), listed by
//     US-OFAC";
//   one covered owner: "owned 60% by Holdco (company), itself owned 50% or
//     more, in aggregate, by parties listed by US-OFAC";
//   several: "owned 55%, in aggregate, by parties listed by US-BIS: 30% by
//     A (person), 25% by B (company)" ("... listed by US-BIS or owned by
//     them" when one of them is covered rather than listed);
//   none known: "owned 50% or more, in aggregate, by parties listed by
//     US-BIS".
std::string OwnedDescription(const RuleParams& rule,
                             const std::vector<OwnerShare>& owners);
// "person", "company", "facility".
std::string KindLabel(v1::Entity::Kind kind);
// "listed by US-BIS (EL)".
std::string ListedDescription(const SignalRec& s);
// "facility authorization revoked by US-BIS".
std::string RevokedDescription(const SignalRec& s);
// "facility operated by Samsung Electronics, a party listed by US-BIS", or
// with `rule`: "..., a company owned 50% or more, in aggregate, by parties
// listed by US-BIS".
std::string OperatedDescription(absl::string_view operator_name,
                                absl::string_view authority,
                                const RuleParams* rule);
// "US-BIS licence requirement for 8486 to CN: 40% of inputs controlled".
std::string DestinationDescription(const SignalRec& s, uint16_t country,
                                   double share);
// "Section 301: 50% on 8542 from CN into US, on 40% of inbound supply".
std::string TariffDescription(const SignalRec& s, bool outbound,
                              double covered);
// "cross-strait tension 0.60 x location weight 1.00 (TW)".
std::string LocationDescription(const SignalRec& s, double weight,
                                uint16_t country);
// "cross-strait tension 0.60 x 30% of supply crossing the Taiwan Strait".
std::string CrossingDescription(const SignalRec& s, double share);

// Where a record came from, after what it is (`what`: a signal's title, the
// id when it has none; an entity's name; an edge's EdgeLabel()), read from
// its update_origin (domain/provenance.h):
//   a scheduled source: "Entity List via csl-el, fetched 2026-12-06 14:00
//     UTC" (", version 20240527194702-wnk" for a delta version);
//   a manual import: "Entity List via georiskctl import of el.csv, started
//     2026-12-06 14:00 UTC";
//   a bulk load: "supplier edge (8542) via bulk load of graph.jsonl,
//     started 2026-12-06 14:00 UTC";
//   any other origin: "Entity List via ingest".
// Empty for an empty origin.
std::string ProvenanceDescription(absl::string_view what,
                                  absl::string_view origin);

// Fills `out` (a SignalProvenance, for signals, entities and edges alike)
// from `origin`: the origin, its summary (ProvenanceDescription(what,
// origin)), and what ParseOrigin reads from it (kind, name, time, version,
// delta version). Call only with a non-empty origin.
void FillProvenance(absl::string_view what, absl::string_view origin,
                    v1::SignalProvenance* out);

// What an edge is, for its provenance line: "supplier edge (8542)",
// "ownership edge", "operator edge".
std::string EdgeLabel(v1::Edge::Kind kind, absl::string_view product_code);

// Upstream edges, from the explained entity's side.
// "supplier of 8542 (dependency 40%)".
std::string SupplierDescription(absl::string_view product, double dependency);
// "operated facility: 30% of TSMC's capacity" (in the operator's explanation).
std::string OperatedFacilityDescription(absl::string_view operator_name,
                                        double share);
// "owns 60% of Foxconn Ohio".
std::string OwnsDescription(absl::string_view child_name, double share);
// A stake of unknown share held by an exposed owner (a line with no score):
// "owned by Ivan Petrov (person), share unknown: counted in no score and in
// no 50% rule".
std::string UnknownShareDescription(absl::string_view owner_name,
                                    v1::Entity::Kind owner_kind);

// How the positive links join `from` to `to` (one party, parties.h), in
// words a compliance officer can sign: "linked to SMIC by identifier (lei
// 549300...), automatically (rule:identifier)", "linked to SMIC by name and
// country, score 0.93 ('SMIC' ~ 'SEMICONDUCTOR ...'), confirmed by alice";
// several links: "..., then to X by ...". Empty when they are not linked.
std::string LinkChainDescription(const State& st, absl::string_view from,
                                 absl::string_view to);

// A listing that names `listed_id`, another member of the scored entity's
// party: "listed by US-BIS (Entity List) as 'NAME' (company/csl-el-1),
// linked to SMIC by ...".
std::string LinkedListedDescription(const State& st, const SignalRec& s,
                                    absl::string_view listed_id,
                                    absl::string_view party_id);

// The hop of a member's link edge: "the same party as SMIC (company/smic),
// linked ...".
std::string SamePartyDescription(const State& st, absl::string_view member_id,
                                 absl::string_view primary_id);

}  // namespace georisk::scorer::internal

#endif  // GEORISK_SERVICES_SCORER_MODEL_WORDING_H_
