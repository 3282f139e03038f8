// idle_polls.hpp — polls that find nothing to do, accounted in aggregate.
//
// A poll that finds no update changes nothing but server load, so devices
// between campaigns need not be events. IdlePollCalendar keeps the *expected*
// number of idle devices whose next poll falls in each small time bucket, over
// one poll interval ahead. When a bucket's time comes, its devices poll (their
// count goes to the load series) and their next polls are spread over the
// buckets [t + a, t + b], the range of a jittered interval U(a, b) — the same
// renewal process each device would follow as events, in expectation.
//
// This keeps what a fluid 1/interval rate would lose: a burst of devices that
// finish an update together polls together again one interval later.
//
// Devices join (a finished update: next poll one interval on) and leave (their
// stage opens: the first poll time is drawn from the calendar's distribution,
// and every bucket shrinks in proportion).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace ota::models {

class IdlePollCalendar {
 public:
  // Intervals are U(interval * (1 - jitter), interval * (1 + jitter)).
  IdlePollCalendar(double interval_s, double jitter);

  double bucket_s() const { return width_; }

  // Devices whose next poll is uniform over [from_s, to_s).
  void add_uniform(double from_s, double to_s, double devices);
  // A device that polled (or finished) at t: next poll after one interval.
  void add_after_poll(double t_s, double devices = 1.0) { add_uniform(t_s + lo_, t_s + hi_, devices); }

  // When the current bucket ends: advance() does nothing before then.
  double bucket_end() const { return start_ + width_; }
  // Processes every bucket that ends at or before t_s: `on_polls(time, count)`
  // is called with each bucket's start time and its expected poll count.
  void advance(double t_s, const std::function<void(double, double)>& on_polls);

  // Expected idle polls per second right now.
  double rate_now() const;
  double total() const;

  // Removes `count` devices and returns the first poll time of each, drawn
  // from the calendar's distribution with the uniforms `u` supplies (two per
  // device). Requires count <= total().
  std::vector<double> take(std::size_t count, const std::function<double()>& u);

 private:
  double& at(std::size_t k) { return counts_[k % counts_.size()]; }
  double width_;
  double lo_, hi_;
  double start_ = 0;        // start time of bucket `head_`
  std::size_t head_ = 0;    // absolute index of the current bucket
  std::vector<double> counts_;  // circular, indexed by absolute bucket index
};

}  // namespace ota::models
