#include "services/scorer/alertmanager/payload.h"

#include <map>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

// 2026-12-06T10:00:00Z.
const absl::Time kNow = absl::FromUnixSeconds(1796551200);

v1::Alert Parse(const std::string& text) {
  v1::Alert alert;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &alert))
      << text;
  return alert;
}

// One field of the payload per case: the alert record, the options, and the
// exact JSON Alertmanager gets.
struct PayloadCase {
  const char* what;
  std::string alert;  // v1::Alert in text format.
  std::map<std::string, std::string> external_labels;
  std::string generator_url_base;
  std::string labels;  // AlertLabelsJson().
  std::string json;    // AlertJson() with those labels.
};

TEST(PayloadTest, TableOfAlerts) {
  const PayloadCase kCases[] = {
      {"firing, every field; endsAt = now + 4 x resend_interval",
       R"pb(alert_id: "a1"
            entity_id: "facility/samsung-xian"
            entity_name: "Samsung Xi'an"
            entity_kind: FACILITY
            country: "CN"
            rule_name: "RiskHigh"
            state: FIRING
            severity: SEVERITY_CRITICAL
            factor: FACTOR_EXPORT_CONTROLS
            score_before: 41.24
            score_after: 67.86
            band_before: BAND_MEDIUM
            band_after: BAND_HIGH
            reasons: "BIS entity list"
            reasons: "tariff 25%"
            graph_sequence: 42
            model_version: "m7"
            start_time { seconds: 1796548800 })pb",
       {},
       "",
       R"({"alertname":"RiskHigh","entity_id":"facility/samsung-xian",)"
       R"("entity_kind":"facility","country":"CN",)"
       R"("factor":"export_controls","severity":"critical"})",
       R"({"labels":{"alertname":"RiskHigh","entity_id":"facility/samsung-xian",)"
       R"("entity_kind":"facility","country":"CN",)"
       R"("factor":"export_controls","severity":"critical"},)"
       R"("annotations":{"summary":"Samsung Xi'an (facility/samsung-xian): )"
       "score 41.2 \u2192 67.9 (high)\","
       R"("description":"Score 41.2 )"
       "\u2192 67.9; band medium \u2192 high.\\n"
       R"(Factor that moved most: export_controls.\nReasons:\n)"
       R"(- BIS entity list\n- tariff 25%\n)"
       R"(Rule RiskHigh, graph sequence 42, model m7."},)"
       R"("startsAt":"2026-12-06T09:20:00.000Z",)"
       R"("endsAt":"2026-12-06T10:04:00.000Z"})"},
      {"resolved: endsAt is end_time; no name, no bands, composite factor",
       R"pb(alert_id: "a2"
            entity_id: "company/tsmc"
            entity_kind: COMPANY
            rule_name: "Composite"
            state: RESOLVED
            severity: SEVERITY_WARNING
            score_before: 70
            score_after: 12.5
            start_time { seconds: 1796548800 }
            end_time { seconds: 1796550000 nanos: 250000000 })pb",
       {},
       "",
       R"({"alertname":"Composite","entity_id":"company/tsmc",)"
       R"("entity_kind":"company","factor":"composite",)"
       R"("severity":"warning"})",
       R"({"labels":{"alertname":"Composite","entity_id":"company/tsmc",)"
       R"("entity_kind":"company","factor":"composite",)"
       R"("severity":"warning"},)"
       R"("annotations":{"summary":"company/tsmc: score 70.0 )"
       "\u2192 12.5\","
       R"("description":"Score 70.0 )"
       "\u2192 12.5.\\n"
       R"(Factor that moved most: composite.\nRule Composite."},)"
       R"("startsAt":"2026-12-06T09:20:00.000Z",)"
       R"("endsAt":"2026-12-06T09:40:00.250Z"})"},
      {"external labels fill in only what the alert leaves unset; "
       "generatorURL percent-encodes the id; endsAt never before startsAt",
       R"pb(alert_id: "a/3 x"
            entity_id: "e"
            rule_name: "R"
            state: RESOLVED
            score_before: 1
            score_after: 2
            band_after: BAND_CRITICAL
            start_time { seconds: 1796548800 }
            end_time { seconds: 1796540000 })pb",
       {{"cluster", "prod-eu"},
        {"alertname", "ignored"},
        {"country", "TW"},
        {"empty", ""}},
       "https://georisk.example.com",
       R"({"alertname":"R","entity_id":"e","factor":"composite",)"
       R"("cluster":"prod-eu","country":"TW"})",
       R"({"labels":{"alertname":"R","entity_id":"e","factor":"composite",)"
       R"("cluster":"prod-eu","country":"TW"},)"
       R"("annotations":{"summary":"e: score 1.0 )"
       "\u2192 2.0 (critical)\","
       R"("description":"Score 1.0 )"
       "\u2192 2.0; band none \u2192 critical.\\n"
       R"(Factor that moved most: composite.\nRule R."},)"
       R"("startsAt":"2026-12-06T09:20:00.000Z",)"
       R"("endsAt":"2026-12-06T09:20:00.000Z",)"
       R"("generatorURL":"https://georisk.example.com/alerts?alert_id=a%2F3%20x"})"},
      {"quotes, backslashes and newlines are escaped",
       R"pb(alert_id: "a4"
            entity_id: "e\"1"
            entity_name: "A\\B\nC"
            rule_name: "R"
            state: FIRING
            start_time { seconds: 1796548800 })pb",
       {},
       "",
       R"({"alertname":"R","entity_id":"e\"1","factor":"composite"})",
       R"({"labels":{"alertname":"R","entity_id":"e\"1","factor":"composite"},)"
       R"("annotations":{"summary":"A\\B\nC (e\"1): score 0.0 )"
       "\u2192 0.0\","
       R"("description":"Score 0.0 )"
       "\u2192 0.0.\\n"
       R"(Factor that moved most: composite.\nRule R."},)"
       R"("startsAt":"2026-12-06T09:20:00.000Z",)"
       R"("endsAt":"2026-12-06T10:04:00.000Z"})"},
  };
  for (const PayloadCase& c : kCases) {
    const v1::Alert alert = Parse(c.alert);
    const std::string labels = AlertLabelsJson(alert, c.external_labels);
    EXPECT_EQ(labels, c.labels) << c.what;
    AlertPayloadOptions options;
    options.resend_interval = absl::Minutes(1);
    options.generator_url_base = c.generator_url_base;
    EXPECT_EQ(AlertJson(alert, labels, kNow, options), c.json) << c.what;
  }
}

}  // namespace
}  // namespace georisk::scorer
