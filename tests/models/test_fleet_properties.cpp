// Invariants of the fleet model over seeded random scenarios, determinism, and
// the agreement of aggregate idle polls with one event per poll.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "fleet_fixture.hpp"
#include "ota/models/report/report.hpp"
#include "ota/sim/random.hpp"
#include "ota/sim/statistics.hpp"

using namespace ota::models;
using namespace ota::models::testing;

TEST_CASE("the same scenario and seed give a byte-identical report", "[models][determinism]") {
  const Scenario s = load("fleet-1m.json", {{"/fleet/devices", "3000"}});
  const std::string a = report_json(run(s), false);
  const std::string b = report_json(run(s), false);
  const std::string c = report_json(run(s, 2), false);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("devices are conserved in every time bin", "[models][property]") {
  const Scenario s = load("fleet-1m.json", {{"/fleet/devices", "4000"}});
  const RunReport r = run(s);
  const Series& S = r.series;
  REQUIRE(!S.t_s.empty());
  for (std::size_t i = 0; i < S.t_s.size(); ++i) {
    INFO("bin " << i);
    CHECK(S.on_old[i] + S.on_new[i] + S.on_none[i] == 4000);
    CHECK(S.idle[i] + S.waiting[i] + S.downloading[i] + S.installing[i] + S.rebooting[i] + S.updated[i] +
              S.rolled_back[i] + S.bricked[i] + S.refused[i] + S.battery_blocked[i] ==
          4000);
  }
  const Totals& t = r.totals;
  CHECK(t.updated + t.rolled_back + t.bricked + t.failed + t.battery_blocked + t.in_progress <= t.devices);
  CHECK(t.updated > 3500);
}

TEST_CASE("random scenarios: A/B never bricks; rollback only follows a failure", "[models][property]") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    ota::sim::RandomStream rng(seed, 99);
    const double boot_fail = seed % 2 == 0 ? 0.0 : rng.uniform(0.0, 0.6);
    const double crash = seed % 3 == 0 ? 0.0 : rng.uniform(0.0, 5.0);
    const double power = rng.uniform(0.0, 2.0);  // outages per hour: far above real life
    const double corrupt = rng.uniform(0.0, 0.2);
    const std::vector<std::pair<std::string, std::string>> o{
        {"/fleet/devices", "1500"},
        {"/fleet/classes/1/power_loss_per_hour", std::to_string(power)},
        {"/fleet/classes/2/power_loss_per_hour", std::to_string(power)},
        {"/release/corruption_per_transfer", std::to_string(corrupt)},
        {"/release/behaviour", "{\"default\":{\"boot_failure_probability\":" + std::to_string(boot_fail) +
                                   ",\"crash_per_day\":" + std::to_string(crash) + "}}"},
        {"/seed", std::to_string(seed)}};
    const RunReport r = run(load("fleet-1m.json", o));
    INFO("seed " << seed << " boot_fail " << boot_fail << " crash/day " << crash << " power/h " << power
                 << " corrupt " << corrupt);
    CHECK(r.totals.bricked == 0);
    if (boot_fail == 0.0 && crash == 0.0 && power == 0.0) CHECK(r.totals.rolled_back == 0);
    if (boot_fail == 0.0 && crash == 0.0) {
      // Without boot failures or crashes only power cuts during a trial can
      // exhaust its boots: with these hazards that is rare but possible.
      CHECK(r.totals.rolled_back <= r.totals.power_losses);
    }
    if (corrupt > 0.01) CHECK(r.totals.digest_rejections > 0);
    CHECK(r.totals.updated + r.totals.rolled_back + r.totals.in_progress + r.totals.battery_blocked +
              r.totals.failed <=
          1500);
  }
}

TEST_CASE("aggregate idle polls agree with one event per poll", "[models][validation]") {
  // Small fleet, several replications in each mode: server load per hour bin
  // and time to 95% updated must agree within their statistical error.
  const int reps = 8;
  const std::vector<std::pair<std::string, std::string>> base{{"/fleet/devices", "2000"},
                                                              {"/horizon_h", "96"}};
  auto events_o = base;
  events_o.emplace_back("/polling/idle_polls", "\"events\"");
  const Scenario agg = load("fleet-1m.json", base);
  const Scenario evt = load("fleet-1m.json", events_o);
  const ReleaseArtifacts art = prepare_artifacts(agg);
  std::vector<std::vector<double>> load_a, load_e;
  std::vector<double> t95_a, t95_e;
  for (int k = 0; k < reps; ++k) {
    RunOptions o;
    o.seed = 100 + static_cast<std::uint64_t>(k);
    const RunReport ra = run_scenario(agg, art, o);
    const RunReport re = run_scenario(evt, art, o);
    load_a.push_back(ra.series.requests_per_s);
    load_e.push_back(re.series.requests_per_s);
    REQUIRE(ra.totals.time_to_95pct_s.has_value());
    REQUIRE(re.totals.time_to_95pct_s.has_value());
    t95_a.push_back(*ra.totals.time_to_95pct_s);
    t95_e.push_back(*re.totals.time_to_95pct_s);
  }
  const std::size_t bins = load_a[0].size();
  std::size_t outside = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    std::vector<double> xa, xe;
    for (int k = 0; k < reps; ++k) {
      xa.push_back(load_a[static_cast<std::size_t>(k)][b]);
      xe.push_back(load_e[static_cast<std::size_t>(k)][b]);
    }
    const auto ca = ota::sim::mean_confidence_interval(xa, 0.99);
    const auto ce = ota::sim::mean_confidence_interval(xe, 0.99);
    // Intervals of the two means must overlap (with 0.5% slack for the bins
    // where one mode's spread is near zero).
    const double slack = 0.005 * ce.mean;
    if (ca.upper() + slack < ce.lower() || ce.upper() + slack < ca.lower()) ++outside;
  }
  INFO(outside << " of " << bins << " hourly bins disagree");
  CHECK(outside <= bins / 20);  // at 99% intervals, a handful may miss by chance
  const auto ta = ota::sim::mean_confidence_interval(t95_a, 0.99);
  const auto te = ota::sim::mean_confidence_interval(t95_e, 0.99);
  INFO("time to 95%: aggregate " << ta.mean << " ± " << ta.half_width << ", events " << te.mean << " ± "
                                 << te.half_width);
  CHECK(ta.upper() >= te.lower());
  CHECK(te.upper() >= ta.lower());
}
