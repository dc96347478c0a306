#include "services/scorer/model/wording.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/proto_time.h"
#include "domain/provenance.h"

namespace georisk::scorer::internal {

std::string ProvenanceDescription(absl::string_view what,
                                  absl::string_view origin) {
  if (origin.empty()) return "";
  const domain::Origin o = domain::ParseOrigin(origin);
  const std::string when =
      absl::FormatTime("%Y-%m-%d %H:%M UTC", o.time, absl::UTCTimeZone());
  switch (o.kind) {
    case domain::Origin::Kind::kSource:
      return absl::StrCat(what, " via ", o.name, ", fetched ", when,
                          o.delta_version.empty() ? "" : ", version ",
                          o.delta_version);
    case domain::Origin::Kind::kImport:
      return absl::StrCat(what, " via georiskctl import of ", o.name,
                          ", started ", when);
    case domain::Origin::Kind::kBulkLoad:
      return absl::StrCat(what, " via bulk load of ", o.name, ", started ",
                          when);
    case domain::Origin::Kind::kOther:
      break;
  }
  return absl::StrCat(what, " via ", origin);
}

void FillProvenance(absl::string_view what, absl::string_view origin,
                    v1::SignalProvenance* out) {
  const domain::Origin o = domain::ParseOrigin(origin);
  out->set_origin(std::string(origin));
  out->set_summary(ProvenanceDescription(what, origin));
  switch (o.kind) {
    case domain::Origin::Kind::kSource:
      out->set_kind(v1::SignalProvenance::SCHEDULED_SOURCE);
      out->set_version(o.validator);
      out->set_delta_version(o.delta_version);
      break;
    case domain::Origin::Kind::kImport:
      out->set_kind(v1::SignalProvenance::MANUAL_IMPORT);
      break;
    case domain::Origin::Kind::kBulkLoad:
      out->set_kind(v1::SignalProvenance::BULK_LOAD);
      break;
    case domain::Origin::Kind::kOther:
      return;
  }
  out->set_name(o.name);
  *out->mutable_time() = base::ToProtoTime(o.time);
}

std::string EdgeLabel(v1::Edge::Kind kind, absl::string_view product_code) {
  switch (kind) {
    case v1::Edge::SUPPLIES:
      return product_code.empty()
                 ? "supplier edge"
                 : absl::StrCat("supplier edge (", product_code, ")");
    case v1::Edge::OWNS:
      return "ownership edge";
    case v1::Edge::OPERATES:
      return "operator edge";
    default:
      return "edge";
  }
}

std::string Percent(double fraction) {
  const double pct = std::round(fraction * 1000) / 10;  // one decimal
  if (pct == std::floor(pct)) return absl::StrFormat("%.0f%%", pct);
  return absl::StrFormat("%.1f%%", pct);
}

std::string FactorLabel(int factor) {
  switch (factor) {
    case 0:
      return "export controls";
    case 1:
      return "tariffs";
    case 2:
      return "cross-strait";
    default:
      return "unknown factor";
  }
}

namespace {

// "50% or more" / "more than 50%".
std::string RuleShare(const RuleParams& rule) {
  return rule.more_than ? absl::StrCat("more than ", rule.percent)
                        : absl::StrCat(rule.percent, " or more");
}

}  // namespace

std::string KindLabel(v1::Entity::Kind kind) {
  switch (kind) {
    case v1::Entity::PERSON:
      return "person";
    case v1::Entity::FACILITY:
      return "facility";
    default:
      return "company";
  }
}

std::string OwnedRule(const RuleParams& rule) {
  return absl::StrCat("owned ", RuleShare(rule),
                      ", in aggregate, by listed parties");
}

std::string OwnedDescription(const RuleParams& rule,
                             const std::vector<OwnerShare>& owners) {
  const std::string generic = absl::StrCat(
      RuleShare(rule), ", in aggregate, by parties listed by ", rule.authority);
  if (owners.empty()) return absl::StrCat("owned ", generic);
  auto who = [](const OwnerShare& o) {
    return absl::StrCat(o.name, " (", KindLabel(o.kind), ")");
  };
  if (owners.size() == 1) {
    const OwnerShare& o = owners[0];
    return absl::StrCat("owned ", Percent(o.share), " by ", who(o),
                        o.listed ? ", listed by " : ", itself owned ",
                        o.listed ? rule.authority : generic);
  }
  double total = 0;
  bool all_listed = true;
  std::vector<std::string> parts;
  for (const OwnerShare& o : owners) {
    total += o.share;
    all_listed = all_listed && o.listed;
    parts.push_back(absl::StrCat(Percent(o.share), " by ", who(o)));
  }
  return absl::StrCat("owned ", Percent(std::min(total, 1.0)),
                      ", in aggregate, by parties listed by ", rule.authority,
                      all_listed ? "" : " or owned by them", ": ",
                      absl::StrJoin(parts, ", "));
}

std::string ListedDescription(const SignalRec& s) {
  return absl::StrCat("listed by ", s.authority,
                      s.list.empty() ? "" : absl::StrCat(" (", s.list, ")"));
}

std::string RevokedDescription(const SignalRec& s) {
  return absl::StrCat("facility authorization revoked by ", s.authority);
}

std::string OperatedDescription(absl::string_view operator_name,
                                absl::string_view authority,
                                const RuleParams* rule) {
  if (rule == nullptr) {
    return absl::StrCat("facility operated by ", operator_name,
                        ", a party listed by ", authority);
  }
  return absl::StrCat("facility operated by ", operator_name,
                      ", a company owned ", RuleShare(*rule),
                      ", in aggregate, by parties listed by ", authority);
}

std::string DestinationDescription(const SignalRec& s, uint16_t country,
                                   double share) {
  return absl::StrCat(s.authority, " licence requirement for ",
                      s.product_prefixes.empty()
                          ? std::string("all items")
                          : absl::StrJoin(s.product_prefixes, ", "),
                      " to ", UnpackCountry(country), ": ", Percent(share),
                      " of inputs controlled");
}

std::string TariffDescription(const SignalRec& s, bool outbound,
                              double covered) {
  return absl::StrCat(
      s.programme, ": ", Percent(s.rate), " on ",
      s.hs_prefix.empty() ? std::string("all goods") : s.hs_prefix, " from ",
      s.origin == 0 ? std::string("any origin") : UnpackCountry(s.origin),
      " into ", UnpackCountry(s.importer), ", on ", Percent(covered), " of ",
      outbound ? "output" : "inbound supply");
}

std::string LocationDescription(const SignalRec& s, double weight,
                                uint16_t country) {
  return absl::StrFormat(
      "cross-strait tension %.2f x location weight %.2f (%s)", s.level, weight,
      UnpackCountry(country));
}

std::string CrossingDescription(const SignalRec& s, double share) {
  return absl::StrFormat(
      "cross-strait tension %.2f x %s of supply crossing the Taiwan Strait",
      s.level, Percent(share));
}

std::string SupplierDescription(absl::string_view product, double dependency) {
  return absl::StrCat("supplier", product.empty() ? "" : " of ", product,
                      " (dependency ", Percent(dependency), ")");
}

std::string OperatedFacilityDescription(absl::string_view operator_name,
                                        double share) {
  // Read from the operator's side (its explanation lists the facility as
  // the upstream entity): the share is of the operator's capacity.
  return absl::StrCat("operated facility: ", Percent(share), " of ",
                      operator_name, "'s capacity");
}

std::string OwnsDescription(absl::string_view child_name, double share) {
  return absl::StrCat("owns ", Percent(share), " of ", child_name);
}

std::string UnknownShareDescription(absl::string_view owner_name,
                                    v1::Entity::Kind owner_kind) {
  return absl::StrCat("owned by ", owner_name, " (", KindLabel(owner_kind),
                      "), share unknown: counted in no score and in no 50% "
                      "rule");
}

namespace {

std::string NameOf(const State& st, absl::string_view id) {
  const Node* v = st.node_of().Find(id);
  if (v == nullptr || st.entities()[*v].name.empty()) return std::string(id);
  return st.entities()[*v].name;
}

// "by identifier (lei 5493...)" / "by name and country, score 0.93 (...)"
// / "by hand", then who decided.
std::string LinkWording(const v1::Link& l) {
  std::string evidence =
      l.evidence().empty()
          ? std::string()
          : absl::StrCat(" (", absl::StrJoin(l.evidence(), "; "), ")");
  std::string how;
  switch (l.method()) {
    case v1::Link::IDENTIFIER:
      how = absl::StrCat("by identifier", evidence);
      break;
    case v1::Link::NAME: {
      auto country = l.features().find("country");
      const bool same_country =
          country != l.features().end() && country->second >= 1;
      how = absl::StrCat("by name", same_country ? " and country" : "",
                         absl::StrFormat(", score %.2f", l.score()), evidence);
      break;
    }
    default:
      how = absl::StrCat("by hand", evidence);
      break;
  }
  const std::string& who = l.decided_by();
  if (absl::StartsWith(who, "reviewer:")) {
    absl::StrAppend(&how, ", confirmed by ", who.substr(9));
  } else if (absl::StartsWith(who, "rule:")) {
    absl::StrAppend(&how, ", automatically (", who, ")");
  } else if (!who.empty()) {
    absl::StrAppend(&how, ", decided by ", who);
  }
  return how;
}

}  // namespace

std::string LinkChainDescription(const State& st, absl::string_view from,
                                 absl::string_view to) {
  const std::vector<const v1::Link*> chain =
      st.live().parties().Chain(from, to);
  std::string out;
  std::string at(from);
  for (size_t i = 0; i < chain.size(); ++i) {
    const v1::Link& l = *chain[i];
    const std::string next = l.entity_a() == at ? l.entity_b() : l.entity_a();
    absl::StrAppend(&out, i == 0 ? "linked to " : ", then to ",
                    NameOf(st, next), " ", LinkWording(l));
    at = next;
  }
  return out;
}

std::string LinkedListedDescription(const State& st, const SignalRec& s,
                                    absl::string_view listed_id,
                                    absl::string_view party_id) {
  return absl::StrCat(ListedDescription(s), " as '", NameOf(st, listed_id),
                      "' (", listed_id, "), ",
                      LinkChainDescription(st, listed_id, party_id));
}

std::string SamePartyDescription(const State& st, absl::string_view member_id,
                                 absl::string_view primary_id) {
  return absl::StrCat("the same party as ", NameOf(st, primary_id), " (",
                      primary_id, "), ",
                      LinkChainDescription(st, member_id, primary_id));
}

}  // namespace georisk::scorer::internal
