#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ota/sim/random.hpp"
#include "ota/sim/statistics.hpp"

using namespace ota::sim;

TEST_CASE("time series bins sums and peaks", "[sim][stats]") {
  TimeSeries ts(SimTime::start(), Duration::minutes(1), 3);
  ts.add(SimTime::start() + Duration::seconds(10), 2.0);
  ts.add(SimTime::start() + Duration::seconds(59), 3.0);
  ts.add(SimTime::start() + Duration::seconds(60), 7.0);
  ts.observe(SimTime::start() + Duration::seconds(61), 4.0);
  ts.observe(SimTime::start() + Duration::seconds(62), 9.0);
  ts.observe(SimTime::start() + Duration::seconds(63), 1.0);
  ts.add(SimTime::start() + Duration::minutes(3), 1.0);  // outside
  CHECK(ts.sum(0) == 5.0);
  CHECK(ts.sum(1) == 7.0);
  CHECK(ts.peak(1) == 9.0);
  CHECK(ts.sum(2) == 0.0);
  CHECK(ts.rate(0) == Approx(5.0 / 60.0));
  CHECK(ts.out_of_range() == 1);
  CHECK(ts.bin_start(2).micros() == Duration::minutes(2).micros());
}

TEST_CASE("histogram counts with under- and overflow", "[sim][stats]") {
  Histogram h(0.0, 10.0, 5);
  for (double x : {-1.0, 0.0, 1.9, 2.0, 9.99, 10.0, 42.0}) h.add(x);
  CHECK(h.bins() == 5);
  CHECK(h.count(0) == 2);
  CHECK(h.count(1) == 1);
  CHECK(h.count(4) == 1);
  CHECK(h.underflow() == 1);
  CHECK(h.overflow() == 2);
  CHECK(h.total() == 7);
  CHECK(h.bin_lower(1) == Approx(2.0));
  CHECK(h.bin_upper(1) == Approx(4.0));
}

TEST_CASE("online stats agree with the two-pass formulas", "[sim][stats]") {
  OnlineStats s;
  const std::vector<double> xs{2, 4, 4, 4, 5, 5, 7, 9};
  for (double x : xs) s.add(x);
  CHECK(s.count() == 8);
  CHECK(s.mean() == Approx(5.0));
  CHECK(s.variance() == Approx(32.0 / 7.0));
  CHECK(s.min() == 2.0);
  CHECK(s.max() == 9.0);
}

TEST_CASE("streaming quantiles approach the exact ones", "[sim][stats]") {
  StreamingQuantiles q({0.5, 0.95, 0.99});
  RandomStream r(9, 0);
  std::vector<double> xs;
  for (int i = 0; i < 100000; ++i) {
    const double x = r.exponential(1.0);
    xs.push_back(x);
    q.add(x);
  }
  CHECK(q.count() == 100000);
  // Exponential(1): median ln 2, p95 ln 20, p99 ln 100.
  CHECK(q.quantile(0.5) == Approx(std::log(2.0)).epsilon(0.02));
  CHECK(q.quantile(0.95) == Approx(std::log(20.0)).epsilon(0.02));
  CHECK(q.quantile(0.99) == Approx(std::log(100.0)).epsilon(0.03));
  CHECK(sample_quantile(xs, 0.5) == Approx(std::log(2.0)).epsilon(0.02));
}

TEST_CASE("sample quantile interpolates like R type 7", "[sim][stats]") {
  std::vector<double> v{1, 2, 3, 4};
  CHECK(sample_quantile(v, 0.0) == 1.0);
  CHECK(sample_quantile(v, 1.0) == 4.0);
  CHECK(sample_quantile(v, 0.5) == Approx(2.5));
  CHECK(sample_quantile(v, 0.25) == Approx(1.75));
}

TEST_CASE("Student-t confidence interval of a mean", "[sim][stats]") {
  // n = 10, mean 5.5, sd = 3.02765; t(0.975, 9) = 2.262157.
  std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const ConfidenceInterval ci = mean_confidence_interval(v);
  CHECK(ci.n == 10);
  CHECK(ci.mean == Approx(5.5));
  CHECK(ci.half_width == Approx(2.262157 * 3.0276504 / std::sqrt(10.0)).epsilon(1e-5));
  const std::vector<double> one{3.0};
  CHECK(mean_confidence_interval(one).half_width == 0.0);
}
