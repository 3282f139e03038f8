// shard.hpp — one shard of a replication too large for one process.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace ota::models {

// The devices [first, end) of the fleet, simulated by one MPI rank
// (otasim-mpi shard). Every shard runs the same rollout controller; at each
// gate tick they sum their reports with `all_sum` and take the same decisions,
// and the random streams keyed by device make each device's history
// independent of the sharding. Sharding needs delivery without shared
// capacity: an origin server without limits, no CDN and no P2P (run_scenario
// refuses others).
struct Shard {
  std::uint64_t first = 0, end = 0;
  // Element-wise sum / maximum over all shards, in place. Every shard calls
  // them in the same order with vectors of the same size (MPI all-reduce).
  std::function<void(std::vector<double>&)> all_sum;
  std::function<void(std::vector<double>&)> all_max;
};

}  // namespace ota::models
