// The server's download slots and its shared bandwidth against queueing theory.
#include <catch2/catch.hpp>

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "models/fleet_fixture.hpp"

using namespace ota::models;
using namespace ota::models::testing;

namespace {

// Mean and the half-width of its two-sided interval at `confidence`
// (Student's t over independent replications).
std::pair<double, double> mean_and_halfwidth(const std::vector<double>& x, double confidence) {
  const auto n = static_cast<double>(x.size());
  double m = 0;
  for (double v : x) m += v;
  m /= n;
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  const double sd = std::sqrt(ss / (n - 1));
  const boost::math::students_t t(n - 1);
  return {m, boost::math::quantile(boost::math::complement(t, (1 - confidence) / 2)) * sd / std::sqrt(n)};
}

}  // namespace

// One download slot (max_concurrent_downloads 1), no bandwidth limit, every
// device on the same fixed link: a deterministic service time D. 40,000
// devices are offered at t = 0 and first ask at a uniform time over one poll
// interval T: arrivals of rate lambda = N / T, close to Poisson (a Poisson
// process given its count). The FIFO queue is then M/D/1, whose mean wait
// (Pollaczek-Khinchine) is rho D / (2 (1 - rho)) at rho = lambda D.
TEST_CASE("queue wait of one FIFO download slot matches M/D/1", "[models][queueing]") {
  const std::uint64_t n = 40000;
  for (const double rho : {0.5, 0.8}) {
    INFO("rho = " << rho);
    // 491,520-byte image at 1 Mbit/s: D = 3.93216 s; flash at 1 ms a sector
    // (0.12 s for the image) never sets the pace.
    const double d = 491520.0 * 8 / 1e6;
    const double interval_s = static_cast<double>(n) * d / rho;
    const Scenario s = load("thermostat-ab.json",
                            {{"/fleet/devices", std::to_string(n)},
                             {"/fleet/classes/0/power_loss_per_hour", "0"},
                             {"/links/home-wifi/median_kbps", "1000"},
                             {"/links/home-wifi/min_kbps", "1000"},
                             {"/links/home-wifi/max_kbps", "1000"},
                             {"/hardware/0/flash/erase_ms_per_sector", "1"},
                             {"/polling/interval_min", std::to_string(interval_s / 60)},
                             {"/server", R"({"max_concurrent_downloads": 1})"},
                             {"/horizon_h", std::to_string(std::ceil(interval_s / 3600 * 1.2))}});
    std::vector<double> means;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const RunReport r = run(s, seed);
      REQUIRE(r.totals.origin_times.downloads == n);  // each device downloads once: no drops, no power loss
      REQUIRE(r.totals.updated == n);
      // Every transfer takes exactly D.
      CHECK(r.totals.origin_times.transfer.mean_s == Approx(d).epsilon(1e-9));
      CHECK(r.totals.origin_times.transfer.max_s == Approx(d).epsilon(1e-9));
      means.push_back(r.totals.origin_times.wait.mean_s);
    }
    const double theory = rho * d / (2 * (1 - rho));
    const auto [mean, half] = mean_and_halfwidth(means, 0.99);
    INFO("M/D/1 mean wait " << theory << " s; simulated " << mean << " s +- " << half << " (99 %, 8 replications)");
    CHECK(std::abs(mean - theory) <= half);
    CHECK(half < 0.1 * theory);  // the check has power: the interval is narrow
  }
}

// No slot limit, a 1 Mbit/s origin shared max-min fairly by the downloads in
// progress, every device on a 4 Mbit/s link (its flash faster still): no
// download is ever limited by its own cap, so the origin is an egalitarian
// processor-sharing server. Arrivals as in the M/D/1 check above (close to
// Poisson, rate lambda = N / T); service demand D = F / u_s. The mean time in
// an M/G/1-PS system is D / (1 - rho) for any service distribution
// (Kleinrock), at rho = lambda D.
TEST_CASE("transfer time at a bandwidth-limited origin matches M/G/1 processor sharing", "[models][queueing][sharing]") {
  const std::uint64_t n = 40000;
  for (const double rho : {0.5, 0.8}) {
    INFO("rho = " << rho);
    const double d = 491520.0 * 8 / 1e6;  // 491,520-byte image through 1 Mbit/s: 3.93216 s
    const double interval_s = static_cast<double>(n) * d / rho;
    const Scenario s = load("thermostat-ab.json",
                            {{"/fleet/devices", std::to_string(n)},
                             {"/fleet/classes/0/power_loss_per_hour", "0"},
                             {"/links/home-wifi/median_kbps", "4000"},
                             {"/links/home-wifi/min_kbps", "4000"},
                             {"/links/home-wifi/max_kbps", "4000"},
                             {"/hardware/0/flash/erase_ms_per_sector", "1"},
                             {"/polling/interval_min", std::to_string(interval_s / 60)},
                             {"/server", R"({"bandwidth_mbps": 1})"},
                             {"/horizon_h", std::to_string(std::ceil(interval_s / 3600 * 1.2))}});
    std::vector<double> means;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      const RunReport r = run(s, seed);
      REQUIRE(r.totals.origin_times.downloads == n);
      REQUIRE(r.totals.updated == n);
      CHECK(r.totals.origin_times.wait.max_s == 0);                 // sharing never queues
      CHECK(r.totals.origin_times.transfer.p50_s >= d * (1 - 1e-9));  // nobody beats the whole origin
      means.push_back(r.totals.origin_times.transfer.mean_s);
    }
    const double theory = d / (1 - rho);
    const auto [mean, half] = mean_and_halfwidth(means, 0.99);
    INFO("M/G/1-PS mean transfer " << theory << " s; simulated " << mean << " s +- " << half << " (99 %, 8 replications)");
    CHECK(std::abs(mean - theory) <= half);
    CHECK(half < 0.1 * theory);  // the check has power: the interval is narrow
  }
}
