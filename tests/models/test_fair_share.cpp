// Max-min fair sharing (delivery/fair_share.hpp) against a brute-force
// water-filling reference and a step-by-step fluid simulation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "ota/models/delivery/fair_share.hpp"
#include "ota/sim/random.hpp"

using ota::models::FairShare;

namespace {

// The max-min fair rates of flows with caps `caps` on one link of capacity C,
// by sorting (the textbook water-filling).
std::vector<double> water_fill(const std::vector<double>& caps, double capacity) {
  std::vector<std::size_t> order(caps.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return caps[a] < caps[b]; });
  std::vector<double> rate(caps.size());
  double left = capacity;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const double share = left / static_cast<double>(order.size() - k);
    const double r = std::min(caps[order[k]], share);
    rate[order[k]] = r;
    left -= r;
  }
  return rate;
}

struct Job {
  double arrive, bits, cap;
};

// Completion times of `jobs` on one link, by a fluid simulation that
// recomputes every rate at every arrival and completion.
std::vector<double> reference_completions(const std::vector<Job>& jobs, double capacity) {
  std::vector<double> done(jobs.size(), -1), left(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) left[i] = jobs[i].bits;
  double t = 0;
  std::size_t next = 0;  // jobs sorted by arrival
  std::vector<std::size_t> active;
  while (next < jobs.size() || !active.empty()) {
    std::vector<double> caps;
    for (std::size_t i : active) caps.push_back(jobs[i].cap);
    const std::vector<double> rate = water_fill(caps, capacity);
    double dt = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < active.size(); ++k) dt = std::min(dt, left[active[k]] / rate[k]);
    const double arrival = next < jobs.size() ? jobs[next].arrive - t : std::numeric_limits<double>::infinity();
    const double step = std::min(dt, arrival);
    for (std::size_t k = 0; k < active.size(); ++k) left[active[k]] -= rate[k] * step;
    t += step;
    std::vector<std::size_t> still;
    for (std::size_t i : active) {
      if (left[i] <= 1e-9 * jobs[i].bits) done[i] = t;
      else still.push_back(i);
    }
    active = still;
    if (step == arrival) active.push_back(next++);
  }
  return done;
}

}  // namespace

TEST_CASE("fair share: every rate is min(cap, level), the link is work-conserving", "[models][fair_share]") {
  ota::sim::RandomStream r(11, 0);
  const double capacity = 10e6;
  FairShare fs;
  const FairShare::LinkId link = fs.add_link(capacity);
  std::map<std::uint32_t, double> caps;  // running flows
  std::uint32_t next_id = 0;
  double t = 0;
  for (int step = 0; step < 3000; ++step) {
    t += r.exponential(1.0);
    if (caps.empty() || r.uniform() < 0.55) {
      // Caps from far below to far above the fair share.
      const double cap = std::exp(r.uniform(std::log(5e4), std::log(2e7)));
      fs.start(link, next_id, 1e12, cap, t);  // long flows: none completes here
      caps[next_id++] = cap;
    } else {
      auto it = caps.begin();
      std::advance(it, static_cast<long>(r.uniform_int(caps.size())));
      REQUIRE(fs.stop(it->first, t).has_value());
      caps.erase(it);
    }
    std::vector<double> c;
    for (const auto& [id, cap] : caps) c.push_back(cap);
    const std::vector<double> expect = water_fill(c, capacity);
    double sum = 0, sum_caps = 0;
    std::size_t k = 0;
    for (const auto& [id, cap] : caps) {
      const double got = fs.rate(id);
      REQUIRE(got == Approx(expect[k]).epsilon(1e-9));
      REQUIRE(got <= cap * (1 + 1e-12));
      sum += got;
      sum_caps += cap;
      ++k;
    }
    REQUIRE(sum <= capacity * (1 + 1e-9));
    REQUIRE(sum == Approx(std::min(capacity, sum_caps)).epsilon(1e-9));  // no bandwidth left idle while a flow wants it
    REQUIRE(fs.used_bps(link) == Approx(std::min(capacity, sum_caps)).epsilon(1e-9));
    REQUIRE(fs.flows(link) == caps.size());
  }
}

TEST_CASE("fair share: completion times match a fluid simulation", "[models][fair_share]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed " << seed);
    ota::sim::RandomStream r(seed, 1);
    const double capacity = 1e6;
    std::vector<Job> jobs;
    double t = 0;
    for (int i = 0; i < 150; ++i) {
      t += r.exponential(0.5);
      jobs.push_back({t, r.uniform(1e5, 2e6), std::exp(r.uniform(std::log(1e4), std::log(3e6)))});
    }
    const std::vector<double> expect = reference_completions(jobs, capacity);

    FairShare fs;
    const FairShare::LinkId link = fs.add_link(capacity);
    std::vector<double> got(jobs.size(), -1);
    std::size_t next = 0;
    while (next < jobs.size() || fs.flows(link) > 0) {
      const double complete = fs.next_completion(link);
      if (next < jobs.size() && jobs[next].arrive <= complete) {
        fs.start(link, static_cast<std::uint32_t>(next), jobs[next].bits, jobs[next].cap, jobs[next].arrive);
        ++next;
        continue;
      }
      const auto id = fs.pop_completed(link, complete);
      REQUIRE(id.has_value());
      got[*id] = complete;
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) REQUIRE(got[i] == Approx(expect[i]).epsilon(1e-7));
  }
}

TEST_CASE("fair share: a flow cut short has received what its changing rate gave it", "[models][fair_share]") {
  FairShare fs;
  const FairShare::LinkId link = fs.add_link(10e6);
  fs.start(link, 1, 100e6, 20e6, 0.0);  // alone: 10 Mbit/s
  fs.start(link, 2, 100e6, 2e6, 1.0);   // capped at 2: flow 1 gets 8
  fs.start(link, 3, 100e6, 20e6, 3.0);  // 1 and 3 get 4 each
  CHECK(fs.rate(1) == Approx(4e6));
  CHECK(fs.rate(2) == Approx(2e6));
  REQUIRE(fs.stop(2, 5.0).value() == Approx(2e6 * 4));
  // Flow 1: 10 Mbit/s for 1 s, 8 for 2 s, 4 for 2 s, then 5 (2 left the link).
  REQUIRE(fs.stop(1, 6.0).value() == Approx(10e6 + 16e6 + 8e6 + 5e6));
  CHECK(fs.rate(3) == Approx(10e6));
  CHECK_FALSE(fs.stop(1, 7.0).has_value());  // not running any more
}

TEST_CASE("fair share: a million flows on one link end together at N F / C", "[models][fair_share]") {
  // Equal flows started together: processor sharing ends them all at N F / C.
  // Starting and ending each costs O(log n): this runs in about a second.
  const std::uint32_t n = 1'000'000;
  const double bits = 8e6, capacity = 1e9;
  FairShare fs;
  const FairShare::LinkId link = fs.add_link(capacity);
  ota::sim::RandomStream r(3, 0);
  for (std::uint32_t i = 0; i < n; ++i) fs.start(link, i, bits, r.uniform(5e6, 50e6), 0.0);
  const double end = n * bits / capacity;
  REQUIRE(fs.next_completion(link) == Approx(end).epsilon(1e-9));
  std::uint32_t completed = 0;
  while (fs.pop_completed(link, end)) ++completed;
  CHECK(completed == n);
  CHECK(fs.flows(link) == 0);
}
