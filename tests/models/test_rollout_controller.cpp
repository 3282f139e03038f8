// The rollout controller on its own: driven by synthetic device reports and
// its own events, without a simulation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "models/fleet_fixture.hpp"
#include "ota/models/rollout/controller.hpp"

using namespace ota::models;
using namespace ota::models::testing;
using Kind = RolloutController::Command::Kind;
using Outcome = RolloutController::Outcome;

namespace {

using Overrides = std::vector<std::pair<std::string, std::string>>;

// 10,000 devices, stages 1 % / 5 % / 25 % / 100 % with soaks of 6, 12, 24 and
// 72 h, one gate: at most 5 % failures once 50 devices reported.
Scenario staged(const std::string& on_breach, Overrides more = {}) {
  Overrides o = {{"/fleet/devices", "10000"},
                 {"/rollout/device_timeout_h", "2"},
                 {"/rollout/gate", R"({"max_failure_rate": 0.05, "min_reports": 50, "on_breach": ")" + on_breach +
                                       R"("})"}};
  o.insert(o.end(), more.begin(), more.end());
  return load("regression/good-release.json", o);
}

std::vector<Kind> kinds(const RolloutController::Commands& c) {
  std::vector<Kind> out;
  for (const auto& x : c) out.push_back(x.kind);
  return out;
}

std::vector<std::string> logged(const RolloutController& rc) {
  std::vector<std::string> out;
  for (const RolloutEvent& e : rc.summary().events) out.push_back(e.kind);
  return out;
}

void report(RolloutController& rc, Outcome what, int n) {
  for (int i = 0; i < n; ++i) rc.report(what);
}

constexpr double kHour = 3600;

}  // namespace

TEST_CASE("rollout states: every state is reachable, and only the table's transitions exist", "[rollout][controller]") {
  const std::vector<RolloutTrigger> triggers = {RolloutTrigger::Complete, RolloutTrigger::Pause,
                                                RolloutTrigger::Resume, RolloutTrigger::Abort,
                                                RolloutTrigger::Rollback};
  std::set<RolloutState> seen = {RolloutState::InProgress};
  std::vector<RolloutState> todo = {RolloutState::InProgress};
  while (!todo.empty()) {
    const RolloutState s = todo.back();
    todo.pop_back();
    for (const RolloutTrigger t : triggers)
      if (const auto next = rollout_transition(s, t); next && seen.insert(*next).second) todo.push_back(*next);
  }
  CHECK(seen.size() == kRolloutStateCount);
  std::set<std::string_view> names;
  for (const RolloutState s : seen) {
    INFO(to_string(s));
    CHECK(to_string(s) != "?");
    names.insert(to_string(s));
    // Aborted and rolled back are final; every other state can still be stopped.
    for (const RolloutTrigger t : triggers) {
      INFO(to_string(t));
      if (!is_live(s)) CHECK_FALSE(rollout_transition(s, t));
      if (is_live(s) && (t == RolloutTrigger::Abort || t == RolloutTrigger::Rollback)) CHECK(rollout_transition(s, t));
    }
  }
  CHECK(names.size() == kRolloutStateCount);
  for (const RolloutTrigger t : triggers) CHECK(to_string(t) != "?");
  // A pause while paused does nothing; a resume returns where the pause came from.
  CHECK_FALSE(rollout_transition(RolloutState::Paused, RolloutTrigger::Pause));
  CHECK(rollout_transition(RolloutState::Paused, RolloutTrigger::Resume) == RolloutState::InProgress);
  CHECK(rollout_transition(RolloutState::PausedCompleted, RolloutTrigger::Resume) == RolloutState::Completed);
  CHECK(report_name(RolloutState::PausedCompleted) == "paused");
}

TEST_CASE("controller: each stage opens after its soak when its gate passes", "[rollout][controller]") {
  const Scenario s = staged("abort");
  RolloutController rc(s, 1, nullptr);
  REQUIRE(rc.order().size() == 10000);
  CHECK(std::set<std::uint32_t>(rc.order().begin(), rc.order().end()).size() == 10000);  // a permutation
  const double t0 = s.rollout.start_s;
  auto c = rc.open_first_stage(t0);
  REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd});
  CHECK(c[0].from == 0);
  CHECK(c[0].to == 100);  // round(1 % of 10,000)
  CHECK(c[1].at_s == t0 + 6 * kHour);
  CHECK(rc.offered() == 100);
  // Not enough reports at the soak's end: the gate waits.
  report(rc, Outcome::Success, 40);
  c = rc.soak_end(t0 + 6 * kHour);
  CHECK(c.empty());
  CHECK(logged(rc).back() == "awaiting_reports");
  // A soak end at another time (a stale event) changes nothing.
  CHECK(rc.soak_end(t0 + 5 * kHour).empty());
  // Enough at the next tick: the next stage opens at once.
  report(rc, Outcome::Success, 20);
  c = rc.tick(t0 + 6 * kHour + 600, {});
  REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd, Kind::ScheduleTick});
  CHECK(c[0].from == 100);
  CHECK(c[0].to == 500);
  CHECK(rc.stage() == 1);
  CHECK(rc.summary().stages_opened == 2);
  const auto log = logged(rc);
  CHECK(std::count(log.begin(), log.end(), "gate_pass") == 1);
  // Stages 3 and 4, then completion.
  report(rc, Outcome::Success, 400);
  c = rc.soak_end(c[1].at_s);
  REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd});
  CHECK(c[0].to == 2500);
  c = rc.soak_end(c[1].at_s);
  REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd});
  CHECK(c[0].to == 10000);
  CHECK(rc.state() == RolloutState::InProgress);
  CHECK(rc.soak_end(c[1].at_s).empty());
  CHECK(rc.state() == RolloutState::Completed);
  CHECK(rc.summary().state == "completed");
}

TEST_CASE("controller: a breach acts at once with the gate's action", "[rollout][controller]") {
  const double t0 = 0, tick = 600;
  SECTION("abort: withdraw, no more ticks") {
    const Scenario s = staged("abort");
    RolloutController rc(s, 1, nullptr);
    rc.open_first_stage(t0);
    report(rc, Outcome::Success, 45);
    report(rc, Outcome::Failure, 5);  // 10 % > 5 %
    const auto c = rc.tick(t0 + tick, {});
    // (The tick already due is scheduled; it finds the rollout stopped.)
    CHECK(kinds(c) == std::vector<Kind>{Kind::Withdraw, Kind::ScheduleTick});
    CHECK(rc.state() == RolloutState::Aborted);
    CHECK(rc.summary().stopped_at_s == t0 + tick);
    CHECK(logged(rc).back() == "abort");
    CHECK(rc.summary().events.back().reason.find("failure rate") != std::string::npos);
    CHECK(rc.summary().events.back().failures == 5);
    CHECK(rc.tick(t0 + 2 * tick, {}).empty());  // final
  }
  SECTION("rollback: withdraw, then revert the updated devices") {
    const Scenario s = staged("rollback");
    RolloutController rc(s, 1, nullptr);
    rc.open_first_stage(t0);
    report(rc, Outcome::Rollback, 50);
    report(rc, Outcome::Failure, 10);
    const auto c = rc.tick(t0 + tick, {});
    CHECK(kinds(c) == std::vector<Kind>{Kind::Withdraw, Kind::StartRevert, Kind::ScheduleTick});
    CHECK(rc.state() == RolloutState::RolledBack);
    CHECK(rc.summary().state == "rolled_back");
  }
  SECTION("pause, then the operator resumes: the stage counts as passed") {
    const Scenario s = staged("pause", {{"/rollout/on_pause", R"({"decide_after_h": 3, "action": "resume"})"}});
    RolloutController rc(s, 1, nullptr);
    rc.open_first_stage(t0);
    report(rc, Outcome::Failure, 50);
    auto c = rc.tick(t0 + tick, {});
    REQUIRE(kinds(c) == std::vector<Kind>{Kind::SchedulePauseDecision, Kind::ScheduleTick});
    CHECK(c[0].at_s == t0 + tick + 3 * kHour);
    CHECK(rc.state() == RolloutState::Paused);
    // Further breaches while paused change nothing.
    CHECK(kinds(rc.tick(t0 + 2 * tick, {})) == std::vector<Kind>{Kind::ScheduleTick});
    // The soak (6 h) is not over at the decision: resume, and the next stage waits for it.
    c = rc.pause_decision(t0 + tick + 3 * kHour);
    CHECK(c.empty());
    CHECK(rc.state() == RolloutState::InProgress);
    CHECK(logged(rc).back() == "resume");
    c = rc.soak_end(t0 + 6 * kHour);
    REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd});
    CHECK(c[0].to == 500);
  }
  SECTION("pause, then the operator aborts") {
    const Scenario s = staged("pause", {{"/rollout/on_pause", R"({"decide_after_h": 1, "action": "abort"})"}});
    RolloutController rc(s, 1, nullptr);
    rc.open_first_stage(t0);
    report(rc, Outcome::Failure, 50);
    rc.tick(t0 + tick, {});
    const auto c = rc.pause_decision(t0 + tick + kHour);
    CHECK(kinds(c) == std::vector<Kind>{Kind::Withdraw});
    CHECK(rc.state() == RolloutState::Aborted);
    CHECK(rc.summary().stopped_at_s == t0 + tick);  // the first stop
  }
  SECTION("continue: logged once, the stage then passes at its soak's end") {
    const Scenario s = staged("continue");
    RolloutController rc(s, 1, nullptr);
    rc.open_first_stage(t0);
    report(rc, Outcome::Failure, 50);
    CHECK(kinds(rc.tick(t0 + tick, {})) == std::vector<Kind>{Kind::ScheduleTick});
    CHECK(logged(rc).back() == "breach_ignored");
    rc.tick(t0 + 2 * tick, {});
    const auto log = logged(rc);
    CHECK(std::count(log.begin(), log.end(), "breach_ignored") == 1);
    const auto c = rc.soak_end(t0 + 6 * kHour);
    REQUIRE(kinds(c) == std::vector<Kind>{Kind::Offer, Kind::ScheduleSoakEnd});
    CHECK(rc.state() == RolloutState::InProgress);
  }
}

TEST_CASE("controller: in-service crashes are sampled from the fleet's health at ticks", "[rollout][controller]") {
  const Scenario s = staged("abort", {{"/rollout/gate", R"({"max_crash_rate_per_day": 0.1, "min_exposure_days": 10})"}});
  RolloutController rc(s, 7, nullptr);
  rc.open_first_stage(0);
  // 100 confirmed devices crashing at 1 per device-day: far above the limit.
  const RolloutController::Health sick{100 * 1.0 / 86400.0, 100};
  double t = 0;
  for (int i = 0; i < 36 && rc.live(); ++i) rc.tick(t += 600, sick);
  CHECK(rc.state() == RolloutState::Aborted);
  CHECK(rc.seen().exposure_days == Approx(100.0 * t / 86400.0));
  CHECK(rc.seen().crashes > 0);
  // Healthy devices pass.
  RolloutController ok(s, 7, nullptr);
  ok.open_first_stage(0);
  for (int i = 0; i < 36; ++i) ok.tick(600.0 * (i + 1), {100 * 0.001 / 86400.0, 100});
  CHECK(ok.state() == RolloutState::InProgress);
  CHECK(ok.seen().exposure_days >= 10);
}

TEST_CASE("controller: SPRT accepts a good rate and stops judging the stage", "[rollout][controller]") {
  const Scenario s = staged("abort", {{"/rollout/gate", R"({"max_failure_rate": 0.05, "mode": "sprt"})"}});
  RolloutController rc(s, 1, nullptr);
  rc.open_first_stage(0);
  // Wald: accept once n ln(0.975 / 0.95) >= ln(0.95 / 0.05), at n = 114.
  report(rc, Outcome::Success, 113);
  rc.tick(600, {});
  CHECK(logged(rc).back() == "stage_open");
  report(rc, Outcome::Success, 1);
  rc.tick(1200, {});
  const auto log = logged(rc);
  CHECK(std::count(log.begin(), log.end(), "sprt_accept") == 1);
  // Failures after the acceptance are not judged again in this stage.
  report(rc, Outcome::Failure, 100);
  rc.tick(1800, {});
  CHECK(rc.state() == RolloutState::InProgress);
}

TEST_CASE("controller: the rate ramp offers at a growing rate and completes", "[rollout][controller]") {
  const Scenario s = load("ramp.json", {{"/fleet/devices", "2000"},
                                        {"/rollout/ramp/base_per_minute", "10"},
                                        {"/rollout/ramp/increase_every_successes", "50"},
                                        {"/rollout/ramp/max_per_minute", "40"},
                                        {"/rollout/gate", "null"}});
  RolloutController rc(s, 1, nullptr);
  CHECK(rc.first_tick_s() == s.rollout.start_s + 60);  // a ramp ticks every minute at most
  auto c = rc.open_first_stage(s.rollout.start_s);
  CHECK(kinds(c).empty());  // the ramp offers on ticks
  double t = s.rollout.start_s;
  std::vector<std::uint64_t> per_tick;
  while (rc.state() == RolloutState::InProgress && per_tick.size() < 1000) {
    c = rc.tick(t += 60, {});
    std::uint64_t offered = 0;
    for (const auto& x : c)
      if (x.kind == Kind::Offer) offered += x.to - x.from;
    per_tick.push_back(offered);
    report(rc, Outcome::Success, static_cast<int>(offered));
  }
  CHECK(rc.state() == RolloutState::Completed);
  CHECK(rc.offered() == 2000);
  CHECK(per_tick.front() == 10);
  CHECK(*std::max_element(per_tick.begin(), per_tick.end()) == 40);  // capped
  const auto log = logged(rc);
  CHECK(std::count(log.begin(), log.end(), "ramp") == 2);  // 10 -> 20 -> 40
}

TEST_CASE("controller: device timeouts expire in order", "[rollout][controller]") {
  const Scenario s = staged("abort");
  RolloutController rc(s, 1, nullptr);
  rc.started(7, 100);
  rc.started(3, 200);
  CHECK_FALSE(rc.expired(100 + 2 * kHour - 1));
  CHECK(rc.expired(200 + 2 * kHour) == 7u);
  CHECK(rc.expired(200 + 2 * kHour) == 3u);
  CHECK_FALSE(rc.expired(1e9));
  const Scenario none = staged("abort", {{"/rollout/device_timeout_h", "0"}});
  RolloutController never(none, 1, nullptr);
  never.started(1, 0);
  CHECK_FALSE(never.expired(1e9));
}

TEST_CASE("controller: maintenance windows in each region's local time", "[rollout][controller]") {
  const Scenario s = staged("abort", {{"/rollout/maintenance_windows",
                                       R"({"eu": {"utc_offset_h": 1, "from_h": 2, "to_h": 4},
                                           "us": {"utc_offset_h": -5, "from_h": 22, "to_h": 2}})"}});
  RolloutController rc(s, 1, nullptr);
  REQUIRE(s.regions.size() == 2);
  const std::size_t eu = s.regions[0] == "eu" ? 0 : 1, us = 1 - eu;
  CHECK_FALSE(rc.in_window(eu, 0.5 * kHour));  // 01:30 local
  CHECK(rc.in_window(eu, 1 * kHour));          // 02:00 local
  CHECK(rc.in_window(eu, 2.99 * kHour));
  CHECK_FALSE(rc.in_window(eu, 3 * kHour));    // 04:00 local
  CHECK(rc.in_window(eu, 25 * kHour));         // the next day
  // A window past midnight: 22:00 to 02:00 local, i.e. 03:00 to 07:00 UTC.
  CHECK_FALSE(rc.in_window(us, 2.5 * kHour));
  CHECK(rc.in_window(us, 3 * kHour));
  CHECK(rc.in_window(us, 6.5 * kHour));
  CHECK_FALSE(rc.in_window(us, 7 * kHour));
  // No window: always open.
  const Scenario plain = staged("abort");
  RolloutController open(plain, 1, nullptr);
  CHECK(open.in_window(0, 12345));
}

TEST_CASE("controller: a named-group stage offers exactly its groups first", "[rollout][controller]") {
  const Scenario s = load("regression/good-release.json",
                          {{"/fleet/devices", "20000"},
                           {"/fleet/classes/0/share", "0.98"},
                           {"/fleet/classes/1/share", "0.02"},
                           {"/fleet/classes/1/group", "\"beta\""},
                           {"/rollout/gate", "null"},
                           {"/rollout/stages/0", R"({"groups": ["beta"], "soak_h": 6})"}});
  RolloutController rc(s, 3, nullptr);
  const auto c = rc.open_first_stage(0);
  REQUIRE(c.front().kind == Kind::Offer);
  CHECK(c.front().to == 400);
  const std::uint64_t first_beta = s.classes[0].devices;
  for (std::uint64_t i = 0; i < 400; ++i) CHECK(rc.order()[i] >= first_beta);
}

TEST_CASE("controller: a breach found at a soak's end acts like one found at a tick", "[rollout][controller]") {
  const Scenario s = staged("rollback");
  RolloutController rc(s, 1, nullptr);
  rc.open_first_stage(0);
  report(rc, Outcome::Failure, 60);
  const auto c = rc.soak_end(6 * kHour);
  CHECK(kinds(c) == std::vector<Kind>{Kind::Withdraw, Kind::StartRevert});
  CHECK(rc.state() == RolloutState::RolledBack);
  CHECK(rc.summary().stopped_at_s == 6 * kHour);
}

TEST_CASE("controller: a pause after the last stage resumes to completed", "[rollout][controller]") {
  const Scenario s = staged("pause", {{"/rollout/on_pause", R"({"decide_after_h": 2, "action": "resume"})"}});
  RolloutController rc(s, 1, nullptr);
  auto c = rc.open_first_stage(0);
  // Every stage passes on healthy reports.
  report(rc, Outcome::Success, 100);
  while (rc.state() == RolloutState::InProgress) {
    REQUIRE(!c.empty());
    c = rc.soak_end(c.back().at_s);
  }
  REQUIRE(rc.state() == RolloutState::Completed);
  // Failures in the last stage breach after completion: pause, then resume.
  report(rc, Outcome::Failure, 100);
  REQUIRE(115 * kHour + 600 < s.horizon_s);
  c = rc.tick(115 * kHour, {});
  REQUIRE(kinds(c) == std::vector<Kind>{Kind::SchedulePauseDecision, Kind::ScheduleTick});
  CHECK(rc.state() == RolloutState::PausedCompleted);
  CHECK(rc.summary().state == "paused");
  CHECK(rc.pause_decision(c[0].at_s).empty());
  CHECK(rc.state() == RolloutState::Completed);
}

TEST_CASE("controller: the operator can roll back after a pause", "[rollout][controller]") {
  const Scenario s = staged("pause", {{"/rollout/on_pause", R"({"decide_after_h": 1, "action": "rollback"})"}});
  RolloutController rc(s, 1, nullptr);
  rc.open_first_stage(0);
  report(rc, Outcome::Failure, 50);
  const auto c = rc.tick(600, {});
  REQUIRE(c.front().kind == Kind::SchedulePauseDecision);
  CHECK(kinds(rc.pause_decision(c.front().at_s)) == std::vector<Kind>{Kind::Withdraw, Kind::StartRevert});
  CHECK(rc.state() == RolloutState::RolledBack);
  const auto log = logged(rc);
  CHECK(log.back() == "rollback");
  CHECK(rc.summary().events.back().reason == "operator decision after the pause");
}

TEST_CASE("controller: a breach stops the rate ramp", "[rollout][controller]") {
  const Scenario s = load("ramp.json", {{"/fleet/devices", "2000"},
                                        {"/rollout/ramp/base_per_minute", "10"},
                                        {"/rollout/gate", R"({"max_failure_rate": 0.05, "min_reports": 20})"}});
  RolloutController rc(s, 1, nullptr);
  rc.open_first_stage(s.rollout.start_s);
  double t = s.rollout.start_s;
  rc.tick(t += 60, {});
  rc.tick(t += 60, {});
  CHECK(rc.offered() == 20);
  report(rc, Outcome::Failure, 20);
  const auto c = rc.tick(t += 60, {});
  CHECK(rc.state() == RolloutState::Aborted);
  CHECK(std::find(kinds(c).begin(), kinds(c).end(), Kind::Withdraw) != kinds(c).end());
  const std::uint64_t offered = rc.offered();
  CHECK(rc.tick(t += 60, {}).empty());
  CHECK(rc.offered() == offered);  // no more offers
}
