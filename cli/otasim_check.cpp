// otasim check FILE.json... [--replications R] [--threads T] [--seed S]
//                           [--junit OUT.xml] [--html REPORT.html] [--pdf REPORT.pdf]
//                           [--list-metrics]
//
// Regression tests of rollout policies. Each file is a scenario with a "check"
// block; `check` runs R replications of it (default: the block's replications)
// and evaluates every expectation: the share of replications in which
// `metric op value` holds must be at least the expectation's share. Prints one
// line per expectation with the satisfied share and its Wilson 95 % interval,
// and the metric's mean with its Student-t 95 % interval. With --junit, writes
// JUnit XML (one testsuite per file, one testcase per expectation) whether the
// checks pass or fail; --html/--pdf likewise write a report with pass/fail at
// the top and each expectation's satisfied share and Wilson interval.
// Exit status: 0 every expectation of every file holds; 1 at least one fails
// (or the JUnit file could not be written); 2 bad input — flags, a scenario
// that does not load, a file without expectations, an unknown metric — found
// before anything runs, with nothing written.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>

#include "strict_number.hpp"
#include "ota/models/batch/batch.hpp"
#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario_loader.hpp"
#include "batch_command.hpp"
#include "output_file.hpp"
#include "progress_bar.hpp"
#include "report_output.hpp"
#include "ota/version.hpp"
#include "run_guard.hpp"

namespace po = boost::program_options;
using namespace ota::models;

namespace {

struct CheckInput {
  std::string path;
  Scenario scenario;
  ReleaseArtifacts artifacts;
  std::size_t replications = 0;
  std::uint64_t base_seed = 0;
};

void print_metrics() {
  std::size_t width = 0;
  for (const MetricInfo& m : metrics()) width = std::max(width, m.name.size());
  for (const MetricInfo& m : metrics())
    std::printf("%-*s  %s\n", static_cast<int>(width), m.name.c_str(), m.description.c_str());
}

// Loads and validates one file; prints every problem, naming the file and the
// JSON path. Returns nullopt when the file cannot be checked.
std::optional<CheckInput> load_check(const std::string& path) {
  LoadResult loaded = load_scenario_file(path);
  if (!loaded.scenario) {
    std::cerr << format_errors(loaded.errors, "otasim check", path);
    return std::nullopt;
  }
  bool ok = true;
  const Check& check = loaded.scenario->check;
  if (check.expect.empty()) {
    std::cerr << "otasim check: " << path
              << ": /check: no expectations (expected a \"check\" block with at least one entry in \"expect\")\n";
    ok = false;
  }
  for (std::size_t i = 0; i < check.expect.size(); ++i) {
    const std::string& metric = check.expect[i].metric;
    if (!unknown_metrics({metric}).empty()) {
      std::cerr << "otasim check: " << path << ": /check/expect/" << i << "/metric: unknown metric '" << metric
                << "' (otasim check --list-metrics lists them)\n";
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  CheckInput in;
  in.path = path;
  try {
    in.artifacts = prepare_artifacts(*loaded.scenario);
  } catch (const ArtifactError& e) {
    std::cerr << "otasim check: " << path << ": " << e.what() << "\n";
    return std::nullopt;
  }
  in.scenario = std::move(*loaded.scenario);
  return in;
}

}  // namespace

int otasim_check(int argc, char** argv) {
  po::options_description opts("otasim check FILE.json... [options]");
  long long replications = 0, threads = 0;
  ota::cli::StrictU64 seed;
  std::string junit_path;
  std::vector<std::string> files;
  opts.add_options()("help,h", "show options")("list-metrics", "list the metric names expectations may use")(
      "replications", po::value(&replications), "replications per file (default: each file's check.replications)")(
      "threads", po::value(&threads), "worker threads (default: the machine's cores)")(
      "seed", po::value(&seed), "base seed (default: each scenario's seed)")(
      "junit", po::value(&junit_path), "write JUnit XML here, whether the checks pass or fail")(
      "force", "run even when the up-front estimate says it will not fit in memory or will take hours");
  ota::cli::ReportOutputs report_outputs;
  ota::cli::add_report_options(opts, report_outputs);
  std::string progress;
  ota::cli::add_progress_option(opts, progress);
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "otasim check: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (const std::string err = ota::cli::apply_progress_option(progress); !err.empty()) {
    std::cerr << "otasim check: " << err << "\n";
    return 2;
  }
  if (vm.count("list-metrics")) {
    print_metrics();
    return 0;
  }
  if (files.empty()) {
    std::cerr << "otasim check: no scenario file given\n" << opts;
    return 2;
  }
  if (vm.count("replications") && (replications < 1 || replications > 1'000'000)) {
    std::cerr << "otasim check: --replications must be between 1 and 1000000, not " << replications << "\n";
    return 2;
  }
  if (vm.count("threads") && (threads < 1 || threads > 1024)) {
    std::cerr << "otasim check: --threads must be between 1 and 1024, not " << threads << "\n";
    return 2;
  }
  if (vm.count("junit"))
    if (const std::string why = ota::cli::output_file_problem("--junit", junit_path); !why.empty()) {
      std::cerr << "otasim check: " << why << "\n";
      return 2;
    }

  if (auto status = ota::cli::check_report_outputs("otasim check", report_outputs)) return *status;

  // Every file is loaded and validated before anything runs.
  std::vector<CheckInput> inputs;
  inputs.reserve(files.size());
  bool bad = false;
  for (const std::string& path : files) {
    std::optional<CheckInput> in = load_check(path);
    if (!in) {
      bad = true;
      continue;
    }
    in->replications = vm.count("replications") ? static_cast<std::size_t>(replications)
                                                : static_cast<std::size_t>(in->scenario.check.replications);
    in->base_seed = vm.count("seed") ? seed : in->scenario.seed;
    inputs.push_back(std::move(*in));
  }
  if (bad) return 2;

  std::vector<BatchJob> jobs;
  for (const CheckInput& in : inputs)
    for (std::size_t r = 0; r < in.replications; ++r)
      jobs.push_back(BatchJob{&in.scenario, &in.artifacts, replication_seed(in.base_seed, r)});
  if (auto status = ota::cli::guard_jobs("otasim check", jobs,
                                         batch_threads(static_cast<std::size_t>(threads), jobs.size()),
                                         vm.count("force") > 0))
    return *status;
  auto ran = ota::cli::run_jobs("otasim check", jobs, static_cast<std::size_t>(threads));
  if (!ran) return 1;
  const std::vector<RunReport> reports = std::move(*ran);

  std::vector<CheckedFile> checked;
  std::size_t total = 0, failed = 0, offset = 0;
  for (const CheckInput& in : inputs) {
    const std::span<const RunReport> runs(reports.data() + offset, in.replications);
    offset += in.replications;
    CheckedFile f{in.path, in.scenario.name, in.replications, in.base_seed, {}};
    std::printf("otasim check: %s — %s (%zu replications from seed %llu)\n", in.path.c_str(),
                in.scenario.name.c_str(), in.replications, static_cast<unsigned long long>(in.base_seed));
    for (std::size_t i = 0; i < in.scenario.check.expect.size(); ++i) {
      ExpectationResult r = evaluate_expectation(in.scenario.check.expect[i], i, runs);
      std::printf("  %s\n", describe(r).c_str());
      ++total;
      if (!r.passed) ++failed;
      f.results.push_back(std::move(r));
    }
    checked.push_back(std::move(f));
  }
  std::printf("otasim check: %zu of %zu expectations hold in %zu file%s%s\n", total - failed, total, inputs.size(),
              inputs.size() == 1 ? "" : "s", failed ? (", " + std::to_string(failed) + " failed").c_str() : "");
  std::fflush(stdout);
  if (!junit_path.empty()) {
    if (const std::string err = write_file_atomically(junit_path, junit_xml(checked)); !err.empty()) {
      std::cerr << "otasim check: " << err << "\n";
      return 1;
    }
  }
  if (report_outputs.any()) {
#if OTA_HAVE_HTML_REPORT
    ota::gui::CheckHtmlInput in;
    in.command = ota::cli::command_line("otasim check", argc, argv);
    in.files = checked;
    in.version = ota::build_version();
    if (const int status = ota::cli::write_report_outputs("otasim check", report_outputs, ota::gui::check_report_html(in)))
      return status;
#endif
  }
  return failed ? 1 : 0;
}
