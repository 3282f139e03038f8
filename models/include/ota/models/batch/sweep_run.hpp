// sweep_run.hpp — the steps of a sweep that `otasim sweep` and the planner's
// sweep panel share, so that both give the same numbers for the same input:
// load every grid point (from a scenario file, or from scenario text that may
// not be saved yet), build the replication jobs, and summarise each point.
//
// The caller runs the jobs itself (run_batch, with its own progress and
// cancel) between sweep_jobs and summarize_sweep, and writes sweep_csv.
//
//   SweepLoad load = load_sweep_file(path, params, base_overrides);
//   if (!load.ok()) ...report load.errors...
//   const auto jobs = sweep_jobs(load, replications, seed);
//   const auto reports = run_batch(jobs, options);
//   const auto summaries = summarize_sweep(*reports, load.points.size(), replications, metric_names);
//   const std::string csv = sweep_csv(load.params, load.points, metric_names, summaries);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/models/batch/batch.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models {

using SweepPoint = std::vector<std::pair<std::string, std::string>>;

// The metrics `otasim sweep` writes when --metrics is not given.
inline constexpr std::string_view kDefaultSweepMetrics =
    "updated_share,exposed_share,rolled_back_share,bricked_share,time_to_95pct_h,stopped,total_cost_usd";

// kDefaultSweepMetrics as a list, in its order.
std::vector<std::string> default_sweep_metrics();

// "grid point 1 (/fleet/devices=0)": how messages name a point.
std::string describe_sweep_point(std::size_t index, const SweepPoint& point);

// Why one grid point did not load: the loader's errors, or (when those are
// empty) the message of prepare_artifacts' ArtifactError.
struct SweepPointError {
  std::size_t index = 0;
  SweepPoint point;
  std::vector<ScenarioError> errors;
  std::string artifact_error;
};

// Every grid point loaded, or the reasons some did not. `scenarios` and
// `artifacts` hold one entry per point, in grid order, only when `errors` is
// empty (when any point fails the others are not kept: nothing should run).
// The jobs of sweep_jobs point into these vectors: keep the SweepLoad alive,
// and do not add to them, until the jobs have run (moving it is fine).
struct SweepLoad {
  std::vector<SweepParam> params;
  std::vector<SweepPoint> points;  // sweep_grid(params)
  std::vector<Scenario> scenarios;
  std::vector<ReleaseArtifacts> artifacts;
  std::vector<SweepPointError> errors;  // in grid order
  bool ok() const { return errors.empty() && !points.empty(); }
};

// Loads the file at `path` once per grid point with `base_overrides` and then
// the point's values set (load_scenario_file), and prepares each point's
// artifacts. Every point is tried, so all bad points are reported at once.
SweepLoad load_sweep_file(const std::string& path, const std::vector<SweepParam>& params,
                          const SweepPoint& base_overrides = {});

// The same from scenario JSON text (parse_scenario_with_overrides); `base_dir`
// resolves relative image paths as the file's directory does for a file.
// A file and its text give the same SweepLoad.
SweepLoad load_sweep_text(std::string_view json_text, const std::string& base_dir,
                          const std::vector<SweepParam>& params, const SweepPoint& base_overrides = {});

// The errors of a failed load as `otasim sweep` prints them: for each bad
// point "COMMAND: FILE: grid point i (...):" and then format_errors' lines, or
// "COMMAND: FILE: grid point i (...): ARTIFACT ERROR" (without "FILE: " when
// `file` is empty). Ends with '\n'.
std::string format_sweep_errors(const SweepLoad& load, const std::string& command, const std::string& file);

// `replications` jobs per point, point after point: replication r of every
// point runs with replication_seed(base, r), base being `seed` or else the
// point's scenario seed (common random numbers). Requires load.ok().
std::vector<BatchJob> sweep_jobs(const SweepLoad& load, std::size_t replications,
                                 std::optional<std::uint64_t> seed = std::nullopt);

// summaries[p][m]: metric_names[m] over the `replications` reports of point p,
// `reports` being in sweep_jobs' order. Every name must be a metric (see
// unknown_metrics); throws std::invalid_argument when reports.size() is not
// points * replications.
std::vector<std::vector<MetricSummary>> summarize_sweep(const std::vector<RunReport>& reports, std::size_t points,
                                                        std::size_t replications,
                                                        const std::vector<std::string>& metric_names);

// The values of one swept field as a person types them: a list "1,2,4" (any
// texts without commas, spaces around each trimmed), or a numeric range,
// both ends included when reached:
//   "10..50 step 10"  10,20,30,40,50 (a step that does not land on the end stops before it)
//   "10..50 n=5"      5 values evenly spaced from 10 to 50
// Range values are written as format_number writes them, after rounding to
// 12 significant digits (so 0.1..0.3 step 0.1 gives 0.1,0.2,0.3). At most
// kMaxSweepValues values. On bad input returns nullopt and sets `error` to a
// message that quotes the text and says what was expected.
inline constexpr std::size_t kMaxSweepValues = 1000;
std::optional<std::vector<std::string>> parse_sweep_values(std::string_view text, std::string& error);

}  // namespace ota::models
