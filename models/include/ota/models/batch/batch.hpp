// batch.hpp — many runs at once: replications of a scenario on a thread pool,
// their per-metric summaries, sweep grids, `otasim check` expectations and the
// files these produce (summary JSON, per-replication CSV, sweep CSV, JUnit XML).
//
// Determinism: results are stored by job index and every summary is computed
// in job order, so the same jobs give the same bytes for any thread count.
// Replication r of a scenario runs with replication_seed(base_seed, r); sweep
// points share those seeds (common random numbers), so differences between
// points are not drowned in seed noise.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::models {

// ---- Running -------------------------------------------------------------

// The seed of replication `r`: `base_seed` itself for r = 0 (so one replication
// is exactly `otasim run`), a SplitMix64 mix of (base_seed, r) otherwise.
std::uint64_t replication_seed(std::uint64_t base_seed, std::size_t r);

// The number of worker threads to use for `jobs` jobs when the user asked for
// `requested` (0: the machine's hardware concurrency). Always in [1, jobs]
// (1 when jobs is 0).
std::size_t batch_threads(std::size_t requested, std::size_t jobs);

// One run: a scenario, its prepared artifacts and the seed. The pointers must
// stay valid for the duration of run_batch; artifacts are only read, so one
// ReleaseArtifacts may serve many jobs on many threads.
struct BatchJob {
  const Scenario* scenario = nullptr;
  const ReleaseArtifacts* artifacts = nullptr;
  std::uint64_t seed = 0;
};

struct BatchOptions {
  std::size_t threads = 0;  // 0: batch_threads' default
  // Fraction of all jobs done, counting the partial progress of running jobs,
  // in [0, 1] and non-decreasing. Called from the worker threads, never two
  // calls at once, so it need not be thread-safe itself.
  std::function<void(double)> on_progress;
  // Set from any thread to stop: running jobs stop within a few thousand
  // events, no new job starts, and run_batch returns nullopt.
  const std::atomic<bool>* cancel = nullptr;
  // false: each report's time series is dropped as soon as its run ends, except
  // the first job's — bounds the memory of large batches that need only totals.
  bool keep_series = true;
};

// Runs `jobs` on a fixed pool of threads pulling job indices from a shared
// counter. Returns the reports in job order, or nullopt when cancelled. If a
// run throws (std::bad_alloc on a too-large fleet), no new job starts and the
// exception of the lowest-numbered failing job is rethrown after all threads
// have joined.
std::optional<std::vector<RunReport>> run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options = {});

// run_batch on this process's thread pool, whatever executor is set.
std::optional<std::vector<RunReport>> run_batch_locally(const std::vector<BatchJob>& jobs,
                                                        const BatchOptions& options = {});

// How run_batch executes its jobs, process-wide. Empty (the default): the local
// thread pool. otasim-mpi sets one that spreads jobs over MPI ranks. An
// executor must return the reports in job order, as run_batch does, so that
// every summary stays byte-identical.
using BatchExecutor =
    std::function<std::optional<std::vector<RunReport>>(const std::vector<BatchJob>&, const BatchOptions&)>;
void set_batch_executor(BatchExecutor executor);

// `replications` runs of one scenario with seeds replication_seed(base_seed, r),
// in replication order. `base_seed` defaults to the scenario's seed.
std::optional<std::vector<RunReport>> run_replications(const Scenario& scenario, const ReleaseArtifacts& artifacts,
                                                       std::size_t replications,
                                                       std::optional<std::uint64_t> base_seed = std::nullopt,
                                                       const BatchOptions& options = {});

// ---- Summaries -----------------------------------------------------------

// One metric over n replications.
//
// Infinite values (a time never reached, a rollout that never stopped) are
// kept, not dropped: one infinite value shows that the event has a positive
// probability of never happening, so the expected value is infinite and mean,
// ci_low and ci_high are all +inf. `finite` counts the replications that did
// reach a finite value, and mean_finite is their mean (the conditional mean,
// nullopt when none did). When every value is finite, [ci_low, ci_high] is the
// two-sided Student-t 95 % interval of the mean (zero width for n = 1).
struct MetricSummary {
  std::string metric;
  std::size_t n = 0;
  std::size_t finite = 0;
  double mean = 0;
  double ci_low = 0;
  double ci_high = 0;
  double min = 0;
  double max = 0;
  std::optional<double> mean_finite;
};

inline constexpr double kConfidenceLevel = 0.95;

// The values of `metric` in `reports`, in order. `metric` must be a name from
// metrics() (throws std::invalid_argument otherwise: a programming error, as
// names from outside are validated first with unknown_metrics()).
std::vector<double> metric_values(std::span<const RunReport> reports, const std::string& metric);

// Summarises `values` (in the order given) as metric `metric`.
MetricSummary summarize(const std::string& metric, const std::vector<double>& values);

// One summary per metric in metrics() order.
std::vector<MetricSummary> summarize_all(const std::vector<RunReport>& reports);

// The names in `names` that are not metrics, in order.
std::vector<std::string> unknown_metrics(const std::vector<std::string>& names);

// Shortest text that reads back as the same double ("0.1", "1e+20"), "inf" or
// "-inf" for infinities, "nan" for NaN. Locale-independent.
std::string format_number(double x);

// summary.json: {"format": "otasim-summary/1", "scenario", "replications",
// "base_seed", "confidence", "seeds": [...], "metrics": {name: {n, finite,
// mean, ci_low, ci_high, min, max, mean_finite}}}. Infinite values are null
// (as in report.json's times not reached); `finite` tells them apart.
// 2-space indent, fixed key order, no timing: the same input gives the same bytes.
std::string summary_json(const std::string& scenario_name, std::uint64_t base_seed,
                         const std::vector<std::uint64_t>& seeds, const std::vector<MetricSummary>& summaries);

// replications.csv: a header "replication,seed,<metric>..." (every metric, in
// metrics() order), then one row per report. Infinities are written "inf".
std::string replications_csv(const std::vector<RunReport>& reports, const std::vector<std::uint64_t>& seeds);

// A fixed-width text table of the named summaries: metric, mean, 95 % CI, min,
// max, and for partly infinite metrics how many replications were finite.
std::string summary_table(const std::vector<MetricSummary>& summaries, const std::vector<std::string>& names);

// ---- Sweeps --------------------------------------------------------------

// One swept scenario value: a JSON Pointer and the texts to set it to.
struct SweepParam {
  std::string pointer;
  std::vector<std::string> values;
};

// Parses "POINTER=v1,v2,..." (pointer starting with '/', at least one value,
// no empty values; values may not contain commas). On error returns the
// message, naming the argument.
std::optional<SweepParam> parse_sweep_param(const std::string& text, std::string& error);

// The cartesian grid, the first parameter varying slowest: each point is the
// list of (pointer, value) overrides in parameter order.
std::vector<std::vector<std::pair<std::string, std::string>>> sweep_grid(const std::vector<SweepParam>& params);

// The sweep CSV: one column per parameter (headed by its pointer), then
// <metric>_mean, <metric>_ci_low, <metric>_ci_high per metric; one row per
// point. `summaries[p][m]` summarises metric m at point p.
std::string sweep_csv(const std::vector<SweepParam>& params,
                      const std::vector<std::vector<std::pair<std::string, std::string>>>& points,
                      const std::vector<std::string>& metric_names,
                      const std::vector<std::vector<MetricSummary>>& summaries);

// ---- Expectations --------------------------------------------------------

// "<", "<=", ">", ">=", "==".
const char* to_string(Comparison op);

// Whether `x op value` holds. Infinities compare as usual (inf <= v is false
// for every finite v); Equal is exact.
bool satisfies(double x, Comparison op, double value);

// Wilson score interval for a binomial proportion of `successes` in `n`
// trials at the given two-sided confidence level; [0, 1] when n is 0.
std::pair<double, double> wilson_interval(std::size_t successes, std::size_t n, double level = kConfidenceLevel);

// How one expectation fared over a set of replications.
struct ExpectationResult {
  Expectation expectation;
  std::size_t index = 0;        // position in the scenario's check.expect
  MetricSummary measured;       // the metric over the replications
  std::size_t satisfied = 0;    // replications where `metric op value` held
  std::size_t required = 0;     // ceil(share * n): how many had to
  double share_low = 0, share_high = 1;  // Wilson interval of satisfied / n
  bool passed = false;          // satisfied >= required
};

// Evaluates `expectation` (whose metric must be a metric name) over `reports`.
ExpectationResult evaluate_expectation(const Expectation& expectation, std::size_t index,
                                       std::span<const RunReport> reports);

// One line: "PASS  exposed_share <= 0.015 in >= 99% of runs: 200/200 = 100.0%
// [98.1%, 100.0%], mean 0.0102 [0.0099, 0.0105] — description".
std::string describe(const ExpectationResult& result);

// One checked scenario file, for the JUnit report.
struct CheckedFile {
  std::string path;
  std::string scenario;  // the scenario's name
  std::size_t replications = 0;
  std::uint64_t base_seed = 0;
  std::vector<ExpectationResult> results;
};

// JUnit XML: <testsuites> with one <testsuite> per file and one <testcase> per
// expectation, with a <failure message="..."> when it failed. Everything is
// XML-escaped; characters XML 1.0 cannot carry are replaced by '?'.
std::string junit_xml(const std::vector<CheckedFile>& files);

// Escapes text for XML character data and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace ota::models
