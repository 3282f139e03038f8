#include "strict_number.hpp"
#include "scenario_command.hpp"
#include "run_guard.hpp"

#include <cstdint>
#include <iostream>
#include <utility>
#include <vector>

#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::cli {

namespace po = boost::program_options;

std::optional<int> parse_scenario_command(int argc, char** argv, po::options_description& opts,
                                          ScenarioCommand& out) {
  const std::string name = std::string("otasim ") + (argc > 0 ? argv[0] : "");
  ota::cli::StrictU64 devices;
  opts.add_options()("help,h", "show options")("devices", po::value(&devices),
                                               "fleet size (overrides /fleet/devices)");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value(&out.path));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("scenario", 1);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), out.options);
    po::notify(out.options);
  } catch (const po::error& e) {
    std::cerr << name << ": " << e.what() << "\n" << opts;
    return 2;
  }
  if (out.options.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (out.path.empty()) {
    std::cerr << name << ": no scenario file given\n" << opts;
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> overrides;
  if (out.options.count("devices")) {
    if (devices == 0) {
      std::cerr << name << ": --devices must be at least 1\n";
      return 2;
    }
    overrides.emplace_back("/fleet/devices", std::to_string(devices));
  }
  models::LoadResult loaded = models::load_scenario_file(out.path, overrides);
  if (!loaded.scenario) {
    std::cerr << models::format_errors(loaded.errors, name, out.path);
    // A fleet beyond the loader's range: say also what it would take.
    if (out.options.count("devices") && devices > models::kMaxFleetDevices)
      if (const models::LoadResult own = models::load_scenario_file(out.path); own.scenario) {
        const models::RunEstimate e = models::estimate_run(*own.scenario, devices);
        GuardInput in{e.events, e.memory_bytes, e.memory_per_device, e.memory_fixed, 1, devices, e.driver};
        std::cerr << name << ": " << judge_run(in, available_memory_bytes(), false).message << "\n";
      }
    return 2;
  }
  out.scenario = std::move(*loaded.scenario);
  try {
    out.artifacts = models::prepare_artifacts(out.scenario);
  } catch (const models::ArtifactError& e) {
    std::cerr << name << ": " << out.path << ": " << e.what() << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace ota::cli
