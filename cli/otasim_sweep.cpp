// otasim sweep SCENARIO.json --param /json/pointer=v1,v2,... [--param ...]
//              [--replications R] [--threads T] [--seed S] [--devices N]
//              [--metrics a,b,c] [--out FILE.csv] [--html REPORT.html] [--pdf REPORT.pdf]
//
// Runs R replications at every point of the cartesian grid of the parameters
// (the first --param varies slowest) and writes one CSV row per point: the
// parameter values, then each metric's mean, ci_low and ci_high (95 %). Every
// point loads the scenario file with its values set at the pointers, exactly as
// `--devices` sets /fleet/devices. Replication r uses the same seed at every
// point (common random numbers), derived from --seed or the point's scenario
// seed. Points and replications share one thread pool; the CSV is the same
// bytes for any --threads. --html/--pdf add a report with each metric plotted
// against the first parameter (95 % intervals as bars) and every point's values.
// Exit status: 0 done; 2 bad input (flags, scenario, any grid point that does
// not load — all points are loaded before anything runs) — nothing is written;
// 1 the run failed or its CSV could not be written.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>

#include "strict_number.hpp"
#include "ota/models/batch/batch.hpp"
#include "ota/models/batch/sweep_run.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario_loader.hpp"
#include "batch_command.hpp"
#include "output_file.hpp"
#include "progress_bar.hpp"
#include "report_output.hpp"
#include "run_guard.hpp"
#include "scenario_command.hpp"
#include "ota/version.hpp"

namespace po = boost::program_options;
using namespace ota::models;

namespace {

const std::string kDefaultMetrics(kDefaultSweepMetrics);

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

}  // namespace

int otasim_sweep(int argc, char** argv) {
  po::options_description opts("otasim sweep SCENARIO.json --param /json/pointer=v1,v2,... [options]");
  std::vector<std::string> param_texts;
  long long replications = 10, threads = 0;
  ota::cli::StrictU64 seed;
  std::string metrics_text = kDefaultMetrics, out_path;
  opts.add_options()("param", po::value(&param_texts)->composing(),
                     "a scenario value to sweep: JSON Pointer=v1,v2,... (repeat for a grid; values may not contain "
                     "commas)")(
      "replications", po::value(&replications)->default_value(10), "replications at each grid point")(
      "threads", po::value(&threads), "worker threads (default: the machine's cores)")(
      "seed", po::value(&seed), "base seed (default: each point's scenario seed)")(
      "metrics", po::value(&metrics_text)->default_value(kDefaultMetrics),
      "comma-separated metrics for the CSV (otasim check --list-metrics lists them)")(
      "out", po::value(&out_path), "write the CSV to this file (default: stdout)")(
      "force", "run even when the up-front estimate says it will not fit in memory or will take hours");
  ota::cli::ReportOutputs report_outputs;
  ota::cli::add_report_options(opts, report_outputs);
  std::string progress;
  ota::cli::add_progress_option(opts, progress);
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  if (const std::string err = ota::cli::apply_progress_option(progress); !err.empty()) {
    std::cerr << "otasim sweep: " << err << "\n";
    return 2;
  }
  const po::variables_map& vm = cmd.options;

  if (vm.count("out"))
    if (const std::string why = ota::cli::output_file_problem("--out", out_path); !why.empty()) {
      std::cerr << "otasim sweep: " << why << "\n";
      return 2;
    }
  if (auto status = ota::cli::check_report_outputs("otasim sweep", report_outputs)) return *status;
  if (param_texts.empty()) {
    std::cerr << "otasim sweep: no --param given (expected at least one --param /json/pointer=v1,v2,...)\n";
    return 2;
  }
  if (replications < 1 || replications > 1'000'000) {
    std::cerr << "otasim sweep: --replications must be between 1 and 1000000, not " << replications << "\n";
    return 2;
  }
  if (vm.count("threads") && (threads < 1 || threads > 1024)) {
    std::cerr << "otasim sweep: --threads must be between 1 and 1024, not " << threads << "\n";
    return 2;
  }
  std::vector<SweepParam> params;
  for (const std::string& text : param_texts) {
    std::string error;
    std::optional<SweepParam> p = parse_sweep_param(text, error);
    if (!p) {
      std::cerr << "otasim sweep: " << error << "\n";
      return 2;
    }
    for (const SweepParam& q : params)
      if (q.pointer == p->pointer) {
        std::cerr << "otasim sweep: --param " << p->pointer << " given twice (list all its values in one --param)\n";
        return 2;
      }
    params.push_back(std::move(*p));
  }
  const std::vector<std::string> metric_names = split_list(metrics_text);
  if (metric_names.empty()) {
    std::cerr << "otasim sweep: --metrics is empty (expected metric names separated by commas)\n";
    return 2;
  }
  if (const std::vector<std::string> unknown = unknown_metrics(metric_names); !unknown.empty()) {
    std::cerr << "otasim sweep: --metrics: unknown metric '" << unknown.front()
              << "' (otasim check --list-metrics lists them)\n";
    return 2;
  }

  // Load every point before running any, so a typo in the last value costs
  // nothing but a message.
  SweepPoint base_overrides;
  if (vm.count("devices")) base_overrides.emplace_back("/fleet/devices", std::to_string(cmd.scenario.devices));
  const SweepLoad load = load_sweep_file(cmd.path, params, base_overrides);
  if (!load.errors.empty()) {
    std::cerr << format_sweep_errors(load, "otasim sweep", cmd.path);
    return 2;
  }
  const std::vector<SweepPoint>& points = load.points;

  const auto reps = static_cast<std::size_t>(replications);
  const std::vector<BatchJob> jobs =
      sweep_jobs(load, reps, vm.count("seed") ? std::optional<std::uint64_t>(seed.value) : std::nullopt);
  if (auto status = ota::cli::guard_jobs("otasim sweep", jobs,
                                         batch_threads(static_cast<std::size_t>(threads), jobs.size()),
                                         vm.count("force") > 0))
    return *status;
  auto ran = ota::cli::run_jobs("otasim sweep", jobs, static_cast<std::size_t>(threads));
  if (!ran) return 1;
  const std::vector<RunReport> reports = std::move(*ran);

  const std::vector<std::vector<MetricSummary>> summaries =
      summarize_sweep(reports, points.size(), reps, metric_names);
  const std::string csv = sweep_csv(params, points, metric_names, summaries);
  if (report_outputs.any()) {
#if OTA_HAVE_HTML_REPORT
    ota::gui::SweepHtmlInput in;
    in.command = ota::cli::command_line("otasim sweep", argc, argv);
    in.scenario_path = cmd.path;
    in.scenario = &cmd.scenario;
    in.params = params;
    in.points = points;
    in.metric_names = metric_names;
    in.summaries = summaries;
    in.replications = reps;
    if (vm.count("seed")) in.seed = seed.value;
    in.version = ota::build_version();
    if (const int status = ota::cli::write_report_outputs("otasim sweep", report_outputs, ota::gui::sweep_report_html(in)))
      return status;
#endif
  }
  if (out_path.empty()) {
    std::cout << csv;
    return 0;
  }
  if (const std::string err = write_file_atomically(out_path, csv); !err.empty()) {
    std::cerr << "otasim sweep: " << err << "\n";
    return 1;
  }
  std::printf("otasim sweep: %zu points x %zu replications of %s -> %s%s\n", points.size(), reps,
              cmd.scenario.name.c_str(), out_path.c_str(), report_outputs.describe().c_str());
  return 0;
}
