// fleet_model.hpp — runs a scenario: the fleet, its delivery network and the
// rollout, with every boot, confirm and rollback decision made by the agent.
// The units are in fleet/ (device lifecycle), delivery/, rollout/ and report/;
// models/README.md follows one device's poll through them.
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
#include "ota/models/shard.hpp"

namespace ota::models {

// Why `scenario` cannot be sharded (shard.hpp), or an empty string.
std::string shard_obstacle(const Scenario& scenario);

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
