// The rollout controller: stage sizes and canary selection, gates and their
// actions (pause, abort, rollback), device timeouts, retries, maintenance
// windows, the rate ramp, and the gate statistics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "fleet_fixture.hpp"
#include "ota/models/rollout/gates.hpp"
#include "shell.hpp"

using namespace ota::models;
using namespace ota::models::testing;

namespace {

const RolloutEvent* first_event(const RunReport& r, const std::string& kind) {
  for (const RolloutEvent& e : r.rollout.events)
    if (e.kind == kind) return &e;
  return nullptr;
}

std::vector<const RolloutEvent*> events(const RunReport& r, const std::string& kind) {
  std::vector<const RolloutEvent*> out;
  for (const RolloutEvent& e : r.rollout.events)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

}  // namespace

TEST_CASE("each stage offers exactly round(percent x fleet) devices", "[rollout]") {
  const Scenario s = load("default.json", {{"/fleet/devices", "12345"}});
  const RunReport r = run(s);
  const auto opens = events(r, "stage_open");
  REQUIRE(opens.size() == 4);
  const double percents[] = {1, 5, 25, 100};
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(opens[i]->offered == static_cast<std::uint64_t>(std::llround(percents[i] / 100 * 12345)));
  CHECK(r.rollout.state == "completed");
  CHECK(r.totals.offered == 12345);
}

TEST_CASE("stratified canaries give every hardware revision its share of a stage; random ones vary", "[rollout]") {
  // revB is 1 % of the fleet and never boots the new image: every revB canary
  // rolls back, so the rollbacks seen when stage 2 opens count the revB
  // devices in stage 1 (1 % of 20,000 = 200 devices).
  const auto overrides = [](const std::string& selection) {
    return std::vector<std::pair<std::string, std::string>>{
        {"/fleet/devices", "20000"},
        {"/fleet/classes/0/share", "0.99"},
        {"/fleet/classes/1/share", "0.01"},
        {"/release/behaviour/revB", R"({"failing_device_share": 1})"},
        {"/rollout/gate", "null"},
        {"/rollout/selection", selection}};
  };
  std::set<std::uint64_t> random_counts;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    const RunReport st = run(load("regression/good-release.json", overrides("\"stratified\"")), seed);
    const auto opens = events(st, "stage_open");
    REQUIRE(opens.size() >= 2);
    CHECK(opens[1]->rollbacks == 2);  // round(1 % x 200 revB devices)
    const RunReport rn = run(load("regression/good-release.json", overrides("\"random\"")), seed);
    random_counts.insert(events(rn, "stage_open")[1]->rollbacks);
  }
  CHECK(random_counts.size() > 1);  // binomial: the count differs between seeds
}

TEST_CASE("a named-group stage offers exactly its groups first", "[rollout]") {
  const Scenario s = load("regression/good-release.json",
                          {{"/fleet/devices", "20000"},
                           {"/fleet/classes/0/share", "0.98"},
                           {"/fleet/classes/1/share", "0.02"},
                           {"/fleet/classes/1/group", "\"beta\""},
                           {"/rollout/stages/0", R"({"groups": ["beta"], "soak_h": 6})"}});
  REQUIRE(s.rollout.stages[0].groups.size() == 1);
  const RunReport r = run(s);
  const auto opens = events(r, "stage_open");
  REQUIRE(opens.size() == 4);
  CHECK(s.classes[1].devices == 400);
  CHECK(opens[0]->offered == 400);   // the whole beta group, and nothing else
  CHECK(opens[1]->offered == 1000);  // 5 %, the group included
  CHECK(opens[2]->offered == 5000);  // 25 %
}

TEST_CASE("a bad revision is stopped at the first stage; a good release is not stopped", "[rollout]") {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const RunReport bad = run(load("regression/revision-boot-failure.json"), seed);
    CHECK(bad.rollout.state == "aborted");
    CHECK(bad.rollout.stages_opened == 1);
    CHECK(bad.totals.exposed <= 1000);
    CHECK(bad.totals.withdrawn > 0);
    REQUIRE(first_event(bad, "abort") != nullptr);
    CHECK_THAT(first_event(bad, "abort")->reason, Catch::Contains("rollback rate"));
    const RunReport good = run(load("regression/good-release.json"), seed);
    CHECK(good.rollout.state == "completed");
    CHECK(!good.rollout.stopped_at_s);
    CHECK(events(good, "gate_pass").size() == 4);
  }
}

TEST_CASE("without the first stage's gate the bad revision reaches the second stage", "[rollout]") {
  const RunReport r = run(load("regression/revision-boot-failure.json", {{"/rollout/stages/0/gate", "null"}}));
  CHECK(r.rollout.stages_opened >= 2);
  REQUIRE(first_event(r, "abort") != nullptr);
  CHECK(first_event(r, "abort")->stage >= 1);  // the second stage's gate (continuous) stops it
  CHECK(r.totals.offered >= 5000);
}

TEST_CASE("a health gate catches a crash regression that installs fine, and rollback reinstalls the old release",
          "[rollout]") {
  const RunReport r = run(load("regression/crash-regression.json"));
  CHECK(r.rollout.state == "rolled_back");
  CHECK(r.totals.rolled_back == 0);  // the agent never rolled back by itself
  REQUIRE(first_event(r, "rollback") != nullptr);
  CHECK_THAT(first_event(r, "rollback")->reason, Catch::Contains("crash rate"));
  CHECK(r.totals.reverted > 500);
  CHECK(r.totals.revert_refused == 0);
  CHECK(r.totals.updated + r.totals.reverted + r.totals.in_progress >= r.totals.exposed - 5);
  // Without the crash limit, the same release goes to the whole fleet.
  const RunReport blind = run(load("regression/crash-regression.json", {{"/rollout/gate/max_crash_rate_per_day", "1000"}}));
  CHECK(blind.rollout.state == "completed");
  CHECK(blind.totals.updated > 95000);
}

TEST_CASE("rollback is refused by the agent where the anti-rollback counter forbids it", "[rollout]") {
  const RunReport r = run(load("regression/anti-rollback.json"));
  CHECK(r.rollout.state == "rolled_back");
  CHECK(r.totals.reverted == 0);
  CHECK(r.totals.revert_refused > 500);
  CHECK(r.totals.revert_refused == r.totals.updated);  // every confirmed device refused it, and stays updated
}

TEST_CASE("bricked devices never report: without a timeout the gate waits for ever, with one it aborts",
          "[rollout]") {
  const RunReport stalled = run(load("regression/bricking-release.json", {{"/rollout/device_timeout_h", "0"}}));
  CHECK(stalled.rollout.state == "in_progress");
  CHECK(stalled.rollout.stages_opened == 1);
  CHECK(first_event(stalled, "awaiting_reports") != nullptr);
  CHECK(stalled.totals.bricked > 20);
  CHECK(stalled.totals.timed_out == 0);
  const RunReport decided = run(load("regression/bricking-release.json"));
  CHECK(decided.rollout.state == "aborted");
  CHECK(decided.totals.timed_out == decided.totals.bricked);
  REQUIRE(decided.rollout.stopped_at_s);
  CHECK(*decided.rollout.stopped_at_s <= 12 * 3600.0);
}

TEST_CASE("pause waits for the scripted decision, which can resume or abort", "[rollout]") {
  const auto base = std::vector<std::pair<std::string, std::string>>{{"/rollout/gate/on_breach", "\"pause\""}};
  const RunReport held = run(load("regression/revision-boot-failure.json", base));
  CHECK(held.rollout.state == "paused");
  CHECK(held.rollout.stages_opened == 1);
  auto abort = base;
  abort.emplace_back("/rollout/on_pause", R"({"decide_after_h": 3, "action": "abort"})");
  const RunReport aborted = run(load("regression/revision-boot-failure.json", abort));
  CHECK(aborted.rollout.state == "aborted");
  REQUIRE(first_event(aborted, "abort") != nullptr);
  CHECK(first_event(aborted, "abort")->t_s == Approx(*aborted.rollout.stopped_at_s + 3 * 3600.0));
  auto resume = base;
  resume.emplace_back("/rollout/on_pause", R"({"decide_after_h": 3, "action": "resume"})");
  const RunReport resumed = run(load("regression/revision-boot-failure.json", resume));
  REQUIRE(first_event(resumed, "resume") != nullptr);
  CHECK(resumed.rollout.stages_opened >= 2);  // the operator overrode stage 1's gate
}

TEST_CASE("a device gives up after max_attempts failed attempts and reports a failure", "[rollout]") {
  const RunReport r = run(load("regression/good-release.json", {{"/fleet/devices", "5000"},
                                                                 {"/release/corruption_per_transfer", "1"},
                                                                 {"/rollout/max_attempts", "3"},
                                                                 {"/rollout/gate", "null"}}));
  CHECK(r.totals.gave_up == r.totals.offered);
  CHECK(r.totals.failed == r.totals.offered);
  // Three failed attempts each; a dropped transfer also counts as an attempt.
  CHECK(r.totals.digest_rejections <= 3 * r.totals.offered);
  CHECK(r.totals.digest_rejections + r.totals.transfer_drops >= 3 * r.totals.offered);
  CHECK(r.totals.exposed == 0);
}

TEST_CASE("updates start only inside the region's maintenance window", "[rollout]") {
  // Both regions 02:00-04:00 local; eu at UTC+1, us at UTC-5.
  const RunReport r = run(load("regression/good-release.json",
                               {{"/fleet/devices", "5000"},
                                {"/rollout/gate", "null"},
                                {"/rollout/maintenance_windows", R"({"eu": {"utc_offset_h": 1, "from_h": 2, "to_h": 4},
                                                                     "us": {"utc_offset_h": -5, "from_h": 2, "to_h": 4}})"}}));
  CHECK(r.totals.updated > 4500);
  std::uint64_t outside = 0, inside = 0;
  for (std::size_t b = 0; b < r.series.updates.size(); ++b) {
    // An update confirms a few minutes after it starts: allow the bin after the window.
    const int utc = static_cast<int>(b % 24);
    const bool eu = utc >= 1 && utc <= 3, us = utc >= 7 && utc <= 9;
    (eu || us ? inside : outside) += r.series.updates[b];
  }
  CHECK(inside == r.totals.updated);
  CHECK(outside == 0);
}

TEST_CASE("the rate ramp offers devices at a growing rate and completes", "[rollout]") {
  const RunReport r = run(load("ramp.json", {{"/fleet/devices", "20000"},
                                             {"/rollout/ramp/increase_every_successes", "200"},
                                             {"/rollout/ramp/max_per_minute", "400"}}));
  const auto ramps = events(r, "ramp");
  REQUIRE(ramps.size() >= 3);
  for (std::size_t i = 1; i < ramps.size(); ++i) CHECK(ramps[i]->t_s >= ramps[i - 1]->t_s);
  CHECK(r.rollout.state == "completed");
  CHECK(r.totals.offered == 20000);
  CHECK(r.totals.updated > 19500);
  // In the first hour at most 5 per minute (before any increase) plus one tick's rounding.
  CHECK(r.series.offered[0] <= 5 * 60 + 5);
}

TEST_CASE("gate statistics match closed forms", "[rollout][gates]") {
  // Beta(1, 1) prior, 0 of n: posterior Beta(1, n + 1), P(p > L) = (1 - L)^(n + 1).
  CHECK(beta_exceedance(1, 1, 0, 99, 0.01) == Approx(std::pow(0.99, 100)).epsilon(1e-9));
  // Gamma(1, b) prior, no events in E: P(lambda > L) = exp(-(b + E) L).
  CHECK(gamma_exceedance(1, 2, 0, 50, 0.1) == Approx(std::exp(-52 * 0.1)).epsilon(1e-9));

  Gate g;
  g.max_failure_rate = 0.01;
  g.min_reports = 100;
  GateInputs in;
  in.reports = 99;
  in.failures = 50;
  CHECK(judge(g, in, 1000).judgement == Judgement::Undecided);  // not enough reports
  in.reports = 100;
  in.failures = 1;
  CHECK(judge(g, in, 1000).judgement == Judgement::Pass);       // 1 % is not above 1 %
  in.failures = 2;
  CHECK(judge(g, in, 1000).judgement == Judgement::Breach);
  CHECK(judge(g, in, 50).judgement == Judgement::Breach);       // min_reports capped by the offered

  // SPRT: Wald's bounds ln((1-beta)/alpha) and ln(beta/(1-alpha)).
  g.mode = GateMode::Sprt;
  g.min_reports = 0;
  g.sprt_alpha = g.sprt_beta = 0.05;
  g.sprt_good_ratio = 0.5;
  const double up = std::log(0.95 / 0.05), step = std::log(2.0), down = std::log(0.99 / 0.995);
  // k failures and no successes: breach once k ln 2 >= ln 19, i.e. k = 5.
  in = {};
  in.reports = in.failures = 4;
  CHECK(4 * step < up);
  CHECK(judge(g, in, 1000).judgement == Judgement::Undecided);
  in.reports = in.failures = 5;
  CHECK(judge(g, in, 1000).judgement == Judgement::Breach);
  // All successes: accept the good rate once n ln(0.99/0.995) <= ln(1/19).
  const auto n_accept = static_cast<std::uint64_t>(std::ceil(std::log(0.05 / 0.95) / down));
  in = {};
  in.reports = n_accept - 1;
  CHECK(judge(g, in, 1000000).judgement == Judgement::Undecided);
  in.reports = n_accept;
  CHECK(judge(g, in, 1000000).judgement == Judgement::Pass);

  // Bayes: breach exactly when the posterior exceedance passes the confidence.
  g.mode = GateMode::Bayes;
  g.confidence = 0.9;
  in = {};
  in.reports = 200;
  for (std::uint64_t k = 0; k < 20; ++k) {
    in.failures = k;
    const bool expect = beta_exceedance(1, 1, k, 200, 0.01) > 0.9;
    CHECK((judge(g, in, 1000).judgement == Judgement::Breach) == expect);
  }
  // Absolute limits fire whatever the mode and the number of reports.
  Gate a;
  a.max_failures = 3;
  a.min_reports = 1000;
  in = {};
  in.reports = in.failures = 4;
  CHECK(judge(a, in, 1000).judgement == Judgement::Breach);
}

TEST_CASE("bad rollout input exits 2 naming the JSON path, and writes nothing", "[rollout][cli]") {
  const auto bad = [](const std::string& pointer, const std::string& value) {
    return load_scenario_file(scenario_path("regression/good-release.json"), {{pointer, value}});
  };
  const auto error_at = [](const LoadResult& r, const std::string& path, const std::string& words) {
    INFO(format_errors(r.errors));
    REQUIRE(!r.scenario);
    bool found = false;
    for (const ScenarioError& e : r.errors) found = found || (e.path == path && e.message.find(words) != std::string::npos);
    CHECK(found);
  };
  error_at(bad("/rollout/stages/2/percent", "3"), "/rollout/stages/2/percent", "does not exceed stage 1");
  error_at(bad("/rollout/gate/max_rollback_rate", "1.5"), "/rollout/gate/max_rollback_rate", "not a probability");
  error_at(bad("/rollout/stages/1/gate/mode", "\"sprtx\""), "/rollout/stages/1/gate/mode", "not a valid choice");
  error_at(bad("/rollout/ramp", R"({"base_per_minute": 5, "increase_every_successes": 10})"), "/rollout/ramp",
           "together with \"stages\"");
  error_at(bad("/rollout/stages/0", R"({"groups": ["nobody"], "soak_h": 1})"), "/rollout/stages/0/groups/0",
           "names no group");
  error_at(bad("/rollout/stages/3", R"({"groups": ["x"]})"), "/rollout/stages/3/groups", "is the last stage");
  error_at(bad("/rollout/maintenance_windows", R"({"mars": {"from_h": 1, "to_h": 2}})"),
           "/rollout/maintenance_windows/mars", "names no region");
  error_at(bad("/rollout/on_pause", R"({"decide_after_h": 1, "action": "continue"})"), "/rollout/on_pause/action",
           "not a valid choice");
  error_at(bad("/check/expect/0/op", "\"=<\""), "/check/expect/0/op", "not a valid choice");
  error_at(bad("/check/expect/0/share", "0"), "/check/expect/0/share", "expected a number in (0, 1]");

  // Through the CLI: status 2, every problem named, no report written.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "otasim-rollout-bad-input";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ifstream in(scenario_path("regression/good-release.json"));
    std::stringstream text;
    text << in.rdbuf();
    std::string doc = text.str();
    const auto replace = [&doc](const std::string& from, const std::string& to) {
      const auto at = doc.find(from);
      REQUIRE(at != std::string::npos);
      doc.replace(at, from.size(), to);
    };
    replace("\"percent\": 25", "\"percent\": 3");
    replace("\"max_rollback_rate\": 0.003", "\"max_rollback_rate\": 1.5");
    std::ofstream(dir / "bad.json") << doc;
  }
  const Outcome o = sh(otasim() + " run " + (dir / "bad.json").string() + " --out " + (dir / "out").string());
  INFO(o.out);
  CHECK(o.status == 2);
  CHECK(o.out.find("/rollout/stages/2/percent: 3 does not exceed stage 1's 5") != std::string::npos);
  CHECK(o.out.find("/rollout/gate/max_rollback_rate: 1.5 is not a probability") != std::string::npos);
  CHECK(!fs::exists(dir / "out"));
}
