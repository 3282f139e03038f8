// otasim-mpi — `otasim run|sweep|check` with their runs spread over MPI ranks.
//
//   mpirun -np 4 otasim-mpi run SCENARIO.json --replications 200 --out DIR
//   mpirun -np 4 otasim-mpi sweep SCENARIO.json --param /p=a,b --out grid.csv
//   mpirun -np 4 otasim-mpi check scenarios/regression/*.json --junit check.xml
//
// Every rank parses the same command line and loads the same scenarios, so
// every rank builds the same list of runs. Run j is computed on rank
// j mod size (with the command's --threads on each rank); the reports are
// all-gathered in run order, and each rank goes on with the same summaries.
// Only rank 0 prints and writes files, so the output is byte-identical to the
// single-process command with the same seed.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/mpi/operations.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/utility.hpp>

#include "../strict_number.hpp"
#include "../scenario_command.hpp"
#include "ota/version.hpp"
#include "ota/models/batch/batch.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "report_serialization.hpp"

int otasim_run(int argc, char** argv);
int otasim_sweep(int argc, char** argv);
int otasim_check(int argc, char** argv);

namespace {

using namespace ota::models;
namespace mpi = boost::mpi;

using Indexed = std::vector<std::pair<std::size_t, RunReport>>;

// The MPI executor: this rank's share of the jobs, then an all-gather.
std::optional<std::vector<RunReport>> run_on_ranks(const mpi::communicator& world, const std::vector<BatchJob>& jobs,
                                                   const BatchOptions& options) {
  const auto size = static_cast<std::size_t>(world.size()), rank = static_cast<std::size_t>(world.rank());
  std::vector<BatchJob> mine;
  std::vector<std::size_t> index;
  for (std::size_t j = rank; j < jobs.size(); j += size) {
    mine.push_back(jobs[j]);
    index.push_back(j);
  }
  BatchOptions local = options;
  local.keep_series = true;  // dropped below, except the first job's
  if (rank != 0) local.on_progress = nullptr;
  std::optional<std::vector<RunReport>> done = mine.empty() ? std::vector<RunReport>{} : run_batch_locally(mine, local);
  int ok = done ? 1 : 0, all_ok = 0;
  mpi::all_reduce(world, ok, all_ok, mpi::minimum<int>());
  if (!all_ok) return std::nullopt;
  Indexed out;
  for (std::size_t i = 0; i < done->size(); ++i) {
    RunReport& r = (*done)[i];
    if (!options.keep_series && index[i] != 0) r.series = Series{};
    out.emplace_back(index[i], std::move(r));
  }
  std::vector<Indexed> gathered;
  mpi::all_gather(world, out, gathered);
  std::vector<RunReport> reports(jobs.size());
  for (Indexed& part : gathered)
    for (auto& [j, r] : part) reports[j] = std::move(r);
  return reports;
}

// A report must survive the round trip through the archive unchanged.
int self_test(int argc, char** argv) {
  boost::program_options::options_description opts("otasim-mpi self-test SCENARIO.json");
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  const RunReport report = run_scenario(cmd.scenario, cmd.artifacts);
  std::stringstream buffer;
  {
    boost::archive::binary_oarchive out(buffer);
    out << report;
  }
  RunReport back;
  {
    boost::archive::binary_iarchive in(buffer);
    in >> back;
  }
  if (report_json(report) != report_json(back)) {
    std::fprintf(stderr, "otasim-mpi self-test: the report changed in serialization\n");
    return 1;
  }
  std::printf("otasim-mpi self-test: report round trip identical (%zu bytes)\n", buffer.str().size());
  return 0;
}

// One replication, its devices spread over the ranks by contiguous range.
int shard_run(const mpi::communicator& world, int argc, char** argv) {
  boost::program_options::options_description opts("otasim-mpi shard SCENARIO.json [options]");
  std::string out_dir = "out";
  ota::cli::StrictU64 seed;
  opts.add_options()("seed", boost::program_options::value(&seed), "random seed (default: the scenario's)")(
      "out", boost::program_options::value(&out_dir)->default_value("out"), "directory for report.json and series.csv")(
      "json", "print the merged report on stdout");
  ota::cli::ScenarioCommand cmd;
  if (auto status = ota::cli::parse_scenario_command(argc, argv, opts, cmd)) return *status;
  if (const std::string why = shard_obstacle(cmd.scenario); !why.empty()) {
    std::fprintf(stderr, "otasim-mpi shard: scenario: %s\n", why.c_str());
    return 2;
  }
  const auto size = static_cast<std::uint64_t>(world.size()), rank = static_cast<std::uint64_t>(world.rank());
  const std::uint64_t n = cmd.scenario.devices;
  Shard shard;
  shard.first = n * rank / size;
  shard.end = n * (rank + 1) / size;
  shard.all_sum = [&world](std::vector<double>& v) {
    std::vector<double> out(v.size());
    mpi::all_reduce(world, v.data(), static_cast<int>(v.size()), out.data(), std::plus<double>());
    v = std::move(out);
  };
  shard.all_max = [&world](std::vector<double>& v) {
    std::vector<double> out(v.size());
    mpi::all_reduce(world, v.data(), static_cast<int>(v.size()), out.data(), mpi::maximum<double>());
    v = std::move(out);
  };
  RunOptions options;
  if (cmd.options.count("seed")) options.seed = seed;
  options.shard = &shard;
  RunReport mine = run_scenario(cmd.scenario, cmd.artifacts, options);
  std::vector<RunReport> parts;
  mpi::gather(world, mine, parts, 0);
  if (rank != 0) return 0;
  const RunReport merged = merge_shard_reports(parts);
  if (const std::string err = write_report_files(merged, out_dir); !err.empty()) {
    std::fprintf(stderr, "otasim-mpi shard: %s\n", err.c_str());
    return 1;
  }
  if (cmd.options.count("json")) {
    std::fputs(report_json(merged, false).c_str(), stdout);
    return 0;
  }
  const Totals& t = merged.totals;
  std::printf("otasim-mpi shard: %s on %llu ranks: %llu devices, updated %llu, rolled back %llu, bricked %llu, "
              "rollout %s after %zu stages; %llu events, %.2f s\n",
              cmd.scenario.name.c_str(), static_cast<unsigned long long>(size),
              static_cast<unsigned long long>(t.devices), static_cast<unsigned long long>(t.updated),
              static_cast<unsigned long long>(t.rolled_back), static_cast<unsigned long long>(t.bricked),
              merged.rollout.state.c_str(), merged.rollout.stages_opened,
              static_cast<unsigned long long>(merged.run.events), merged.run.wall_s);
  std::printf("report: %s/report.json, %s/series.csv\n", out_dir.c_str(), out_dir.c_str());
  return 0;
}

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: mpirun -np N otasim-mpi COMMAND [options]\n\n"
               "commands (as in otasim; runs spread over the MPI ranks, output byte-identical):\n"
               "  run     --replications R\n"
               "  sweep   --param /pointer=v1,v2 ...\n"
               "  check   FILE...\n"
               "  shard   SCENARIO.json: one replication, its devices split over the ranks\n"
               "  self-test SCENARIO.json   check report serialization\n");
}

}  // namespace

int main(int argc, char** argv) {
  mpi::environment env(argc, argv);
  mpi::communicator world;
  if (argc < 2) {
    if (world.rank() == 0) usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") {
    if (world.rank() == 0) usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    if (world.rank() == 0) std::printf("otasim-mpi %s\n", ota::build_version());
    return 0;
  }
  if (world.rank() != 0) {
    // Same computation, no output: rank 0 speaks and writes for all.
    set_file_output_enabled(false);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) return 1;
  }
  set_batch_executor([&world](const std::vector<BatchJob>& jobs, const BatchOptions& options) {
    return run_on_ranks(world, jobs, options);
  });
  int status = 2;
  if (cmd == "run") status = otasim_run(argc - 1, argv + 1);
  else if (cmd == "sweep") status = otasim_sweep(argc - 1, argv + 1);
  else if (cmd == "check") status = otasim_check(argc - 1, argv + 1);
  else if (cmd == "self-test") status = self_test(argc - 1, argv + 1);
  else if (cmd == "shard") status = shard_run(world, argc - 1, argv + 1);
  else if (world.rank() == 0) {
    std::fprintf(stderr, "otasim-mpi: unknown command '%s'\n", cmd.c_str());
    usage(stderr);
  }
  std::fflush(stdout);
  return status;
}
