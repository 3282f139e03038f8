// fleet_model.hpp — runs a scenario: the fleet, polling delivery, the staged
// rollout, with every boot, confirm and rollback decision made by the agent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// One shard of a replication too large for one process: the devices
// [first, end) of the fleet, simulated by one MPI rank (otasim-mpi shard).
// Every shard runs the same rollout controller; at each gate tick they sum
// their reports with `all_sum` and take the same decisions, and the random
// streams keyed by device make each device's history independent of the
// sharding. Sharding needs delivery without shared capacity: an origin server
// without limits, no CDN and no P2P (run_scenario refuses others).
struct Shard {
  std::uint64_t first = 0, end = 0;
  // Element-wise sum / maximum over all shards, in place. Every shard calls
  // them in the same order with vectors of the same size (MPI all-reduce).
  std::function<void(std::vector<double>&)> all_sum;
  std::function<void(std::vector<double>&)> all_max;
};

// Why `scenario` cannot be sharded, or an empty string.
std::string shard_obstacle(const Scenario& scenario);

// The whole-fleet report from the shards' reports (in shard order): counts
// and amounts summed, the time series summed bin by bin, the rollout and the
// time marks taken from shard 0 (every shard has the same). Peaks (busiest
// second, downloads in flight, queue) are summed: an upper bound.
RunReport merge_shard_reports(const std::vector<RunReport>& shards);

struct RunOptions {
  std::optional<std::uint64_t> seed;             // overrides the scenario's seed
  std::function<void(double)> on_progress;       // fraction of the horizon done
  const std::atomic<bool>* cancel = nullptr;     // set to stop early
  const Shard* shard = nullptr;                  // simulate one shard only
  // Called from the running thread every `partial_every` of the horizon
  // (simulated time) with the report so far: totals now, series up to the
  // last closed bin. For live plots; it does not change the run.
  std::function<void(const RunReport&)> on_partial;
  double partial_every = 0.02;
};

// Per-device state the model keeps, in bytes (excluding pending events).
std::size_t bytes_per_device();

// Runs one replication. `artifacts` comes from prepare_artifacts(scenario).
RunReport run_scenario(const Scenario& scenario, const ReleaseArtifacts& artifacts, const RunOptions& options = {});

}  // namespace ota::models
