// durations.hpp — how long downloads waited and took, as distributions.
//
// A log-binned histogram (Boost.Histogram, 1 % wide bins from 1 µs to 10^8 s)
// keeps count, sum and maximum exactly and every percentile to within 1 % of
// its value, in fixed memory whatever the number of downloads; histograms of
// shards add bin by bin.
#pragma once

#include <boost/histogram.hpp>

#include <cstdint>
#include <vector>

namespace ota::models {

// What the report shows of one distribution, in seconds.
struct DurationSummary {
  double mean_s = 0, p50_s = 0, p95_s = 0, p99_s = 0, max_s = 0;
};

class DurationHistogram {
 public:
  DurationHistogram();
  void add(double seconds);
  std::uint64_t count() const { return count_; }
  // The value of nearest rank ceil(q x count) (0 for values under 1 µs).
  double quantile(double q) const;
  DurationSummary summary() const;

  // For a sharded run: every bin, the count and the sum as one vector (to be
  // summed over shards), and the maximum (to be maximised).
  std::vector<double> to_vector() const;
  void from_vector(const std::vector<double>& v);
  double max() const { return max_; }
  void set_max(double m) { max_ = m; }

 private:
  using Axis = boost::histogram::axis::regular<double, boost::histogram::axis::transform::log>;
  using Histogram = boost::histogram::histogram<std::tuple<Axis>, boost::histogram::dense_storage<double>>;
  Histogram h_;
  std::uint64_t count_ = 0;
  double sum_ = 0, max_ = 0;
};

}  // namespace ota::models
