// batch_command.hpp — what `otasim run --replications`, `sweep` and `check`
// share: running their jobs on the thread pool (or otasim-mpi's ranks) with a
// progress bar, and reporting a failure in the command's name.
#pragma once

#include <cstddef>
#include <iostream>
#include <new>
#include <optional>
#include <vector>

#include "ota/models/batch/batch.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "progress_bar.hpp"

namespace ota::cli {

// Runs `jobs` (time series kept for the first job only). On failure prints
// "COMMAND: ..." on stderr and returns nullopt: the caller exits with status 1.
inline std::optional<std::vector<models::RunReport>> run_jobs(const char* command,
                                                              const std::vector<models::BatchJob>& jobs,
                                                              std::size_t threads) {
  ProgressBar bar(command);
  models::BatchOptions batch;
  batch.threads = threads;
  batch.keep_series = false;
  batch.on_progress = [&bar](double f) { bar(f); };
  try {
    auto reports = models::run_batch(jobs, batch);
    if (!reports) std::cerr << command << ": cancelled\n";
    return reports;
  } catch (const std::bad_alloc&) {
    std::cerr << command << ": out of memory (about " << models::bytes_per_device()
              << " bytes per device per concurrent run, plus pending events); try fewer --threads\n";
  } catch (const std::exception& e) {
    std::cerr << command << ": internal error: " << e.what() << "\n";
  }
  return std::nullopt;
}

}  // namespace ota::cli
