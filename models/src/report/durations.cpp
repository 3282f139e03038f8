// durations.cpp — distributions of waits and transfer times.
#include "ota/models/report/durations.hpp"

#include <algorithm>
#include <cmath>

namespace ota::models {

namespace {
constexpr double kLow = 1e-6, kHigh = 1e8;
// 1 % wide bins: (1.01)^k spans kLow..kHigh.
const unsigned kBins = static_cast<unsigned>(std::ceil(std::log(kHigh / kLow) / std::log(1.01)));
}  // namespace

DurationHistogram::DurationHistogram()
    : h_(boost::histogram::make_histogram_with(std::vector<double>(), Axis(kBins, kLow, kHigh))) {}

void DurationHistogram::add(double seconds) {
  seconds = std::max(0.0, seconds);
  h_(seconds < kLow ? 0.0 : seconds);  // log(0) = -inf: the underflow bin
  ++count_;
  sum_ += seconds;
  max_ = std::max(max_, seconds);
}

double DurationHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(count_)));
  double seen = 0;
  for (auto&& x : boost::histogram::indexed(h_, boost::histogram::coverage::all)) {
    seen += *x;
    if (seen < rank) continue;
    if (x.index() < 0) return 0;                                  // under 1 µs
    if (x.index() >= static_cast<int>(kBins)) return max_;        // over 10^8 s
    return std::min(max_, std::sqrt(x.bin().lower() * x.bin().upper()));  // the bin's middle
  }
  return max_;
}

DurationSummary DurationHistogram::summary() const {
  DurationSummary s;
  if (count_ == 0) return s;
  s.mean_s = sum_ / static_cast<double>(count_);
  s.p50_s = quantile(0.50);
  s.p95_s = quantile(0.95);
  s.p99_s = quantile(0.99);
  s.max_s = max_;
  return s;
}

std::vector<double> DurationHistogram::to_vector() const {
  std::vector<double> v;
  v.reserve(kBins + 4);
  for (auto&& x : boost::histogram::indexed(h_, boost::histogram::coverage::all)) v.push_back(*x);
  v.push_back(static_cast<double>(count_));
  v.push_back(sum_);
  return v;
}

void DurationHistogram::from_vector(const std::vector<double>& v) {
  std::size_t i = 0;
  for (auto&& x : boost::histogram::indexed(h_, boost::histogram::coverage::all)) *x = v[i++];
  count_ = static_cast<std::uint64_t>(std::llround(v[i++]));
  sum_ = v[i];
}

}  // namespace ota::models
