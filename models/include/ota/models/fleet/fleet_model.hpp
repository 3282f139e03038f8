// fleet_model.hpp — runs a scenario: the fleet, polling delivery, the staged
// rollout, with every boot, confirm and rollback decision made by the agent.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

struct RunOptions {
  std::optional<std::uint64_t> seed;             // overrides the scenario's seed
  std::function<void(double)> on_progress;       // fraction of the horizon done
  const std::atomic<bool>* cancel = nullptr;     // set to stop early
};

// Per-device state the model keeps, in bytes (excluding pending events).
std::size_t bytes_per_device();

// Runs one replication. `artifacts` comes from prepare_artifacts(scenario).
RunReport run_scenario(const Scenario& scenario, const ReleaseArtifacts& artifacts, const RunOptions& options = {});

}  // namespace ota::models
