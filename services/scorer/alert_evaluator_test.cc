#include "services/scorer/alert_evaluator.h"

#include "base/proto_time.h"
#include "gtest/gtest.h"

namespace georisk::scorer {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01.

v1::Score ScoreOf(double composite, double export_controls = 0) {
  v1::Score s;
  s.set_entity_id("facility/samsung-xian");
  s.set_entity_name("Samsung Xi'an");
  s.set_entity_kind(v1::Entity::FACILITY);
  s.set_country("CN");
  s.set_composite(composite);
  v1::FactorScore* f = s.add_factors();
  f->set_factor(v1::FACTOR_EXPORT_CONTROLS);
  f->set_propagated(export_controls);
  return s;
}

v1::ScoreChange Move(double before, double after) {
  v1::ScoreChange c;
  *c.mutable_before() = ScoreOf(before);
  *c.mutable_after() = ScoreOf(after);
  return c;
}

v1::BandThresholds Bands() {
  v1::BandThresholds b;
  b.set_medium(30);
  b.set_high(60);
  b.set_critical(80);
  return b;
}

v1::AlertRule BandRule(double hysteresis, absl::Duration window) {
  v1::AlertRule r;
  r.set_name("risk_band_high");
  r.mutable_band_crossing()->set_min_band(v1::BAND_HIGH);
  r.mutable_band_crossing()->set_hysteresis(hysteresis);
  r.mutable_coalesce_window()->set_seconds(absl::ToInt64Seconds(window));
  return r;
}

v1::AlertRule JumpRule(double points, absl::Duration resolve_after) {
  v1::AlertRule r;
  r.set_name("risk_jump");
  r.mutable_jump()->set_min_points(points);
  r.mutable_jump()->mutable_resolve_after()->set_seconds(
      absl::ToInt64Seconds(resolve_after));
  return r;
}

AlertEvaluator::ReasonsFn Reasons() {
  return [](const std::string& id, v1::Factor) {
    return std::vector<std::string>{"VEU revoked for " + id};
  };
}

TEST(AlertEvaluatorTest, BandCrossingFiresAndCarriesTheChange) {
  AlertEvaluator e({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  v1::ScoreChange c = Move(41.2, 67.9);
  c.mutable_after()->mutable_factors(0)->set_propagated(0.7);
  auto out = e.OnScoreChanges({c}, 17, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  const v1::Alert& a = out[0];
  EXPECT_EQ(a.alert_id(), "facility/samsung-xian|risk_band_high");
  EXPECT_EQ(a.state(), v1::Alert::FIRING);
  EXPECT_DOUBLE_EQ(a.score_before(), 41.2);
  EXPECT_DOUBLE_EQ(a.score_after(), 67.9);
  EXPECT_EQ(a.band_before(), v1::BAND_MEDIUM);
  EXPECT_EQ(a.band_after(), v1::BAND_HIGH);
  EXPECT_EQ(a.factor(), v1::FACTOR_EXPORT_CONTROLS);
  EXPECT_EQ(a.graph_sequence(), 17);
  EXPECT_EQ(a.severity(), v1::SEVERITY_WARNING);
  ASSERT_EQ(a.reasons_size(), 1);
  EXPECT_EQ(a.reasons(0), "VEU revoked for facility/samsung-xian");
  EXPECT_EQ(a.model_version(), "v1");
  EXPECT_EQ(base::FromProtoTime(a.start_time()), kT0);
  EXPECT_EQ(e.firing(), 1);
}

TEST(AlertEvaluatorTest, HysteresisKeepsAHoveringScoreFromFlapping) {
  AlertEvaluator e({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  absl::Time t = kT0;
  ASSERT_EQ(e.OnScoreChanges({Move(59, 60.5)}, 1, t, Reasons()).size(), 1u);
  // Hovering around 60 within the margin: nothing.
  for (double s : {59.5, 60.2, 58.5, 61.0, 58.1}) {
    t += absl::Seconds(1);
    EXPECT_TRUE(e.OnScoreChanges({Move(60, s)}, 2, t, Reasons()).empty()) << s;
  }
  // Falls more than 2 points below 60: resolves, once.
  t += absl::Seconds(1);
  auto out = e.OnScoreChanges({Move(58.1, 57.9)}, 3, t, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::RESOLVED);
  EXPECT_EQ(base::FromProtoTime(out[0].end_time()), t);
  EXPECT_EQ(base::FromProtoTime(out[0].start_time()), kT0);
  EXPECT_EQ(e.firing(), 0);
  // Back above: fires again (a new episode).
  out = e.OnScoreChanges({Move(57.9, 60)}, 4, t + absl::Seconds(1), Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
}

TEST(AlertEvaluatorTest, AScoreAlreadyInTheBandFiresOnlyWhenItEntersAgain) {
  // A score that was in the band before the evaluator knew it (the
  // scorer's first full score is no change) and moves inside it did not
  // enter the band.
  AlertEvaluator e({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  EXPECT_TRUE(
      e.OnScoreChanges({Move(92.41, 92.43)}, 1, kT0, Reasons()).empty());
  EXPECT_TRUE(e.OnScoreChanges({Move(92.43, 60)}, 2, kT0, Reasons()).empty());
  EXPECT_EQ(e.firing(), 0);
  // Below the threshold (not yet by the hysteresis margin) and back: an
  // entry.
  EXPECT_TRUE(e.OnScoreChanges({Move(60, 59.5)}, 3, kT0, Reasons()).empty());
  auto out = e.OnScoreChanges({Move(59.5, 61)}, 4, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
  EXPECT_DOUBLE_EQ(out[0].score_before(), 59.5);
  // A new entity (no score before) already in the band enters it.
  v1::ScoreChange appeared;
  *appeared.mutable_after() = ScoreOf(70);
  appeared.mutable_after()->set_entity_id("facility/new");
  EXPECT_EQ(e.OnScoreChanges({appeared}, 5, kT0, Reasons()).size(), 1u);
}

TEST(AlertEvaluatorTest, EnteringARulesScopeInsideTheBandFires) {
  v1::AlertRule rule = BandRule(2, absl::ZeroDuration());
  rule.mutable_scope()->add_countries("CN");
  AlertEvaluator e({rule}, Bands(), "v1");
  v1::ScoreChange moved = Move(70, 70.5);
  moved.mutable_before()->set_country("KR");  // Out of scope before.
  auto out = e.OnScoreChanges({moved}, 1, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
}

TEST(AlertEvaluatorTest, BandChangeWhileFiringUpdatesAfterTheCoalesceWindow) {
  AlertEvaluator e({BandRule(2, absl::Seconds(30))}, Bands(), "v1");
  ASSERT_EQ(e.OnScoreChanges({Move(50, 65)}, 1, kT0, Reasons()).size(), 1u);
  // A burst within the window: into critical and back and up again.
  absl::Time t = kT0 + absl::Seconds(5);
  EXPECT_TRUE(e.OnScoreChanges({Move(65, 82)}, 2, t, Reasons()).empty());
  EXPECT_TRUE(e.Tick(t + absl::Seconds(1)).empty());  // Held.
  EXPECT_TRUE(
      e.OnScoreChanges({Move(82, 85)}, 3, t + absl::Seconds(2), Reasons())
          .empty());
  // The window ends: one update with the latest values.
  auto out = e.Tick(kT0 + absl::Seconds(30));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
  EXPECT_EQ(out[0].band_after(), v1::BAND_CRITICAL);
  EXPECT_DOUBLE_EQ(out[0].score_after(), 85);
  EXPECT_DOUBLE_EQ(out[0].score_before(), 65);  // The last record's after.
  EXPECT_EQ(out[0].graph_sequence(), 3);
  EXPECT_EQ(base::FromProtoTime(out[0].start_time()), kT0);
  EXPECT_TRUE(e.Tick(kT0 + absl::Seconds(31)).empty());
}

TEST(AlertEvaluatorTest, ResolutionDropsAHeldUpdate) {
  AlertEvaluator e({BandRule(2, absl::Seconds(30))}, Bands(), "v1");
  e.OnScoreChanges({Move(50, 65)}, 1, kT0, Reasons());
  e.OnScoreChanges({Move(65, 82)}, 2, kT0 + absl::Seconds(1), Reasons());
  auto out =
      e.OnScoreChanges({Move(82, 40)}, 3, kT0 + absl::Seconds(2), Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::RESOLVED);
  EXPECT_TRUE(e.Tick(kT0 + absl::Minutes(5)).empty());
}

TEST(AlertEvaluatorTest, JumpFiresUpdatesAndResolvesWhenQuiet) {
  AlertEvaluator e({JumpRule(10, absl::Minutes(10))}, Bands(), "v1");
  EXPECT_TRUE(e.OnScoreChanges({Move(20, 29)}, 1, kT0, Reasons()).empty());
  auto out = e.OnScoreChanges({Move(29, 17)}, 2, kT0, Reasons());  // Down 12.
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
  EXPECT_TRUE(e.Tick(kT0 + absl::Minutes(9)).empty());
  // Another jump 9 minutes in keeps it alive for 10 more.
  out = e.OnScoreChanges({Move(17, 40)}, 3, kT0 + absl::Minutes(9), Reasons());
  ASSERT_EQ(out.size(), 1u);  // Outside the (zero) coalesce window: now.
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
  EXPECT_TRUE(e.Tick(kT0 + absl::Minutes(18)).empty());
  out = e.Tick(kT0 + absl::Minutes(19));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::RESOLVED);
}

TEST(AlertEvaluatorTest, ScopeLimitsTheEntitiesWatched) {
  v1::AlertRule rule = BandRule(2, absl::ZeroDuration());
  rule.mutable_scope()->add_countries("TW");
  AlertEvaluator e({rule}, Bands(), "v1");
  EXPECT_TRUE(e.OnScoreChanges({Move(10, 90)}, 1, kT0, Reasons()).empty());
  v1::AlertRule watch = BandRule(2, absl::ZeroDuration());
  watch.mutable_scope()->add_entity_ids("facility/samsung-xian");
  watch.mutable_scope()->add_entity_kinds(v1::Entity::FACILITY);
  AlertEvaluator e2({watch}, Bands(), "v1");
  EXPECT_EQ(e2.OnScoreChanges({Move(10, 90)}, 1, kT0, Reasons()).size(), 1u);
}

TEST(AlertEvaluatorTest, DeletedEntityResolvesItsAlerts) {
  AlertEvaluator e({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  e.OnScoreChanges({Move(10, 90)}, 1, kT0, Reasons());
  v1::ScoreChange gone;
  *gone.mutable_before() = ScoreOf(90);
  auto out = e.OnScoreChanges({gone}, 2, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::RESOLVED);
}

TEST(AlertEvaluatorTest, RestoredStateNeitherRefiresNorForgets) {
  AlertEvaluator first({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  auto fired = first.OnScoreChanges({Move(10, 70)}, 1, kT0, Reasons());
  AlertEvaluator second({BandRule(2, absl::ZeroDuration())}, Bands(), "v1");
  second.Restore(fired);
  EXPECT_TRUE(second.OnScoreChanges({Move(70, 72)}, 2, kT0, Reasons()).empty());
  auto out = second.OnScoreChanges({Move(72, 20)}, 3, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::RESOLVED);
}

TEST(AlertEvaluatorTest, AHeldUpdateSurvivesARestartAndIsEmittedWhenDue) {
  v1::AlertRule rule = JumpRule(10, absl::Hours(1));
  rule.mutable_coalesce_window()->set_seconds(30);
  AlertEvaluator first({rule}, Bands(), "v1");
  auto fired = first.OnScoreChanges({Move(24, 48)}, 1, kT0, Reasons());
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(first.TakeHeld().empty());  // Nothing held yet.
  // A second jump within the window is held, not emitted.
  EXPECT_TRUE(
      first.OnScoreChanges({Move(48, 72)}, 2, kT0 + absl::Seconds(5), Reasons())
          .empty());
  std::vector<v1::Alert> held = first.TakeHeld();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].alert_id(), "facility/samsung-xian|risk_jump");
  EXPECT_DOUBLE_EQ(held[0].score_after(), 72);
  EXPECT_TRUE(first.TakeHeld().empty());  // Taken once.

  // The scorer restarts before the window ends.
  AlertEvaluator second({rule}, Bands(), "v1");
  second.Restore(fired, held);
  EXPECT_TRUE(second.Tick(kT0 + absl::Seconds(29)).empty());
  auto out = second.Tick(kT0 + absl::Seconds(30));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].state(), v1::Alert::FIRING);
  EXPECT_DOUBLE_EQ(out[0].score_before(), 48);
  EXPECT_DOUBLE_EQ(out[0].score_after(), 72);
  EXPECT_EQ(out[0].graph_sequence(), 2);
  EXPECT_EQ(base::FromProtoTime(out[0].start_time()), kT0);
  EXPECT_EQ(base::FromProtoTime(out[0].update_time()), kT0 + absl::Seconds(30));
  EXPECT_TRUE(second.Tick(kT0 + absl::Seconds(31)).empty());
  EXPECT_TRUE(second.TakeHeld().empty());
}

TEST(AlertEvaluatorTest, RestoreIgnoresAHeldUpdateOfAnAlertNotFiring) {
  v1::AlertRule rule = JumpRule(10, absl::Hours(1));
  rule.mutable_coalesce_window()->set_seconds(30);
  AlertEvaluator first({rule}, Bands(), "v1");
  first.OnScoreChanges({Move(24, 48)}, 1, kT0, Reasons());
  first.OnScoreChanges({Move(48, 72)}, 2, kT0 + absl::Seconds(5), Reasons());
  AlertEvaluator second({rule}, Bands(), "v1");
  second.Restore({}, first.TakeHeld());
  EXPECT_EQ(second.firing(), 0);
  EXPECT_TRUE(second.Tick(kT0 + absl::Minutes(1)).empty());
}

TEST(AlertEvaluatorTest, FactorRulesWatchThatFactorTimesOneHundred) {
  v1::AlertRule rule = BandRule(0, absl::ZeroDuration());
  rule.set_factor(v1::FACTOR_EXPORT_CONTROLS);
  AlertEvaluator e({rule}, Bands(), "v1");
  v1::ScoreChange c = Move(10, 10);  // Composite unchanged...
  c.mutable_after()->mutable_factors(0)->set_propagated(0.65);  // ...EC 65.
  auto out = e.OnScoreChanges({c}, 1, kT0, Reasons());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].score_after(), 65);
  EXPECT_EQ(out[0].factor(), v1::FACTOR_EXPORT_CONTROLS);
}

TEST(AlertEvaluatorTest, RulesAreValidatedFieldByField) {
  EXPECT_TRUE(
      AlertEvaluator::ValidateRules(AlertEvaluator::DefaultRules()).ok());
  std::vector<v1::AlertRule> rules = {BandRule(-1, absl::ZeroDuration())};
  EXPECT_EQ(AlertEvaluator::ValidateRules(rules).message(),
            "alert_rules[0].band_crossing.hysteresis: must be in [0, 100)");
  rules = {BandRule(1, absl::ZeroDuration()),
           BandRule(1, absl::ZeroDuration())};
  EXPECT_EQ(AlertEvaluator::ValidateRules(rules).message(),
            "alert_rules[1].name: duplicate");
  v1::AlertRule no_condition;
  no_condition.set_name("x");
  EXPECT_EQ(AlertEvaluator::ValidateRules({no_condition}).code(),
            absl::StatusCode::kInvalidArgument);
  v1::AlertRule bad_country = JumpRule(5, absl::Minutes(1));
  bad_country.mutable_scope()->add_countries("XX");
  EXPECT_EQ(AlertEvaluator::ValidateRules({bad_country}).message(),
            "alert_rules[0].scope.countries[0]: not an ISO 3166-1 alpha-2 "
            "code");
}

}  // namespace
}  // namespace georisk::scorer
