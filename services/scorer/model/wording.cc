#include "services/scorer/model/wording.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace georisk::scorer::internal {

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

std::string OwnedRule(const RuleParams& rule) {
  return absl::StrCat("owned ", rule.percent,
                      " or more, in aggregate, by listed parties");
}

std::string OwnedDescription(const RuleParams& rule) {
  return absl::StrCat("owned ", rule.percent,
                      " or more, in aggregate, by parties listed by ",
                      rule.authority);
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
                      ", a company owned ", rule->percent,
                      " or more, in aggregate, by parties listed by ",
                      authority);
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

}  // namespace georisk::scorer::internal
