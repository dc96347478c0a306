// File: services/scorer/alertmanager/payload.cc
//
// Alert -> Alertmanager JSON; see payload.h.

#include "services/scorer/alertmanager/payload.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/proto_time.h"
#include "services/common/log.h"
#include "services/common/score_names.h"

namespace georisk::scorer {
namespace {

const char* KindName(v1::Entity::Kind kind) {
  switch (kind) {
    case v1::Entity::COMPANY:
      return "company";
    case v1::Entity::FACILITY:
      return "facility";
    default:
      return "";
  }
}

const char* SeverityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_INFO:
      return "info";
    case v1::SEVERITY_WARNING:
      return "warning";
    case v1::SEVERITY_CRITICAL:
      return "critical";
    default:
      return "";
  }
}

std::string Quoted(absl::string_view s) {
  return absl::StrCat("\"", common::log::JsonEscape(s), "\"");
}

// The labels of `alert` as a JSON object, in a fixed order.
}  // namespace

std::string AlertLabelsJson(
    const v1::Alert& alert,
    const std::map<std::string, std::string>& external) {
  const std::pair<absl::string_view, absl::string_view> own[] = {
      {"alertname", alert.rule_name()},
      {"entity_id", alert.entity_id()},
      {"entity_kind", KindName(alert.entity_kind())},
      {"country", alert.country()},
      {"factor", common::FactorName(alert.factor())},
      {"severity", SeverityName(alert.severity())},
  };
  std::vector<std::string> fields;
  for (const auto& [name, value] : own) {
    if (!value.empty())
      fields.push_back(absl::StrCat(Quoted(name), ":", Quoted(value)));
  }
  for (const auto& [name, value] : external) {
    bool taken = false;
    for (const auto& o : own)
      taken = taken || (o.first == name && !o.second.empty());
    if (!taken && !value.empty()) {
      fields.push_back(absl::StrCat(Quoted(name), ":", Quoted(value)));
    }
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

namespace {

std::string Score(double score) { return absl::StrFormat("%.1f", score); }

// "Samsung Xi'an (facility/samsung-xian): score 41.2 → 67.9 (high)".
std::string Summary(const v1::Alert& a) {
  std::string who =
      a.entity_name().empty()
          ? a.entity_id()
          : absl::StrCat(a.entity_name(), " (", a.entity_id(), ")");
  const std::string band(common::BandName(a.band_after()));
  return absl::StrCat(who, ": score ", Score(a.score_before()), " \u2192 ",
                      Score(a.score_after()),
                      band.empty() ? "" : absl::StrCat(" (", band, ")"));
}

std::string Description(const v1::Alert& a) {
  std::vector<std::string> lines;
  std::string line = absl::StrCat("Score ", Score(a.score_before()), " \u2192 ",
                                  Score(a.score_after()));
  const std::string before(common::BandName(a.band_before()));
  const std::string after(common::BandName(a.band_after()));
  if (!before.empty() || !after.empty()) {
    absl::StrAppend(&line, "; band ", before.empty() ? "none" : before,
                    " \u2192 ", after.empty() ? "none" : after);
  }
  lines.push_back(absl::StrCat(line, "."));
  lines.push_back(absl::StrCat(
      "Factor that moved most: ", common::FactorName(a.factor()), "."));
  if (a.reasons_size() > 0) {
    lines.push_back("Reasons:");
    for (const std::string& reason : a.reasons()) {
      lines.push_back(absl::StrCat("- ", reason));
    }
  }
  std::string provenance = absl::StrCat("Rule ", a.rule_name());
  if (a.graph_sequence() != 0) {
    absl::StrAppend(&provenance, ", graph sequence ", a.graph_sequence());
  }
  if (!a.model_version().empty()) {
    absl::StrAppend(&provenance, ", model ", a.model_version());
  }
  lines.push_back(absl::StrCat(provenance, "."));
  return absl::StrJoin(lines, "\n");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", u);
    }
  }
  return out;
}

}  // namespace

std::string AlertJson(const v1::Alert& a, absl::string_view labels_json,
                      absl::Time now, const AlertPayloadOptions& options) {
  const absl::Time starts = base::FromProtoTime(a.start_time());
  const absl::Time ends =
      std::max(starts, a.state() == v1::Alert::RESOLVED
                           ? base::FromProtoTime(a.end_time())
                           : now + 4 * options.resend_interval);
  std::string json =
      absl::StrCat("{\"labels\":", labels_json,
                   ",\"annotations\":{\"summary\":", Quoted(Summary(a)),
                   ",\"description\":", Quoted(Description(a)),
                   "},\"startsAt\":", Quoted(Rfc3339(starts)),
                   ",\"endsAt\":", Quoted(Rfc3339(ends)));
  if (!options.generator_url_base.empty()) {
    absl::StrAppend(
        &json, ",\"generatorURL\":",
        Quoted(absl::StrCat(options.generator_url_base,
                            "/alerts?alert_id=", PercentEncode(a.alert_id()))));
  }
  json.push_back('}');
  return json;
}

}  // namespace georisk::scorer
