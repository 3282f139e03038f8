// The reference text's worked examples, reproduced by the simulator
// (../shared/reference/ota-update-architecture.txt).
#include <catch2/catch.hpp>

#include <cmath>

#include <boost/math/distributions/binomial.hpp>

#include "fleet_fixture.hpp"

using namespace ota::models;
using namespace ota::models::testing;

namespace {
// Two-sided 99% interval of a Binomial(n, p) count.
std::pair<double, double> binomial_99(double n, double p) {
  boost::math::binomial_distribution<> b(n, p);
  return {boost::math::quantile(b, 0.005), boost::math::quantile(boost::math::complement(b, 0.005))};
}
}  // namespace

TEST_CASE("thermostats on a single partition brick when power fails mid-write", "[models][reference]") {
  const Scenario s = load("thermostat-single-partition.json");
  const RunReport r = run(s);
  const auto [lo, hi] = binomial_99(50000, 0.001);
  INFO("bricked " << r.totals.bricked << ", 99% interval [" << lo << ", " << hi << "]");
  CHECK(static_cast<double>(r.totals.bricked) >= lo);
  CHECK(static_cast<double>(r.totals.bricked) <= hi);
  // The rest updated; a brick is a service call at the reference's $200.
  CHECK(r.totals.updated + r.totals.bricked == 50000);
  CHECK(r.totals.service_calls == r.totals.bricked);
  CHECK(r.totals.service_cost_usd == Approx(200.0 * static_cast<double>(r.totals.bricked)));
}

TEST_CASE("the same thermostats with A/B partitions never brick", "[models][reference]") {
  const Scenario s = load("thermostat-ab.json");
  const RunReport r = run(s);
  CHECK(r.totals.bricked == 0);
  CHECK(r.totals.power_losses > 0);  // the cuts happened; A/B absorbed them
  CHECK(r.totals.updated == 50000);
  // Downloads resumed from the last sector the slot writer persisted: each cut
  // costs less than one 4 KiB sector of repeated download.
  const std::uint64_t extra = r.totals.data_bytes - 50000ull * r.release.payload_bytes;
  CHECK(extra < r.totals.power_losses * 4096);
}

TEST_CASE("cellular cost of a full image vs a delta (reference: $1,000 vs $30)", "[models][reference]") {
  const RunReport full = run(load("cellular-cost-full.json"));
  const RunReport delta = run(load("cellular-cost-delta.json"));
  REQUIRE(full.totals.updated == 10000);
  REQUIRE(delta.totals.updated == 10000);
  CHECK(full.totals.data_bytes == 10000ull * 500000ull);
  CHECK(delta.totals.data_bytes == 10000ull * 15000ull);
  CHECK(full.totals.data_cost_usd == Approx(1000.0).epsilon(1e-12));
  CHECK(delta.totals.data_cost_usd == Approx(30.0).epsilon(1e-12));
  REQUIRE(full.totals.by_link.size() == 1);
  CHECK(full.totals.by_link[0].link == "cellular-020");
  CHECK(full.totals.by_link[0].bytes == full.totals.data_bytes);
  CHECK(full.totals.by_link[0].cost_usd == Approx(1000.0).epsilon(1e-12));
}

TEST_CASE("a release that never boots is rolled back by the agent on every device", "[models][reference]") {
  const Scenario s = load("bad-release-rollback.json");
  const RunReport r = run(s);
  const auto n = s.devices;
  CHECK(r.totals.rolled_back == n);
  CHECK(r.totals.bricked == 0);
  CHECK(r.totals.updated == 0);
  // Three trial boots each, all failed; the fourth boot rolls back.
  CHECK(r.totals.trial_boot_failures == 3 * n);
  CHECK(r.series.on_old.back() == n);
  CHECK(r.series.on_new.back() == 0);
}

TEST_CASE("the agent's trial-boot limit sets the rollback, with no change in models/", "[models][reference]") {
  // Boots of 60 s and one-minute bins make the timing visible: two more trial
  // boots a device delay each rollback by two minutes.
  const std::vector<std::pair<std::string, std::string>> common{
      {"/fleet/devices", "500"}, {"/hardware/0/boot_s", "60"}, {"/bin_minutes", "1"}};
  auto with_limit = common;
  with_limit.emplace_back("/hardware/0/trial_boot_limit", "5");
  const RunReport r3 = run(load("bad-release-rollback.json", common));
  const RunReport r5 = run(load("bad-release-rollback.json", with_limit));
  CHECK(r3.totals.trial_boot_failures == 3 * 500);
  CHECK(r5.totals.trial_boot_failures == 5 * 500);
  REQUIRE(r3.totals.rolled_back == 500);
  REQUIRE(r5.totals.rolled_back == 500);
  auto mean_rollback_s = [](const RunReport& r) {
    double sum = 0, n = 0;
    for (std::size_t i = 0; i < r.series.rollbacks.size(); ++i) {
      sum += (r.series.t_s[i] + r.series.bin_s / 2) * static_cast<double>(r.series.rollbacks[i]);
      n += static_cast<double>(r.series.rollbacks[i]);
    }
    return sum / n;
  };
  const double shift = mean_rollback_s(r5) - mean_rollback_s(r3);
  INFO("mean rollback time moved by " << shift << " s");
  // Exactly 2 x 60 s per device; one-minute bins blur the mean by well under 10 s.
  CHECK(shift > 110.0);
  CHECK(shift < 130.0);
}
