// statistics.hpp — what observers collect during a run.
//
// Counters and fixed-bin time series are plain arrays (cheap enough to touch on
// every event). Histograms, online moments and streaming quantiles wrap Boost
// (Histogram, Accumulators) behind a pimpl so that their templates stay out of
// the headers every model file includes. Confidence intervals use Boost.Math's
// Student t.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ota/sim/time.hpp"

namespace ota::sim {

class Counter {
 public:
  void add(std::int64_t n = 1) { value_ += n; }
  std::int64_t value() const { return value_; }

 private:
  std::int64_t value_ = 0;
};

// Fixed-width time bins over [start, start + bins * width). Each bin keeps the
// sum and the maximum of what was recorded in it. Samples outside the range are
// counted in out_of_range() and otherwise ignored.
class TimeSeries {
 public:
  TimeSeries(SimTime start, Duration bin_width, std::size_t bins);

  void add(SimTime t, double value);
  // Records a level (queue length, devices in flight): the bin keeps its peak.
  void observe(SimTime t, double level);

  std::size_t bins() const { return sum_.size(); }
  Duration bin_width() const { return width_; }
  SimTime bin_start(std::size_t i) const { return start_ + width_ * static_cast<std::int64_t>(i); }
  double sum(std::size_t i) const { return sum_[i]; }
  double peak(std::size_t i) const { return peak_[i]; }
  // Sum divided by the bin width in seconds: a rate (per second).
  double rate(std::size_t i) const { return sum_[i] / width_.seconds_f(); }
  std::uint64_t out_of_range() const { return out_of_range_; }

 private:
  std::optional<std::size_t> bin_of(SimTime t) const;
  SimTime start_;
  Duration width_;
  std::vector<double> sum_;
  std::vector<double> peak_;
  std::uint64_t out_of_range_ = 0;
};

// Equal-width histogram over [lo, hi) with underflow and overflow bins.
class Histogram {
 public:
  Histogram(double lo, double hi, unsigned bins);
  ~Histogram();
  Histogram(Histogram&&) noexcept;
  Histogram& operator=(Histogram&&) noexcept;

  void add(double x);
  unsigned bins() const;
  double bin_lower(unsigned i) const;
  double bin_upper(unsigned i) const;
  std::uint64_t count(unsigned i) const;
  std::uint64_t underflow() const;
  std::uint64_t overflow() const;
  std::uint64_t total() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Running count, mean, variance, min and max of a stream of values.
class OnlineStats {
 public:
  OnlineStats();
  ~OnlineStats();
  OnlineStats(OnlineStats&&) noexcept;
  OnlineStats& operator=(OnlineStats&&) noexcept;

  void add(double x);
  std::uint64_t count() const;
  double mean() const;      // requires count() >= 1
  double variance() const;  // unbiased (n - 1); requires count() >= 2
  double stddev() const;
  double min() const;
  double max() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streaming estimates of chosen quantiles in O(1) memory (extended P-square
// algorithm, Jain & Chlamtac 1985, via Boost.Accumulators).
class StreamingQuantiles {
 public:
  explicit StreamingQuantiles(std::vector<double> probabilities);
  ~StreamingQuantiles();
  StreamingQuantiles(StreamingQuantiles&&) noexcept;
  StreamingQuantiles& operator=(StreamingQuantiles&&) noexcept;

  void add(double x);
  std::uint64_t count() const;
  // `p` must be one of the probabilities given at construction.
  double quantile(double p) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Exact quantile of a sample (linear interpolation between order statistics,
// the "type 7" definition of R and NumPy). Reorders `values`.
double sample_quantile(std::vector<double>& values, double p);

struct ConfidenceInterval {
  double mean = 0;
  double half_width = 0;  // 0 when fewer than two samples
  std::size_t n = 0;
  double lower() const { return mean - half_width; }
  double upper() const { return mean + half_width; }
};

// Student-t interval for the mean of independent samples (replications).
ConfidenceInterval mean_confidence_interval(std::span<const double> samples, double level = 0.95);

}  // namespace ota::sim
