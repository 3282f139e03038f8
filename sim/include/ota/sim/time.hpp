// time.hpp — simulated time: a strong type over int64 microseconds.
//
// `SimTime` is a point on the simulation clock (0 = start of the run);
// `Duration` is a span between two points. Both are exact integers so that a
// run is reproducible bit for bit; conversions to and from seconds round to the
// nearest microsecond. The range (±292,000 years) is far beyond any campaign.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace ota::sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration micros(std::int64_t us) { return Duration(us); }
  static constexpr Duration millis(std::int64_t ms) { return Duration(ms * 1000); }
  static constexpr Duration seconds(std::int64_t s) { return Duration(s * 1'000'000); }
  static constexpr Duration minutes(std::int64_t m) { return Duration(m * 60'000'000); }
  static constexpr Duration hours(std::int64_t h) { return Duration(h * 3'600'000'000); }
  static constexpr Duration days(std::int64_t d) { return Duration(d * 86'400'000'000); }
  // Rounds to the nearest microsecond; saturates at the representable range.
  static Duration from_seconds(double s) {
    const double us = std::round(s * 1e6);
    if (!(us < 9.2e18)) return max();
    if (!(us > -9.2e18)) return Duration(std::numeric_limits<std::int64_t>::min());
    return Duration(static_cast<std::int64_t>(us));
  }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t micros() const { return us_; }
  constexpr double seconds_f() const { return static_cast<double>(us_) * 1e-6; }
  constexpr double hours_f() const { return static_cast<double>(us_) / 3.6e9; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(us_ + o.us_); }
  constexpr Duration operator-(Duration o) const { return Duration(us_ - o.us_); }
  constexpr Duration operator*(std::int64_t k) const { return Duration(us_ * k); }
  constexpr Duration operator/(std::int64_t k) const { return Duration(us_ / k); }
  constexpr Duration& operator+=(Duration o) { us_ += o.us_; return *this; }
  constexpr Duration& operator-=(Duration o) { us_ -= o.us_; return *this; }

 private:
  constexpr explicit Duration(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;
};

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_micros(std::int64_t us) { return SimTime(us); }
  static constexpr SimTime start() { return SimTime(0); }
  static constexpr SimTime max() { return SimTime(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t micros() const { return us_; }
  constexpr double seconds_f() const { return static_cast<double>(us_) * 1e-6; }
  constexpr double hours_f() const { return static_cast<double>(us_) / 3.6e9; }
  constexpr Duration since_start() const { return Duration::micros(us_); }

  constexpr auto operator<=>(const SimTime&) const = default;
  // Saturates at SimTime::max() so that "never" plus a delay stays "never".
  constexpr SimTime operator+(Duration d) const {
    if (d.micros() > 0 && us_ > std::numeric_limits<std::int64_t>::max() - d.micros()) return max();
    return SimTime(us_ + d.micros());
  }
  constexpr SimTime operator-(Duration d) const { return SimTime(us_ - d.micros()); }
  constexpr Duration operator-(SimTime o) const { return Duration::micros(us_ - o.us_); }
  constexpr SimTime& operator+=(Duration d) { *this = *this + d; return *this; }

 private:
  constexpr explicit SimTime(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;
};

}  // namespace ota::sim
