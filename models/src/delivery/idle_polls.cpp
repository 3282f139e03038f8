#include "ota/models/delivery/idle_polls.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ota::models {

IdlePollCalendar::IdlePollCalendar(double interval_s, double jitter)
    : width_(interval_s / 120.0), lo_(interval_s * (1 - jitter)), hi_(interval_s * (1 + jitter)) {
  if (!(interval_s > 0) || !(jitter >= 0 && jitter < 1))
    throw std::invalid_argument("IdlePollCalendar: need interval > 0 and jitter in [0, 1)");
  counts_.assign(static_cast<std::size_t>(std::ceil(hi_ / width_)) + 3, 0.0);
}

void IdlePollCalendar::add_uniform(double from_s, double to_s, double devices) {
  from_s = std::max(from_s, start_);
  to_s = std::max(to_s, from_s);
  if (to_s - from_s < 1e-9) {
    const auto k = head_ + static_cast<std::size_t>((from_s - start_) / width_);
    at(k) += devices;
    return;
  }
  const double density = devices / (to_s - from_s);
  auto k = head_ + static_cast<std::size_t>((from_s - start_) / width_);
  double t = from_s;
  while (t < to_s) {
    const double bucket_end = start_ + static_cast<double>(k - head_ + 1) * width_;
    const double end = std::min(bucket_end, to_s);
    at(k) += density * (end - t);
    t = end;
    ++k;
  }
}

void IdlePollCalendar::advance(double t_s, const std::function<void(double, double)>& on_polls) {
  while (start_ + width_ <= t_s) {
    double& c = at(head_);
    const double n = c;
    c = 0;
    if (n > 0) {
      on_polls(start_, n);
      // Their next polls: one jittered interval after this bucket.
      const double t0 = start_ + width_ / 2;
      ++head_;
      start_ += width_;
      add_uniform(t0 + lo_, t0 + hi_, n);
    } else {
      ++head_;
      start_ += width_;
    }
  }
}

double IdlePollCalendar::rate_now() const { return counts_[head_ % counts_.size()] / width_; }

double IdlePollCalendar::total() const {
  double s = 0;
  for (double c : counts_) s += c;
  return s;
}

std::vector<double> IdlePollCalendar::take(std::size_t count, const std::function<double()>& u) {
  std::vector<double> times;
  if (count == 0) return times;
  const std::size_t n = counts_.size();
  std::vector<double> cdf(n);
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc += counts_[(head_ + i) % n];
    cdf[i] = acc;
  }
  if (acc <= 0) throw std::logic_error("IdlePollCalendar::take: the calendar is empty");
  times.reserve(count);
  for (std::size_t j = 0; j < count; ++j) {
    const double x = u() * acc;
    const auto i = static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
    const std::size_t b = std::min(i, n - 1);
    times.push_back(start_ + (static_cast<double>(b) + u()) * width_);
  }
  const double keep = std::max(0.0, (acc - static_cast<double>(count)) / acc);
  for (double& c : counts_) c *= keep;
  return times;
}

}  // namespace ota::models
