// otasim run SCENARIO.json [--seed S] [--devices N] [--out DIR] [--json]
//                          [--format md|csv|json [--updates-per-year N --delta-dev-cost USD]]
//
// Runs one replication of a scenario headless. Prints a summary (or, with
// --json, the report) on stdout, writes DIR/report.json and DIR/series.csv.
// With --format, also writes the cost report DIR/cost.<ext> and prints it
// instead of the summary; with a delta payload and both break-even flags, the
// cost report includes the delta break-even.
// Exit status: 0 done; 2 bad input (scenario, flags, image files) — nothing is
// written; 1 the run could not write its report.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "ota/models/economics/cost_report.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/report.hpp"
#include "scenario_command.hpp"

namespace po = boost::program_options;
using namespace ota::models;

namespace {

std::string fmt_time(const std::optional<double>& s) {
  if (!s) return "not reached";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f h", *s / 3600.0);
  return buf;
}

// A progress bar with ETA on stderr, only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}
  void operator()(double f) {
    if (!enabled_) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = f > 0.001 ? el * (1 - f) / f : 0;
    const int width = 40;
    const int filled = static_cast<int>(f * width);
    std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  ETA %5.1fs", filled, "########################################",
                 width - filled, "", f * 100, eta);
    if (f >= 1.0) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

int otasim_run(int argc, char** argv) {
  po::options_description opts("otasim run SCENARIO.json [options]");
  std::string out_dir = "out";
  std::uint64_t seed = 0;
  std::string format;
  double updates_per_year = 0, delta_dev_cost = 0;
  opts.add_options()("seed", po::value(&seed), "random seed (default: the scenario's)")(
      "out", po::value(&out_dir)->default_value("out"), "directory for report.json and series.csv")(
      "json", "print the report as JSON on stdout instead of the summary")(
      "format", po::value(&format), "write DIR/cost.<md|csv|json> and print the cost report instead of the summary")(
      "updates-per-year", po::value(&updates_per_year), "delta break-even: updates per year (with --delta-dev-cost)")(
      "delta-dev-cost", po::value(&delta_dev_cost), "delta break-even: one-time development cost in USD");
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  const Scenario& scenario = cmd.scenario;
  const ReleaseArtifacts& artifacts = cmd.artifacts;
  const po::variables_map& vm = cmd.options;
  std::optional<CostFormat> cost_format;
  if (vm.count("format")) {
    cost_format = parse_cost_format(format);
    if (!cost_format) {
      std::cerr << "otasim run: --format must be md, csv or json, not '" << format << "'\n";
      return 2;
    }
  }
  if ((vm.count("updates-per-year") && !(updates_per_year >= 0)) || (vm.count("delta-dev-cost") && !(delta_dev_cost >= 0))) {
    std::cerr << "otasim run: --updates-per-year and --delta-dev-cost must not be negative\n";
    return 2;
  }
  std::optional<BreakEvenOptions> break_even;
  if (vm.count("updates-per-year") && vm.count("delta-dev-cost"))
    break_even = BreakEvenOptions{updates_per_year, delta_dev_cost};
  RunOptions options;
  if (vm.count("seed")) options.seed = seed;
  ProgressBar bar;
  options.on_progress = [&bar](double f) { bar(f); };
  RunReport report;
  try {
    report = run_scenario(scenario, artifacts, options);
  } catch (const std::bad_alloc&) {
    std::cerr << "otasim run: out of memory for " << scenario.devices
              << " devices (about " << bytes_per_device() << " bytes each plus pending events)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "otasim run: internal error: " << e.what() << "\n";
    return 1;
  }
  if (const std::string err = write_report_files(report, out_dir); !err.empty()) {
    std::cerr << "otasim run: " << err << "\n";
    return 1;
  }
  if (cost_format) {
    const std::string text = render_cost_report(make_cost_report(report, scenario, break_even), *cost_format);
    if (const std::string err = write_cost_report(text, *cost_format, out_dir); !err.empty()) {
      std::cerr << "otasim run: " << err << "\n";
      return 1;
    }
    std::cout << text;
    return 0;
  }
  if (vm.count("json")) {
    std::cout << report_json(report);
    return 0;
  }
  const Totals& t = report.totals;
  std::printf("otasim run: %s (seed %llu, %llu devices, %.0f h simulated)\n", scenario.name.c_str(),
              static_cast<unsigned long long>(report.run.seed), static_cast<unsigned long long>(t.devices),
              scenario.horizon_s / 3600.0);
  std::printf("  updated      %llu (%.2f%%)   rolled back %llu   bricked %llu   refused %llu   in progress %llu\n",
              static_cast<unsigned long long>(t.updated), 100.0 * static_cast<double>(t.updated) / static_cast<double>(t.devices),
              static_cast<unsigned long long>(t.rolled_back), static_cast<unsigned long long>(t.bricked),
              static_cast<unsigned long long>(t.failed), static_cast<unsigned long long>(t.in_progress));
  std::printf("  time to 50%% %s   90%% %s   95%% %s   99%% %s\n", fmt_time(t.time_to_50pct_s).c_str(),
              fmt_time(t.time_to_90pct_s).c_str(), fmt_time(t.time_to_95pct_s).c_str(),
              fmt_time(t.time_to_99pct_s).c_str());
  std::printf("  data         %.1f MB ($%.2f cellular, $%.2f server egress)   energy %.0f J (%.1f mAh on batteries)\n",
              static_cast<double>(t.data_bytes) / 1e6, t.data_cost_usd, t.server_egress_cost_usd, t.energy_j,
              t.energy_mah);
  std::printf("  battery deferrals %llu   power losses %llu   drops %llu   service calls %llu ($%.0f)\n",
              static_cast<unsigned long long>(t.deferred_battery), static_cast<unsigned long long>(t.power_losses),
              static_cast<unsigned long long>(t.transfer_drops), static_cast<unsigned long long>(t.service_calls),
              t.service_cost_usd);
  std::printf("  run          %llu events in %.2f s, %.0f bytes/device, peak RSS %.0f MB\n",
              static_cast<unsigned long long>(report.run.events), report.run.wall_s, report.run.bytes_per_device,
              static_cast<double>(report.run.peak_rss_bytes) / 1e6);
  std::printf("report: %s/report.json, %s/series.csv\n", out_dir.c_str(), out_dir.c_str());
  return 0;
}
