// Helpers for fleet-model tests: load a scenario from scenarios/, run it.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

namespace ota::models::testing {

inline std::string scenario_path(const std::string& name) {
  return std::string(OTA_SOURCE_DIR) + "/scenarios/" + name;
}

inline Scenario load(const std::string& name, const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
  LoadResult r = load_scenario_file(scenario_path(name), overrides);
  INFO(format_errors(r.errors));
  REQUIRE(r.scenario.has_value());
  return *r.scenario;
}

inline RunReport run(const Scenario& s, std::optional<std::uint64_t> seed = std::nullopt) {
  const ReleaseArtifacts a = prepare_artifacts(s);
  RunOptions o;
  o.seed = seed;
  return run_scenario(s, a, o);
}

}  // namespace ota::models::testing
