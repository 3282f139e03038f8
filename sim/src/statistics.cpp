#include "ota/sim/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>  // extended_p_square_quantile.hpp uses ostringstream without including it
#include <stdexcept>

// Boost.Accumulators trips -Wmaybe-uninitialized inside its own templates.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/count.hpp>
#include <boost/accumulators/statistics/extended_p_square_quantile.hpp>
#include <boost/accumulators/statistics/max.hpp>
#include <boost/accumulators/statistics/mean.hpp>
#include <boost/accumulators/statistics/min.hpp>
#include <boost/accumulators/statistics/stats.hpp>
#include <boost/accumulators/statistics/variance.hpp>
#include <boost/histogram.hpp>
#pragma GCC diagnostic pop
#include <boost/math/distributions/students_t.hpp>

namespace ota::sim {

namespace acc = boost::accumulators;

// ---------------------------------------------------------------- TimeSeries

TimeSeries::TimeSeries(SimTime start, Duration bin_width, std::size_t bins)
    : start_(start), width_(bin_width), sum_(bins, 0.0), peak_(bins, 0.0) {
  if (bin_width <= Duration::zero()) throw std::invalid_argument("TimeSeries: bin width must be positive");
}

std::optional<std::size_t> TimeSeries::bin_of(SimTime t) const {
  if (t < start_) return std::nullopt;
  const auto i = static_cast<std::size_t>((t - start_).micros() / width_.micros());
  if (i >= sum_.size()) return std::nullopt;
  return i;
}

void TimeSeries::add(SimTime t, double value) {
  if (auto i = bin_of(t)) {
    sum_[*i] += value;
  } else {
    ++out_of_range_;
  }
}

void TimeSeries::observe(SimTime t, double level) {
  if (auto i = bin_of(t)) {
    peak_[*i] = std::max(peak_[*i], level);
  } else {
    ++out_of_range_;
  }
}

// ----------------------------------------------------------------- Histogram

namespace {
using RegularHistogram =
    decltype(boost::histogram::make_histogram(boost::histogram::axis::regular<>(1, 0.0, 1.0)));
}

struct Histogram::Impl {
  RegularHistogram h;
};

Histogram::Histogram(double lo, double hi, unsigned bins) {
  if (!(hi > lo) || bins == 0) throw std::invalid_argument("Histogram: need lo < hi and bins > 0");
  impl_ = std::make_unique<Impl>(
      Impl{boost::histogram::make_histogram(boost::histogram::axis::regular<>(bins, lo, hi))});
}
Histogram::~Histogram() = default;
Histogram::Histogram(Histogram&&) noexcept = default;
Histogram& Histogram::operator=(Histogram&&) noexcept = default;

void Histogram::add(double x) { impl_->h(x); }
unsigned Histogram::bins() const { return static_cast<unsigned>(impl_->h.axis(0).size()); }
double Histogram::bin_lower(unsigned i) const { return impl_->h.axis(0).bin(static_cast<int>(i)).lower(); }
double Histogram::bin_upper(unsigned i) const { return impl_->h.axis(0).bin(static_cast<int>(i)).upper(); }
std::uint64_t Histogram::count(unsigned i) const {
  return static_cast<std::uint64_t>(impl_->h.at(static_cast<int>(i)));
}
std::uint64_t Histogram::underflow() const { return static_cast<std::uint64_t>(impl_->h.at(-1)); }
std::uint64_t Histogram::overflow() const {
  return static_cast<std::uint64_t>(impl_->h.at(static_cast<int>(bins())));
}
std::uint64_t Histogram::total() const {
  double t = 0;
  for (auto&& cell : boost::histogram::indexed(impl_->h, boost::histogram::coverage::all)) t += *cell;
  return static_cast<std::uint64_t>(t);
}

// --------------------------------------------------------------- OnlineStats

struct OnlineStats::Impl {
  acc::accumulator_set<double, acc::stats<acc::tag::count, acc::tag::mean, acc::tag::variance,
                                          acc::tag::min, acc::tag::max>>
      a;
};

OnlineStats::OnlineStats() : impl_(std::make_unique<Impl>()) {}
OnlineStats::~OnlineStats() = default;
OnlineStats::OnlineStats(OnlineStats&&) noexcept = default;
OnlineStats& OnlineStats::operator=(OnlineStats&&) noexcept = default;

void OnlineStats::add(double x) { impl_->a(x); }
std::uint64_t OnlineStats::count() const { return acc::count(impl_->a); }
double OnlineStats::mean() const { return acc::mean(impl_->a); }
double OnlineStats::variance() const {
  // Boost's variance is the population (n) form; convert to the unbiased one.
  const double n = static_cast<double>(count());
  return n < 2 ? 0.0 : acc::variance(impl_->a) * n / (n - 1);
}
double OnlineStats::stddev() const { return std::sqrt(variance()); }
double OnlineStats::min() const { return acc::min(impl_->a); }
double OnlineStats::max() const { return acc::max(impl_->a); }

// -------------------------------------------------------- StreamingQuantiles

struct StreamingQuantiles::Impl {
  std::vector<double> probabilities;
  acc::accumulator_set<double, acc::stats<acc::tag::count, acc::tag::extended_p_square_quantile>> a;
  explicit Impl(std::vector<double> p)
      : probabilities(std::move(p)), a(acc::extended_p_square_probabilities = probabilities) {}
};

StreamingQuantiles::StreamingQuantiles(std::vector<double> probabilities) {
  if (probabilities.empty()) throw std::invalid_argument("StreamingQuantiles: no probabilities");
  for (double p : probabilities)
    if (!(p > 0 && p < 1)) throw std::invalid_argument("StreamingQuantiles: probability outside (0,1)");
  std::sort(probabilities.begin(), probabilities.end());
  impl_ = std::make_unique<Impl>(std::move(probabilities));
}
StreamingQuantiles::~StreamingQuantiles() = default;
StreamingQuantiles::StreamingQuantiles(StreamingQuantiles&&) noexcept = default;
StreamingQuantiles& StreamingQuantiles::operator=(StreamingQuantiles&&) noexcept = default;

void StreamingQuantiles::add(double x) { impl_->a(x); }
std::uint64_t StreamingQuantiles::count() const { return acc::count(impl_->a); }
double StreamingQuantiles::quantile(double p) const {
  return acc::quantile(impl_->a, acc::quantile_probability = p);
}

// ------------------------------------------------------------------ samples

double sample_quantile(std::vector<double>& values, double p) {
  if (values.empty()) throw std::invalid_argument("sample_quantile: empty sample");
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("sample_quantile: p outside [0,1]");
  const double h = p * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo), values.end());
  const double v_lo = values[lo];
  if (lo + 1 >= values.size()) return v_lo;
  const double v_hi = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo) + 1, values.end());
  return v_lo + (h - static_cast<double>(lo)) * (v_hi - v_lo);
}

ConfidenceInterval mean_confidence_interval(std::span<const double> samples, double level) {
  if (!(level > 0 && level < 1)) throw std::invalid_argument("mean_confidence_interval: level outside (0,1)");
  ConfidenceInterval ci;
  ci.n = samples.size();
  if (samples.empty()) return ci;
  double sum = 0;
  for (double x : samples) sum += x;
  ci.mean = sum / static_cast<double>(samples.size());
  if (samples.size() < 2) return ci;
  double ss = 0;
  for (double x : samples) ss += (x - ci.mean) * (x - ci.mean);
  const double n = static_cast<double>(samples.size());
  const double sd = std::sqrt(ss / (n - 1));
  boost::math::students_t t(n - 1);
  const double q = boost::math::quantile(boost::math::complement(t, (1 - level) / 2));
  ci.half_width = q * sd / std::sqrt(n);
  return ci;
}

}  // namespace ota::sim
