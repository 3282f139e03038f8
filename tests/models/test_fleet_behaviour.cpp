// The fleet's physics and delivery, each shown by the direction of its effect.
#include <catch2/catch.hpp>

#include "fleet_fixture.hpp"

using namespace ota::models;
using namespace ota::models::testing;

TEST_CASE("battery devices defer below the energy margin and retry when charged", "[models][battery]") {
  // NB-IoT battery class only, charge low enough that many cannot afford 1 MB.
  const std::vector<std::pair<std::string, std::string>> low{
      {"/fleet/devices", "2000"},
      {"/fleet/classes", R"([{"name":"b","share":1,"hardware":"revA","link":"nbiot","power":"battery",
          "battery":{"capacity_mah":300,"voltage_v":3.0,"soc_mean":0.25,"soc_stddev":0.05,"min_soc":0.2}}])"}};
  const RunReport blocked = run(load("fleet-1m.json", low));
  CHECK(blocked.totals.deferred_battery > 0);
  CHECK(blocked.totals.battery_blocked > 0);  // primary cells never recover
  CHECK(blocked.totals.bricked == 0);

  auto charging = low;
  charging[1].second = R"([{"name":"b","share":1,"hardware":"revA","link":"nbiot","power":"battery",
      "battery":{"capacity_mah":300,"voltage_v":3.0,"soc_mean":0.25,"soc_stddev":0.05,"min_soc":0.2,"recharge_mw":20}}])";
  const RunReport charged = run(load("fleet-1m.json", charging));
  CHECK(charged.totals.deferred_battery > 0);
  CHECK(charged.totals.battery_blocked == 0);
  CHECK(charged.totals.updated > blocked.totals.updated);
  CHECK(charged.totals.energy_mah > 0);
}

TEST_CASE("the energy margin decides who defers: the reference text's x 1.5 rule", "[models][battery]") {
  // Same fleet, margin 1.0 vs 1.5 vs 3.0: more margin, more deferrals.
  auto with_margin = [](const char* m) {
    return std::vector<std::pair<std::string, std::string>>{
        {"/fleet/devices", "3000"},
        {"/fleet/classes", std::string(R"([{"name":"b","share":1,"hardware":"revA","link":"nbiot","power":"battery",
            "battery":{"capacity_mah":400,"voltage_v":3.0,"soc_mean":0.3,"soc_stddev":0.05,"min_soc":0.2,"update_margin":)") +
                               m + "}}]"}};
  };
  const RunReport m1 = run(load("fleet-1m.json", with_margin("1.0")));
  const RunReport m15 = run(load("fleet-1m.json", with_margin("1.5")));
  const RunReport m3 = run(load("fleet-1m.json", with_margin("3.0")));
  INFO("blocked: " << m1.totals.battery_blocked << " / " << m15.totals.battery_blocked << " / "
                   << m3.totals.battery_blocked);
  CHECK(m1.totals.battery_blocked < m15.totals.battery_blocked);
  CHECK(m15.totals.battery_blocked < m3.totals.battery_blocked);
  CHECK(m1.totals.updated > m15.totals.updated);
  // With the margin, nobody browns out mid-update.
  CHECK(m15.totals.power_losses == 0);
}

TEST_CASE("single partition with a recovery image: cuts mid-write boot recovery, none brick",
          "[models][power]") {
  const RunReport r = run(load("thermostat-single-partition.json",
                               {{"/fleet/devices", "20000"}, {"/fleet/classes/0/partitioning", "single_recovery"}}));
  CHECK(r.totals.bricked == 0);
  CHECK(r.totals.recovery_boots > 0);
  CHECK(r.totals.updated == 20000);
}

TEST_CASE("real firmware: the agent's encoder makes the patch and devices download it", "[models][delta]") {
  const Scenario s = load("esp32-real-delta.json", {{"/fleet/devices", "1000"}});
  const RunReport r = run(s);
  CHECK(r.release.delta_from_images);
  CHECK(r.release.patch_bytes > 0);
  CHECK(r.release.patch_bytes < 43177);  // bsdiff's patch for this pair (firmware/README.md)
  CHECK(r.release.payload_bytes == r.release.patch_bytes);
  CHECK(r.totals.updated == 1000);
  // Drops resume from the last persisted sector, so a few bytes are fetched twice.
  CHECK(r.totals.data_bytes >= 1000 * r.release.patch_bytes);
  CHECK(r.totals.data_bytes < 1000 * r.release.patch_bytes * 11 / 10);
}

TEST_CASE("server limits queue and refuse downloads and slow the campaign", "[models][server]") {
  const std::vector<std::pair<std::string, std::string>> base{{"/fleet/devices", "5000"},
                                                              {"/rollout/stages", R"([{"percent":100,"soak_h":0}])"}};
  auto limited = base;
  limited.emplace_back("/server", R"({"max_concurrent_downloads":20,"queue_limit":50,"max_requests_per_s":2})");
  const RunReport free_run = run(load("fleet-1m.json", base));
  const RunReport tight = run(load("fleet-1m.json", limited));
  CHECK(free_run.totals.refused_requests == 0);
  CHECK(tight.totals.refused_requests > 0);
  double peak_queue = 0, peak_flight = 0;
  for (double q : tight.series.queue_length_peak) peak_queue = std::max(peak_queue, q);
  for (double f : tight.series.downloads_in_flight_peak) peak_flight = std::max(peak_flight, f);
  CHECK(peak_queue > 0);
  CHECK(peak_queue <= 50);
  CHECK(peak_flight <= 20);
  REQUIRE(free_run.totals.time_to_50pct_s.has_value());
  REQUIRE(tight.totals.time_to_50pct_s.has_value());
  CHECK(*tight.totals.time_to_50pct_s > *free_run.totals.time_to_50pct_s);
}

TEST_CASE("the agent's verifier refuses what it must, and nothing tampered is installed", "[models][verifier]") {
  // (A slot too small for the image is refused at load time, with the path.)
  // A release whose security counter is below the devices' minimum: Downgrade.
  const RunReport downgrade = run(load("cellular-cost-full.json", {{"/fleet/devices", "500"},
                                                                  {"/release/from_security_counter", "9"},
                                                                  {"/release/to_security_counter", "8"}}));
  CHECK(downgrade.totals.failed == 500);
  CHECK(downgrade.totals.updated == 0);
  CHECK(downgrade.totals.data_bytes == 0);  // refused on the manifest, before any download
  // Tampered and corrupted transfers are caught; devices fetch again and update.
  const RunReport hostile = run(load("cellular-cost-full.json", {{"/fleet/devices", "2000"},
                                                                {"/release/tamper_per_transfer", "0.1"},
                                                                {"/release/corruption_per_transfer", "0.05"}}));
  CHECK(hostile.totals.signature_rejections > 0);
  CHECK(hostile.totals.digest_rejections > 0);
  CHECK(hostile.totals.updated == 2000);
  CHECK(hostile.totals.data_bytes > 2000ull * 500000ull);  // the rejected transfers were paid for
}
