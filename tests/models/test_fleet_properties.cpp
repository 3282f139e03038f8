// Invariants of the fleet model over seeded random scenarios, determinism, and
// the agreement of aggregate idle polls with one event per poll.
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>
#include <utility>
#include <string>
#include <vector>

#include "fleet_fixture.hpp"
#include "ota/models/fleet/device.hpp"
#include "ota/models/rollout/controller.hpp"
#include "ota/sim/simulator.hpp"
#include "ota/models/report/report.hpp"
#include "ota/sim/random.hpp"
#include "ota/sim/statistics.hpp"

#include <nlohmann/json.hpp>

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
  // The events in the series add up to the totals.
  std::uint64_t updates = 0, rollbacks = 0, bricks = 0, deferrals = 0;
  for (std::size_t i = 0; i < S.t_s.size(); ++i) {
    updates += S.updates[i];
    rollbacks += S.rollbacks[i];
    bricks += S.bricks[i];
    deferrals += S.battery_deferrals[i];
  }
  CHECK(updates == t.updated);
  CHECK(rollbacks == t.rolled_back);
  CHECK(bricks == t.bricked);
  CHECK(deferrals == t.deferred_battery);
  // Nothing is stuck mid-update a week after the last stage opened.
  CHECK(S.waiting.back() == 0);
  CHECK(S.downloading.back() == 0);
  CHECK(t.in_progress == 0);
  // Every updated device downloaded the whole image at least once.
  CHECK(t.data_bytes >= t.updated * r.release.payload_bytes);
  double bytes_in_series = 0;
  for (double b : S.bytes_per_s) bytes_in_series += b * S.bin_s;
  CHECK(bytes_in_series == Approx(static_cast<double>(t.data_bytes)).epsilon(1e-9));
}

TEST_CASE("random scenarios: A/B never bricks; rollback only follows a failure", "[models][property]") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    ota::sim::RandomStream rng(seed, 99);
    const double boot_fail = seed % 2 == 0 ? 0.0 : rng.uniform(0.0, 0.6);
    const double crash = seed % 3 == 0 ? 0.0 : rng.uniform(0.0, 5.0);
    const double power = seed % 3 == 1 ? 0.0 : rng.uniform(0.0, 2.0);  // outages per hour: far above real life
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
    if (boot_fail > 0.3) CHECK(r.totals.trial_boot_failures > 0);
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

namespace {

// Runs `reps` replications of a scenario in aggregate and in events mode and
// checks that per-bin server load and time to 95% agree: for each bin, the
// 99.9% Student-t interval of the difference of the two means must hold 0,
// except for at most one bin in 50 (the bins are many tests at once).
void check_idle_poll_modes_agree(const std::vector<std::pair<std::string, std::string>>& base, int reps) {
  auto events_o = base;
  events_o.emplace_back("/polling/idle_polls", "\"events\"");
  const Scenario agg = load("fleet-1m.json", base);
  const Scenario evt = load("fleet-1m.json", events_o);
  const ReleaseArtifacts art = prepare_artifacts(agg);
  std::vector<std::vector<double>> load_a, load_e;
  std::vector<double> t95_a, t95_e, refused_a, refused_e;
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
  auto differ = [](const std::vector<double>& a, const std::vector<double>& e) {
    const auto ca = ota::sim::mean_confidence_interval(a, 0.999);
    const auto ce = ota::sim::mean_confidence_interval(e, 0.999);
    const double diff = ca.mean - ce.mean;
    const double half = std::sqrt(ca.half_width * ca.half_width + ce.half_width * ce.half_width);
    return std::abs(diff) > half + 1e-9 * std::abs(ce.mean);
  };
  const std::size_t bins = load_a[0].size();
  std::size_t outside = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    std::vector<double> xa, xe;
    for (int k = 0; k < reps; ++k) {
      xa.push_back(load_a[static_cast<std::size_t>(k)][b]);
      xe.push_back(load_e[static_cast<std::size_t>(k)][b]);
    }
    if (differ(xa, xe)) {
      ++outside;
      UNSCOPED_INFO("bin " << b << ": aggregate " << ota::sim::mean_confidence_interval(xa).mean << " events "
                           << ota::sim::mean_confidence_interval(xe).mean);
    }
  }
  INFO(outside << " of " << bins << " hourly bins disagree");
  CHECK(outside <= bins / 50);
  INFO("time to 95%: aggregate " << ota::sim::mean_confidence_interval(t95_a).mean << ", events "
                                 << ota::sim::mean_confidence_interval(t95_e).mean);
  CHECK_FALSE(differ(t95_a, t95_e));
}

}  // namespace

TEST_CASE("aggregate idle polls agree with one event per poll", "[models][validation]") {
  check_idle_poll_modes_agree({{"/fleet/devices", "2000"}, {"/horizon_h", "96"}}, 8);
}

TEST_CASE("aggregate idle polls agree with one event per poll under a request limit", "[models][validation]") {
  // 2000 devices poll about 0.56 times a second; a limit of 1 request/s binds
  // in the one-second windows where polls bunch up.
  check_idle_poll_modes_agree({{"/fleet/devices", "2000"},
                               {"/horizon_h", "96"},
                               {"/server", R"({"max_requests_per_s":1})"}},
                              8);
}

TEST_CASE("per-device state stays within 64 bytes", "[models][memory]") {
  // The sizes of the real types each unit keeps per device.
  using OrderEntry = std::remove_cvref_t<decltype(std::declval<const RolloutController&>().order())>::value_type;
  const std::size_t sum =
      sizeof(Device) + sizeof(ota::agent::BootRecord) + sizeof(ota::sim::Simulator::Epoch) + sizeof(OrderEntry);
  CHECK(bytes_per_device() == sum);
  CHECK(sum <= 64);
  CHECK(sizeof(Device) == 34);
  // The record is packed: a vector of them has no padding between devices.
  CHECK(alignof(Device) <= 2);
}

TEST_CASE("the report carries every field the issue names", "[models][report]") {
  const RunReport r = run(load("cellular-cost-full.json", {{"/fleet/devices", "200"}}));
  const auto j = nlohmann::json::parse(report_json(r));
  for (const char* k : {"devices", "updated", "failed", "rolled_back", "bricked", "deferred_battery", "data_bytes",
                        "data_cost_usd", "cdn_cost_usd", "energy_mah", "service_calls", "service_cost_usd",
                        "time_to_50pct_s", "time_to_90pct_s", "time_to_95pct_s", "time_to_99pct_s"}) {
    INFO(k);
    CHECK(j["totals"].contains(k));
  }
  for (const char* k : {"on_old", "on_new", "idle", "downloading", "updated", "rolled_back", "bricked",
                        "downloads_in_flight_peak", "requests_per_s", "queue_length_peak", "bytes_per_s", "failures",
                        "rollbacks", "bricks", "battery_deferrals", "crashes"}) {
    INFO(k);
    REQUIRE(j["series"].contains(k));
    CHECK(j["series"][k].size() == r.series.t_s.size());
  }
  for (const char* k : {"seed", "events", "wall_s", "bytes_per_device", "peak_rss_bytes"}) {
    INFO(k);
    CHECK(j["run"].contains(k));
  }
  CHECK(j["totals"]["time_to_99pct_s"].is_number());
  // Not reached: null, not a made-up number.
  const RunReport none = run(load("bad-release-rollback.json", {{"/fleet/devices", "100"}}));
  CHECK(nlohmann::json::parse(report_json(none))["totals"]["time_to_50pct_s"].is_null());
}
