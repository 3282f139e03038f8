// run_guard.hpp — before simulating: will the run fit in memory, and will it
// end today? From models::estimate_run (fleet/run_estimate.hpp).
//
// A run whose estimated peak memory exceeds what the machine has available is
// refused with the estimate and the largest fleet that fits; a run estimated
// at more than kRefuseEvents events is refused with the estimate and what
// drives it. Both exit 2 before anything is written; --force runs anyway (an
// estimate can be wrong). Beyond kNoticeEvents the estimate is printed on
// stderr and the run goes on.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ota/models/batch/batch.hpp"
#include "ota/models/fleet/run_estimate.hpp"
#include "ota/models/report/text.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::cli {

using models::human_duration;
using models::with_commas;

inline constexpr double kNoticeEvents = 1e8;
inline constexpr double kRefuseEvents = 1e9;
// One thread processes about a million events a second: fleet-10m ran 40.5 M
// events in 32.6 s (1.24 M/s), 100 M devices at 0.53 M/s (bench/RESULTS.md,
// "Scale"). Only used to say roughly how long a run would take.
inline constexpr double kEventsPerSecond = 1e6;

// Bytes this process may still use: MemAvailable of /proc/meminfo, or less
// when a cgroup (v2) limit is lower. 0 when neither can be read.
inline double available_memory_bytes() {
  double available = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    double kb = 0;
    while (in >> key >> kb) {
      std::getline(in, unit);
      if (key == "MemAvailable:") available = kb * 1024;
    }
  }
  auto read_number = [](const char* path) -> std::optional<double> {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text) || text == "max") return std::nullopt;
    try {
      return std::stod(text);
    } catch (...) {
      return std::nullopt;
    }
  };
  if (const auto limit = read_number("/sys/fs/cgroup/memory.max")) {
    const double used = read_number("/sys/fs/cgroup/memory.current").value_or(0);
    const double left = std::max(*limit - used, 0.0);
    available = available > 0 ? std::min(available, left) : left;
  }
  return available;
}

inline std::string human_bytes(double b) {
  char buf[64];
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.0f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
  return buf;
}

struct GuardInput {
  double events = 0;               // all runs together
  double memory_bytes = 0;         // at the peak, with the runs that go at once
  double memory_per_device = 0;    // of one run
  double memory_fixed = 0;         // of one run
  std::size_t at_once = 1;         // runs in memory together
  std::uint64_t devices = 0;       // of the largest run
  std::string driver;              // what drives the events
};

struct GuardVerdict {
  bool refuse = false;
  std::string message;  // "" when there is nothing to say
};

// The decision, apart from reading the machine (`available` in bytes, 0:
// unknown, no memory check), so tests can drive it.
inline GuardVerdict judge_run(const GuardInput& in, double available, bool force) {
  GuardVerdict v;
  const std::string mem = "about " + human_bytes(in.memory_bytes) + " of memory (" + with_commas(static_cast<double>(in.devices)) +
                          " devices x " + std::to_string(static_cast<long long>(std::lround(in.memory_per_device))) +
                          " B" + (in.at_once > 1 ? ", " + std::to_string(in.at_once) + " runs at once" : "") + ")";
  const double seconds = in.events / kEventsPerSecond / static_cast<double>(std::max<std::size_t>(in.at_once, 1));
  const std::string ev = "about " + with_commas(std::round(in.events)) + " events" +
                         (in.driver.empty() ? "" : " (" + in.driver + ")") + ", roughly " + human_duration(seconds) +
                         " at 1 M events/s per thread";
  if (available > 0 && in.memory_bytes > available) {
    const double per_run_room = available / static_cast<double>(std::max<std::size_t>(in.at_once, 1));
    const double fits = std::clamp(std::floor((per_run_room - in.memory_fixed) / in.memory_per_device), 0.0,
                                   static_cast<double>(models::kMaxFleetDevices));
    v.message = "estimate: this run needs " + mem + ", this machine has " + human_bytes(available) +
                " available: the largest fleet that fits is about " + with_commas(fits) + " devices" +
                (in.at_once > 1 ? " per run (or use fewer --threads)" : "");
    v.refuse = !force;
  } else if (in.events > kRefuseEvents) {
    v.message = "estimate: " + ev;
    v.refuse = !force;
  } else if (in.events > kNoticeEvents) {
    v.message = "estimate: " + ev + "; " + mem;
  }
  if (force && !v.message.empty() && (in.events > kRefuseEvents || (available > 0 && in.memory_bytes > available)))
    v.message += "; going on (--force)";
  return v;
}

// Prints the verdict for `jobs` run `threads` at a time (threads as resolved
// by batch_threads) and returns 2 when the run must not start.
inline std::optional<int> guard_jobs(const char* command, const std::vector<models::BatchJob>& jobs,
                                     std::size_t threads, bool force) {
  GuardInput in;
  in.at_once = std::max<std::size_t>(1, std::min(threads, jobs.size()));
  double largest = 0;
  // Replications share their scenario: one estimate per run of equal scenarios.
  const models::Scenario* estimated = nullptr;
  models::RunEstimate e;
  for (const models::BatchJob& job : jobs) {
    if (job.scenario != estimated) {
      e = models::estimate_run(*job.scenario);
      estimated = job.scenario;
    }
    in.events += e.events;
    if (e.memory_bytes > largest) {
      largest = e.memory_bytes;
      in.memory_per_device = e.memory_per_device;
      in.memory_fixed = e.memory_fixed;
      in.devices = job.scenario->devices;
    }
    if (in.driver.empty()) in.driver = e.driver;
  }
  in.memory_bytes = largest * static_cast<double>(in.at_once);
  const GuardVerdict v = judge_run(in, available_memory_bytes(), force);
  if (!v.message.empty())
    std::fprintf(stderr, "%s: %s%s\n", command, v.message.c_str(),
                 v.refuse ? "\n  (nothing was simulated; --force runs it anyway)" : "");
  if (v.refuse) return 2;
  return std::nullopt;
}

}  // namespace ota::cli
