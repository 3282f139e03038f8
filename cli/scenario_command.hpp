// scenario_command.hpp — what every `otasim COMMAND SCENARIO.json` shares:
// the positional scenario, --devices, --help, loading and validating the
// scenario, and preparing the release artifacts with the agent.
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::cli {

struct ScenarioCommand {
  std::string path;
  models::Scenario scenario;
  models::ReleaseArtifacts artifacts;
  boost::program_options::variables_map options;
};

// Parses argv (argv[0] is the command name) with the command's own `opts`
// plus --help and --devices, loads the scenario and prepares its artifacts.
// Returns an exit status when the command should stop here — 0 after --help,
// 2 for bad flags or input, with the message on stderr — or nullopt with
// `out` filled.
std::optional<int> parse_scenario_command(int argc, char** argv,
                                          boost::program_options::options_description& opts,
                                          ScenarioCommand& out);

}  // namespace ota::cli
