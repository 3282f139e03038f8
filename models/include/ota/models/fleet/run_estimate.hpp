// run_estimate.hpp — what a run will take, worked out from the scenario alone
// before anything is simulated: peak memory and the number of events.
//
// The CLI refuses a run that cannot fit in the machine's memory and asks for
// --force before one that would take hours (cli/run_guard.hpp). The estimate is
// meant as an upper estimate of the whole rollout going ahead: a rollout that
// a gate stops early takes fewer events. tests/models/test_golden.cpp checks it
// against the events of every pinned report (never below, and within a factor
// of 3 of the rollouts that run to the end), bench/RESULTS.md records its
// memory figure against measured peak RSS.
#pragma once

#include <cstdint>
#include <string>

#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

struct RunEstimate {
  double events = 0;                // events the run will process
  double events_per_device = 0;     // of the busiest device class
  double memory_bytes = 0;          // peak resident memory of one run
  double memory_per_device = 0;     // the part that grows with the fleet
  double memory_fixed = 0;          // the rest (process, series, tables)
  std::string driver;               // what drives the event count, for messages ("" when unremarkable)
};

// Pending events the kernel keeps per device, in bytes: a 24-byte calendar
// node, a 4-byte free-list slot and a 4-byte bucket head, times 1.75 for the
// vectors' growth (they double).
inline constexpr double kQueueBytesPerPendingEvent = 56;

RunEstimate estimate_run(const Scenario& scenario);

// The same scenario with `devices` devices (everything else scales with it).
RunEstimate estimate_run(const Scenario& scenario, std::uint64_t devices);

}  // namespace ota::models
