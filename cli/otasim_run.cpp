// otasim run SCENARIO.json [--seed S] [--devices N] [--out DIR] [--json]
//                          [--format md|csv|json [--updates-per-year N --delta-dev-cost USD]]
//                          [--replications R [--threads T]] [--force] [--estimate]
//                          [--html REPORT.html] [--pdf REPORT.pdf] [--baseline OTHER.json]
//
// Runs one replication of a scenario headless. Prints a summary (or, with
// --json, the report) on stdout, writes DIR/report.json and DIR/series.csv.
// With --format, also writes the cost report DIR/cost.<ext> and prints it
// instead of the summary; with a delta payload and both break-even flags, the
// cost report includes the delta break-even.
// With --replications R > 1, runs R replications on T threads (seeds from
// replication_seed(--seed, r); replication 0 is the single run), writes
// DIR/summary.json and DIR/replications.csv besides replication 0's report and
// series, and prints each key metric's mean and 95% CI (--json: the summary).
// The same seed gives byte-identical summary.json and replications.csv for any T.
// With --html / --pdf, also writes the report people read (report_output.hpp):
// scenario, totals, cost, the planner's six charts, the gate decisions; with
// --baseline OTHER.json (a scenario file), OTHER is run with the same seeds and
// the report compares the two: scenario values changed, results side by side,
// the baseline dashed on every chart.
// Before simulating, the run is estimated (run_guard.hpp): one that would not
// fit in memory or would take more than 10^9 events is refused unless --force.
// Exit status: 0 done; 2 bad input (scenario, flags, image files, an output
// directory that cannot be used, a refused estimate) — nothing is written; 1
// the run could not write its report.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <boost/program_options.hpp>

#include "strict_number.hpp"
#include "ota/models/batch/batch.hpp"
#include "ota/models/economics/cost_report.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/fleet/run_estimate.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/report/text.hpp"
#include "ota/models/scenario/scenario_loader.hpp"
#include "batch_command.hpp"
#include "interrupt.hpp"
#include "progress_bar.hpp"
#include "report_output.hpp"
#include "run_guard.hpp"
#include "scenario_command.hpp"
#include "ota/version.hpp"

namespace po = boost::program_options;
using namespace ota::models;

namespace {

std::string fmt_time(const std::optional<double>& s) {
  if (!s) return "not reached";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f h", *s / 3600.0);
  return buf;
}


// R > 1: the replications, their summary and per-replication metrics, and the
// full report of replication 0 (the one `otasim run` without --replications gives).
// What --html/--pdf need besides the runs.
struct HtmlRequest {
  ota::cli::ReportOutputs outputs;
  std::string command;
  std::string scenario_path;
  const Scenario* baseline = nullptr;  // --baseline, loaded
  const ReleaseArtifacts* baseline_artifacts = nullptr;
  std::string baseline_path;
  std::vector<std::pair<std::string, std::string>> overrides;  // --devices, applied to both
};

#if OTA_HAVE_HTML_REPORT
// The file's text; throws naming the file when it cannot be read.
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
#endif

// Writes the HTML/PDF report of `report` (and the baseline's). 0 or 1.
int write_html(const HtmlRequest& req, const Scenario& scenario, const RunReport& report,
               const std::vector<MetricSummary>& summaries, std::size_t replications, const RunReport* baseline,
               const std::vector<MetricSummary>& baseline_summaries,
               const std::optional<BreakEvenOptions>& break_even = std::nullopt) {
#if OTA_HAVE_HTML_REPORT
  const CostReport cost = make_cost_report(report, scenario, break_even);
  std::optional<CostReport> base_cost;
  ota::gui::RunHtmlInput in;
  in.command = req.command;
  in.version = ota::build_version();
  in.scenario_path = req.scenario_path;
  in.scenario = &scenario;
  in.report = &report;
  in.cost = &cost;
  in.replications = replications;
  in.summaries = summaries;
  if (baseline && req.baseline) {
    base_cost = make_cost_report(*baseline, *req.baseline, break_even);
    in.baseline_path = req.baseline_path;
    in.baseline_scenario = req.baseline;
    in.baseline = baseline;
    in.baseline_cost = &*base_cost;
    in.baseline_summaries = baseline_summaries;
    try {
      in.changes = ota::gui::scenario_changes(read_text(req.baseline_path), read_text(req.scenario_path), req.overrides);
    } catch (const std::exception& e) {
      std::cerr << "otasim run: --baseline: cannot compare the scenario files: " << e.what() << "\n";
      return 1;
    }
  }
  return ota::cli::write_report_outputs("otasim run", req.outputs, ota::gui::run_report_html(in));
#else
  (void)req, (void)scenario, (void)report, (void)summaries, (void)replications, (void)baseline,
      (void)baseline_summaries, (void)break_even;
  return 1;
#endif
}

int run_replicated(const Scenario& scenario, const ReleaseArtifacts& artifacts, std::size_t replications,
                   std::size_t threads, std::optional<std::uint64_t> seed, const std::string& out_dir, bool json,
                   const HtmlRequest& html) {
  const std::uint64_t base_seed = seed.value_or(scenario.seed);
  threads = batch_threads(threads, replications);
  std::vector<BatchJob> jobs;
  for (std::size_t r = 0; r < replications; ++r)
    jobs.push_back(BatchJob{&scenario, &artifacts, replication_seed(base_seed, r)});
  auto ran = ota::cli::run_jobs("otasim run", jobs, threads);  // only replication 0's series is kept
  if (!ran) return 1;
  const std::vector<RunReport> reports = std::move(*ran);
  std::vector<std::uint64_t> seeds;
  for (const RunReport& r : reports) seeds.push_back(r.run.seed);
  const std::vector<MetricSummary> summaries = summarize_all(reports);
  // The baseline with the same seeds (common random numbers), before anything is written.
  std::vector<RunReport> baseline_reports;
  std::vector<MetricSummary> baseline_summaries;
  if (html.baseline) {
    std::vector<BatchJob> base_jobs;
    for (std::size_t r = 0; r < replications; ++r)
      base_jobs.push_back(BatchJob{html.baseline, html.baseline_artifacts, replication_seed(base_seed, r)});
    auto base_ran = ota::cli::run_jobs("otasim run: baseline", base_jobs, threads);
    if (!base_ran) return 1;
    baseline_reports = std::move(*base_ran);
    baseline_summaries = summarize_all(baseline_reports);
  }
  const std::string summary = summary_json(scenario.name, base_seed, seeds, summaries);
  // All four files as one result set: a failure keeps the previous set whole.
  std::vector<OutputFile> files = {{"summary.json", summary}, {"replications.csv", replications_csv(reports, seeds)}};
  for (OutputFile& f : report_files(reports.front())) files.push_back(std::move(f));
  const ota::cli::DeferInterrupts whole_set;
  if (const std::string err =
          write_result_files(out_dir, files, ResultIdentity{scenario.name, base_seed, replications});
      !err.empty()) {
    std::cerr << "otasim run: " << err << "\n";
    return 1;
  }
  if (html.outputs.any())
    if (const int status = write_html(html, scenario, reports.front(), summaries, replications,
                                      baseline_reports.empty() ? nullptr : &baseline_reports.front(),
                                      baseline_summaries))
      return status;
  if (json) {
    std::cout << summary;
    return 0;
  }
  std::printf("otasim run: %s (%zu replications from seed %llu, %llu devices, %.0f h simulated, %zu threads)\n",
              scenario.name.c_str(), replications, static_cast<unsigned long long>(base_seed),
              static_cast<unsigned long long>(scenario.devices), scenario.horizon_s / 3600.0, threads);
  std::fputs(summary_table(summaries, headline_metrics()).c_str(), stdout);
  std::printf("summary: %s/summary.json, %s/replications.csv; replication 0: %s/report.json, %s/series.csv%s\n",
              out_dir.c_str(), out_dir.c_str(), out_dir.c_str(), out_dir.c_str(), html.outputs.describe().c_str());
  return 0;
}

}  // namespace

int otasim_run(int argc, char** argv) {
  po::options_description opts("otasim run SCENARIO.json [options]");
  std::string out_dir = "out";
  ota::cli::StrictU64 seed;
  std::string format;
  ota::cli::StrictFinite updates_per_year, delta_dev_cost;
  long long replications = 1, threads = 0;
  opts.add_options()("seed", po::value(&seed), "random seed (default: the scenario's)")(
      "out", po::value(&out_dir)->default_value("out"), "directory for report.json and series.csv")(
      "json", "print the report as JSON on stdout instead of the summary")(
      "format", po::value(&format), "write DIR/cost.<md|csv|json> and print the cost report instead of the summary")(
      "updates-per-year", po::value(&updates_per_year), "delta break-even: updates per year (with --delta-dev-cost)")(
      "delta-dev-cost", po::value(&delta_dev_cost), "delta break-even: one-time development cost in USD")(
      "replications", po::value(&replications)->default_value(1),
      "run R replications (seeds derived from --seed); R > 1 also writes DIR/summary.json and "
      "DIR/replications.csv and prints mean and 95% CI")(
      "threads", po::value(&threads), "worker threads for replications (default: the machine's cores, at most R)")(
      "force", "run even when the up-front estimate says it will not fit in memory or will take hours")(
      "estimate", "print the up-front estimate (memory, events) and exit without simulating")(
      "baseline", po::value<std::string>(),
      "with --html/--pdf: compare with this scenario file, run with the same seeds (and the same --devices)");
  HtmlRequest html_req;
  ota::cli::add_report_options(opts, html_req.outputs);
  std::string progress;
  ota::cli::add_progress_option(opts, progress);
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  if (const std::string err = ota::cli::apply_progress_option(progress); !err.empty()) {
    std::cerr << "otasim run: " << err << "\n";
    return 2;
  }
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
  if (replications < 1 || replications > 1'000'000) {
    std::cerr << "otasim run: --replications must be between 1 and 1000000, not " << replications << "\n";
    return 2;
  }
  if (vm.count("threads") && (threads < 1 || threads > 1024)) {
    std::cerr << "otasim run: --threads must be between 1 and 1024, not " << threads << "\n";
    return 2;
  }
  if (replications > 1 && cost_format) {
    std::cerr << "otasim run: --format reports one run; drop it or --replications\n";
    return 2;
  }
  if (auto status = ota::cli::check_report_outputs("otasim run", html_req.outputs)) return *status;
  // --baseline: loaded and its artifacts prepared now, so a bad file costs nothing.
  std::optional<Scenario> baseline;
  ReleaseArtifacts baseline_artifacts;
  if (vm.count("baseline")) {
    html_req.baseline_path = vm["baseline"].as<std::string>();
    if (!html_req.outputs.any()) {
      std::cerr << "otasim run: --baseline compares in the HTML/PDF report: add --html FILE or --pdf FILE\n";
      return 2;
    }
    if (vm.count("devices"))
      html_req.overrides.emplace_back("/fleet/devices", std::to_string(scenario.devices));
    LoadResult loaded = load_scenario_file(html_req.baseline_path, html_req.overrides);
    if (!loaded.scenario) {
      std::cerr << format_errors(loaded.errors, "otasim run: --baseline", html_req.baseline_path);
      return 2;
    }
    try {
      baseline_artifacts = prepare_artifacts(*loaded.scenario);
    } catch (const ArtifactError& e) {
      std::cerr << "otasim run: --baseline " << html_req.baseline_path << ": " << e.what() << "\n";
      return 2;
    }
    baseline = std::move(*loaded.scenario);
    html_req.baseline = &*baseline;
    html_req.baseline_artifacts = &baseline_artifacts;
  }
  html_req.command = ota::cli::command_line("otasim run", argc, argv);
  html_req.scenario_path = cmd.path;
  if (vm.count("estimate")) {
    const RunEstimate e = estimate_run(scenario);
    std::printf("otasim run: estimate for %s: %.0f events (%.1f per device at most), peak memory %.0f bytes "
                "(%.0f per device + %.0f)%s%s\n",
                scenario.name.c_str(), e.events, e.events_per_device, e.memory_bytes, e.memory_per_device,
                e.memory_fixed, e.driver.empty() ? "" : "; driven by ", e.driver.c_str());
    return 0;
  }
  // Will it fit, will it end: before the output directory is touched.
  {
    std::vector<BatchJob> planned(static_cast<std::size_t>(replications), BatchJob{&scenario, &artifacts, 0});
    if (baseline)  // run with the same seeds: as many runs again
      planned.insert(planned.end(), static_cast<std::size_t>(replications), BatchJob{&*baseline, &baseline_artifacts, 0});
    const std::size_t at_once = replications > 1 ? batch_threads(static_cast<std::size_t>(threads), planned.size()) : 1;
    if (auto status = ota::cli::guard_jobs("otasim run", planned, at_once, vm.count("force") > 0)) return *status;
  }
  // The output directory before any simulation: a run that cannot write its
  // results finds out now, and no other run writes there meanwhile.
  OutputDirLock out_lock;
  if (const std::string err = out_lock.acquire(out_dir); !err.empty()) {
    std::cerr << "otasim run: " << err << "\n";
    return 2;
  }
  ota::cli::interrupt_cleans(out_dir, out_lock.path());
  if (replications > 1) {
    std::optional<std::uint64_t> base_seed;
    if (vm.count("seed")) base_seed = seed;
    return run_replicated(scenario, artifacts, static_cast<std::size_t>(replications),
                          static_cast<std::size_t>(threads), base_seed, out_dir, vm.count("json") > 0, html_req);
  }
  std::optional<BreakEvenOptions> break_even;
  if (vm.count("updates-per-year") && vm.count("delta-dev-cost"))
    break_even = BreakEvenOptions{updates_per_year.value, delta_dev_cost.value};
  RunOptions options;
  if (vm.count("seed")) options.seed = seed;
  ota::cli::ProgressBar bar("otasim run");
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
  // The baseline, same seed, before anything is written.
  std::optional<RunReport> baseline_report;
  if (baseline) {
    RunOptions base_options;
    base_options.seed = report.run.seed;
    ota::cli::ProgressBar base_bar("otasim run: baseline");
    base_options.on_progress = [&base_bar](double f) { base_bar(f); };
    try {
      baseline_report = run_scenario(*baseline, baseline_artifacts, base_options);
    } catch (const std::exception& e) {
      std::cerr << "otasim run: --baseline " << html_req.baseline_path << ": " << e.what() << "\n";
      return 1;
    }
  }
  // The report and, asked for, the cost report: one result set.
  std::vector<OutputFile> files;
  std::string cost_text;
  if (cost_format) {
    cost_text = render_cost_report(make_cost_report(report, scenario, break_even), *cost_format);
    files.push_back({std::string("cost.") + cost_format_extension(*cost_format), cost_text});
  }
  for (OutputFile& f : report_files(report)) files.push_back(std::move(f));
  const ota::cli::DeferInterrupts whole_set;
  if (const std::string err = write_result_files(out_dir, files, ResultIdentity{scenario.name, report.run.seed, 1});
      !err.empty()) {
    std::cerr << "otasim run: " << err << "\n";
    return 1;
  }
  if (html_req.outputs.any())
    if (const int status = write_html(html_req, scenario, report, {}, 1,
                                      baseline_report ? &*baseline_report : nullptr, {}, break_even))
      return status;
  if (cost_format) {
    std::cout << cost_text;
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
  const auto ull = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("  delivery     origin %.1f MB, CDN edges %.1f MB ($%.2f, %llu cache fills), peers %.1f MB   "
              "peak %.0f requests/s\n",
              static_cast<double>(t.origin_bytes) / 1e6, static_cast<double>(t.edge_bytes) / 1e6, t.cdn_cost_usd,
              ull(t.cdn_fills), static_cast<double>(t.peer_bytes) / 1e6, t.peak_requests_per_s);
  for (const auto& [name, d] : {std::pair<const char*, const DeliveryTimes*>{"origin", &t.origin_times},
                                {"edge", &t.edge_times},
                                {"peer", &t.peer_times}}) {
    if (d->downloads == 0) continue;
    std::printf("  wait         %-6s %llu downloads: wait mean %s, p95 %s, max %s; transfer mean %s, p95 %s\n", name,
                ull(d->downloads), human_duration(d->wait.mean_s).c_str(), human_duration(d->wait.p95_s).c_str(),
                human_duration(d->wait.max_s).c_str(), human_duration(d->transfer.mean_s).c_str(),
                human_duration(d->transfer.p95_s).c_str());
  }
  if (t.learned_by_push > 0)
    std::printf("  learned      %llu by push (mean %.0f s after the offer), %llu by poll (mean %.0f s)\n",
                ull(t.learned_by_push), t.push_delay_mean_s.value_or(0), ull(t.learned_by_poll),
                t.poll_delay_mean_s.value_or(0));
  if (t.p2p_seeds > 0)
    std::printf("  p2p          %llu seeds, %llu fallbacks to the origin, %llu tampered transfers rejected (%.1f MB, "
                "%.0f J wasted), %llu tampered installs\n",
                ull(t.p2p_seeds), ull(t.p2p_fallbacks), ull(t.p2p_rejected_transfers),
                static_cast<double>(t.p2p_wasted_bytes) / 1e6, t.p2p_wasted_energy_j, ull(t.tampered_installs));
  const RolloutSummary& ro = report.rollout;
  std::printf("  rollout      %s after %zu stage%s; exposed %llu, withdrawn %llu, timed out %llu", ro.state.c_str(),
              ro.stages_opened, ro.stages_opened == 1 ? "" : "s", ull(t.exposed), ull(t.withdrawn),
              ull(t.timed_out));
  if (ro.stopped_at_s) std::printf("; stopped at %.1f h", *ro.stopped_at_s / 3600);
  if (t.reverted > 0 || t.revert_refused > 0)
    std::printf("; reverted %llu, revert refused %llu", ull(t.reverted), ull(t.revert_refused));
  std::printf("\n");
  for (const RolloutEvent& e : ro.events)
    if (!e.reason.empty() && e.kind != "ramp")
      std::printf("               %.2f h %s: %s\n", e.t_s / 3600, e.kind.c_str(), e.reason.c_str());
  std::printf("  battery deferrals %llu   power losses %llu   drops %llu   service calls %llu ($%.0f)\n",
              static_cast<unsigned long long>(t.deferred_battery), static_cast<unsigned long long>(t.power_losses),
              static_cast<unsigned long long>(t.transfer_drops), static_cast<unsigned long long>(t.service_calls),
              t.service_cost_usd);
  std::printf("  run          %llu events in %.2f s, %.0f bytes/device, peak RSS %.0f MB\n",
              static_cast<unsigned long long>(report.run.events), report.run.wall_s, report.run.bytes_per_device,
              static_cast<double>(report.run.peak_rss_bytes) / 1e6);
  std::printf("report: %s/report.json, %s/series.csv%s\n", out_dir.c_str(), out_dir.c_str(),
              html_req.outputs.describe().c_str());
  return 0;
}
